"""Cross-check of the bench harness: its JPEG curve against an independent computation.

    python benchmarks/check_jpeg_curve.py --dataset ../shared/datasets/bsds500/test --limit 50 \
        --results benchmarks/results/bsds500-test --out benchmarks/results/jpeg-check.md

Recomputes the JPEG points of a ``lumacodec bench`` run with nothing of lumacodec: Pillow
writes and reads each image at each quality of the run's ``jpeg.json``, numpy computes
PSNR-RGB (peak 255, MSE over all pixels and channels), and rate is bytes × 8 / pixels;
per-image values are averaged as the bench does.  The largest difference must stay under
0.01 dB and 0.0001 bpp.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--results", type=Path, required=True, help="a bench OUTDIR")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    bench = json.loads((args.results / "jpeg.json").read_text())["results"]
    files = sorted(p for p in args.dataset.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    if args.limit:
        files = files[: args.limit]
    images = [np.asarray(Image.open(p).convert("RGB")) for p in files]
    rows, worst_db, worst_bpp = [], 0.0, 0.0
    for q, bpp_b, psnr_b in zip(bench["quality"], bench["bpp"], bench["psnr-rgb"], strict=True):
        bpps, psnrs = [], []
        for rgb in images:
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, format="JPEG", quality=int(q))
            back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
            mse = np.mean((rgb.astype(np.float64) - back.astype(np.float64)) ** 2)
            psnrs.append(10 * np.log10(255.0**2 / mse))
            bpps.append(len(buf.getvalue()) * 8 / (rgb.shape[0] * rgb.shape[1]))
        bpp_i, psnr_i = float(np.mean(bpps)), float(np.mean(psnrs))
        worst_db = max(worst_db, abs(psnr_i - psnr_b))
        worst_bpp = max(worst_bpp, abs(bpp_i - bpp_b))
        rows.append(f"| {q} | {bpp_b:.5f} | {bpp_i:.5f} | {psnr_b:.4f} | {psnr_i:.4f} | "
                    f"{psnr_i - psnr_b:+.5f} |")
    ok = worst_db < 0.01 and worst_bpp < 1e-4
    text = "\n".join([
        "# JPEG curve: bench vs an independent computation", "",
        f"{len(images)} images of `{args.dataset}`; bench results from `{args.results}`. "
        "Independent: Pillow JPEG at the same quality (default options), numpy PSNR-RGB.", "",
        "| quality | bpp (bench) | bpp (independent) | PSNR-RGB (bench) | PSNR-RGB (independent) "
        "| difference (dB) |",
        "|---:|---:|---:|---:|---:|---:|", *rows, "",
        f"Largest difference: {worst_db:.5f} dB, {worst_bpp:.6f} bpp — "
        + ("within" if ok else "OUTSIDE") + " the 0.01 dB / 0.0001 bpp tolerance.", "",
    ])
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
