"""lumacodec.colour_spread: points' corrections spread edge-aware; a reference's colour by L."""

from __future__ import annotations

import numpy as np
import torch

from lumacodec.colour_spread import offset, reference_shift, spread
from lumacodec.networks.guided_colorizer import reference_condition


def two_regions(h: int = 20, w: int = 30) -> np.ndarray:
    """L: a dark left half and a bright right half."""
    L = np.full((h, w), 30.0, np.float32)
    L[:, w // 2:] = 80.0
    return L


def test_nothing_to_spread_is_zero() -> None:
    out = spread(two_regions(), np.ones((2, 20, 30), np.float32), np.zeros((20, 30), np.float32))
    assert out.shape == (2, 20, 30) and not out.any()


NO_OFFSET = float("inf")  # the spreading alone


def test_a_point_keeps_its_value_fills_its_region_and_stops_at_the_edge() -> None:
    L = two_regions()
    target = np.zeros((2, 20, 30), np.float32)
    mask = np.zeros((20, 30), np.float32)
    target[:, 10, 3] = (20.0, -10.0)
    mask[10, 3] = 1.0
    out = spread(L, target, mask, length=100.0, edge=6.0, offset_prior=NO_OFFSET)
    np.testing.assert_allclose(out[:, 10, 3], (20.0, -10.0), atol=0.5)
    assert out[0, :, :15].min() > 15.0  # its own region, all of it
    assert np.abs(out[0, :, 15:]).max() < 1.0  # not across the edge


def test_a_change_of_texture_stops_a_correction_where_lightness_does_not() -> None:
    # One lightness everywhere; the left half smooth, the right half textured (as a nose
    # in fur looks on the grid: the same mean L, another standard deviation).
    L = np.full((20, 30), 50.0, np.float32)
    texture = np.zeros((20, 30), np.float32)
    texture[:, 15:] = 8.0
    target = np.zeros((2, 20, 30), np.float32)
    mask = np.zeros((20, 30), np.float32)
    target[:, 10, 3] = (20.0, -10.0)
    mask[10, 3] = 1.0
    kept = spread(L, target, mask, length=100.0, offset_prior=NO_OFFSET, texture=texture,
                  texture_edge=2.0)
    blind = spread(L, target, mask, length=100.0, offset_prior=NO_OFFSET, texture=texture,
                   texture_edge=float("inf"))
    assert kept[0, :, :15].min() > 15.0  # its own smooth region
    assert np.abs(kept[0, :, 15:]).max() < 1.0  # not into the textured one
    assert blind[0, :, 15:].min() > 15.0  # which lightness alone does not tell apart


def test_length_bounds_the_reach_on_a_flat_image() -> None:
    L = np.full((10, 200), 50.0, np.float32)
    target = np.zeros((1, 10, 200), np.float32)
    mask = np.zeros((10, 200), np.float32)
    target[0, 5, 0], mask[5, 0] = 10.0, 1.0
    short = spread(L, target, mask, length=5.0, offset_prior=NO_OFFSET)
    long = spread(L, target, mask, length=500.0, offset_prior=NO_OFFSET)
    assert short[0, 5, 100] < 0.1 < 9.0 < long[0, 5, 100]


def test_two_points_each_keep_their_colour() -> None:
    L = two_regions()
    target = np.zeros((2, 20, 30), np.float32)
    mask = np.zeros((20, 30), np.float32)
    target[0, 5, 5], target[0, 5, 25] = 30.0, -30.0
    mask[5, 5], mask[5, 25] = 1.0, 2.0  # one label a point
    out = spread(L, target, mask)
    assert out[0, 15, 2] > 25.0 and out[0, 15, 28] < -25.0


def test_a_point_fades_where_lightness_is_far_from_its_own() -> None:
    L = np.tile(np.linspace(20.0, 80.0, 60, dtype=np.float32), (10, 1))  # a ramp, no edge
    target = np.zeros((1, 10, 60), np.float32)
    mask = np.zeros((10, 60), np.float32)
    target[0, 5, 0], mask[5, 0] = 10.0, 1.0
    ranged = spread(L, target, mask, length=500.0, edge=50.0, lightness_range=20.0,
                    offset_prior=NO_OFFSET)
    free = spread(L, target, mask, length=500.0, edge=50.0, lightness_range=float("inf"),
                  offset_prior=NO_OFFSET)
    assert ranged[0, 5, 0] > 9.0 and ranged[0, 5, 59] < 0.2 * free[0, 5, 59]


def test_far_from_every_point_the_field_tends_to_the_offset() -> None:
    L = np.full((10, 400), 50.0, np.float32)
    L[:, 300:] = 90.0  # a far region of other lightness, beyond an edge
    target = np.zeros((2, 10, 400), np.float32)
    mask = np.zeros((10, 400), np.float32)
    target[:, 5, 0], mask[5, 0] = (12.0, -6.0), 1.0
    out = spread(L, target, mask, length=5.0, offset_prior=1.0, offset_range=10.0)
    np.testing.assert_allclose(out[:, 5, 0], (12.0, -6.0), atol=0.5)
    np.testing.assert_allclose(out[:, 5, 200], (6.0, -3.0), atol=1e-2)  # same L: half
    assert np.abs(out[:, 5, 399]).max() < 0.1  # 40 L away: next to nothing
    flat = spread(L, target, mask, length=5.0, offset_prior=NO_OFFSET)
    assert np.abs(flat[:, 5, 200]).max() < 1e-3  # no offset: the correction fades out


def test_offset_is_the_points_mean_by_lightness_shrunk_by_the_prior() -> None:
    L = np.array([[20.0, 80.0]])
    asked = np.array([[10.0, 0.0], [0.0, 10.0]])
    out = offset(L, asked, np.array([20.0, 80.0]), prior=0.0, reach=5.0)
    np.testing.assert_allclose(out[:, 0, 0], (10.0, 0.0), atol=1e-6)
    np.testing.assert_allclose(out[:, 0, 1], (0.0, 10.0), atol=1e-6)
    one = offset(L, asked, np.array([20.0, 80.0]), prior=2.0, reach=float("inf"))
    np.testing.assert_allclose(one[:, 0, 0], (2.5, 2.5))
    assert not offset(L, np.zeros((0, 2)), np.zeros(0)).any()
    assert not offset(L, asked, np.array([20.0, 80.0]), prior=float("inf")).any()


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
