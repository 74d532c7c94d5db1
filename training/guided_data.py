"""Simulated users for the guided colour network: where a person clicks, which colour they
give, which reference photo they pick.

* **Points** (Zhang et al. 2017's simulation, moved inside regions): a number of points per
  crop (none with probability ``p_none``, else geometric with mean :data:`MEAN_POINTS`, at
  most :data:`MAX_POINTS`), each placed uniformly among the pixels a person would click, those
  whose local lightness gradient is in the lower half of the crop's (inside regions, not on
  edges); its colour is the mean true a/b of its square, of half-side 0-2 on the working grid.
* **Reference** (probability ``p_reference``): the condition of another crop of the same photo
  (70%) or of another photo of the same category (30%: a Caltech-101 class, the prefix of a
  ``misc`` photo's name, else the folder).
* **Dense guidance** (probability ``p_dense``): a film's previous colour carried along the
  motion: the true a/b shifted by up to 2 px, with 1-4 rectangular holes (the occlusions, new
  regions) where the network is on its own.

Every one of these goes through :func:`lumacodec.guided.point_planes`, as at inference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import uniform_filter

from lumacodec.color import u8_to_L
from lumacodec.guided import Mark, point_planes
from lumacodec.networks.guided_colorizer import REFERENCE_BINS, reference_condition, reference_size

from .luma_data import Photo

MEAN_POINTS = 5.0
MAX_POINTS = 30
MAX_MARK_RADIUS = 2


def category(path: Path) -> str:
    """What counts as "a photo of the same kind" for a reference: the Caltech-101 class, the
    source prefix of a ``misc`` photo, else the folder."""
    name = path.stem
    m = re.fullmatch(r"caltech_101_ObjectCategories_(.+)_image_\d+", name)
    if m:
        return f"caltech101/{m.group(1)}"
    if path.parent.name == "misc":
        return f"misc/{name.split('_')[0]}"
    return str(path.parent)


def click_map(L: np.ndarray) -> np.ndarray:
    """Where a person would click: pixels whose mean lightness gradient over a 5×5 window is
    at most the image's median (flat insides of regions rather than edges)."""
    gy, gx = np.gradient(L.astype(np.float32))
    g = uniform_filter(np.hypot(gy, gx), 5)
    return g <= np.median(g)


def simulate_marks(L: np.ndarray, ab: np.ndarray, n: int, rng: np.random.Generator,
                   max_radius: int = MAX_MARK_RADIUS, valid: np.ndarray | None = None
                   ) -> list[Mark]:
    """``n`` simulated clicks on L (h, w) with true a/b (2, h, w), placed inside regions (and
    inside ``valid``, when given); each a mark of the mean true a/b of its square."""
    if n <= 0:
        return []
    where = click_map(L)
    if valid is not None:
        where &= valid
    ys, xs = np.nonzero(where)
    if ys.size == 0:
        return []
    pick = rng.integers(ys.size, size=n)
    h, w = L.shape
    marks = []
    for y, x in zip(ys[pick], xs[pick], strict=True):
        r = int(rng.integers(max_radius + 1))
        patch = ab[:, max(0, y - r): y + r + 1, max(0, x - r): x + r + 1]
        a, b = patch.reshape(2, -1).mean(1)
        marks.append((int(y), int(x), r, float(a), float(b)))
    return marks


def point_count(rng: np.random.Generator, p_none: float) -> int:
    """How many points a simulated user gives."""
    if rng.random() < p_none:
        return 0
    return min(MAX_POINTS, int(rng.geometric(1.0 / MEAN_POINTS)))


