"""The ``.lmc`` container, version 1: header fields, sections, checksums (docs/spec/format.md).

Parsing is pure integer work on bytes: nothing here (or anywhere that decides how bits are
read) depends on floating-point network output, so every machine parses every stream the same.
Every check that can refuse a stream runs before any pixel buffer is allocated.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass, field

from .errors import DecompressionBombError, LumacodecError

MAGIC = b"\x89LMC"
VERSION = 1
NETWORK_ID_BYTES = 8
#: The longest a header can be: magic, version, two 5-byte sizes, 4 field bytes, id, CRC.
MAX_HEADER_BYTES = len(MAGIC) + 1 + 5 + 5 + 4 + NETWORK_ID_BYTES + 4

#: Largest width * height a stream may declare; like Pillow's ``Image.MAX_IMAGE_PIXELS``,
#: reassign it (or pass ``max_pixels``) to accept bigger images.  ``None`` disables the check.
MAX_IMAGE_PIXELS: int | None = 89_478_485
_MAX_SIDE = (1 << 31) - 1
#: Most sections one stream may hold (base, hint and ancillary ones together).
MAX_SECTIONS = 64
#: Most bytes all ancillary sections of one stream may hold together.
MAX_ANCILLARY_BYTES = 16 << 20
#: A coded plane may take at most this many bytes per sample, plus :data:`PLANE_OVERHEAD`:
#: far above what AV1 or zstandard ever need (random samples cost ~1.0 byte).
MAX_BYTES_PER_SAMPLE = 2
PLANE_OVERHEAD = 4096


class SourceMode(enum.IntEnum):
    """What the encoder was given; the decoder returns grey for GREY/GREY_ALPHA, RGB otherwise."""

    GREY = 0
    RGB = 1
    RGBA = 2  # alpha dropped
    GREY_ALPHA = 3  # alpha dropped

    @property
    def is_colour(self) -> bool:
        return self in (SourceMode.RGB, SourceMode.RGBA)

    @property
    def alpha_dropped(self) -> bool:
        return self in (SourceMode.RGBA, SourceMode.GREY_ALPHA)


class SectionType(enum.IntEnum):
    BASE = 1  # the L plane at 1/scale of each side
    HINT = 2  # a|b side by side at 1/hint_factor of each side


@dataclass(frozen=True)
class Header:
    """The fixed fields of a stream (everything but the coded planes)."""

    width: int
    height: int
    source_mode: SourceMode
    scale_log2: int  # base layer is 1/2**scale_log2 of each side
    hint_log2: int  # 0 = no hint; else the hint is 1/2**hint_log2 of each side
    base_quality: int  # 0..100 (AV1 quality) or 255 (lossless)
    hint_quality: int  # 0..100, 0 when there is no hint
    network_id: bytes = field(default=bytes(NETWORK_ID_BYTES))

    @property
    def scale(self) -> int:
        return 1 << self.scale_log2

    @property
    def hint_factor(self) -> int:
        return 1 << self.hint_log2 if self.hint_log2 else 0

    @property
    def has_hint(self) -> bool:
        return self.hint_log2 > 0


@dataclass(frozen=True)
class Stream:
    header: Header
    base: bytes
    hint: bytes | None


def _uleb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_uleb128(data: bytes, pos: int, what: str) -> tuple[int, int]:
    value = 0
    for i in range(5):
        if pos + i >= len(data):
            raise LumacodecError(f"truncated stream: {what} is cut off")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i and byte == 0:
                raise LumacodecError(f"corrupt stream: {what} is not minimally encoded")
            return value, pos + i + 1
    raise LumacodecError(f"corrupt stream: {what} is longer than 5 bytes")


def _crc(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def _check_header(h: Header, max_pixels: int | None) -> None:
    if not (1 <= h.width <= _MAX_SIDE and 1 <= h.height <= _MAX_SIDE):
        raise LumacodecError(f"invalid image size {h.width}x{h.height}")
    if max_pixels is not None and h.width * h.height > max_pixels:
        raise DecompressionBombError(
            f"image size {h.width}x{h.height} ({h.width * h.height} pixels) exceeds the limit "
            f"of {max_pixels} pixels (lumacodec.container.MAX_IMAGE_PIXELS)"
        )
    if not 0 <= h.scale_log2 <= 2:
        raise LumacodecError(f"corrupt stream: scale 2**{h.scale_log2} is not 1, 2 or 4")
    if not 0 <= h.hint_log2 <= 7:
        raise LumacodecError(f"corrupt stream: hint factor 2**{h.hint_log2} out of range")
    if not (0 <= h.base_quality <= 100 or h.base_quality == 255):
        raise LumacodecError(f"corrupt stream: base quality {h.base_quality} out of range")
    if not 0 <= h.hint_quality <= 100 or (h.hint_quality and not h.has_hint):
        raise LumacodecError(f"corrupt stream: hint quality {h.hint_quality} out of range")
    if h.has_hint and not h.source_mode.is_colour:
        raise LumacodecError("corrupt stream: a greyscale image cannot carry a colour hint")


def pack(stream: Stream) -> bytes:
    """Serialize a stream: header, its CRC-32, then each section with its own CRC-32."""
    h = stream.header
    _check_header(h, None)
    if len(h.network_id) != NETWORK_ID_BYTES:
        raise ValueError("network_id must be 8 bytes")
    if (stream.hint is not None) != h.has_hint:
        raise ValueError("hint section must be present exactly when hint_log2 > 0")
    head = (
        MAGIC
        + bytes([VERSION])
        + _uleb128(h.width)
        + _uleb128(h.height)
        + bytes([h.source_mode, h.scale_log2 | (h.hint_log2 << 2), h.base_quality, h.hint_quality])
        + h.network_id
    )
    out = bytearray(head + _crc(head))
    for kind, payload in ((SectionType.BASE, stream.base), (SectionType.HINT, stream.hint)):
        if payload is None:
            continue
        section = bytes([kind]) + _uleb128(len(payload)) + payload
        out += section + _crc(section)
    return bytes(out)


def parse_header(data: bytes, max_pixels: int | None = None) -> tuple[Header, int]:
    """Read and check the header; returns it and the offset of the first section.

    Cheap: touches only the first :data:`MAX_HEADER_BYTES` bytes, so ``info()`` and the
    Pillow plugin's ``open`` never decode pixels.
    """
    if max_pixels is None:
        max_pixels = MAX_IMAGE_PIXELS
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise LumacodecError("not a lumacodec stream (wrong magic bytes)")
    if len(data) < 5:
        raise LumacodecError("truncated stream: header is cut off")
    if data[4] != VERSION:
        raise LumacodecError(
            f"unsupported lumacodec format version {data[4]} (this lumacodec reads {VERSION})"
        )
    width, pos = _read_uleb128(data, 5, "width")
    height, pos = _read_uleb128(data, pos, "height")
    end = pos + 4 + NETWORK_ID_BYTES
    if len(data) < end + 4:
        raise LumacodecError("truncated stream: header is cut off")
    if _crc(data[:end]) != data[end : end + 4]:
        raise LumacodecError("corrupt stream: header checksum mismatch")
    mode, layout, base_q, hint_q = data[pos : pos + 4]
    if mode not in SourceMode._value2member_map_:
        raise LumacodecError(f"corrupt stream: unknown source mode {mode}")
    if layout & 0xE0:
        raise LumacodecError("corrupt stream: reserved header bits are set")
    header = Header(
        width=width,
        height=height,
        source_mode=SourceMode(mode),
        scale_log2=layout & 0x03,
        hint_log2=(layout >> 2) & 0x07,
        base_quality=base_q,
        hint_quality=hint_q,
        network_id=bytes(data[pos + 4 : end]),
    )
    _check_header(header, max_pixels)
    return header, end + 4


def plane_samples(header: Header, kind: SectionType) -> int:
    """Samples of the plane a section carries: its size follows from the header alone."""
    def reduced(factor: int) -> tuple[int, int]:
        return -(-header.height // factor), -(-header.width // factor)

    if kind == SectionType.BASE:
        h, w = reduced(header.scale)
        return h * w
    h, w = reduced(header.hint_factor or 1)
    return h * 2 * w


def max_payload(header: Header, kind: SectionType) -> int:
    """Largest payload a base or hint section of this header may have (docs/spec/format.md)."""
    return MAX_BYTES_PER_SAMPLE * plane_samples(header, kind) + PLANE_OVERHEAD


def parse(data: bytes, max_pixels: int | None = None) -> Stream:
    """Parse and verify a whole stream: header, every section's length and CRC-32, nothing after.

    Every limit is checked from the lengths before any checksum is computed: at most
    :data:`MAX_SECTIONS` sections, :data:`MAX_ANCILLARY_BYTES` of ancillary payload, and plane
    payloads of at most :func:`max_payload` bytes.
    """
    data = bytes(data)
    header, pos = parse_header(data, max_pixels)
    sections: dict[int, bytes] = {}
    count = ancillary = 0
    while pos < len(data):
        start = pos
        kind = data[pos]
        length, pos = _read_uleb128(data, pos + 1, "section length")
        count += 1
        if count > MAX_SECTIONS:
            raise LumacodecError(f"corrupt stream: more than {MAX_SECTIONS} sections")
        if kind >= 128:
            ancillary += length
            if ancillary > MAX_ANCILLARY_BYTES:
                raise LumacodecError(
                    f"corrupt stream: more than {MAX_ANCILLARY_BYTES} bytes of ancillary sections"
                )
        elif kind in SectionType._value2member_map_ and length > max_payload(
            header, SectionType(kind)
        ):
            raise LumacodecError(
                f"corrupt stream: section {kind} holds {length} bytes, more than a plane of "
                f"{plane_samples(header, SectionType(kind))} samples can need"
            )
        if pos + length + 4 > len(data):
            raise LumacodecError("truncated stream: a section is cut off")
        payload = data[pos : pos + length]
        if _crc(data[start : pos + length]) != data[pos + length : pos + length + 4]:
            raise LumacodecError(f"corrupt stream: checksum mismatch in section {kind}")
        pos += length + 4
        if kind >= 128:
            continue  # ancillary section of a later writer: safe to skip
        if kind not in SectionType._value2member_map_:
            raise LumacodecError(f"unsupported critical section type {kind}")
        if kind in sections:
            raise LumacodecError(f"corrupt stream: section {kind} appears twice")
        if not payload:
            raise LumacodecError(f"corrupt stream: section {kind} is empty")
        if kind == SectionType.HINT and SectionType.BASE not in sections:
            raise LumacodecError("corrupt stream: hint section before base section")
        sections[kind] = payload
    if SectionType.BASE not in sections:
        raise LumacodecError("truncated stream: base layer section is missing")
    hint = sections.get(SectionType.HINT)
    if (hint is not None) != header.has_hint:
        raise LumacodecError(
            "truncated stream: hint section is missing"
            if header.has_hint
            else "corrupt stream: unexpected hint section"
        )
    return Stream(header, sections[SectionType.BASE], hint)
