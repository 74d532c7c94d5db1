"""One file's job in a folder transcode, the same for every engine: encode or decode one file,
and what became of it.

::

    (source, output, options) ─► encode_one | decode_one ─► FileResult (done)
                                   raised? ─► run_one ─► FileResult (failed, a one-line reason)

:mod:`lumacodec.batch` (what to do, the summary), :mod:`lumacodec.local_engine` (this
machine's processes) and :mod:`lumacodec.ray_engine` (a Ray cluster's actors) all import
these pieces from here, and this module imports none of them: the dependency runs one way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .api import decode_file, encode_file
from .container import MAX_HEADER_BYTES, Header, parse_header
from .errors import LumacodecError
from .files import read_bytes
from .threads import keep_threads

#: What became of one file.
Status = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class FileResult:
    """What became of one file: ``done`` (with its figures), ``skipped`` (its output was up
    to date) or ``failed`` (with a one-line ``reason``).  ``bpp`` is the stream's: the one
    written (encode) or read (decode)."""

    src: Path
    dst: Path
    status: Status
    reason: str = ""
    bytes_in: int = 0
    bytes_out: int = 0
    width: int = 0
    height: int = 0
    bpp: float = 0.0

    def __str__(self) -> str:
        if self.status == "done":
            return f"{self.src} -> {self.dst}: {self.width}x{self.height}, {self.bpp:.4f} bpp"
        if self.status == "skipped":
            return f"{self.src} -> {self.dst}: up to date, skipped"
        return f"{self.src}: failed: {self.reason}"


#: One file's work: (source, output, options) -> its result; raises for a bad file.
Step = Callable[[Path, Path, dict[str, Any]], FileResult]
#: How the files to do are run: (step, pairs, options) -> each file's result, as they finish.
Runner = Callable[[Step, list[tuple[Path, Path]], dict[str, Any]], Iterator[FileResult]]


def read_header(stream: Path, max_pixels: int | None = None) -> Header:
    """The header of the stream file ``stream``, from its first bytes only."""
    return parse_header(read_bytes(stream, MAX_HEADER_BYTES), max_pixels)[0]


def encode_one(src: Path, dst: Path, options: dict[str, Any]) -> FileResult:
    """Encode the image ``src`` into the stream ``dst`` (:func:`lumacodec.api.encode_file`
    with ``options``); its figures from the stream written."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    size = encode_file(src, dst, **options)
    header = read_header(dst)
    return FileResult(src, dst, "done", bytes_in=src.stat().st_size, bytes_out=size,
                      width=header.width, height=header.height,
                      bpp=size * 8 / (header.width * header.height))


def decode_one(src: Path, dst: Path, options: dict[str, Any]) -> FileResult:
    """Decode the stream ``src`` into the image ``dst`` (:func:`lumacodec.api.decode_file`
    with ``options``); a bad header fails before any output folder is made."""
    header = read_header(src, options["max_pixels"])  # a bad stream fails here, early
    size = src.stat().st_size
    dst.parent.mkdir(parents=True, exist_ok=True)
    decode_file(src, dst, **options)
    return FileResult(src, dst, "done", bytes_in=size, bytes_out=dst.stat().st_size,
                      width=header.width, height=header.height,
                      bpp=size * 8 / (header.width * header.height))


def one_line(exc: BaseException) -> str:
    """A person's one-line reason: LumacodecError's own message, the type for the rest."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    text = " ".join(str(exc).split())
    return text if isinstance(exc, LumacodecError) else f"{type(exc).__name__}: {text}"


def run_one(step: Step, src: Path, dst: Path, options: dict[str, Any]) -> FileResult:
    """``step`` on one file, its failure recorded rather than raised (used by every engine)."""
    try:
        return step(src, dst, options)
    except Exception as exc:  # one bad file never stops the others
        return FileResult(src, dst, "failed", reason=one_line(exc))


def use_threads(threads: int) -> None:
    """Hold this process, and the calling thread's OpenMP (:mod:`lumacodec.threads`), to
    ``threads`` CPU threads: torch's, which the encoder's trial codings and the colour
    conversions follow.  The AV1 encoder's own threads are fixed whatever this says, since
    its output depends on their number (:data:`lumacodec.avif.ENCODER_THREADS`)."""
    keep_threads(threads)
