"""lumacodec.film.video_io: frames streamed in and out, timing and sound kept, bad input named.

Every clip is made here (tests/film_clips.py, PyAV): nothing from shared/ is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from film_clips import (
    corrupt_packet,
    moving_frames,
    streams_of,
    truncate,
    write_audio_only,
    write_clip,
)
from PIL import Image

from lumacodec.color import L_to_grey_u8
from lumacodec.errors import LumacodecError
from lumacodec.film import video_io
from lumacodec.film.video_io import (
    FolderSink,
    FolderSource,
    Frame,
    Passthrough,
    VideoSink,
    VideoSource,
    grey_to_L,
    open_source,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20-frame 64×48 clip at 24 fps with a tone as its audio track."""
    return write_clip(tmp_path_factory.mktemp("clip") / "in.mp4", moving_frames(20))


def copy_through(src: Path, dst: Path) -> VideoSink:
    """Read ``src`` and write every frame (as grey) and audio packet to ``dst`` as they come."""
    source = VideoSource(src)
    sink = VideoSink(dst, source.info, source.info.width, source.info.height, crf=10)
    for item in source.items():
        if isinstance(item, Passthrough):
            sink.passthrough(item)
        else:
            sink.write(L_to_grey_u8(item.L), item.pts)
    sink.commit()
    source.close()
    return sink


def test_video_in_video_out_keeps_frames_timing_and_audio(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    copy_through(clip, out)
    a, b = streams_of(clip), streams_of(out)
    assert len(b["pts"]) == len(a["pts"]) == 20
    assert b["pts"] == pytest.approx(a["pts"], abs=1e-6)  # every frame at its time
    assert b["duration"] == pytest.approx(a["duration"], abs=0.05 * 1e6)
    assert a["audio"], "the test clip has sound"
    assert b["audio"] == a["audio"]  # every audio packet, byte for byte, at its time
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left beside it


def test_frames_are_grey_L_in_display_order(clip: Path) -> None:
    source = VideoSource(clip)
    frames = [i for i in source.items() if isinstance(i, Frame)]
    source.close()
    assert [f.index for f in frames] == list(range(20))
    assert all(f.L.shape == (48, 64) and f.L.dtype == np.float32 for f in frames)
    assert 0 <= min(f.L.min() for f in frames) and max(f.L.max() for f in frames) <= 100
    assert source.info.fps == 24 and source.info.frames == 20


def test_grey_to_L_is_the_colour_module_s() -> None:
    from lumacodec.color import grey_u8_to_L

    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_allclose(grey_to_L(grey), grey_u8_to_L(grey), atol=1e-5)


def test_folder_in_folder_out(tmp_path: Path) -> None:
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for i, rgb in enumerate(moving_frames(11)):  # f2 before f10: natural order
        Image.fromarray(rgb).save(frames_dir / f"f{i}.png")
    (frames_dir / "notes.txt").write_text("not a frame")
    source = open_source(frames_dir)
    assert isinstance(source, FolderSource) and source.info.frames == 11
    sink = FolderSink(tmp_path / "out", [f.name for f in source.files])
    for item in source.items():
        sink.write(L_to_grey_u8(item.L), item.pts)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"f{i}.png" for i in range(11))
    back = np.asarray(Image.open(tmp_path / "out" / "f10.png"))
    assert np.abs(back.astype(int) - moving_frames(11)[10][..., 0]).max() <= 1


def test_folder_of_other_sizes_is_refused(tmp_path: Path) -> None:
    Image.new("L", (64, 48)).save(tmp_path / "a.png")
    Image.new("L", (32, 48)).save(tmp_path / "b.png")
    with pytest.raises(LumacodecError, match="b.png: 32x48, but the first frame is 64x48"):
        list(FolderSource(tmp_path).items())


@pytest.mark.parametrize("case", ["missing", "text", "audio only", "directory", "cut 30%",
                                  "cut 90%"])
def test_bad_input_is_one_error_naming_the_file(case: str, clip: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.mp4"
    if case == "text":
        path.write_text("not a video at all\n" * 20)
    elif case == "audio only":
        write_audio_only(path)
    elif case == "directory":
        path.mkdir()
    elif case.startswith("cut"):
        truncate(clip, path, int(case[4:6]) / 100)
    with pytest.raises(LumacodecError) as err:
        list(VideoSource(path).items())
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    expected = {"missing": "no such file", "text": "not a readable video",
                "audio only": "has no video stream", "directory": "is a directory",
                "cut 30%": "not a readable video", "cut 90%": "truncated"}[case]
    assert expected in message


def test_a_stream_that_ends_before_its_declared_frames_is_truncated(clip: Path, tmp_path: Path
                                                                     ) -> None:
    path = tmp_path / "short.mkv"
    write_clip(path, moving_frames(24))
    cut = truncate(path, tmp_path / "cut.mkv", 0.3)
    with pytest.raises(LumacodecError, match=r"is truncated: \d+ of the about 2\d frames"):
        list(VideoSource(cut).items())
    # the whole file is not: its length, estimated from a duration, is only an estimate
    assert sum(isinstance(i, Frame) for i in VideoSource(path).items()) == 24


def test_absurd_dimensions_are_refused_before_decoding(clip: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LumacodecError, match="too large to enhance at x4"):
        video_io.check_size("x.mp4", 16000, 9000, 4)
    with pytest.raises(LumacodecError, match="no picture size"):
        video_io.check_size("x.mp4", 0, 480, 2)
    monkeypatch.setattr(video_io, "MAX_SIDE", 32)
    with pytest.raises(LumacodecError, match="frames of 64x48 are too large"):
        VideoSource(clip)


def test_corrupt_frame_is_repeated_with_a_warning(tmp_path: Path) -> None:
    good = write_clip(tmp_path / "good.mp4", moving_frames(12), codec="mpeg4")
    bad = corrupt_packet(good, tmp_path / "bad.mp4", 5)
    source = VideoSource(bad)
    frames = [i for i in source.items() if isinstance(i, Frame)]
    assert len(frames) == 12  # as many frames, each at its time: sync is kept
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)
    repeated = [f.index for f in frames if f.repeat]
    assert repeated and min(repeated) >= 5
    assert all(f.L is None for f in frames if f.repeat)
    assert len(source.info.warnings) == len(repeated)
    assert f"frame {repeated[0]}" in source.info.warnings[0]
    assert "previous frame is repeated" in source.info.warnings[0]


def test_first_frame_corrupt_stops(tmp_path: Path) -> None:
    good = write_clip(tmp_path / "good.mp4", moving_frames(6), codec="mpeg4", audio=False)
    bad = corrupt_packet(good, tmp_path / "bad.mp4", 0)
    with pytest.raises(LumacodecError, match="first frame|no frame could be decoded"):
        list(VideoSource(bad).items())


def test_sink_abort_leaves_nothing(clip: Path, tmp_path: Path) -> None:
    source = VideoSource(clip)
    sink = VideoSink(tmp_path / "out.mp4", source.info, 64, 48)
    sink.write(np.zeros((48, 64, 3), np.uint8), 0)
    sink.abort()
    source.close()
    assert list(tmp_path.iterdir()) == []


def test_sink_refuses_other_suffixes(clip: Path, tmp_path: Path) -> None:
    source = VideoSource(clip)
    with pytest.raises(LumacodecError, match="cannot write video to"):
        VideoSink(tmp_path / "out.gif", source.info, 64, 48)
    source.close()
    assert list(tmp_path.iterdir()) == []
