"""lumacodec.film.propagate: flow that follows the motion, occlusions, scene cuts."""

from __future__ import annotations

import numpy as np
from film_clips import cut_frames, moving_frames

from lumacodec.color import grey_u8_to_L
from lumacodec.film.propagate import MotionEstimator, histogram_distance, to_u8, warp


def L_of(rgb: np.ndarray) -> np.ndarray:
    return grey_u8_to_L(np.ascontiguousarray(rgb[..., 0]))


def test_flow_follows_a_shift() -> None:
    a, b = (L_of(f) for f in moving_frames(2, 64, 96, step=2))
    motion = MotionEstimator()(a, b)
    # the picture moves 2 px left each frame (the window slides right): x in b came from x+2
    inner = motion.flow[8:-8, 8:-8]
    assert abs(float(np.median(inner[..., 0])) - 2.0) < 0.3
    assert abs(float(np.median(inner[..., 1]))) < 0.3
    assert not motion.cut and motion.valid_share > 0.8
    # warping the earlier frame along it gives the later one
    carried = warp(a, motion.flow)
    assert np.abs(carried - b)[8:-8, 8:-8].mean() < 0.5 < np.abs(a - b)[8:-8, 8:-8].mean()


def test_warp_of_zero_flow_is_identity() -> None:
    image = np.random.default_rng(0).random((2, 10, 12)).astype(np.float32)
    np.testing.assert_allclose(warp(image, np.zeros((10, 12, 2), np.float32)), image)


def test_occluded_pixels_are_not_valid() -> None:
    a = L_of(moving_frames(1, 64, 96)[0])
    a[20:44, 30:60] = 20.0  # a dark wall...
    b = a.copy()
    b[20:44, 30:60] = 85.0  # ...where something bright appears, without moving
    motion = MotionEstimator()(a, b)
    assert motion.valid[26:38, 36:54].mean() < 0.2  # the block's inside is coloured afresh
    assert motion.valid[:, 70:].mean() > 0.9  # what did not change is carried
    assert not motion.cut


def test_scene_cut_is_detected() -> None:
    frames = [L_of(f) for f in cut_frames(8, 4)]
    estimator = MotionEstimator()
    cuts = [estimator(frames[t - 1], frames[t]).cut for t in range(1, 8)]
    assert cuts == [False, False, False, True, False, False, False]


def test_histogram_distance() -> None:
    dark = np.full((8, 8), 10, np.uint8)
    assert histogram_distance(dark, dark) == 0.0
    assert histogram_distance(dark, np.full((8, 8), 250, np.uint8)) == 1.0
    assert to_u8(np.array([-3.0, 0.0, 100.0, 104.0])).tolist() == [0, 0, 255, 255]
