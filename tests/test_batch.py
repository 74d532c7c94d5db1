"""Whole collections (lumacodec.batch): which files, mirrored outputs, failures, resume,
worker processes, the summary's figures and the progress bar."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import smooth_rgb
from PIL import Image

import lumacodec
from lumacodec import batch, demo, files, local_engine, weights
from lumacodec.errors import LumacodecError

#: The images of the ``photos`` fixture, by path relative to the folder.
PHOTOS = ("a.png", "sub/b.jpg", "sub/deeper/c.webp")


def tiny_photo(seed: int) -> np.ndarray:
    """A 32x24 photo-like RGB image, different for each seed."""
    return np.roll(smooth_rgb(24, 32 + seed), seed, axis=1)[:, :32]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """photos/: three images in nested sub-folders, plus a text file and a hidden image that
    a folder run must leave alone."""
    root = tmp_path / "photos"
    for seed, rel in enumerate(PHOTOS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(tiny_photo(seed)).save(root / rel)
    (root / "notes.txt").write_text("not an image")
    Image.fromarray(tiny_photo(9)).save(root / ".hidden.png")
    return root


def tree(folder: Path) -> set[str]:
    """The files under ``folder``, as relative POSIX paths."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def stream_name(rel: str) -> str:
    return str(Path(rel).with_suffix(".lmc").as_posix())


# --- which files, where the outputs go ------------------------------------------------------


