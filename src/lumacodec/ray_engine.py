"""Folder transcoding on Ray (``engine="ray"``): the files of :func:`lumacodec.encode_files`
and :func:`~lumacodec.decode_files` spread over the actors of a Ray cluster.

::

    batch: listing, resume rule, duplicate outputs ─► the (source, output) pairs to do
      ─► ray.data.from_items([{src, dst}, ...])          blocks of a few files each
      ─► map_batches(Transcoder, ActorPoolStrategy(1 … jobs), 1 CPU [+ 1 GPU] per actor)
           Transcoder.__init__  networks loaded once per actor (weights.bundled())
           Transcoder.__call__  file_jobs.run_one on each row ─► status, reason, bytes, bpp
      ─► iter_batches, here ─► one FileResult per file as its batch finishes ─► batch: Summary

Only the running differs from the local engine: the listing, the resume rule, the mirrored
output layout, the atomic writes (:func:`lumacodec.api.encode_file`, ``decode_file``) and the
Summary are :mod:`lumacodec.batch`'s.  Each actor reads its sources and writes its outputs
itself, so every path must name the same file on every node (a shared filesystem); see
docs/guides/ray.md.  This module is imported only for ``engine="ray"``; without Ray,
importing it raises a one-line :class:`LumacodecError` naming the extra to install.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import LumacodecError
from .file_jobs import FileResult, Step, run_one, use_threads

try:
    import ray
    import ray.data
except ImportError as exc:  # the extra is not installed
    raise LumacodecError("engine='ray' needs Ray: pip install 'lumacodec[ray]'") from exc

#: The most files in one actor call: a few, so that the files spread evenly over the actors
#: and the progress moves, but enough that Ray's cost per batch (milliseconds) stays small.
MAX_BATCH = 8
#: The columns of a result row: FileResult's fields, paths as strings.
_FIELDS = tuple(f.name for f in dataclasses.fields(FileResult))


class Transcoder:
    """One actor of the pool: holds the step, its options and (for a decode with the networks)
    the networks, loaded once when the actor starts rather than once per file or batch.

    Parameters
    ----------
    step
        :func:`lumacodec.file_jobs.encode_one` or :func:`~lumacodec.file_jobs.decode_one`
        (pickled by name: every node imports it from its own lumacodec).
    options
        The step's options, the same for every file.
    threads
        CPU threads of this actor (:func:`lumacodec.file_jobs.use_threads`): the CPUs it reserved.
    """

    def __init__(self, step: Step, options: dict[str, Any], threads: int) -> None:
        from . import weights

        use_threads(threads)
        self.threads = threads
        self.step = step
        self.options = options
        if options.get("enhance"):  # a decode with the networks: load them now, once
            weights.bundled()

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        """Transcode a batch of ``src``/``dst`` rows; one result row per file, a failure
        recorded in its ``status`` and ``reason`` (never raised)."""
        use_threads(self.threads)  # per calling thread too (lumacodec.threads): Ray's may differ
        results = [run_one(self.step, Path(src), Path(dst), self.options)
                   for src, dst in zip(rows["src"], rows["dst"], strict=True)]
        return {name: [_plain(getattr(r, name)) for r in results] for name in _FIELDS}


def results(
    step: Step,
    todo: list[tuple[Path, Path]],
    options: dict[str, Any],
    *,
    jobs: int,
    threads: int = 1,
    address: str | None,
) -> Iterator[FileResult]:
    """The Ray engine (a :data:`lumacodec.file_jobs.Runner`): each file's result, as its batch
    finishes on one of at most ``jobs`` actors, each holding ``threads`` CPUs.

    Ray is started (``address`` None: a local instance with ``jobs × threads`` CPUs) or joined
    (``address``) on the first call that has files to do, unless this process already runs
    Ray; it stays up for the process's later calls (Ray shuts it down at exit, or call
    ``ray.shutdown()``).  If the run itself breaks (actors lost for good, the cluster gone),
    the files not reported yet are failures with Ray's reason; their outputs were never
    replaced, so running the same call again does them.
    """
    if not todo:
        return
    _connect(jobs * threads, address)
    device = options.get("device")
    gpu = bool(options.get("enhance")) and device is not None and device.startswith("cuda")
    if gpu and not ray.cluster_resources().get("GPU"):  # rather than wait for one forever
        raise LumacodecError("device='cuda' but the Ray cluster has no GPU")
    if gpu:  # the actor sees its one GPU as cuda:0
        options = {**options, "device": "cuda"}
    size = max(1, min(MAX_BATCH, len(todo) // (4 * jobs)))
    blocks = -(-len(todo) // size)
    reported: set[Path] = set()
    try:
        with _quiet():
            dataset = ray.data.from_items([{"src": str(s), "dst": str(d)} for s, d in todo],
                                          override_num_blocks=blocks)
            dataset = dataset.map_batches(
                Transcoder,
                batch_size=size,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(min_size=1, max_size=min(jobs, blocks)),
                fn_constructor_kwargs={"step": step, "options": options, "threads": threads},
                num_cpus=threads,
                num_gpus=1 if gpu else 0,
            )
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                for result in _file_results(batch):
                    reported.add(result.src)
                    yield result
    except Exception as exc:  # the run broke: the files not reported are failures
        reason = f"Ray: {_first_line(exc)}"
        for src, dst in todo:
            if src not in reported:
                yield FileResult(src, dst, "failed", reason=reason)


def _connect(cpus: int, address: str | None) -> None:
    """Start a local Ray with ``cpus`` CPUs or join the cluster at ``address``, unless this
    process already runs Ray (the caller's own ``ray.init``, or an earlier call's)."""
    if ray.is_initialized():
        return
    if address is not None:
        _check_reachable(address)
    where: dict[str, Any] = ({"num_cpus": cpus, "include_dashboard": False} if address is None
                             else {"address": address})
    try:
        ray.init(**where, logging_level=logging.ERROR)
    except Exception as exc:  # no cluster there, a version mismatch, ...
        target = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise LumacodecError(f"cannot start or reach {target}: {_first_line(exc)}") from None


#: Seconds to wait for a cluster's head before saying it cannot be reached (``ray.init``
#: itself retries for minutes).
CONNECT_TIMEOUT_S = 10.0


def _check_reachable(address: str) -> None:
    """Refuse, after :data:`CONNECT_TIMEOUT_S` at most, an address of the form ``host:port`` or
    ``ray://host:port`` whose port accepts no connection; other forms (``auto``, a GCS
    address file) go to ``ray.init`` as they are."""
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise LumacodecError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}"
        ) from None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No Ray Data progress bars or execution banners while a run is built and goes on
    (lumacodec draws its own bar, on a terminal only); the settings are put back after."""
    context = ray.data.DataContext.get_current()
    wanted = {"enable_progress_bars": False, "print_on_execution_start": False}
    saved = {key: getattr(context, key) for key in wanted if hasattr(context, key)}
    logger = logging.getLogger("ray.data")
    level = logger.level
    try:
        for key in saved:
            setattr(context, key, wanted[key])
        logger.setLevel(logging.ERROR)  # its notes on resources and progress, too
        yield
    finally:
        for key, value in saved.items():
            setattr(context, key, value)
        logger.setLevel(level)


def _file_results(batch: dict[str, np.ndarray]) -> Iterator[FileResult]:
    """The FileResults of a batch of result rows (numpy columns back to Python values)."""
    columns = [batch[name].tolist() for name in _FIELDS]
    for values in zip(*columns, strict=True):
        row = dict(zip(_FIELDS, values, strict=True))
        yield FileResult(**{**row, "src": Path(row["src"]), "dst": Path(row["dst"])})


def _plain(value: Any) -> Any:
    """A FileResult field as a column value: paths as strings."""
    return str(value) if isinstance(value, Path) else value


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (Ray's run to tracebacks)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
