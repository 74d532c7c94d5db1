"""The ``lumacodec`` command line: encode, decode, info, enhance, bench.

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


@click.group(cls=_OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lumacodec")
def main() -> None:
    """lumacodec: a learned image codec that sends luminance only."""


@main.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
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
    help="Encoder effort: 0 fast, 2 slow and ~5% smaller.",
)
@click.option(
    "--search",
    is_flag=True,
    help="Choose scale, base quality and hint for this image by rate-distortion "
    "(slower encode, better quality for the bits on average).",
)
@_one_line_errors
def encode(src: str, dst: str, quality: int, no_hints: bool, effort: int, search: bool) -> None:
    """Encode the image SRC into the lumacodec stream DST."""
    from .api import encode_file, info
    from .files import read_bytes

    encode_file(src, dst, quality, hints=not no_hints, effort=effort, search=search)
    meta = info(read_bytes(dst))
    click.echo(
        f"{dst}: {meta['width']}x{meta['height']}, {meta['bytes']} bytes, {meta['bpp']:.4f} bpp"
    )


@main.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
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
@_one_line_errors
def decode(src: str, dst: str, no_enhance: bool, device: str | None, colour: str,
           max_pixels: int | None) -> None:
    """Decode the lumacodec stream SRC into the image DST (format from its extension)."""
    from .api import decode_file

    decode_file(src, dst, enhance=not no_enhance, device=device, colour=colour,
                max_pixels=max_pixels)


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
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
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
@_one_line_errors
def enhance(
    src: str, dst: str, scale: str, no_color: bool, colour: str, device: str | None
) -> None:
    """Colourise and upscale an old greyscale photo or scan SRC into DST (no bitstream)."""
    from .enhance import enhance as run_enhance
    from .files import read_image, save_image

    out = run_enhance(read_image(src), scale=int(scale), color=not no_color, colour=colour,
                      device=device)
    save_image(out, dst)


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
@_one_line_errors
def demo(output: str, no_enhance: bool) -> None:
    """Encode and decode scikit-image's sample photos at every quality; print bpp and PSNR."""
    from pathlib import Path

    from .demo import run_demo

    click.echo(run_demo(Path(output), enhance=not no_enhance))
    click.echo(f"streams and decoded images of quality 6 are in {output}/")


if __name__ == "__main__":
    main()
