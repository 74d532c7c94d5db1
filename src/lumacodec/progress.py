"""Progress on a terminal only: a bar for long loops (folders of files, the demo), and a
status line for one long encode, decode or enhance (a big photo or scan).

The bar shows the count, the rate and the time left, on stderr, with click's bar (click is
already a dependency).  The status line names the stage that is running and how far it is
(``decode big.lmc: super-resolution, tile 7/24, 0:12``), reported by the stages themselves
through :func:`report` (the decoder's tiles, the encoder's trial codings).  Nothing at all is
written when stderr is a file or a pipe, so logs, captured output and piped results stay
clean.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from collections.abc import Callable, Iterator

#: Where :func:`report` goes: the status line of :func:`status_line`, or nowhere.
_REPORTER: contextvars.ContextVar[Callable[[str, int, int], None] | None] = (
    contextvars.ContextVar("lumacodec_progress_reporter", default=None))


def report(stage: str, done: int, total: int) -> None:
    """Tell the status line (if one is shown) that ``done`` of ``total`` steps of ``stage``
    are finished; a no-op otherwise, so library code may call it freely."""
    reporter = _REPORTER.get()
    if reporter is not None:
        reporter(stage, done, total)


@contextlib.contextmanager
def status_line(label: str, progress: bool | None = None) -> Iterator[None]:
    """While the block runs, redraw ``label: stage, step done/total, elapsed`` on stderr at
    most four times a second as :func:`report` is called (from any thread of this context:
    the encoder's trial codings run on a pool); erased at the end.  Nothing unless
    :func:`shown`."""
    if not shown(progress):
        yield
        return
    start = last = time.monotonic()
    width = 0

    def draw(stage: str, done: int, total: int) -> None:
        nonlocal last, width
        now = time.monotonic()
        if now - last < 0.25 and done < total:
            return
        last = now
        minutes, seconds = divmod(int(now - start), 60)
        text = f"{label}: {stage} {done}/{total}, {minutes}:{seconds:02d}"
        sys.stderr.write("\r" + text.ljust(width))
        sys.stderr.flush()
        width = len(text)

    token = _REPORTER.set(draw)
    try:
        yield
    finally:
        _REPORTER.reset(token)
        if width:
            sys.stderr.write("\r" + " " * width + "\r")
            sys.stderr.flush()


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
