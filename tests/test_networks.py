"""Networks: shapes, the global skips, and safetensors save/load."""

from __future__ import annotations

import pytest
import torch

from lumacodec.errors import LumacodecError
from lumacodec.networks import (
    Colorizer,
    HintRestorer,
    LumaColorizer,
    SuperResolution,
    load_network,
    save_network,
)
from lumacodec.networks.luma_colorizer import COLOUR_MODES
from lumacodec.resample import upsample_tensor


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_sr_shape_and_bicubic_skip(scale: int) -> None:
    net = SuperResolution(scale, channels=8, blocks=1).eval()
    x = torch.rand(2, 1, 7, 9)
    with torch.no_grad():
        y = net(x, torch.tensor([0.3, 1.0]))
        assert y.shape == (2, 1, 7 * scale, 9 * scale)
        torch.nn.init.zeros_(net.tail[0].weight)
        torch.nn.init.zeros_(net.tail[0].bias)
        assert torch.allclose(net(x, torch.tensor([0.3, 1.0])), upsample_tensor(x, scale))


@pytest.mark.parametrize("scale", [1, 2])
def test_sr_with_its_body_at_a_quarter_resolution(tmp_path, scale: int) -> None:
    """``unshuffle=4``: any input size (padded to the body's grid, cropped back), the same
    global skip, the setting saved with the weights; a network without it keeps the config
    (and so the weights files) of before."""
    net = SuperResolution(scale, channels=8, blocks=1, unshuffle=4).eval()
    x = torch.rand(2, 1, 13, 22)
    q = torch.tensor([0.3, 1.0])
    with torch.no_grad():
        assert net(x, q).shape == (2, 1, 13 * scale, 22 * scale)
        torch.nn.init.zeros_(net.tail[0].weight)
        torch.nn.init.zeros_(net.tail[0].bias)
        assert torch.allclose(net(x, q), upsample_tensor(x, scale))
    save_network(net, tmp_path / "u.safetensors")
    assert load_network(tmp_path / "u.safetensors").unshuffle == 4
    assert "unshuffle" not in SuperResolution(1).config
    capped = SuperResolution(1, channels=8, blocks=1, unshuffle=4, max_quality=40)
    save_network(capped, tmp_path / "c.safetensors")
    loaded = load_network(tmp_path / "c.safetensors")
    assert loaded.handles(40) and not loaded.handles(50) and net.handles(100)
    with pytest.raises(ValueError, match="unshuffle"):
        SuperResolution(1, unshuffle=3)


def test_sr_uses_quality() -> None:
    torch.manual_seed(0)
    net = SuperResolution(2, channels=8, blocks=1).eval()
    x = torch.rand(1, 1, 8, 8)
    with torch.no_grad():
        assert not torch.allclose(net(x, torch.tensor([0.1])), net(x, torch.tensor([0.9])))


def test_colorizer_residual_over_hint() -> None:
    net = Colorizer(widths=(8, 8, 8)).eval()
    L, hint = torch.rand(2, 1, 16, 24), torch.rand(2, 2, 16, 24) - 0.5
    with torch.no_grad():
        out = net(L, hint, [8, 0])
        assert out.shape == (2, 2, 16, 24)
        torch.nn.init.zeros_(net.out.weight)
        torch.nn.init.zeros_(net.out.bias)
        assert torch.equal(net(L, hint, [8, 0]), hint)


def test_colorizer_out_gain_scales_the_residual(tmp_path) -> None:
    torch.manual_seed(0)
    plain = Colorizer(widths=(8, 8, 8)).eval()
    boosted = Colorizer(widths=(8, 8, 8), out_gain=10.0).eval()
    boosted.load_state_dict(plain.state_dict())
    L, hint = torch.rand(1, 1, 16, 16), torch.rand(1, 2, 16, 16) - 0.5
    with torch.no_grad():
        residual = plain(L, hint, [16]) - hint
        assert residual.abs().max() > 0
        torch.testing.assert_close(boosted(L, hint, [16]) - hint, 10.0 * residual)
    save_network(boosted, tmp_path / "c.safetensors")
    assert load_network(tmp_path / "c.safetensors").out_gain == 10.0


