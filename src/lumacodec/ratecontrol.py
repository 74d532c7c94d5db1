"""Rate control: the best settings whose stream fits a size, ``encode(..., target_size=...)``.

The quality ladder (:data:`lumacodec.presets.QUALITIES`) has ten rungs, roughly 1.4× apart in
rate; a size target falls between two of them.  The search, on exact stream sizes (every
candidate is coded and packed; nothing is estimated, so the result is never over the target):

1. the highest rung whose stream fits (binary search over the rungs);
2. between it and the next rung, the base layer's AV1 quality refined one step at a time
   (binary search) at the lower rung's scale and hint, and, where the next rung has another
   scale, at that scale and hint too; the largest stream that fits wins, the higher rung on a
   tie — within a scale a larger stream is a finer base layer, and across the scales the ladder
   itself orders the settings by rate–distortion;
3. below the first rung: scale 4, base quality down to 0, then sparser and coarser hints, then
   no hint; above the top rung: base quality up to 100, then lossless;
4. if that stream is more than 5% under the target (one AV1 quality step of a small plane
   can be 10% of the stream), the base qualities of the other scales too, at its hint;
5. the bytes still left to a finer hint: its AV1 quality raised as far as the target allows
   (hint steps are a few bytes, so the result lands close under the target).

A target that even the smallest stream (scale 4, base quality 0, no hint) cannot meet is an
error that says how small a stream can be.  About fifteen plane codings: 0.2–0.8 s for a
768×512 photo.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .baselayer import LOSSLESS_QUALITY, encode_base
from .errors import LumacodecError
from .hints import encode_hint
from .presets import QUALITIES, Preset

#: A stream of these settings: ``pack(preset, base bytes, hint bytes or None)``.
Packer = Callable[[Preset, bytes, "bytes | None"], bytes]

#: A stream this close under its target is taken; further under, the base qualities of the
#: other scales are searched too (one AV1 quality step can be 10% of a stream).
CLOSE = 0.95
#: The scales the ladder codes L at.
SCALES = sorted({p.scale for p in QUALITIES})
#: Settings below the first rung, largest first: (hint factor, hint quality); 0 = no hint.
_SPARSE_HINTS = ((16, 30), (32, 50), (32, 20), (32, 0), (0, 0))


@dataclass
class _Coder:
    """Codes and packs candidate settings, each plane once."""

    L: np.ndarray
    ab: np.ndarray | None
    effort: int
    tune: str
    pack: Packer
    bases: dict[tuple[int, int], bytes] = field(default_factory=dict)
    hints: dict[tuple[int, int], bytes] = field(default_factory=dict)
    sizes: dict[Preset, int] = field(default_factory=dict)

    def stream(self, preset: Preset) -> bytes:
        base_key = (preset.scale, preset.base_quality)
        if base_key not in self.bases:
            self.bases[base_key] = encode_base(self.L, *base_key, self.effort, self.tune)
        hint = None
        if self.ab is not None and preset.hint_factor:
            hint_key = (preset.hint_factor, preset.hint_quality)
            if hint_key not in self.hints:
                self.hints[hint_key] = encode_hint(self.ab, *hint_key, self.effort, self.tune)
            hint = self.hints[hint_key]
        data = self.pack(preset, self.bases[base_key], hint)
        self.sizes[preset] = len(data)
        return data

    def size(self, preset: Preset) -> int:
        return self.sizes[preset] if preset in self.sizes else len(self.stream(preset))


def _largest_fitting(coder: _Coder, candidates: list[Preset], budget: int) -> Preset | None:
    """The last of ``candidates`` (ordered by rate) whose stream fits, by binary search."""
    lo, hi = 0, len(candidates)  # candidates[:lo] fit (as far as seen), candidates[hi:] do not
    while lo < hi:
        mid = (lo + hi) // 2
        if coder.size(candidates[mid]) <= budget:
            lo = mid + 1
        else:
            hi = mid
    return candidates[lo - 1] if lo else None


def _with_base(preset: Preset, qualities: range) -> list[Preset]:
    return [Preset(preset.scale, q, preset.hint_factor, preset.hint_quality) for q in qualities]


def _refinements(k: int) -> list[list[Preset]]:
    """Candidate lists (each ordered by rate) between rung ``k`` (0-based) and the next."""
    if k < 0:  # below the first rung
        first = QUALITIES[0]
        lists = [_with_base(first, range(0, first.base_quality))]
        lists += [[Preset(first.scale, 0, f, q)] for f, q in _SPARSE_HINTS]
        return lists
    low = QUALITIES[k]
    if k == len(QUALITIES) - 1:  # above the top rung
        return [_with_base(low, range(low.base_quality + 1, 101))
                + [Preset(low.scale, LOSSLESS_QUALITY, low.hint_factor, low.hint_quality)]]
    high = QUALITIES[k + 1]
    if high.scale == low.scale:
        return [_with_base(low, range(low.base_quality + 1, high.base_quality))]
    return [_with_base(low, range(low.base_quality + 1, 101)),
            _with_base(high, range(0, high.base_quality))]


def encode_to_size(
    L: np.ndarray, ab: np.ndarray | None, budget: int, effort: int, pack: Packer,
    tune: str = "psnr",
) -> bytes:
    """The stream of the best settings (see the module docstring) of at most ``budget`` bytes.

    ``L`` (H, W) and ``ab`` (2, H, W, or None: no hint) are the image's Lab planes; ``pack``
    makes a stream of a preset and its coded planes; ``tune`` tunes the AV1 encoder of the
    planes (:data:`lumacodec.avif.AOM_OPTIONS`)."""
    coder = _Coder(L, ab, effort, tune, pack)
    rung = _largest_fitting(coder, list(QUALITIES), budget)
    k = QUALITIES.index(rung) if rung is not None else -1
    fitting = [] if rung is None else [rung]
    for candidates in _refinements(k):
        best = _largest_fitting(coder, candidates, budget)
        if best is not None:
            fitting.append(best)
        if k < 0 and best is not None:
            break  # below the first rung the lists are in decreasing order of preference
    if not fitting:
        smallest = coder.size(Preset(QUALITIES[0].scale, 0, 0, 0))
        raise LumacodecError(
            f"no stream of this image fits in {budget} bytes: the smallest is {smallest} bytes "
            f"({smallest * 8 / L.size:.4f} bpp)"
        )
    # the largest stream wins; on a tie the later candidate (the higher rung) does
    best = max(reversed(fitting), key=coder.size)
    if coder.size(best) < CLOSE * budget:  # a gap between two base qualities: other scales
        others = [_largest_fitting(coder, _with_base(Preset(s, 0, best.hint_factor,
                                                            best.hint_quality), range(101)),
                                   budget) for s in SCALES if s != best.scale]
        best = max([best, *(o for o in others if o is not None)], key=coder.size)
    if ab is not None and best.hint_factor:  # the bytes left go to a finer hint
        finer = [Preset(best.scale, best.base_quality, best.hint_factor, q)
                 for q in range(best.hint_quality + 1, 101)]
        best = _largest_fitting(coder, finer, budget) or best
    return coder.stream(best)


def budget_bytes(pixels: int, target_bpp: float | None, target_size: int | None) -> int:
    """Bytes allowed by ``target_bpp`` (bits per pixel) or ``target_size`` (bytes)."""
    if (target_bpp is None) == (target_size is None):
        raise LumacodecError("give one of target_bpp and target_size")
    if target_size is not None:
        if isinstance(target_size, bool) or not isinstance(target_size, (int, np.integer)) \
                or target_size <= 0:
            raise LumacodecError(f"target_size must be a positive number of bytes, got "
                                 f"{target_size!r}")
        return int(target_size)
    assert target_bpp is not None
    if not (isinstance(target_bpp, (int, float)) and math.isfinite(target_bpp)
            and target_bpp > 0):
        raise LumacodecError(f"target_bpp must be a positive number, got {target_bpp!r}")
    return int(target_bpp * pixels / 8)


_UNITS = {"": 1, "b": 1, "kb": 1000, "k": 1000, "kib": 1024, "mb": 1000**2, "m": 1000**2,
          "mib": 1024**2}


def parse_size(text: str) -> int:
    """Bytes of a size such as ``20000``, ``20KB``, ``20kB``, ``19.5KiB`` or ``1.2MB``
    (KB/MB are decimal, KiB/MiB binary)."""
    number = text.strip().rstrip("bBiIkKmM")
    unit = text.strip()[len(number):].lower()
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if unit not in _UNITS or not math.isfinite(value) or value <= 0:
        raise LumacodecError(f"cannot read the size {text!r} (e.g. 20000, 20KB, 1.5MB)")
    return int(value * _UNITS[unit])
