"""File-level API and stream inspection, on top of :func:`encode` and :func:`decode`."""

from __future__ import annotations

from typing import Any

from .baselayer import LOSSLESS_QUALITY, Codec
from .container import VERSION, parse
from .decoder import decode
from .encoder import encode
from .files import PathLike, atomic_write, read_bytes, read_image, save_image
from .presets import Preset


def encode_file(
    src: PathLike,
    dst: PathLike,
    quality: int | Preset = 5,
    *,
    hints: bool = True,
    effort: int = 1,
    search: bool | None = None,
    tune: str = "psnr",
    target_bpp: float | None = None,
    target_size: int | None = None,
) -> int:
    """Encode the image file ``src`` into the stream file ``dst``; returns the stream's size.
    The options are :func:`lumacodec.encode`'s."""
    data = encode(read_image(src), quality, hints=hints, effort=effort, search=search,
                  tune=tune, target_bpp=target_bpp, target_size=target_size)
    atomic_write(dst, data)
    return len(data)


def decode_file(
    src: PathLike, dst: PathLike, *, enhance: bool = True, device: str | None = None,
    colour: str = "faithful", max_pixels: int | None = None,
) -> None:
    """Decode the stream file ``src`` into an image file ``dst`` (format from its extension).
    The options are :func:`lumacodec.decode`'s."""
    image = decode(read_bytes(src), enhance=enhance, device=device, colour=colour,
                   max_pixels=max_pixels)
    save_image(image, dst)


def _codec_name(codec_id: int) -> str:
    return Codec(codec_id).name if codec_id in Codec._value2member_map_ else f"unknown ({codec_id})"


def info(data: bytes) -> dict[str, Any]:
    """Describe a stream without decoding pixels (its checksums are verified).

    Keys: ``version``, ``width``, ``height``, ``mode`` (what decode returns), ``source_mode``,
    ``alpha_dropped``, ``scale``, ``base_codec``, ``base_quality``, ``hint_factor``,
    ``hint_quality``, ``network_id``, ``bytes``, ``bpp``, ``base_bytes``, ``hint_bytes``.
    """
    stream = parse(bytes(data))
    h = stream.header
    return {
        "version": VERSION,
        "width": h.width,
        "height": h.height,
        "mode": "RGB" if h.source_mode.is_colour else "L",
        "source_mode": h.source_mode.name,
        "alpha_dropped": h.source_mode.alpha_dropped,
        "scale": h.scale,
        "base_codec": _codec_name(stream.base[0]),
        "base_quality": "lossless" if h.base_quality == LOSSLESS_QUALITY else h.base_quality,
        "hint_factor": h.hint_factor,
        "hint_quality": h.hint_quality,
        "network_id": h.network_id.hex(),
        "bytes": len(data),
        "bpp": len(data) * 8 / (h.width * h.height),
        "base_bytes": len(stream.base),
        "hint_bytes": len(stream.hint) if stream.hint is not None else 0,
    }
