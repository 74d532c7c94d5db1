"""sRGB <-> CIELAB and the 8-bit quantizers of the bitstream."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from lumacodec import color
from lumacodec.color import (
    AB_OFFSET,
    L_TO_U8,
    L_to_grey_u8,
    L_to_u8,
    ab_to_u8,
    grey_u8_to_L,
    lab_to_rgb,
    lab_to_rgb_u8,
    planes_to_rgb_u8,
    rgb_to_lab,
    rgb_to_luma,
    u8_to_ab,
    u8_to_L,
)


def test_float_round_trip_within_one_level(rng: np.random.Generator) -> None:
    rgb = rng.random((64, 64, 3), dtype=np.float32)
    lab = rgb_to_lab(rgb)
    assert lab.dtype == np.float32 and lab.shape == rgb.shape
    assert np.abs(lab_to_rgb(lab) - rgb).max() <= 1 / 255


def test_uint8_round_trip_within_one_level(rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    back = lab_to_rgb_u8(rgb_to_lab(rgb))
    assert back.dtype == np.uint8
    assert np.abs(back.astype(int) - rgb).max() <= 1


def test_uint8_and_float_inputs_agree(rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert np.allclose(rgb_to_lab(rgb), rgb_to_lab(rgb / 255.0), atol=1e-3)


@pytest.mark.parametrize(
    "rgb, lab",
    [
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.24, 80.09, 67.20)),  # D65 / 2 degrees
        ((0, 0, 255), (32.30, 79.19, -107.86)),
        ((128, 128, 128), (53.59, 0.0, 0.0)),
    ],
)
def test_known_colours(rgb: tuple[int, int, int], lab: tuple[float, float, float]) -> None:
    got = rgb_to_lab(np.array([[rgb]], np.uint8))[0, 0]
    assert np.allclose(got, lab, atol=0.02)
    assert rgb_to_luma(np.array([[rgb]], np.uint8))[0, 0] == pytest.approx(lab[0], abs=0.02)


def test_out_of_gamut_lab_is_clipped_quietly() -> None:
    lab = np.array([[[50.0, 120.0, -120.0], [100.0, -128.0, 127.0], [0.0, 90.0, 90.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rgb = lab_to_rgb(lab)
    assert rgb.dtype == np.float32 and rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_grey_levels_survive_L() -> None:
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    L = grey_u8_to_L(grey)
    assert L.shape == grey.shape and np.all(np.diff(L.ravel()) > 0)
    assert L[0, 0] == pytest.approx(0.0, abs=1e-3) and L[-1, -1] == pytest.approx(100, abs=1e-3)
    assert np.array_equal(L_to_grey_u8(L), grey)


def test_L_quantizer_within_half_a_step(rng: np.random.Generator) -> None:
    L = np.concatenate([rng.uniform(0, 100, 10_000), [0.0, 100.0, 50.0]]).astype(np.float32)
    q = L_to_u8(L)
    assert q.dtype == np.uint8
    assert np.abs(u8_to_L(q) - L).max() <= 0.5 / L_TO_U8 + 1e-5
    assert L_to_u8(np.array([0.0, 100.0, -5.0, 130.0])).tolist() == [0, 255, 0, 255]
    levels = np.arange(256, dtype=np.uint8)
    assert np.array_equal(L_to_u8(u8_to_L(levels)), levels)


def test_ab_quantizer_within_half_a_step(rng: np.random.Generator) -> None:
    ab = rng.uniform(-AB_OFFSET, 127.0, 10_000).astype(np.float32)
    q = ab_to_u8(ab)
    assert q.dtype == np.uint8
    assert np.abs(u8_to_ab(q) - ab).max() <= 0.5 + 1e-5
    assert ab_to_u8(np.array([0.0, -128.0, 127.0, -300.0, 300.0])).tolist() == [
        128,
        0,
        255,
        0,
        255,
    ]
    levels = np.arange(256, dtype=np.uint8)
    assert np.array_equal(ab_to_u8(u8_to_ab(levels)), levels)


def _conversions(rgb: np.ndarray, lab: np.ndarray) -> dict[str, np.ndarray]:
    """Every strip-wise conversion of color.py on one colour image and one Lab image."""
    L, ab = lab[..., 0].copy(), np.moveaxis(lab[..., 1:], -1, 0).copy()
    return {
        "rgb_to_lab u8": rgb_to_lab(rgb),
        "rgb_to_lab float": rgb_to_lab(rgb / 255.0),
        "rgb_to_luma": rgb_to_luma(rgb),
        "grey_u8_to_L": grey_u8_to_L(rgb[..., 1]),
        "lab_to_rgb": lab_to_rgb(lab),
        "lab_to_rgb_u8": lab_to_rgb_u8(lab),
        "planes_to_rgb_u8": planes_to_rgb_u8(L, ab),
        "planes_to_rgb_u8 grey": planes_to_rgb_u8(L, None),
        "L_to_grey_u8": L_to_grey_u8(L),
    }


def test_strip_wise_conversion_equals_whole_image(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    """The conversions run a strip of rows at a time (bounded memory on big photos); the
    result must be the whole-image conversion's bit for bit, for any strip height."""
    rgb = rng.integers(0, 256, (97, 61, 3), dtype=np.uint8)
    lab = (rng.random((97, 61, 3)) * [100, 300, 300] - [0, 150, 150]).astype(np.float32)
    monkeypatch.setattr(color, "STRIP_PIXELS", 1 << 40)  # one strip: the whole image
    whole = _conversions(rgb, lab)
    # the one strip is scikit-image's own whole-image call
    assert np.array_equal(whole["rgb_to_lab u8"], rgb2lab(rgb.astype(np.float32) / 255))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = np.clip(lab2rgb(lab), 0, 1)
    assert np.array_equal(whole["lab_to_rgb"], reference)
    assert np.array_equal(whole["lab_to_rgb_u8"], whole["planes_to_rgb_u8"])
    for pixels in (1, 61 * 5, 61 * 13 + 7, 4000):  # one row; 5 rows; 13 rows; 65 rows
        monkeypatch.setattr(color, "STRIP_PIXELS", pixels)
        for name, strips in _conversions(rgb, lab).items():
            assert strips.dtype == whole[name].dtype and np.array_equal(strips, whole[name]), name
    # on threads: strips of this small image converted two at a time
    monkeypatch.setattr(color, "MIN_THREADED_STRIP", 1)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    for pixels in (61 * 13 + 7, 1 << 40):  # 8 strips; the two halves of the image
        monkeypatch.setattr(color, "STRIP_PIXELS", pixels)
        assert color._threads(97, 61) == 2
        for name, strips in _conversions(rgb, lab).items():
            assert np.array_equal(strips, whole[name]), name


