"""Plane coders: the exact lossless coder (every predictor) and the AV1 / AVIF coders."""

from __future__ import annotations

import io

import numpy as np
import pytest
import zstandard
from PIL import Image

from lumacodec import avif
from lumacodec.baselayer import (
    LOSSLESS_QUALITY,
    Codec,
    Predictor,
    _reconstruct,
    _residual,
    decode_plane,
    encode_plane,
)
from lumacodec.errors import LumacodecError

SHAPES = [(1, 1), (1, 7), (5, 1), (3, 5), (17, 33), (64, 48)]


def planes(rng: np.random.Generator, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    return {
        "random": rng.integers(0, 256, shape, dtype=np.uint8),
        "zeros": np.zeros(shape, np.uint8),
        "max": np.full(shape, 255, np.uint8),
        "constant": np.full(shape, 77, np.uint8),
        "ramp": ((x * 7 + y * 13) % 256).astype(np.uint8),
    }


def lossless_body(plane: np.ndarray, predictor: Predictor) -> bytes:
    residual = _residual(plane, predictor)
    return bytes([Codec.LOSSLESS, predictor]) + zstandard.ZstdCompressor().compress(
        residual.tobytes()
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("predictor", list(Predictor))
def test_every_predictor_is_exact(
    rng: np.random.Generator, shape: tuple[int, int], predictor: Predictor
) -> None:
    for name, plane in planes(rng, shape).items():
        assert np.array_equal(_reconstruct(_residual(plane, predictor), predictor), plane), name
        decoded = decode_plane(lossless_body(plane, predictor), *shape)
        assert decoded.dtype == np.uint8 and np.array_equal(decoded, plane), name


def test_predictors_are_what_the_format_says() -> None:
    plane = np.array([[10, 12, 15], [11, 20, 9]], np.uint8)
    left = _residual(plane, Predictor.LEFT)
    up = _residual(plane, Predictor.UP)
    planar = _residual(plane, Predictor.PLANAR)
    assert left.tolist() == [[10, 2, 3], [11, 9, 245]]
    assert up.tolist() == [[10, 12, 15], [1, 8, 250]]
    # planar: x - left - up + up_left (mod 256), 0 outside the plane
    assert planar.tolist() == [[10, 2, 3], [1, 7, 242]]


@pytest.mark.parametrize("shape", SHAPES)
def test_lossless_plane_round_trip(rng: np.random.Generator, shape: tuple[int, int]) -> None:
    for name, plane in planes(rng, shape).items():
        data = encode_plane(plane, LOSSLESS_QUALITY)
        assert data[0] == Codec.LOSSLESS and data[1] in iter(Predictor)
        assert np.array_equal(decode_plane(data, *shape), plane), name


def test_lossless_encoder_keeps_the_smallest_predictor(rng: np.random.Generator) -> None:
    y, x = np.mgrid[0:32, 0:32]
    cctx = zstandard.ZstdCompressor(level=19)
    for plane in [(x * 3).astype(np.uint8), (y * 5).astype(np.uint8), (x + y).astype(np.uint8)]:
        data = encode_plane(plane, LOSSLESS_QUALITY)
        sizes = [len(cctx.compress(_residual(plane, p).tobytes())) for p in Predictor]
        assert len(data) == 2 + min(sizes)
        assert np.array_equal(decode_plane(data, 32, 32), plane)


def test_lossless_constant_plane_is_tiny() -> None:
    assert len(encode_plane(np.full((256, 256), 200, np.uint8), LOSSLESS_QUALITY)) < 40


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty plane"),
        (bytes([Codec.LOSSLESS]), "unknown predictor"),
        (bytes([Codec.LOSSLESS, 3]) + zstandard.ZstdCompressor().compress(bytes(16)), "predictor"),
        (bytes([Codec.LOSSLESS, 0]) + b"not zstd at all", "corrupt lossless"),
        (
            bytes([Codec.LOSSLESS, 0]) + zstandard.ZstdCompressor().compress(bytes(15)),
            "declares 15 bytes",
        ),
        (
            bytes([Codec.LOSSLESS, 0]) + zstandard.ZstdCompressor().compress(bytes(10**6)),
            "lossless",
        ),
        (
            bytes([Codec.LOSSLESS, 0])
            + zstandard.ZstdCompressor(write_content_size=False).compress(bytes(10**6)),
            "lossless",
        ),
        (bytes([Codec.AV1, 1, 2]), "too short"),
        (bytes([Codec.AV1]) + b"\x00\x00\x00" + b"not av1", "corrupt AV1"),
        (bytes([Codec.AVIF]) + b"not an avif file", "corrupt AVIF plane"),
        (bytes([3, 0, 0]), "codec id 3"),
        (bytes([255]), "codec id 255"),
    ],
)
def test_corrupt_planes_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(LumacodecError, match=message):
        decode_plane(body, 4, 4)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (17, 33), (37, 53)])
@pytest.mark.parametrize("quality", [0, 20, 85, 100])
def test_av1_plane_round_trip(
    rng: np.random.Generator, shape: tuple[int, int], quality: int
) -> None:
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    plane = np.clip(128 + 60 * np.sin(x / 5) * np.cos(y / 7), 0, 255).astype(np.uint8)
    data = encode_plane(plane, quality)
    assert data[0] == Codec.AV1  # the canonical boxes were rebuilt exactly
    decoded = decode_plane(data, h, w)
    assert decoded.shape == shape and decoded.dtype == np.uint8
    if quality >= 85:
        assert np.abs(decoded.astype(int) - plane).mean() < 2.0


