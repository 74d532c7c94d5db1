"""lumacodec.colour_spread: points' corrections spread edge-aware; a reference's colour by L."""

from __future__ import annotations

import numpy as np
import torch

from lumacodec.colour_spread import reference_shift, spread
from lumacodec.networks.guided_colorizer import reference_condition


def two_regions(h: int = 20, w: int = 30) -> np.ndarray:
    """L: a dark left half and a bright right half."""
    L = np.full((h, w), 30.0, np.float32)
    L[:, w // 2:] = 80.0
    return L


def test_nothing_to_spread_is_zero() -> None:
    out = spread(two_regions(), np.ones((2, 20, 30), np.float32), np.zeros((20, 30), np.float32))
    assert out.shape == (2, 20, 30) and not out.any()


def test_a_point_keeps_its_value_fills_its_region_and_stops_at_the_edge() -> None:
    L = two_regions()
    target = np.zeros((2, 20, 30), np.float32)
    mask = np.zeros((20, 30), np.float32)
    target[:, 10, 3] = (20.0, -10.0)
    mask[10, 3] = 1.0
    out = spread(L, target, mask, length=100.0, edge=6.0)
    np.testing.assert_allclose(out[:, 10, 3], (20.0, -10.0), atol=0.5)
    assert out[0, :, :15].min() > 15.0  # its own region, all of it
    assert np.abs(out[0, :, 15:]).max() < 1.0  # not across the edge


def test_length_bounds_the_reach_on_a_flat_image() -> None:
    L = np.full((10, 200), 50.0, np.float32)
    target = np.zeros((1, 10, 200), np.float32)
    mask = np.zeros((10, 200), np.float32)
    target[0, 5, 0], mask[5, 0] = 10.0, 1.0
    short = spread(L, target, mask, length=5.0)
    long = spread(L, target, mask, length=500.0)
    assert short[0, 5, 100] < 0.1 < 9.0 < long[0, 5, 100]


def test_two_points_each_keep_their_colour() -> None:
    L = two_regions()
    target = np.zeros((2, 20, 30), np.float32)
    mask = np.zeros((20, 30), np.float32)
    target[0, 5, 5], target[0, 5, 25] = 30.0, -30.0
    mask[5, 5] = mask[5, 25] = 1.0
    out = spread(L, target, mask)
    assert out[0, 15, 2] > 25.0 and out[0, 15, 28] < -25.0


def test_reference_shift_brings_each_lightness_to_the_references_colour() -> None:
    L = two_regions()
    ab = np.zeros((2, 20, 30), np.float32)
    ref_ab = np.zeros((2, 20, 30), np.float32)
    ref_ab[0][L < 50] = 40.0  # the reference: dark things are red, bright things blue
    ref_ab[1][L >= 50] = -40.0
    cond = reference_condition(torch.from_numpy(L), torch.from_numpy(ref_ab)).numpy()
    shifted = ab + reference_shift(L, ab, cond, strength=1.0)
    assert shifted[0][L < 50].mean() > 30.0 and abs(shifted[1][L < 50].mean()) < 10.0
    assert shifted[1][L >= 50].mean() < -30.0 and abs(shifted[0][L >= 50].mean()) < 10.0
    assert not reference_shift(L, ab, cond, strength=0.0).any()
