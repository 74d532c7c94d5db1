"""``lumacodec enhance`` on film (lumacodec.film.command, through cli.py): video and folders
in and out, keyframe points and a reference photo, and bad input as one line, no output.

The bundled networks run here (on 64×48 frames: fast), since the command line has no way to
be given others; every clip is made by the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from film_clips import (
    corrupt_packet,
    moving_frames,
    streams_of,
    truncate,
    write_audio_only,
    write_clip,
)
from PIL import Image

from lumacodec.cli import main
from lumacodec.color import rgb_to_lab
from lumacodec.film import video_io


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "old.mp4", moving_frames(10))


def one_line_error(result: Result) -> str:
    """Exit 1, one line on stderr, no traceback; that line."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    err = result.stderr
    assert "Traceback" not in err + result.stdout
    assert err.startswith("lumacodec: error: ") and err.count("\n") == 1, repr(err)
    return err


def test_video_in_video_out(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "colour.mp4"
    result = run("enhance", clip, out, "--scale", "2", "--quiet", "--fast-sr", "--crf", "23")
    assert result.exit_code == 0, result.output
    a, b = streams_of(clip), streams_of(out)
    assert len(b["pts"]) == len(a["pts"]) == 10
    assert b["pts"] == pytest.approx(a["pts"], abs=1e-6)
    assert b["duration"] == pytest.approx(a["duration"], abs=0.05e6)
    assert b["audio"] == a["audio"]  # A/V sync: the sound, packet for packet
    assert (b["width"], b["height"]) == (128, 96)
    assert list(tmp_path.iterdir()) == [out]


def test_summary_line_without_quiet(clip: Path, tmp_path: Path) -> None:
    result = run("enhance", clip, tmp_path / "out.mkv", "--scale", "1")
    assert result.exit_code == 0, result.output
    assert "10 frames in" in result.stdout and "frames/s" in result.stdout


def test_folder_in_folder_out(tmp_path: Path) -> None:
    src = tmp_path / "scans"
    src.mkdir()
    for i, rgb in enumerate(moving_frames(4)):
        Image.fromarray(rgb[..., 0]).save(src / f"{i}.png")
    result = run("enhance", src, tmp_path / "out", "--scale", "1", "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{i}.png" for i in range(4)]


def mean_ab(path: Path, box: tuple[slice, slice]) -> np.ndarray:
    lab = rgb_to_lab(np.asarray(Image.open(path).convert("RGB")))
    return lab[box][..., 1:].reshape(-1, 2).mean(0)


def test_keyframe_points(clip: Path, tmp_path: Path) -> None:
    keyframes = tmp_path / "keys.json"
    keyframes.write_text(json.dumps({"version": 1, "keyframes": [
        {"frame": 0, "points": [{"x": 32, "y": 24, "colour": "#e02020", "radius": 8}]},
        {"frame": 6, "points": [{"x": 32, "y": 24, "colour": "#2040f0", "radius": 8}]}]}))
    plain, guided = tmp_path / "plain", tmp_path / "guided"
    assert run("enhance", clip, plain, "--scale", "1", "--quiet").exit_code == 0
    result = run("enhance", clip, guided, "--scale", "1", "--quiet", "--points", keyframes)
    assert result.exit_code == 0, result.output
    box = (slice(18, 30), slice(26, 38))
    red0, base0 = (mean_ab(d / "frame_000000.png", box) for d in (guided, plain))
    blue6, base6 = (mean_ab(d / "frame_000006.png", box) for d in (guided, plain))
    red3 = mean_ab(guided / "frame_000003.png", box)
    assert red0[0] > base0[0] + 10  # frame 0: red where the point is (a up)
    assert red3[0] > base0[0] + 5  # carried on to the frames after it
    assert blue6[1] < base6[1] - 10  # frame 6, the second keyframe: blue (b down)


def test_reference_photo(clip: Path, tmp_path: Path) -> None:
    y, x = np.mgrid[0:60, 0:80]
    green = np.stack([40 + x, 140 + y, 50 + 0 * x], -1).clip(0, 255).astype(np.uint8)
    Image.fromarray(green).save(tmp_path / "ref.png")
    plain, guided = tmp_path / "plain", tmp_path / "guided"
    assert run("enhance", clip, plain, "--scale", "1", "--quiet").exit_code == 0
    result = run("enhance", clip, guided, "--scale", "1", "--quiet", "--reference",
                 tmp_path / "ref.png")
    assert result.exit_code == 0, result.output
    everything = (slice(None), slice(None))
    for name in ("frame_000000.png", "frame_000009.png"):
        assert mean_ab(guided / name, everything)[0] < mean_ab(plain / name, everything)[0] - 5


@pytest.mark.parametrize("case", ["missing", "not a video", "no video stream", "truncated",
                                  "absurd dimensions", "grey reference", "bad points"])
def test_bad_input_is_one_line_and_no_output(case: str, clip: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    src, extra = tmp_path / "in.mp4", []
    if case == "not a video":
        src.write_bytes(b"\x00\x01 certainly not a video " * 50)
    elif case == "no video stream":
        write_audio_only(src)
    elif case == "truncated":
        truncate(clip, src, 0.5)
    elif case in ("absurd dimensions", "grey reference", "bad points"):
        src = clip
        if case == "absurd dimensions":
            monkeypatch.setattr(video_io, "MAX_SIDE", 32)
        elif case == "grey reference":
            Image.new("L", (8, 8), 128).save(tmp_path / "grey.png")
            extra = ["--reference", tmp_path / "grey.png"]
        else:
            (tmp_path / "keys.json").write_text('{"keyframes": [{"frame": 0, "points": '
                                                '[{"x": 500, "y": 2, "colour": "#fff"}]}]}')
            extra = ["--points", tmp_path / "keys.json"]
    out = tmp_path / "out" / "colour.mp4"
    out.parent.mkdir()
    err = one_line_error(run("enhance", src, out, "--quiet", *extra))
    expected = {"missing": "no such file", "not a video": "not a readable video",
                "no video stream": "has no video stream", "truncated": "in.mp4",
                "absurd dimensions": "too large", "grey reference": "grey",
                "bad points": "outside"}[case]
    assert expected in err
    assert list(out.parent.iterdir()) == []


def test_corrupt_frame_warns_and_keeps_going(tmp_path: Path) -> None:
    good = write_clip(tmp_path / "good.mp4", moving_frames(12), codec="mpeg4")
    bad = corrupt_packet(good, tmp_path / "bad.mp4", 5)
    out = tmp_path / "out.mp4"
    result = run("enhance", bad, out, "--scale", "1", "--quiet")
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert warnings and all(w.startswith("lumacodec: warning: ") for w in warnings)
    assert "previous frame is repeated" in warnings[0] and "bad.mp4: frame" in warnings[0]
    assert len(streams_of(out)["pts"]) == 12
