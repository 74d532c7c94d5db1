"""``lumacodec.enhance`` on greyscale photos: the poster's use case, measured and shown.

    python benchmarks/enhance_examples.py --out benchmarks/results/enhance-examples.md

scikit-image's colour sample photos (``astronaut``, ``coffee``, ``chelsea``) are turned into
"old greyscale photos": CIELAB L only, bicubic-downsampled ×2 (antialiased) and rounded to 8
bits.  ``lumacodec.enhance(grey, scale=2)`` upscales and colourises them; the table compares
it with what the same input gives without networks (bicubic ×2, grey) against the original
colour photo.  ``camera`` (a real black-and-white photo, no colour original) is enhanced too.
The figure (JPEG, beside the table) shows input, output and original side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage import data
from skimage.color import deltaE_ciede2000

import lumacodec
from lumacodec.color import L_to_grey_u8, rgb_to_lab
from lumacodec.resample import downsample_bicubic

COLOUR_SAMPLES = ("astronaut", "coffee", "chelsea")
GREY_SAMPLES = ("camera",)
SCALE = 2
TILE = 300  # figure cell height, pixels


def psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10.0 * np.log10(peak**2 / max(mse, 1e-12))


def old_photo(rgb: np.ndarray) -> Image.Image:
    """The colour photo as a small greyscale print: L only, ×1/2 bicubic, 8 bits."""
    L = rgb_to_lab(rgb)[..., 0]
    return Image.fromarray(L_to_grey_u8(downsample_bicubic(L, SCALE)), "L")


def _cell(image: Image.Image, label: str) -> Image.Image:
    image = image.convert("RGB")
    image = image.resize((round(image.width * TILE / image.height), TILE),
                         Image.Resampling.LANCZOS)
    ImageDraw.Draw(image).text((6, 4), label, fill=(255, 255, 0))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/enhance-examples.md"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows, figure_rows = [], []
    for name in (*COLOUR_SAMPLES, *GREY_SAMPLES):
        source = getattr(data, name)()
        if source.ndim == 2:
            grey = Image.fromarray(source, "L")
            out = lumacodec.enhance(grey, scale=SCALE, device="cpu")
            bicubic = grey.resize(out.size, Image.Resampling.BICUBIC)
            figure_rows.append([_cell(bicubic, f"{name}: input, bicubic x2"),
                                _cell(out, "lumacodec.enhance")])
            continue
        h, w = (d - d % (2 * SCALE) for d in source.shape[:2])
        rgb = source[:h, :w]
        grey = old_photo(rgb)
        out = lumacodec.enhance(grey, scale=SCALE, device="cpu")
        bicubic = grey.resize(out.size, Image.Resampling.BICUBIC).convert("RGB")
        lab = rgb_to_lab(rgb)
        lab_net, lab_bic = rgb_to_lab(np.asarray(out)), rgb_to_lab(np.asarray(bicubic))
        rows.append((
            name, f"{w}×{h}",
            psnr(lab_bic[..., 0], lab[..., 0], 100.0), psnr(lab_net[..., 0], lab[..., 0], 100.0),
            float(deltaE_ciede2000(lab, lab_bic).mean()),
            float(deltaE_ciede2000(lab, lab_net).mean()),
            psnr(np.asarray(bicubic), rgb, 255.0), psnr(np.asarray(out), rgb, 255.0),
        ))
        figure_rows.append([_cell(bicubic, f"{name}: input, bicubic x2"),
                            _cell(out, "lumacodec.enhance"),
                            _cell(Image.fromarray(rgb), "original")])

    width = max(sum(c.width for c in row) for row in figure_rows)
    figure = Image.new("RGB", (width, TILE * len(figure_rows)), (255, 255, 255))
    for i, row in enumerate(figure_rows):
        x = 0
        for cell in row:
            figure.paste(cell, (x, i * TILE))
            x += cell.width
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure_path = args.out.with_suffix(".jpg")
    figure.save(figure_path, quality=88)

    lines = [
        "# `lumacodec.enhance` on greyscale photos",
        "",
        f"Written by `python benchmarks/enhance_examples.py --out {args.out.as_posix()}`.",
        "Each colour photo of scikit-image's samples made an \"old greyscale photo\" (CIELAB L "
        f"only, bicubic ×1/{SCALE}, 8 bits), then restored by `lumacodec.enhance(grey, "
        f"scale={SCALE})` (clean ×{SCALE} SR, colour from L alone), against the same input "
        f"without networks (bicubic ×{SCALE}, grey).  Compared with the original photo.",
        "",
        "| photo | size | PSNR-L bicubic → enhance (dB) | CIEDE2000 grey → enhance | "
        "PSNR-RGB bicubic grey → enhance (dB) |",
        "|---|---|---|---|---|",
    ]
    for name, size, pl_b, pl_n, de_b, de_n, pr_b, pr_n in rows:
        lines.append(f"| {name} | {size} | {pl_b:.2f} → {pl_n:.2f} ({pl_n - pl_b:+.2f}) | "
                     f"{de_b:.2f} → {de_n:.2f} ({(de_n - de_b) / de_b:+.0%}) | "
                     f"{pr_b:.2f} → {pr_n:.2f} ({pr_n - pr_b:+.2f}) |")
    lines += ["", f"![input, lumacodec.enhance, original]({figure_path.name})", "",
              f"Last row: `{', '.join(GREY_SAMPLES)}`, a real black-and-white photo (no colour "
              "original to compare with).", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
