"""Measure what the decoder's networks add to each setting of the search's pool.

The per-image choice (:mod:`lumacodec.search`) estimates a candidate's distortion from the
classical reconstruction (bicubic L, bicubic hint): the networks are too slow to run per
candidate.  They do not add the same everywhere: a ×2 cascade gains 0.2 dB of L at base 10
and 0.8 at base 60, a restorer 0.07–0.35 dB, the hint restorer and colorizer more on sparse,
coarsely coded hints.  This script measures, on ``--limit`` photos, for every base setting
(scale, base quality) of the pool (and past it) the mean gain in dB of the mean square L
error, and for every hint setting (factor, hint quality) that of the a/b error (with the
exact L, as the search's separable estimate).

Tried in session 11 as a correction of the search's estimate (each plane's error less its
setting's gain): on the first 16 photos of bsds500/test the default encode's BD-rate PSNR-RGB
against AVIF went from −16.57% to −16.20% (L and hint gains) and −15.97% (L gains alone), so
the search does not use them: a mean gain per setting is too coarse a model of what the
networks do to one photo (their gain varies as much between photos as between settings).

    python benchmarks/tune_network_gains.py --images ../shared/datasets/bsds500/val \
        --limit 12 --out benchmarks/results/network-gains.md

``--effort 2`` and ``--tune ssim`` code the planes as those encodes do (AV1 speed 2; libaom
``tune=iq``), to see whether the networks, trained on effort 1's ``tune=psnr`` planes, keep
their gain on them.

``--restorer sr_x1_fine=runs/wexp/sr_x1_fine_mix.safetensors`` measures a candidate in place
of a bundled full-resolution restorer before it is adopted; the ×2 and ×4 rows are then left
out (the cascades were trained on the bundled restorers' output, and run them first).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lumacodec import weights
from lumacodec.baselayer import base_plane, decode_base, encode_plane, upsample_base
from lumacodec.color import rgb_to_lab_planes
from lumacodec.decoder import colorize, restore_hint, super_resolve
from lumacodec.hints import decode_hint, pack_hint, upsample_hint
from lumacodec.presets import SEARCH_BASE, SEARCH_HINTS
from lumacodec.search import BEYOND_POOL


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.square(a.astype(np.float64) - b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--effort", type=int, default=1, choices=(0, 1, 2))
    parser.add_argument("--tune", default="psnr", choices=("psnr", "ssim"))
    parser.add_argument("--restorer", action="append", default=[], metavar="NAME=FILE",
                        help=f"a weights file in place of the bundled restorer NAME (one of "
                             f"{', '.join(weights.RESTORERS)}); measures scale 1 only")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    swapped = dict(item.split("=", 1) for item in args.restorer)
    if not set(swapped) <= set(weights.RESTORERS):
        parser.error(f"--restorer names one of {', '.join(weights.RESTORERS)}")
    torch.set_num_threads(args.threads)
    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    files = files[: args.limit]
    cpu = torch.device("cpu")
    nets = weights.bundled().with_restorers(swapped).to(cpu)
    bases = [(s, q) for s, qs in SEARCH_BASE.items() for q in qs] + list(BEYOND_POOL)
    hints = SEARCH_HINTS
    if swapped:  # the cascades expect the bundled restorers' output; hints are not theirs
        bases, hints = [(s, q) for s, q in bases if s == 1], ()
    base_db: dict[tuple[int, int], list[float]] = {b: [] for b in bases}
    hint_db: dict[tuple[int, int], list[float]] = {h: [] for h in hints}
    t0 = time.time()
    for path in files:
        L, ab = rgb_to_lab_planes(np.asarray(Image.open(path).convert("RGB")))
        size = L.shape
        for s, q in bases:
            low = decode_base(encode_plane(base_plane(L, s), q, args.effort, args.tune), *size, s)
            classical = mse(upsample_base(low, s, size), L)
            network = mse(np.clip(super_resolve(low, s, q, size, nets, cpu), 0, 100), L)
            base_db[s, q].append(10 * np.log10(max(classical, 1e-9) / max(network, 1e-9)))
        for f, hq in hints:
            coded = encode_plane(pack_hint(ab, f), hq, args.effort, args.tune)
            small = decode_hint(coded, *size, f)
            classical = mse(upsample_hint(small, f, size), ab)
            restored = upsample_hint(restore_hint(small, L, f, hq, nets, cpu), f, size)
            network = mse(colorize(L, restored, f, nets, cpu), ab)
            hint_db[f, hq].append(10 * np.log10(max(classical, 1e-9) / max(network, 1e-9)))
    lines = [
        "# What the networks add to each setting of the search's pool",
        "",
        f"{len(files)} photos of `{args.images}`, network set `{nets.id.hex()}`"
        + "".join(f", {n} from `{f}`" for n, f in swapped.items())
        + f", {time.time() - t0:.0f} s. Command: `python benchmarks/tune_network_gains.py "
        f"--images {args.images} --limit {args.limit} --effort {args.effort} --tune {args.tune} "
        + "".join(f"--restorer {n}={f} " for n, f in swapped.items())
        + f"--out {args.out}` (planes coded at effort {args.effort}, tune {args.tune})",
        "",
        "Gain in dB of the mean square error over the classical reconstruction (L: bicubic of "
        "the decoded base layer; a/b: bicubic of the decoded hint, with the exact L), mean "
        "over the photos.",
        "",
        "| base layer (scale, quality) | L gain dB |", "|---|---:|",
        *(f"| ×{s}, {q} | {np.mean(v):+.3f} |" for (s, q), v in base_db.items()),
        "",
        *(["| hint (1/f, quality) | a/b gain dB |", "|---|---:|",
           *(f"| 1/{f}, {q} | {np.mean(v):+.3f} |" for (f, q), v in hint_db.items()), ""]
          if hint_db else []),
        "Used as a correction of the search's classical estimate (each plane's error less "
        "its setting's gain), these made the default encode's BD-rate PSNR-RGB against AVIF "
        "worse on the first 16 photos of bsds500/test: −16.57% → −16.20% (L and a/b gains), "
        "−15.97% (L gains alone); the search does not use them.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
