"""Bjøntegaard deltas between two rate–distortion curves, through the ``bjontegaard`` package.

This module does no BD arithmetic of its own. It prepares the curves the way the package needs
them and says when a delta cannot be trusted:

* The package interpolates rate as a function of distortion (Akima by default), which needs
  distortion strictly increasing with rate. Measured curves sometimes dip (two JPEG qualities
  within noise of each other, a codec's top preset saturating), so each curve is first reduced
  to its Pareto frontier: sorted by rate, a point is kept only if it beats every cheaper one.
* Only the range where both curves exist is integrated (the package's own rule). When the
  ranges do not overlap at all, or a curve has fewer than two points, the result is ``None``
  (reported as "n/a"). :attr:`BDResult.overlap` says how much of the joint range is shared,
  so a table can flag deltas that rest on a small overlap.

Sign convention: BD-rate < 0 means the test codec needs fewer bits than the anchor for the same
quality; BD-PSNR > 0 means it reaches a higher quality at the same rate.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Interpolation of the ``bjontegaard`` package: "akima" (its authors found it the most accurate
#: and stable, arXiv:2202.12565), "pchip" (the JCT-VC/JVET Excel sheets), or "cubic" (the
#: original VCEG-M33 polynomial fit).
DEFAULT_METHOD = "akima"

#: Below this shared fraction of the joint range a delta is flagged (the package's threshold).
LOW_OVERLAP = 0.75


@dataclass(frozen=True)
class BDResult:
    """A Bjøntegaard delta, or ``value=None`` when the curves share no range."""

    value: float | None
    #: Length of the shared range over the length of the joint range, 0..1.
    overlap: float

    def format(self, unit: str, digits: int = 2) -> str:
        """``"-12.34%"``-style text, ``"n/a"`` without a value, ``*`` on a small overlap."""
        if self.value is None:
            return "n/a"
        flag = "*" if self.overlap < LOW_OVERLAP else ""
        return f"{self.value:+.{digits}f}{unit}{flag}"


def pareto_frontier(
    rates: Sequence[float], dists: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """The points of a curve that no cheaper point matches or beats, sorted by rate.

    NaN points are dropped. The result has strictly increasing rate and distortion (quality).
    """
    r = np.asarray(rates, np.float64)
    d = np.asarray(dists, np.float64)
    ok = np.isfinite(r) & np.isfinite(d) & (r > 0)
    r, d = r[ok], d[ok]
    order = np.lexsort((-d, r))  # by rate, best quality first among equal rates
    keep_r: list[float] = []
    keep_d: list[float] = []
    for rate, dist in zip(r[order], d[order], strict=True):
        if not keep_d or (dist > keep_d[-1] and rate > keep_r[-1]):
            keep_r.append(float(rate))
            keep_d.append(float(dist))
    return np.array(keep_r), np.array(keep_d)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Shared length of the ranges of ``a`` and ``b`` over the length of their union."""
    joint = max(a.max(), b.max()) - min(a.min(), b.min())
    shared = min(a.max(), b.max()) - max(a.min(), b.min())
    return float(max(shared, 0.0) / joint) if joint > 0 else 0.0


def _delta(
    name: str,
    axis: str,
    anchor: tuple[Sequence[float], Sequence[float]],
    test: tuple[Sequence[float], Sequence[float]],
    method: str,
) -> BDResult:
    ra, da = pareto_frontier(*anchor)
    rt, dt = pareto_frontier(*test)
    if len(ra) < 2 or len(rt) < 2:
        return BDResult(None, 0.0)
    overlap = _overlap(da, dt) if axis == "dist" else _overlap(np.log10(ra), np.log10(rt))
    if overlap <= 0.0:
        return BDResult(None, 0.0)
    import bjontegaard  # lazily: it imports matplotlib.pyplot

    fn = getattr(bjontegaard, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overlap is reported through BDResult instead
        value = fn(ra, da, rt, dt, method=method, require_matching_points=False, min_overlap=0)
    value = float(value)
    return BDResult(value if np.isfinite(value) else None, overlap)


def bd_rate(
    anchor_rate: Sequence[float],
    anchor_dist: Sequence[float],
    test_rate: Sequence[float],
    test_dist: Sequence[float],
    method: str = DEFAULT_METHOD,
) -> BDResult:
    """BD-rate in percent of ``test`` against ``anchor`` (negative: test saves bits).

    ``*_dist`` is a quality where higher is better (PSNR in dB, MS-SSIM in dB); the shared
    range is taken along that axis.
    """
    return _delta("bd_rate", "dist", (anchor_rate, anchor_dist), (test_rate, test_dist), method)


def bd_psnr(
    anchor_rate: Sequence[float],
    anchor_dist: Sequence[float],
    test_rate: Sequence[float],
    test_dist: Sequence[float],
    method: str = DEFAULT_METHOD,
) -> BDResult:
    """BD-PSNR (or BD of any quality in dB) of ``test`` against ``anchor``, over shared log-rate."""
    return _delta("bd_psnr", "rate", (anchor_rate, anchor_dist), (test_rate, test_dist), method)