def test_folder_is_mirrored_and_streams_are_those_of_encode(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "streams" / "new"  # created, parents too
    summary = lumacodec.encode_files(photos, out, quality=3)
    assert (summary.done, summary.skipped, summary.failed) == (3, 0, [])
    assert tree(out) == {stream_name(rel) for rel in PHOTOS}
    for rel in PHOTOS:
        expected = lumacodec.encode(Image.open(photos / rel), 3)
        assert (out / stream_name(rel)).read_bytes() == expected, rel

    decoded = tmp_path / "decoded"
    summary = lumacodec.decode_files(out, decoded, enhance=False)
    assert (summary.done, summary.failed) == (3, [])
    assert tree(decoded) == {str(Path(rel).with_suffix(".png").as_posix()) for rel in PHOTOS}
    for rel in PHOTOS:
        with Image.open(decoded / Path(rel).with_suffix(".png")) as im:
            expected = lumacodec.decode((out / stream_name(rel)).read_bytes(), enhance=False)
            assert im.format == "PNG" and np.array_equal(np.asarray(im), np.asarray(expected))


def test_glob_pattern(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = lumacodec.encode_files(str(photos / "**" / "*.jpg"), out)
    assert summary.done == 1 and tree(out) == {"sub/b.lmc"}  # mirrored below "photos"
    summary = lumacodec.encode_files(str(photos / "sub" / "*"), out / "flat")
    assert summary.done == 1 and tree(out / "flat") == {"b.lmc"}  # not the folder "deeper"

    jpegs = tmp_path / "jpegs"
    summary = lumacodec.decode_files(str(out / "**" / "*.lmc"), jpegs, enhance=False, fmt="jpg")
    assert summary.done == 2 and tree(jpegs) == {"sub/b.jpg", "flat/b.jpg"}
    with Image.open(jpegs / "sub" / "b.jpg") as im:
        assert im.format == "JPEG" and im.size == (32, 24)

    with pytest.raises(LumacodecError, match="no image files match"):
        lumacodec.encode_files(str(photos / "*.gif"), tmp_path / "none")
    with pytest.raises(LumacodecError, match="no such file or folder"):
        lumacodec.encode_files(tmp_path / "missing", tmp_path / "none")


def test_list_of_paths_mirrored_from_their_common_folder(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = lumacodec.encode_files([photos / "sub" / "b.jpg", photos / "sub/deeper/c.webp"], out)
    assert summary.done == 2 and tree(out) == {"b.lmc", "deeper/c.lmc"}


def test_outputs_inside_the_source_folder_are_not_inputs(photos: Path) -> None:
    """Encoding photos/ into photos/streams/ and then decoding photos/streams/ into
    photos/streams/png/ takes only the original images, then only the streams."""
    assert lumacodec.encode_files(photos, photos / "streams").done == 3
    assert lumacodec.encode_files(photos, photos / "streams").skipped == 3
    summary = lumacodec.decode_files(photos / "streams", photos / "streams" / "png",
                                     enhance=False)
    assert summary.done == 3
    assert lumacodec.decode_files(photos / "streams", photos / "streams" / "png",
                                  enhance=False).skipped == 3


def test_bad_arguments(photos: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(LumacodecError, match="output folder is a file"):
        lumacodec.encode_files(photos, a_file)
    with pytest.raises(LumacodecError, match="unknown output image format: xyz"):
        lumacodec.decode_files(photos, tmp_path / "o", fmt="xyz")
    with pytest.raises(LumacodecError, match="jobs must be at least 1"):
        lumacodec.encode_files(photos, tmp_path / "o", jobs=0)
    with pytest.raises(LumacodecError, match="threads must be at least 1"):
        lumacodec.decode_files(photos, tmp_path / "o", threads=0)
    with pytest.raises(LumacodecError, match="object-storage paths are not supported yet"):
        lumacodec.encode_files("s3://bucket/photos/", tmp_path / "o")
    with pytest.raises(LumacodecError, match="not supported yet: gs://bucket/streams"):
        lumacodec.encode_files(photos, "gs://bucket/streams")
    assert not (tmp_path / "o").exists()  # nothing made for a call refused


def test_engine_arguments(photos: Path, tmp_path: Path, no_ray: None) -> None:
    """An unknown engine, an address without Ray, and engine="ray" without the extra (the
    runs on Ray are tests/test_ray_engine.py's): refused before anything is made."""
    with pytest.raises(LumacodecError, match="unknown engine: 'spark'"):
        lumacodec.encode_files(photos, tmp_path / "o", engine="spark")  # type: ignore[arg-type]
    with pytest.raises(LumacodecError, match="an address is for engine='ray'"):
        lumacodec.decode_files(photos, tmp_path / "o", address="auto")
    with pytest.raises(LumacodecError, match=r"^engine='ray' needs Ray: pip install "
                                             r"'lumacodec\[ray\]'$"):
        lumacodec.encode_files(photos, tmp_path / "o", engine="ray")
    assert not (tmp_path / "o").exists()


# --- failures ---------------------------------------------------------------------------------


def test_a_corrupt_file_among_good_ones(photos: Path, tmp_path: Path) -> None:
    (photos / "sub" / "broken.jpg").write_bytes((photos / "sub" / "b.jpg").read_bytes()[:40])
    (photos / "empty.png").write_bytes(b"")
    out = tmp_path / "out"
    summary = lumacodec.encode_files(photos, out)
    assert summary.done == 3 and not summary.ok
    assert [path for path, _ in summary.failed] == [photos / "empty.png",
                                                   photos / "sub" / "broken.jpg"]
    for _, reason in summary.failed:
        assert "not a readable image" in reason and "\n" not in reason
    assert tree(out) == {stream_name(rel) for rel in PHOTOS}  # nothing for the bad ones
    lines = summary.failure_lines()
    assert len(lines) == 2 and lines[0].count(str(photos / "empty.png")) == 1

    # a damaged stream among good ones, on decode
    damaged = out / "sub" / "b.lmc"
    damaged.write_bytes(damaged.read_bytes()[:-7])
    summary = lumacodec.decode_files(out, tmp_path / "png", enhance=False)
    assert summary.done == 2 and [p for p, _ in summary.failed] == [damaged]
    assert tree(tmp_path / "png") == {"a.png", "sub/deeper/c.png"}


def test_two_sources_for_one_output(photos: Path, tmp_path: Path) -> None:
    Image.fromarray(tiny_photo(5)).save(photos / "a.jpg")  # a.jpg and a.png both make a.lmc
    summary = lumacodec.encode_files(photos, tmp_path / "out")
    assert summary.done == 3
    assert summary.failed == [(photos / "a.png",
                               f"{tmp_path / 'out' / 'a.lmc'} is already the output of "
                               f"{photos / 'a.jpg'}")]
    expected = lumacodec.encode(Image.open(photos / "a.jpg"))
    assert (tmp_path / "out" / "a.lmc").read_bytes() == expected

    stream = tmp_path / "out" / "a.lmc"  # a listed file whose output would be itself
    summary = lumacodec.encode_files([stream], tmp_path / "out", resume=False)
    assert summary.failed == [(stream, "the output would replace its source")]
    assert stream.read_bytes() == expected


# --- resume -----------------------------------------------------------------------------------


def test_resume_skips_done_outputs_and_redoes_stale_ones(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert lumacodec.encode_files(photos, out).done == 3
    stale, fresh = out / "sub" / "b.lmc", out / "a.lmc"
    stale.write_bytes(b"left over from an older run")
    source_time = (photos / "sub" / "b.jpg").stat().st_mtime
    os.utime(stale, (source_time - 60, source_time - 60))  # older than its source
    fresh_time = fresh.stat().st_mtime_ns

    seen: list[batch.FileResult] = []
    summary = lumacodec.encode_files(photos, out, on_file=seen.append)
    assert (summary.done, summary.skipped, summary.failed) == (1, 2, [])
    assert {(r.src.name, r.status) for r in seen} == {
        ("a.png", "skipped"), ("b.jpg", "done"), ("c.webp", "skipped")}
    assert stale.read_bytes() == lumacodec.encode(Image.open(photos / "sub" / "b.jpg"))
    assert fresh.stat().st_mtime_ns == fresh_time  # not rewritten

    summary = lumacodec.encode_files(photos, out, resume=False)
    assert (summary.done, summary.skipped) == (3, 0)
    assert fresh.stat().st_mtime_ns >= fresh_time


def test_an_interrupted_run_resumes(photos: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped while writing the second output: the first is complete, no partial or
    temporary file is left, and the same call again does only the rest."""
    out = tmp_path / "out"
    replace = files.os.replace
    renames = []

    def interrupted_on_second(src: str, dst: str) -> None:
        renames.append(dst)
        if len(renames) == 2:
            raise KeyboardInterrupt
        replace(src, dst)

    monkeypatch.setattr(files.os, "replace", interrupted_on_second)
    with pytest.raises(KeyboardInterrupt):
        lumacodec.encode_files(photos, out)
    assert tree(out) == {"a.lmc"}  # rglob lists hidden temporary files too
    monkeypatch.setattr(files.os, "replace", replace)
    summary = lumacodec.encode_files(photos, out)
    assert (summary.done, summary.skipped) == (2, 1)
    assert tree(out) == {stream_name(rel) for rel in PHOTOS}


# --- worker processes -------------------------------------------------------------------------


def test_two_jobs_make_the_same_streams_as_one(photos: Path, tmp_path: Path) -> None:
    (photos / "bad.png").write_text("not an image")
    one = lumacodec.encode_files(photos, tmp_path / "one", quality=7, jobs=1)
    two = lumacodec.encode_files(photos, tmp_path / "two", quality=7, jobs=2)
    assert tree(tmp_path / "one") == tree(tmp_path / "two") == {stream_name(r) for r in PHOTOS}
    for rel in PHOTOS:
        name = stream_name(rel)
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert (two.done, two.bytes_in, two.bytes_out) == (one.done, one.bytes_in, one.bytes_out)
    assert two.failed == one.failed and len(two.failed) == 1  # a failure in a worker, too


def by_whom(src: Path, dst: Path, options: dict) -> batch.FileResult:
    """A step that names the process it ran in (a worker's, or the caller's), slowly enough
    that the worker gets files of its own once started."""
    import time

    time.sleep(0.2)
    return batch.FileResult(src, dst, "done", reason=str(os.getpid()))


def dies_in_a_worker(src: Path, dst: Path, options: dict) -> batch.FileResult:
    """A step that kills the worker process it runs in, as the out-of-memory killer would."""
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        os._exit(9)
    return batch.FileResult(src, dst, "done")


def pairs(n: int, tmp_path: Path) -> list[tuple[Path, Path]]:
    return [(tmp_path / f"{i}.png", tmp_path / f"{i}.lmc") for i in range(n)]


def test_with_two_jobs_this_process_is_one_of_them(tmp_path: Path) -> None:
    """The caller's process works from the start (while the worker starts), and the worker
    takes files too; each file once."""
    todo = pairs(12, tmp_path)
    results = list(local_engine.results(by_whom, todo, {}, jobs=2, threads=1))
    assert sorted(r.src for r in results) == sorted(src for src, _ in todo)
    by_pid = {r.reason for r in results}
    assert str(os.getpid()) in by_pid and len(by_pid) == 2


def openmp_threads(src: Path, dst: Path, options: dict) -> batch.FileResult:
    """A step that says how many threads OpenMP would give it, in the thread it runs in."""
    from test_threads import openmp_max_threads

    return batch.FileResult(src, dst, "done", reason=str(openmp_max_threads()()))


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenMP's default is one thread here")
def test_every_job_runs_openmp_on_its_threads(tmp_path: Path) -> None:
    """This process's job runs in a thread of its own, whose OpenMP count is not the main
    thread's: it is set there too (two jobs would otherwise hold four spinning threads)."""
    results = list(local_engine.results(openmp_threads, pairs(8, tmp_path), {}, jobs=2, threads=1))
    assert {r.reason for r in results} == {"1"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks only on Linux")
def test_workers_are_forked_only_where_that_is_safe() -> None:
    import threading

    assert local_engine.start_method(1, {}) == "fork"  # pytest runs no other thread
    assert local_engine.start_method(2, {}) == "spawn"  # OpenMP's pool is not inherited
    assert local_engine.start_method(1, {"device": "cuda"}) == "spawn"
    busy = threading.Event()
    other = threading.Thread(target=busy.wait)
    other.start()
    try:
        assert local_engine.start_method(1, {}) == "spawn"  # it might hold a lock
    finally:
        busy.set()
        other.join()


def test_a_worker_that_dies_fails_its_file_and_this_process_does_the_rest(
        tmp_path: Path) -> None:
    todo = pairs(5, tmp_path)
    results = {r.src: r for r in
               local_engine.results(dies_in_a_worker, todo, {}, jobs=2, threads=1)}
    assert sorted(results) == sorted(src for src, _ in todo)
    failed = [r for r in results.values() if r.status == "failed"]
    assert [r.src for r in failed] == [todo[0][0]]  # the one file the worker was given
    assert "BrokenProcessPool" in failed[0].reason


def test_threads_per_job_change_the_speed_not_the_streams(photos: Path, tmp_path: Path) -> None:
    before = torch.get_num_threads()
    seen: list[int] = []

    def during(result: batch.FileResult) -> None:
        seen.append(torch.get_num_threads())

    lumacodec.encode_files(photos, tmp_path / "all", quality=7)
    lumacodec.encode_files(photos, tmp_path / "one", quality=7, threads=1, on_file=during)
    lumacodec.encode_files(photos, tmp_path / "two", quality=7, jobs=2, threads=1)
    assert seen and set(seen) == {1}  # held to one thread while it ran ...
    assert torch.get_num_threads() == before  # ... and given back after
    for rel in PHOTOS:
        name = stream_name(rel)
        assert ((tmp_path / "all" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
                == (tmp_path / "two" / name).read_bytes())


# --- the summary ------------------------------------------------------------------------------


def test_summary_figures(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = lumacodec.encode_files(photos, out, quality=4)
    streams = [(out / stream_name(rel)).read_bytes() for rel in PHOTOS]
    assert summary.bytes_in == sum((photos / rel).stat().st_size for rel in PHOTOS)
    assert summary.bytes_out == sum(len(s) for s in streams)
    bpps = [len(s) * 8 / (32 * 24) for s in streams]
    assert summary.mean_bpp == pytest.approx(np.mean(bpps))
    assert summary.mean_bpp == pytest.approx(np.mean([lumacodec.info(s)["bpp"] for s in streams]))
    assert summary.seconds > 0 and summary.images_per_s == pytest.approx(3 / summary.seconds)
    text = str(summary)
    assert text.startswith("3 done, 0 skipped, 0 failed in ") and "images/s" in text
    assert f"{summary.mean_bpp:.4f} bpp" in text

    decoded = lumacodec.decode_files(out, tmp_path / "png", enhance=False)
    assert decoded.bytes_in == summary.bytes_out  # the streams read
    assert decoded.bytes_out == sum(p.stat().st_size for p in (tmp_path / "png").rglob("*.png"))
    assert decoded.mean_bpp == pytest.approx(summary.mean_bpp)  # of the input streams

    again = lumacodec.encode_files(photos, out)  # all skipped: nothing counted
    assert (again.done, again.skipped, again.bytes_in, again.bytes_out, again.mean_bpp) == (
        0, 3, 0, 0, None)
    assert str(again).startswith("0 done, 3 skipped, 0 failed") and "bpp" not in str(again)


# --- the networks -----------------------------------------------------------------------------


def test_decode_with_the_networks(tmp_path: Path, network_factory,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The decode options reach every file: the networks run, with the colour asked for."""
    nets = network_factory(seed=2)
    with torch.no_grad():  # a colour-from-L head that has learnt a colour (it starts at grey)
        nets.luma_colorizer.head.bias[-2:] = torch.tensor([0.1, 0.15])
    monkeypatch.setattr(weights, "bundled", lambda: nets)
    streams = tmp_path / "streams"
    streams.mkdir()
    for seed in range(2):
        (streams / f"{seed}.lmc").write_bytes(lumacodec.encode(tiny_photo(seed), 4, hints=False))
    summary = lumacodec.decode_files(streams, tmp_path / "vivid", device="cpu", colour="vivid")
    assert (summary.done, summary.failed) == (2, [])
    for seed in range(2):
        data = (streams / f"{seed}.lmc").read_bytes()
        got = np.asarray(Image.open(tmp_path / "vivid" / f"{seed}.png"))
        expected = lumacodec.decode(data, device="cpu", colour="vivid")
        assert np.array_equal(got, np.asarray(expected))
        assert not np.array_equal(got, np.asarray(lumacodec.decode(data, device="cpu")))
        assert not np.array_equal(got, np.asarray(lumacodec.decode(data, enhance=False)))


# --- progress ---------------------------------------------------------------------------------


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_no_progress_output_when_stderr_is_not_a_terminal(
    photos: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert not sys.stderr.isatty()
    lumacodec.encode_files(photos, tmp_path / "out", progress=None)
    lumacodec.decode_files(tmp_path / "out", tmp_path / "png", enhance=False, progress=True)
    assert capfd.readouterr() == ("", "")


def test_progress_bar_on_a_terminal(photos: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    lumacodec.encode_files(photos, tmp_path / "quiet", progress=False)
    assert terminal.getvalue() == ""
    lumacodec.encode_files(photos, tmp_path / "out")
    drawn = terminal.getvalue()
    assert "encode" in drawn and "0/3" in drawn and "3/3" in drawn and "images/s" in drawn


def test_demo_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "sample_photos", lambda: {"tiny": tiny_photo(0)})
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    table = demo.run_demo(tmp_path, qualities=(1, 2), enhance=False, progress=False)
    assert terminal.getvalue() == "" and table.count("| tiny |") == 2
    demo.run_demo(tmp_path, qualities=(1, 2), enhance=False)
    assert "2/2" in terminal.getvalue() and "codings/s" in terminal.getvalue()