def test_colorizer_with_a_body_at_a_quarter(tmp_path) -> None:
    """``unshuffle=4``: the U-Net runs at 1/4 (its grid, ``multiple``, is 16 pixels), reads
    every pixel (a change of one full-resolution pixel of L changes the output), and the
    setting survives a save; the first colorizers' files (no key) stay at 1/2."""
    torch.manual_seed(0)
    net = Colorizer(widths=(8, 8, 8), out_gain=10.0, unshuffle=4).eval()
    assert (net.multiple, net.enc1[0].in_channels, net.out.out_channels) == (16, 80, 32)
    assert Colorizer(widths=(8, 8, 8)).multiple == 8
    assert "unshuffle" not in Colorizer(widths=(8, 8, 8)).config
    L, hint = torch.rand(1, 1, 32, 48), torch.rand(1, 2, 32, 48) - 0.5
    with torch.no_grad():
        out = net(L, hint, [8])
        assert out.shape == (1, 2, 32, 48)
        L2 = L.clone()
        L2[0, 0, 5, 7] += 0.5
        assert not torch.equal(net(L2, hint, [8]), out)
    save_network(net, tmp_path / "c4.safetensors")
    loaded = load_network(tmp_path / "c4.safetensors")
    assert loaded.unshuffle == 4 and loaded.multiple == 16


def test_hint_restorer_residual_conditioning_and_range(tmp_path) -> None:
    torch.manual_seed(0)
    net = HintRestorer(channels=8, blocks=1, hint_factors=(8, 16), hint_qualities=(40, 60)).eval()
    hint, L = torch.rand(2, 2, 5, 7) - 0.5, torch.rand(2, 1, 5, 7)
    with torch.no_grad():
        out = net(hint, L, [8, 16], [40, 60])
        assert out.shape == hint.shape
        assert not torch.allclose(out[:1], net(hint[:1], L[:1], [16], [40]))  # density is seen
        assert not torch.allclose(out[:1], net(hint[:1], L[:1], [8], [60]))  # and quality
        torch.nn.init.zeros_(net.tail.weight)
        torch.nn.init.zeros_(net.tail.bias)
        assert torch.equal(net(hint, L, [8, 16], [40, 60]), hint)
    assert net.handles(16, 50) and not net.handles(32, 50) and not net.handles(8, 70)
    save_network(net, tmp_path / "h.safetensors")
    loaded = load_network(tmp_path / "h.safetensors")
    assert isinstance(loaded, HintRestorer) and loaded.config == net.config


def test_hint_restorer_with_its_body_at_half_the_grid(tmp_path) -> None:
    """unshuffle=2 (the dense hints' network): any grid size, odd ones too; each output sample
    depends on its own input (not only its 2x2 block's first); saved and loaded with it."""
    torch.manual_seed(0)
    net = HintRestorer(channels=8, blocks=1, hint_factors=(2, 4), hint_qualities=(50, 90),
                       unshuffle=2).eval()
    hint, L = torch.rand(1, 2, 9, 11) - 0.5, torch.rand(1, 1, 9, 11)
    with torch.no_grad():
        out = net(hint, L, [2], [70])
        assert out.shape == hint.shape
        nudged = hint.clone()
        nudged[0, 0, 8, 10] += 0.5  # the last, padded row and column
        assert not torch.equal(net(nudged, L, [2], [70])[0, 0, 8, 10], out[0, 0, 8, 10] + 0.5)
    assert net.config["unshuffle"] == 2 and HintRestorer().config.get("unshuffle") is None
    save_network(net, tmp_path / "h.safetensors")
    loaded = load_network(tmp_path / "h.safetensors").eval()
    assert isinstance(loaded, HintRestorer) and loaded.unshuffle == 2
    with torch.no_grad():
        assert torch.equal(loaded(hint, L, [2], [70]), out)
    with pytest.raises(ValueError, match="unshuffle"):
        HintRestorer(unshuffle=3)


