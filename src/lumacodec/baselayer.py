"""Base-layer coders: how an 8-bit plane (L, or a packed a|b hint) becomes bytes and back.

Every coded plane starts with one byte, the codec id, so a section names its own coder:

* ``LOSSLESS`` (0): a causal predictor (left, up or planar, one byte says which) + zstandard;
  exact, for archival and for the top of the quality ladder.
* ``AV1`` (1): an AV1 intra frame (libavif through Pillow) stored without its AVIF boxes, which
  :mod:`lumacodec.avif` rebuilds on decode; about 40% fewer bits than greyscale JPEG.
* ``AVIF`` (2): a whole AVIF file, the fallback when the boxes cannot be rebuilt exactly.

The size of every plane is known from the stream header before its bytes are read, so no
coder decides on its own how much memory to allocate.

:func:`encode_base`, :func:`decode_base` and :func:`upsample_base` are the L base layer on top
of them (as :mod:`lumacodec.hints` is the a|b hint), shared by the encoder, its settings search
and the decoder's classical path.
"""

from __future__ import annotations

import enum

import numpy as np
import zstandard

from . import avif
from .color import L_to_u8, u8_to_L
from .errors import LumacodecError
from .isobmff import check_avif_plane
from .resample import downsample, reduced_size, upsample

LOSSLESS_QUALITY = 255  # the "quality" a stream records for a losslessly coded plane


class Codec(enum.IntEnum):
    LOSSLESS = 0
    AV1 = 1
    AVIF = 2


class Predictor(enum.IntEnum):
    LEFT = 0
    UP = 1
    PLANAR = 2  # left + up - up-left


def _residual(plane: np.ndarray, predictor: Predictor) -> np.ndarray:
    """Prediction residual modulo 256; inverted exactly by :func:`_reconstruct`."""
    x = plane.astype(np.uint8)
    if predictor in (Predictor.LEFT, Predictor.PLANAR):
        x = np.diff(x, axis=1, prepend=np.uint8(0))
    if predictor in (Predictor.UP, Predictor.PLANAR):
        x = np.diff(x, axis=0, prepend=np.uint8(0))
    return x


def _reconstruct(residual: np.ndarray, predictor: Predictor) -> np.ndarray:
    x = residual
    if predictor in (Predictor.UP, Predictor.PLANAR):
        x = np.cumsum(x, axis=0, dtype=np.uint8)
    if predictor in (Predictor.LEFT, Predictor.PLANAR):
        x = np.cumsum(x, axis=1, dtype=np.uint8)
    return x


def _encode_lossless(plane: np.ndarray) -> bytes:
    cctx = zstandard.ZstdCompressor(level=19)
    best = None
    for predictor in Predictor:
        body = bytes([predictor]) + cctx.compress(_residual(plane, predictor).tobytes())
        if best is None or len(body) < len(best):
            best = body
    assert best is not None
    return best


def _check_zstd_frame(frame: bytes, size: int) -> None:
    """Refuse a frame that does not declare exactly ``size`` bytes of content, or whose window
    is larger than the plane needs, before zstandard allocates anything for it."""
    try:
        params = zstandard.get_frame_parameters(frame)
    except zstandard.ZstdError as exc:
        raise LumacodecError(f"corrupt lossless plane: {exc}") from None
    if params.content_size != size:
        declared = ("no size" if params.content_size == zstandard.CONTENTSIZE_UNKNOWN
                    else f"{params.content_size} bytes")
        raise LumacodecError(
            f"corrupt lossless plane: the frame declares {declared}, the plane has {size}"
        )
    if params.window_size > max(1 << 10, 1 << (size - 1).bit_length()):
        raise LumacodecError(
            f"corrupt lossless plane: a {params.window_size}-byte window for a {size}-byte plane"
        )


def _decode_lossless(body: bytes, height: int, width: int) -> np.ndarray:
    if len(body) < 1 or body[0] >= len(Predictor):
        raise LumacodecError("corrupt lossless plane: unknown predictor")
    _check_zstd_frame(body[1:], height * width)
    try:
        raw = zstandard.ZstdDecompressor().decompress(body[1:], max_output_size=height * width)
    except zstandard.ZstdError as exc:
        raise LumacodecError(f"corrupt lossless plane: {exc}") from None
    if len(raw) != height * width:
        raise LumacodecError("corrupt lossless plane: wrong number of pixels")
    residual = np.frombuffer(raw, np.uint8).reshape(height, width)
    return _reconstruct(residual, Predictor(body[0]))


def encode_plane(plane: np.ndarray, quality: int, effort: int = 1, tune: str = "psnr") -> bytes:
    """Code an HxW uint8 plane; ``quality`` 0–100 is AV1's (its encoder tuned for ``tune``:
    :data:`lumacodec.avif.AOM_OPTIONS`), :data:`LOSSLESS_QUALITY` is exact."""
    if quality == LOSSLESS_QUALITY:
        return bytes([Codec.LOSSLESS]) + _encode_lossless(plane)
    height, width = plane.shape
    file = avif.encode_grey(plane, quality, effort, tune)
    stripped = avif.strip(file, width, height)
    if stripped is None:
        return bytes([Codec.AVIF]) + file
    av1c, payload = stripped
    return bytes([Codec.AV1]) + av1c + payload


def decode_plane(data: bytes, height: int, width: int) -> np.ndarray:
    """Decode what :func:`encode_plane` wrote into an HxW uint8 plane of the promised size."""
    if not data:
        raise LumacodecError("corrupt stream: empty plane")
    codec, body = data[0], data[1:]
    if codec == Codec.LOSSLESS:
        return _decode_lossless(body, height, width)
    if codec == Codec.AV1:
        if len(body) < 4:
            raise LumacodecError("corrupt AV1 plane: too short")
        size = avif.frame_size(body[3:])
        if size != (width, height):
            found = f"{size[0]}x{size[1]}" if size else "no single size"
            raise LumacodecError(
                f"corrupt AV1 plane: its sequence header says {found}, the stream {width}x{height}"
            )
        return avif.decode_grey(avif.wrap(body[3:], width, height, body[:3]), height, width)
    if codec == Codec.AVIF:
        check_avif_plane(body, width, height)
        return avif.decode_grey(body, height, width)
    raise LumacodecError(f"unsupported plane codec id {codec} (this lumacodec knows 0, 1, 2)")


# The L base layer: what the encoder sends of L, and the decoder's classical reading of it.


def base_plane(L: np.ndarray, scale: int) -> np.ndarray:
    """The 8-bit plane the base layer codes for L (H, W): area-downsampled by ``scale``."""
    return L_to_u8(downsample(L, scale))


def encode_base(
    L: np.ndarray, scale: int, quality: int, effort: int = 1, tune: str = "psnr"
) -> bytes:
    """Code an L plane (H, W) as the base layer: area-downsampled by ``scale``, 8 bits."""
    return encode_plane(base_plane(L, scale), quality, effort, tune)


def decode_base(data: bytes, height: int, width: int, scale: int) -> np.ndarray:
    """Decode the base layer of an image of ``height`` x ``width`` to L at 1/``scale``."""
    return u8_to_L(decode_plane(data, *reduced_size(height, width, scale)))


def upsample_base(
    L_low: np.ndarray, scale: int, size: tuple[int, int], every: int = 1
) -> np.ndarray:
    """Classical reconstruction of full-resolution L (H, W): bicubic, clipped to [0, 100]
    (every ``every``-th row and column of it: :func:`lumacodec.resample.upsample`)."""
    return np.clip(upsample(L_low, scale, size, every), 0.0, 100.0)
