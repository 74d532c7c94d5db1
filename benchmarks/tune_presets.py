"""Measure the rate–distortion frontier of the codec's settings and propose the quality ladder.

Every combination of (scale, base quality) for L and (hint factor, hint quality) for a/b is
coded once per image; reconstructions are combined in Lab, so the grid costs one coding per
plane setting rather than per combination.  Rates are exact stream sizes (the container's
header and section overhead included).  The frontier is the upper convex hull of mean
PSNR-RGB over mean bpp; AVIF (full colour, Pillow, speed 6) is measured on the same images.

    python benchmarks/tune_presets.py --images ../shared/datasets/bsds500/val --limit 20 \
        --out benchmarks/results/presets.md [--enhance]

With ``--enhance`` the bundled SR networks replace bicubic for L (at ×1 the restoration network
cleans the full-resolution plane) and the hint restorer cleans the hint (guided by that L);
the colorizer is not run per combination (too slow on a CPU): the bicubic upsampling of the
(restored) hint stands in for it.
"""

from __future__ import annotations

import argparse
import io
import itertools
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lumacodec.baselayer import decode_base, encode_base, upsample_base
from lumacodec.bench.metrics import psnr_rgb as psnr
from lumacodec.color import lab_to_rgb_u8, rgb_to_lab
from lumacodec.container import Header, SourceMode, Stream, pack
from lumacodec.hints import decode_hint, encode_hint, upsample_hint

SCALES = (1, 2, 4)
BASE_QUALITIES = (5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90)
HINT_FACTORS = (4, 8, 16, 32)
HINT_QUALITIES = (30, 50, 70, 90)
AVIF_QUALITIES = (10, 20, 30, 40, 50, 60, 70, 80, 90)


def measure_image(rgb: np.ndarray, enhance: bool) -> dict[tuple, tuple[float, float]]:
    """{(scale, q, f, hq): (bpp, psnr)} for every combination, and ('avif', q) entries."""
    H, W = rgb.shape[:2]
    lab = rgb_to_lab(rgb)
    L, ab = lab[..., 0], np.moveaxis(lab[..., 1:], -1, 0)
    nets = None
    if enhance:
        import torch

        from lumacodec import weights
        from lumacodec.decoder import restore_hint, super_resolve

        nets = weights.bundled()
        cpu = torch.device("cpu")
    Ls = {}
    for s, q in itertools.product(SCALES, BASE_QUALITIES):
        data = encode_base(L, s, q)
        low = decode_base(data, H, W, s)
        if nets is not None:
            rec = np.clip(super_resolve(low, s, q, (H, W), nets, cpu), 0, 100)
        else:
            rec = upsample_base(low, s, (H, W))
        Ls[(s, q)] = (data, rec)
    # (data, decoded hint, its classical reconstruction); with the networks the hint is
    # restored per L reconstruction, since the restorer is guided by it
    hints = {(0, 0): (None, None, np.zeros_like(ab))}
    for f, hq in itertools.product(HINT_FACTORS, HINT_QUALITIES):
        data = encode_hint(ab, f, hq)
        small = decode_hint(data, H, W, f)
        hints[(f, hq)] = (data, small, upsample_hint(small, f, (H, W)))
    out = {}
    for (s, q), (ldata, Lrec) in Ls.items():
        for (f, hq), (hdata, small, abrec) in hints.items():
            if nets is not None and small is not None:
                abrec = upsample_hint(restore_hint(small, Lrec, f, hq, nets, cpu), f, (H, W))
            header = Header(
                W, H, SourceMode.RGB, s.bit_length() - 1, f.bit_length() - 1 if f else 0, q, hq
            )
            size = len(pack(Stream(header, ldata, hdata)))
            rec = lab_to_rgb_u8(np.stack([Lrec, abrec[0], abrec[1]], -1))
            out[(s, q, f, hq)] = (size * 8 / (H * W), psnr(rec, rgb))
    for q in AVIF_QUALITIES:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "AVIF", quality=q, speed=6)
        dec = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        out[("avif", q)] = (len(buf.getvalue()) * 8 / (H * W), psnr(dec, rgb))
    return out


def upper_hull(points: list[tuple[float, float, tuple]]) -> list[tuple[float, float, tuple]]:
    """Points on the upper-left convex frontier of (rate, quality): best quality for the rate."""
    pts = sorted(points)
    pareto, best = [], -np.inf
    for p in pts:
        if p[1] > best:
            pareto.append(p)
            best = p[1]
    hull: list = []
    for p in pareto:
        while len(hull) >= 2:
            (x1, y1, _), (x2, y2, _) = hull[-2], hull[-1]
            if (y2 - y1) * (p[0] - x1) <= (p[1] - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--enhance", action="store_true")
    args = parser.parse_args()
    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    files = files[: args.limit]
    start = time.time()
    results = []
    for i, path in enumerate(files):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        results.append(measure_image(rgb, args.enhance))
        print(f"{i + 1}/{len(files)} {path.name} {time.time() - start:.0f}s", flush=True)
    keys = results[0].keys()
    mean = {
        k: (np.mean([r[k][0] for r in results]), np.mean([r[k][1] for r in results])) for k in keys
    }
    ours = [(b, p, k) for k, (b, p) in mean.items() if k[0] != "avif"]
    hull = upper_hull(ours)
    lines = [
        f"# Settings frontier ({'SR and hint-restorer networks' if args.enhance else 'classical'}"
        " reconstruction)",
        "",
        f"{len(files)} images of `{args.images}`, mean of per-image bpp and PSNR-RGB.",
        f"Command: `python benchmarks/tune_presets.py --images {args.images} --limit "
        f"{args.limit} --out {args.out}{' --enhance' if args.enhance else ''}`",
        "",
        "| bpp | PSNR-RGB | scale | base q | hint 1/f | hint q |",
        "|---|---|---|---|---|---|",
    ]
    for b, p, (s, q, f, hq) in hull:
        lines.append(f"| {b:.4f} | {p:.2f} | {s} | {q} | {f or '-'} | {hq or '-'} |")
    lines += [
        "",
        "AVIF (full colour, speed 6) on the same images:",
        "",
        "| quality | bpp | PSNR-RGB |",
        "|---|---|---|",
    ]
    for q in AVIF_QUALITIES:
        b, p = mean[("avif", q)]
        lines.append(f"| {q} | {b:.4f} | {p:.2f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