def test_save_load_round_trip(tmp_path) -> None:
    net = SuperResolution(4, channels=8, blocks=2).eval()
    path = tmp_path / "sr.safetensors"
    save_network(net, path)
    loaded = load_network(path)
    assert isinstance(loaded, SuperResolution) and loaded.config == net.config
    x = torch.rand(1, 1, 5, 6)
    with torch.no_grad():
        assert torch.equal(net(x, torch.tensor([0.5])), loaded(x, torch.tensor([0.5])))


def test_sr_restored_input_is_part_of_the_config(tmp_path) -> None:
    save_network(SuperResolution(2, channels=8, blocks=1, restored_input=True), tmp_path / "a")
    assert load_network(tmp_path / "a").restored_input
    old = SuperResolution(2, channels=8, blocks=1)
    del old.config["restored_input"]  # a file written before the option existed
    save_network(old, tmp_path / "b")
    assert not load_network(tmp_path / "b").restored_input
    with pytest.raises(ValueError, match="restored_input"):
        SuperResolution(1, restored_input=True)


def test_load_garbage_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(LumacodecError, match="cannot load network weights"):
        load_network(path)
    with pytest.raises(LumacodecError):
        load_network(tmp_path / "missing.safetensors")


def _tiny_luma(**kw) -> LumaColorizer:
    return LumaColorizer(widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8), **kw).eval()


def test_luma_colorizer_shape_and_image_level_context() -> None:
    torch.manual_seed(0)
    net = _tiny_luma().train()
    for m in net.modules():  # set the batch norms' statistics from data, as training does
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    L = torch.rand(2, 1, 64, 96)
    with torch.no_grad():
        net(torch.rand(8, 1, 64, 96))
        net.eval()
        out = net(L)
        assert out.shape == (2, net.centres.shape[0] + 2, 16, 24)  # bins, then regressed a/b
        far = L.clone()
        far[:, :, 40:, 60:] = 1.0  # change only the bottom-right corner
        # the top-left output cell (receptive field of the convolutions alone: far smaller
        # than the image) still changes, through the globally pooled features
        assert not torch.allclose(net(far)[..., 0, 0], out[..., 0, 0])


def test_luma_colorizer_soft_targets_are_distributions_whose_mean_is_the_colour() -> None:
    net = _tiny_luma()
    ab = torch.tensor([[[[0.0, 37.3]], [[-12.5, 64.0]]]])  # (1, 2, 1, 2): a, b of two pixels
    t = net.soft_targets(ab)
    torch.testing.assert_close(t.sum(1), torch.ones(1, 1, 2))
    assert int((t > 0).sum()) <= 8  # at most four bins per pixel
    torch.testing.assert_close(torch.einsum("nqhw,qc->nchw", t, net.centres), ab)
    torch.testing.assert_close(net.annealed_mean(torch.log(t.clamp_min(1e-12)), 0.0, 1.0), ab,
                               atol=1e-3, rtol=0)


def test_luma_colorizer_faithful_is_the_regression_head_starting_near_grey() -> None:
    torch.manual_seed(0)
    net = _tiny_luma()
    out = net(torch.rand(1, 1, 32, 64))
    ab = net.decode_ab(out, "faithful")
    assert ab.shape == (1, 2, 8, 16) and 0 < float(ab.detach().abs().max()) < 2.0
    out = torch.zeros_like(out)
    out[:, -2] = 0.3  # a = 0.3 x AB_SCALE
    assert torch.allclose(net.decode_ab(out)[:, 0], torch.tensor(30.0))


