"""Tiny clips the film tests make for themselves (PyAV writes them): a textured picture that
moves a pixel a frame, with a sine tone as its audio track; a scene cut; broken files (audio
only, cut short, a frame's bytes overwritten)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def moving_frames(count: int, height: int = 48, width: int = 64, step: int = 1,
                  colour: bool = False) -> list[np.ndarray]:
    """``count`` RGB frames (H, W, 3) uint8 of a smooth textured pattern shifting right by
    ``step`` pixels a frame (grey unless ``colour``)."""
    y, x = np.mgrid[0:height, 0 : width + count * step].astype(np.float32)
    grey = 128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0) + 30 * np.sin((x + y) / 3.0)
    rgb = np.stack([grey, grey * 0.8 + 20, grey * 0.6 + 40] if colour else [grey] * 3, -1)
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    return [np.ascontiguousarray(rgb[:, t * step : t * step + width]) for t in range(count)]


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 24, audio: bool = True,
               codec: str = "libx264", sample_rate: int = 16000) -> Path:
    """Write ``frames`` as a video (and, with ``audio``, a tone as long as the video, AAC)."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            video.options = {"crf": "10", "preset": "ultrafast"}
        tone = None
        if audio:
            tone = out.add_stream("aac", rate=sample_rate)
            tone.layout = "mono"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if tone is not None:
            samples = len(frames) * sample_rate // fps
            t = np.arange(samples, dtype=np.float32) / sample_rate
            wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = wave[start : start + 1024][None]
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                af.sample_rate = sample_rate
                af.pts = start
                for packet in tone.encode(af):
                    out.mux(packet)
            for packet in tone.encode(None):
                out.mux(packet)
    return path


def streams_of(path: Path) -> dict:
    """The video's frame count, pts and duration, and its audio packets' bytes and times."""
    import av

    with av.open(str(path)) as c:
        video = c.streams.video[0]
        info = {"duration": c.duration, "video_duration": float(video.duration * video.time_base)
                if video.duration else None, "width": video.codec_context.width,
                "height": video.codec_context.height}
        pts, audio = [], []
        for packet in c.demux():
            if packet.stream.type == "video":
                pts += [float(f.pts * f.time_base) for f in packet.decode()]
            elif packet.stream.type == "audio" and packet.size:
                audio.append((bytes(packet), float(packet.pts * packet.time_base)))
        info["pts"] = sorted(pts)
        info["audio"] = audio
        if c.streams.audio:
            a = c.streams.audio[0]
            info["audio_duration"] = float(a.duration * a.time_base) if a.duration else None
    return info


def cut_frames(count: int, cut: int, height: int = 48, width: int = 64) -> list[np.ndarray]:
    """``count`` grey RGB frames: :func:`moving_frames` up to ``cut``, then another picture
    (coarse stripes, another brightness) moving the other way: a scene cut at ``cut``."""
    first = moving_frames(cut, height, width)
    y, x = np.mgrid[0:height, 0 : width + count].astype(np.float32)
    grey = np.clip(30 + 40 * (np.sin(y / 2.5) > 0) + 15 * np.cos(x / 9.0), 0, 255)
    rgb = np.repeat(grey.astype(np.uint8)[..., None], 3, -1)
    second = [np.ascontiguousarray(rgb[:, count - t : count - t + width])
              for t in range(count - cut)]
    return first + second


def write_audio_only(path: Path, seconds: float = 0.5, sample_rate: int = 16000) -> Path:
    """An MP4 with an AAC tone and no video stream."""
    import av

    with av.open(str(path), mode="w") as out:
        tone = out.add_stream("aac", rate=sample_rate)
        tone.layout = "mono"
        samples = int(seconds * sample_rate)
        wave = (0.3 * np.sin(np.arange(samples) / 5.0)).astype(np.float32)
        for start in range(0, samples, 1024):
            af = av.AudioFrame.from_ndarray(wave[start : start + 1024][None], format="fltp",
                                            layout="mono")
            af.sample_rate, af.pts = sample_rate, start
            for packet in tone.encode(af):
                out.mux(packet)
        for packet in tone.encode(None):
            out.mux(packet)
    return path


def truncate(path: Path, out: Path, fraction: float) -> Path:
    """The first ``fraction`` of ``path``'s bytes, as ``out`` (a download cut short)."""
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def corrupt_packet(path: Path, out: Path, index: int, seed: int = 0) -> Path:
    """``path`` with the bytes of its ``index``-th video packet (decode order) overwritten by
    noise (its first 4 bytes, the NAL length, kept), as ``out``: one damaged frame."""
    import av

    with av.open(str(path)) as c:
        packets = [(p.pos, p.size) for p in c.demux(c.streams.video[0]) if p.size]
    pos, size = packets[index]
    data = bytearray(path.read_bytes())
    noise = np.random.default_rng(seed).integers(0, 256, size - 4, dtype=np.uint8)
    data[pos + 4 : pos + size] = noise.tobytes()
    out.write_bytes(bytes(data))
    return out
