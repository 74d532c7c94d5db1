"""Guided colour, measured: the simulated-user protocol of Zhang et al. 2017.

    python benchmarks/guided_eval.py --data ../shared/datasets \\
        --out benchmarks/results/guided.md --sheet benchmarks/results/guided-contact-sheet.jpg
    python benchmarks/guided_eval.py --tune 60 --spread length=40,160 --spread edge=3,6
                                             # the spreading's settings, on training photos
    python benchmarks/guided_eval.py --tune 60 --spread edge=3,6 \\
        --tune-from colour_photos/train,bsds500/train,wikipedia_photos   # several folders

Per validation set (``colour_photos/val``, the first ``--bsds`` of ``bsds500/test``,
``set14``; greyscale photos left out; never trained on), with the exact L of each photo:

* **points**: 0, 1, 2, 5, 10 and 20 points sampled from the original with a fixed seed, each
  placed as a person would click (inside a region, not on an edge:
  :func:`training.guided_data.click_map`), a square of half-side 0-4 px whose colour is the
  mean true colour of the square, given as an sRGB point (what a colour picker returns), and
  coloured by :func:`lumacodec.guided.guided_colour`;
* **reference**: the left half of each photo as the reference photo for its right half
  (measured on the right half, against grey of the right half).

Columns: mean CIEDE2000 against the original in full Lab, grey (a = b = 0, same L), their
ratio, the share of photos better than grey, mean a*/b* bias (prediction − original) and
colourfulness (Hasler–Süsstrunk) relative to the original's.  Then the latency of one studio
update (working-size preview of a 768×512 photo with 5 points) and of a full-resolution ×2
save, on ``--threads`` threads, and a contact sheet: grey / automatic / 1 point / 5 points /
reference (left half given, right half coloured) / original, points drawn.

``--tune`` measures 1, 5 and 10 points on training photos (``colour_photos/train``) over a
grid of :func:`lumacodec.colour_spread.spread`'s keywords (``--spread NAME=V1,V2``: length,
edge, lightness_range, offset_prior, offset_range), and the reference mode over the
strength of its colour transfer, so the constants are never chosen on the validation sets.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.colour_eval import ciede, colourfulness, load, measure  # noqa: E402
from lumacodec import colour_spread, enhance, guided, weights  # noqa: E402
from lumacodec.color import lab_to_rgb_u8, rgb_to_lab  # noqa: E402
from lumacodec.decoder import colour_from_L  # noqa: E402
from lumacodec.guided import guided_colour  # noqa: E402
from lumacodec.points import Point  # noqa: E402
from training.guided_data import click_map  # noqa: E402

POINT_COUNTS = (0, 1, 2, 5, 10, 20)
MAX_RADIUS = 4
SHEET_PHOTOS = 8
EXT = (".jpg", ".jpeg", ".png")


def photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXT)


def sample_points(lab: np.ndarray, n: int, rng: np.random.Generator) -> list[Point]:
    """``n`` simulated clicks on a photo (Lab, H×W×3): inside regions, each the sRGB colour of
    the mean true colour (full Lab) of its square."""
    if n == 0:
        return []
    ys, xs = np.nonzero(click_map(lab[..., 0]))
    if ys.size == 0:
        ys, xs = np.nonzero(np.ones(lab.shape[:2], bool))
    pick = rng.integers(ys.size, size=n)
    out = []
    for y, x in zip(ys[pick], xs[pick], strict=True):
        r = int(rng.integers(MAX_RADIUS + 1))
        patch = lab[max(0, y - r): y + r + 1, max(0, x - r): x + r + 1].reshape(-1, 3)
        rgb = lab_to_rgb_u8(patch.mean(0)[None, None].astype(np.float32))[0, 0]
        out.append(Point(int(x), int(y), tuple(int(v) for v in rgb), max(r, 0)))
    return out


def draw_points(rgb: np.ndarray, points: list[Point]) -> np.ndarray:
    """The photo with each point drawn as a disc of its colour, ringed black and white."""
    im = Image.fromarray(rgb)
    d = ImageDraw.Draw(im)
    s = max(4, round(min(rgb.shape[:2]) / 40))
    for p in points:
        box = (p.x - s, p.y - s, p.x + s, p.y + s)
        d.ellipse(box, fill=p.rgb, outline=(255, 255, 255), width=2)
        d.ellipse((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1), outline=(0, 0, 0))
    return np.asarray(im)


def ref_split(rgb: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left half sRGB = the reference, right half Lab = what is coloured)."""
    half = rgb.shape[1] // 2
    return rgb[:, :half], np.ascontiguousarray(lab[:, half:])


