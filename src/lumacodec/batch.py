"""Whole collections: encode or decode many files, on one or several processes.

::

    src: a folder | "photos/**/*.jpg" | [paths]
      ─► (source, output) pairs, sub-folders mirrored under dst_dir: a/b.jpg ─► a/b.lmc
         (:mod:`lumacodec.listing`)
      ─► output at least as new as its source? skipped (resume)
      ─► api.encode_file / api.decode_file (:mod:`lumacodec.file_jobs`), here (jobs=1), here
         and in ``jobs - 1`` worker processes (:mod:`lumacodec.local_engine`), or on the
         actors of a Ray cluster (engine="ray": :mod:`lumacodec.ray_engine`)
      ─► one FileResult per file: done | skipped | failed (a one-line reason)
      ─► Summary: counts, bytes, mean bpp, wall time, images/s

Every output is written by :func:`lumacodec.api.encode_file` or
:func:`~lumacodec.api.decode_file`, atomically (a temporary file, then a rename), so a run
that is interrupted leaves only complete outputs, and running the same call again resumes it:
the files already done are skipped by their modification times.  One bad file never stops the
others; its failure is recorded and the rest go on.

This module is the top of the folder transcode: it imports the listing, the file jobs and the
engines, and none of them imports it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any, Literal

from . import local_engine
from .errors import LumacodecError
from .file_jobs import FileResult, Runner, Step, decode_one, encode_one, use_threads
from .files import PathLike, image_suffixes, output_format
from .listing import Sources, is_many, pairs, up_to_date
from .presets import DEFAULT_QUALITY, Preset
from .progress import progress_bar

__all__ = ["STREAM_SUFFIX", "Engine", "FileResult", "Sources", "Summary", "decode_files",
           "encode_files", "is_many", "use_threads"]

#: The extension of lumacodec streams: what a folder decode takes and a folder encode writes.
STREAM_SUFFIX = ".lmc"
#: Where the files are transcoded: this machine's processes, or a Ray cluster.
Engine = Literal["local", "ray"]


@dataclass
class Summary:
    """The figures of one :func:`encode_files` or :func:`decode_files` run.

    ``bytes_in``, ``bytes_out`` and ``mean_bpp`` count the files done only (not the skipped
    or failed ones); ``mean_bpp`` is the mean over those files of each stream's bits per
    pixel (None when no file was done); ``seconds`` is the wall time of the whole call.
    """

    done: int = 0
    skipped: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)
    bytes_in: int = 0
    bytes_out: int = 0
    mean_bpp: float | None = None
    seconds: float = 0.0

    @property
    def images_per_s(self) -> float:
        """Files done per second of wall time."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    def failure_lines(self) -> list[str]:
        """One line per failed file: its path and the reason (the path once, when the reason
        already names it)."""
        return [reason if str(path) in reason else f"{path}: {reason}"
                for path, reason in self.failed]

    def __str__(self) -> str:
        text = (f"{self.done} done, {self.skipped} skipped, {len(self.failed)} failed "
                f"in {self.seconds:.1f} s ({self.images_per_s:.2f} images/s)")
        if self.done:
            text += f"; {_size(self.bytes_in)} -> {_size(self.bytes_out)}"
            text += f", mean {self.mean_bpp:.4f} bpp"
        return text


