"""What each lever of ``--tune ssim`` is worth: the AV1 tuning of its planes and the
weighing of its choice, one at a time and together.

Four encoders of ``tune="ssim"``, 2 × 2: the planes (L and hint, trials and final) coded with
libaom ``tune=psnr`` or ``tune=iq`` (:data:`lumacodec.avif.AOM_OPTIONS`), and the choice
weighing each candidate by its MS-SSIM in dB per photo or on the tangent of the dB scale at
the quality's mean loss (:func:`lumacodec.search._ssim_db`, the shipped one).  Each is
decoded with the networks (as the bench's ``lumacodec-ssim``) and classically, and scored as
the bench scores: per quality the mean over photos of MS-SSIM (then dB) and of PSNR-RGB, and
the BD-rate against Pillow's AVIF on the same photos.  Validation photos only (bsds500/val).

It also prints the mean MS-SSIM loss per quality of the shipped encoder, the references of
:data:`lumacodec.presets.SSIM_LOSSES`.

    python benchmarks/tune_ssim.py --images ../shared/datasets/bsds500/val --limit 12 \
        --out benchmarks/results/tune-ssim.md
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import lumacodec
from lumacodec import avif, search
from lumacodec.bench.bdrate import bd_rate
from lumacodec.bench.codecs import AvifCodec
from lumacodec.bench.metrics import ms_ssim_db, ms_ssim_rgb, psnr_rgb

#: (libaom tune of the planes, weighing of the choice) of each encoder measured.
CONFIGS = {
    "psnr-tuned planes, dB per photo (session 14)": ("psnr", "db"),
    "psnr-tuned planes, tangent": ("psnr", "tangent"),
    "iq-tuned planes, dB per photo": ("iq", "db"),
    "iq-tuned planes, tangent (shipped)": ("iq", "tangent"),
}
SHIPPED = "iq-tuned planes, tangent (shipped)"
_TANGENT = search._ssim_db


def _db_per_photo(loss: np.ndarray, reference: float) -> np.ndarray:
    return -10 * np.log10(np.maximum(loss, 1e-10))


def _points(task: tuple[str, Path]) -> dict[str, list[tuple[float, float, float]]]:
    """Per decoding ("enhanced", "classical" or "avif"), per quality: (bpp, PSNR-RGB, loss)."""
    torch.set_num_threads(1)
    config, path = task
    rgb = np.asarray(Image.open(path).convert("RGB"))
    pixels = rgb.shape[0] * rgb.shape[1]

    def score(data: bytes, out: np.ndarray) -> tuple[float, float, float]:
        return len(data) * 8 / pixels, psnr_rgb(rgb, out), 1 - ms_ssim_rgb(rgb, out)

    if config == "avif":
        codec = AvifCodec()
        return {"avif": [score(d, codec.decode(d)) for d in
                         (codec.encode(rgb, q) for q in codec.qualities)]}
    planes, weighing = CONFIGS[config]
    avif.AOM_OPTIONS["ssim"] = {"tune": planes}
    search._ssim_db = _TANGENT if weighing == "tangent" else _db_per_photo
    result: dict[str, list[tuple[float, float, float]]] = {"enhanced": [], "classical": []}
    for quality in range(1, 11):
        data = lumacodec.encode(rgb, quality, tune="ssim")
        for name, enhance in (("enhanced", True), ("classical", False)):
            out = np.asarray(lumacodec.decode(data, enhance=enhance).convert("RGB"))
            result[name].append(score(data, out))
    return result


def _curve(per_photo: list[list[tuple[float, float, float]]]) -> tuple[list, list, list, list]:
    """Mean bpp, PSNR-RGB, MS-SSIM dB (of the mean MS-SSIM) and mean loss per quality."""
    a = np.array(per_photo)  # photos × qualities × 3
    loss = a[..., 2].mean(0)
    return list(a[..., 0].mean(0)), list(a[..., 1].mean(0)), list(ms_ssim_db(1 - loss)), list(loss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    paths = sorted(p for p in args.images.iterdir()
                   if p.suffix.lower() in {".jpg", ".png"})[: args.limit]
    t0 = time.perf_counter()
    tasks = [(c, p) for c in ["avif", *CONFIGS] for p in paths]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(_points, tasks))
    by_config: dict[str, dict[str, list]] = {}
    for (config, _), r in zip(tasks, results, strict=True):
        for name, points in r.items():
            by_config.setdefault(config, {}).setdefault(name, []).append(points)
    anchor = _curve(by_config["avif"]["avif"])
    lines = [
        "# `--tune ssim`: what each lever is worth",
        "",
        f"`python benchmarks/tune_ssim.py --images {args.images} --limit {args.limit} "
        f"--out {args.out}` ({time.perf_counter() - t0:.0f} s, {args.jobs} jobs).  The first "
        f"{len(paths)} photos of {args.images.name}, `lumacodec.encode(photo, q, tune=\"ssim\")` "
        "at q 1–10 with each lever switched (see the script's docstring); BD-rate against "
        "Pillow's AVIF (speed 6, 4:2:0, q 0–90) on the same photos, MS-SSIM in dB of the mean "
        "over photos (the bench's convention).  Negative: fewer bits for the same quality.",
        "",
        "| planes, weighing | MS-SSIM, networks | PSNR-RGB, networks | MS-SSIM, classical "
        "| PSNR-RGB, classical |",
        "|---|---:|---:|---:|---:|",
    ]

    def pct(curve: tuple, metric: int) -> str:
        value = bd_rate(anchor[0], anchor[metric], curve[0], curve[metric]).value
        return f"{value:+.2f}%" if value is not None else "—"

    for config in CONFIGS:
        enhanced = _curve(by_config[config]["enhanced"])
        classical = _curve(by_config[config]["classical"])
        lines.append(f"| {config} | {pct(enhanced, 2)} | {pct(enhanced, 1)} | "
                     f"{pct(classical, 2)} | {pct(classical, 1)} |")
    shipped = _curve(by_config[SHIPPED]["enhanced"])
    lines += [
        "",
        "Mean MS-SSIM loss (1 − MS-SSIM) per quality of the shipped encoder, networks decoded "
        "(`lumacodec.presets.SSIM_LOSSES` holds the references the choice weighs at): "
        + ", ".join(f"{x:.4g}" for x in shipped[3]) + ".",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
