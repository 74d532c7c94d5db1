"""Nothing lost on a crash: the CLI killed (SIGKILL) at random moments never leaves a partial
output.

Each trial starts a real ``lumacodec`` process writing over an existing output, kills it at a
random moment of its run, and checks that the output path holds the previous file or a
complete, valid new one (and, where there was none, nothing or a complete one).  The default
run kills a few times per command; ``-m slow`` runs the 600 kills whose figures
docs/spec/reliability.md reports.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lumacodec

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

#: The CLI on a slow disk: every fsync takes two seconds, so that most kills land while the
#: output is being written (between the temporary file's creation and its rename).
SLOW_DISK_CLI = ("import os, sys, time; fsync = os.fsync; "
                 "os.fsync = lambda fd: (time.sleep(2.0), fsync(fd)); "
                 "sys.argv[0] = 'lumacodec'; from lumacodec.cli import main; main()")
PLUGIN_SAVE = ("from PIL import Image; import lumacodec, sys; "
               "Image.open(sys.argv[1]).save(sys.argv[2], quality=5)")


def run_and_kill(args: list[str], at: float, writing_in: Path | None = None) -> int | None:
    """Start ``args``, SIGKILL it and its worker processes (its process group) after ``at``
    seconds — counted from the moment a temporary output appears in ``writing_in``, when
    given —; its exit code if it ended first."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while writing_in is not None and not any(writing_in.glob(".*.tmp")):
            if proc.poll() is not None:
                return proc.returncode
            time.sleep(0.01)
        return proc.wait(timeout=at)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("crash")
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:384, 0:512]
    photo = np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)
    photo = np.clip(photo + rng.normal(0, 12, photo.shape), 0, 255).astype(np.uint8)
    Image.fromarray(photo).save(d / "photo.png")
    Image.fromarray(photo[::-1]).save(d / "other.png")
    (d / "photo.lmc").write_bytes(lumacodec.encode(photo, 5))
    (d / "other.lmc").write_bytes(lumacodec.encode(photo[::-1], 5))
    folder = d / "photos"
    for i in range(6):
        (folder / f"sub{i % 2}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.roll(photo, 40 * i, axis=1)).save(folder / f"sub{i % 2}" / f"{i}.png")
    return {p.name: p for p in d.iterdir()}


def is_complete_stream(data: bytes) -> bool:
    try:
        lumacodec.info(data)
        return True
    except lumacodec.LumacodecError:
        return False


def is_complete_png(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
        return True
    except Exception:
        return False


def commands(files: dict[str, Path], out: Path) -> dict[str, tuple[list[str], Path, Path, object]]:
    """name → (argv, the output, a previous output to overwrite, completeness check)."""
    cli = [sys.executable, "-m", "lumacodec"]
    return {
        "encode": (cli + ["encode", str(files["photo.png"]), str(out / "a.lmc")],
                   out / "a.lmc", files["other.lmc"], is_complete_stream),
        "decode": (cli + ["decode", str(files["photo.lmc"]), str(out / "a.png")],
                   out / "a.png", files["other.png"], is_complete_png),
        "plugin save": ([sys.executable, "-c", PLUGIN_SAVE, str(files["photo.png"]),
                         str(out / "b.lmc")], out / "b.lmc", files["other.lmc"],
                        is_complete_stream),
        "encode, slow disk": ([sys.executable, "-c", SLOW_DISK_CLI, "encode",
                               str(files["photo.png"]), str(out / "a.lmc")],
                              out / "a.lmc", files["other.lmc"], is_complete_stream),
        "decode, slow disk": ([sys.executable, "-c", SLOW_DISK_CLI, "decode",
                               str(files["photo.lmc"]), str(out / "a.png")],
                              out / "a.png", files["other.png"], is_complete_png),
        "folder encode": (cli + ["encode", str(files["photos"]), str(out / "streams"),
                                 "--jobs", "2", "--no-resume", "--quiet"],
                          out / "streams", files["other.lmc"], is_complete_stream),
    }


def folder_state(folder: Path, previous: bytes, complete: object) -> str:
    """What a folder of outputs holds: every file the previous one or complete, or not."""
    outputs = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    ok = all(p.read_bytes() == previous or complete(p.read_bytes())  # type: ignore[operator]
             for p in outputs)
    return ("complete" if outputs else "nothing") if ok else "partial"


def kill_trials(files: dict[str, Path], out: Path, name: str, kills: int,
                seed: int = 0) -> Counter:
    """Kill command ``name`` ``kills`` times; count what the output path held after each."""
    argv, target, previous, complete = commands(files, out)[name]
    start = time.perf_counter()
    assert subprocess.run(argv, capture_output=True).returncode == 0
    duration = time.perf_counter() - start
    rng = random.Random(seed)
    seen: Counter = Counter()
    for _ in range(10 * kills):  # a run that keeps finishing first must not loop for ever
        if seen["killed"] == kills:
            break
        had_previous = rng.random() < 0.8
        if target.is_dir():
            shutil.rmtree(target)
        target.unlink(missing_ok=True)
        if had_previous and name != "folder encode":
            target.write_bytes(previous.read_bytes())
        for stale in out.rglob(".*.tmp"):
            stale.unlink()
        if "slow disk" in name:  # a moment of the 2-second fsync
            code = run_and_kill(argv, rng.uniform(0.0, 1.9), writing_in=out)
        else:
            code = run_and_kill(argv, rng.uniform(0.2, 1.1) * duration)
        seen["killed" if code is None else "finished"] += 1
        if code is None and any(out.rglob(".*.tmp")):
            seen["killed while writing (temporary file left)"] += 1
        if name == "folder encode":
            state = folder_state(target, previous.read_bytes(), complete) if target.exists() \
                else "nothing"
        elif not target.exists():
            state = "nothing" if not had_previous else "previous file lost"
        else:
            data = target.read_bytes()
            if had_previous and data == previous.read_bytes():
                state = "previous"
            elif complete(data):
                state = "complete"
            else:
                state = "partial"
        seen[state] += 1
    return seen


@pytest.mark.parametrize("name", ["encode", "decode", "plugin save"])
def test_sigkill_leaves_no_partial_output(files: dict[str, Path], tmp_path: Path,
                                          name: str) -> None:
    seen = kill_trials(files, tmp_path, name, kills=4)
    assert seen["killed"] == 4
    assert set(seen) <= {"killed", "finished", "nothing", "previous", "complete",
                         "killed while writing (temporary file left)"}, seen


@pytest.mark.slow
@pytest.mark.parametrize("name, kills", [
    ("encode", 200), ("decode", 200), ("plugin save", 50), ("folder encode", 50),
    ("encode, slow disk", 50), ("decode, slow disk", 50)])
def test_sigkill_many_times(files: dict[str, Path], tmp_path: Path, name: str,
                            kills: int) -> None:
    """The figures of docs/spec/reliability.md (printed with ``-s``)."""
    seen = kill_trials(files, tmp_path, name, kills=kills, seed=1)
    print(f"\n{name}: {dict(seen)}")
    allowed = {"killed", "finished", "nothing", "previous", "complete",
               "killed while writing (temporary file left)"}
    assert set(seen) <= allowed, seen
    assert seen["partial"] == 0 and seen["previous file lost"] == 0

