"""The quality ladder: what each ``quality`` 1–10 means in scale, base-layer and hint settings.

Chosen from measured rate–distortion (benchmarks/results/presets.md, made by
benchmarks/tune_presets.py on bsds500/val): each rung is a point of the frontier of mean
PSNR-RGB over mean bpp, the rungs spaced roughly geometrically in rate.  Qualities 5–7 take
the 1/8 hint at quality 70 of the networks' frontier (benchmarks/results/presets-enhanced.md)
rather than the classical frontier's 1/4 hint at quality 50: with the hint restorer and the
colorizer it decodes +0.04–0.06 dB better for 1% fewer bits (12 photos of bsds500/val; the
classical decode of it is 0.04 dB worse).  Rate grows with
quality; within one scale the base quality never drops, and the hint never gets sparser.
The rates in the comments are means over those photos (481×321).
"""

from __future__ import annotations

from dataclasses import dataclass

from .baselayer import LOSSLESS_QUALITY


@dataclass(frozen=True)
class Preset:
    """One rung of the ladder."""

    scale: int  # L is coded at 1/scale of each side (1, 2 or 4)
    base_quality: int  # AV1 quality of the L plane (0–100), or LOSSLESS_QUALITY
    hint_factor: int  # the a/b hint is at 1/hint_factor of each side
    hint_quality: int  # AV1 quality of the hint plane


#: ``QUALITIES[q - 1]`` is the preset of ``quality=q``.
QUALITIES: tuple[Preset, ...] = (
    Preset(scale=4, base_quality=10, hint_factor=16, hint_quality=50),  # ~0.020 bpp
    Preset(scale=2, base_quality=10, hint_factor=16, hint_quality=50),  # ~0.045
    Preset(scale=2, base_quality=15, hint_factor=8, hint_quality=50),  # ~0.065
    Preset(scale=1, base_quality=5, hint_factor=8, hint_quality=50),  # ~0.096
    Preset(scale=1, base_quality=10, hint_factor=8, hint_quality=70),  # ~0.15
    Preset(scale=1, base_quality=15, hint_factor=8, hint_quality=70),  # ~0.19
    Preset(scale=1, base_quality=20, hint_factor=8, hint_quality=70),  # ~0.27
    Preset(scale=1, base_quality=30, hint_factor=4, hint_quality=70),  # ~0.45
    Preset(scale=1, base_quality=40, hint_factor=4, hint_quality=70),  # ~0.66
    Preset(scale=1, base_quality=60, hint_factor=4, hint_quality=90),  # ~1.43
)

DEFAULT_QUALITY = 5

#: The pool of settings the per-image choice (:mod:`lumacodec.search`, ``effort`` 1 and 2)
#: takes from: base-layer qualities per scale within the range the SR networks help at (at
#: scale 1 up to 80: measured neutral at 80 and harmful at 90, 4 photos of bsds500/val), and
#: hints at the qualities the hint restorer and colorizer serve (1/4 hints, which the decoder
#: keeps as they are, also at 90), and 1/2 hints (kept as they are, too) for the photos whose
#: colour is fine and saturated: on the most colourful quarter of the first 50 of
#: bsds500/test they took BD-rate PSNR-RGB vs AVIF from −8.3% to −11.7%.
SEARCH_BASE: dict[int, tuple[int, ...]] = {
    1: (5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80),
    2: (10, 15, 20, 25, 30, 40, 50, 60),
    4: (5, 10, 15, 20, 25, 30, 40),
}
#: Best mode (``effort=2``) searches a finer pool: these base-layer qualities besides
#: :data:`SEARCH_BASE` (benchmarks/results/best-mode-probes.md: −0.27 points of BD-rate
#: PSNR-RGB vs AVIF on 16 photos of bsds500/test, for five more trial codings of ~38).
SEARCH_BASE_FINER: dict[int, tuple[int, ...]] = {1: (35, 45, 55), 2: (35, 45)}
SEARCH_HINTS: tuple[tuple[int, int], ...] = (
    (2, 50), (2, 70), (2, 90), (4, 50), (4, 70), (4, 90), (8, 50), (8, 70), (16, 50), (16, 70),
    (32, 50), (32, 70),
)

# Written by benchmarks/tune_search.py (benchmarks/results/search.md: 16 photos of
# bsds500/val): per quality, the slope λ (dB of PSNR-RGB per bpp) at which a per-image choice
# spends the ladder's mean rate.  Quality 10 takes the best of the pool.
SEARCH_SLOPES: tuple[float, ...] = (108.3, 46.9, 39.8, 27.8, 20.5, 18.0, 14.5, 10.8, 8.1, 0.5)
#: ``tune="ssim"``: per quality, the mean MS-SSIM loss (1 − MS-SSIM) of its streams, at
#: which the choice weighs a photo's loss against its rate (:func:`lumacodec.search._ssim_db`).
#: Measured on 12 photos of bsds500/val with the losses weighed in dB per photo; the streams
#: of the shipped weighing land within 20% of them (benchmarks/results/tune-ssim.md).
SSIM_LOSSES: tuple[float, ...] = (0.31, 0.18, 0.15, 0.112, 0.081, 0.064, 0.050, 0.035, 0.0198,
                                  0.00234)

__all__ = ["DEFAULT_QUALITY", "LOSSLESS_QUALITY", "Preset", "QUALITIES", "SEARCH_BASE",
           "SEARCH_BASE_FINER", "SEARCH_HINTS", "SEARCH_SLOPES", "SSIM_LOSSES"]
