"""A progress bar for long loops (folders of files, the demo), drawn on a terminal only.

It shows the count, the rate and the time left, on stderr, with click's bar (click is already
a dependency).  Nothing at all is written when stderr is a file or a pipe, so logs, captured
output and piped results stay clean.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator


def shown(progress: bool | None) -> bool:
    """Whether a bar is drawn: never for ``progress=False``; for ``None`` (auto) or ``True``,
    when stderr is a terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    return progress is not False and isatty is not None and isatty()


@contextlib.contextmanager
def progress_bar(
    total: int, label: str, progress: bool | None = None, unit: str = "images"
) -> Iterator[Callable[[], None]]:
    """``with progress_bar(n, "encode") as advance:`` and ``advance()`` once per finished
    item; draws ``label [####----] 7/24  00:00:12  3.41 images/s`` on stderr when
    :func:`shown`, and is a no-op otherwise."""
    if total <= 0 or not shown(progress):
        yield lambda: None
        return
    import click

    def rate(_: object) -> str | None:
        elapsed = time.time() - bar.start
        return f"{bar.pos / elapsed:.2f} {unit}/s" if bar.pos and elapsed > 0 else None

    bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
                            show_eta=True, item_show_func=rate)
    with bar:
        yield lambda: bar.update(1)
