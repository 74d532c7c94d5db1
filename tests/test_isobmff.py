"""What an AVIF plane file (codec 2) may declare: checked from its boxes before libavif runs."""

from __future__ import annotations

import struct
import tracemalloc

import numpy as np
import pytest

from lumacodec import avif
from lumacodec.baselayer import Codec, decode_plane
from lumacodec.errors import LumacodecError
from lumacodec.isobmff import MAX_ITEMS, check_avif_plane

H, W = 48, 64


@pytest.fixture(scope="module")
def file() -> bytes:
    plane = (np.arange(H * W).reshape(H, W) % 251).astype(np.uint8)
    return avif.encode_grey(plane, 50)


def check(data: bytes, width: int = W, height: int = H) -> None:
    check_avif_plane(data, width, height)


def patch(data: bytes, marker: bytes, offset: int, value: bytes) -> bytes:
    """``data`` with ``value`` written ``offset`` bytes after the first ``marker``."""
    at = data.index(marker) + offset
    return data[:at] + value + data[at + len(value) :]


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def test_libavif_files_pass(file: bytes) -> None:
    check(file)
    assert decode_plane(bytes([Codec.AVIF]) + file, H, W).shape == (H, W)


def test_another_size_is_refused(file: bytes) -> None:
    with pytest.raises(LumacodecError, match=f"item 1 declares {W}x{H}, the stream says 32x24"):
        check(file, 32, 24)


def test_an_ispe_that_lies_is_caught_by_the_sequence_header(file: bytes) -> None:
    lying = patch(file, b"ispe", 8, struct.pack(">II", 32, 24))
    with pytest.raises(LumacodecError, match="AV1 sequence header is not 32x24"):
        check(lying, 32, 24)


@pytest.mark.parametrize("kind", [b"grid", b"iovl", b"tmap"])
def test_derived_images_are_refused(file: bytes, kind: bytes) -> None:
    """A grid (or overlay, tone map) item would make libavif compose many tiles."""
    derived = patch(file, b"infe", 4 + 4 + 2 + 2, kind)  # type, version/flags, id, protection
    with pytest.raises(LumacodecError, match=f"item types {kind.decode()} are not allowed"):
        check(derived)


@pytest.mark.parametrize("kind", [b"moov", b"moof"])
def test_image_sequences_are_refused(file: bytes, kind: bytes) -> None:
    with pytest.raises(LumacodecError, match="image sequence"):
        check(file + box(kind, b""))


def test_the_primary_item_must_be_the_av1_image(file: bytes) -> None:
    with pytest.raises(LumacodecError, match="primary item is not an AV1 image"):
        check(patch(file, b"pitm", 8, struct.pack(">H", 7)))


def test_a_missing_ispe_is_refused(file: bytes) -> None:
    with pytest.raises(LumacodecError, match="declares no size"):
        check(patch(file, b"ispe", 0, b"free"))


def test_item_data_outside_the_file_is_refused(file: bytes) -> None:
    # after the type, iloc v0: version/flags, sizes, count, item, data ref, extent count, offset
    far = patch(file, b"iloc", 4 + 4 + 2 + 2 + 2 + 2 + 2, struct.pack(">I", 1 << 30))
    with pytest.raises(LumacodecError, match="outside the file"):
        check(far)


def test_boxes_that_overrun_are_refused(file: bytes) -> None:
    at = file.index(b"meta") - 4
    overrun = file[:at] + struct.pack(">I", 1 << 31) + file[at + 4 :]
    with pytest.raises(LumacodecError, match="overruns"):
        check(overrun)
    with pytest.raises(LumacodecError, match="overruns"):
        check(file[: file.index(b"meta") + 20])


def test_many_items_are_refused(file: bytes) -> None:
    many = patch(file, b"iinf", 8, struct.pack(">H", MAX_ITEMS + 1))
    with pytest.raises(LumacodecError, match=f"{MAX_ITEMS + 1} items"):
        check(many)


def test_two_meta_boxes_are_refused(file: bytes) -> None:
    at = file.index(b"meta") - 4
    size = struct.unpack_from(">I", file, at)[0]
    with pytest.raises(LumacodecError, match="2 meta boxes"):
        check(file + file[at : at + size])


def test_random_damage_is_a_lumacodec_error(file: bytes) -> None:
    rng = np.random.default_rng(0)
    meta_end = file.index(b"mdat")
    for _ in range(2000):
        damaged = bytearray(file)
        for at in rng.integers(0, meta_end, rng.integers(1, 4)):
            damaged[at] = int(rng.integers(0, 256))
        try:
            check(bytes(damaged))
        except LumacodecError:
            pass


def test_a_large_declaration_allocates_nothing_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4096x4096 AVIF in a 16x16 plane: refused from its boxes, a few kB allocated, and
    Pillow (libavif) never opens it."""
    big = avif.encode_grey(np.zeros((4096, 4096), np.uint8), 10, effort=0)
    assert len(big) < 1024
    opened = []
    monkeypatch.setattr(avif.Image, "open", lambda *a, **k: opened.append(a))
    tracemalloc.start()
    try:
        with pytest.raises(LumacodecError, match="declares 4096x4096"):
            decode_plane(bytes([Codec.AVIF]) + big, 16, 16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert not opened
