"""lumacodec.guided: colour from L told by points, a reference photo or known colour."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lumacodec import weights
from lumacodec.color import rgb_to_lab
from lumacodec.decoder import colour_from_L
from lumacodec.errors import LumacodecError
from lumacodec.guided import guided_colour, point_marks, point_planes, reference_photo
from lumacodec.points import Point

CPU = torch.device("cpu")


def two_regions(h: int = 48, w: int = 64) -> np.ndarray:
    L = np.full((h, w), 35.0, np.float32)
    L[:, w // 2:] = 75.0
    return L


def ab_of(hex_rgb: str) -> np.ndarray:
    rgb = np.array([[[int(hex_rgb[i: i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
    return rgb_to_lab(rgb)[0, 0, 1:]


def test_no_guidance_is_the_automatic_colour_exactly(tiny_networks: weights.NetworkSet) -> None:
    L = two_regions()
    for colour in ("faithful", "vivid"):
        np.testing.assert_array_equal(
            guided_colour(L, colour=colour, networks=tiny_networks, device="cpu"),
            colour_from_L(L, tiny_networks, CPU, colour))


def test_a_point_gets_its_colour_and_its_region(tiny_networks: weights.NetworkSet) -> None:
    L = two_regions()
    ab = guided_colour(L, [(10, 20, "#2a6fdb", 3)], networks=tiny_networks, device="cpu")
    want = ab_of("#2a6fdb")
    assert np.abs(ab[:, 20, 10] - want).max() < 4.0
    left = ab[:, :, 4:28].reshape(2, -1).mean(1)
    right = ab[:, :, 36:].reshape(2, -1).mean(1)
    auto = colour_from_L(L, tiny_networks, CPU, "faithful")
    assert np.abs(left - want).max() < 6.0  # the whole dark region
    # the bright region, beyond the edge and 50 L away, moves a small part of the way
    # (the offset by lightness: colour_spread.OFFSET_RANGE)
    moved = np.abs(right - auto[:, :, 36:].reshape(2, -1).mean(1))
    asked = np.abs(want - auto[:, :, 4:28].reshape(2, -1).mean(1))
    assert (moved < 0.25 * asked + 2.0).all()


def test_points_on_both_sides(tiny_networks: weights.NetworkSet) -> None:
    L = two_regions()
    ab = guided_colour(L, [Point(8, 8, (200, 30, 30)), Point(56, 40, (30, 160, 40))],
                       networks=tiny_networks, device="cpu")
    assert ab[0, 30, 5] > 30 and ab[0, 10, 60] < -20  # red left, green right


def test_bad_guidance_is_an_error(tiny_networks: weights.NetworkSet) -> None:
    L = two_regions()
    with pytest.raises(LumacodecError, match="point 0 at"):
        guided_colour(L, [(64, 0, "#fff")], networks=tiny_networks, device="cpu")
    with pytest.raises(LumacodecError, match="is grey"):
        guided_colour(L, reference=np.full((8, 8), 128, np.uint8), networks=tiny_networks)
    with pytest.raises(LumacodecError, match="known_ab must be"):
        guided_colour(L, known_ab=np.zeros((2, 4, 4), np.float32), networks=tiny_networks)
    no_guided = weights.NetworkSet(tiny_networks.sr, tiny_networks.colorizer, tiny_networks.id,
                                   luma_colorizer=tiny_networks.luma_colorizer)
    with pytest.raises(LumacodecError, match="no guided colour network"):
        guided_colour(L, [(1, 1, "#fff")], networks=no_guided)


def test_a_reference_moves_the_colour_towards_its_own(tiny_networks: weights.NetworkSet
                                                      ) -> None:
    L = two_regions()
    ref = np.zeros((40, 40, 3), np.uint8)
    ref[:, :20] = (90, 40, 20)  # dark brown
    ref[:, 20:] = (150, 190, 250)  # light blue
    ab = guided_colour(L, reference=ref, networks=tiny_networks, device="cpu")
    auto = colour_from_L(L, tiny_networks, CPU)
    lab_ref = rgb_to_lab(ref)
    for cols, want in ((slice(0, 32), lab_ref[0, 0, 1:]), (slice(32, 64), lab_ref[0, -1, 1:])):
        got = ab[:, :, cols].reshape(2, -1).mean(1)
        before = auto[:, :, cols].reshape(2, -1).mean(1)
        assert np.linalg.norm(got - want) < np.linalg.norm(before - want)


def test_known_colour_is_taken(tiny_networks: weights.NetworkSet) -> None:
    L = two_regions()
    known = np.zeros((2, *L.shape), np.float32)
    known[0] = 25.0
    ab = guided_colour(L, known_ab=known, known_mask=np.ones(L.shape, np.float32),
                       networks=tiny_networks, device="cpu")
    assert ab.shape == (2, *L.shape) and np.isfinite(ab).all()


def test_point_planes_and_marks() -> None:
    marks = point_marks([Point(50, 20, (255, 0, 0), 10)], (40, 100), (20, 50))
    (y, x, r, a, b), = marks
    assert (y, x, r) == (10, 25, 4) and a > 50  # scaled by 1/2, radius capped, red
    planes = point_planes(20, 50, marks)
    assert planes[2].sum() == 81 and planes[2, 10, 25] == 1 and planes[2, 0, 0] == 0


def test_reference_photo() -> None:
    assert reference_photo(np.full((2, 2, 3), (10, 20, 30), np.uint8)).shape == (2, 2, 3)
    with pytest.raises(LumacodecError, match="^ref.png is grey"):
        reference_photo(np.zeros((2, 2), np.uint8), "ref.png")
