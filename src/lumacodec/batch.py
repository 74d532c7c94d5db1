"""Whole collections: encode or decode many files, on one or several processes.

::

    src: a folder | "photos/**/*.jpg" | [paths]
      ─► (source, output) pairs, sub-folders mirrored under dst_dir: a/b.jpg ─► a/b.lmc
      ─► output at least as new as its source? skipped (resume)
      ─► api.encode_file / api.decode_file, here (jobs=1), here and in ``jobs - 1``
         worker processes, or on the actors of a Ray cluster
         (engine="ray": :mod:`lumacodec.ray_engine`)
      ─► one FileResult per file: done | skipped | failed (a one-line reason)
      ─► Summary: counts, bytes, mean bpp, wall time, images/s

Every output is written by :func:`lumacodec.api.encode_file` or
:func:`~lumacodec.api.decode_file`, atomically (a temporary file, then a rename), so a run
that is interrupted leaves only complete outputs, and running the same call again resumes it:
the files already done are skipped by their modification times.  One bad file never stops the
others; its failure is recorded and the rest go on.
"""

from __future__ import annotations

import functools
import glob
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from statistics import fmean
from typing import Any, Literal

from .api import decode_file, encode_file
from .container import MAX_HEADER_BYTES, Header, parse_header
from .errors import LumacodecError
from .files import PathLike, image_suffixes, output_format, read_bytes
from .presets import DEFAULT_QUALITY, Preset
from .progress import progress_bar
from .threads import keep_threads

#: The extension of lumacodec streams: what a folder decode takes and a folder encode writes.
STREAM_SUFFIX = ".lmc"
#: What ``src`` may be: a folder, a glob pattern, one file, or a list of files.
Sources = PathLike | Iterable[PathLike]
Status = Literal["done", "skipped", "failed"]
#: Where the files are transcoded: this machine's processes, or a Ray cluster.
Engine = Literal["local", "ray"]
_GLOB_MAGIC = frozenset("*?[")


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
        job, no other thread in this process, no CUDA: :func:`_start_method`), spawned
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
    pairs = _pairs(src, dst_dir, image_suffixes(), STREAM_SUFFIX, "image")
    return _transcode(_encode_one, pairs, options, run, resume, progress, on_file, "encode")


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
    pairs = _pairs(src, dst_dir, {STREAM_SUFFIX}, suffix, "stream")
    return _transcode(_decode_one, pairs, options, run, resume, progress, on_file, "decode")


# --- which files ----------------------------------------------------------------------------


def is_many(src: PathLike) -> bool:
    """Whether ``src`` names many files, a folder or a glob pattern, rather than one file (a
    file whose name has ``*?[`` in it is one file)."""
    path = Path(src)
    return path.is_dir() or (not path.exists() and bool(_GLOB_MAGIC.intersection(str(src))))


def _pairs(
    src: Sources, dst_dir: PathLike, suffixes: Iterable[str], out_suffix: str, what: str
) -> list[tuple[Path, Path]]:
    """(source, output) for every file that ``src`` names, sorted by source."""
    for where in (src, dst_dir):
        if isinstance(where, str) and "://" in where:  # rather than a local folder "s3:"
            raise LumacodecError(f"object-storage paths are not supported yet: {where} (use a "
                                 "folder every worker sees, e.g. NFS; docs/ray.md)")
    dst_dir = Path(dst_dir)
    if dst_dir.exists() and not dst_dir.is_dir():
        raise LumacodecError(f"the output folder is a file: {dst_dir}")
    found = sorted(_sources(src, frozenset(suffixes), dst_dir, what))
    dst_dir.mkdir(parents=True, exist_ok=True)
    return [(path, dst_dir / rel.with_suffix(out_suffix)) for path, rel in found]


def _sources(
    src: Sources, suffixes: frozenset[str], dst_dir: Path, what: str
) -> list[tuple[Path, Path]]:
    """(file, its path relative to the folder that is mirrored) for what ``src`` names."""
    if not isinstance(src, (str, os.PathLike)):
        return _listed([Path(p) for p in src])
    path = Path(src)
    if path.is_dir():
        return [(p, p.relative_to(path)) for p in _walk(path, suffixes, dst_dir)]
    if path.exists():
        return _listed([path])
    text = os.fspath(src)
    if not _GLOB_MAGIC.intersection(text):
        raise LumacodecError(f"no such file or folder: {src}")
    root = Path(*takewhile(lambda part: not _GLOB_MAGIC.intersection(part), path.parts))
    matches = [Path(p) for p in glob.glob(text, recursive=True)]
    found = [(p, p.relative_to(root)) for p in matches
             if p.is_file() and p.suffix.lower() in suffixes and not _inside(p, dst_dir)]
    if not found:
        raise LumacodecError(f"no {what} files match {src}")
    return found


