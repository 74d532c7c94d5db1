"""Throughput of whole folders: images/s of ``encode_files`` and ``decode_files`` by engine
and ``jobs``.

    python benchmarks/batch_throughput.py --dataset ../shared/datasets/bsds500/test \
        --limit 24 --jobs 1,2 --out benchmarks/results/batch-throughput.md
    python benchmarks/batch_throughput.py --limit 16 --engines local,ray --jobs 2 \
        --out benchmarks/results/ray-throughput.md          # needs lumacodec[ray]

The first ``--limit`` images of the folder (by name) are encoded at the default quality into a
temporary folder, then decoded to PNG with the networks (on the CPU unless ``--device cuda``)
and without them, once for each engine and ``--jobs`` value, every run from scratch
(``resume=False``).
A figure is the wall time of the whole call, as a user sees it: with ``jobs`` > 1 it includes
starting the worker processes and, for the decode, each worker's loading of the networks; on
Ray, starting the actors (and their loading of the networks), but not starting Ray itself:
a local Ray with ``jobs`` CPUs is started before the runs of each ``jobs`` value, its start
time written under the table.  The streams of every run are checked to be byte-identical.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch

import lumacodec
from lumacodec.batch import Summary
from lumacodec.files import image_suffixes


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
            f"{torch.__version__} ({torch.get_num_threads()} threads in the main process), "
            f"lumacodec {lumacodec.__version__}"
            + (f"; load average {load[0]:.2f} at the start" if load else ""))


@contextlib.contextmanager
def engine_started(engine: str, jobs: int, notes: list[str]) -> Iterator[None]:
    """For Ray: a local instance with ``jobs`` CPUs around the runs, its start time noted."""
    if engine != "ray":
        yield
        return
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=jobs, include_dashboard=False)
    notes.append(f"Starting Ray (`ray.init(num_cpus={jobs})`, not in the figures): "
                 f"{time.perf_counter() - start:.1f} s.")
    try:
        yield
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/datasets/bsds500/test"))
    parser.add_argument("--limit", type=int, default=24)
    parser.add_argument("--jobs", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--engines", default="local", help="comma-separated: local, ray")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/batch-throughput.md"))
    args = parser.parse_args()
    jobs_values = [int(j) for j in args.jobs.split(",")]
    engines = args.engines.split(",")
    images = sorted(p for p in args.dataset.iterdir() if p.suffix.lower() in image_suffixes())
    images = images[: args.limit]
    if not images:
        sys.exit(f"no images in {args.dataset}")

    lines = [
        f"# Batch throughput: {len(images)} images of `{args.dataset.name}`, quality "
        f"{lumacodec.DEFAULT_QUALITY}",
        "",
        f"Machine: {machine()}. Command: `python {shlex.join(sys.argv)}`",
        "",
        "Wall time of the whole `encode_files` / `decode_files` call (worker start-up and "
        "network loading included), every file done from scratch.",
        "",
        "| step | engine | jobs | images | wall s | images/s | speed-up vs first row | mean bpp |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes: list[str] = []
    first: dict[str, float] = {}
    streams_by_run: dict[str, dict[str, bytes]] = {}

    def row(step: str, engine: str, jobs: int, summary: Summary) -> None:
        if summary.failed:
            sys.exit(f"{step} {engine} jobs={jobs} failed: {summary.failure_lines()}")
        first.setdefault(step, summary.images_per_s)
        lines.append(f"| {step} | {engine} | {jobs} | {summary.done} | {summary.seconds:.2f} "
                     f"| {summary.images_per_s:.2f} | {summary.images_per_s / first[step]:.2f}× "
                     f"| {summary.mean_bpp:.4f} |")
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            for jobs in jobs_values:
                with engine_started(engine, jobs, notes):
                    run = f"{engine}-{jobs}"
                    streams = Path(tmp) / f"streams-{run}"
                    row("encode", engine, jobs, lumacodec.encode_files(
                        images, streams, jobs=jobs, resume=False, progress=False, engine=engine))
                    streams_by_run[run] = {p.name: p.read_bytes() for p in streams.glob("*.lmc")}
                    for enhance, step in ((True, "decode, networks"), (False, "decode, classical")):
                        summary = lumacodec.decode_files(
                            streams, Path(tmp) / f"png-{run}-{enhance}", enhance=enhance,
                            device=args.device, jobs=jobs, resume=False, progress=False,
                            engine=engine)
                        row(step, engine, jobs, summary)
    identical = all(s == next(iter(streams_by_run.values())) for s in streams_by_run.values())
    lines += ["", *notes, f"Streams byte-identical across runs: {'yes' if identical else 'NO'}."]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":  # needed: the workers are spawned and import this module
    main()
