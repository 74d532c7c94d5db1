"""lumacodec.film.pipeline: a grey film in, a colour film out, streamed and written atomically.

Tiny random networks (conftest's) keep these fast: what is tested is the plumbing (frames,
timing, sound, still regions, atomic output), not the colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from film_clips import corrupt_packet, cut_frames, moving_frames, streams_of, write_clip
from PIL import Image

from lumacodec import weights
from lumacodec.errors import LumacodecError
from lumacodec.film import enhance_film, pipeline
from lumacodec.film.pipeline import StillRegions


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "in.mp4", moving_frames(16))


def test_video_to_video_x2_keeps_timing_and_sound(clip: Path, tmp_path: Path,
                                                  tiny_networks: weights.NetworkSet) -> None:
    out = tmp_path / "out.mp4"
    summary = enhance_film(clip, out, 2, networks=tiny_networks, progress=False)
    assert summary.frames == 16 and summary.repeated == 0 and summary.fps > 0
    a, b = streams_of(clip), streams_of(out)
    assert (b["width"], b["height"]) == (128, 96)
    assert b["pts"] == pytest.approx(a["pts"], abs=1e-6)
    assert b["duration"] == pytest.approx(a["duration"], abs=0.05e6)
    assert b["audio"] == a["audio"] and len(a["audio"]) > 5
    assert list(tmp_path.iterdir()) == [out]


def test_folder_to_folder_keeps_names(tmp_path: Path, tiny_networks: weights.NetworkSet
                                      ) -> None:
    src = tmp_path / "frames"
    src.mkdir()
    for i, rgb in enumerate(moving_frames(5)):
        Image.fromarray(rgb[..., 0]).save(src / f"scan_{i:03d}.png")
    summary = enhance_film(src, tmp_path / "out", 1, networks=tiny_networks, progress=False)
    assert summary.frames == 5
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"scan_{i:03d}.png" for i in range(5)]
    frame = Image.open(tmp_path / "out" / "scan_004.png")
    assert frame.mode == "RGB" and frame.size == (64, 48)


def test_video_to_folder_warns_that_sound_is_dropped(clip: Path, tmp_path: Path,
                                                     tiny_networks: weights.NetworkSet) -> None:
    summary = enhance_film(clip, tmp_path / "frames", 1, color=False, networks=tiny_networks,
                           progress=False)
    assert sorted(p.name for p in (tmp_path / "frames").iterdir())[0] == "frame_000000.png"
    assert len(list((tmp_path / "frames").iterdir())) == 16
    assert any("audio is not written" in w for w in summary.warnings)
    assert Image.open(tmp_path / "frames" / "frame_000003.png").mode == "L"


def test_a_run_stopped_midway_leaves_no_output(clip: Path, tmp_path: Path,
                                               tiny_networks: weights.NetworkSet,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = pipeline.FrameEnhancer.__call__

    def failing(self: pipeline.FrameEnhancer, index: int, L: np.ndarray) -> np.ndarray:
        calls.append(index)
        if index == 7:
            raise KeyboardInterrupt
        return real(self, index, L)

    monkeypatch.setattr(pipeline.FrameEnhancer, "__call__", failing)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"an earlier result")  # kept as it was
    with pytest.raises(KeyboardInterrupt):
        enhance_film(clip, out, 1, networks=tiny_networks, progress=False)
    assert calls[-1] == 7
    assert sorted(tmp_path.iterdir()) == [out] and out.read_bytes() == b"an earlier result"


def test_corrupt_frame_is_repeated_and_counted(tmp_path: Path,
                                               tiny_networks: weights.NetworkSet) -> None:
    good = write_clip(tmp_path / "good.mp4", moving_frames(12), codec="mpeg4")
    bad = corrupt_packet(good, tmp_path / "bad.mp4", 5)
    summary = enhance_film(bad, tmp_path / "out.mp4", 1, networks=tiny_networks,
                           progress=False)
    assert summary.frames == 12 and summary.repeated >= 1
    assert len(summary.warnings) == summary.repeated
    assert f"{summary.repeated} corrupt frames repeated" in str(summary)
    assert len(streams_of(tmp_path / "out.mp4")["pts"]) == 12


def test_scene_cut_is_reported(tmp_path: Path, tiny_networks: weights.NetworkSet) -> None:
    src = write_clip(tmp_path / "cut.mp4", cut_frames(10, 6), audio=False)
    summary = enhance_film(src, tmp_path / "out.mp4", 1, networks=tiny_networks,
                           progress=False)
    assert summary.cuts == [6]


@pytest.mark.parametrize(("options", "message"), [
    ({"scale": 3}, "scale must be 1, 2 or 4"),
    ({"crf": 60}, "crf must be 0 to 51"),
    ({"colour": "loud"}, "colour"),
    ({"sr": "magic"}, "sr must be one of"),
])
def test_bad_options_are_refused_without_output(options: dict, message: str, clip: Path,
                                                tmp_path: Path,
                                                tiny_networks: weights.NetworkSet) -> None:
    with pytest.raises(LumacodecError, match=message):
        enhance_film(clip, tmp_path / "out.mp4", **{"scale": 1, **options},
                     networks=tiny_networks, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_still_regions_hold_their_output() -> None:
    still = StillRegions(scale=2, tolerance=1.5)
    L0 = np.full((16, 16), 50.0, np.float32)
    first = still(L0, np.full((32, 32), 50.0, np.float32))
    L1 = L0 + np.float32(0.5)  # grain: under the tolerance
    L1[:4, :4] = 90.0  # something moved in a corner
    out = still(L1, np.full((32, 32), 51.0, np.float32))
    np.testing.assert_array_equal(out[16:, 16:], first[16:, 16:])  # held
    assert (out[:8, :8] == 51.0).all()  # recomputed where the input moved
    assert 0.5 < still.held[-1] < 1.0
    assert (StillRegions(2, tolerance=0)(L1, out) is out)
