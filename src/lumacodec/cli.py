"""The ``lumacodec`` command line: encode, decode, info, enhance, bench, demo.

``encode`` and ``decode`` take one file into one file, or (folder mode) a folder, a glob
pattern or several files into a folder; the work of folder mode is :mod:`lumacodec.batch`'s.

Every failure is one line on stderr and a non-zero exit status (1 for bad input, 130 when
interrupted); set ``LUMACODEC_DEBUG=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from ._version import __version__
from .errors import LumacodecError
from .presets import DEFAULT_QUALITY, QUALITIES


def _one_line_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LumacodecError as exc:
            click.echo(f"lumacodec: error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("lumacodec: interrupted", err=True)
            sys.exit(130)
        except MemoryError:
            click.echo("lumacodec: error: out of memory", err=True)
            sys.exit(1)
        except Exception as exc:  # never show a traceback to a user
            if os.environ.get("LUMACODEC_DEBUG"):
                raise
            click.echo(f"lumacodec: internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(2)

    return wrapper


class _OneLineGroup(click.Group):
    """Usage errors (bad option values, unknown commands) as one line too."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"lumacodec: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("lumacodec: interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def _colour_option(default: str, help: str) -> Callable[..., Any]:
    """``--colour faithful|vivid`` (the modes of :mod:`lumacodec.luma_colour`, named here so
    that ``--help`` does not import torch)."""
    return click.option("--colour", type=click.Choice(["faithful", "vivid"]), default=default,
                        show_default=True, help=help)


def _folder_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--jobs``, ``--threads``, ``--no-resume``, ``--quiet``, ``--engine`` and ``--address``:
    the options of folder mode."""
    options = [
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Jobs: this process and N-1 workers (folder mode; with --engine ray, "
                     "the most actors)."),
        click.option("--threads", type=click.IntRange(min=1), default=None,
                     help="CPU threads of each job (folder mode; default: the CPUs shared "
                     "among the jobs). Fastest through many photos: --jobs <CPUs> --threads 1."),
        click.option("--no-resume", is_flag=True,
                     help="Redo the outputs that are already up to date (folder mode)."),
        click.option("--quiet", is_flag=True, help="No progress bar and no per-file lines."),
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
                     show_default=True,
                     help="Folder mode: this machine's processes, or a Ray cluster "
                     "(pip install 'lumacodec[ray]'; paths visible to every node)."),
        click.option("--address", default=None, metavar="ADDR",
                     help="With --engine ray: the cluster (auto, ray://host:10001); default: "
                     "a Ray instance on this machine with --jobs × --threads CPUs."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _folder_mode(src: tuple[str, ...], dst: str) -> bool:
    """Many files (SRC a folder or a glob pattern, several SRCs, or DST a folder) rather than
    one file into one file."""
    from .batch import is_many

    return len(src) > 1 or is_many(src[0]) or os.path.isdir(dst)


def _run_folder(transcode: Callable[..., Any], src: tuple[str, ...], dst: str, jobs: int,
                threads: int | None, no_resume: bool, quiet: bool, engine: str,
                address: str | None, **options: Any) -> None:
    """Run :func:`~lumacodec.batch.encode_files` or ``decode_files``; print one line per file
    (unless a progress bar stands for them on this terminal), the summary and the failures;
    exit 1 if any file failed."""
    from .batch import FileResult
    from .progress import shown

    def print_file(result: FileResult) -> None:
        if result.status != "failed":  # the failures are listed at the end, on stderr
            click.echo(str(result))

    per_file = not quiet and not (shown(None) and sys.stdout.isatty())
    summary = transcode(src[0] if len(src) == 1 else list(src), dst, jobs=jobs,
                        threads=threads, resume=not no_resume, progress=False if quiet else None,
                        on_file=print_file if per_file else None, engine=engine,
                        address=address, **options)
    click.echo(str(summary))
    for line in summary.failure_lines():
        click.echo(f"lumacodec: error: {line}", err=True)
    if not summary.ok:
        sys.exit(1)


@click.group(cls=_OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lumacodec")
def main() -> None:
    """lumacodec: a learned image codec that sends luminance only."""


@main.command()
@click.argument("src", nargs=-1, required=True)
@click.argument("dst")
@click.option(
    "-q",
    "--quality",
    type=click.IntRange(1, len(QUALITIES)),
    default=DEFAULT_QUALITY,
    show_default=True,
    help="1 (smallest) to 10 (best).",
)
@click.option(
    "--no-hints", is_flag=True, help="Send luminance only; the decoder colourises from L."
)
@click.option(
    "--effort",
    type=click.IntRange(0, 2),
    default=1,
    show_default=True,
    help="Encoder effort: 0 the ladder's settings for every image (fastest), 1 settings "
    "chosen per image by rate-distortion, 2 the same with slower, ~8% smaller AV1 coding.",
)
@click.option(
    "--search/--no-search",
    default=None,
    help="Override the effort: choose the settings per image, or take the ladder's.",
)
@click.option(
    "--tune",
    type=click.Choice(["psnr", "ssim"]),
    default="psnr",
    show_default=True,
    help="What the encode optimises: PSNR, or MS-SSIM (AV1 tuned for it; a slower encode).",
)
@click.option("--target-bpp", type=float, default=None,
              help="Instead of --quality: the best stream of at most this many bits per pixel.")
@click.option("--target-size", default=None,
              help="Instead of --quality: the best stream of at most this size (20000, 20KB, "
              "19.5KiB, 1.2MB).")
@_folder_options
@_one_line_errors
def encode(src: tuple[str, ...], dst: str, quality: int, no_hints: bool, effort: int,
           search: bool | None, tune: str, target_bpp: float | None,
           target_size: str | None, jobs: int, threads: int | None, no_resume: bool,
           quiet: bool, engine: str, address: str | None) -> None:
    """Encode the image SRC into the lumacodec stream DST.

    With a folder or a quoted glob pattern ('photos/**/*.jpg') as SRC, or several SRCs, encode
    every image into the folder DST (sub-folders mirrored, a.jpg -> a.lmc); outputs already
    up to date are skipped, so running it again resumes a stopped run.
    """
    from .ratecontrol import parse_size

    options = {"quality": quality, "hints": not no_hints, "effort": effort, "search": search,
               "tune": tune, "target_bpp": target_bpp,
               "target_size": None if target_size is None else parse_size(target_size)}
    if _folder_mode(src, dst):
        from .batch import encode_files

        _run_folder(encode_files, src, dst, jobs, threads, no_resume, quiet, engine, address,
                    **options)
        return
    from .api import encode_file, info
    from .files import read_bytes
    from .progress import status_line

    with status_line(f"encode {src[0]}", progress=False if quiet else None):
        encode_file(src[0], dst, **options)
    meta = info(read_bytes(dst))
    if not quiet:
        click.echo(f"{dst}: {meta['width']}x{meta['height']}, {meta['bytes']} bytes, "
                   f"{meta['bpp']:.4f} bpp")


@main.command()
@click.argument("src", nargs=-1, required=True)
@click.argument("dst")
@click.option("--no-enhance", is_flag=True, help="Classical reconstruction (no networks).")
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default=None,
    help="Where the networks run (default: CUDA when available).",
)
@_colour_option("faithful", "Colour of a stream sent without hints: closest to the original, "
                "or vivid.")
@click.option("--max-pixels", type=click.IntRange(min=1), default=None,
              help="Refuse streams that declare more pixels (default 89,478,485).")
@click.option("--format", "fmt", default=None, metavar="EXT",
              help="Output format in folder mode: png (default), jpg, webp, ...")
@_folder_options
@_one_line_errors
def decode(src: tuple[str, ...], dst: str, no_enhance: bool, device: str | None, colour: str,
           max_pixels: int | None, fmt: str | None, jobs: int, threads: int | None,
           no_resume: bool, quiet: bool, engine: str, address: str | None) -> None:
    """Decode the lumacodec stream SRC into the image DST (format from its extension).

    With a folder or a quoted glob pattern ('streams/**/*.lmc') as SRC, or several SRCs,
    decode every stream into the folder DST (sub-folders mirrored, a.lmc -> a.png); outputs
    already up to date are skipped, so running it again resumes a stopped run.
    """
    options = {"enhance": not no_enhance, "device": device, "colour": colour,
               "max_pixels": max_pixels}
    if _folder_mode(src, dst):
        from .batch import decode_files

        _run_folder(decode_files, src, dst, jobs, threads, no_resume, quiet, engine, address,
                    fmt=fmt or "png", **options)
        return
    if fmt is not None:
        raise LumacodecError("--format is for folders; the extension of DST names the format")
    from .api import decode_file
    from .progress import status_line

    with status_line(f"decode {src[0]}", progress=False if quiet else None):
        decode_file(src[0], dst, **options)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_one_line_errors
def info(file: str, as_json: bool) -> None:
    """Describe the lumacodec stream FILE (no pixels are decoded)."""
    from .api import info as stream_info
    from .files import read_bytes

    meta = stream_info(read_bytes(file))
    if as_json:
        click.echo(json.dumps(meta, indent=2))
    else:
        for key, value in meta.items():
            click.echo(f"{key:14} {value:.4f}" if isinstance(value, float) else f"{key:14} {value}")


@main.command()
@click.argument("src", type=click.Path())
@click.argument("dst", type=click.Path())
@click.option(
    "--scale",
    type=click.Choice(["1", "2", "4"]),
    default="2",
    show_default=True,
    help="Upscaling factor.",
)
@click.option("--no-color", is_flag=True, help="Upscale only; keep the image grey.")
@_colour_option("vivid", "Plausible, saturated colour, or the colour closest to the original "
                "on average (muted).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None)
@click.option("--quiet", is_flag=True, help="No progress line.")
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True,
              help="Film: H.264 quality of a video DST (0 lossless ... 51; lower is better).")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Film: frame rate of a folder of frames written as a video (default 24).")
@click.option("--fast-sr", is_flag=True,
              help="Film: the decoder's x2 network (about 2.5x faster, less sharp).")
@click.option("--points", "points_file", type=click.Path(dir_okay=False), default=None,
              help="Guided colour: a points file (JSON: positions and colours; for film, "
              "points per keyframe), as `lumacodec studio` saves it (docs/guides/"
              "guided-colour.md).")
@click.option("--reference", type=click.Path(dir_okay=False), default=None,
              help="Guided colour: a colour photo of a similar scene to take colours from.")
@_one_line_errors
def enhance(
    src: str, dst: str, scale: str, no_color: bool, colour: str, device: str | None,
    quiet: bool, crf: int, fps: float | None, fast_sr: bool, points_file: str | None,
    reference: str | None,
) -> None:
    """Colourise and upscale an old greyscale photo or scan SRC into DST (no bitstream).

    Film: with a video file (old.mp4) or a folder of frames as SRC, DST is a video (H.264,
    frame rate, timestamps and audio kept) or, for any other name, a folder of PNG frames;
    colour follows the motion from frame to frame (docs/guides/film.md).
    """
    from .film.video_io import is_film_source

    if is_film_source(src):
        from .film.command import run_film

        run_film(src, dst, quiet=quiet, scale=int(scale), color=not no_color, colour=colour,
                 device=device, crf=crf, fps=fps, sr="fast" if fast_sr else "clean",
                 points=points_file, reference=reference)
        return
    from .enhance import enhance as run_enhance
    from .files import read_image, save_image
    from .guided import reference_photo
    from .points import load_points
    from .progress import status_line

    image = read_image(src)
    points = [] if points_file is None else load_points(points_file, *image.size)
    ref = None if reference is None else reference_photo(read_image(reference), reference)
    with status_line(f"enhance {src}", progress=False if quiet else None):
        out = run_enhance(image, scale=int(scale), color=not no_color, colour=colour,
                          device=device, points=points, reference=ref)
    save_image(out, dst)


@main.command()
@click.argument("photo", type=click.Path(dir_okay=False), required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but 127.0.0.1 lets other machines in.")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
@_one_line_errors
def studio(photo: str | None, port: int, host: str, no_browser: bool) -> None:
    """Colour PHOTO (or one chosen on the page) by hand, in a local web page: click to place
    colour points, drop a reference photo, save the PNG and the points file
    (docs/guides/guided-colour.md)."""
    from .studio import serve

    if host != "127.0.0.1":
        click.echo(f"lumacodec: warning: listening on {host}: other machines can reach it",
                   err=True)
    serve(photo, host, port, open_browser=not no_browser, announce=click.echo)


def _register_bench() -> None:
    try:
        from .bench.cli import bench_command
    except ImportError:  # the bench extra is not installed
        return
    main.add_command(bench_command, "bench")


_register_bench()


@main.command()
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    default="lumacodec-demo",
    show_default=True,
    help="Where to write the streams and decoded images.",
)
@click.option("--no-enhance", is_flag=True, help="Classical reconstruction only.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_one_line_errors
def demo(output: str, no_enhance: bool, quiet: bool) -> None:
    """Encode and decode scikit-image's sample photos at every quality; print bpp and PSNR."""
    from pathlib import Path

    from .demo import run_demo

    click.echo(run_demo(Path(output), enhance=not no_enhance, progress=False if quiet else None))
    click.echo(f"streams and decoded images of quality 6 are in {output}/")


if __name__ == "__main__":
    main()