def evaluate(sets: dict[str, list[Path]], nets: weights.NetworkSet, sheet_set: str,
             sheet_pick: set[int], counts: tuple[int, ...] = POINT_COUNTS,
             reference: bool = True, vivid: bool = True
             ) -> tuple[dict[tuple[str, str], list[tuple[float, ...]]], list[list[np.ndarray]]]:
    """The table's rows (per (set, row): (de, a bias, b bias, colourfulness, de grey) per
    photo) and the contact sheet's rows."""
    rows: dict[tuple[str, str], list[tuple[float, ...]]] = defaultdict(list)
    sheet: list[list[np.ndarray]] = []
    cpu = torch.device("cpu")
    for name, paths in sets.items():
        t0 = time.time()
        for i, path in enumerate(paths):
            rgb = load(path)
            lab = rgb_to_lab(rgb)
            if np.abs(lab[..., 1:]).max() <= 2.0:
                continue
            L = np.ascontiguousarray(lab[..., 0])
            zero = np.zeros((2, *L.shape), np.float32)
            grey = ciede(L, zero, lab)
            c0 = max(colourfulness(rgb), 1e-6)
            rng = np.random.default_rng(1000 + i)
            made: dict[str, np.ndarray] = {}
            drawn: dict[int, list[Point]] = {}
            for n in counts:
                pts = sample_points(lab, n, rng)
                drawn[n] = pts
                ab = guided_colour(L, pts, networks=nets, device=cpu)
                made[str(n)] = ab
                rows[(name, f"{n} points")].append((*measure(L, ab, lab, c0), grey))
                if vivid and n == 5:
                    abv = guided_colour(L, pts, colour="vivid", networks=nets, device=cpu)
                    rows[(name, "5 points, vivid")].append((*measure(L, abv, lab, c0), grey))
            if reference:
                ref, lab_r = ref_split(rgb, lab)
                Lr = lab_r[..., 0]
                zr = np.zeros((2, *Lr.shape), np.float32)
                ab_r = guided_colour(Lr, reference=ref, networks=nets, device=cpu)
                c0r = max(colourfulness(lab_to_rgb_u8(lab_r)), 1e-6)
                rows[(name, "reference (left half)")].append(
                    (*measure(Lr, ab_r, lab_r, c0r), ciede(Lr, zr, lab_r)))
                rows[(name, "0 points, right half")].append(
                    (*measure(Lr, colour_from_L(Lr, nets, cpu), lab_r, c0r),
                     ciede(Lr, zr, lab_r)))
                made["ref"] = np.concatenate([lab[:, : ref.shape[1], 1:].transpose(2, 0, 1),
                                              ab_r], axis=2)
            if name == sheet_set and i in sheet_pick and {"0", "1", "5", "ref"} <= made.keys():
                def rgb_of(ab: np.ndarray, _L: np.ndarray = L) -> np.ndarray:
                    return lab_to_rgb_u8(np.stack([_L, *ab], -1))
                ref_im = rgb_of(made["ref"]).copy()
                ref_im[:, ref_split(rgb, lab)[0].shape[1]] = 255
                sheet.append([rgb_of(zero), rgb_of(made["0"]),
                              draw_points(rgb_of(made["1"]), drawn[1]),
                              draw_points(rgb_of(made["5"]), drawn[5]), ref_im, rgb])
        print(f"{name}: {len(paths)} photos, {time.time() - t0:.0f} s", flush=True)
    return rows, sheet


def table(rows: dict[tuple[str, str], list[tuple[float, ...]]]) -> list[str]:
    lines = ["| set | row | photos | CIEDE2000 | grey | vs grey | better | a* bias | b* bias "
             "| colourfulness |", "|---|---|---|---|---|---|---|---|---|---|"]
    for (name, row), vals in rows.items():
        v = np.array(vals)
        de, grey = v[:, 0].mean(), v[:, 4].mean()
        lines.append(
            f"| {name} | {row} | {len(v)} | {de:.2f} | {grey:.2f} | {de / grey:.3f} "
            f"| {100 * np.mean(v[:, 0] < v[:, 4]):.0f}% | {v[:, 1].mean():+.2f} "
            f"| {v[:, 2].mean():+.2f} | {v[:, 3].mean():.2f} |")
    return lines