def test_luma_colorizer_vivid_is_more_saturated_than_the_mean() -> None:
    net = _tiny_luma()
    q = net.centres.shape[0]
    grey = int(torch.argmin(net.centres.norm(dim=1)))
    red = int(torch.argmin((net.centres - torch.tensor([60.0, 40.0])).norm(dim=1)))
    with torch.no_grad():
        prior = torch.full((q,), 1e-4)
        prior[grey] = 0.5  # grey is common in photos, saturated red is rare
        net.log_prior.copy_(torch.log(prior / prior.sum()))
    out = torch.full((1, q + 2, 1, 1), -30.0)
    out[0, grey], out[0, red] = 0.0, -0.5  # the network hesitates: grey a bit likelier
    mean = net.annealed_mean(out[:, :-2], 0.0, 1.0).norm()
    rebalanced = net.decode(out, ("distribution", 0.5, 0.38)).norm()
    assert mean < 40 < rebalanced  # the mean is a muted red; prior-corrected, the red wins


def test_luma_colorizer_modes_are_what_colour_modes_say() -> None:
    net = _tiny_luma()
    out = torch.randn(1, net.centres.shape[0] + 2, 3, 4)
    for colour, how in COLOUR_MODES.items():
        torch.testing.assert_close(net.decode_ab(out, colour), net.decode(out, how))
    faithful, vivid = net.decode_ab(out, "faithful"), net.decode_ab(out, "vivid")
    assert float(vivid.norm(dim=1).mean()) > 1.5 * float(faithful.norm(dim=1).mean())


def test_luma_colorizer_colour_curve_follows_lightness(tmp_path) -> None:
    """The per-image colour curve starts at zero (the network without it), is a piecewise
    linear function of each output cell's L through its knots, and is saved with the net."""
    torch.manual_seed(0)
    plain, curved = _tiny_luma(), _tiny_luma(curve_knots=5)
    curved.load_state_dict({**curved.state_dict(), **plain.state_dict()})
    L = torch.rand(2, 1, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(curved(L), plain(L))
        basis = curved.curve_basis(L)
        torch.testing.assert_close(basis.sum(1), torch.ones(2, 16, 24))  # hat weights
        curved.curve.bias.copy_(torch.tensor([0.0, 0.0, 0.1, 0.0, 0.2, 0.0, 0.3, 0.0,
                                              0.4, 0.0]))  # a = 40 L at every knot
        flat = torch.full((1, 1, 32, 32), 0.375)  # halfway between the knots at 25 and 50
        ab = curved.decode_ab(curved(flat)) - plain.decode_ab(plain(flat))
    torch.testing.assert_close(ab[:, 0], torch.full((1, 8, 8), 15.0))
    torch.testing.assert_close(ab[:, 1], torch.zeros(1, 8, 8))
    save_network(curved, tmp_path / "c.safetensors")
    back = load_network(tmp_path / "c.safetensors")
    assert back.config["curve_knots"] == 5
    torch.testing.assert_close(back(flat), curved(flat))


def test_luma_colorizer_prior_is_saved(tmp_path) -> None:
    net = _tiny_luma(bin_step=20.0)
    with torch.no_grad():
        net.log_prior.copy_(torch.linspace(-9, -1, net.centres.shape[0]))
    save_network(net, tmp_path / "l.safetensors")
    back = load_network(tmp_path / "l.safetensors")
    assert isinstance(back, LumaColorizer) and back.config == net.config
    assert torch.equal(back.log_prior, net.log_prior)


def test_half_storage_halves_the_file_and_loads_as_float32(tmp_path) -> None:
    torch.manual_seed(0)
    net = _tiny_luma()
    save_network(net, tmp_path / "full.safetensors")
    save_network(net, tmp_path / "half.safetensors", half=True)
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    assert half.stat().st_size < 0.6 * full.stat().st_size
    back = load_network(half)
    for (k, a), b in zip(net.state_dict().items(), back.state_dict().values(), strict=True):
        assert b.dtype == a.dtype, k
        torch.testing.assert_close(b, a.half().to(a.dtype) if a.is_floating_point() else a)
