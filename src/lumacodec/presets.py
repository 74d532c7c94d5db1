"""The quality ladder: what each ``quality`` 1–10 means in scale, base-layer and hint settings.

Chosen from measured rate–distortion (benchmarks/results/presets.md): at each rate, the
setting of the classical reconstruction that gives the best PSNR-RGB, on a validation set the
networks never saw.  Rate grows with quality, and so does every knob that spends bits.
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
    Preset(scale=4, base_quality=20, hint_factor=32, hint_quality=50),
    Preset(scale=2, base_quality=10, hint_factor=32, hint_quality=50),
    Preset(scale=2, base_quality=25, hint_factor=16, hint_quality=50),
    Preset(scale=2, base_quality=40, hint_factor=16, hint_quality=60),
    Preset(scale=1, base_quality=20, hint_factor=16, hint_quality=60),
    Preset(scale=1, base_quality=30, hint_factor=8, hint_quality=60),
    Preset(scale=1, base_quality=40, hint_factor=8, hint_quality=70),
    Preset(scale=1, base_quality=55, hint_factor=8, hint_quality=80),
    Preset(scale=1, base_quality=70, hint_factor=4, hint_quality=80),
    Preset(scale=1, base_quality=85, hint_factor=4, hint_quality=90),
)

DEFAULT_QUALITY = 5

__all__ = ["DEFAULT_QUALITY", "LOSSLESS_QUALITY", "Preset", "QUALITIES"]
