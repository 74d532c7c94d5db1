"""Measure libaom's options on the L planes lumacodec codes, and pick them per effort level.

Each configuration codes the base-layer planes the ladder uses (L at full resolution and at
1/2, as :func:`lumacodec.baselayer.encode_base` makes them) at the ladder's base qualities;
the score is the BD-rate of PSNR-L (8-bit plane) over bytes against today's setting (libaom
``tune=psnr`` at the effort's speed), and the encode time per plane.  Validation photos only
(bsds500/val), never the bench's.

    python benchmarks/tune_av1.py --images ../shared/datasets/bsds500/val --limit 12 \
        --out benchmarks/results/av1-options.md

``--slowest`` measures instead libaom's two slowest speeds, 0 and 1, against effort 2's
(full-resolution planes of the first ``--speed-limit`` photos): whether best mode has more to
take from AV1 (benchmarks/results/av1-slowest.md).
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lumacodec import avif
from lumacodec.baselayer import L_to_u8, downsample
from lumacodec.bench.bdrate import bd_rate
from lumacodec.color import rgb_to_lab

QUALITIES = {1: (5, 10, 15, 20, 25, 30, 40, 50, 60), 2: (10, 15, 20, 25, 30, 40)}
BASE = {"tune": "psnr"}
#: Options measured one at a time on top of today's, then the best ones together.
VARIANTS: dict[str, dict[str, str]] = {
    "enable-qm=1": {"enable-qm": "1"},
    "enable-qm=1 qm 0-8": {"enable-qm": "1", "qm-min": "0", "qm-max": "8"},
    "deltaq-mode=1": {"deltaq-mode": "1"},
    "aq-mode=1": {"aq-mode": "1"},
    "aq-mode=2": {"aq-mode": "2"},
    "aq-mode=3": {"aq-mode": "3"},
    "sharpness=1": {"sharpness": "1"},
    "sharpness=3": {"sharpness": "3"},
    "tune=ssim": {"tune": "ssim"},
    "enable-tpl-model=0": {"enable-tpl-model": "0"},
}


DECISION = """What lumacodec takes (`lumacodec.avif.SPEED_FOR_EFFORT`, `AOM_OPTIONS`): none of the
options beats today's (`deltaq-mode`, `aq-mode` and `enable-tpl-model` change nothing on a still
grey plane; quantisation matrices and sharpness cost 2–5%; `tune=ssim` is level on PSNR), so
`tune=psnr` stays.  Speed is the lever: the settings search's trial codings run at speed 9 (a
tenth of speed 6's time; it only has to rank the settings), efforts 0 and 1 code the chosen
planes at speed 6, and effort 2 at speed 3 (−8% to −10%, nearly all of speed 2's −8.5% to −10%
for three quarters of its time)."""


def planes(paths: list[Path]) -> dict[int, list[np.ndarray]]:
    out: dict[int, list[np.ndarray]] = {s: [] for s in QUALITIES}
    for p in paths:
        rgb = np.asarray(Image.open(p).convert("RGB"))
        L = rgb_to_lab(rgb)[..., 0]
        for s in QUALITIES:
            out[s].append(L_to_u8(downsample(L, s)))
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-10))


def measure(plane_sets: dict[int, list[np.ndarray]], speed: int, options: dict[str, str]
            ) -> dict[int, tuple[list[float], list[float], float]]:
    """Per scale: mean bpp and mean PSNR per quality, and seconds per encode."""
    result = {}
    for s, plane_set in plane_sets.items():
        rates, dists, seconds, n = [], [], 0.0, 0
        for q in QUALITIES[s]:
            bpp, db = [], []
            for plane in plane_set:
                buf = io.BytesIO()
                t = time.perf_counter()
                Image.fromarray(plane, "L").save(buf, "AVIF", quality=q, speed=speed, max_threads=1,
                                                 advanced=options)
                seconds += time.perf_counter() - t
                n += 1
                data = buf.getvalue()
                dec = avif.decode_grey(data, *plane.shape)
                bpp.append(8 * len(data) / plane.size)
                db.append(psnr(dec, plane))
            rates.append(float(np.mean(bpp)))
            dists.append(float(np.mean(db)))
        result[s] = (rates, dists, seconds / n)
    return result


def slowest(paths: list[Path], args: argparse.Namespace) -> None:
    """Speeds 0 and 1 against effort 2's speed on the full-resolution planes of ``paths``."""
    t0 = time.perf_counter()
    full = {1: planes(paths)[1]}
    anchor_speed = avif.SPEED_FOR_EFFORT[2]
    anchor = measure(full, anchor_speed, BASE)[1]
    rows = [f"| {anchor_speed} | +0.00% | {anchor[2]:.2f} |"]
    for speed in (1, 0):
        rates, dists, seconds = measure(full, speed, BASE)[1]
        rows.append(f"| {speed} | {bd_rate(anchor[0], anchor[1], rates, dists).value:+.2f}% "
                    f"| {seconds:.2f} |")
        print(rows[-1], flush=True)
    lines = [
        "# libaom's slowest speeds on lumacodec's full-resolution L planes",
        "",
        f"`python benchmarks/tune_av1.py --images {args.images} --speed-limit {len(paths)} "
        f"--slowest --out {args.out}` ({time.perf_counter() - t0:.0f} s).  Planes: L of the "
        f"first {len(paths)} photos of {args.images.name} at qualities "
        f"{', '.join(map(str, QUALITIES[1]))}; BD-rate of PSNR-L over bytes against best "
        f"mode's speed {anchor_speed} (`tune=psnr`), and seconds per encode (one thread).",
        "",
        "| speed | BD-rate | s/encode |",
        "|---:|---:|---:|",
        *rows,
    ]
    args.out.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--speed-limit", type=int, default=6,
                    help="images for the speed sweep (slow speeds are slow)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--slowest", action="store_true",
                    help="measure speeds 0 and 1 against effort 2's speed instead")
    args = ap.parse_args()
    paths = sorted(p for p in args.images.iterdir()
                   if p.suffix.lower() in {".jpg", ".png"})[: args.limit]
    if args.slowest:
        slowest(paths[: args.speed_limit], args)
        return
    sets = planes(paths)
    few = {s: v[: args.speed_limit] for s, v in sets.items()}
    rows: list[tuple[str, str, dict]] = []
    t0 = time.perf_counter()

    def row(group: str, name: str, data: dict, anchor: dict) -> None:
        rows.append((group, name, {s: (bd_rate(anchor[s][0], anchor[s][1], data[s][0],
                                                data[s][1]).value, data[s][2]) for s in data}))
        print(group, name, rows[-1][2], flush=True)

    default_speed = avif.SPEED_FOR_EFFORT[1]
    base = measure(sets, default_speed, BASE)
    row("options", f"today: tune=psnr, speed {default_speed}", base, base)
    for name, opts in VARIANTS.items():
        row("options", name, measure(sets, default_speed, {**BASE, **opts}), base)
    base_few = measure(few, default_speed, BASE)
    for speed in (2, 3, 4, 5, 6, 7, 8, 9):
        row("speed", f"speed {speed}", measure(few, speed, BASE), base_few)
        row("speed", f"speed {speed}, enable-qm=1",
            measure(few, speed, {**BASE, "enable-qm": "1"}), base_few)
    lines = [
        "# libaom options on lumacodec's L planes",
        "",
        f"`python benchmarks/tune_av1.py --images {args.images} --limit {args.limit} "
        f"--out {args.out}` ({time.perf_counter() - t0:.0f} s).  Planes: L of the first "
        f"{len(paths)} photos of {args.images.name} at full resolution (qualities "
        f"{', '.join(map(str, QUALITIES[1]))}) and at 1/2 ({', '.join(map(str, QUALITIES[2]))}),"
        f" as the base layer codes them.  BD-rate of PSNR-L over bytes (negative: fewer bytes "
        f"for the same PSNR) against today's setting (`tune=psnr`, speed {default_speed}); the "
        f"speed rows use the first {args.speed_limit} photos against the same anchor on them.  "
        "Time: mean seconds per plane encode (one thread of Pillow's libaom).",
        "",
        "| group | setting | BD-rate ×1 | BD-rate ×1/2 | s/encode ×1 | s/encode ×1/2 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for group, name, r in rows:
        cells = [f"{r[s][0]:+.1f}%" if r[s][0] is not None else "—" for s in QUALITIES]
        times = [f"{r[s][1]:.3f}" for s in QUALITIES]
        lines.append(f"| {group} | {name} | {' | '.join(cells)} | {' | '.join(times)} |")
    lines += ["", DECISION]
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
