"""The .lmc container: layout, checks, and refusal of every damaged or hostile stream."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import lumacodec
from lumacodec import container, decoder
from lumacodec.container import (
    MAGIC,
    VERSION,
    Header,
    SectionType,
    SourceMode,
    Stream,
    pack,
    parse,
    parse_header,
)
from lumacodec.errors import DecompressionBombError, LumacodecError


def crc(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def section(kind: int, payload: bytes) -> bytes:
    """One section with a correct CRC (payload shorter than 128 bytes)."""
    assert len(payload) < 128
    body = bytes([kind, len(payload)]) + payload
    return body + crc(body)


def raw_header(
    width: bytes = b"\x08",
    height: bytes = b"\x08",
    mode: int = SourceMode.GREY,
    layout: int = 0,
    base_quality: int = 255,
    hint_quality: int = 0,
    network_id: bytes = bytes(8),
    version: int = VERSION,
) -> bytes:
    """A header from raw field bytes, with a correct CRC."""
    head = (
        MAGIC
        + bytes([version])
        + width
        + height
        + bytes([mode, layout, base_quality, hint_quality])
        + network_id
    )
    return head + crc(head)


def grey_header(**changes: object) -> Header:
    fields: dict[str, object] = dict(
        width=8,
        height=8,
        source_mode=SourceMode.GREY,
        scale_log2=0,
        hint_log2=0,
        base_quality=255,
        hint_quality=0,
    )
    fields.update(changes)
    return Header(**fields)  # type: ignore[arg-type]


def header_length(data: bytes) -> int:
    return parse_header(data)[1]


# --- layout -------------------------------------------------------------------------------


def test_pack_parse_round_trip() -> None:
    header = Header(
        width=300,
        height=20_000,
        source_mode=SourceMode.RGBA,
        scale_log2=2,
        hint_log2=5,
        base_quality=37,
        hint_quality=61,
        network_id=bytes(range(1, 9)),
    )
    stream = Stream(header, b"base-bytes", b"hint")
    data = pack(stream)
    assert parse(data) == stream
    assert parse_header(data)[0] == header
    assert header.scale == 4 and header.hint_factor == 32 and header.has_hint


def test_header_layout_matches_format_doc() -> None:
    """The example of docs/spec/format.md: a 1x1 RGB pixel, hint 1/16, AV1 base at 1/2, q 25."""
    preset = lumacodec.Preset(scale=2, base_quality=25, hint_factor=16, hint_quality=50)
    data = lumacodec.encode(np.array([[[200, 30, 90]]], np.uint8), preset)
    assert data[:4] == b"\x89LMC"
    assert data[4:10] == bytes([0x01, 0x01, 0x01, 0x01, 0x11, 0x19])
    assert data[10] == 0x32
    end = 11 + 8
    assert data[end : end + 4] == crc(data[:end])
    assert header_length(data) == 23
    assert data[23] == SectionType.BASE
    base = parse(data).base
    assert base[0] == 1  # AV1 codec id
    assert parse(data).hint is not None


def test_uleb128_sizes() -> None:
    for width, nbytes in [(1, 1), (127, 1), (128, 2), (16383, 2), (16384, 3), (2**30, 5)]:
        h = grey_header(width=width, height=1)
        data = pack(Stream(h, b"\x00", None))
        header, end = parse_header(data, max_pixels=2**31)
        assert end == 4 + 1 + nbytes + 1 + 4 + 8 + 4
        assert header.width == width


def test_header_length_bounds() -> None:
    """magic 4 + version 1 + width 1-5 + height 1-5 + 4 fields + id 8 + CRC 4 = 23-31 bytes."""
    small = pack(Stream(grey_header(width=1, height=1), b"\x00", None))
    big = pack(Stream(grey_header(width=2**31 - 1, height=2**31 - 1), b"\x00", None))
    assert header_length(small) == 23
    assert parse_header(big, max_pixels=2**62)[1] == 31


def test_pack_refuses_inconsistent_streams() -> None:
    with pytest.raises(ValueError, match="network_id"):
        pack(Stream(grey_header(network_id=b"short"), b"x", None))
    with pytest.raises(ValueError, match="hint section"):
        pack(Stream(grey_header(), b"x", b"unexpected hint"))
    colour = grey_header(source_mode=SourceMode.RGB, hint_log2=3, hint_quality=50)
    with pytest.raises(ValueError, match="hint section"):
        pack(Stream(colour, b"x", None))
    with pytest.raises(LumacodecError):
        pack(Stream(grey_header(width=0), b"x", None))


# --- damage -------------------------------------------------------------------------------


def test_every_truncation_is_refused(small_stream: bytes) -> None:
    for n in range(len(small_stream)):
        prefix = small_stream[:n]
        with pytest.raises(LumacodecError):
            lumacodec.decode(prefix, enhance=False)
        with pytest.raises(LumacodecError):
            lumacodec.info(prefix)


def test_every_bit_flip_is_refused(small_stream: bytes, time_limit) -> None:
    """One flipped bit anywhere (header, base, hint) is caught, and by a LumacodecError."""
    stream = parse(small_stream)
    assert stream.base and stream.hint  # every kind of section is covered
    with time_limit(20):
        for pos in range(len(small_stream)):
            for bit in range(8):
                damaged = bytearray(small_stream)
                damaged[pos] ^= 1 << bit
                with pytest.raises(LumacodecError):
                    lumacodec.decode(bytes(damaged), enhance=False)
                with pytest.raises(LumacodecError):
                    lumacodec.info(bytes(damaged))


def test_bit_flips_in_section_payloads_are_checksum_errors(small_stream: bytes) -> None:
    """Damage inside a payload is refused by the CRC, before any plane decoder sees it."""
    pos = header_length(small_stream)
    payload_positions = []
    while pos < len(small_stream):
        length = small_stream[pos + 1]  # the small stream's sections are < 128 bytes
        payload_positions += range(pos + 2, pos + 2 + length)
        pos += 2 + length + 4
    assert pos == len(small_stream)
    for p in payload_positions:
        damaged = bytearray(small_stream)
        damaged[p] ^= 0x10
        with pytest.raises(LumacodecError, match="checksum"):
            lumacodec.decode(bytes(damaged), enhance=False)


def test_wrong_magic(small_stream: bytes) -> None:
    for data in (b"\x89PNG\r\n\x1a\n" + small_stream[8:], b"LMC!" + small_stream[4:], b""):
        with pytest.raises(LumacodecError, match="magic"):
            lumacodec.decode(data, enhance=False)
        with pytest.raises(LumacodecError, match="magic"):
            lumacodec.info(data)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_version_is_named(version: int) -> None:
    data = raw_header(version=version) + section(1, b"\x00")
    with pytest.raises(LumacodecError, match=f"version {version}"):
        lumacodec.decode(data, enhance=False)
    with pytest.raises(LumacodecError, match=f"version {version}"):
        lumacodec.info(data)


def test_absurd_dimensions_refused_before_allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    header = grey_header(width=2**30, height=2**30, scale_log2=2, base_quality=50)
    data = pack(Stream(header, b"\x01\x00\x00\x00tiny", None))

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a plane was decoded for a decompression bomb")

    monkeypatch.setattr(decoder, "decode_base", must_not_run)
    monkeypatch.setattr(decoder, "decode_hint", must_not_run)
    with pytest.raises(DecompressionBombError, match="exceeds the limit"):
        lumacodec.decode(data, enhance=False)
    with pytest.raises(DecompressionBombError):
        lumacodec.info(data)
    assert issubclass(DecompressionBombError, LumacodecError)


def test_pixel_limit_is_configurable(small_stream: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DecompressionBombError):
        lumacodec.decode(small_stream, enhance=False, max_pixels=63)
    assert lumacodec.decode(small_stream, enhance=False, max_pixels=64).size == (8, 8)
    monkeypatch.setattr(container, "MAX_IMAGE_PIXELS", 10)
    with pytest.raises(DecompressionBombError):
        lumacodec.info(small_stream)


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(width=b"\x00"), "invalid image size"),
        (dict(height=b"\x00"), "invalid image size"),
        (dict(width=b"\x81\x00"), "minimally encoded"),
        (dict(width=b"\xff\xff\xff\xff\xff\x01"), "longer than 5 bytes"),
        (dict(width=b"\xff\xff\xff\xff\x0f"), "invalid image size"),  # 2**32 - 1
        (dict(mode=4), "source mode"),
        (dict(layout=0x20), "reserved"),
        (dict(layout=0x03), "scale"),
        (dict(base_quality=101), "base quality"),
        (dict(hint_quality=50), "hint quality"),
        (dict(layout=0x0C, hint_quality=50), "greyscale image cannot carry"),
        (dict(mode=SourceMode.RGB, layout=0x0C, hint_quality=101), "hint quality"),
    ],
)
def test_invalid_header_fields(fields: dict, message: str) -> None:
    data = raw_header(**fields) + section(1, b"\x00")
    with pytest.raises(LumacodecError, match=message):
        lumacodec.decode(data, enhance=False)
    with pytest.raises(LumacodecError, match=message):
        lumacodec.info(data)


def test_header_checksum_mismatch() -> None:
    head = bytearray(raw_header())
    head[-1] ^= 1
    with pytest.raises(LumacodecError, match="header checksum"):
        parse(bytes(head) + section(1, b"\x00"))


@pytest.mark.parametrize("kind", [0, 3, 4, 64, 127])
def test_unknown_critical_section_is_refused(small_stream: bytes, kind: int) -> None:
    with pytest.raises(LumacodecError, match=f"critical section type {kind}"):
        lumacodec.decode(small_stream + section(kind, b"future"), enhance=False)


@pytest.mark.parametrize("kind", [128, 200, 255])
def test_ancillary_sections_are_skipped(small_stream: bytes, kind: int) -> None:
    expected = np.asarray(lumacodec.decode(small_stream, enhance=False))
    pos = header_length(small_stream)
    base_end = pos + 2 + small_stream[pos + 1] + 4
    extra = section(kind, b"metadata from a later writer")
    variants = [
        small_stream + extra,
        small_stream[:pos] + extra + small_stream[pos:],
        small_stream[:base_end] + extra + extra + small_stream[base_end:],
        small_stream + section(kind, b""),
    ]
    for data in variants:
        assert parse(data) == parse(small_stream)
        assert np.array_equal(np.asarray(lumacodec.decode(data, enhance=False)), expected)
        assert lumacodec.info(data)["bytes"] == len(data)


def test_ancillary_section_checksum_is_verified(small_stream: bytes) -> None:
    extra = bytearray(section(200, b"metadata"))
    extra[-1] ^= 0xFF
    with pytest.raises(LumacodecError, match="checksum"):
        lumacodec.decode(small_stream + bytes(extra), enhance=False)


@pytest.mark.parametrize(
    "garbage", [b"\x00", b"\x01", b"\x80", b"\xff\xff", b"garbage", bytes(16), b"\x01\x00"]
)
def test_trailing_garbage_is_refused(small_stream: bytes, garbage: bytes) -> None:
    with pytest.raises(LumacodecError):
        lumacodec.decode(small_stream + garbage, enhance=False)
    with pytest.raises(LumacodecError):
        lumacodec.info(small_stream + garbage)


def test_section_structure_errors() -> None:
    grey = raw_header()
    colour = raw_header(mode=SourceMode.RGB, layout=0x0C, hint_quality=50)
    base, hint = section(1, b"\x00"), section(2, b"\x00")
    cases = [
        (grey, "base layer section is missing"),
        (grey + section(200, b"x"), "base layer section is missing"),
        (grey + base + base, "appears twice"),
        (grey + base + hint, "unexpected hint"),
        (colour + base, "hint section is missing"),
        (colour + hint + base, "hint section before base"),
        (colour + base + hint + hint, "appears twice"),
    ]
    for data, message in cases:
        with pytest.raises(LumacodecError, match=message):
            parse(data)


def test_section_length_past_the_end_is_truncation() -> None:
    body = bytes([1, 100]) + b"short"
    with pytest.raises(LumacodecError, match="truncated"):
        parse(raw_header() + body + crc(body))


def test_empty_base_section_is_refused() -> None:
    """A well-formed stream whose base payload is empty (valid CRC) is corrupt, not a crash."""
    data = pack(Stream(grey_header(), b"", None))
    with pytest.raises(LumacodecError):
        lumacodec.decode(data, enhance=False)
    with pytest.raises(LumacodecError):
        lumacodec.info(data)


def test_empty_hint_section_is_refused() -> None:
    head = raw_header(mode=SourceMode.RGB, layout=0x0C, hint_quality=50)
    with pytest.raises(LumacodecError, match="empty"):
        parse(head + section(1, b"\x00") + section(2, b""))


def test_info_names_unknown_plane_codecs() -> None:
    """info() does not decode planes: an unknown codec id is reported, decode refuses it."""
    data = pack(Stream(grey_header(), b"\x07payload", None))
    assert "7" in str(lumacodec.info(data)["base_codec"])
    with pytest.raises(LumacodecError, match="codec id 7"):
        lumacodec.decode(data, enhance=False)


# --- limits: refused from the lengths, before checksums and decoders ------------------------


def long_section(kind: int, payload: bytes) -> bytes:
    body = bytes([kind]) + container._uleb128(len(payload)) + payload
    return body + crc(body)


def test_too_many_sections_are_refused(small_stream: bytes) -> None:
    present = 1 + (parse(small_stream).hint is not None)
    fits = small_stream + section(200, b"") * (container.MAX_SECTIONS - present)
    assert parse(fits) == parse(small_stream)
    with pytest.raises(LumacodecError, match=f"more than {container.MAX_SECTIONS} sections"):
        parse(fits + section(200, b""))
    many = small_stream + section(200, b"") * 1_000_000  # 7 MB of empty sections
    with pytest.raises(LumacodecError, match="sections"):
        parse(many)


def test_ancillary_bytes_are_limited(small_stream: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(container, "MAX_ANCILLARY_BYTES", 100)
    assert parse(small_stream + long_section(200, bytes(60))) == parse(small_stream)
    with pytest.raises(LumacodecError, match="more than 100 bytes of ancillary"):
        parse(small_stream + long_section(200, bytes(60)) + long_section(201, bytes(41)))


@pytest.mark.parametrize("kind", [SectionType.BASE, SectionType.HINT])
def test_a_plane_payload_larger_than_its_plane_can_need_is_refused(kind: SectionType) -> None:
    """Its length is compared with the plane's size before the CRC is even computed."""
    header = Header(16, 8, SourceMode.RGB, 1, 2, 50, 50)  # base 8x4; hint 4x2, a|b: 8x2
    samples = container.plane_samples(header, kind)
    assert samples == (32 if kind == SectionType.BASE else 16)
    limit = container.max_payload(header, kind)
    assert limit == 2 * samples + container.PLANE_OVERHEAD
    base = b"\x00" if kind == SectionType.HINT else None
    for length, refused in ((limit, False), (limit + 1, True)):
        payload = bytes(length)
        stream = Stream(header, base or payload, payload if base else b"\x00")
        data = pack(stream)
        if refused:
            with pytest.raises(LumacodecError, match=f"section {kind} holds {length} bytes"):
                parse(data)
        else:
            assert parse(data) == stream
