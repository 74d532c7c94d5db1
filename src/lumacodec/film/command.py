"""``lumacodec enhance`` on film: the command line's video/folder branch (cli.py dispatches
here when SRC is a video file or a folder, so that the film logic stays in this package)."""

from __future__ import annotations

from typing import Any

import click


def run_film(src: str, dst: str, *, quiet: bool = False, **options: Any) -> None:
    """Run :func:`lumacodec.film.enhance_film` with a progress bar (unless ``quiet``), then
    print its warnings (one line each, on stderr) and its summary."""
    from .pipeline import enhance_film

    summary = enhance_film(src, dst, progress=False if quiet else None, **options)
    for line in summary.warnings:
        click.echo(f"lumacodec: warning: {line}", err=True)
    if not quiet:
        click.echo(str(summary))
