"""Tiny clips the film tests make for themselves (PyAV writes them): a textured picture that
moves a pixel a frame, with a sine tone as its audio track."""

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
