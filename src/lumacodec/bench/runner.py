"""Orchestration of a benchmark run: plan, compute what the cache lacks, then report.

::

    dataset ──► images (+ pixel sha256) ─┐
    codecs  ──► settings (versions, options) ─┼─► one key per (image, codec, quality)
                                              │
              OUTDIR/cache/<codec>/<key>.json ◄┤ hit: reuse the stored per-image result
                                              └ miss: task ─► encode once, decode per codec,
                                                        metrics ─► cache ─► records
    records ──► report.py: mean curves (JSON), per-image CSV, plots, BD tables, sheet, summary

A cache key hashes the image's pixels (not its file name), the codec's name and settings
(library versions, encoder options, for lumacodec a digest of its code and weights), the
quality and the metrics' definitions and library versions. A re-run therefore computes only
what changed: new images, a codec upgraded or retrained, a new quality, a redefined metric.

A task is one image at one quality for a group of codecs that share an encoder (lumacodec
with and without enhancement decode the same stream), so the stream is encoded once. Tasks run
in-process with ``jobs=1`` or in ``jobs`` spawned worker processes, each loading images itself
from their :class:`~lumacodec.bench.datasets.ImageSource`. A task that raises is reported and
left out (never cached), so one failing codec does not lose a long run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..color import rgb_to_lab
from ..errors import LumacodecError
from . import report
from .codecs import DEFAULT_CODECS, Codec, make_codecs
from .datasets import ImageSource, load_dataset, pixel_sha256
from .metrics import compute_metrics, metrics_fingerprint

#: Modules of the ``bench`` extra, imported lazily where they are used.
BENCH_MODULES = ("piq", "matplotlib", "bjontegaard", "tqdm")

#: Default bit rates of the rows of the visual comparison sheet.
SHEET_BPP = (0.1, 0.25, 0.5)


@dataclass(frozen=True)
class Task:
    """Encode one image at one quality, then decode it with each codec of ``codecs``."""

    source: ImageSource
    image_key: str
    codecs: tuple[Codec, ...]
    quality: float


def image_key(rgb: np.ndarray) -> str:
    """Content key of an image: ``"<W>x<H>:<sha256 of its RGB pixels>"``."""
    return f"{rgb.shape[1]}x{rgb.shape[0]}:{pixel_sha256(rgb)}"


def cache_key(image: str, codec: str, settings: Mapping[str, Any], quality: float) -> str:
    """sha256 of everything a cached per-image result depends on."""
    blob = json.dumps(
        {
            "image": image,
            "codec": codec,
            "settings": settings,
            "quality": quality,
            "metrics": metrics_fingerprint(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


# --- worker side -------------------------------------------------------------------------------

_IMAGES: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # image key -> (rgb, lab), last few
_WARM: set[str] = set()  # codecs already warmed up in this process


def _init_worker(threads: int) -> None:
    """Keep each worker to ``threads`` torch threads so ``jobs`` workers share the CPU."""
    import torch

    torch.set_num_threads(threads)


def _image(task: Task) -> tuple[np.ndarray, np.ndarray]:
    if task.image_key not in _IMAGES:
        rgb = task.source.load()
        if image_key(rgb) != task.image_key:
            raise LumacodecError(f"{task.source.name} changed while the benchmark was running")
        while len(_IMAGES) >= 2:
            _IMAGES.pop(next(iter(_IMAGES)))
        _IMAGES[task.image_key] = (rgb, rgb_to_lab(rgb))
    return _IMAGES[task.image_key]


def run_task(task: Task) -> tuple[list[dict[str, Any]], list[str]]:
    """Compute a task's per-image results; return them and one message per failed codec.

    The stream is encoded once by the group's first codec and decoded by each codec; a codec
    that fails is reported without losing the others' results.
    """
    where = f"{task.source.name} q={task.quality:g}"
    try:
        rgb, lab = _image(task)
        for codec in task.codecs:
            if codec.name not in _WARM:
                codec.warmup()
                _WARM.add(codec.name)
        start = time.perf_counter()
        data = task.codecs[0].encode(rgb, task.quality)
        encoding_time = time.perf_counter() - start
    except Exception as exc:
        names = "/".join(c.name for c in task.codecs)
        return [], [f"{names} {where}: {type(exc).__name__}: {exc}"]
    h, w = rgb.shape[:2]
    records, errors = [], []
    for codec in task.codecs:
        try:
            start = time.perf_counter()
            decoded = codec.decode(data)
            decoding_time = time.perf_counter() - start
            if decoded.shape != rgb.shape:
                raise LumacodecError(f"decoded {decoded.shape}, expected {rgb.shape}")
            metrics = compute_metrics(rgb, decoded, lab)
        except Exception as exc:
            errors.append(f"{codec.name} {where}: {type(exc).__name__}: {exc}")
            continue
        records.append(
            {
                "image": task.source.name,
                "codec": codec.name,
                "quality": task.quality,
                "width": w,
                "height": h,
                "bytes": len(data),
                "bpp": len(data) * 8.0 / (w * h),
                **metrics,
                "encoding_time": encoding_time,
                "decoding_time": decoding_time,
            }
        )
    return records, errors


def self_test(codecs: Sequence[Codec]) -> tuple[list[Codec], list[str]]:
    """Keep the codecs whose :meth:`~Codec.warmup` works here; notes for the others."""
    kept, notes = [], []
    for codec in codecs:
        try:
            codec.warmup()
            _WARM.add(codec.name)
            kept.append(codec)
        except Exception as exc:
            notes.append(f"{codec.name} skipped: its self-test failed: {type(exc).__name__}: {exc}")
    return kept, notes


# --- main side ---------------------------------------------------------------------------------


def _command_line(
    dataset: str,
    codecs: Sequence[str] | None,
    output: Path,
    jobs: int,
    references: Sequence[Path],
    qualities: Mapping[str, Sequence[float]] | None,
    limit: int | None,
    enhance: Sequence[bool],
    sheet_image: str | None,
    sheet_bpp: Sequence[float],
) -> str:
    """The ``lumacodec bench`` command that reproduces a run, for the summary."""
    args = ["lumacodec", "bench", "--dataset", dataset]
    if codecs is not None:
        args += ["--codecs", ",".join(codecs)]
    args += ["--output", str(output), "--jobs", str(jobs)]
    if limit is not None:
        args += ["--limit", str(limit)]
    for name, qs in (qualities or {}).items():
        args += ["--qualities", f"{name}=" + ",".join(f"{q:g}" for q in qs)]
    if tuple(enhance) != (True, False):
        args += ["--enhance", "on" if tuple(enhance) == (True,) else "off"]
    for ref in references:
        args += ["--reference", str(ref)]
    if sheet_image is not None:
        args += ["--sheet-image", sheet_image]
    if tuple(sheet_bpp) != SHEET_BPP:
        args += ["--sheet-bpp", ",".join(f"{b:g}" for b in sheet_bpp)]
    return shlex.join(args)


def _environment(jobs: int) -> dict[str, str]:
    from importlib import metadata

    import PIL
    from PIL import features

    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpus": str(os.cpu_count()),
        "jobs": str(jobs),
        "pillow": PIL.__version__,
    }
    for feature in ("jpg", "webp", "avif", "jpg_2000"):
        env[f"pillow {feature}"] = str(features.version(feature))
    for dist in ("numpy", "torch", "piq", "scikit-image", "bjontegaard", "lumacodec"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "not installed"
    return env


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    # disable=None: tqdm shows the bar only on a terminal
    return tqdm(total=total, desc="bench", unit="task", disable=None if enabled else True)


def run_bench(
    dataset: str | None = None,
    codecs: Sequence[str] | None = None,
    output: Path | str = Path("bench-results"),
    jobs: int = 1,
    references: Sequence[Path | str] = (),
    qualities: Mapping[str, Sequence[float]] | None = None,
    limit: int | None = None,
    enhance: Sequence[bool] = (True, False),
    sheet_image: str | None = None,
    sheet_bpp: Sequence[float] = SHEET_BPP,
    progress: bool = True,
) -> Path:
    """Run a rate–distortion benchmark and write its report; return the path of summary.md.

    Parameters
    ----------
    dataset
        ``None`` or ``"samples"`` (scikit-image's photos), ``"kodak"`` (downloaded and verified
        on first use) or a folder of images.
    codecs
        Names (see :func:`~lumacodec.bench.codecs.make_codecs`); ``None`` runs
        :data:`~lumacodec.bench.codecs.DEFAULT_CODECS`, skipping any this machine lacks.
    output
        Folder for the report; ``output/cache`` keeps per-image results between runs.
    jobs
        Worker processes; 1 computes in this process.
    references
        CompressAI-layout JSON files whose curves are drawn beside ours.
    qualities
        Sweep overrides by codec name, e.g. ``{"jpeg": [10, 50, 90]}``.
    limit
        Use only the first ``limit`` images (by name).
    enhance
        Which lumacodec decoders to run: ``True`` (report name ``lumacodec``), ``False``
        (``lumacodec-classical``) or both.
    sheet_image, sheet_bpp
        Image (default: the first) and target bit rates of the visual comparison sheet.
    progress
        Show a tqdm progress bar (on a terminal).

    Raises
    ------
    LumacodecError
        On a bad dataset, codec name, reference file or option.
    """
    missing = [m for m in BENCH_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise LumacodecError(
            f"lumacodec bench needs {', '.join(missing)}: pip install 'lumacodec[bench]'"
        )
    if jobs < 1:
        raise LumacodecError(f"--jobs must be at least 1, got {jobs}")
    if not enhance:
        raise LumacodecError("enhance must name at least one lumacodec variant")
    started = time.time()
    output = Path(output)
    ds = load_dataset(dataset, limit)
    codec_list, notes = make_codecs(
        codecs if codecs is not None else DEFAULT_CODECS,
        enhance=enhance,
        qualities=dict(qualities) if qualities else None,
        strict=codecs is not None,
    )
    refs = [report.load_reference(Path(p)) for p in references]
    codec_list, failed = self_test(codec_list)
    notes += failed
    for note in failed:
        print(note, file=sys.stderr)
    if not codec_list:
        raise LumacodecError("no codec passed its self-test: " + "; ".join(failed))
    if sheet_image is not None and sheet_image not in {s.name for s in ds.images}:
        raise LumacodecError(f"--sheet-image {sheet_image!r} is not an image of the dataset")
    output.mkdir(parents=True, exist_ok=True)
    cache = output / "cache"

    keys = [image_key(src.load()) for src in ds.images]
    settings = {c.name: c.settings() for c in codec_list}

    # plan: cached results, and tasks for the rest (one per image x encoder group x quality)
    records: list[dict[str, Any]] = []
    pending: dict[tuple[int, str, float], list[Codec]] = {}
    paths: dict[tuple[str, str, float], Path] = {}
    for i, (src, key) in enumerate(zip(ds.images, keys, strict=True)):
        for codec in codec_list:
            for q in codec.qualities:
                path = (
                    cache
                    / codec.name
                    / f"{cache_key(key, codec.name, settings[codec.name], q)}.json"
                )
                paths[(key, codec.name, q)] = path
                cached = _read_cache(path)
                if cached is not None:
                    records.append({**cached, "image": src.name})
                else:
                    pending.setdefault((i, codec.encode_group or codec.name, q), []).append(codec)
    tasks = [Task(ds.images[i], keys[i], tuple(group), q) for (i, _, q), group in pending.items()]
    n_cached = len(records)

    errors: list[str] = []
    computed = 0

    def collect(result: tuple[list[dict[str, Any]], list[str]], task: Task) -> None:
        nonlocal computed
        new, failed = result
        errors.extend(failed)
        for rec in new:
            _write_cache(paths[(task.image_key, rec["codec"], task.quality)], rec)
            records.append(rec)
            computed += 1

    with _progress(len(tasks), progress) as bar:
        if jobs == 1 or len(tasks) <= 1:
            for task in tasks:
                collect(run_task(task), task)
                bar.update()
        else:
            import multiprocessing

            threads = max(1, (os.cpu_count() or 1) // jobs)
            with ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=multiprocessing.get_context("spawn"),  # no fork of a torch process
                initializer=_init_worker,
                initargs=(threads,),
            ) as pool:
                futures = {pool.submit(run_task, t): t for t in tasks}
                for future in as_completed(futures):
                    collect(future.result(), futures[future])
                    bar.update()

    command = _command_line(
        ds.spec,
        codecs,
        output,
        jobs,
        [Path(p) for p in references],
        qualities,
        limit,
        enhance,
        sheet_image,
        sheet_bpp,
    )
    run_info = {
        "command": command,
        "dataset": {
            "spec": ds.spec,
            "description": ds.description,
            "images": [{"name": s.name, "key": k} for s, k in zip(ds.images, keys, strict=True)],
        },
        "codecs": settings,
        "tasks": len(tasks),
        "computed": computed,
        "cached": n_cached,
        "errors": errors,
        "notes": notes,
        "environment": _environment(jobs),
        "elapsed_s": round(time.time() - started, 1),
    }
    summary = report.write_report(
        output=output,
        dataset=ds,
        codecs=codec_list,
        records=records,
        references=refs,
        run_info=run_info,
        sheet_image=sheet_image or ds.images[0].name,
        sheet_bpp=sheet_bpp,
    )
    run_info["elapsed_s"] = round(time.time() - started, 1)
    (output / "run.json").write_text(json.dumps(run_info, indent=2) + "\n")
    if errors:
        print(f"{len(errors)} task(s) failed; see {summary}", file=sys.stderr)
    return summary


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())["result"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: recompute


def _write_cache(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"result": record}, indent=1))
    os.replace(tmp, path)
