"""Calibrate the encoder's per-image settings choice (:mod:`lumacodec.search`).

For each quality of the ladder it finds the rate–distortion slope λ (dB of PSNR-RGB per bit
per pixel) at which choosing, *per image*, the setting that maximises ``PSNR-RGB − λ·bpp``
spends on average the ladder's own rate.  Printed as the constants of
:mod:`lumacodec.presets`, with the fixed ladder and the choice compared at equal mean rate.
The classical reconstruction is measured (the encoder cannot afford the networks per
candidate); only settings the networks were trained on are allowed.

    python benchmarks/tune_search.py --images ../shared/datasets/bsds500/val --limit 16 \
        --out benchmarks/results/search.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from tune_presets import measure_image

from lumacodec.presets import QUALITIES, SEARCH_BASE, SEARCH_HINTS


def allowed(key: tuple) -> bool:
    s, q, f, hq = key
    return q in SEARCH_BASE[s] and (f, hq) in SEARCH_HINTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    res = []
    for path in files[: args.limit]:
        points = measure_image(np.asarray(Image.open(path).convert("RGB")), enhance=False)
        res.append({k: v for k, v in points.items() if k[0] != "avif" and allowed(k)})

    def picks(lam: float) -> list[tuple[tuple, tuple[float, float]]]:
        return [max(r.items(), key=lambda kv: kv[1][1] - lam * kv[1][0]) for r in res]

    lines = [
        "# Per-image settings search: calibration",
        "",
        f"{len(res)} images of `{args.images}`, classical reconstruction, mean of per-image "
        "bpp and PSNR-RGB.  Command: `python benchmarks/tune_search.py --images "
        f"{args.images} --limit {args.limit} --out {args.out}`",
        "",
        "Search columns: the best of all allowed settings per image, as the encoder chooses "
        "them\n(`benchmarks/results/bsds500-test` measures it on other photos, with the "
        "networks).",
        "",
        "| quality | ladder bpp | ladder PSNR-RGB | λ (dB/bpp) | search bpp | search PSNR-RGB "
        "| gain |",
        "|---|---|---|---|---|---|---|",
    ]
    slopes = []
    for i, p in enumerate(QUALITIES):
        key = (p.scale, p.base_quality, p.hint_factor, p.hint_quality)
        rate = float(np.mean([r[key][0] for r in res]))
        dist = float(np.mean([r[key][1] for r in res]))
        lo, hi = 0.5, 5000.0
        for _ in range(60):  # mean rate falls as λ grows: bisect on a log scale
            mid = float(np.sqrt(lo * hi))
            lo, hi = (mid, hi) if np.mean([v[0] for _, v in picks(mid)]) > rate else (lo, mid)
        lam = round(float(np.sqrt(lo * hi)), 1)
        chosen = picks(lam)
        s_rate = float(np.mean([v[0] for _, v in chosen]))
        s_dist = float(np.mean([v[1] for _, v in chosen]))
        lines.append(f"| {i + 1} | {rate:.4f} | {dist:.2f} | {lam} | {s_rate:.4f} | "
                     f"{s_dist:.2f} | {s_dist - dist:+.2f} |")
        slopes.append(lam)
    lines += ["", "Constants for `lumacodec/presets.py`:", "", "```python",
              f"SEARCH_SLOPES = {tuple(slopes)}", "```", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