def encode_files(
    src: Sources,
    dst_dir: PathLike,
    *,
    quality: int | Preset = DEFAULT_QUALITY,
    hints: bool = True,
    effort: int = 1,
    search: bool | None = None,
    tune: str = "psnr",
    target_bpp: float | None = None,
    target_size: int | None = None,
    jobs: int = 1,
    threads: int | None = None,
    resume: bool = True,
    progress: bool | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    engine: Engine = "local",
    address: str | None = None,
) -> Summary:
    """Encode many images into ``.lmc`` streams under ``dst_dir``: ``<rel>.jpg`` becomes
    ``dst_dir/<rel>.lmc``.

    Parameters
    ----------
    src
        A folder (walked recursively, its sub-folders mirrored; hidden files and folders and
        ``dst_dir`` itself are left out), a glob pattern (``"photos/**/*.jpg"``; the folders
        after its last fixed part are mirrored), or a list of files (mirrored from their
        common folder).  Folders and patterns take the files with an image extension
        (:func:`lumacodec.files.image_suffixes`); a list is taken as it is.
    dst_dir
        The output folder, created if missing.  Two sources with one output (``a.jpg`` and
        ``a.png``) make the second a failure rather than overwrite the first.
    quality, hints, effort, search, tune, target_bpp, target_size
        :func:`lumacodec.encode`'s options, the same for every file (``target_size``: bytes
        per file).
    jobs
        Files in progress at once: this process and ``jobs - 1`` worker processes (1: this
        process alone).  The workers are forked where that is safe (Linux, one thread per
        job, no other thread in this process, no CUDA:
        :func:`lumacodec.local_engine.start_method`), spawned
        elsewhere; a spawned worker imports the caller's main module, so a script calls this
        under ``if __name__ == "__main__":``.
    threads
        CPU threads of each job (torch's and the encoder's trial codings): None gives every
        job its share of the CPUs (all of them at ``jobs=1``).  One thread per job and one
        job per CPU is the fastest way through a folder of ordinary photos, since one image
        keeps two threads only partly busy (``benchmarks/results/batch-throughput.md``).
    resume
        Skip a file whose output exists and is at least as new as the file (so a run that was
        stopped goes on where it was); False encodes every file again.  Only the times are
        compared: after changing the options, run with ``resume=False``.
    progress
        A bar with count, rate and time left on stderr: None (auto) or True when stderr is
        a terminal, never for False.
    on_file
        Called in this process with each file's :class:`FileResult` as it finishes (the CLI
        prints its per-file lines with it).
    engine
        ``"local"``: this machine, as ``jobs`` says.  ``"ray"`` (``pip install
        lumacodec[ray]``): the actors of a Ray cluster, at most ``jobs`` of them, each with
        ``threads`` CPUs (default one; and one GPU for a decode with ``device="cuda"``),
        loading the networks once; the same files, outputs and summary
        (:mod:`lumacodec.ray_engine`).  Every worker reads and writes the paths itself: they
        must name the same files on every node.
    address
        For ``engine="ray"``: the cluster to connect to (``"auto"``, ``"ray://host:10001"``);
        None starts a Ray instance on this machine with ``jobs × threads`` CPUs.  Either
        way, a Ray this process has already started (``ray.init``) is the one used.

    Returns
    -------
    Summary
        Counts, bytes, mean bpp of the streams written, wall time and rate.  A file that
        cannot be read or encoded is in ``Summary.failed``; nothing is raised for it.

    Raises
    ------
    LumacodecError
        When ``src`` names nothing (no such file or folder, a pattern that matches no image),
        ``dst_dir`` is a file, ``jobs`` or ``threads`` < 1, the engine is unknown, Ray is
        not installed for ``engine="ray"`` or its cluster cannot be reached.
    """
    options = {"quality": quality, "hints": hints, "effort": effort, "search": search,
               "tune": tune, "target_bpp": target_bpp, "target_size": target_size}
    run = _runner(engine, jobs, threads, address)
    todo = pairs(src, dst_dir, image_suffixes(), STREAM_SUFFIX, "image")
    return _transcode(encode_one, todo, options, run, resume, progress, on_file, "encode")


