"""Everything a benchmark writes into its output folder, from the per-image results.

================================ ===============================================================
file                             content
================================ ===============================================================
``<codec>.json``                 mean curve in CompressAI's layout ``{"name", "description",
                                 "results": {"bpp": [...], "psnr-rgb": [...], ...}}``, one entry
                                 per quality, so it overlays CompressAI's published curves
``per_image.csv``                one row per image × codec × quality: every measured figure
``rd-psnr-rgb.png``              PSNR-RGB vs bpp, with ``--reference`` curves dotted
``rd-ms-ssim-rgb.png``           MS-SSIM (dB) vs bpp
``rd-color.png``                 PSNR of lightness L and mean CIEDE2000 vs bpp
``bd.json``                      every BD value of the summary's tables
``bd-colourful.json``            the same over the most colourful quarter of the images
``comparison.png``               the same crop of one image from each codec at matched bpp
``summary.md``                   BD tables, curve tables, plots, sheet, command, environment
================================ ===============================================================

Means follow CompressAI: a curve point is the mean over images of each per-image figure at one
quality setting. A quality that did not complete on every image is left out of the curve (and
named in the summary) rather than averaged over a subset.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..color import rgb_to_lab
from ..errors import LumacodecError
from .bdrate import LOW_OVERLAP, BDResult, bd_psnr, bd_rate
from .codecs import BASELINES, Codec
from .datasets import Dataset
from .metrics import METRIC_KEYS, ms_ssim_db, psnr_rgb

#: Columns of per_image.csv, and the per-image figures averaged into a curve.
RECORD_KEYS = (
    "image",
    "codec",
    "quality",
    "width",
    "height",
    "bytes",
    "bpp",
    *METRIC_KEYS,
    "encoding_time",
    "decoding_time",
)
MEAN_KEYS = ("bpp", *METRIC_KEYS, "encoding_time", "decoding_time")

_STYLE = {  # fixed colours, so a codec looks the same in every figure
    "lumacodec": ("tab:red", "o", "-"),
    "lumacodec-classical": ("tab:orange", "o", "--"),
    "jpeg": ("tab:blue", "s", "-"),
    "webp": ("tab:green", "^", "-"),
    "avif": ("tab:purple", "D", "-"),
    "jpeg2000": ("tab:brown", "v", "-"),
}
_REF_STYLES = [("0.35", "x"), ("0.55", "+"), ("0.2", "1"), ("0.45", "2"), ("0.65", "3")]


@dataclass
class Curve:
    """A codec's mean R-D curve: one entry per completed quality, in sweep order."""

    name: str
    description: str
    quality: list[float]
    means: dict[str, list[float]]
    #: Qualities left out because some images failed.
    incomplete: list[float]
    #: How many images had no MS-SSIM (smaller than 161 px), at the worst quality.
    ms_ssim_missing: int


@dataclass
class Reference:
    """A published curve from a CompressAI-layout JSON file."""

    name: str
    path: Path
    results: dict[str, list[float]]


