"""lumacodec.enhance: upscale and colourise an image with the decoder's networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import lumacodec
from lumacodec import weights
from lumacodec.enhance import upscale_clean
from lumacodec.errors import LumacodecError

HAS_BUNDLED_WEIGHTS = all(
    name in weights.read_manifest()["networks"]
    for name in weights.NETWORK_NAMES if name not in weights.OPTIONAL_NETWORKS
)


def grey_photo(height: int = 13, width: int = 19) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return ((x * 11 + y * 7 + (x * y) % 13) % 256).astype(np.uint8)


@pytest.mark.parametrize("scale", [1, 2, 4])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (13, 19)])
def test_sizes_and_modes(
    scale: int, shape: tuple[int, int], tiny_networks: weights.NetworkSet
) -> None:
    grey = grey_photo(*shape)
    h, w = shape
    out = lumacodec.enhance(grey, scale, networks=tiny_networks, device="cpu")
    assert out.mode == "RGB" and out.size == (w * scale, h * scale)
    out = lumacodec.enhance(grey, scale, color=False, networks=tiny_networks, device="cpu")
    assert out.mode == "L" and out.size == (w * scale, h * scale)


def test_accepts_pil_and_colour_inputs(tiny_networks: weights.NetworkSet) -> None:
    rgb = np.stack([grey_photo()] * 3, axis=-1)
    for image in (Image.fromarray(grey_photo()), Image.fromarray(rgb), rgb, rgb[..., :1]):
        out = lumacodec.enhance(image, 2, networks=tiny_networks, device="cpu")
        assert out.size == (38, 26) and out.mode == "RGB"


def test_scale_one_without_colour_keeps_the_grey_levels(
    tiny_networks: weights.NetworkSet,
) -> None:
    grey = grey_photo()
    out = lumacodec.enhance(grey, 1, color=False, networks=tiny_networks, device="cpu")
    assert np.array_equal(np.asarray(out), grey)


def test_colour_in_the_input_is_discarded(tiny_networks: weights.NetworkSet) -> None:
    """An RGB image and its own grey (R = G = B at equal L) give the same output."""
    grey = grey_photo()
    grey_rgb = np.stack([grey] * 3, axis=-1)
    a = lumacodec.enhance(grey, 2, networks=tiny_networks, device="cpu")
    b = lumacodec.enhance(grey_rgb, 2, networks=tiny_networks, device="cpu")
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_runs_the_networks(tiny_networks: weights.NetworkSet, network_factory) -> None:
    grey = grey_photo()
    a = np.asarray(lumacodec.enhance(grey, 2, networks=tiny_networks, device="cpu"))
    b = np.asarray(lumacodec.enhance(grey, 2, networks=network_factory(seed=1), device="cpu"))
    assert not np.array_equal(a, b)  # the output depends on the weights
    again = np.asarray(lumacodec.enhance(grey, 2, networks=tiny_networks, device="cpu"))
    assert np.array_equal(a, again)  # and is deterministic


def test_upscaling_runs_the_clean_input_network(network_factory) -> None:
    grey = grey_photo()
    nets = network_factory()
    a = np.asarray(lumacodec.enhance(grey, 2, color=False, networks=nets, device="cpu"))
    other = network_factory(seed=1)
    nets.sr[2] = other.sr[2]  # the decoder's x2 network plays no part
    assert np.array_equal(a, lumacodec.enhance(grey, 2, color=False, networks=nets, device="cpu"))
    nets.sr_clean[2] = other.sr_clean[2]
    assert not np.array_equal(
        a, lumacodec.enhance(grey, 2, color=False, networks=nets, device="cpu"))
    # x4 without a x4 clean network: the x2 one twice; without any, the decoder's x4
    cpu = torch.device("cpu")
    L = np.asarray(grey, np.float32) / 2.55
    twice = upscale_clean(upscale_clean(L, 2, nets, cpu), 2, nets, cpu)
    np.testing.assert_array_equal(upscale_clean(L, 4, nets, cpu), twice)
    nets.sr_clean.clear()
    b = upscale_clean(L, 4, nets, cpu)
    assert b.shape == twice.shape and not np.allclose(b, twice)
    nets.sr[4] = other.sr[4]
    assert not np.allclose(b, upscale_clean(L, 4, nets, cpu))


@pytest.mark.parametrize("scale", [0, 3, 8, "2", 2.0])
def test_bad_scale(scale: object, tiny_networks: weights.NetworkSet) -> None:
    with pytest.raises(LumacodecError, match="scale"):
        lumacodec.enhance(grey_photo(), scale, networks=tiny_networks)  # type: ignore[arg-type]


def test_bad_image(tiny_networks: weights.NetworkSet) -> None:
    with pytest.raises(LumacodecError):
        lumacodec.enhance(np.zeros((4, 4), np.float64), 2, networks=tiny_networks)
    with pytest.raises(LumacodecError):
        lumacodec.enhance("photo.png", 2, networks=tiny_networks)  # type: ignore[arg-type]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_gpu(tiny_networks: weights.NetworkSet) -> None:
    with pytest.raises(LumacodecError, match="cuda"):
        lumacodec.enhance(grey_photo(), 2, device="cuda", networks=tiny_networks)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(network_factory) -> None:
    grey = grey_photo(32, 40)
    cpu = np.asarray(lumacodec.enhance(grey, 2, networks=network_factory(), device="cpu"))
    gpu = np.asarray(lumacodec.enhance(grey, 2, networks=network_factory(), device="cuda"))
    assert np.abs(cpu.astype(int) - gpu).max() <= 2


@pytest.mark.skipif(HAS_BUNDLED_WEIGHTS, reason="bundled weights are installed")
def test_without_bundled_weights_is_a_clear_error() -> None:
    with pytest.raises(LumacodecError, match="weights"):
        lumacodec.enhance(grey_photo(), 2, device="cpu")


@pytest.mark.skipif(not HAS_BUNDLED_WEIGHTS, reason="no bundled weights")
def test_with_bundled_weights() -> None:
    out = lumacodec.enhance(grey_photo(), 2, device="cpu")
    assert out.size == (38, 26) and out.mode == "RGB"


def test_colour_modes(network_factory) -> None:
    tiny_networks = network_factory(seed=2)
    with torch.no_grad():  # a regression head that has learnt a colour (it starts at grey)
        tiny_networks.luma_colorizer.head.bias[-2:] = torch.tensor([0.1, 0.15])
    grey = grey_photo(40, 56)
    vivid = lumacodec.enhance(grey, 1, networks=tiny_networks, device="cpu")  # the default
    faithful = lumacodec.enhance(grey, 1, colour="faithful", networks=tiny_networks,
                                 device="cpu")
    assert np.array_equal(
        np.asarray(vivid),
        np.asarray(lumacodec.enhance(grey, 1, colour="vivid", networks=tiny_networks,
                                     device="cpu")))
    assert not np.array_equal(np.asarray(vivid), np.asarray(faithful))
    with pytest.raises(LumacodecError, match="colour must be one of"):
        lumacodec.enhance(grey, 1, colour="sepia", networks=tiny_networks)