def decode_files(
    src: Sources,
    dst_dir: PathLike,
    *,
    enhance: bool = True,
    device: str | None = None,
    colour: str = "faithful",
    fmt: str = "png",
    max_pixels: int | None = None,
    jobs: int = 1,
    threads: int | None = None,
    resume: bool = True,
    progress: bool | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    engine: Engine = "local",
    address: str | None = None,
) -> Summary:
    """Decode many ``.lmc`` streams into images under ``dst_dir``: ``<rel>.lmc`` becomes
    ``dst_dir/<rel>.<fmt>``.

    ``src``, ``dst_dir``, ``jobs``, ``threads``, ``resume``, ``progress``, ``on_file``,
    ``engine`` and ``address`` are as in :func:`encode_files` (folders and patterns take the
    ``.lmc`` files; with ``engine="ray"`` and ``device="cuda"`` each actor has a GPU); ``enhance``,
    ``device``, ``colour`` and ``max_pixels`` are :func:`lumacodec.decode`'s; ``fmt`` is the
    output format's extension (``png``, ``jpg``, ``webp``, ...).  Each worker loads the
    networks once (:func:`lumacodec.weights.bundled` is cached per process).  The summary's
    ``mean_bpp`` is that of the streams decoded.

    Raises
    ------
    LumacodecError
        As :func:`encode_files`, and for a ``fmt`` that names no image format.
    """
    suffix = "." + fmt.lower().lstrip(".")
    if suffix == STREAM_SUFFIX or output_format(f"image{suffix}") is None:
        raise LumacodecError(f"unknown output image format: {fmt} (use e.g. png, jpg, webp)")
    options = {"enhance": enhance, "device": device, "colour": colour, "max_pixels": max_pixels}
    run = _runner(engine, jobs, threads, address)
    todo = pairs(src, dst_dir, {STREAM_SUFFIX}, suffix, "stream")
    return _transcode(decode_one, todo, options, run, resume, progress, on_file, "decode")


# --- how, and which files -------------------------------------------------------------------


def _runner(engine: str, jobs: int, threads: int | None, address: str | None) -> Runner:
    """The engine's runner, its arguments checked before anything is listed or made.  Ray's
    module (and Ray) is imported only here, only for ``engine="ray"``."""
    if jobs < 1:
        raise LumacodecError(f"jobs must be at least 1, got {jobs}")
    if threads is not None and threads < 1:
        raise LumacodecError(f"threads must be at least 1, got {threads}")
    if engine == "ray":
        from . import ray_engine  # a LumacodecError naming the extra when Ray is missing

        return functools.partial(ray_engine.results, jobs=jobs, threads=threads or 1,
                                 address=address)
    if engine != "local":
        raise LumacodecError(f"unknown engine: {engine!r} (use 'local' or 'ray')")
    if address is not None:
        raise LumacodecError("an address is for engine='ray' (a Ray cluster)")
    return functools.partial(local_engine.results, jobs=jobs, threads=threads)


# --- many files ------------------------------------------------------------------------------


def _transcode(
    step: Step,
    pairs: list[tuple[Path, Path]],
    options: dict[str, Any],
    run: Runner,
    resume: bool,
    progress: bool | None,
    on_file: Callable[[FileResult], None] | None,
    label: str,
) -> Summary:
    """Run ``step`` with ``run`` on every pair not up to date; collect the results into a
    Summary.  The listing, the resume rule and the summary are the same for every engine."""
    start = time.perf_counter()
    results: list[FileResult] = []

    def record(result: FileResult) -> None:
        results.append(result)
        if on_file is not None:
            on_file(result)

    todo: list[tuple[Path, Path]] = []
    first_source: dict[Path, Path] = {}
    for src, dst in pairs:
        if dst in first_source:  # a.jpg and a.png both make a.lmc
            record(FileResult(src, dst, "failed",
                              reason=f"{dst} is already the output of {first_source[dst]}"))
            continue
        if dst.resolve() == src.resolve():  # a listed .lmc "encoded" into its own folder
            record(FileResult(src, dst, "failed", reason="the output would replace its source"))
            continue
        first_source[dst] = src
        if resume and up_to_date(src, dst):
            record(FileResult(src, dst, "skipped"))
        else:
            todo.append((src, dst))
    with progress_bar(len(todo), label, progress) as advance:
        for result in run(step, todo, options):
            record(result)
            advance()
    return _summarise(results, time.perf_counter() - start)


def _summarise(results: list[FileResult], seconds: float) -> Summary:
    done = [r for r in results if r.status == "done"]
    return Summary(
        done=len(done),
        skipped=sum(r.status == "skipped" for r in results),
        failed=sorted((r.src, r.reason) for r in results if r.status == "failed"),
        bytes_in=sum(r.bytes_in for r in done),
        bytes_out=sum(r.bytes_out for r in done),
        mean_bpp=fmean(r.bpp for r in done) if done else None,
        seconds=seconds,
    )


def _size(n: int) -> str:
    """Bytes for a person: 812 B, 45.1 kB, 1.30 MB."""
    if n < 1000:
        return f"{n} B"
    return f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1_000_000:.2f} MB"
