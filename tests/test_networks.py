"""Networks: shapes, the global skips, and safetensors save/load."""

from __future__ import annotations

import pytest
import torch

from lumacodec.errors import LumacodecError
from lumacodec.networks import (
    Colorizer,
    HintRestorer,
    SuperResolution,
    load_network,
    save_network,
)
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
