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
from .baselayer import encode_base
from .color import grey_u8_to_L, rgb_to_lab_planes
from .container import Header, Stream, pack
from .errors import LumacodecError
from .hints import encode_hint
from .images import ImageLike, to_pixels
from .presets import QUALITIES, Preset
from .ratecontrol import budget_bytes, encode_to_size
from .search import TUNES, plane_threads
from .search import search as search_settings
from .threads import pool as thread_pool


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
    image: ImageLike,
    quality: int | Preset = 5,
    *,
    hints: bool = True,
    effort: int = 1,
    search: bool | None = None,
    tune: str = "psnr",
    target_bpp: float | None = None,
    target_size: int | None = None,
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
        0: the ladder's settings for every image, coded once (the fastest).  1 (default):
        the settings of ``quality`` chosen for this image by rate–distortion
        (:mod:`lumacodec.search`: trial codings at AV1's fastest speed, then the chosen
        planes at speed 6, 5 for planes of up to 2¹⁷ pixels: :func:`lumacodec.avif.speed`).
        2: the same choice over a finer pool of base qualities, ranked at speed 6, the planes
        coded at AV1 speed 2 (~9% fewer bits, several times slower).  Decoding is the same
        for every effort.
    search
        Override the effort's choice of settings: ``True`` chooses per image even at effort
        0, ``False`` takes the ladder's settings at any effort.  A :class:`Preset` quality is
        always used as it is.
    tune
        What the encode optimises: ``"psnr"`` (PSNR-RGB) or ``"ssim"`` (MS-SSIM).  It tunes
        the AV1 encoder of the planes (:data:`lumacodec.avif.AOM_OPTIONS`: ``tune=iq`` for
        ``"ssim"``) and the per-image choice's objective (for ``"ssim"`` each trial is
        measured in sRGB, so the encode is several times slower).
    target_bpp, target_size
        Rate control (:mod:`lumacodec.ratecontrol`): instead of ``quality``, the best
        settings whose stream is at most this many bits per pixel, or bytes.  Never over the
        target; a :class:`LumacodecError` says how small a stream can be when none fits.
    """
    preset = resolve_preset(quality)
    if effort not in (0, 1, 2):
        raise LumacodecError(f"effort must be 0, 1 or 2, got {effort!r}")
    if tune not in TUNES:
        raise LumacodecError(f"tune must be one of {', '.join(TUNES)}, got {tune!r}")
    if search and isinstance(quality, Preset):
        raise LumacodecError("search chooses the settings of a quality 1–10, not of a Preset")
    targeted = target_bpp is not None or target_size is not None
    if targeted and search:
        raise LumacodecError("a target size and search cannot be combined (yet)")
    if search is None:
        search = effort >= 1 and not isinstance(quality, Preset) and not targeted
    pixels, mode = to_pixels(image)
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        raise LumacodecError("cannot encode an empty image")

    if mode.is_colour:
        L, ab = rgb_to_lab_planes(pixels)
    else:
        L, ab = grey_u8_to_L(pixels), None
    if not hints:
        ab = None
    network_id = weights.bundled_id()  # read once: the search builds hundreds of headers

    def header(preset: Preset, has_hint: bool) -> Header:
        return Header(
            width=width,
            height=height,
            source_mode=mode,
            scale_log2=preset.scale.bit_length() - 1,
            hint_log2=preset.hint_factor.bit_length() - 1 if has_hint else 0,
            base_quality=preset.base_quality,
            hint_quality=preset.hint_quality if has_hint else 0,
            network_id=network_id,
        )

    if targeted:
        budget = budget_bytes(height * width, target_bpp, target_size)
        return encode_to_size(
            L, ab, budget, effort,
            lambda p, base, hint: pack(Stream(header(p, hint is not None), base, hint)),
            tune=tune,
        )
    base = hint = None
    if search:
        choice = search_settings(pixels, mode, L, ab, int(quality), effort, header, tune)
        preset, base, hint = choice.preset, choice.base, choice.hint
    del pixels
    if base is None:  # the planes at the effort's own speed
        with thread_pool(1) as pool:
            hint_job = None
            if ab is not None and preset.hint_factor:
                args = (ab, preset.hint_factor, preset.hint_quality, effort, tune)
                if plane_threads(L.size) == 1:  # a big photo, or a one-thread job
                    hint = encode_hint(*args)
                else:  # beside the L plane's coding (the AV1 encoder releases the GIL)
                    hint_job = pool.submit(encode_hint, *args)
                del args
            del ab  # a big photo's a/b (8 bytes a pixel) is let go before the L plane's coding
            base = encode_base(L, preset.scale, preset.base_quality, effort, tune)
            if hint_job is not None:
                hint = hint_job.result()
    return pack(Stream(header(preset, hint is not None), base, hint))