def latency(nets: weights.NetworkSet, repeats: int = 5) -> list[str]:
    """One studio update and one ×2 save of a 768×512 photo with 5 points."""
    from lumacodec.decoder import inference
    from lumacodec.luma_colour import working_size
    from lumacodec.resample import resize

    rng = np.random.default_rng(0)
    rgb = np.asarray(Image.fromarray(data.chelsea()).resize((768, 512)))
    lab = rgb_to_lab(rgb)
    L = np.ascontiguousarray(lab[..., 0])
    pts = sample_points(lab, 5, rng)
    cpu = torch.device("cpu")
    net = nets.guided_colorizer
    ref = guided.reference_vector(rgb, net.reference_bins)

    def best(f: object, n: int = repeats) -> tuple[float, float]:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            f()  # type: ignore[operator]
            times.append(time.perf_counter() - t)
        return min(times), float(np.median(times))

    L_work = resize(L[None], working_size(*L.shape))[0]
    scaled = [Point(round(p.x * L_work.shape[1] / 768), round(p.y * L_work.shape[0] / 512),
                    p.rgb, p.radius) for p in pts]

    def update() -> None:
        with inference(cpu):
            guided.colour_with(net, cpu, L_work, scaled, ref)

    def update_full() -> None:
        with inference(cpu):
            guided.colour_with(net, cpu, L, pts, ref)

    def save() -> None:
        enhance(Image.fromarray(rgb).convert("L"), 2,
                points=[(p.x, p.y, p.hex) for p in pts], reference=rgb)

    u, uf, s = best(update), best(update_full), best(save, 3)
    return [f"| studio update, working size {L_work.shape[1]}×{L_work.shape[0]}, 5 points + "
            f"reference | {u[0]:.3f} s | {u[1]:.3f} s |",
            f"| colour at 768×512 (guided upsampling to full size), 5 points + reference "
            f"| {uf[0]:.3f} s | {uf[1]:.3f} s |",
            f"| save: `enhance(photo, 2, points=…, reference=…)` → 1536×1024 | {s[0]:.2f} s "
            f"| {s[1]:.2f} s |"]


