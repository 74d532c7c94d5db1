"""``lumacodec bench``: the command-line face of :func:`lumacodec.bench.run_bench`.

The lead's CLI registers it with ``main.add_command(bench_command, "bench")``; it also runs on
its own as ``python -m lumacodec.bench``.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import LumacodecError
from .codecs import DEFAULT_CODECS, codec_names, normalize_quality
from .runner import SHEET_BPP, run_bench


def _numbers(text: str, what: str) -> list[float]:
    try:
        values = [normalize_quality(float(v)) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{what}: expected comma-separated numbers, got {text!r}"
        ) from None
    if not values:
        raise click.BadParameter(f"{what}: empty list")
    return values


def _parse_qualities(items: tuple[str, ...]) -> dict[str, list[float]]:
    out = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                f"expected CODEC=Q1,Q2,..., got {item!r}", param_hint="--qualities"
            )
        out[name.strip().lower()] = _numbers(values, "--qualities")
    return out


@click.command(
    "bench",
    epilog="Codecs: " + ", ".join(codec_names()) + ". Example: lumacodec bench --dataset kodak "
    "--codecs lumacodec,jpeg,webp,avif --output results/kodak --jobs 4",
)
@click.option(
    "--dataset",
    default="samples",
    show_default=True,
    metavar="DIR|kodak|samples",
    help="A folder of images, the Kodak suite (downloaded and verified on first use), "
    "or scikit-image's sample photos.",
)
@click.option(
    "--codecs",
    default=",".join(DEFAULT_CODECS),
    show_default=True,
    help="Comma-separated codec names. 'lumacodec' runs it with and without "
    "enhancement (see --enhance).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Folder for the report; OUTPUT/cache keeps per-image results for re-runs.",
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes."
)
@click.option(
    "--reference",
    "references",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CompressAI-layout JSON whose curve is drawn beside ours (repeatable).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Use only the first N images (sorted by name).",
)
@click.option(
    "--qualities",
    "qualities",
    multiple=True,
    metavar="CODEC=Q1,Q2,...",
    help="Override a codec's quality sweep (repeatable), e.g. jpeg=10,50,90.",
)
@click.option(
    "--enhance",
    type=click.Choice(["both", "on", "off"]),
    default="both",
    show_default=True,
    help="lumacodec decoders: with enhancement networks (on, report name "
    "'lumacodec'), without (off, 'lumacodec-classical'), or both.",
)
@click.option("--sheet-image", default=None, help="Image of the comparison sheet (default: first).")
@click.option(
    "--sheet-bpp",
    default=",".join(f"{b:g}" for b in SHEET_BPP),
    show_default=True,
    help="Target bit rates of the comparison sheet's rows.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Progress bar (shown on a terminal only).",
)
def bench_command(
    dataset: str,
    codecs: str,
    output: Path,
    jobs: int,
    references: tuple[Path, ...],
    limit: int | None,
    qualities: tuple[str, ...],
    enhance: str,
    sheet_image: str | None,
    sheet_bpp: str,
    progress: bool,
) -> None:
    """Measure rate–distortion curves of codecs on a set of images and write a report.

    Writes CompressAI-layout JSON per codec, a per-image CSV, R-D plots, BD-rate tables
    against JPEG/WebP/AVIF/JPEG 2000, a visual comparison sheet and summary.md into OUTPUT.
    """
    names = [c.strip() for c in codecs.split(",") if c.strip()]
    flags = {"both": (True, False), "on": (True,), "off": (False,)}[enhance]
    try:
        summary = run_bench(
            dataset=dataset,
            codecs=None if names == list(DEFAULT_CODECS) else names,
            output=output,
            jobs=jobs,
            references=references,
            qualities=_parse_qualities(qualities),
            limit=limit,
            enhance=flags,
            sheet_image=sheet_image,
            sheet_bpp=_numbers(sheet_bpp, "--sheet-bpp"),
            progress=progress,
        )
    except LumacodecError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {summary}")
