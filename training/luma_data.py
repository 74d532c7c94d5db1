"""Training data of the colour-from-L network: photos at its working resolution, with the L
the decoder really has.

For each photo (reduced below ``max_side`` as every other cache), at its own resolution: the
exact L, and the L that the decoder of a hint-free stream produces at ``--variants`` random
qualities of the ladder (the preset's base layer coded with AV1, decoded and super-resolved by
the bundled SR networks, exactly :func:`lumacodec.decoder.super_resolve`).  Then everything
is resized to :func:`lumacodec.luma_colour.working_size`, as the decoder does before the
network runs.  Stored as one ``.npz`` per photo: ``L`` (uint8, L·2.55 — the exact L),
``L_q<q>`` (same, decoded at quality q) and ``ab`` (int8, rounded).
"""

from __future__ import annotations

import functools
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch

from lumacodec import weights
from lumacodec.baselayer import decode_base, encode_base
from lumacodec.color import L_to_u8, rgb_to_lab, u8_to_L
from lumacodec.decoder import super_resolve
from lumacodec.luma_colour import working_size
from lumacodec.presets import QUALITIES
from lumacodec.resample import resize

from .data import EFFORT, cache_key, load_ground_truth

CACHE_VERSION = "luma_v1"
#: The ladder's qualities whose decoded L the network trains on (10 is near-lossless).
TRAIN_QUALITIES = tuple(range(1, 10))


def cache_path(cache_dir: str | Path, image: Path, max_side: int, variants: int) -> Path:
    return (Path(cache_dir) / f"{CACHE_VERSION}_m{max_side}_v{variants}"
            / f"{cache_key(image)}.npz")


@functools.cache
def bundled_sr() -> weights.NetworkSet:
    """The bundled SR networks alone (the rest of the set may be the network being trained),
    each checked against the manifest's sha256."""
    entries = weights.read_manifest()["networks"]
    sr = {scale: weights.load_listed(f"sr_x{scale}", entries=entries) for scale in (1, 2, 4)}
    return weights.NetworkSet(sr, None, b"")  # type: ignore[arg-type]


def decoded_L(L: np.ndarray, quality: int) -> np.ndarray:
    """The L (H, W) a hint-free stream of ``quality`` decodes to with the bundled SR
    networks."""
    preset = QUALITIES[quality - 1]
    data = encode_base(L, preset.scale, preset.base_quality, EFFORT)
    low = decode_base(data, *L.shape, preset.scale)
    out = super_resolve(low, preset.scale, preset.base_quality, L.shape, bundled_sr(),
                        torch.device("cpu"))
    return np.clip(out, 0.0, 100.0)


def code_photo(rgb: np.ndarray, qualities: Sequence[int]) -> dict[str, np.ndarray]:
    """The cache record of one photo (see the module's docstring)."""
    lab = rgb_to_lab(rgb)
    L = np.ascontiguousarray(lab[..., 0])
    size = working_size(*L.shape)
    out = {"L": L_to_u8(resize(L, size)),
           "ab": np.clip(np.round(resize(lab[..., 1:].transpose(2, 0, 1), size)), -127, 127)
           .astype(np.int8)}
    for q in qualities:
        out[f"L_q{q}"] = L_to_u8(resize(decoded_L(L, q), size))
    return out


def _build_one(job: tuple[str, str, int, tuple[int, ...]]) -> str:
    image, target, max_side, qualities = job
    torch.set_num_threads(1)
    record = code_photo(load_ground_truth(image, max_side), qualities)
    tmp = Path(target).with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, **record)
    os.replace(tmp, target)
    return target


def photo_qualities(image: Path, variants: int) -> tuple[int, ...]:
    """``variants`` distinct qualities for one photo, fixed by its name (reproducible)."""
    rng = np.random.default_rng(zlib.crc32(image.name.encode()))
    return tuple(int(q) for q in rng.choice(TRAIN_QUALITIES, variants, replace=False))


def build_cache(images: Sequence[Path], cache_dir: str | Path, max_side: int = 1000,
                variants: int = 2, workers: int = 2) -> list[Path]:
    """Make sure every photo has its cache file; returns them in the order of ``images``."""
    targets = [cache_path(cache_dir, p, max_side, variants) for p in images]
    jobs = [(str(p), str(t), max_side, photo_qualities(p, variants))
            for p, t in zip(images, targets, strict=True) if not t.exists()]
    if jobs:
        targets[0].parent.mkdir(parents=True, exist_ok=True)
        print(f"coding {len(jobs)} photos into {targets[0].parent} ...", flush=True)
        bundled_sr()  # load (and verify) once before forking
        with Pool(workers) as pool:
            for i, _ in enumerate(pool.imap_unordered(_build_one, jobs, chunksize=8), 1):
                if i % 250 == 0 or i == len(jobs):
                    print(f"  {i}/{len(jobs)}", flush=True)
    return targets


@dataclass
class Photo:
    """One cached photo in memory: the L planes (uint8, by name) and a/b (int8, 2×h×w)."""

    L: dict[str, np.ndarray]
    ab: np.ndarray


def load_photos(files: Sequence[Path]) -> list[Photo]:
    photos = []
    for f in files:
        with np.load(f) as z:
            photos.append(Photo({k: z[k] for k in z.files if k.startswith("L")}, z["ab"]))
    return photos


class LumaPatches:
    """Random crops for the colour-from-L network.

    Each sample: one photo (uniformly), the exact L with probability ``p_clean`` or one of
    its decoded L planes, a random crop of ``patch``² (photos smaller than that are
    edge-padded, the padding carrying no loss), a random horizontal flip.  Flips and crops
    only: nothing that changes what colour a thing is.  Returns (L / 100 as N×1×P×P,
    a/b as N×2×P×P, mask N×1×P×P).
    """

    def __init__(self, photos: Sequence[Photo], patch: int = 160, p_clean: float = 0.3) -> None:
        self.photos = list(photos)
        self.patch = patch
        self.p_clean = p_clean

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[torch.Tensor, ...]:
        p = self.patch
        Ls = np.zeros((batch, 1, p, p), np.float32)
        abs_ = np.zeros((batch, 2, p, p), np.float32)
        mask = np.zeros((batch, 1, p, p), np.float32)
        for i in range(batch):
            photo = self.photos[rng.integers(len(self.photos))]
            names = sorted(photo.L)
            decoded = [n for n in names if n != "L"]
            name = "L" if not decoded or rng.random() < self.p_clean else \
                decoded[rng.integers(len(decoded))]
            L = photo.L[name]
            h, w = L.shape
            y = int(rng.integers(h - p + 1)) if h > p else 0
            x = int(rng.integers(w - p + 1)) if w > p else 0
            ch, cw = min(h, p), min(w, p)
            Lc = u8_to_L(L[y : y + ch, x : x + cw])
            abc = photo.ab[:, y : y + ch, x : x + cw].astype(np.float32)
            if rng.random() < 0.5:
                Lc, abc = Lc[:, ::-1], abc[:, :, ::-1]
            Ls[i, 0] = np.pad(Lc, ((0, p - ch), (0, p - cw)), mode="edge") / 100.0
            abs_[i] = np.pad(abc, ((0, 0), (0, p - ch), (0, p - cw)), mode="edge")
            mask[i, 0, :ch, :cw] = 1.0
        return torch.from_numpy(Ls), torch.from_numpy(abs_), torch.from_numpy(mask)