def write_sheet(rows: list[list[np.ndarray]], path: Path, height: int = 170) -> None:
    heads = ["grey", "automatic", "1 point", "5 points", "reference | result", "original"]
    thumbs = [[Image.fromarray(im).resize((round(im.shape[1] * height / im.shape[0]), height),
                                          Image.Resampling.LANCZOS) for im in row]
              for row in rows]
    cell = max(t.width for row in thumbs for t in row)
    pad, head = 4, 22
    sheet = Image.new("RGB", (len(heads) * (cell + pad) + pad,
                              head + len(thumbs) * (height + pad) + pad), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    for j, h in enumerate(heads):
        d.text((pad + j * (cell + pad) + 4, 4), h, fill=(0, 0, 0))
    for i, row in enumerate(thumbs):
        for j, t in enumerate(row):
            sheet.paste(t, (pad + j * (cell + pad) + (cell - t.width) // 2,
                            head + i * (height + pad)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=88)


def tune(root: Path, nets: weights.NetworkSet, count: int, grid: dict[str, list[float]],
         strengths: list[float], folders: tuple[str, ...] = ("colour_photos/train",)) -> None:
    """Every combination of the spreading's settings in ``grid`` (a
    :func:`lumacodec.colour_spread.spread` keyword → values) on ``count`` training photos
    of each of ``folders`` (the train split only), 1/5/10 points; then reference
    strengths."""
    train = {}
    for folder in folders:
        paths = sorted(p for p in (root / folder).rglob("*") if p.suffix.lower() in EXT)
        pick = np.random.default_rng(7).choice(len(paths), min(count, len(paths)),
                                               replace=False)
        train[folder] = [paths[i] for i in sorted(pick)]
    for values in itertools.product(*grid.values()):
        settings = dict(zip(grid, values, strict=True))
        guided.spread = functools.partial(colour_spread.spread, **settings)
        rows, _ = evaluate(train, nets, "", set(), (1, 5, 10), reference=False, vivid=False)
        print(" ".join(f"{k} {v:g}" for k, v in settings.items()) + ":", flush=True)
        for folder in train:
            mine = {r: np.array(v) for (f, r), v in rows.items() if f == folder}
            print(f"  {folder}: " + "  ".join(
                f"{r} {v[:, 0].mean() / v[:, 4].mean():.3f} "
                f"(|bias| {np.abs(v[:, 1:3].mean(0)).max():.2f})" for r, v in mine.items()),
                flush=True)
    guided.spread = colour_spread.spread
    for strength in strengths:
        guided.reference_shift = functools.partial(colour_spread.reference_shift,
                                                   strength=strength)
        rows, _ = evaluate(train, nets, "", set(), (), reference=True, vivid=False)
        print(f"reference strength {strength:.2f}: " + "  ".join(
            f"{folder} {r} {np.array(v)[:, 0].mean() / np.array(v)[:, 4].mean():.3f}"
            for (folder, r), v in rows.items()), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/datasets")
    parser.add_argument("--weights-dir", default=str(weights.BUNDLED_DIR))
    parser.add_argument("--bsds", type=int, default=100, help="first N photos of bsds500/test")
    parser.add_argument("--limit", type=int, default=0, help="photos per set (smoke runs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tune", type=int, default=0, metavar="N",
                        help="tune the spreading on N training photos instead")
    parser.add_argument("--spread", action="append", default=[], metavar="NAME=V1,V2,…",
                        help="--tune: a keyword of colour_spread.spread and its values "
                             "(repeatable; e.g. length=40,160 edge=3,6)")
    parser.add_argument("--tune-from", default="colour_photos/train",
                        help="--tune: training folders, comma-separated")
    parser.add_argument("--strengths", default="0,0.5,0.75,1", help="--tune: reference")
    parser.add_argument("--out", default="benchmarks/results/guided.md")
    parser.add_argument("--sheet", default="benchmarks/results/guided-contact-sheet.jpg")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    root = Path(args.data)
    nets = weights.load_network_set(Path(args.weights_dir))
    if args.tune:
        def floats(text: str) -> list[float]:
            return [float(v) for v in text.split(",") if v]
        grid = {name: floats(values) for name, _, values in
                (item.partition("=") for item in args.spread)}
        tune(root, nets, args.tune, grid, floats(args.strengths),
             tuple(args.tune_from.split(",")))
        return
    sets = {"colour_photos/val": photos(root / "colour_photos/val"),
            f"bsds500/test[:{args.bsds}]": photos(root / "bsds500/test")[: args.bsds],
            "set14": photos(root / "set14")}
    if args.limit:
        sets = {k: v[: args.limit] for k, v in sets.items()}
    n_sheet = len(sets["colour_photos/val"])
    pick = set(np.random.default_rng(0).choice(n_sheet, min(SHEET_PHOTOS, n_sheet),
                                               replace=False).tolist())
    rows, sheet = evaluate(sets, nets, "colour_photos/val", pick)
    lat = latency(nets)
    net = nets.guided_colorizer
    params = sum(p.numel() for p in net.parameters())
    lines = [
        "# Guided colour",
        "",
        f"`python benchmarks/guided_eval.py --bsds {args.bsds} --threads {args.threads}` "
        f"({time.time() - t0:.0f} s; network set {nets.id.hex()}; guided colorizer "
        f"{params / 1e6:.2f} M parameters; spreading length {colour_spread.SPREAD_LENGTH:g} "
        f"cells, edge {colour_spread.SPREAD_EDGE:g}, texture edge "
        f"{colour_spread.SPREAD_TEXTURE_EDGE:g}, lightness range "
        f"{colour_spread.SPREAD_LIGHTNESS_RANGE:g}, offset prior {colour_spread.OFFSET_PRIOR:g} "
        f"and range {colour_spread.OFFSET_RANGE:g}). Validation photos only, exact L, "
        "`faithful` unless the row says vivid. Points: the simulated-user protocol of Zhang et "
        "al. 2017 (fixed seed per photo; clicks inside regions, squares of half-side 0–4 px, "
        "colour = the square's mean true colour as sRGB). Reference: the left half of each "
        "photo as the reference for its right half (both reference rows are measured on the "
        "right half only). *vs grey* = mean CIEDE2000 / mean CIEDE2000 of grey (same L, a = "
        "b = 0); *better* = share of photos below grey; bias = mean a*/b* of prediction − "
        "original; colourfulness relative to the original's.",
        "",
        *table(rows),
        "",
        f"## Latency ({args.threads} threads, 768×512 photo, best / median of 5; a shared "
        "machine)",
        "",
        "| what | best | median |",
        "|---|---|---|",
        *lat,
    ]
    if sheet:
        write_sheet(sheet, Path(args.sheet))
        lines += ["", f"Contact sheet: [{Path(args.sheet).name}]({Path(args.sheet).name}) — "
                  "grey / automatic / 1 point / 5 points (points drawn as discs of their "
                  "colour) / reference (left half given, right half coloured) / original."]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
