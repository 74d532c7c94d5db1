"""The command line: happy paths, one-line errors, exit codes, atomic outputs."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result
from PIL import Image

import lumacodec
from lumacodec import api, files, weights
from lumacodec.cli import main
from lumacodec.container import Header, SourceMode, Stream, pack
from lumacodec.errors import LumacodecError

HAS_BUNDLED_WEIGHTS = all(
    name in weights.read_manifest()["networks"]
    for name in weights.NETWORK_NAMES if name not in weights.OPTIONAL_NETWORKS
)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def png(tmp_path: Path) -> Path:
    """A 12x10 RGB PNG."""
    path = tmp_path / "in.png"
    pixels = np.random.default_rng(3).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def lmc(tmp_path: Path, png: Path) -> Path:
    """The PNG above, encoded at quality 3."""
    path = tmp_path / "in.lmc"
    api.encode_file(png, path, 3)
    return path


def run(runner: CliRunner, *args: object) -> Result:
    return runner.invoke(main, [str(a) for a in args])


def assert_one_line_failure(result: Result, code: int | None = None) -> str:
    """Non-zero exit, exactly one line on stderr, no traceback; returns that line."""
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    err = result.stderr
    assert "Traceback" not in err and "Traceback" not in result.stdout
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("lumacodec: "), err
    return err


def listing(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def bomb_stream() -> bytes:
    header = Header(
        width=2**30,
        height=2**30,
        source_mode=SourceMode.RGB,
        scale_log2=2,
        hint_log2=0,
        base_quality=20,
        hint_quality=0,
    )
    return pack(Stream(header, b"\x01\x00\x00\x00tiny", None))


# --- happy paths --------------------------------------------------------------------------


def test_encode_decode_info(runner: CliRunner, tmp_path: Path, png: Path) -> None:
    out = tmp_path / "out.lmc"
    result = run(runner, "encode", png, out, "-q", 4)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data == lumacodec.encode(Image.open(png), 4)
    meta = lumacodec.info(data)
    assert (meta["width"], meta["height"], meta["mode"]) == (12, 10, "RGB")
    assert f"{len(data)} bytes" in result.stdout and "12x10" in result.stdout

    decoded = tmp_path / "out.png"
    result = run(runner, "decode", out, decoded, "--no-enhance")
    assert result.exit_code == 0, result.output
    with Image.open(decoded) as im:
        assert im.format == "PNG" and im.size == (12, 10) and im.mode == "RGB"
        expected = lumacodec.decode(data, enhance=False)
        assert np.array_equal(np.asarray(im), np.asarray(expected))

    result = run(runner, "info", out)
    assert result.exit_code == 0
    assert "width" in result.stdout and "12" in result.stdout and "bpp" in result.stdout
    result = run(runner, "info", out, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == lumacodec.info(data)


def test_encode_options(runner: CliRunner, tmp_path: Path, png: Path) -> None:
    bare, default = tmp_path / "bare.lmc", tmp_path / "default.lmc"
    assert run(runner, "encode", png, bare, "--no-hints", "--effort", 0).exit_code == 0
    assert run(runner, "encode", png, default, "--effort", 0).exit_code == 0
    assert lumacodec.info(bare.read_bytes())["hint_bytes"] == 0
    meta = lumacodec.info(default.read_bytes())
    assert meta["base_quality"] == lumacodec.QUALITIES[lumacodec.DEFAULT_QUALITY - 1].base_quality
    searched, ladder = tmp_path / "searched.lmc", tmp_path / "ladder.lmc"
    assert run(runner, "encode", png, searched, "--search", "-q", 3, "--effort", 0).exit_code == 0
    assert searched.read_bytes() == lumacodec.encode(Image.open(png), 3, effort=0, search=True)
    assert run(runner, "encode", png, ladder, "--no-search", "-q", 3).exit_code == 0
    assert ladder.read_bytes() == lumacodec.encode(Image.open(png), 3, search=False)


def test_decode_grey_to_jpeg(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "grey.png"
    Image.fromarray(np.full((9, 5), 100, np.uint8)).save(src)
    stream, out = tmp_path / "grey.lmc", tmp_path / "grey.jpg"
    assert run(runner, "encode", src, stream).exit_code == 0
    assert run(runner, "decode", stream, out, "--no-enhance").exit_code == 0
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.mode == "L" and im.size == (5, 9)


def test_version_and_help(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0 and lumacodec.__version__ in result.stdout
    result = run(runner, "--help")
    assert result.exit_code == 0
    for command in ("encode", "decode", "info", "enhance"):
        assert command in result.stdout


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_outputs_get_ordinary_permissions(runner: CliRunner, tmp_path: Path, png: Path) -> None:
    """Outputs are created like any file (0666 & ~umask), not with mkstemp's private 0600."""
    umask = os.umask(0o022)
    try:
        out, decoded = tmp_path / "p.lmc", tmp_path / "p.png"
        assert run(runner, "encode", png, out).exit_code == 0
        assert run(runner, "decode", out, decoded, "--no-enhance").exit_code == 0
    finally:
        os.umask(umask)
    for path in (out, decoded):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, oct(path.stat().st_mode)


