"""The local engine of a folder transcode: the files on this machine, in this process and
``jobs - 1`` worker processes.

::

    todo pairs ─► jobs = 1: each file here, in turn
               ─► jobs > 1: one shared list ─┬─ a thread of this process takes files
                                             └─ jobs - 1 workers (forked where safe) take files
               ─► each file's FileResult, as it finishes (file_jobs.run_one: never raises)

A :data:`lumacodec.file_jobs.Runner`, as :func:`lumacodec.ray_engine.results` is;
:mod:`lumacodec.batch` chooses between them.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .file_jobs import FileResult, Step, one_line, run_one, use_threads


def results(
    step: Step, todo: list[tuple[Path, Path]], options: dict[str, Any], *, jobs: int,
    threads: int | None
) -> Iterator[FileResult]:
    """Each file's result, as the files finish.  With ``jobs`` > 1 this process is one of the
    jobs (a thread of it takes files from the same list) and ``jobs - 1`` worker processes are
    the others: the work starts at once, while spawned workers are still importing torch and
    loading the networks (forked ones start with torch imported)."""
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
        mp_context=multiprocessing.get_context(start_method(per_job, options)),
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
                finished.put(run_one(step, *pair, options))
        finally:
            finished.put(None)

    broken = False

    def submit() -> None:
        nonlocal broken
        if broken or (pair := take()) is None:
            return
        try:
            future = pool.submit(run_one, step, *pair, options)
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
                yield FileResult(src, dst, "failed", reason=one_line(exc))
            submit()
        while (pair := take()) is not None:  # handed back after this process's job ended
            yield run_one(step, *pair, options)
    finally:  # interrupted: drop what has not started, let the running files finish
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        if local.is_alive():
            local.join()
        use_threads(saved)


def start_method(threads: int, options: dict[str, Any]) -> str:
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


def _init_worker(threads: int) -> None:
    """Give a worker its threads, and leave Ctrl-C to the main process (which lets the files
    in progress finish, cancels the rest and stops)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    use_threads(threads)


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
            yield run_one(step, src, dst, options)
    finally:
        use_threads(saved)
