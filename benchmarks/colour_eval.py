"""Colour from lightness alone, measured: hint-free decodes and ``enhance`` against grey.

    python benchmarks/colour_eval.py --data ../shared/datasets \\
        --out benchmarks/results/colour.md --sheet benchmarks/results/colour-contact-sheet.jpg

Per validation set (``colour_photos/val``, the first ``--bsds`` of ``bsds500/test``,
``set14``; greyscale images left out), never trained on:

* **hint-free decode** at qualities 1, 5 and 9: the L a pure-luma stream decodes to (the
  preset's base layer coded, decoded and super-resolved, as :func:`lumacodec.decode` does),
  coloured by the network set's colour-from-L network (``faithful``, the streams' default) and,
  for comparison, by the hint-free path of the hinted colorizer (what streams decoded to
  before it); against *grey of the same L* (a = b = 0).  Mean CIEDE2000 against the original
  (full Lab: the L error counts in every column), the share of photos better than grey, the
  mean a*/b* bias (prediction − original) and colourfulness (Hasler & Süsstrunk 2003)
  relative to the original's.
* **enhance** at scale 1 (exact L), ``faithful`` and ``vivid``: the same measures.
* **hinted**: mean CIEDE2000 with exact L and the hint a stream carries (AV1 quality 50) at
  1/8, 1/16 and 1/32, through the hint restorer and the colorizer (and, with
  ``--baseline-colorizer``, through another colorizer for comparison).

The contact sheet shows 24 photos of ``colour_photos/val`` (a fixed draw): grey / faithful /
vivid / original, on the exact L.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage.color import deltaE_ciede2000

from lumacodec import QUALITIES, weights
from lumacodec.baselayer import decode_base, encode_base
from lumacodec.color import lab_to_rgb_u8, rgb_to_lab
from lumacodec.decoder import colorize, colour_from_L, restore_hint, super_resolve
from lumacodec.hints import decode_hint, encode_hint, upsample_hint
from lumacodec.networks import load_network

QUALITY_ROWS = (1, 5, 9)
HINT_FACTORS = (8, 16, 32)
HINT_QUALITY = 50
SHEET_PHOTOS = 24


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk's colourfulness of an sRGB uint8 image."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def load(path: Path, max_side: int = 1000) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("RGB")
        if max(im.size) > max_side:
            k = -(-max(im.size) // max_side)
            im = im.reduce(k)
        return np.asarray(im)


def ciede(L: np.ndarray, ab: np.ndarray, lab_true: np.ndarray) -> float:
    """Mean CIEDE2000 of the image L + ab against the original Lab (H, W, 3)."""
    lab = np.stack([L, ab[0], ab[1]], -1)
    return float(deltaE_ciede2000(lab_true.astype(np.float64), lab.astype(np.float64)).mean())


def measure(L: np.ndarray, ab: np.ndarray, lab_true: np.ndarray, colourful: float
            ) -> tuple[float, float, float, float]:
    """(mean CIEDE2000, a bias, b bias, colourfulness / original's) of the image L + ab."""
    lab = np.stack([L, ab[0], ab[1]], -1)
    de = ciede(L, ab, lab_true)
    bias = (ab - lab_true[..., 1:].transpose(2, 0, 1)).mean(axis=(1, 2))
    return de, float(bias[0]), float(bias[1]), colourfulness(lab_to_rgb_u8(lab)) / colourful


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/datasets")
    parser.add_argument("--weights-dir", default=str(weights.BUNDLED_DIR))
    parser.add_argument("--bsds", type=int, default=50, help="first N photos of bsds500/test")
    parser.add_argument("--limit", type=int, default=0, help="photos per set (smoke runs)")
    parser.add_argument("--baseline-colorizer", default="",
                        help="a colorizer weights file to compare the hinted rows with")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/colour.md")
    parser.add_argument("--sheet", default="benchmarks/results/colour-contact-sheet.jpg")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    root = Path(args.data)
    ext = (".jpg", ".jpeg", ".png")
    sets = {
        "colour_photos/val": sorted(p for p in (root / "colour_photos/val").iterdir()
                                    if p.suffix.lower() in ext),
        f"bsds500/test[:{args.bsds}]": sorted(p for p in (root / "bsds500/test").iterdir()
                                              if p.suffix.lower() in ext)[: args.bsds],
        "set14": sorted(p for p in (root / "set14").iterdir() if p.suffix.lower() in ext),
    }
    nets = weights.load_network_set(Path(args.weights_dir))
    old = weights.NetworkSet(nets.sr, nets.colorizer, nets.id, nets.sr_clean,
                             nets.hint_restorer, None)  # the colorizer's hint-free path
    baseline = None
    if args.baseline_colorizer:
        base_net = load_network(args.baseline_colorizer)
        baseline = weights.NetworkSet(nets.sr, base_net, nets.id,  # type: ignore[arg-type]
                                      nets.sr_clean, nets.hint_restorer, None)
    cpu = torch.device("cpu")
    # rows[(set, row)] -> list of (de, a bias, b bias, colourfulness ratio, de grey)
    rows: dict[tuple[str, str], list[tuple[float, ...]]] = defaultdict(list)
    sheet: list[list[np.ndarray]] = []
    sheet_pick = set(np.random.default_rng(0).choice(300, SHEET_PHOTOS, replace=False).tolist())
    for name, paths in sets.items():
        paths = paths[: args.limit] if args.limit else paths
        for i, path in enumerate(paths):
            rgb = load(path)
            lab = rgb_to_lab(rgb)
            if np.abs(lab[..., 1:]).max() <= 2.0:
                continue  # a greyscale photo: no colour to bring back
            L = np.ascontiguousarray(lab[..., 0])
            c0 = max(colourfulness(rgb), 1e-6)
            zero = np.zeros((2, *L.shape), np.float32)

            def add(row: str, L_: np.ndarray, ab: np.ndarray, grey: float,
                    _name: str = name, _lab: np.ndarray = lab, _c0: float = c0) -> None:
                rows[(_name, row)].append((*measure(L_, ab, _lab, _c0), grey))

            for q in QUALITY_ROWS:
                p = QUALITIES[q - 1]
                low = decode_base(encode_base(L, p.scale, p.base_quality), *L.shape, p.scale)
                Ld = np.clip(super_resolve(low, p.scale, p.base_quality, L.shape, nets, cpu),
                             0, 100)
                grey = ciede(Ld, zero, lab)
                add(f"q{q} hint-free, faithful", Ld, colour_from_L(Ld, nets, cpu), grey)
                add(f"q{q} hint-free, before (colorizer, no hint)", Ld,
                    colour_from_L(Ld, old, cpu), grey)
            faithful = colour_from_L(L, nets, cpu, "faithful")
            vivid = colour_from_L(L, nets, cpu, "vivid")
            grey = ciede(L, zero, lab)
            add("enhance (exact L), faithful", L, faithful, grey)
            add("enhance (exact L), vivid", L, vivid, grey)
            add("enhance (exact L), before", L, colour_from_L(L, old, cpu), grey)
            ab_true = np.ascontiguousarray(lab[..., 1:].transpose(2, 0, 1))
            for f in HINT_FACTORS:
                small = decode_hint(encode_hint(ab_true, f, HINT_QUALITY), *L.shape, f)
                restored = restore_hint(small, L, f, HINT_QUALITY, nets, cpu)
                hint = upsample_hint(restored, f, L.shape)
                add(f"hinted 1/{f} q{HINT_QUALITY}", L, colorize(L, hint, f, nets, cpu), grey)
                if baseline is not None:
                    add(f"hinted 1/{f} q{HINT_QUALITY}, baseline colorizer", L,
                        colorize(L, hint, f, baseline, cpu), grey)
            if name == "colour_photos/val" and i in sheet_pick:
                sheet.append([lab_to_rgb_u8(np.stack([L, *zero], -1)),
                              lab_to_rgb_u8(np.stack([L, *faithful], -1)),
                              lab_to_rgb_u8(np.stack([L, *vivid], -1)), rgb])
        print(f"{name}: {len(paths)} photos, {time.time() - t0:.0f} s", flush=True)

    lines = [
        "# Colour from lightness alone",
        "",
        f"`python benchmarks/colour_eval.py --bsds {args.bsds}` ({time.time() - t0:.0f} s; "
        f"network set {nets.id.hex()}). Validation photos only (never trained on); greyscale "
        "photos left out. Mean CIEDE2000 against the original in full Lab (the decoded L's "
        "error counts in every column), grey = the same L with a = b = 0; *better* = share of "
        "photos below grey; bias = mean a*/b* of prediction − original; colourfulness "
        "(Hasler–Süsstrunk) relative to the original's, mean over photos.",
        "",
        "| set | row | photos | CIEDE2000 | grey | vs grey | better | a* bias | b* bias "
        "| colourfulness |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, row), vals in rows.items():
        v = np.array(vals)
        de, grey = v[:, 0].mean(), v[:, 4].mean()
        lines.append(
            f"| {name} | {row} | {len(v)} | {de:.2f} | {grey:.2f} | {100 * (de / grey - 1):+.1f}% "
            f"| {100 * np.mean(v[:, 0] < v[:, 4]):.0f}% | {v[:, 1].mean():+.2f} "
            f"| {v[:, 2].mean():+.2f} | {v[:, 3].mean():.2f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if sheet:
        write_sheet(sheet, Path(args.sheet))
        lines += ["", f"Contact sheet: [{Path(args.sheet).name}]({Path(args.sheet).name}) "
                  "(grey / faithful / vivid / original, exact L)."]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def write_sheet(rows: list[list[np.ndarray]], path: Path, height: int = 150) -> None:
    """Rows of (grey, faithful, vivid, original), two rows of photos side by side."""
    thumbs = [[Image.fromarray(im).resize((round(im.shape[1] * height / im.shape[0]), height),
                                          Image.Resampling.LANCZOS) for im in row]
              for row in rows]
    cell = max(t.width for row in thumbs for t in row)
    pad, head = 4, 22
    cols = 2
    n_rows = -(-len(thumbs) // cols)
    sheet = Image.new("RGB", (cols * 4 * (cell + pad) + (cols - 1) * 12,
                              head + n_rows * (height + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    for c in range(cols):
        for j, label in enumerate(("grey", "faithful", "vivid", "original")):
            draw.text((c * (4 * (cell + pad) + 12) + j * (cell + pad) + 4, 5), label, fill="black")
    for k, row in enumerate(thumbs):
        c, r = divmod(k, n_rows)
        for j, t in enumerate(row):
            x = c * (4 * (cell + pad) + 12) + j * (cell + pad) + (cell - t.width) // 2
            sheet.paste(t, (x, head + r * (height + pad)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=88)


if __name__ == "__main__":
    main()