def test_planes_to_rgb_u8_of_grey_is_L_to_grey_u8(rng: np.random.Generator) -> None:
    L = rng.uniform(0, 100, (9, 14)).astype(np.float32)
    rgb = planes_to_rgb_u8(L, None)
    assert rgb.shape == (9, 14, 3) and rgb.flags.c_contiguous
    assert np.array_equal(rgb[..., 0], L_to_grey_u8(L))
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_rgb_error_weights_predict_the_srgb_error_of_small_lab_errors(
    rng: np.random.Generator,
) -> None:
    """The quadratic form of :func:`color.rgb_error_weights` gives the mean square sRGB error
    of a small Lab error within 10% (float sRGB, before rounding), for L errors and for a/b
    errors alike; grey images have no a/b terms."""
    L = rng.uniform(20, 90, (64, 64)).astype(np.float32)
    ab = rng.uniform(-30, 30, (2, 64, 64)).astype(np.float32)
    w = color.rgb_error_weights(L, ab)
    assert w.shape == (4, 64, 64) and w.dtype == np.float32

    def srgb(L_: np.ndarray, ab_: np.ndarray) -> np.ndarray:
        return color.lab_to_rgb(np.stack([L_, ab_[0], ab_[1]], -1)) * 255.0

    base = srgb(L, ab)
    e_L = rng.normal(0, 1.0, L.shape).astype(np.float32)
    e_ab = rng.normal(0, 2.0, ab.shape).astype(np.float32)
    for err_L, err_ab, predicted in (
        (e_L, 0 * e_ab, np.mean(w[0] * e_L**2)),
        (0 * e_L, e_ab, np.mean(w[1] * e_ab[0] ** 2 + 2 * w[2] * e_ab[0] * e_ab[1]
                                + w[3] * e_ab[1] ** 2)),
    ):
        actual = np.mean((srgb(L + err_L, ab + err_ab) - base) ** 2)
        assert abs(predicted / actual - 1) < 0.1, (predicted, actual)
    grey = color.rgb_error_weights(L, None)
    assert np.all(grey[1:] == 0) and np.all(grey[0] > 0)