def load_reference(path: Path) -> Reference:
    """Read a CompressAI-layout result file (``results.bpp`` and ``results.psnr-rgb`` and/or
    ``results.ms-ssim-rgb``), raising :class:`LumacodecError` when it is not one."""
    try:
        data = json.loads(Path(path).read_text())
        results = data["results"]
        bpp = [float(v) for v in results["bpp"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LumacodecError(f"{path} is not a CompressAI-layout result file ({exc})") from exc
    curves = {"bpp": bpp}
    for key in ("psnr-rgb", "ms-ssim-rgb"):
        if key in results and len(results[key]) == len(bpp):
            curves[key] = [float(v) for v in results[key]]
    if len(curves) == 1:
        raise LumacodecError(f"{path} has no psnr-rgb or ms-ssim-rgb list as long as its bpp list")
    return Reference(str(data.get("name") or Path(path).stem), Path(path), curves)


def aggregate(
    records: Sequence[dict[str, Any]], codecs: Sequence[Codec], images: Sequence[str]
) -> dict[str, Curve]:
    """Mean curve of each codec over ``images`` (CompressAI's convention, see module doc)."""
    wanted = set(images)
    table: dict[tuple[str, float], dict[str, dict[str, Any]]] = {}
    for rec in records:
        if rec["image"] in wanted:
            table.setdefault((rec["codec"], rec["quality"]), {})[rec["image"]] = rec
    curves = {}
    for codec in codecs:
        quality, incomplete = [], []
        means: dict[str, list[float]] = {k: [] for k in MEAN_KEYS}
        missing = 0
        for q in codec.qualities:
            rows = table.get((codec.name, q), {})
            if set(rows) != wanted:
                incomplete.append(q)
                continue
            quality.append(q)
            for key in MEAN_KEYS:
                values = np.array([rows[i][key] for i in images], np.float64)
                finite = values[np.isfinite(values)]
                means[key].append(float(finite.mean()) if finite.size else math.nan)
            missing = max(missing, sum(not math.isfinite(rows[i]["ms-ssim-rgb"]) for i in images))
        curves[codec.name] = Curve(
            codec.name, codec.description, quality, means, incomplete, missing
        )
    return curves


def _json_number(v: float) -> float | None:
    return v if math.isfinite(v) else None


def write_codec_json(path: Path, curve: Curve, dataset: Dataset, n_images: int) -> None:
    """Write one curve in CompressAI's result layout (NaN written as null)."""
    data = {
        "name": curve.name,
        "description": f"{curve.description}. Dataset: {dataset.description}, {n_images} images.",
        "results": {
            "quality": curve.quality,
            **{k: [_json_number(v) for v in vs] for k, vs in curve.means.items()},
        },
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_csv(
    path: Path, records: Sequence[dict[str, Any]], codecs: Sequence[Codec], images: Sequence[str]
) -> None:
    """One row per image × codec × quality, in codec, image and sweep order."""
    order = {c.name: (i, {q: j for j, q in enumerate(c.qualities)}) for i, c in enumerate(codecs)}
    position = {name: i for i, name in enumerate(images)}
    rows = [r for r in records if r["codec"] in order and r["image"] in position]
    rows.sort(
        key=lambda r: (
            order[r["codec"]][0],
            position[r["image"]],
            order[r["codec"]][1].get(r["quality"], 1e9),
        )
    )
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RECORD_KEYS)
        for r in rows:
            writer.writerow([_csv_value(r[k]) for k in RECORD_KEYS])


def _csv_value(v: Any) -> Any:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6g}" if abs(v) < 1e-3 else round(v, 6)
    return v


# --- plots -------------------------------------------------------------------------------------

_AXIS = {
    "psnr-rgb": ("PSNR-RGB (dB)", lambda v: np.asarray(v)),
    "ms-ssim-rgb": ("MS-SSIM (dB, −10·log10(1 − MS-SSIM))", ms_ssim_db),
    "psnr-l": ("PSNR of CIELAB L (dB)", lambda v: np.asarray(v)),
    "ciede2000": ("mean CIEDE2000 (lower is better)", lambda v: np.asarray(v)),
}


def plot_rd(
    path: Path,
    curves: dict[str, Curve],
    references: Sequence[Reference],
    metrics: Sequence[str],
    title: str,
) -> None:
    """Draw ``metrics`` against bpp (log axis), one panel each, and save a PNG."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend
    from matplotlib.ticker import FuncFormatter, LogLocator

    fig = Figure(figsize=(6.4 * len(metrics), 4.8), layout="constrained")
    for ax, metric in zip(fig.subplots(1, len(metrics), squeeze=False)[0], metrics, strict=True):
        label, transform = _AXIS[metric]
        for k, ref in enumerate(references):
            if metric in ref.results:
                colour, marker = _REF_STYLES[k % len(_REF_STYLES)]
                order = np.argsort(ref.results["bpp"])
                ax.plot(
                    np.asarray(ref.results["bpp"])[order],
                    transform(np.asarray(ref.results[metric])[order]),
                    color=colour,
                    marker=marker,
                    linestyle=":",
                    linewidth=1.2,
                    markersize=5,
                    label=f"{ref.name} (reference)",
                )
        for k, curve in enumerate(curves.values()):
            if not curve.quality:
                continue
            colour, marker, style = _STYLE.get(curve.name, (f"C{k % 10}", "o", "-"))
            bpp = np.asarray(curve.means["bpp"])
            order = np.argsort(bpp)
            ax.plot(
                bpp[order],
                transform(np.asarray(curve.means[metric]))[order],
                color=colour,
                marker=marker,
                linestyle=style,
                linewidth=1.6,
                markersize=4,
                label=curve.name,
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set_xlabel("bits per pixel (whole file, log scale)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.savefig(path, dpi=110)


# --- BD tables ---------------------------------------------------------------------------------

#: (key, title, function, unit, quality transform) of each BD table in the summary.
BD_TABLES = (
    ("bd-rate-psnr-rgb", "BD-rate, PSNR-RGB (%)", bd_rate, "%", "psnr-rgb"),
    ("bd-psnr-rgb", "BD-PSNR, PSNR-RGB (dB)", bd_psnr, " dB", "psnr-rgb"),
    ("bd-rate-ms-ssim", "BD-rate, MS-SSIM in dB (%)", bd_rate, "%", "ms-ssim-rgb"),
    ("bd-rate-psnr-l", "BD-rate, PSNR of lightness L (%)", bd_rate, "%", "psnr-l"),
)


def bd_results(curves: dict[str, Curve]) -> dict[str, dict[str, dict[str, BDResult]]]:
    """``{table: {test codec: {anchor: BDResult}}}`` for every codec against every baseline."""
    anchors = [b for b in BASELINES if b in curves and curves[b].quality]
    out: dict[str, dict[str, dict[str, BDResult]]] = {}
    for key, _title, fn, _unit, metric in BD_TABLES:
        table: dict[str, dict[str, BDResult]] = {}
        for test in curves.values():
            row = {}
            for anchor in anchors:
                if anchor == test.name:
                    continue
                a = curves[anchor]
                to_axis = _AXIS[metric][1]
                dist_a, dist_t = to_axis(a.means[metric]), to_axis(test.means[metric])
                row[anchor] = fn(a.means["bpp"], dist_a, test.means["bpp"], dist_t)
            table[test.name] = row
        out[key] = table
    return out


def ladder_breaks(records: Sequence[dict[str, Any]], codecs: Sequence[Codec],
                  images: Sequence[str]) -> dict[str, list[str]]:
    """Per encoder (one entry per encode group), the images on which a quality gives a file
    no larger than the quality before it in the codec's sweep."""
    size = {(r["codec"], r["image"], r["quality"]): r["bytes"] for r in records}
    out: dict[str, list[str]] = {}
    for codec in codecs:
        key = codec.encode_group or codec.name
        if key in out:
            continue
        out[key] = [
            i for i in images
            if any(size.get((codec.name, i, b), math.inf) <= size.get((codec.name, i, a), -1)
                   for a, b in zip(codec.qualities[:-1], codec.qualities[1:], strict=True))]
    return out


#: Share of a data set's images, by mean chroma, in the report's colourful subset.
COLOURFUL_SHARE = 0.25


def most_colourful(dataset: Dataset, share: float) -> list[str]:
    """Names of the ``share`` of ``dataset``'s images with the highest mean chroma (CIELAB
    √(a*² + b*²) of the original), most colourful first; empty when that is under 4 images."""
    count = int(len(dataset.images) * share)
    if count < 4:
        return []
    chroma = {}
    for source in dataset.images:
        lab = rgb_to_lab(source.load())
        chroma[source.name] = float(np.mean(np.hypot(lab[..., 1], lab[..., 2])))
    return sorted(chroma, key=lambda name: -chroma[name])[:count]


def bd_markdown(
    curves: dict[str, Curve], results: dict[str, dict[str, dict[str, BDResult]]]
) -> str:
    """The BD tables as Markdown: rows are tested codecs, columns the baseline anchors."""
    anchors = [b for b in BASELINES if b in curves and curves[b].quality]
    if not anchors:
        return "No baseline codec (" + ", ".join(BASELINES) + ") in this run: no BD table.\n"
    lines = [
        "Each cell: the tested codec (row) against the anchor (column), integrated by the "
        "`bjontegaard` package (Akima interpolation) over the range both curves cover. "
        "BD-rate < 0: fewer bits than the anchor for the same quality. BD-PSNR > 0: higher "
        f"PSNR at the same rate. n/a: the curves do not overlap. *: they share less than "
        f"{LOW_OVERLAP:.0%} of their joint range, so the figure rests on a short stretch.",
        "",
    ]
    for key, title, _fn, unit, _metric in BD_TABLES:
        lines += [
            f"### {title}",
            "",
            "| codec | " + " | ".join(f"vs {a}" for a in anchors) + " |",
            "|---|" + "---:|" * len(anchors),
        ]
        for name, row in results[key].items():
            cells = [row[a].format(unit) if a in row else "—" for a in anchors]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def bd_json(results: dict[str, dict[str, dict[str, BDResult]]]) -> dict[str, Any]:
    """BD values as plain JSON (``null`` where n/a)."""
    return {
        key: {
            test: {a: {"value": r.value, "overlap": round(r.overlap, 4)} for a, r in row.items()}
            for test, row in table.items()
        }
        for key, table in results.items()
    }


# --- visual comparison sheet -------------------------------------------------------------------


#: A sheet tile whose bpp is within these factors of its row's target counts as matched.
MATCH_TOLERANCE = (0.8, 1.25)


def detail_crop(rgb: np.ndarray, size: int) -> tuple[int, int, int]:
    """``(top, left, side)`` of the square window with the most gradient energy.

    Flat sky shows nothing about a codec; edges and texture show ringing, blur and blocking.
    """
    side = min(size, *rgb.shape[:2])
    grey = rgb.astype(np.float32).mean(axis=2)
    energy = np.zeros_like(grey)
    energy[:, 1:] += np.abs(np.diff(grey, axis=1))
    energy[1:, :] += np.abs(np.diff(grey, axis=0))
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    best, best_pos = -1.0, (0, 0)
    step = max(1, side // 8)
    for top in range(0, rgb.shape[0] - side + 1, step):
        for left in range(0, rgb.shape[1] - side + 1, step):
            total = (
                integral[top + side, left + side]
                - integral[top, left + side]
                - integral[top + side, left]
                + integral[top, left]
            )
            if total > best:
                best, best_pos = float(total), (top, left)
    return best_pos[0], best_pos[1], side


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def comparison_sheet(
    path: Path,
    rgb: np.ndarray,
    image_name: str,
    codecs: Sequence[Codec],
    records: Sequence[dict[str, Any]],
    targets: Sequence[float],
    crop: int = 256,
) -> str:
    """Save a grid of 1:1 crops: rows are target bit rates, columns the original and each codec.

    For each target and codec the quality whose bpp *on this image* is nearest (in ratio) is
    re-encoded and decoded here; captions give the quality, actual bpp and PSNR-RGB of the
    whole image. Returns a one-line description for the summary.
    """
    top, left, side = detail_crop(rgb, crop)
    window = (slice(top, top + side), slice(left, left + side))
    font, caption_h, label_w, pad = _font(13), 34, 92, 4
    columns = ["original", *(c.name for c in codecs)]
    width = label_w + len(columns) * (side + pad)
    height = len(targets) * (side + caption_h + pad) + 22
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for j, title in enumerate(columns):
        draw.text((label_w + j * (side + pad), 4), title, fill="black", font=font)
    for i, target in enumerate(targets):
        y = 22 + i * (side + caption_h + pad)
        draw.multiline_text(
            (4, y + side // 2 - 10), f"target\n{target:g} bpp", fill="black", font=font
        )
        sheet.paste(Image.fromarray(np.ascontiguousarray(rgb[window])), (label_w, y))
        for j, codec in enumerate(codecs, start=1):
            x = label_w + j * (side + pad)
            mine = [r for r in records if r["codec"] == codec.name and r["image"] == image_name]
            if not mine:
                draw.text((x, y + side // 2), "no result", fill="grey", font=font)
                continue
            best = min(mine, key=lambda r: abs(math.log(r["bpp"] / target)))
            data = codec.encode(rgb, best["quality"])
            decoded = codec.decode(data)
            bpp = len(data) * 8 / (rgb.shape[0] * rgb.shape[1])
            sheet.paste(Image.fromarray(np.ascontiguousarray(decoded[window])), (x, y))
            caption = f"q={best['quality']:g}  {bpp:.3f} bpp\n{psnr_rgb(rgb, decoded):.2f} dB"
            matched = MATCH_TOLERANCE[0] <= bpp / target <= MATCH_TOLERANCE[1]
            if not matched:  # the codec's sweep does not reach this rate: say so in red
                caption += "  (no match)"
            colour = "black" if matched else "red"
            draw.multiline_text((x, y + side + 2), caption, fill=colour, font=font, spacing=2)
    sheet.save(path, optimize=True)
    low, high = MATCH_TOLERANCE
    return (
        f"{image_name}, {side}×{side} crop at (x={left}, y={top}) chosen for the most "
        f"gradient energy, 1:1 pixels; each codec at the quality whose bpp on this image is "
        f"nearest the row's target (captions: quality, bpp and PSNR-RGB of the whole image; "
        f"red with '(no match)' when that bpp is outside {low:g}–{high:g}× the target)."
    )


# --- summary -----------------------------------------------------------------------------------


def _fmt(v: float, digits: int) -> str:
    return "—" if not math.isfinite(v) else f"{v:.{digits}f}"


def _curve_table(curve: Curve) -> str:
    head = (
        "| quality | bpp | PSNR-RGB | PSNR-L | SSIM | MS-SSIM | CIEDE2000 | enc ms | dec ms |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [head]
    m = curve.means
    for k, q in enumerate(curve.quality):
        rows.append(
            f"| {q:g} | {_fmt(m['bpp'][k], 4)} | {_fmt(m['psnr-rgb'][k], 2)} | "
            f"{_fmt(m['psnr-l'][k], 2)} | {_fmt(m['ssim-rgb'][k], 4)} | "
            f"{_fmt(m['ms-ssim-rgb'][k], 4)} | {_fmt(m['ciede2000'][k], 2)} | "
            f"{_fmt(1e3 * m['encoding_time'][k], 1)} | {_fmt(1e3 * m['decoding_time'][k], 1)} |"
        )
    return "\n".join(rows)


def write_report(
    output: Path,
    dataset: Dataset,
    codecs: Sequence[Codec],
    records: Sequence[dict[str, Any]],
    references: Sequence[Reference],
    run_info: dict[str, Any],
    sheet_image: str,
    sheet_bpp: Sequence[float],
) -> Path:
    """Write every file of the module table into ``output``; return the path of summary.md."""
    images = [s.name for s in dataset.images]
    n = len(images)
    curves = aggregate(records, codecs, images)
    for curve in curves.values():
        write_codec_json(output / f"{curve.name}.json", curve, dataset, n)
    write_csv(output / "per_image.csv", records, codecs, images)
    title = f"{dataset.label or dataset.spec}: mean over {n} image{'s' if n != 1 else ''}"
    plot_rd(output / "rd-psnr-rgb.png", curves, references, ["psnr-rgb"], title)
    plot_rd(output / "rd-ms-ssim-rgb.png", curves, references, ["ms-ssim-rgb"], title)
    plot_rd(output / "rd-color.png", curves, [], ["psnr-l", "ciede2000"], title)
    bd = bd_results(curves)
    (output / "bd.json").write_text(json.dumps(bd_json(bd), indent=2) + "\n")
    colourful = most_colourful(dataset, COLOURFUL_SHARE)
    colourful_bd = bd_results(aggregate(records, codecs, colourful)) if colourful else None
    if colourful_bd is not None:
        (output / "bd-colourful.json").write_text(
            json.dumps({"images": colourful, **bd_json(colourful_bd)}, indent=2) + "\n")

    source = next(s for s in dataset.images if s.name == sheet_image)
    try:
        sheet_note = comparison_sheet(
            output / "comparison.png", source.load(), sheet_image, codecs, records, sheet_bpp
        )
    except Exception as exc:  # the sheet is an illustration; never lose the numbers over it
        sheet_note = f"not drawn: {type(exc).__name__}: {exc}"

    env = run_info["environment"]
    out = io.StringIO()
    w = out.write
    w("# Rate–distortion benchmark\n\n")
    w(f"- Dataset: {dataset.description} — {n} image{'s' if n != 1 else ''} (`{dataset.spec}`)\n")
    w(f"- Codecs: {', '.join(c.name for c in codecs)}\n")
    w(f"- Command: `{run_info['command']}`\n")
    w(
        f"- Points computed: {run_info['computed']}, reused from cache: {run_info['cached']}, "
        f"failed tasks: {len(run_info['errors'])}; {env['jobs']} job(s) on {env['cpus']} CPUs "
        f"({env['cpu']})\n"
    )
    w(
        "- Rate: bytes of the whole file × 8 / pixels. Each point is the mean over images of "
        "the per-image figures at one quality setting (CompressAI's convention). Times are "
        "wall-clock seconds per image in one process"
    )
    w(", with other workers running beside it.\n" if env["jobs"] != "1" else ".\n")
    w("\n![PSNR-RGB vs bpp](rd-psnr-rgb.png)\n\n![MS-SSIM vs bpp](rd-ms-ssim-rgb.png)\n\n")
    w("## Bjøntegaard deltas against the baselines\n\n")
    w(bd_markdown(curves, bd))
    if colourful_bd is not None:
        w(f"\n## The most colourful quarter\n\nThe {len(colourful)} images of the {n} with the "
          "highest mean chroma √(a*² + b*²) of the original (the photos whose colour a "
          f"codec must spend bits on): {', '.join(colourful)}.\n\n")
        w(bd_markdown(aggregate(records, codecs, colourful), colourful_bd))
    w("\n## Does a higher quality give a larger file?\n\n")
    w("Per codec, the images on which some quality setting gives a file no larger than the "
      "setting below it (the sweep's order):\n\n| codec | images | such images |\n|---|---:|---|\n")
    for codec, names in ladder_breaks(records, codecs, images).items():
        w(f"| {codec} | {n} | {', '.join(names) if names else 'none'} |\n")
    w("\n## Mean curves\n\n")
    for curve in curves.values():
        w(f"### {curve.name}\n\n{curve.description}\n\n{_curve_table(curve)}\n\n")
        if curve.incomplete:
            left_out = ", ".join(f"{q:g}" for q in curve.incomplete)
            w(f"Left out (not every image succeeded): quality {left_out}.\n\n")
        if curve.ms_ssim_missing:
            w(
                f"MS-SSIM undefined for {curve.ms_ssim_missing} image(s) smaller than 161 px; "
                "its mean is over the others.\n\n"
            )
    w("## Lightness and colour\n\n![PSNR-L and CIEDE2000 vs bpp](rd-color.png)\n\n")
    w(f"## Visual comparison\n\n![comparison sheet](comparison.png)\n\n{sheet_note}\n\n")
    if references:
        w(
            "## Reference curves\n\nDrawn dotted in the plots, as published; they were measured on "
            "their own data sets and settings, so compare shapes, not decibels, unless the data "
            "set is the same.\n\n"
        )
        for ref in references:
            w(f"- {ref.name}: `{ref.path}`\n")
        w("\n")
    if run_info["notes"] or run_info["errors"]:
        w("## Notes\n\n")
        for note in run_info["notes"]:
            w(f"- {note}\n")
        for error in run_info["errors"][:50]:
            w(f"- failed: {error}\n")
        if len(run_info["errors"]) > 50:
            w(f"- … and {len(run_info['errors']) - 50} more failures (run.json lists all)\n")
        w("\n")
    w("## Environment\n\n| | |\n|---|---|\n")
    for key, value in env.items():
        w(f"| {key} | {value} |\n")
    w("\nCodec settings (part of every cache key):\n\n")
    for name, settings in run_info["codecs"].items():
        w(f"- {name}: `{json.dumps(settings, sort_keys=True)}`\n")
    summary = output / "summary.md"
    summary.write_text(out.getvalue())
    return summary
