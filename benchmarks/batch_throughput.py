"""Throughput of whole folders: images/s of ``encode_files`` and ``decode_files`` by engine
and ``jobs``.

    python benchmarks/batch_throughput.py --dataset ../shared/datasets/bsds500/test \
        --limit 24 --jobs 1x1,2x1,1 --out benchmarks/results/batch-throughput.md
    python benchmarks/batch_throughput.py --limit 16 --engines local,ray --jobs 2 \
        --out benchmarks/results/ray-throughput.md          # needs lumacodec[ray]

The first ``--limit`` images of the folder (by name) are encoded at the default quality into a
temporary folder, then decoded to PNG with the networks (on the CPU unless ``--device cuda``)
and without them, once for each engine and ``--jobs`` value, every run from scratch
(``resume=False``).  A ``--jobs`` value is ``J`` (J jobs sharing the CPUs' threads, the
default of ``threads``) or ``JxT`` (J jobs of T threads each).
A figure is the wall time of the whole call, as a user sees it: with ``jobs`` > 1 it includes
starting the worker processes (each imports torch: ~1.5 s) and, for the decode, each worker's
loading of the networks (the one-job runs do that once in this process, which has torch
already); "after start-up" counts from when every job has finished its first file, the
rate a longer folder approaches; on
Ray, starting the actors (and their loading of the networks), but not starting Ray itself:
a local Ray with ``jobs`` CPUs is started before the runs of each ``jobs`` value, its start
time written under the table.  The streams of every run are checked to be byte-identical.

``--interrupt``: the CLI's folder encode and decode (``--jobs 2``) are killed (SIGKILL to the
whole process group) halfway through, then run again with the same command, which resumes;
the outputs must be byte-identical to those of an uninterrupted run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

import lumacodec
from lumacodec import batch
from lumacodec.batch import FileResult, Summary
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


def stamp(done_at: list[float]) -> Callable[[FileResult], None]:
    """An ``on_file`` callback that notes when each file finished."""
    return lambda result: done_at.append(time.perf_counter())


def killed_then_resumed(command: list[str], after_s: float) -> float:
    """Run ``command``, kill its whole process group after ``after_s`` seconds, run it again
    to the end; the seconds of the second run."""
    first = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(after_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def interrupted(images: list[Path], tmp: Path, streams: dict[str, bytes], pngs: Path
                ) -> list[str]:
    """Kill the CLI's folder encode and decode halfway, resume them, compare the outputs with
    an uninterrupted run's; the notes to print."""
    cli = [sys.executable, "-m", "lumacodec"]
    src = tmp / "interrupt-src"
    src.mkdir()
    for image in images:
        (src / image.name).symlink_to(image.resolve())
    out, png = tmp / "interrupt-streams", tmp / "interrupt-png"
    start = time.perf_counter()
    subprocess.run([*cli, "encode", str(src), str(tmp / "timing"), "--jobs", "2", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    half = (time.perf_counter() - start) / 2
    rest = killed_then_resumed([*cli, "encode", str(src), str(out), "--jobs", "2", "--quiet"],
                               half)
    same_streams = {p.name: p.read_bytes() for p in out.glob("*.lmc")} == streams
    rest_png = killed_then_resumed(
        [*cli, "decode", str(out), str(png), "--jobs", "2", "--quiet"], 2 * half)
    same_png = sorted(p.name for p in png.glob("*.png")) == sorted(
        p.name for p in pngs.glob("*.png")) and all(
        (png / p.name).read_bytes() == p.read_bytes() for p in pngs.glob("*.png"))
    return [f"Interrupted and resumed (`lumacodec encode|decode DIR OUT --jobs 2`, SIGKILL to "
            f"the process group after {half:.0f} s of the encode and {2 * half:.0f} s of the "
            f"decode, then the same command again: the rest took {rest:.0f} s and "
            f"{rest_png:.0f} s): streams identical to an uninterrupted run: "
            f"{'yes' if same_streams else 'NO'}; decoded PNGs identical: "
            f"{'yes' if same_png else 'NO'}."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/datasets/bsds500/test"))
    parser.add_argument("--limit", type=int, default=24)
    parser.add_argument("--jobs", default="1x1,2x1,1",
                        help="comma-separated J (jobs sharing the CPUs) or JxT (T threads each)")
    parser.add_argument("--engines", default="local", help="comma-separated: local, ray")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/batch-throughput.md"))
    parser.add_argument("--interrupt", action="store_true",
                        help="also kill a folder encode/decode halfway and resume it")
    args = parser.parse_args()
    runs = [(int(j), int(t) if t else None)
            for j, _, t in (v.partition("x") for v in args.jobs.split(","))]
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
        "network loading included), every file done from scratch. Workers of one thread "
        f"per job: {batch._start_method(1, {})}ed (`lumacodec.batch._start_method`).",
        "",
        "| step | engine | jobs | threads per job | images | wall s | images/s "
        "| speed-up vs first row | images/s after start-up | speed-up | mean bpp |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes: list[str] = []
    first: dict[str, float] = {}
    first_steady: dict[str, float] = {}
    streams_by_run: dict[str, dict[str, bytes]] = {}

    def row(step: str, engine: str, jobs: int, threads: int | None, summary: Summary,
            done_at: list[float]) -> None:
        if summary.failed:
            sys.exit(f"{step} {engine} jobs={jobs} failed: {summary.failure_lines()}")
        first.setdefault(step, summary.images_per_s)
        # once every job has finished its first file: start-up (spawning, importing torch,
        # loading the networks) is behind it
        steady = (len(done_at) - jobs) / (done_at[-1] - done_at[jobs - 1])
        first_steady.setdefault(step, steady)
        shared = max(1, (os.cpu_count() or 1) // jobs) if engine == "local" else 1
        lines.append(f"| {step} | {engine} | {jobs} | {threads or f'{shared} (shared)'} "
                     f"| {summary.done} | {summary.seconds:.2f} "
                     f"| {summary.images_per_s:.2f} | {summary.images_per_s / first[step]:.2f}× "
                     f"| {steady:.2f} | {steady / first_steady[step]:.2f}× "
                     f"| {summary.mean_bpp:.4f} |")
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            for jobs, threads in runs:
                with engine_started(engine, jobs * (threads or 1), notes):
                    run = f"{engine}-{jobs}x{threads}"
                    streams = Path(tmp) / f"streams-{run}"
                    done_at: list[float] = []
                    row("encode", engine, jobs, threads, lumacodec.encode_files(
                        images, streams, jobs=jobs, threads=threads, resume=False,
                        progress=False, engine=engine, on_file=stamp(done_at)), done_at)
                    streams_by_run[run] = {p.name: p.read_bytes() for p in streams.glob("*.lmc")}
                    for enhance, step in ((True, "decode, networks"), (False, "decode, classical")):
                        done_at = []
                        summary = lumacodec.decode_files(
                            streams, Path(tmp) / f"png-{run}-{enhance}", enhance=enhance,
                            device=args.device, jobs=jobs, threads=threads, resume=False,
                            progress=False, engine=engine, on_file=stamp(done_at))
                        row(step, engine, jobs, threads, summary, done_at)
        if args.interrupt:
            first_run = f"{engines[0]}-{runs[0][0]}x{runs[0][1]}"
            notes += interrupted(images, Path(tmp), streams_by_run[first_run],
                                 Path(tmp) / f"png-{first_run}-True")
    identical = all(s == next(iter(streams_by_run.values())) for s in streams_by_run.values())
    lines += ["", *notes, f"Streams byte-identical across runs: {'yes' if identical else 'NO'}."]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":  # needed: spawned workers import this module
    main()
