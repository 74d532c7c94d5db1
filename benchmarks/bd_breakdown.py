"""Where a BD-rate comes from: a codec's saving against an anchor, rung by rung.

The BD-rate of PSNR integrates the log-rate gap over the PSNR range both curves share, so
each stretch of that range weighs by its width in dB, not by its number of rungs.  For each
rung of the tested codec this prints, from a committed bench's per-codec JSON:

* the rung's local saving: its rate against the anchor's at the same PSNR (the anchor's
  log-rate linearly interpolated on its Pareto frontier);
* the share of the shared PSNR range that lies between the rung below and this one;
* the BD-rate (the ``bjontegaard`` package, as the bench reports it) of the curve up to this
  rung: how the figure builds up from the low rates.

    python benchmarks/bd_breakdown.py benchmarks/results/bsds500-test \\
        --codecs lumacodec,lumacodec-best --anchor avif --out benchmarks/results/bd-breakdown.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lumacodec.bench.bdrate import bd_rate, pareto_frontier

METRIC = "psnr-rgb"


def curve(results: Path, codec: str) -> tuple[np.ndarray, np.ndarray, list]:
    r = json.loads((results / f"{codec}.json").read_text())["results"]
    return np.array(r["bpp"]), np.array(r[METRIC]), r["quality"]


def breakdown(results: Path, codec: str, anchor: str) -> list[str]:
    ar, ad = pareto_frontier(*curve(results, anchor)[:2])
    rates, dists, qualities = curve(results, codec)
    lo, hi = max(ad.min(), dists.min()), min(ad.max(), dists.max())
    total = bd_rate(ar, ad, rates, dists).value
    lines = [f"## {codec} against {anchor}: BD-rate {total:+.2f}%, over {lo:.2f}–{hi:.2f} dB",
             "",
             "| quality | bpp | PSNR-RGB | local saving | share of the range below it "
             "| BD-rate up to it |",
             "|---:|---:|---:|---:|---:|---:|"]
    previous = lo
    for k, (q, rate, dist) in enumerate(zip(qualities, rates, dists, strict=True)):
        inside = ad.min() <= dist <= ad.max()
        local = (rate / np.exp(np.interp(dist, ad, np.log(ar))) - 1) * 100 if inside else None
        share = (min(dist, hi) - previous) / (hi - lo) if dist > lo else 0.0
        previous = max(previous, min(dist, hi))
        upto = bd_rate(ar, ad, rates[: k + 1], dists[: k + 1]).value if dist > lo else None
        lines.append(
            f"| {q} | {rate:.3f} | {dist:.2f} | "
            + (f"{local:+.1f}%" if local is not None else "outside") + " | "
            + f"{share * 100:.0f}% | " + (f"{upto:+.2f}%" if upto is not None else "—") + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="a bench output directory")
    ap.add_argument("--codecs", default="lumacodec,lumacodec-best")
    ap.add_argument("--anchor", default="avif")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    lines = ["# Where the BD-rate comes from", "",
             f"`python benchmarks/bd_breakdown.py {args.results} --codecs {args.codecs} "
             f"--anchor {args.anchor}`: {METRIC}, per rung (see the script's docstring).", ""]
    for codec in args.codecs.split(","):
        lines += breakdown(args.results, codec, args.anchor) + [""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
