"""Rate control over a set of photos: is every stream at most its target, and how close?

    python benchmarks/target_size.py --images ../shared/datasets/bsds500/test --limit 50 \
        --targets 5,10,20,40,80 --out benchmarks/results/target-size.md

Encodes each photo with ``lumacodec.encode(image, target_size=T)`` for each target T (kB,
1 kB = 1000 bytes) and reports, per target: streams over the target (never allowed), photos
whose whole settings space stays under it (its largest stream, lossless L with the top
rung's hint, is smaller: the target is out of reach and the shortfall is not the rate
control's),
the mean and worst shortfall of the others, refusals (even the smallest stream is larger),
and the encode time.  Issue #12's targets: never over, and on average within 5% under.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from statistics import fmean, median

from PIL import Image

import lumacodec
from lumacodec.errors import LumacodecError
from lumacodec.files import image_suffixes


def one_thread() -> None:
    """Each worker process on one thread (``--jobs`` of them share the CPUs)."""
    import torch

    torch.set_num_threads(1)


def one(job: tuple[Path, int]) -> tuple[str, int, int | None, float, str]:
    """(photo, target, stream bytes or None when refused, seconds, refusal)."""
    path, target = job
    image = Image.open(path).convert("RGB")
    start = time.perf_counter()
    try:
        size = len(lumacodec.encode(image, target_size=target))
        refusal = ""
    except LumacodecError as exc:
        size, refusal = None, str(exc)
    return path.name, target, size, time.perf_counter() - start, refusal


def largest(path: Path) -> int:
    """The largest stream of the settings space that rate control searches: its stream for a
    target no photo reaches (lossless L with the top rung's hint at its highest quality)."""
    return len(lumacodec.encode(Image.open(path).convert("RGB"), target_size=10**9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=50, help="first N photos by name (0: all)")
    parser.add_argument("--targets", default="5,10,20,40,80", help="kB, comma-separated")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    photos = sorted(p for p in args.images.iterdir() if p.suffix.lower() in image_suffixes())
    photos = photos[: args.limit] if args.limit else photos
    targets = [int(float(t) * 1000) for t in args.targets.split(",")]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, initializer=one_thread) as pool:
        rows = list(pool.map(one, [(p, t) for t in targets for p in photos]))
        tops = dict(zip((p.name for p in photos), pool.map(largest, photos), strict=True))
    wall = time.perf_counter() - start

    lines = [
        f"# Rate control: {len(photos)} photos of `{args.images.name}`, "
        f"{len(targets)} size targets",
        "",
        f"Command: `python benchmarks/target_size.py --images {args.images} --limit "
        f"{args.limit} --targets {args.targets} --jobs {args.jobs}"
        + (f" --out {args.out}`" if args.out else "`")
        + f" ({wall:.0f} s, {args.jobs} processes of one thread; lumacodec "
        f"{lumacodec.__version__}).",
        "",
        "Shortfall: 1 − stream / target, over the photos whose settings space reaches the "
        "target (its largest stream is larger than the target).",
        "",
        "| target | photos | over the target | space below the target | refused | "
        "mean shortfall | median | worst | encode s (median) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    over_total = 0
    for t in targets:
        mine = [r for r in rows if r[1] == t]
        done = [r for r in mine if r[2] is not None]
        over = [r for r in done if r[2] > t]
        over_total += len(over)
        reach = [r for r in done if tops[r[0]] > t]
        short = [1 - r[2] / t for r in reach]
        cells = (f"{fmean(short):.2%}", f"{median(short):.2%}", f"{max(short):.2%}") if short \
            else ("–", "–", "–")
        lines.append(
            f"| {t / 1000:g} kB | {len(mine)} | {len(over)} | {len(done) - len(reach)} | "
            f"{len(mine) - len(done)} | {' | '.join(cells)} | "
            f"{median(r[3] for r in mine):.2f} |")
    refusals = sorted({r[4] for r in rows if r[4]})
    lines += ["", f"Streams over their target: {over_total}."]
    if refusals:
        lines += ["", "Refusals: " + "; ".join(refusals[:3])]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
