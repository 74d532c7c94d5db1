"""Encoder: pixels to a ``.lmc`` stream.

::

    RGB ─→ Lab ─┬─ L ──→ area ↓scale ──→ 8-bit ──→ AV1 (or lossless) ──→ base section
                └─ a,b → area ↓f ─→ [a|b] 8-bit ─→ AV1 ───────────────→ hint section (optional)
    header (size, mode, scale, qualities, network id) + sections + CRCs ──→ bytes

Grey sources carry L only; ``hints=False`` makes a colour source a pure-luma stream, which
the decoder colourises from L alone.
"""

from __future__ import annotations

import numpy as np

from . import weights
from .baselayer import encode_plane
from .color import L_to_u8, grey_u8_to_L, rgb_to_lab
from .container import Header, Stream, pack
from .errors import LumacodecError
from .hints import encode_hint
from .images import ImageLike, to_pixels
from .presets import QUALITIES, Preset
from .resample import downsample


def resolve_preset(quality: int | Preset) -> Preset:
    """The preset of a quality level 1–10 (or a custom :class:`Preset`, passed through)."""
    if isinstance(quality, Preset):
        return quality
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)):
        raise LumacodecError(f"quality must be an integer 1–{len(QUALITIES)}, got {quality!r}")
    if not 1 <= quality <= len(QUALITIES):
        raise LumacodecError(f"quality must be between 1 and {len(QUALITIES)}, got {quality}")
    return QUALITIES[int(quality) - 1]


def encode(
    image: ImageLike, quality: int | Preset = 5, *, hints: bool = True, effort: int = 1
) -> bytes:
    """Encode an image into a lumacodec stream.

    Parameters
    ----------
    image
        A PIL image (any mode; alpha is dropped) or a uint8 numpy array HxW, HxWx3 or HxWx4.
    quality
        1 (smallest) to 10 (best); see :data:`lumacodec.QUALITIES`.
    hints
        Send the chroma hint of the preset.  ``False`` sends luminance only, and the decoder
        colourises from L alone.
    effort
        Encoder effort 0 (fast) – 2 (slow, ~5% smaller): AV1's speed setting.  Decoding is
        the same for every effort.
    """
    preset = resolve_preset(quality)
    if effort not in (0, 1, 2):
        raise LumacodecError(f"effort must be 0, 1 or 2, got {effort!r}")
    pixels, mode = to_pixels(image)
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        raise LumacodecError("cannot encode an empty image")

    if mode.is_colour:
        lab = rgb_to_lab(pixels)
        L, ab = lab[..., 0], np.moveaxis(lab[..., 1:], -1, 0)
    else:
        L, ab = grey_u8_to_L(pixels), None

    base = encode_plane(L_to_u8(downsample(L, preset.scale)), preset.base_quality, effort)
    hint = None
    if ab is not None and hints and preset.hint_factor:
        hint = encode_hint(ab, preset.hint_factor, preset.hint_quality, effort)

    header = Header(
        width=width,
        height=height,
        source_mode=mode,
        scale_log2=preset.scale.bit_length() - 1,
        hint_log2=preset.hint_factor.bit_length() - 1 if hint is not None else 0,
        base_quality=preset.base_quality,
        hint_quality=preset.hint_quality if hint is not None else 0,
        network_id=weights.bundled_id(),
    )
    return pack(Stream(header, base, hint))
