"""Does every quality give a larger stream than the one below it, on every photo?

    python benchmarks/ladder_check.py --images ../shared/datasets/colour_photos/val \
        --out benchmarks/results/ladder.md

Encodes each photo at qualities 1–10 at each ``--efforts`` (default 0 and 1; the per-image
choice of effort 1 orders its qualities from trial codings at another AV1 speed than the
stream's, with a margin, see :mod:`lumacodec.search`) and counts the photos on which some
quality's stream is not larger than the quality's below.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

import lumacodec
from lumacodec.files import image_suffixes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0, help="first N photos (0: all)")
    parser.add_argument("--efforts", default="0,1")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    paths = sorted(p for p in args.images.iterdir() if p.suffix.lower() in image_suffixes())
    paths = paths[: args.limit or None]
    efforts = [int(e) for e in args.efforts.split(",")]
    breaks: dict[int, list[str]] = {e: [] for e in efforts}
    plateaus: dict[int, list[str]] = {e: [] for e in efforts}
    start = time.perf_counter()
    for path in paths:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        for effort in efforts:
            sizes = [len(lumacodec.encode(rgb, q, effort=effort)) for q in range(1, 11)]
            steps = np.diff(sizes)
            if (steps < 0).any():
                breaks[effort].append(f"{path.name} {sizes}")
            elif (steps == 0).any():
                plateaus[effort].append(f"{path.name} {sizes}")
    lines = [
        "# Stream size against quality",
        "",
        f"`python benchmarks/ladder_check.py --images {args.images}"
        + (f" --limit {args.limit}" if args.limit else "")
        + f" --efforts {args.efforts}` ({time.perf_counter() - start:.0f} s): "
        f"{len(paths)} photos, qualities 1–10.",
        "",
        "| effort | photos | a quality smaller than the one below | a quality equal to it |",
        "|---:|---:|---:|---:|",
    ]
    for effort in efforts:
        lines.append(f"| {effort} | {len(paths)} | {len(breaks[effort])} | "
                     f"{len(plateaus[effort])} |")
    for effort in efforts:
        for line in breaks[effort] + plateaus[effort]:
            lines.append(f"\n- effort {effort}: {line}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