def dense_guidance(ab: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A film's previous colour, simulated: a/b shifted by up to 2 px, and a mask of ones
    with 1-4 rectangular holes."""
    dy, dx = (int(v) for v in rng.integers(-2, 3, size=2))
    known = np.roll(ab, (dy, dx), axis=(1, 2))
    h, w = ab.shape[1:]
    mask = np.ones((h, w), np.float32)
    for _ in range(int(rng.integers(1, 5))):
        hh, ww = int(rng.integers(h // 10, h // 2 + 1)), int(rng.integers(w // 10, w // 2 + 1))
        y, x = int(rng.integers(h - hh + 1)), int(rng.integers(w - ww + 1))
        mask[y: y + hh, x: x + ww] = 0.0
    return known, mask


def random_crop_condition(photo: Photo, rng: np.random.Generator, bins: int) -> torch.Tensor:
    """The reference condition of a random crop (half to all of each side) of ``photo``."""
    L = u8_to_L(photo.L["L"])
    h, w = L.shape
    ch, cw = int(rng.integers(h // 2, h + 1)), int(rng.integers(w // 2, w + 1))
    y, x = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
    ab = photo.ab[:, y: y + ch, x: x + cw].astype(np.float32)
    return reference_condition(torch.from_numpy(L[y: y + ch, x: x + cw]),
                               torch.from_numpy(ab), bins)


class GuidedPatches:
    """Random crops with simulated guidance.

    Each sample: a photo (uniformly), its exact L, a random ``patch``² crop (smaller photos
    edge-padded, the padding carrying no loss) and flip, as
    :class:`training.luma_data.LumaPatches`; then points, a reference and dense guidance as
    the module's docstring says.  Returns (L / 100 N×1×P×P, a/b N×2×P×P, mask N×1×P×P,
    guidance planes N×3×P×P, reference condition N×R)."""

    def __init__(self, photos: Sequence[Photo], categories: Sequence[str], patch: int = 160,
                 p_none: float = 0.25, p_reference: float = 0.35, p_dense: float = 0.1,
                 bins: int = REFERENCE_BINS) -> None:
        self.photos = list(photos)
        self.patch = patch
        self.p_none, self.p_reference, self.p_dense = p_none, p_reference, p_dense
        self.bins = bins
        self.groups: dict[str, list[int]] = {}
        for i, c in enumerate(categories):
            self.groups.setdefault(c, []).append(i)
        self.category = list(categories)

    def reference(self, index: int, rng: np.random.Generator) -> torch.Tensor:
        """A simulated user's reference for photo ``index``."""
        group = self.groups[self.category[index]]
        if len(group) > 1 and rng.random() < 0.3:
            other = group[rng.integers(len(group))]
            while other == index:
                other = group[rng.integers(len(group))]
            index = other
        return random_crop_condition(self.photos[index], rng, self.bins)

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[torch.Tensor, ...]:
        p = self.patch
        Ls = np.zeros((batch, 1, p, p), np.float32)
        abs_ = np.zeros((batch, 2, p, p), np.float32)
        mask = np.zeros((batch, 1, p, p), np.float32)
        planes = np.zeros((batch, 3, p, p), np.float32)
        refs = torch.zeros((batch, reference_size(self.bins)))
        for i in range(batch):
            index = int(rng.integers(len(self.photos)))
            photo = self.photos[index]
            h, w = photo.L["L"].shape
            y = int(rng.integers(h - p + 1)) if h > p else 0
            x = int(rng.integers(w - p + 1)) if w > p else 0
            ch, cw = min(h, p), min(w, p)
            Lc = u8_to_L(photo.L["L"][y: y + ch, x: x + cw])
            abc = photo.ab[:, y: y + ch, x: x + cw].astype(np.float32)
            if rng.random() < 0.5:
                Lc, abc = Lc[:, ::-1], abc[:, :, ::-1]
            Lc, abc = np.ascontiguousarray(Lc), np.ascontiguousarray(abc)
            known = dense_guidance(abc, rng) if rng.random() < self.p_dense else None
            marks = simulate_marks(Lc, abc, point_count(rng, self.p_none), rng)
            planes[i, :, :ch, :cw] = point_planes(ch, cw, marks, known)
            if rng.random() < self.p_reference:
                refs[i] = self.reference(index, rng)
            Ls[i, 0] = np.pad(Lc, ((0, p - ch), (0, p - cw)), mode="edge") / 100.0
            abs_[i] = np.pad(abc, ((0, 0), (0, p - ch), (0, p - cw)), mode="edge")
            mask[i, 0, :ch, :cw] = 1.0
        return (torch.from_numpy(Ls), torch.from_numpy(abs_), torch.from_numpy(mask),
                torch.from_numpy(planes), refs)
