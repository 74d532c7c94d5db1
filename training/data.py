"""Training data: dataset folders, decode-aware caches and patch samplers.

The networks restore what the *decoder* sees, so their inputs are made with the codec's own
functions: L from :func:`lumacodec.color.rgb_to_lab`, the low-resolution plane from
:func:`lumacodec.resample.downsample`, coded and decoded with
:func:`lumacodec.baselayer.encode_plane` / :func:`~lumacodec.baselayer.decode_plane`, and the
chroma hint with :mod:`lumacodec.hints`.  AV1 coding is far too slow to do per patch, so every
image is coded once, at every quality the ladder can use, into a cache (one ``.npz`` per
image under ``cache/``, git-ignored) before training starts; patches are then cropped from
those decoded planes with random flips / 90° rotations.

Cache file contents (all for one image, after it is reduced to ground truth size):

* ``L`` float32 (H, W) in [0, 100] and ``ab`` float16 (2, H, W) (a/b are exact in float16
  to ~0.06, far below what matters);
* ``x{s}_q{q}`` uint8 (H/s, W/s): the decoded base-layer plane for scale s at quality q
  (q = 255 is the lossless plane, i.e. exactly ``L_to_u8(downsample(L, s))``; scale 1 has
  only coded planes, for the restoration network of the full-resolution rungs);
* ``hint_f{f}_q{q}`` float16 (2, h, w): the decoded low-resolution hint a/b for factor f.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lumacodec.baselayer import LOSSLESS_QUALITY, decode_plane, encode_plane
from lumacodec.color import L_to_u8, rgb_to_lab, u8_to_L
from lumacodec.hints import decode_hint, encode_hint, upsample_hint
from lumacodec.resample import downsample, downsample_bicubic

#: Training folders (relative to the datasets root); never validate on these.
TRAIN_SETS = ("bsds500/train", "bsds500/val", "sun_hays80", "wikipedia_photos", "mate_nature")
#: Validation folders; never train on these.
VAL_SETS = ("bsds500/test", "set5", "set14")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: Base-layer qualities the SR networks are trained on, per scale (255 = lossless).  Scale 1's
#: 70 and 80 (session 11, for the restorer of the top qualities) came after ``sr_x1``, which
#: was trained on 5–60.
SR_QUALITIES: dict[int, tuple[int, ...]] = {
    1: (5, 10, 15, 20, 30, 40, 60, 70, 80),
    2: (10, 15, 20, 25, 30, 40, 50, 60, LOSSLESS_QUALITY),
    4: (5, 10, 15, 20, 30, 40, LOSSLESS_QUALITY),
}
#: Hint factors and qualities the caches hold.  1/2 and quality 90 (session 13, for the dense
#: hint restorer) came after the colorizer and the first hint restorer, trained on 40–80.
HINT_FACTORS = (2, 4, 8, 16, 32)
HINT_QUALITIES = (40, 50, 60, 70, 80, 90)
#: The hint factors and qualities of the caches before that: the defaults of the colorizer's
#: and the first hint restorer's patches and options.
FIRST_HINT_FACTORS = (4, 8, 16, 32)
FIRST_HINT_QUALITIES = (40, 50, 60, 70, 80)
#: Ground truth images are cropped to a multiple of this (so every SR scale divides).
SIZE_MULTIPLE = 4
#: AV1 effort used for the caches (the encoder's default; decoding is the same for all).
EFFORT = 1
#: The other efforts whose full-resolution planes the caches can also hold (``x1_q{q}_e2``):
#: best mode codes its planes at a slower AV1 speed, whose artefacts differ, and a restorer
#: trained on effort 1's planes alone keeps little of its gain on them
#: (benchmarks/results/network-gains-effort2.md).
SLOW_EFFORTS = (2,)
CACHE_VERSION = "v2"  # v2: AV1 planes coded with tune=psnr


def list_images(root: str | Path, sets: Iterable[str]) -> list[Path]:
    """Image files of the given dataset folders under ``root``, sorted within each folder."""
    paths: list[Path] = []
    for name in sets:
        folder = Path(root) / name
        if not folder.is_dir():
            raise FileNotFoundError(f"dataset folder {folder} does not exist")
        paths += sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return paths


def load_ground_truth(path: str | Path, max_side: int = 1000) -> np.ndarray:
    """Read an image as HxWx3 uint8 sRGB usable as ground truth.

    Photos with a long side above ``max_side`` are reduced by the smallest integer factor
    that brings them under it (area averaging, which also washes out their JPEG artefacts);
    the result is cropped to a multiple of :data:`SIZE_MULTIPLE`.  Greyscale files become
    R = G = B.
    """
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    k = math.ceil(max(rgb.shape[:2]) / max_side)
    if k > 1:
        h, w = rgb.shape[0] // k * k, rgb.shape[1] // k * k
        chw = rgb[:h, :w].transpose(2, 0, 1).astype(np.float32)
        rgb = np.round(downsample(chw, k)).clip(0, 255).astype(np.uint8).transpose(1, 2, 0)
    m = SIZE_MULTIPLE
    h, w = rgb.shape[0] // m * m, rgb.shape[1] // m * m
    return np.ascontiguousarray(rgb[:h, :w])


def cache_path(cache_dir: str | Path, image: Path, max_side: int) -> Path:
    """The cache file of ``image``: ``<cache_dir>/<version>_m<max_side>/<folder>__<stem>.npz``."""
    return Path(cache_dir) / f"{CACHE_VERSION}_m{max_side}" / f"{cache_key(image)}.npz"


def cache_key(image: Path) -> str:
    """A cache file's name for ``image``: ``<parent's parent>_<parent>__<stem>``."""
    return f"{image.parent.parent.name}_{image.parent.name}__{image.stem}"


def plane_key(scale: int, quality: int, effort: int = EFFORT) -> str:
    """The cache key of the decoded L plane at 1/``scale``, base ``quality``, AV1 ``effort``."""
    return f"x{scale}_q{quality}" + ("" if effort == EFFORT else f"_e{effort}")


def plane_keys() -> list[str]:
    """The decoded planes a complete cache file holds (besides ``L`` and ``ab``)."""
    keys = [plane_key(s, q) for s, qualities in SR_QUALITIES.items() for q in qualities]
    return keys + [f"hint_f{f}_q{q}" for f in HINT_FACTORS for q in HINT_QUALITIES]


def slow_keys(efforts: Iterable[int] = SLOW_EFFORTS) -> list[str]:
    """The full-resolution planes of the slower ``efforts``, which a cache holds on request
    (they take ~15x the time of effort 1's to code)."""
    return [plane_key(1, q, e) for e in efforts for q in SR_QUALITIES[1]]


def code_image(rgb: np.ndarray, keys: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """``L``, ``ab`` and the decoded planes ``keys`` (default: :func:`plane_keys`) of one image."""
    wanted = set(plane_keys() if keys is None else keys)
    lab = rgb_to_lab(rgb)
    L = np.ascontiguousarray(lab[..., 0])
    ab = np.ascontiguousarray(lab[..., 1:].transpose(2, 0, 1))
    out: dict[str, np.ndarray] = {"L": L, "ab": ab.astype(np.float16)}
    for s, qualities in SR_QUALITIES.items():
        low = L_to_u8(downsample(L, s))
        for q in qualities:
            for effort in (EFFORT, *SLOW_EFFORTS):
                if plane_key(s, q, effort) in wanted:
                    out[plane_key(s, q, effort)] = (
                        low if q == LOSSLESS_QUALITY
                        else decode_plane(encode_plane(low, q, effort), *low.shape)
                    )
    H, W = L.shape
    for f in HINT_FACTORS:
        for q in HINT_QUALITIES:
            if f"hint_f{f}_q{q}" in wanted:
                data = encode_hint(ab, f, q, EFFORT)
                out[f"hint_f{f}_q{q}"] = decode_hint(data, H, W, f).astype(np.float16)
    return out


def missing_keys(target: Path, keys: Collection[str] | None = None) -> list[str]:
    """The planes of ``keys`` (default :func:`plane_keys`) that the cache file ``target``
    lacks (all if absent)."""
    known = plane_keys() + slow_keys()
    wanted = plane_keys() if keys is None else [k for k in known if k in set(keys)]
    if not target.exists():
        return wanted
    with np.load(target) as z:  # reads the zip directory only
        have = set(z.files)
    return [k for k in wanted if k not in have]


def _build_one(job: tuple[str, str, int, tuple[str, ...] | None]) -> str:
    """Pool worker: code the planes one image's cache lacks and (re)write it atomically.

    A cache file made before a scale or quality was added keeps its planes and gains the new
    ones, so extending the set does not re-code everything.
    """
    image, target, max_side, wanted = job
    torch.set_num_threads(1)
    path = Path(target)
    keys = missing_keys(path, wanted)
    planes = code_image(load_ground_truth(image, max_side), keys)
    if path.exists():
        with np.load(path) as z:
            planes = {**{k: z[k] for k in z.files}, **planes}
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, **planes)
    os.replace(tmp, path)
    return target


def build_cache(
    images: Sequence[Path], cache_dir: str | Path, max_side: int = 1000, workers: int = 2,
    log: bool = True, keys: Collection[str] | None = None,
) -> list[Path]:
    """Make sure every image's cache file holds ``keys`` (default: every plane of
    :func:`plane_keys`); code what is missing with a pool of ``workers``.

    Returns the cache files in the order of ``images``.  Safe to call from several processes
    (writes are atomic; at worst an image is coded twice).
    """
    targets = [cache_path(cache_dir, p, max_side) for p in images]
    wanted = None if keys is None else tuple(keys)
    jobs = [
        (str(p), str(t), max_side, wanted)
        for p, t in zip(images, targets, strict=True) if missing_keys(t, wanted)
    ]
    if jobs:
        targets[0].parent.mkdir(parents=True, exist_ok=True)
        if log:
            print(f"coding planes of {len(jobs)} images into {targets[0].parent} ...", flush=True)
        if workers > 1:
            with Pool(workers) as pool:
                for i, _ in enumerate(pool.imap_unordered(_build_one, jobs), 1):
                    if log and (i % 25 == 0 or i == len(jobs)):
                        print(f"  cache {i}/{len(jobs)}", flush=True)
        else:
            for job in jobs:
                _build_one(job)
    return targets


def load_cache(files: Sequence[Path], keys: Sequence[str]) -> list[dict[str, np.ndarray]]:
    """Load the given arrays (``L``, ``ab``, ``x2_q20``, ...) of each cache file into memory."""
    records = []
    for f in files:
        with np.load(f) as z:
            records.append({k: z[k] for k in keys})
    return records


def has_colour(record: dict[str, np.ndarray]) -> bool:
    """Whether a cached image has colour to learn (some |a| or |b| above 2), not just grey."""
    return float(np.abs(record["ab"]).max()) > 2.0


def dihedral(arrays: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Apply the same random flip / 90° rotation to the last two axes of every array."""
    k, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = []
    for a in arrays:
        a = np.rot90(a, k, axes=(-2, -1))
        if flip:
            a = a[..., ::-1]
        out.append(np.ascontiguousarray(a))
    return out


def _area_weights(sizes: Sequence[int]) -> np.ndarray:
    w = np.asarray(sizes, np.float64)
    return w / w.sum()


def add_clean_planes(records: list[dict[str, np.ndarray]], scale: int) -> None:
    """Add ``x{scale}_bicubic`` to each record: its L bicubic-downsampled (the SR literature's
    degradation, :func:`lumacodec.resample.downsample_bicubic`) and rounded to 8 bits."""
    for r in records:
        r[f"x{scale}_bicubic"] = L_to_u8(downsample_bicubic(r["L"], scale))


def add_restored_planes(
    records: list[dict[str, np.ndarray]], scale: int, qualities: Iterable[int],
    restore: Callable[[np.ndarray, int], np.ndarray], log: bool = True,
) -> None:
    """Add ``x{scale}_q{q}_restored`` (float16 L) to each record: the coded plane after
    ``restore(L_low, q)`` (the decoder's ×1 network), the input of a cascade ×s network."""
    t0 = time.time()
    for i, r in enumerate(records, 1):
        for q in qualities:
            if q != LOSSLESS_QUALITY:
                r[f"x{scale}_q{q}_restored"] = restore(
                    u8_to_L(r[f"x{scale}_q{q}"]), q).astype(np.float16)
        if log and (i % 100 == 0 or i == len(records)):
            print(f"  restored the x{scale} planes of {i}/{len(records)} images "
                  f"({time.time() - t0:.0f}s)", flush=True)


@dataclass
class SRPatches:
    """Random training batches for ×``scale`` SR from cached, decoded planes.

    Batch: ``(low (N,1,p,p), quality (N,), target (N,1,sp,sp))``, all float32 in [0, 1]:
    low = decoded L / 100 at a quality drawn from ``qualities``, quality = q / 100
    (lossless = 1.0), target = the original L / 100.  With ``focus``, a share
    ``focus_share`` of the patches comes from those qualities (the ones the presets use) and
    the rest uniformly from all, so the network stays sound at every quality but spends its
    capacity where streams are.  ``clean`` trains on bicubic-downsampled, uncoded L instead
    (``x{scale}_bicubic``, see :func:`add_clean_planes`; quality input 1.0), for
    :func:`lumacodec.enhance`; ``restored`` takes coded planes after the ×1 network
    (:func:`add_restored_planes`).  ``efforts`` are the AV1 efforts whose planes the
    patches are drawn from, evenly (the decoder cannot tell which coded a stream, so a
    restorer learns them all).  Images are drawn in proportion to their area, so large
    photos (the richest detail) give more patches.
    """

    records: list[dict[str, np.ndarray]]
    scale: int
    patch: int = 64
    qualities: tuple[int, ...] = ()
    focus: tuple[int, ...] = ()
    focus_share: float = 0.5
    clean: bool = False
    restored: bool = False
    efforts: tuple[int, ...] = (EFFORT,)
    weights: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if not self.qualities:
            self.qualities = SR_QUALITIES[self.scale]
        p = self.patch
        self.records = [
            r for r in self.records if min(r["L"].shape) >= p * self.scale
        ]
        if not self.records:
            raise ValueError(f"no image is large enough for {p}px patches at x{self.scale}")
        self.weights = _area_weights([r["L"].size for r in self.records])

    def low_key(self, q: int, raw: bool = False, effort: int = EFFORT) -> str:
        """The record key of the network's input plane at base quality ``q`` coded at AV1
        ``effort`` (``raw``: as decoded, before any restoration: what the classical decoder
        upsamples)."""
        s = self.scale
        if self.clean:
            return f"x{s}_bicubic"
        if self.restored and q != LOSSLESS_QUALITY and not raw:
            return f"x{s}_q{q}_restored"
        return plane_key(s, q, effort)

    def low_plane(self, record: dict[str, np.ndarray], q: int, raw: bool = False,
                  box: tuple[slice, slice] = (slice(None), slice(None)),
                  effort: int = EFFORT) -> np.ndarray:
        """The ``box`` of that plane as L in [0, 100], float32 (cropped before converting)."""
        plane = record[self.low_key(q, raw, effort)][box]
        return u8_to_L(plane) if plane.dtype == np.uint8 else plane.astype(np.float32)

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[torch.Tensor, ...]:
        s, p = self.scale, self.patch
        lows, qs, targets = [], [], []
        for i in rng.choice(len(self.records), size=batch, p=self.weights):
            r = self.records[i]
            if self.clean:
                q = LOSSLESS_QUALITY
            else:
                focus = self.focus and rng.random() < self.focus_share
                q = int(rng.choice(self.focus if focus else self.qualities))
            effort = self.efforts[int(rng.integers(len(self.efforts)))]
            h, w = r[self.low_key(q, effort=effort)].shape
            y = int(rng.integers(0, h - p + 1))
            x = int(rng.integers(0, w - p + 1))
            lo = self.low_plane(r, q, box=np.s_[y : y + p, x : x + p], effort=effort) * (
                1.0 / 100.0)
            hi = r["L"][s * y : s * (y + p), s * x : s * (x + p)] * (1.0 / 100.0)
            lo, hi = dihedral([lo, hi], rng)
            lows.append(lo)
            targets.append(hi)
            qs.append(quality_input(q))
        return (
            torch.from_numpy(np.stack(lows)[:, None]),
            torch.tensor(qs, dtype=torch.float32),
            torch.from_numpy(np.stack(targets)[:, None]),
        )


def quality_input(q: int) -> float:
    """The SR network's quality input: base quality / 100, lossless = 1.0 (as the decoder)."""
    return 1.0 if q == LOSSLESS_QUALITY else q / 100.0


def hint_crop(small: np.ndarray, factor: int, y0: int, x0: int, size: int) -> np.ndarray:
    """Bicubic full-resolution hint a/b (2, size, size) at (y0, x0), both multiples of ``factor``.

    Equal to cropping ``upsample_hint`` of the whole image (what the decoder computes), at a
    fraction of the cost: bicubic reads two low-resolution samples either side, so a margin
    of 2 suffices, and at the image's borders the crop's own border clamps the same way.
    """
    m = 2
    by, bx = y0 // factor, x0 // factor
    n = size // factor
    ty, tx = max(by - m, 0), max(bx - m, 0)
    part = small[:, ty : by + n + m, tx : bx + n + m].astype(np.float32)
    up = upsample_hint(part, factor, (part.shape[1] * factor, part.shape[2] * factor))
    oy, ox = (by - ty) * factor, (bx - tx) * factor
    return up[:, oy : oy + size, ox : ox + size]


@dataclass
class ColorPatches:
    """Random training batches for the colorizer from cached images and decoded hints.

    Batch: ``(L (N,1,P,P) / 100, hint_ab (N,2,P,P) / 128, factors list[int], target (N,2,P,P)
    a/b / 128)``.  Each image gets a hint factor from ``factors`` and a quality from
    ``qualities``, or with probability ``p_no_hint`` no hint (factor 0, zero hint).
    Patches sit on a 32-pixel grid so every hint factor's blocks line up as in the decoder.
    Greyscale images (no colour to learn) are left out.
    """

    records: list[dict[str, np.ndarray]]
    patch: int = 128
    p_no_hint: float = 0.2
    factors: tuple[int, ...] = FIRST_HINT_FACTORS
    qualities: tuple[int, ...] = FIRST_HINT_QUALITIES
    weights: np.ndarray = field(init=False)

    GRID = 32

    def __post_init__(self) -> None:
        if self.patch % self.GRID:
            raise ValueError(f"patch must be a multiple of {self.GRID}")
        self.records = [
            r for r in self.records
            if min(r["L"].shape) >= self.patch and has_colour(r)
        ]
        if not self.records:
            raise ValueError("no colour image is large enough for the patch size")
        self.weights = _area_weights([r["L"].size for r in self.records])

    def sample(
        self, rng: np.random.Generator, batch: int
    ) -> tuple[torch.Tensor, torch.Tensor, list[int], torch.Tensor]:
        P, g = self.patch, self.GRID
        Ls, hints, factors, targets = [], [], [], []
        for i in rng.choice(len(self.records), size=batch, p=self.weights):
            r = self.records[i]
            H, W = r["L"].shape
            y = g * int(rng.integers(0, (H - P) // g + 1))
            x = g * int(rng.integers(0, (W - P) // g + 1))
            f = 0 if rng.random() < self.p_no_hint else int(rng.choice(self.factors))
            if f:
                q = int(rng.choice(self.qualities))
                hint = hint_crop(r[f"hint_f{f}_q{q}"], f, y, x, P) * (1.0 / 128.0)
            else:
                hint = np.zeros((2, P, P), np.float32)
            L = r["L"][y : y + P, x : x + P] * (1.0 / 100.0)
            ab = r["ab"][:, y : y + P, x : x + P].astype(np.float32) * (1.0 / 128.0)
            L, hint, ab = dihedral([L, hint, ab], rng)
            Ls.append(L)
            hints.append(hint)
            targets.append(ab)
            factors.append(f)
        return (
            torch.from_numpy(np.stack(Ls)[:, None]),
            torch.from_numpy(np.stack(hints)),
            factors,
            torch.from_numpy(np.stack(targets)),
        )


def center_origin(shape: tuple[int, int], size: int, grid: int) -> tuple[int, int]:
    """Top-left corner, on a ``grid``, of a centred ``size`` x ``size`` crop of ``shape``."""
    return (
        (shape[0] - size) // 2 // grid * grid,
        (shape[1] - size) // 2 // grid * grid,
    )


def prepare_cache(
    images: Sequence[Path], cache_dir: str | Path, max_side: int = 1000, workers: int = 2,
    timeout_s: float = 3600.0, keys: Collection[str] | None = None,
) -> list[Path]:
    """:func:`build_cache` on local rank 0; other ranks (torchrun) wait for its files."""
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        return build_cache(images, cache_dir, max_side, workers, keys=keys)
    targets = [cache_path(cache_dir, p, max_side) for p in images]
    deadline = time.time() + timeout_s
    while any(missing_keys(t, keys) for t in targets):
        if time.time() > deadline:
            raise TimeoutError("rank 0 did not finish the cache in time")
        time.sleep(1.0)
    return targets


@dataclass
class HintPatches:
    """Random training batches for the hint restorer, on the hint grid.

    Batch: ``(coded hint a/b (N,2,P,P) / 128, L area-averaged to the grid (N,1,P,P) / 100,
    factors list[int], qualities list[int], target (N,2,P,P))``: the target is the uncoded
    hint (the area-averaged a/b the encoder would send without coding loss) / 128.  Each batch
    has one hint factor from ``factors`` (crops of ``patch`` hint pixels, fewer at factors whose
    hints are too small for it) and a hint quality per image from ``qualities``; greyscale
    images are left out.
    """

    records: list[dict[str, np.ndarray]]
    factors: tuple[int, ...] = FIRST_HINT_FACTORS
    qualities: tuple[int, ...] = FIRST_HINT_QUALITIES
    patch: int = 16
    grids: dict[int, list[tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]]] = field(
        init=False)

    def __post_init__(self) -> None:
        colour = [r for r in self.records if has_colour(r)]
        if not colour:
            raise ValueError("no colour image to train on")
        self.grids = {
            f: [(downsample(r["ab"].astype(np.float32), f) / 128.0,
                 downsample(r["L"], f)[None] / 100.0,
                 {q: r[f"hint_f{f}_q{q}"].astype(np.float32) / 128.0 for q in self.qualities})
                for r in colour]
            for f in self.factors
        }

    def crop_size(self, factor: int) -> int:
        """The crop side at ``factor``: ``patch``, or the smallest hint grid if that is less."""
        smallest = min(min(t.shape[-2:]) for t, _, _ in self.grids[factor])
        return min(self.patch, smallest)

    def sample(
        self, rng: np.random.Generator, batch: int
    ) -> tuple[torch.Tensor, torch.Tensor, list[int], list[int], torch.Tensor]:
        f = int(rng.choice(self.factors))
        P = self.crop_size(f)
        grids = self.grids[f]
        hints, Ls, qualities, targets = [], [], [], []
        for i in rng.integers(0, len(grids), size=batch):
            target, L, coded = grids[i]
            h, w = target.shape[-2:]
            y, x = int(rng.integers(0, h - P + 1)), int(rng.integers(0, w - P + 1))
            q = int(rng.choice(self.qualities))
            crops = [a[:, y : y + P, x : x + P] for a in (coded[q], L, target)]
            hint, L_crop, target_crop = dihedral(crops, rng)
            hints.append(hint)
            Ls.append(L_crop)
            targets.append(target_crop)
            qualities.append(q)
        return (torch.from_numpy(np.stack(hints)), torch.from_numpy(np.stack(Ls)),
                [f] * batch, qualities, torch.from_numpy(np.stack(targets)))
