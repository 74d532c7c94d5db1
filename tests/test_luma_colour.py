"""Colour from L: the working resolution, guided upsampling back to the image, colour modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lumacodec.errors import LumacodecError
from lumacodec.luma_colour import WORK_PIXELS, colour_from_luma, working_size
from lumacodec.networks import LumaColorizer


@pytest.mark.parametrize("shape", [(1, 1), (17, 5), (224, 336), (200, 300)])
def test_small_images_run_as_they_are(shape: tuple[int, int]) -> None:
    assert working_size(*shape) == shape


@pytest.mark.parametrize("shape", [(512, 768), (4000, 6000), (100, 5000), (3000, 3000)])
def test_large_images_run_at_a_bounded_size_with_their_aspect(shape: tuple[int, int]) -> None:
    h, w = working_size(*shape)
    assert h * w <= WORK_PIXELS * 1.01
    assert h * w >= WORK_PIXELS * 0.97
    assert math.isclose(w / h, shape[1] / shape[0], rel_tol=0.02)


@pytest.fixture(scope="module")
def net() -> LumaColorizer:
    torch.manual_seed(0)
    return LumaColorizer(widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8)).eval()


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (61, 97), (700, 1100)])
def test_output_matches_the_image(net: LumaColorizer, shape: tuple[int, int]) -> None:
    L = np.random.default_rng(0).uniform(0, 100, shape).astype(np.float32)
    ab = colour_from_luma(L, net, torch.device("cpu"))
    assert ab.shape == (2, *shape) and ab.dtype == np.float32 and np.isfinite(ab).all()


def test_the_network_runs_at_the_working_size(net: LumaColorizer) -> None:
    seen = []
    hook = net.register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape)))
    try:
        colour_from_luma(np.zeros((1500, 2250), np.float32), net, torch.device("cpu"))
    finally:
        hook.remove()
    h, w = working_size(1500, 2250)
    m = LumaColorizer.MULTIPLE
    assert seen == [(1, 1, -(-h // m) * m, -(-w // m) * m)]


def test_colour_modes(net: LumaColorizer) -> None:
    L = np.random.default_rng(1).uniform(0, 100, (40, 60)).astype(np.float32)
    cpu = torch.device("cpu")
    faithful = colour_from_luma(L, net, cpu, "faithful")
    assert not np.allclose(faithful, colour_from_luma(L, net, cpu, "vivid"))
    np.testing.assert_array_equal(faithful, colour_from_luma(L, net, cpu))  # the default
    with pytest.raises(LumacodecError, match="colour must be one of"):
        colour_from_luma(L, net, cpu, "sepia")
