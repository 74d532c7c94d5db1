"""Streams for fuzzing the decoder: the seed corpus and a structure-aware mutator.

A byte-level fuzzer almost never gets past the stream's CRC-32s, so it only tests the
container parser.  :func:`mutate` takes a stream apart (header fields, sections), changes one
thing — a header field, a plane's codec byte, bytes inside a plane's payload (its zstandard
frame, AV1 OBUs or AVIF boxes), the sections' order or number — and packs it again with valid
CRCs, so the mutation reaches the plane decoders and the networks.  Used by the coverage-guided
harness (``fuzz_decode.py``, atheris) and the bounded property test
(``tests/test_fuzz_properties.py``, hypothesis).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lumacodec import avif
from lumacodec.container import MAGIC, NETWORK_ID_BYTES, _uleb128

CORPUS = Path(__file__).with_name("corpus")

#: ``byte_mutator(data, max_size) -> data``: libFuzzer's own mutator in the harness
#: (``atheris.Mutate``), :func:`flip_bytes` elsewhere.
ByteMutator = Callable[[bytes, int], bytes]


@dataclass(frozen=True)
class Parts:
    """A stream as fields and sections, whatever their values (nothing is checked)."""

    version: int
    width: int
    height: int
    mode: int
    layout: int
    base_quality: int
    hint_quality: int
    network_id: bytes
    sections: tuple[tuple[int, bytes], ...]


def _uleb(data: bytes, pos: int) -> tuple[int, int] | None:
    value = 0
    for i in range(5):
        if pos + i >= len(data):
            return None
        value |= (data[pos + i] & 0x7F) << (7 * i)
        if not data[pos + i] & 0x80:
            return value, pos + i + 1
    return None


def split(data: bytes) -> Parts | None:
    """The fields and sections of ``data`` (CRCs ignored); None when it is not a stream."""
    if len(data) < 6 or data[:4] != MAGIC:
        return None
    width = _uleb(data, 5)
    height = width and _uleb(data, width[1])
    if not height:
        return None
    pos = height[1]
    end = pos + 4 + NETWORK_ID_BYTES
    if end + 4 > len(data):
        return None
    mode, layout, base_q, hint_q = data[pos : pos + 4]
    sections = []
    pos = end + 4
    while pos < len(data):
        length = _uleb(data, pos + 1)
        if length is None:
            break
        start = length[1]
        sections.append((data[pos], data[start : start + length[0]]))
        pos = start + length[0] + 4
    return Parts(data[4], width[0], height[0], mode, layout, base_q, hint_q,
                 data[end - NETWORK_ID_BYTES : end], tuple(sections))


def pack(parts: Parts) -> bytes:
    """The stream of ``parts`` with every CRC-32 valid (the inverse of :func:`split`)."""
    def crc(data: bytes) -> bytes:
        return zlib.crc32(data).to_bytes(4, "big")

    head = (MAGIC + bytes([parts.version]) + _uleb128(parts.width) + _uleb128(parts.height)
            + bytes([parts.mode, parts.layout, parts.base_quality, parts.hint_quality])
            + parts.network_id)
    out = bytearray(head + crc(head))
    for kind, payload in parts.sections:
        section = bytes([kind]) + _uleb128(len(payload)) + payload
        out += section + crc(section)
    return bytes(out)


def flip_bytes(data: bytes, max_size: int, rng: random.Random | None = None) -> bytes:
    """A simple byte mutator: change, insert or delete a few bytes."""
    rng = rng or random.Random()
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        at = rng.randint(0, len(out))
        if op < 0.6 and out:
            at = min(at, len(out) - 1)
            out[at] = rng.choice((out[at] ^ (1 << rng.randint(0, 7)), rng.randint(0, 255)))
        elif op < 0.8:
            out[at:at] = bytes([rng.randint(0, 255)] * rng.randint(1, 8))
        else:
            del out[at : at + rng.randint(1, 8)]
    return bytes(out[:max_size])


_FIELD_VALUES = {
    "width": (1, 2, 7, 8, 16, 24, 31, 33, 64, 127, 128, 4096, 1 << 20, (1 << 31) - 1),
    "height": (1, 2, 7, 8, 16, 24, 31, 33, 64, 127, 128, 4096, 1 << 20, (1 << 31) - 1),
    "mode": (0, 1, 2, 3, 4, 255),
    "layout": tuple(range(32)) + (0x20, 0xFF),
    "base_quality": (0, 1, 5, 10, 50, 100, 101, 254, 255),
    "hint_quality": (0, 1, 50, 70, 100, 101, 255),
    "version": (0, 1, 2, 255),
}


def _plane_size(parts: Parts, kind: int) -> tuple[int, int]:
    """(width, height) of the plane a base (1) or hint section of ``parts`` carries, as the
    AVIF boxes of codec 2 state it (clipped to 32 bits, as boxes are)."""
    factor = 1 << ((parts.layout >> 2) & 7 if kind == 2 else parts.layout & 3)
    width, height = -(-parts.width // factor), -(-parts.height // factor)
    return min(width * (2 if kind == 2 else 1), 0xFFFFFFFF), min(height, 0xFFFFFFFF)


def mutate(data: bytes, max_size: int, rng: random.Random, byte_mutator: ByteMutator) -> bytes:
    """One structure-aware mutation of ``data`` (see the module docstring); a plain byte
    mutation when ``data`` is not a stream or, sometimes, to test the parser itself."""
    parts = split(data)
    if parts is None or rng.random() < 0.1:
        return byte_mutator(data, max_size)
    sections = list(parts.sections)
    choice = rng.random()
    if choice < 0.2 or not sections:  # a header field
        name = rng.choice(sorted(_FIELD_VALUES))
        value = rng.choice(_FIELD_VALUES[name])
        parts = replace(parts, **{name: value})
    elif choice < 0.75:  # inside a payload: its codec byte, the plane coder's bytes
        i = rng.randrange(len(sections))
        kind, payload = sections[i]
        if payload and rng.random() < 0.15:
            payload = bytes([rng.choice((0, 1, 2, 3, 255))]) + payload[1:]
        elif payload[:1] == b"\x01" and len(payload) > 4 and rng.random() < 0.3:
            payload = bytes([2]) + avif.wrap(payload[4:], *_plane_size(parts, kind), payload[1:4])
        else:
            payload = byte_mutator(payload, max(len(payload) + 64, 64))
        sections[i] = (kind, payload)
    elif choice < 0.9:  # the section list: drop, duplicate, swap, add ancillary or critical
        op = rng.randrange(4)
        i = rng.randrange(len(sections))
        if op == 0:
            del sections[i]
        elif op == 1:
            sections.insert(rng.randrange(len(sections) + 1), sections[i])
        elif op == 2:
            j = rng.randrange(len(sections))
            sections[i], sections[j] = sections[j], sections[i]
        else:
            kind = rng.choice((2, 3, 127, 128, 200, 255))
            extra = (kind, rng.randbytes(rng.randint(0, 16)))
            sections.insert(rng.randrange(len(sections) + 1), extra)
    else:  # a payload from another section (e.g. the hint plane as the base)
        i, j = rng.randrange(len(sections)), rng.randrange(len(sections))
        sections[i] = (sections[i][0], sections[j][1])
    out = pack(replace(parts, sections=tuple(sections)))
    return out[:max_size]


# --- the seed corpus ----------------------------------------------------------------------


def _photo(height: int, width: int, seed: int) -> np.ndarray:
    """A small smooth colour picture with an edge (so every coder has something to code)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    rgb = np.stack([x, y, 1 - x * y], axis=-1) * 200 + rng.normal(0, 8, (height, width, 3))
    rgb[: height // 2, : width // 3] = (220, 40, 30)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def seed_streams() -> dict[str, bytes]:
    """Small valid streams of every kind: scales 1/2/4, hint or none, lossless, AV1 and AVIF
    planes, grey and alpha sources, ancillary sections.  Deterministic."""
    import lumacodec
    from lumacodec.presets import Preset

    colour = _photo(24, 40, 0)
    grey = colour[..., 1]
    rgba = np.dstack([colour, np.full(colour.shape[:2], 128, np.uint8)])
    grey_alpha = np.dstack([grey, np.full(grey.shape, 200, np.uint8)])
    streams = {
        "q1-scale4-hint16": lumacodec.encode(colour, 1),
        "q3-scale2-hint8": lumacodec.encode(colour, 3),
        "q5-scale1-hint8": lumacodec.encode(colour, 5),
        "q9-hint4": lumacodec.encode(colour, 9),
        "q10": lumacodec.encode(colour, 10),
        "no-hint-q2": lumacodec.encode(colour, 2, hints=False),
        "no-hint-q6": lumacodec.encode(colour, 6, hints=False),
        "grey-q4": lumacodec.encode(grey, 4),
        "grey-lossless-scale2": lumacodec.encode(grey, Preset(2, 255, 16, 50)),
        "rgba-q5": lumacodec.encode(rgba, 5),
        "grey-alpha-q3": lumacodec.encode(grey_alpha, 3),
        "odd-size-q5": lumacodec.encode(_photo(13, 7, 1), 5),
        "one-pixel-q5": lumacodec.encode(_photo(1, 1, 2), 5),
        "hint32-q50": lumacodec.encode(_photo(40, 72, 3), Preset(1, 20, 32, 50)),
        "lossless-base-hint-q100": lumacodec.encode(colour, Preset(1, 255, 8, 100)),
    }
    parts = split(streams["q3-scale2-hint8"])
    assert parts is not None
    (base_kind, base), *rest = parts.sections
    as_avif = bytes([2]) + avif.wrap(base[4:], *_plane_size(parts, base_kind), base[1:4])
    streams["avif-plane-scale2"] = pack(replace(parts, sections=((base_kind, as_avif), *rest)))
    streams["ancillary"] = pack(replace(parts, sections=(
        (200, b"metadata"), *parts.sections, (128, b""))))
    return streams


def write_corpus(directory: Path = CORPUS) -> list[Path]:
    """Write :func:`seed_streams` as ``<name>.lmc`` files (the committed seed corpus)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in seed_streams().items():
        path = directory / f"{name}.lmc"
        path.write_bytes(data)
        paths.append(path)
    return paths


def corpus() -> dict[str, bytes]:
    """The committed seed corpus, by file name."""
    return {p.name: p.read_bytes() for p in sorted(CORPUS.glob("*.lmc"))}


if __name__ == "__main__":
    for path in write_corpus():
        print(f"{path}  {path.stat().st_size} bytes")
