"""The chroma hint: a|b packing, sizes, coding and classical upsampling."""

from __future__ import annotations

import numpy as np
import pytest

from lumacodec.baselayer import LOSSLESS_QUALITY
from lumacodec.hints import (
    decode_hint,
    encode_hint,
    hint_size,
    pack_hint,
    unpack_hint,
    upsample_hint,
)


@pytest.mark.parametrize(
    "height, width, factor, expected",
    [(1, 1, 32, (1, 2)), (17, 33, 4, (5, 18)), (64, 96, 8, (8, 24)), (37, 53, 16, (3, 8))],
)
def test_hint_size(height: int, width: int, factor: int, expected: tuple[int, int]) -> None:
    assert hint_size(height, width, factor) == expected


def test_pack_hint_layout() -> None:
    ab = np.empty((2, 8, 12), np.float32)
    ab[0] = 10.0
    ab[1] = -20.0
    ab[0, :4, :4] = 30.0  # one 4x4 block of a
    plane = pack_hint(ab, 4)
    assert plane.shape == hint_size(8, 12, 4) == (2, 6) and plane.dtype == np.uint8
    assert plane[:, :3].tolist() == [[158, 138, 138], [138, 138, 138]]  # a + 128
    assert (plane[:, 3:] == 108).all()  # b + 128


def test_pack_hint_averages_blocks_and_clips() -> None:
    ab = np.zeros((2, 4, 4), np.float32)
    ab[0, 0, 0] = 40.0  # block mean 10
    ab[1] = 500.0  # out of the 8-bit range
    plane = pack_hint(ab, 2)
    assert plane[0, 0] == 138 and plane[0, 1] == 128
    assert (plane[:, 2:] == 255).all()


def test_unpack_inverts_pack_within_half_a_step(rng: np.random.Generator) -> None:
    small = rng.uniform(-100, 100, (2, 5, 7)).astype(np.float32)
    back = unpack_hint(pack_hint(small, 1))
    assert back.shape == (2, 5, 7) and back.dtype == np.float32
    assert np.abs(back - small).max() <= 0.5 + 1e-4


@pytest.mark.parametrize("factor", [4, 8, 32])
def test_lossless_hint_round_trip(rng: np.random.Generator, factor: int) -> None:
    ab = rng.uniform(-60, 60, (2, 37, 53)).astype(np.float32)
    data = encode_hint(ab, factor, LOSSLESS_QUALITY)
    small = decode_hint(data, 37, 53, factor)
    h, w2 = hint_size(37, 53, factor)
    assert small.shape == (2, h, w2 // 2)
    assert np.array_equal(small, unpack_hint(pack_hint(ab, factor)))


def test_av1_hint_round_trip_is_close() -> None:
    y, x = np.mgrid[0:64, 0:96].astype(np.float32)
    ab = np.stack([30 * np.sin(x / 20), 25 * np.cos(y / 15)])
    data = encode_hint(ab, 4, 90)
    small = decode_hint(data, 64, 96, 4)
    reference = unpack_hint(pack_hint(ab, 4))
    assert np.abs(small - reference).mean() < 1.5


def test_upsample_hint_of_a_constant_is_constant() -> None:
    small = np.stack([np.full((3, 4), 12.0), np.full((3, 4), -7.0)]).astype(np.float32)
    full = upsample_hint(small, 8, (19, 29))
    assert full.shape == (2, 19, 29)
    assert np.allclose(full[0], 12.0, atol=1e-4) and np.allclose(full[1], -7.0, atol=1e-4)
