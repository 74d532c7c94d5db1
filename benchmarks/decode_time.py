"""Decode time of a 768×512 image at every quality, with and without the networks.

    python benchmarks/decode_time.py --image ../shared/datasets/sun_hays80/<photo>.jpg \
        --threads 2 --out benchmarks/results/decode_time.md

The photo is area-downscaled and centre-cropped to 768×512 (Kodak's size).  Times are the
median of ``--repeat`` decodes after one warm-up, in this process, on the CPU unless
``--device cuda``: the stream of each quality with its hint (classical and enhanced) and
without (``--no-hints``: colour from L alone), and the colour-from-L step on its own.
Encode times are those of the default effort and of effort 0 (the ladder).  With
``--compressai-python``, CompressAI's bmshj2018-hyperprior is timed on the same threads by
``benchmarks/compressai_decode_time.py`` in that interpreter (its own virtual environment).
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import lumacodec
from lumacodec import weights
from lumacodec.color import rgb_to_luma
from lumacodec.decoder import colour_from_L, resolve_device
from lumacodec.luma_colour import COLOURS, working_size


def kodak_sized(path: Path) -> np.ndarray:
    im = Image.open(path).convert("RGB")
    scale = max(768 / im.width, 512 / im.height)
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BOX)
    left, top = (im.width - 768) // 2, (im.height - 512) // 2
    return np.asarray(im.crop((left, top, left + 768, top + 512)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compressai-python", type=Path,
                        help="python of a virtual environment with compressai installed")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rgb = kodak_sized(args.image)
    lines = [
        f"# Decode time, 768×512, {args.device}, {args.threads} threads, median of {args.repeat}",
        "",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}. "
        f"Image: `{args.image.name}`. Command: `python {shlex.join(sys.argv)}`",
        "",
        "| quality | bpp | encode s | encode s (effort 0) | decode s (classical) "
        "| decode s (enhanced) | decode s (enhanced, no hints) |",
        "|---|---|---|---|---|---|---|",
    ]

    def median_time(fn: Callable[[], object]) -> float:
        fn()  # warm-up
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    slowest = 0.0
    for q in range(1, len(lumacodec.QUALITIES) + 1):
        data = lumacodec.encode(rgb, q)
        encode_s = median_time(lambda q=q: lumacodec.encode(rgb, q))
        ladder_s = median_time(lambda q=q: lumacodec.encode(rgb, q, effort=0))
        luma = lumacodec.encode(rgb, q, hints=False)
        row = [median_time(lambda d=d, e=e: lumacodec.decode(d, enhance=e, device=args.device))
               for d, e in ((data, False), (data, True), (luma, True))]
        slowest = max(slowest, row[1], row[2])
        bpp = len(data) * 8 / rgb.shape[0] / rgb.shape[1]
        lines.append(f"| {q} | {bpp:.3f} | {encode_s:.3f} | {ladder_s:.3f} | {row[0]:.3f} "
                     f"| {row[1]:.3f} | {row[2]:.3f} |")
        print(lines[-1], flush=True)
    if args.compressai_python:
        script = Path(__file__).with_name("compressai_decode_time.py")
        out = subprocess.run([str(args.compressai_python), str(script), "--threads",
                              str(args.threads), "--repeat", str(args.repeat)],
                             capture_output=True, text=True, check=True).stdout
        ref = json.loads(out.strip().splitlines()[-1])
        lines += ["", f"CompressAI bmshj2018-hyperprior (quality {ref['quality']}, "
                  f"{ref['weights']} weights: the same layers and shapes as the trained model; "
                  f"`benchmarks/compressai_decode_time.py`), same machine and threads: "
                  f"{ref['decode_ms'] / 1000:.3f} s per decode, "
                  f"{ref['decode_ms'] / 1000 / slowest:.1f}× lumacodec's slowest enhanced "
                  f"decode above ({slowest:.3f} s)."]
        print(lines[-1], flush=True)
    dev = resolve_device(args.device)
    nets = weights.bundled().to(dev)
    L = rgb_to_luma(rgb)
    for colour in COLOURS:
        t = median_time(lambda c=colour: colour_from_L(L, nets, dev, c))
        lines.append("")
        lines.append(f"Colour from L alone (`decoder.colour_from_L`, {colour}, working size "
                     f"{working_size(*L.shape)}): {1000 * t:.0f} ms.")
        print(lines[-1], flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
