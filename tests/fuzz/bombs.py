"""Decompression bombs: small streams that would demand a large allocation or a long decode.

One builder per class of docs/spec/reliability.md; ``tests/test_bombs.py`` checks that each is
refused before any decoder runs, and ``benchmarks/bombs.py`` measures the time and memory of
the refusal.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import replace
from functools import cache

import numpy as np
import zstandard

from lumacodec import avif
from lumacodec.container import MAX_IMAGE_PIXELS
from lumacodec.presets import Preset

from . import streams

BIG = 4096  # the side of the picture a bomb hides in a 16x16 stream


@cache
def _small(hints: bool = True) -> streams.Parts:
    """A valid 16x16 colour stream at scale 1, with a 1/8 hint (a 2x4 a|b plane) or none."""
    import lumacodec

    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    parts = streams.split(lumacodec.encode(rgb, Preset(1, 20, 8, 50) if hints else 5,
                                           hints=hints))
    assert parts is not None
    return parts


@cache
def _big_av1() -> tuple[bytes, bytes]:
    """(av1C bytes, AV1 payload) of a BIG x BIG grey picture: ~600 bytes."""
    file = avif.encode_grey(np.zeros((BIG, BIG), np.uint8), 10, effort=0)
    stripped = avif.strip(file, BIG, BIG)
    assert stripped is not None
    return stripped


def _with_section(kind: int, payload: bytes, hints: bool = True) -> bytes:
    parts = _small(hints)
    sections = tuple((k, payload if k == kind else p) for k, p in parts.sections)
    return streams.pack(replace(parts, sections=sections))


def header_over_the_pixel_limit() -> bytes:
    side = int(MAX_IMAGE_PIXELS**0.5) + 1
    return streams.pack(replace(_small(), width=side, height=side))


def av1_base_of_another_size() -> bytes:
    av1c, payload = _big_av1()
    return _with_section(1, bytes([1]) + av1c + payload)


def avif_base_of_another_size() -> bytes:
    av1c, payload = _big_av1()
    return _with_section(1, bytes([2]) + avif.wrap(payload, BIG, BIG, av1c))


def avif_base_whose_ispe_lies() -> bytes:
    """The boxes say 16x16, the AV1 sequence header 4096x4096."""
    av1c, payload = _big_av1()
    return _with_section(1, bytes([2]) + avif.wrap(payload, 16, 16, av1c))


def av1_hint_of_another_size() -> bytes:
    av1c, payload = _big_av1()
    return _with_section(2, bytes([1]) + av1c + payload)


def avif_hint_of_another_size() -> bytes:
    av1c, payload = _big_av1()
    return _with_section(2, bytes([2]) + avif.wrap(payload, BIG, BIG, av1c))


def zstd_content_larger_than_the_plane() -> bytes:
    frame = zstandard.ZstdCompressor().compress(bytes(BIG * BIG))  # 16 MiB of zeros, ~600 B
    return _with_section(1, bytes([0, 0]) + frame)


def zstd_window_larger_than_the_plane() -> bytes:
    """A frame of the plane's 256 bytes that asks for a 2 GiB window."""
    descriptor = bytes([0x40, (31 - 10) << 3]) + (256 - 256).to_bytes(2, "little")
    frame = b"\x28\xb5\x2f\xfd" + descriptor + ((256 << 3) | 1).to_bytes(3, "little") + bytes(256)
    return _with_section(1, bytes([0, 0]) + frame)


def plane_section_declaring_gigabytes() -> bytes:
    """A base section whose length field says 16 GiB (the file ends long before)."""
    parts = _small()
    head = streams.pack(replace(parts, sections=()))
    return head + bytes([1]) + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x3F]) + bytes(64)


def hint_larger_than_its_plane() -> bytes:
    """A hint section of 1 MiB for a 2x4 hint plane."""
    return _with_section(2, bytes([0, 0]) + bytes(1 << 20))


def many_ancillary_sections() -> bytes:
    """A million empty ancillary sections (7 MB)."""
    empty = bytes([200, 0])
    return streams.pack(_small()) + (empty + zlib.crc32(empty).to_bytes(4, "big")) * 1_000_000


BOMBS: dict[str, Callable[[], bytes]] = {
    "header over the pixel limit": header_over_the_pixel_limit,
    "AV1 base plane (codec 1) of 4096x4096": av1_base_of_another_size,
    "AVIF base plane (codec 2) of 4096x4096": avif_base_of_another_size,
    "AVIF base plane whose ispe says 16x16": avif_base_whose_ispe_lies,
    "AV1 hint plane of 4096x4096": av1_hint_of_another_size,
    "AVIF hint plane of 4096x4096": avif_hint_of_another_size,
    "zstandard frame of 16 MiB in a 256-byte plane": zstd_content_larger_than_the_plane,
    "zstandard window of 2 GiB": zstd_window_larger_than_the_plane,
    "section length of 16 GiB": plane_section_declaring_gigabytes,
    "hint section of 1 MiB for an 8-sample plane": hint_larger_than_its_plane,
    "a million ancillary sections": many_ancillary_sections,
}
