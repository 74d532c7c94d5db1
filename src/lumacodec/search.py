"""Per-image choice of the coding settings: what ``encode`` does at effort 1 and 2.

The ladder (:data:`lumacodec.presets.QUALITIES`) gives every image of a quality the same
settings; the best settings differ from image to image (a flat sky wants a coarse base layer
and a dense hint, foliage the opposite).  The search keeps, for the quality asked for, the
settings that maximise the rate–distortion objective

    J = PSNR-RGB − λ_q · bpp

where λ_q (:data:`~lumacodec.presets.SEARCH_SLOPES`, dB per bit per pixel) is the slope at
which a per-image choice spends, over the calibration photos, the ladder's own mean rate
(``benchmarks/tune_search.py``).

How it stays cheap (one pass over a fixed pool of settings, no trial decodes of pairs):

* **One pool for every quality.** Every base-layer setting of
  :data:`~lumacodec.presets.SEARCH_BASE` and every hint of
  :data:`~lumacodec.presets.SEARCH_HINTS` is coded once, at the effort's AV1 speed; the
  chosen planes *are* those codings (no second encode), so every rate is exact.
* **Separable distortion.** The error of a candidate pair is estimated as that of its base
  layer with the true a/b plus that of its hint with the true L (errors of independent
  planes add in mean square), each measured on every other row and column of the image.
  That makes the joint choice an exhaustive one over all pairs at the cost of one
  measurement per plane, and the distortion is the classical reconstruction's (the decoder's
  networks are too slow to run per candidate; they add a roughly even +0.2–0.4 dB).
* **A ladder that means something.** Because the pool and the estimates are the same for
  every quality, the choices of qualities 1 … q come from one table: quality q takes the best
  pair by J_q among those whose stream is strictly larger than quality q − 1's choice, so on
  every image each quality gives a larger stream than the one below it (when no pair is
  larger, the top of the pool repeats: a plateau, which ``lumacodec info`` shows as equal
  settings).

The stream format does not change: the header carries the settings whatever chose them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .avif import PROBE_EFFORT
from .baselayer import (
    LOSSLESS_QUALITY,
    base_plane,
    decode_base,
    decode_plane,
    encode_base,
    encode_plane,
    upsample_base,
)
from .color import L_to_grey_u8, planes_to_rgb_u8, rgb_error_weights, u8_to_L
from .container import Header, SourceMode, Stream, pack
from .hints import decode_hint, encode_hint, pack_hint, upsample_hint
from .presets import SEARCH_BASE, SEARCH_HINTS, SEARCH_SLOPES, Preset

#: Distortion is measured on every STRIDE-th row and column (a quarter of the pixels): the
#: mean square error of a coded plane is a smooth average, and a quarter of a photo's pixels
#: estimate it within a few hundredths of a dB.
STRIDE = 2
#: At most about this many pixels are measured (the stride grows with the image).
MAX_MEASURED = 1 << 20
#: Each quality's choice is at least this much larger, in trial-coded bytes, than the choice
#: of the quality below: the margin that keeps the final streams (coded at another AV1 speed
#: than the trials) in the same order.
MIN_STEP = 1.05
#: Base layers tried, one at a time, when the pool has no stream large enough for a quality.
BEYOND_POOL = ((1, 90), (1, LOSSLESS_QUALITY))
#: Threads of the trial codings, and the image size (pixels) above which they run on one, so
#: that a big photo holds one full-size trial plane at a time.
THREADS = 2
ONE_THREAD_ABOVE = 8_000_000


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


def _stride(pixels: int) -> int:
    """Every :data:`STRIDE`-th row and column, more for large images (about a million pixels
    measured at most: the estimate needs no more, and a 100-MP photo's memory stays bounded)."""
    return max(STRIDE, math.ceil(math.sqrt(pixels / MAX_MEASURED)))


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
    k = _stride(height * width)
    sub = np.s_[::k, ::k]
    L_sub = L[sub]
    ab_sub = None if ab is None else ab[:, ::k, ::k]
    reference = pixels[sub].astype(np.float32)
    exact = planes_to_rgb_u8(L_sub, ab_sub) if mode.is_colour else L_to_grey_u8(L_sub)
    floor = float(np.mean(np.square(reference - exact), dtype=np.float64))
    w = rgb_error_weights(L_sub, ab_sub if mode.is_colour else None)

    def base(setting: tuple[int, int]) -> tuple[tuple[int, int], bytes, float]:
        s, q = setting
        data = encode_plane(base_planes[s], q, PROBE_EFFORT)
        if s == 1:  # only the measured pixels become L
            L_rec = u8_to_L(decode_plane(data, height, width)[sub])
        else:
            L_rec = upsample_base(decode_base(data, height, width, s), s, size)[sub]
        e = L_rec - L_sub
        return setting, data, float(np.mean(w[0] * e * e, dtype=np.float64))

    def hint(setting: tuple[int, int]) -> tuple[tuple[int, int], bytes | None, float]:
        f, q = setting
        data = encode_plane(hint_planes[f], q, PROBE_EFFORT)
        ab_rec = upsample_hint(decode_hint(data, height, width, f), f, size)
        ea, eb = ab_rec[:, ::k, ::k] - ab_sub
        err = w[1] * ea * ea + 2 * w[2] * ea * eb + w[3] * eb * eb
        return setting, data, float(np.mean(err, dtype=np.float64))

    # Each plane is reduced once; the trial codings run on two threads (the AV1 encoder and
    # the resampling release the GIL).
    base_planes = {s: base_plane(L, s) for s in SEARCH_BASE}
    hint_planes = {} if ab is None else {f: pack_hint(ab, f) for f, _ in SEARCH_HINTS}
    with ThreadPoolExecutor(THREADS if height * width <= ONE_THREAD_ABOVE else 1) as pool:
        hint_jobs = [pool.submit(hint, h) for h in (SEARCH_HINTS if ab is not None else ())]
        bases = list(pool.map(base, [(s, q) for s, qs in SEARCH_BASE.items() for q in qs]))
        hints = [job.result() for job in hint_jobs] or [((0, 0), None, 0.0)]

    def choose() -> tuple[int, int] | None:
        """The pair of ``quality`` (row, column), or None when the pool ran out below it."""
        nbytes[:] = [[len(pack(Stream(make_header(Preset(*b[0], *h[0]), h[1] is not None),
                                      b[1], h[1]))) for h in hints] for b in bases]
        mse = np.maximum(floor + np.array([b[2] for b in bases])[:, None]
                         + np.array([h[2] for h in hints])[None, :], 1e-6)
        db[:] = 10 * np.log10(255.0**2 / mse)
        bpp = nbytes * 8 / (height * width)
        previous = 0.0
        for rung in range(1, quality + 1):
            larger = nbytes >= previous * MIN_STEP if rung > 1 else nbytes > 0
            if not larger.any():
                return None
            j = np.where(larger, db - SEARCH_SLOPES[rung - 1] * bpp, -np.inf)
            pick = divmod(int(np.argmax(j)), len(hints))
            previous = float(nbytes[pick])
        objective_of[0] = float(j[pick])
        return pick

    # Every pair's exact stream size and estimated PSNR, then the choices of qualities 1…q;
    # a small, smooth image can exhaust the pool below the top quality: finer base layers
    # then join it, up to lossless (and if even that is not larger, the top repeats).
    objective_of = [0.0]
    for extra in (None, *BEYOND_POOL):
        if extra is not None:
            bases.append(base(extra))
        nbytes = np.zeros((len(bases), len(hints)), np.int64)
        db = np.zeros((len(bases), len(hints)))
        found = choose()
        if found is not None:
            break
    bi, hi = found if found is not None else np.unravel_index(int(np.argmax(nbytes)),
                                                               nbytes.shape)
    (s, q), _, _ = bases[bi]
    (f, hq), _, _ = hints[hi]
    # The trial codings chose; the stream's planes are coded at the effort asked for.
    base_data = encode_base(L, s, q, effort)
    hint_data = encode_hint(ab, f, hq, effort) if ab is not None else None
    return Choice(Preset(s, q, f, hq), base_data, hint_data, objective_of[0])