# --- errors: one line, non-zero, nothing left behind --------------------------------------


def test_missing_input(runner: CliRunner, tmp_path: Path) -> None:
    before = listing(tmp_path)
    for args in (
        ("encode", tmp_path / "nope.png", tmp_path / "out.lmc"),
        ("decode", tmp_path / "nope.lmc", tmp_path / "out.png", "--no-enhance"),
        ("info", tmp_path / "nope.lmc"),
    ):
        err = assert_one_line_failure(run(runner, *args), code=1)
        assert "nope" in err
    assert listing(tmp_path) == before


def test_text_file_as_image_and_as_stream(runner: CliRunner, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not an image\n")
    before = listing(tmp_path)
    err = assert_one_line_failure(run(runner, "encode", text, tmp_path / "o.lmc"), code=1)
    assert "not a readable image" in err
    err = assert_one_line_failure(
        run(runner, "decode", text, tmp_path / "o.png", "--no-enhance"), code=1
    )
    assert "magic" in err
    assert_one_line_failure(run(runner, "info", text), code=1)
    assert listing(tmp_path) == before


def damaged_streams(data: bytes) -> dict[str, bytes]:
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x04
    return {
        "truncated": data[: len(data) - 5],
        "header-only": data[:20],
        "corrupted": bytes(flipped),
        "wrong-magic": b"\x89PNG" + data[4:],
        "absurd-dimensions": bomb_stream(),
        "empty": b"",
    }


@pytest.mark.parametrize(
    "kind", ["truncated", "header-only", "corrupted", "wrong-magic", "absurd-dimensions", "empty"]
)
def test_damaged_streams(runner: CliRunner, tmp_path: Path, lmc: Path, kind: str) -> None:
    bad = tmp_path / f"{kind}.lmc"
    bad.write_bytes(damaged_streams(lmc.read_bytes())[kind])
    before = listing(tmp_path)
    for enhance in ([], ["--no-enhance"]):
        assert_one_line_failure(run(runner, "decode", bad, tmp_path / "o.png", *enhance), code=1)
    assert_one_line_failure(run(runner, "info", bad), code=1)
    assert listing(tmp_path) == before
    if kind == "absurd-dimensions":
        err = assert_one_line_failure(run(runner, "info", bad))
        assert "exceeds the limit" in err


def test_missing_output_folder(runner: CliRunner, tmp_path: Path, png: Path, lmc: Path) -> None:
    before = listing(tmp_path)
    err = assert_one_line_failure(run(runner, "encode", png, tmp_path / "no" / "o.lmc"), code=1)
    assert "does not exist" in err
    result = run(runner, "decode", lmc, tmp_path / "no" / "o.png", "--no-enhance")
    assert_one_line_failure(result, code=1)
    assert listing(tmp_path) == before


def test_unknown_output_format(runner: CliRunner, tmp_path: Path, lmc: Path) -> None:
    before = listing(tmp_path)
    result = run(runner, "decode", lmc, tmp_path / "o.unknownext", "--no-enhance")
    err = assert_one_line_failure(result, code=1)
    assert "unknown image format" in err
    assert listing(tmp_path) == before


@pytest.mark.parametrize("quality", ["0", "11", "abc", "-3", "2.5"])
def test_bad_quality(runner: CliRunner, tmp_path: Path, png: Path, quality: str) -> None:
    before = listing(tmp_path)
    assert_one_line_failure(run(runner, "encode", png, tmp_path / "o.lmc", "-q", quality))
    assert listing(tmp_path) == before


@pytest.mark.skipif(HAS_BUNDLED_WEIGHTS, reason="bundled weights are installed")
def test_enhanced_decode_without_weights(runner: CliRunner, tmp_path: Path, lmc: Path) -> None:
    before = listing(tmp_path)
    err = assert_one_line_failure(run(runner, "decode", lmc, tmp_path / "o.png"), code=1)
    assert "enhance" in err
    err = assert_one_line_failure(
        run(runner, "enhance", lmc.with_suffix(".png"), tmp_path / "e.png")
    )
    assert listing(tmp_path) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_gpu(runner: CliRunner, tmp_path: Path, lmc: Path) -> None:
    result = run(runner, "decode", lmc, tmp_path / "o.png", "--device", "cuda")
    assert "cuda" in assert_one_line_failure(result, code=1).lower()
    assert not (tmp_path / "o.png").exists()


# --- atomic writes ------------------------------------------------------------------------


def test_failed_run_keeps_the_old_output(
    runner: CliRunner, tmp_path: Path, png: Path, lmc: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    old_stream = lmc.read_bytes()
    assert_one_line_failure(run(runner, "encode", text, lmc))
    assert lmc.read_bytes() == old_stream

    old_png = png.read_bytes()
    bad = tmp_path / "bad.lmc"
    bad.write_bytes(old_stream[:-3])
    assert_one_line_failure(run(runner, "decode", bad, png, "--no-enhance"))
    assert png.read_bytes() == old_png


def test_write_failure_removes_the_temporary_file(
    tmp_path: Path, png: Path, lmc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = lmc.read_bytes()
    before = listing(tmp_path)

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(LumacodecError, match="No space left"):
        api.encode_file(png, lmc, 5)
    assert listing(tmp_path) == before
    assert lmc.read_bytes() == old


def test_write_interrupted_removes_the_temporary_file(
    tmp_path: Path, png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = listing(tmp_path)

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.encode_file(png, tmp_path / "o.lmc", 5)
    assert listing(tmp_path) == before


def test_output_is_a_directory(tmp_path: Path, png: Path) -> None:
    target = tmp_path / "folder.lmc"
    target.mkdir()
    before = listing(tmp_path)
    with pytest.raises(LumacodecError):
        api.encode_file(png, target, 5)
    assert listing(tmp_path) == before and target.is_dir()


def test_encode_file_and_decode_file(tmp_path: Path, png: Path) -> None:
    out = tmp_path / "x.lmc"
    size = api.encode_file(png, out, 6, hints=False)
    assert size == out.stat().st_size
    api.decode_file(out, tmp_path / "x.png", enhance=False)
    with Image.open(tmp_path / "x.png") as im:
        assert im.size == (12, 10)


# --- a real process -----------------------------------------------------------------------


def test_real_process_one_line_error_and_exit_code(tmp_path: Path, lmc: Path) -> None:
    bad = tmp_path / "bad.lmc"
    bad.write_bytes(lmc.read_bytes()[:30])
    before = listing(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "lumacodec.cli", "decode", str(bad), str(tmp_path / "o.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("lumacodec: error: ")
    assert proc.stdout == ""
    assert listing(tmp_path) == before


@pytest.mark.skipif(shutil.which("lumacodec") is None, reason="console script not on PATH")
def test_console_script(tmp_path: Path, png: Path) -> None:
    out = tmp_path / "c.lmc"
    proc = subprocess.run(
        ["lumacodec", "encode", str(png), str(out), "-q", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert lumacodec.info(out.read_bytes())["width"] == 12


def test_colour_options(
    runner: CliRunner, tmp_path: Path, png: Path, network_factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nets = network_factory(seed=2)
    with torch.no_grad():  # a regression head that has learnt a colour (it starts at grey)
        nets.luma_colorizer.head.bias[-2:] = torch.tensor([0.1, 0.15])
    monkeypatch.setattr(weights, "bundled", lambda: nets)
    stream = tmp_path / "luma.lmc"
    assert run(runner, "encode", png, stream, "--no-hints").exit_code == 0
    outputs = {}
    for colour in ("faithful", "vivid"):
        out = tmp_path / f"{colour}.png"
        assert run(runner, "decode", stream, out, "--device", "cpu", "--colour", colour
                   ).exit_code == 0
        outputs[colour] = np.asarray(Image.open(out))
        out = tmp_path / f"enh-{colour}.png"
        assert run(runner, "enhance", png, out, "--scale", "1", "--device", "cpu",
                   "--colour", colour).exit_code == 0
        outputs["enhance-" + colour] = np.asarray(Image.open(out))
    assert not np.array_equal(outputs["faithful"], outputs["vivid"])
    assert not np.array_equal(outputs["enhance-faithful"], outputs["enhance-vivid"])
    err = assert_one_line_failure(run(runner, "enhance", png, tmp_path / "x.png", "--colour",
                                      "sepia"))
    assert "sepia" in err and not (tmp_path / "x.png").exists()


# --- folder mode --------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """photos/: two 32x24 images, one in a sub-folder."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    for seed, rel in enumerate(("a.png", "sub/b.png")):
        pixels = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / rel)
    return root


def test_folder_encode_and_decode(runner: CliRunner, tmp_path: Path, folder: Path) -> None:
    out = tmp_path / "streams"
    result = run(runner, "encode", folder, out, "-q", 3, "--jobs", 1)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[2].startswith("2 done, 0 skipped, 0 failed")
    assert lines[0] == f"{folder / 'a.png'} -> {out / 'a.lmc'}: 32x24, " + (
        f"{lumacodec.info((out / 'a.lmc').read_bytes())['bpp']:.4f} bpp")
    for rel in ("a", "sub/b"):
        expected = lumacodec.encode(Image.open(folder / f"{rel}.png"), 3)
        assert (out / f"{rel}.lmc").read_bytes() == expected

    result = run(runner, "decode", out, tmp_path / "jpegs", "--no-enhance", "--format", "jpg",
                 "--threads", 1)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("2 done")
    with Image.open(tmp_path / "jpegs" / "sub" / "b.jpg") as im:
        assert im.format == "JPEG" and im.size == (32, 24)


def test_folder_resume_quiet_and_glob(runner: CliRunner, tmp_path: Path, folder: Path) -> None:
    out = tmp_path / "streams"
    assert run(runner, "encode", folder, out, "--quiet").exit_code == 0
    result = run(runner, "encode", folder, out, "--quiet")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.count("\n") == 1  # the summary only
    assert result.stdout.startswith("0 done, 2 skipped, 0 failed")
    result = run(runner, "encode", folder, out, "--no-resume")
    assert result.stdout.splitlines()[-1].startswith("2 done, 0 skipped")

    result = run(runner, "encode", str(folder / "**" / "b.png"), tmp_path / "glob")
    assert result.exit_code == 0, result.output
    assert {p.relative_to(tmp_path / "glob").as_posix()
            for p in (tmp_path / "glob").rglob("*.lmc")} == {"sub/b.lmc"}

    # several files, and one file into an existing folder
    result = run(runner, "encode", folder / "a.png", folder / "sub" / "b.png", tmp_path / "two")
    assert result.exit_code == 0 and listing(tmp_path / "two") == {"a.lmc", "sub"}
    result = run(runner, "decode", out / "a.lmc", tmp_path / "two", "--no-enhance")
    assert result.exit_code == 0 and listing(tmp_path / "two") == {"a.lmc", "a.png", "sub"}

    err = assert_one_line_failure(run(runner, "encode", str(folder / "*.gif"), tmp_path / "x"),
                                  code=1)
    assert "no image files match" in err
    err = assert_one_line_failure(
        run(runner, "decode", out / "a.lmc", tmp_path / "o.png", "--format", "jpg"), code=1)
    assert "--format" in err and not (tmp_path / "o.png").exists()


def test_folder_with_a_corrupt_file(runner: CliRunner, tmp_path: Path, folder: Path) -> None:
    (folder / "sub" / "broken.png").write_bytes((folder / "a.png").read_bytes()[:50])
    (folder / "junk.png").write_text("not an image")
    out = tmp_path / "streams"
    result = run(runner, "encode", folder, out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout.splitlines()[-1].startswith("2 done, 0 skipped, 2 failed")
    errors = result.stderr.splitlines()
    assert errors == [
        f"lumacodec: error: {folder / 'junk.png'} is not a readable image (unknown format)",
        f"lumacodec: error: {folder / 'sub' / 'broken.png'} is not a readable image "
        f"(OSError: image file is truncated)",
    ]
    assert {p.name for p in out.rglob("*.lmc")} == {"a.lmc", "b.lmc"}

    (out / "bad.lmc").write_bytes(b"\x89LMC but not a stream")
    result = run(runner, "decode", out, tmp_path / "png", "--no-enhance")
    assert result.exit_code == 1
    [error] = result.stderr.splitlines()
    assert error.startswith(f"lumacodec: error: {out / 'bad.lmc'}: ")
    assert {p.name for p in (tmp_path / "png").rglob("*")} == {"a.png", "sub", "b.png"}


def test_folder_engine_options(runner: CliRunner, tmp_path: Path, folder: Path,
                               no_ray: None) -> None:
    """--engine and --address reach encode_files / decode_files (the runs on Ray are
    tests/test_ray_engine.py's); their errors are one line."""
    result = run(runner, "encode", folder, tmp_path / "o", "--engine", "spark")
    assert "spark" in assert_one_line_failure(result, code=2)
    result = run(runner, "decode", folder, tmp_path / "o", "--address", "auto")
    assert "an address is for engine='ray'" in assert_one_line_failure(result, code=1)
    result = run(runner, "encode", folder, tmp_path / "o", "--engine", "ray")
    assert assert_one_line_failure(result, code=1) == (
        "lumacodec: error: engine='ray' needs Ray: pip install 'lumacodec[ray]'\n")
    assert not (tmp_path / "o").exists()


def test_demo_quiet(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lumacodec import demo

    pixels = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    monkeypatch.setattr(demo, "sample_photos", lambda: {"tiny": pixels})
    result = run(runner, "demo", "--output", tmp_path / "d", "--no-enhance", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.count("| tiny |") == len(lumacodec.QUALITIES)


# --- rate control and pixel limits ---------------------------------------------------------


def test_encode_to_a_target_size(runner: CliRunner, tmp_path: Path, natural_image) -> None:
    src = tmp_path / "photo.png"
    Image.fromarray(natural_image).save(src)
    for flag, value, limit in (("--target-size", "1.5KB", 1500), ("--target-bpp", 0.5, 1024)):
        out = tmp_path / f"{flag}.lmc"
        result = run(runner, "encode", src, out, flag, value)
        assert result.exit_code == 0, result.output
        assert 0.9 * limit <= len(out.read_bytes()) <= limit
    result = run(runner, "encode", src, tmp_path / "x.lmc", "--target-size", "twenty")
    assert "cannot read the size 'twenty'" in assert_one_line_failure(result, 1)
    result = run(runner, "encode", src, tmp_path / "x.lmc", "--target-size", "10")
    assert "no stream of this image fits in 10 bytes" in assert_one_line_failure(result, 1)
    assert not (tmp_path / "x.lmc").exists()


def test_decode_max_pixels(runner: CliRunner, tmp_path: Path, lmc: Path) -> None:
    result = run(runner, "decode", lmc, tmp_path / "o.png", "--no-enhance", "--max-pixels", 100)
    assert "exceeds the limit of 100 pixels" in assert_one_line_failure(result, 1)
    result = run(runner, "decode", lmc, tmp_path / "o.png", "--no-enhance", "--max-pixels", 120)
    assert result.exit_code == 0, result.output


# --- guided colour: enhance --points / --reference, studio ----------------------------------


def test_enhance_with_points_and_reference(
    runner: CliRunner, tmp_path: Path, network_factory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(weights, "bundled", lambda: network_factory(seed=4))
    grey = tmp_path / "old.png"
    Image.fromarray(np.full((24, 32), 90, np.uint8)).save(grey)
    ref = tmp_path / "ref.png"
    Image.fromarray(np.full((16, 16, 3), (40, 100, 40), np.uint8)).save(ref)  # L as the photo
    points = tmp_path / "p.json"
    points.write_text(json.dumps({"points": [{"x": 5, "y": 5, "colour": "#d02020"}]}))
    outs = {}
    for name, extra in (("auto", []), ("points", ["--points", points]),
                        ("ref", ["--reference", ref])):
        out = tmp_path / f"{name}.png"
        result = run(runner, "enhance", grey, out, "--scale", "1", "--colour", "faithful",
                     "--device", "cpu", *extra)
        assert result.exit_code == 0, result.output
        outs[name] = np.asarray(Image.open(out)).astype(int)
    r, g, _ = outs["points"][5, 5]
    assert r - g > 60  # the point is red, and so is the flat photo around it
    assert outs["ref"][12, 16, 1] > outs["auto"][12, 16, 1] + 10  # greener, as the reference


@pytest.mark.parametrize(("points", "message"), [
    ('{"points": [{"x": 500, "y": 5, "colour": "#d02020"}]}', "point 0 at (500, 5) is outside"),
    ('{"points": [{"x": 5, "y": 5, "colour": "rouge"}]}', "point 0: colour 'rouge'"),
    ("", "is empty"),
    ("[1, 2", "not a JSON points file"),
])
def test_enhance_bad_points(runner: CliRunner, tmp_path: Path, png: Path, points: str,
                            message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(points)
    out = tmp_path / "o.png"
    err = assert_one_line_failure(run(runner, "enhance", png, out, "--points", path), code=1)
    assert message in err and str(path) in err and not out.exists()


def test_enhance_bad_reference(runner: CliRunner, tmp_path: Path, png: Path) -> None:
    out = tmp_path / "o.png"
    text = tmp_path / "ref.txt"
    text.write_text("not a photo")
    err = assert_one_line_failure(run(runner, "enhance", png, out, "--reference", text), code=1)
    assert "ref.txt is not a readable image" in err
    grey = tmp_path / "grey.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(grey)
    err = assert_one_line_failure(run(runner, "enhance", png, out, "--reference", grey), code=1)
    assert "grey.png is grey" in err
    err = assert_one_line_failure(run(runner, "enhance", png, out, "--points",
                                      tmp_path / "none.json"), code=1)
    assert "no such file" in err and not out.exists()


def test_studio_bad_photo_and_port(runner: CliRunner, tmp_path: Path) -> None:
    err = assert_one_line_failure(run(runner, "studio", tmp_path / "none.png", "--no-browser"),
                                  code=1)
    assert "no such file" in err
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = assert_one_line_failure(run(runner, "studio", "--port", port, "--no-browser"),
                                      code=1)
    assert f"cannot listen on 127.0.0.1:{port}" in err