def _walk(root: Path, suffixes: frozenset[str], skip: Path) -> Iterator[Path]:
    """Files under ``root`` with one of ``suffixes``, leaving out hidden names and ``skip``."""
    skip = skip.resolve()
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".") and (here / d).resolve() != skip]
        for name in names:
            if not name.startswith(".") and Path(name).suffix.lower() in suffixes:
                yield here / name


def _listed(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Listed files, mirrored from their common folder (by name when they have none)."""
    if not paths:
        return []
    try:
        common = os.path.commonpath([os.path.abspath(p.parent) for p in paths])
    except ValueError:  # different drives
        return [(p, Path(p.name)) for p in paths]
    return [(p, Path(os.path.relpath(os.path.abspath(p), common))) for p in paths]


def _inside(path: Path, folder: Path) -> bool:
    return folder.resolve() in path.resolve().parents


def _up_to_date(src: Path, dst: Path) -> bool:
    """Whether ``dst`` exists and is at least as new as ``src``."""
    try:
        return dst.stat().st_mtime_ns >= src.stat().st_mtime_ns
    except OSError:
        return False


# --- one file (in this process or a worker) ----------------------------------------------------


def _read_header(stream: Path, max_pixels: int | None = None) -> Header:
    """The header of the stream file ``stream``, from its first bytes only."""
    return parse_header(read_bytes(stream, MAX_HEADER_BYTES), max_pixels)[0]


def _encode_one(src: Path, dst: Path, options: dict[str, Any]) -> FileResult:
    dst.parent.mkdir(parents=True, exist_ok=True)
    size = encode_file(src, dst, **options)
    header = _read_header(dst)
    return FileResult(src, dst, "done", bytes_in=src.stat().st_size, bytes_out=size,
                      width=header.width, height=header.height,
                      bpp=size * 8 / (header.width * header.height))


def _decode_one(src: Path, dst: Path, options: dict[str, Any]) -> FileResult:
    header = _read_header(src, options["max_pixels"])  # a bad stream fails here, early
    size = src.stat().st_size
    dst.parent.mkdir(parents=True, exist_ok=True)
    decode_file(src, dst, **options)
    return FileResult(src, dst, "done", bytes_in=size, bytes_out=dst.stat().st_size,
                      width=header.width, height=header.height,
                      bpp=size * 8 / (header.width * header.height))


#: One file's work: (source, output, options) -> its result; raises for a bad file.
Step = Callable[[Path, Path, dict[str, Any]], FileResult]
#: How the files to do are run: (step, pairs, options) -> each file's result, as they finish.
Runner = Callable[[Step, list[tuple[Path, Path]], dict[str, Any]], Iterator[FileResult]]


def _one_line(exc: BaseException) -> str:
    """A person's one-line reason: LumacodecError's own message, the type for the rest."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    text = " ".join(str(exc).split())
    return text if isinstance(exc, LumacodecError) else f"{type(exc).__name__}: {text}"


def _run_one(step: Step, src: Path, dst: Path, options: dict[str, Any]) -> FileResult:
    """``step`` on one file, its failure recorded rather than raised (used by every engine)."""
    try:
        return step(src, dst, options)
    except Exception as exc:  # one bad file never stops the others
        return FileResult(src, dst, "failed", reason=_one_line(exc))


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
    return functools.partial(_results, jobs=jobs, threads=threads)


def use_threads(threads: int) -> None:
    """Hold this process, and the calling thread's OpenMP (:mod:`lumacodec.threads`), to
    ``threads`` CPU threads: torch's, which the encoder's trial codings and the colour
    conversions follow.  The AV1 encoder's own threads are fixed whatever this says, since
    its output depends on their number (:data:`lumacodec.avif.ENCODER_THREADS`)."""
    keep_threads(threads)


def _init_worker(threads: int) -> None:
    """Give a worker its threads, and leave Ctrl-C to the main process (which lets the files
    in progress finish, cancels the rest and stops)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    use_threads(threads)


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
        if resume and _up_to_date(src, dst):
            record(FileResult(src, dst, "skipped"))
        else:
            todo.append((src, dst))
    with progress_bar(len(todo), label, progress) as advance:
        for result in run(step, todo, options):
            record(result)
            advance()
    return _summarise(results, time.perf_counter() - start)


def _results(
    step: Step, todo: list[tuple[Path, Path]], options: dict[str, Any], *, jobs: int,
    threads: int | None
) -> Iterator[FileResult]:
    """The local engine: each file's result, as the files finish.  With ``jobs`` > 1 this
    process is one of the jobs (a thread of it takes files from the same list) and
    ``jobs - 1`` worker processes are the others: the work starts at once, while spawned
    workers are still importing torch and loading the networks (forked ones start with torch
    imported)."""
    if jobs == 1 or len(todo) <= 1:
        yield from _in_process(step, todo, options, threads)
        return
    import multiprocessing
    import threading
    from concurrent.futures.process import BrokenProcessPool
    from queue import SimpleQueue

    import torch

    jobs = min(jobs, len(todo))
    per_job = threads or max(1, (os.cpu_count() or 1) // jobs)
    pool = ProcessPoolExecutor(
        max_workers=jobs - 1,
        mp_context=multiprocessing.get_context(_start_method(per_job, options)),
        initializer=_init_worker,
        initargs=(per_job,),
    )
    waiting = deque(todo)
    taking = threading.Lock()  # the list is shared by this process's job and the workers
    stop = threading.Event()
    # What the main thread waits on: a worker's finished future, a result of this process's
    # job, or None when that job is over.
    finished: SimpleQueue[Future[FileResult] | FileResult | None] = SimpleQueue()
    running: dict[Future[FileResult], tuple[Path, Path]] = {}

    def take() -> tuple[Path, Path] | None:
        with taking:
            return waiting.popleft() if waiting else None

    def here() -> None:
        use_threads(per_job)  # OpenMP's count is per thread (lumacodec.threads)
        try:
            while not stop.is_set() and (pair := take()) is not None:
                finished.put(_run_one(step, *pair, options))
        finally:
            finished.put(None)

    broken = False

    def submit() -> None:
        nonlocal broken
        if broken or (pair := take()) is None:
            return
        try:
            future = pool.submit(_run_one, step, *pair, options)
        except BrokenProcessPool:  # a worker died: the rest is left to this process
            broken = True
            with taking:
                waiting.appendleft(pair)
            return
        running[future] = pair
        future.add_done_callback(finished.put)

    saved = torch.get_num_threads()
    use_threads(per_job)
    local = threading.Thread(target=here, name="lumacodec-job", daemon=True)
    try:
        for _ in range(jobs - 1):  # one file per worker in flight: an interrupted run stops soon
            submit()
        local.start()
        local_over = False
        while running or not local_over:
            item = finished.get()
            if item is None:
                local_over = True
                continue
            if isinstance(item, FileResult):
                yield item
                continue
            src, dst = running.pop(item)
            try:
                yield item.result()
            except Exception as exc:  # the worker itself died (killed, out of memory)
                yield FileResult(src, dst, "failed", reason=_one_line(exc))
            submit()
        while (pair := take()) is not None:  # handed back after this process's job ended
            yield _run_one(step, *pair, options)
    finally:  # interrupted: drop what has not started, let the running files finish
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        if local.is_alive():
            local.join()
        use_threads(saved)


def _start_method(threads: int, options: dict[str, Any]) -> str:
    """How the workers start: forked where that is safe, spawned elsewhere.

    A forked worker starts in milliseconds, with torch imported (a spawned one spends ~2.5 s
    importing it: a tenth of a 200-photo run on two cores).  Forking is safe only on Linux,
    when this process runs no other Python thread (no lock can be inherited held), has not
    started CUDA, and the worker runs torch on one thread (so it never enters the OpenMP
    thread pool whose threads it did not inherit: what PyTorch's own DataLoader workers do).
    """
    import sys
    import threading

    import torch

    if (sys.platform.startswith("linux") and threads == 1
            and threading.active_count() == 1 and not torch.cuda.is_initialized()
            and not str(options.get("device") or "cpu").startswith("cuda")):
        return "fork"
    return "spawn"


def _in_process(
    step: Step, todo: list[tuple[Path, Path]], options: dict[str, Any], threads: int | None
) -> Iterator[FileResult]:
    """Each file in this process, on ``threads`` threads (None: as the process has them),
    which are given back afterwards."""
    import torch

    saved = torch.get_num_threads()
    use_threads(threads or saved)
    try:
        for src, dst in todo:
            yield _run_one(step, src, dst, options)
    finally:
        use_threads(saved)


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
