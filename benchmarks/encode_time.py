"""Encode time of 768×512 photos, median over a folder, at every quality and effort.

    python benchmarks/encode_time.py --images ../shared/datasets/sun_hays80 --limit 20 \
        --threads 2 --out benchmarks/results/encode-time.md

Each photo is area-downscaled and centre-cropped to 768×512 (Kodak's size, as in
``decode_time.py``), then encoded once per quality at each effort, in this process on
``--threads`` threads after one warm-up encode.  The table gives, per quality, the median and
the slowest photo's time, and the mean bpp; the last row pools every quality.  The target of
issue 12 is the default effort's median ≤ 0.5 s on 2 threads.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decode_time import kodak_sized  # noqa: E402

import lumacodec  # noqa: E402
from lumacodec.files import image_suffixes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--efforts", default="1,0", help="comma-separated encoder efforts")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    efforts = [int(e) for e in args.efforts.split(",")]
    paths = sorted(p for p in args.images.iterdir() if p.suffix.lower() in image_suffixes())
    photos = [kodak_sized(p) for p in paths[: args.limit]]
    lumacodec.encode(photos[0])  # warm-up: imports, first calls
    qualities = range(1, len(lumacodec.QUALITIES) + 1)
    times = {(e, q): [] for e in efforts for q in qualities}
    bpps = {(e, q): [] for e in efforts for q in qualities}
    for i, rgb in enumerate(photos, 1):
        for e in efforts:
            for q in qualities:
                start = time.perf_counter()
                data = lumacodec.encode(rgb, q, effort=e)
                times[e, q].append(time.perf_counter() - start)
                bpps[e, q].append(len(data) * 8 / (768 * 512))
        print(f"{i}/{len(photos)}", file=sys.stderr, flush=True)

    head = "| quality | " + " | ".join(
        f"effort {e}: median s | slowest s | bpp" for e in efforts) + " |"
    lines = [
        f"# Encode time, 768×512, cpu, {args.threads} threads, {len(photos)} photos",
        "",
        f"Machine: {platform.machine()}, torch {torch.__version__}, lumacodec "
        f"{lumacodec.__version__}. Photos: the first {len(photos)} of `{args.images.name}`. "
        f"Command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`",
        "",
        head,
        "|---|" + "---:|---:|---:|" * len(efforts),
    ]
    for q in qualities:
        cells = " | ".join(
            f"{statistics.median(times[e, q]):.3f} | {max(times[e, q]):.3f} | "
            f"{statistics.fmean(bpps[e, q]):.3f}" for e in efforts)
        lines.append(f"| {q} | {cells} |")
    pooled = " | ".join(
        f"{statistics.median(t for q in qualities for t in times[e, q]):.3f} | "
        f"{max(t for q in qualities for t in times[e, q]):.3f} | " for e in efforts)
    lines.append(f"| all | {pooled} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
