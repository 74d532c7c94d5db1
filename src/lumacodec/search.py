"""Per-image choice of the coding settings: ``encode(..., search=True)``.

The ladder (:data:`lumacodec.presets.QUALITIES`) gives every image of a quality the same
settings; the best settings differ from image to image (a flat sky wants a coarse base layer
and a dense hint, foliage the opposite).  The search keeps, for the quality asked for, the
settings that maximise the rate–distortion objective

    J = PSNR-RGB − λ_q · bpp

where λ_q (:data:`~lumacodec.presets.SEARCH_SLOPES`, dB per bit per pixel) is the slope at
which a per-image choice spends, over the calibration photos, the ladder's own mean rate
(``benchmarks/tune_search.py``).  Candidates are that quality's
:data:`~lumacodec.presets.SEARCH_BASE_CANDIDATES` and
:data:`~lumacodec.presets.SEARCH_HINT_CANDIDATES`; the distortion is that of the classical
reconstruction (the decoder's networks are too slow to run per candidate, and they add a
roughly even +0.2–0.4 dB).  The base layer and the hint are chosen in turn (coordinate
ascent starting at the ladder's own settings, each plane coded once per candidate), so the
result is never worse than the ladder by J.  The stream format does not change: the header
carries the settings whatever chose them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .baselayer import decode_base, encode_base, upsample_base
from .bench.metrics import psnr
from .color import L_to_grey_u8, planes_to_rgb_u8
from .container import Header, SourceMode, Stream, pack
from .hints import decode_hint, encode_hint, upsample_hint
from .presets import (
    QUALITIES,
    SEARCH_BASE_CANDIDATES,
    SEARCH_HINT_CANDIDATES,
    SEARCH_SLOPES,
    Preset,
)


@dataclass(frozen=True)
class Choice:
    """The settings the search kept, their coded planes and their objective."""

    preset: Preset
    base: bytes
    hint: bytes | None
    objective: float  # J = PSNR-RGB (PSNR of grey for a greyscale source) − λ·bpp


def objective(psnr_db: float, stream_bytes: int, pixels: int, quality: int) -> float:
    """J of a stream: PSNR (dB) minus λ of ``quality`` times its bits per pixel."""
    return psnr_db - SEARCH_SLOPES[quality - 1] * stream_bytes * 8 / pixels


def search(
    pixels: np.ndarray,
    mode: SourceMode,
    L: np.ndarray,
    ab: np.ndarray | None,
    quality: int,
    effort: int,
    make_header: Callable[[Preset, bool], Header],
) -> Choice:
    """Choose the settings of ``quality`` for this image (``ab`` None: no hint is sent).

    ``pixels`` is the source (H, W, 3) or (H, W) as 8 bits; ``L``/``ab`` its Lab planes;
    ``make_header(preset, has_hint)`` builds the stream header of a candidate, so rates are
    exact stream sizes.
    """
    height, width = L.shape
    size = (height, width)
    start = QUALITIES[quality - 1]
    bases: dict[tuple[int, int], tuple[bytes, np.ndarray]] = {}
    hints: dict[tuple[int, int], tuple[bytes, np.ndarray]] = {}

    def base(setting: tuple[int, int]) -> tuple[bytes, np.ndarray]:
        if setting not in bases:
            s, q = setting
            data = encode_base(L, s, q, effort)
            bases[setting] = (data, upsample_base(decode_base(data, height, width, s), s, size))
        return bases[setting]

    def hint(setting: tuple[int, int]) -> tuple[bytes, np.ndarray]:
        if setting not in hints:
            assert ab is not None
            f, q = setting
            data = encode_hint(ab, f, q, effort)
            hints[setting] = (data, upsample_hint(decode_hint(data, height, width, f), f, size))
        return hints[setting]

    def score(b: tuple[int, int], h: tuple[int, int]) -> Choice:
        preset = Preset(b[0], b[1], h[0], h[1])
        base_data, L_rec = base(b)
        hint_data, ab_rec = hint(h) if ab is not None else (None, None)
        if mode.is_colour:  # as the classical decoder: grey a = b = 0 without a hint
            rec = planes_to_rgb_u8(L_rec, ab_rec)
        else:
            rec = L_to_grey_u8(L_rec)
        nbytes = len(pack(Stream(make_header(preset, hint_data is not None), base_data,
                                 hint_data)))
        return Choice(preset, base_data, hint_data,
                      objective(psnr(pixels, rec, 255.0), nbytes, height * width, quality))

    b, h = (start.scale, start.base_quality), (start.hint_factor, start.hint_quality)
    best = score(b, h)
    base_candidates = SEARCH_BASE_CANDIDATES[quality - 1]
    hint_candidates = SEARCH_HINT_CANDIDATES[quality - 1] if ab is not None else ()
    for _ in range(2):  # base, hint, base again: enough for planes this loosely coupled
        for candidate in base_candidates:
            choice = score(candidate, h)
            if choice.objective > best.objective:
                best, b = choice, candidate
        improved = False
        for candidate in hint_candidates:
            choice = score(b, candidate)
            if choice.objective > best.objective:
                best, h, improved = choice, candidate, True
        if not improved:
            break
    return best
