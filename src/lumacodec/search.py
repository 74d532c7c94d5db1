"""Per-image choice of the coding settings: what ``encode`` does at effort 1 and 2.

The ladder (:data:`lumacodec.presets.QUALITIES`) gives every image of a quality the same
settings; the best settings differ from image to image (a flat sky wants a coarse base layer
and a dense hint, foliage the opposite).  The search keeps, for the quality asked for, the
settings that maximise the rate–distortion objective

    J = PSNR-RGB − λ_q · bpp

where λ_q (:data:`~lumacodec.presets.SEARCH_SLOPES`, dB per bit per pixel) is the slope at
which a per-image choice spends, over the calibration photos, the ladder's own mean rate
(``benchmarks/tune_search.py``).

How it stays cheap (one pass over a fixed pool of settings, no trial decode of a pair):

* **One pool for every quality.** Every base-layer setting of the effort's pool
  (:func:`base_pool`: :data:`~lumacodec.presets.SEARCH_BASE`, finer in best mode) and every
  hint of :data:`~lumacodec.presets.SEARCH_HINTS` is coded once, at AV1's fastest speed
  (:data:`lumacodec.avif.PROBE_EFFORT`: a tenth of the time of speed 6, which only has to
  rank the settings; best mode ranks them at speed 6: :data:`TRIAL_EFFORT`); the chosen
  planes are then coded at the effort's own speed (small images are trial-coded at that
  speed, and the trials are the stream).
* **Separable distortion.** The error of a pair is estimated as that of its base layer with
  the true a/b plus that of its hint with the true L (errors of independent planes add in mean
  square), each from the plane's Lab error weighted by how it shows in 8-bit sRGB
  (:func:`lumacodec.color.rgb_error_weights`), on every other row and column.  That makes
  the joint choice an exhaustive one over all pairs at the cost of one measurement per plane.
  The distortion is the classical reconstruction's (the decoder's networks are too slow to
  run per candidate; they add a roughly even +0.2–0.4 dB).
* **A ladder that means something.** Because the pool and the estimates are the same for
  every quality, the choices of qualities 1 … q come from one table: quality q takes the best
  pair by J_q among those whose trial stream is larger than quality q − 1's choice by a
  margin (:data:`MIN_STEP`, :data:`MIN_BYTES`), so that each quality gives a larger stream
  than the one below it: exactly for images of up to :data:`EXACT_BELOW` pixels (their trials
  are the stream), and on every photo measured for larger ones (the bench's report counts
  the exceptions; pure noise can break it, its trial and final sizes being unrelated).  An
  image that runs out of pool gets finer base layers, up to lossless L; past lossless L with
  the densest hint, the top repeats (a plateau: ``lumacodec info`` shows the same settings).

* **Big photos** (above :data:`MOSAIC_ABOVE` pixels): the choice is made on a mosaic of 16
  tiles of 256 pixels spread over the photo (on the coarsest hint's grid), then the whole
  photo is coded with it once, so the trials cost the same for 2 MP as for 100.

The stream format does not change: the header carries the settings whatever chose them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .avif import PROBE_EFFORT
from .baselayer import (
    LOSSLESS_QUALITY,
    base_plane,
    decode_base,
    decode_plane,
    encode_plane,
    upsample_base,
)
from .bench.metrics import MS_SSIM_MIN_SIDE, ms_ssim_rgb
from .color import L_to_grey_u8, planes_to_rgb_u8, rgb_error_weights, u8_to_L
from .container import Header, SourceMode, Stream, pack
from .errors import LumacodecError
from .hints import decode_hint, pack_hint, upsample_hint
from .presets import (
    SEARCH_BASE,
    SEARCH_BASE_FINER,
    SEARCH_HINTS,
    SEARCH_SLOPES,
    SSIM_LOSSES,
    Preset,
)
from .progress import report
from .threads import pool as thread_pool

#: What the encode optimises: PSNR-RGB, or MS-SSIM (as the bench means it: of the mean loss).
TUNES = ("psnr", "ssim")
#: ``tune="ssim"`` measures MS-SSIM on the centre of the image, at most this many pixels a side.
SSIM_WINDOW = 384
#: Distortion is measured on every STRIDE-th row and column (a quarter of the pixels): the
#: mean square error of a coded plane is a smooth average, and a quarter of a photo's pixels
#: estimate it within a few hundredths of a dB.
STRIDE = 2
#: At most about this many pixels are measured (the stride grows with the image).
MAX_MEASURED = 1 << 20
#: Each quality's choice is at least this much larger (factor and bytes), in trial-coded
#: bytes, than the choice of the quality below: the margin that keeps the final streams
#: (coded at another AV1 speed than the trials) in the same order.
MIN_STEP = 1.10
MIN_BYTES = 16
#: Images of at most this many pixels (thumbnails) are trial-coded at the effort's own speed,
#: and the chosen trials are the stream: sizes then rise with quality exactly (streams of a
#: few hundred bytes, where the trial and final sizes of two settings can cross).
EXACT_BELOW = 320 * 320
#: Base layers tried, one at a time, when the pool has no stream large enough for a quality.
BEYOND_POOL = ((1, 90), (1, LOSSLESS_QUALITY))
#: Above this many pixels the settings are chosen on a mosaic of MOSAIC_TILES² tiles of
#: MOSAIC_TILE pixels spread over the image (1 MP: the trials' cost stops growing with the
#: photo), then the whole image is coded with them.
MOSAIC_ABOVE = 2_000_000
MOSAIC_TILES = 4
MOSAIC_TILE = 256
#: The effort whose AV1 speed codes the trials of each effort (images above
#: :data:`EXACT_BELOW`).  Best mode ranks its settings at speed 6 rather than 9: its planes
#: are coded at speed 2, whose sizes and errors speed 6 ranks more like they fall
#: (benchmarks/results/best-mode-probes.md: −0.31 points of BD-rate PSNR-RGB vs AVIF on 16
#: photos of bsds500/test, for 0.5–1.5 s more per 481×321 photo).
TRIAL_EFFORT = {0: PROBE_EFFORT, 1: PROBE_EFFORT, 2: 1}
#: Threads of the trial codings (the AV1 encoder and the resampling release the GIL; fewer
#: where the process holds fewer, as torch's thread count says), and the image size (pixels)
#: above which they run on one, so that a big photo holds one full-size trial plane at a time.
THREADS = 2
ONE_THREAD_ABOVE = 8_000_000


def plane_threads(pixels: int) -> int:
    """How many of an image's planes are coded at once: :data:`THREADS`, fewer where the
    process holds fewer (torch's thread count), one above :data:`ONE_THREAD_ABOVE` pixels."""
    return 1 if pixels > ONE_THREAD_ABOVE else min(THREADS, torch.get_num_threads())


@dataclass(frozen=True)
class Choice:
    """The settings the search kept, their coded planes and their objective."""

    preset: Preset
    #: The coded planes when the trials were the stream (thumbnails); None when the trials
    #: only chose, and the planes are still to be coded at the effort's own speed
    #: (by :func:`lumacodec.encoder.encode`).
    base: bytes | None
    hint: bytes | None
    objective: float  # J = PSNR-RGB (PSNR of grey for a greyscale source) − λ·bpp


def base_pool(effort: int) -> dict[int, tuple[int, ...]]:
    """The base-layer qualities per scale that the search of ``effort`` tries:
    :data:`~lumacodec.presets.SEARCH_BASE`, with :data:`~lumacodec.presets.SEARCH_BASE_FINER`
    in best mode (``effort=2``)."""
    if effort < 2:
        return SEARCH_BASE
    return {s: tuple(sorted(qs + SEARCH_BASE_FINER.get(s, ()))) for s, qs in SEARCH_BASE.items()}


def _mosaic_grid(height: int, width: int) -> tuple[list[int], list[int]]:
    """Top rows and left columns of :data:`MOSAIC_TILES` × :data:`MOSAIC_TILES` tiles of
    :data:`MOSAIC_TILE` pixels spread evenly over an image, on the 32-pixel grid of the
    coarsest hint (so that every plane's blocks fall as they do in the whole image)."""
    def starts(extent: int) -> list[int]:
        span = max(0, extent - MOSAIC_TILE)
        return [span * i // (MOSAIC_TILES - 1) // 32 * 32 for i in range(MOSAIC_TILES)]
    return starts(height), starts(width)


def _mosaic(plane: np.ndarray, rows: list[int], cols: list[int]) -> np.ndarray:
    """The tiles at ``rows`` × ``cols`` of ``plane`` (H, W[, C]) side by side."""
    t = MOSAIC_TILE
    return np.ascontiguousarray(np.concatenate([
        np.concatenate([plane[y : y + t, x : x + t] for x in cols], axis=1) for y in rows]))


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
    tune: str = "psnr",
) -> Choice:
    """Choose the settings of ``quality`` for this image (``ab`` None: no hint is sent).

    ``pixels`` is the source (H, W, 3) or (H, W) as 8 bits; ``L``/``ab`` its Lab planes;
    ``make_header(preset, has_hint)`` builds the stream header of a candidate, so rates are
    exact stream sizes.  ``tune="ssim"`` codes the trials with AV1 tuned for it
    (:data:`lumacodec.avif.AOM_OPTIONS`), measures each plane's MS-SSIM loss instead of its
    squared error (:func:`_ssim_measure`; slower: every trial is converted to sRGB) and
    weighs the losses as the benchmark's mean does (:func:`_ssim_db`).
    """
    if tune not in TUNES:
        raise LumacodecError(f"tune must be one of {', '.join(TUNES)}, got {tune!r}")
    if L.size > max(MOSAIC_ABOVE, (MOSAIC_TILES * MOSAIC_TILE) ** 2):
        # A big photo: the settings are chosen on a mosaic of its tiles, the whole coded.
        rows, cols = _mosaic_grid(*L.shape)
        small_ab = None if ab is None else np.stack([_mosaic(p, rows, cols) for p in ab])
        preset = search(_mosaic(pixels, rows, cols), mode, _mosaic(L, rows, cols), small_ab,
                        quality, effort, make_header, tune).preset
        return Choice(preset, None, None, math.nan)
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
    trial_effort = effort if height * width <= EXACT_BELOW else TRIAL_EFFORT[effort]
    settings = base_pool(effort)

    ssim = _ssim_measure(pixels, mode, L, ab) if tune == "ssim" else None

    def base(setting: tuple[int, int]) -> tuple[tuple[int, int], bytes, float]:
        s, q = setting
        data = encode_plane(base_planes[s], q, trial_effort, tune)
        if ssim is not None:
            return setting, data, ssim.base_loss(upsample_base(
                decode_base(data, height, width, s), s, size))
        if s == 1:  # only the measured pixels become L
            L_rec = u8_to_L(decode_plane(data, height, width)[sub])
        else:
            L_rec = upsample_base(decode_base(data, height, width, s), s, size, every=k)
        e = L_rec - L_sub
        return setting, data, float(np.mean(w[0] * e * e, dtype=np.float64))

    def hint(setting: tuple[int, int]) -> tuple[tuple[int, int], bytes | None, float]:
        f, q = setting
        data = encode_plane(hint_planes[f], q, trial_effort, tune)
        ab_low = decode_hint(data, height, width, f)
        if ssim is not None:
            return setting, data, ssim.hint_loss(upsample_hint(ab_low, f, size))
        ea, eb = upsample_hint(ab_low, f, size, every=k) - ab_sub
        err = w[1] * ea * ea + 2 * w[2] * ea * eb + w[3] * eb * eb
        return setting, data, float(np.mean(err, dtype=np.float64))

    # Each plane is reduced once; the trial codings run on two threads (the AV1 encoder and
    # the resampling release the GIL).
    base_planes = {s: base_plane(L, s) for s in settings}
    hint_planes = {} if ab is None else {f: pack_hint(ab, f) for f, _ in SEARCH_HINTS}
    threads = 1 if ssim is not None else plane_threads(height * width)
    with thread_pool(threads) as pool:
        hint_jobs = [pool.submit(hint, h) for h in (SEARCH_HINTS if ab is not None else ())]
        base_jobs = [pool.submit(base, (s, q)) for s, qs in settings.items() for q in qs]
        for done, job in enumerate(hint_jobs + base_jobs, 1):  # reported from this thread
            job.result()
            report("choosing the settings, trial coding", done, len(hint_jobs + base_jobs))
    hints = [job.result() for job in hint_jobs] or [((0, 0), None, 0.0)]
    bases = [job.result() for job in base_jobs]

    # Every pair's exact stream size and estimated PSNR, then the choices of qualities 1…q.
    # The pool grows (the same way whatever quality is asked for, so that every quality sees
    # the same pool) until it holds a chain of larger streams up to the top quality.
    extra = list(BEYOND_POOL)
    while True:
        nbytes = np.array([[len(pack(Stream(make_header(Preset(*b[0], *h[0]), h[1] is not None),
                                            b[1], h[1]))) for h in hints] for b in bases])
        if ssim is not None:  # losses 1 − MS-SSIM added as errors are
            loss = ssim.floor + np.array([b[2] for b in bases])[:, None] + np.array(
                [h[2] for h in hints])
            db = [_ssim_db(loss, reference) for reference in SSIM_LOSSES]
        else:
            mse = floor + np.array([b[2] for b in bases])[:, None] + np.array(
                [h[2] for h in hints])
            db = [10 * np.log10(255.0**2 / np.maximum(mse, 1e-6))] * len(SEARCH_SLOPES)
        chain = _chain(nbytes, db, height * width)
        if len(chain) == len(SEARCH_SLOPES) or not extra:
            break
        bases.append(base(extra.pop(0)))
    # Past the end of a chain that even lossless L could not continue, the top repeats.
    (bi, hi), objective_value = chain[min(quality, len(chain)) - 1]
    (s, q), base_data, _ = bases[bi]
    (f, hq), hint_data, _ = hints[hi]
    if trial_effort != effort:  # the trials chose; the planes are coded at the effort asked
        return Choice(Preset(s, q, f, hq), None, None, objective_value)
    return Choice(Preset(s, q, f, hq), base_data, hint_data, objective_value)


@dataclass
class _SsimMeasure:
    """MS-SSIM losses (1 − MS-SSIM of the 8-bit sRGB) of trial planes on a window of the
    image: a base layer's with the true a/b, a hint's with the true L, each less the loss of
    the source's own Lab → sRGB rounding (``floor``)."""

    reference: np.ndarray
    window: tuple[slice, slice]
    L: np.ndarray
    ab: np.ndarray | None
    floor: float = 0.0

    def loss(self, L: np.ndarray, ab: np.ndarray | None) -> float:
        rgb = planes_to_rgb_u8(L, ab) if self.ab is not None else np.repeat(
            L_to_grey_u8(L)[..., None], 3, axis=-1)
        return 1.0 - ms_ssim_rgb(self.reference, rgb)

    def base_loss(self, L_rec: np.ndarray) -> float:
        return self.loss(L_rec[self.window], self.ab) - self.floor

    def hint_loss(self, ab_rec: np.ndarray) -> float:
        return self.loss(self.L, ab_rec[(slice(None), *self.window)]) - self.floor


def _ssim_measure(pixels: np.ndarray, mode: SourceMode, L: np.ndarray, ab: np.ndarray | None
                  ) -> _SsimMeasure | None:
    """The MS-SSIM measure of ``tune="ssim"`` on the image's centre (at most
    :data:`SSIM_WINDOW` pixels a side); None for an image too small for MS-SSIM's five scales
    (the squared error then decides)."""
    height, width = L.shape
    if min(height, width) < MS_SSIM_MIN_SIDE:
        return None
    wh, ww = min(height, SSIM_WINDOW), min(width, SSIM_WINDOW)
    y0, x0 = (height - wh) // 2, (width - ww) // 2
    window = (slice(y0, y0 + wh), slice(x0, x0 + ww))
    reference = pixels[window] if mode.is_colour else np.repeat(pixels[window][..., None], 3, -1)
    measure = _SsimMeasure(reference, window, L[window],
                           None if ab is None or not mode.is_colour else ab[(slice(None), *window)])
    measure.floor = measure.loss(measure.L, measure.ab)
    return measure


def _ssim_db(loss: np.ndarray, reference: float) -> np.ndarray:
    """MS-SSIM losses on the dB scale, linearised at the ``reference`` loss of a quality:
    the tangent of −10·log10(loss) there.

    The benchmarks (and CompressAI's convention) average MS-SSIM over images before taking
    dB, so a photo's loss counts in absolute terms: a rate given to a hard photo (large loss)
    buys more of the mean than the same rate given to an easy one.  On the tangent the
    choice spends at one slope in absolute loss across photos, and the slopes λ keep their
    dB meaning for a photo of typical loss.  On 12 photos of bsds500/val the BD-rate of
    MS-SSIM against AVIF goes from +0.97% (dB per photo) to −5.86% (this), with AV1 tuned
    for MS-SSIM; from +19.63% to +1.16% with AV1 tuned for PSNR
    (``benchmarks/tune_ssim.py``, benchmarks/results/tune-ssim.md).
    """
    return -10 * np.log10(reference) - 10 / math.log(10) * (loss / reference - 1)


def _chain(nbytes: np.ndarray, db: Sequence[np.ndarray], pixels: int
           ) -> list[tuple[tuple[int, int], float]]:
    """The (base, hint) indices of the pair that each quality 1, 2, … takes from the table of
    trial stream sizes and the estimated quality in dB of each pair as each quality weighs
    it (``db[i]`` for quality i + 1), with its objective; it stops early where no pair is
    larger than the quality below's by the margin of :data:`MIN_STEP` and :data:`MIN_BYTES`."""
    bpp = nbytes * 8 / pixels
    chain: list[tuple[tuple[int, int], float]] = []
    for slope, quality_db in zip(SEARCH_SLOPES, db, strict=True):
        larger = (nbytes >= nbytes[chain[-1][0]] * MIN_STEP + MIN_BYTES if chain
                  else nbytes > 0)
        if not larger.any():
            break
        j = np.where(larger, quality_db - slope * bpp, -np.inf)
        pick = np.unravel_index(int(np.argmax(j)), j.shape)
        chain.append(((int(pick[0]), int(pick[1])), float(j[pick])))
    return chain