def test_av1_quality_spends_bits(rng: np.random.Generator) -> None:
    plane = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    sizes = [len(encode_plane(plane, q)) for q in (10, 40, 70, 95)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_av1_plane_is_much_smaller_than_the_avif_file(rng: np.random.Generator) -> None:
    plane = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    data = encode_plane(plane, 50)
    assert len(avif.encode_grey(plane, 50)) - len(data) > 200


def test_avif_fallback_codec_decodes() -> None:
    plane = np.tile(np.arange(0, 240, 8, dtype=np.uint8), (6, 1))
    file = avif.encode_grey(plane, 100)
    decoded = decode_plane(bytes([Codec.AVIF]) + file, *plane.shape)
    assert np.abs(decoded.astype(int) - plane).max() <= 3


def test_encoder_falls_back_to_avif_when_rebuild_differs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(avif, "strip", lambda file, width, height: None)
    plane = np.full((4, 6), 90, np.uint8)
    data = encode_plane(plane, 60)
    assert data[0] == Codec.AVIF
    with Image.open(io.BytesIO(data[1:])) as im:
        assert im.format == "AVIF" and im.size == (6, 4)
    assert np.abs(decode_plane(data, 4, 6).astype(int) - 90).max() <= 2


def test_lossless_plane_of_the_wrong_size_is_refused() -> None:
    lossless = encode_plane(np.zeros((4, 4), np.uint8), LOSSLESS_QUALITY)
    for shape in [(4, 5), (5, 4), (3, 3), (1, 1)]:
        with pytest.raises(LumacodecError):
            decode_plane(lossless, *shape)


@pytest.mark.parametrize("shape", [(4, 5), (5, 4), (8, 8), (2, 2)])
def test_av1_plane_of_the_wrong_size_is_refused(shape: tuple[int, int]) -> None:
    """docs/spec/format.md: a plane whose decoded size differs from the header's is corrupt.

    The coded AV1 frame is 4x4; a stream whose header promises another plane size must be
    refused, not silently rescaled to the promised size.
    """
    data = encode_plane(np.arange(16, dtype=np.uint8).reshape(4, 4) * 10, 90)
    assert data[0] == Codec.AV1
    assert decode_plane(data, 4, 4).shape == (4, 4)
    with pytest.raises(LumacodecError):
        decode_plane(data, *shape)


def test_avif_plane_of_the_wrong_size_is_refused() -> None:
    file = avif.encode_grey(np.zeros((4, 4), np.uint8), 50)
    with pytest.raises(LumacodecError, match="stream says 5x4"):
        decode_plane(bytes([Codec.AVIF]) + file, 4, 5)


def test_an_oversized_avif_plane_is_refused_before_it_is_decoded(monkeypatch) -> None:
    """A small stream must not make libavif decode a large picture (a decompression bomb):
    the file's boxes are read and compared with the header before Pillow opens it."""
    file = avif.encode_grey(np.zeros((512, 512), np.uint8), 10)
    opened = []
    monkeypatch.setattr(avif.Image, "open", lambda *a, **k: opened.append(a))
    with pytest.raises(LumacodecError, match="declares 512x512, the stream says 16x16"):
        decode_plane(bytes([Codec.AVIF]) + file, 16, 16)
    assert not opened


def zstd_frame_with_window(window_log: int, content: int) -> bytes:
    """A zstandard frame (no single-segment flag, so it carries a window descriptor) holding
    ``content`` zero bytes in one raw block."""
    descriptor = bytes([0x40, (window_log - 10) << 3]) + (content - 256).to_bytes(2, "little")
    block = ((content << 3) | 1).to_bytes(3, "little") + bytes(content)
    return b"\x28\xb5\x2f\xfd" + descriptor + block


def test_zstd_frames_must_declare_the_plane_size_and_a_window_that_fits() -> None:
    """The frame's header is read before zstandard allocates: a few bytes must not declare
    megabytes, and a window larger than the plane is refused."""
    bomb = zstandard.ZstdCompressor().compress(bytes(64 << 20))  # 64 MiB of zeros, ~2 KiB
    assert len(bomb) < 4096
    with pytest.raises(LumacodecError, match="declares 67108864 bytes, the plane has 256"):
        decode_plane(bytes([Codec.LOSSLESS, 0]) + bomb, 16, 16)
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(bytes(256))
    with pytest.raises(LumacodecError, match="declares no size"):
        decode_plane(bytes([Codec.LOSSLESS, 0]) + unsized, 16, 16)
    wide = zstd_frame_with_window(27, 256)
    assert zstandard.ZstdDecompressor().decompress(wide) == bytes(256)  # a valid frame
    with pytest.raises(LumacodecError, match="134217728-byte window for a 256-byte plane"):
        decode_plane(bytes([Codec.LOSSLESS, 0]) + wide, 16, 16)
    # the smallest power of two that holds the plane (at least 1 KiB) is what any writer uses
    assert not decode_plane(bytes([Codec.LOSSLESS, 0]) + zstd_frame_with_window(10, 256),
                            16, 16).any()


def test_damaged_av1_payload_never_escapes_as_another_error(time_limit) -> None:
    """Damage the CRC cannot see (a bad writer): a LumacodecError or a plane of the right size."""
    y, x = np.mgrid[0:12, 0:20]
    plane = ((x * 11 + y * 5) % 256).astype(np.uint8)
    data = encode_plane(plane, 40)
    assert data[0] == Codec.AV1
    with time_limit(30):
        for pos in range(1, len(data)):
            for flip in (0x01, 0x80, 0xFF):
                damaged = bytearray(data)
                damaged[pos] ^= flip
                try:
                    decoded = decode_plane(bytes(damaged), 12, 20)
                except LumacodecError:
                    continue
                assert decoded.shape == (12, 20) and decoded.dtype == np.uint8
        for n in range(len(data)):
            try:
                decoded = decode_plane(data[:n], 12, 20)
            except LumacodecError:
                continue
            assert decoded.shape == (12, 20)
