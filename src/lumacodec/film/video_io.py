"""Frames in and out: a video file or a folder of frames, read and written one frame at a time.

::

    video (PyAV) ─ demux ─┬─ video packets → decode → grey frame (+ pts) ──→ the pipeline
                          └─ audio packets ─────────── as they are ──────┐
    the pipeline's frames ─→ H.264 (libx264, CRF) ─→ mux, interleaved ←──┘ ─→ temp file
                                                                          ─→ rename over DST
    folder of frames ─→ one image at a time ─→ …  ─→ one PNG a frame, each written atomically

Nothing holds more than a few frames: the reader yields frames as the demuxer gives them, and
the writer encodes and muxes each as it comes.  Timing is kept by keeping every frame's
presentation timestamp (pts) in the input stream's time base, and the audio stream is copied
packet for packet (no re-encode), so it and the picture stay in sync.

Bad input is a :class:`~lumacodec.errors.LumacodecError` naming the file.  A *corrupt frame*
in the middle of a video (a packet the decoder rejects, or a frame it reports as corrupt) is
not fatal: the previous output frame is repeated in its place (same timestamp, so timing and
sync are kept) and a warning names it; the warnings are summed up at the end.  A frame that
cannot be decoded before any good one has been seen, or a file that ends before the frames
its header declares (truncated), stops the run with an error: there is nothing to repeat, or
the output would be silently short.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LumacodecError

PathLike = str | os.PathLike

#: File suffixes read as video (anything FFmpeg demuxes would do; these are the usual ones).
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg",
                            ".mpeg", ".ts", ".mts", ".wmv", ".flv", ".ogv", ".3gp"})
#: Suffixes a video can be written to (containers that hold H.264 and the usual audio).
OUTPUT_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv"})
#: Video encoders tried in order: H.264 where the bundled FFmpeg has it, else MPEG-4 part 2.
ENCODERS = ("libx264", "libopenh264", "mpeg4")
#: The largest input side, and the most output pixels a frame may have (the decoder's limit
#: for one image, :data:`lumacodec.container.MAX_IMAGE_PIXELS`).
MAX_SIDE = 16384
#: Frame rate given to a folder of frames written as a video, unless told otherwise.
DEFAULT_FPS = 24


def is_video_path(path: PathLike) -> bool:
    """Whether ``path`` names a video file by its suffix."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_film_source(path: PathLike) -> bool:
    """Whether ``lumacodec enhance`` should treat ``path`` as film: a video file or a folder
    (of frames)."""
    return is_video_path(path) or Path(path).is_dir()


@dataclass
class Frame:
    """One input frame: its index in display order, lightness L (H, W) in [0, 100] (float32),
    and its timestamp in the source's time base (None for a folder of frames).  ``repeat``:
    the frame could not be decoded; the previous output frame stands in for it."""

    index: int
    L: np.ndarray | None
    pts: int | None
    repeat: bool = False


@dataclass
class Passthrough:
    """A packet of a stream copied as it is (audio), in demux order."""

    packet: Any


@dataclass
class SourceInfo:
    """What the writer needs to know of the input: size, timing, audio, declared length."""

    path: Path
    width: int
    height: int
    frames: int  # declared or counted; 0 if unknown
    fps: Fraction
    time_base: Fraction | None
    audio: Any = None  # the input audio stream (PyAV), copied to the output
    warnings: list[str] = field(default_factory=list)
    #: Whether ``frames`` is the header's own count (else it is estimated from a duration).
    frames_exact: bool = True

    def short_of_declared(self, decoded: int) -> bool:
        """Whether ``decoded`` frames are fewer than the header promises: all of an exact
        count; nine tenths less two of an estimate (durations round, and some muxers give
        the video the audio's length)."""
        if not self.frames:
            return False
        return decoded < (self.frames if self.frames_exact else 0.9 * self.frames - 2)


def _grey_lut() -> np.ndarray:
    from ..color import grey_u8_to_L

    return grey_u8_to_L(np.arange(256, dtype=np.uint8)[None])[0]


_LUT: np.ndarray | None = None


def grey_to_L(grey: np.ndarray) -> np.ndarray:
    """L (H, W) float32 of an 8-bit grey frame, read as sRGB grey (a table of 256 entries:
    the same L as :func:`lumacodec.color.grey_u8_to_L`, at a fraction of its cost)."""
    global _LUT
    if _LUT is None:
        _LUT = _grey_lut()
    return _LUT[grey]


def check_size(path: PathLike, width: int, height: int, scale: int) -> None:
    """Refuse absurd frame sizes before anything is decoded: empty, a side over
    :data:`MAX_SIDE`, or an output frame over the decoder's pixel limit."""
    from ..container import MAX_IMAGE_PIXELS

    if width <= 0 or height <= 0:
        raise LumacodecError(f"{path}: the video has no picture size ({width}x{height})")
    limit = MAX_IMAGE_PIXELS  # None: the user lifted it, as Pillow's
    if max(width, height) > MAX_SIDE or (limit is not None
                                         and width * height * scale * scale > limit):
        pixels = f", {limit:,} output pixels" if limit is not None else ""
        raise LumacodecError(f"{path}: frames of {width}x{height} are too large to enhance "
                             f"at x{scale} (limits: a side of {MAX_SIDE}{pixels})")


# --------------------------------------------------------------------------- video in


class VideoSource:
    """A video file read lazily: ``info`` at once (header only), then :meth:`items` yields
    :class:`Frame` and :class:`Passthrough` items in order, one at a time."""

    def __init__(self, path: PathLike, scale: int = 1) -> None:
        import av

        self.path = Path(path)
        if not self.path.exists():
            raise LumacodecError(f"no such file: {path}")
        if self.path.is_dir():
            raise LumacodecError(f"is a directory, not a video: {path}")
        try:
            self._container = av.open(str(self.path), mode="r")
        except av.error.EOFError:
            raise LumacodecError(f"{path} is truncated or not a video: it ends before its "
                                 "header does") from None
        except av.error.FFmpegError as exc:
            raise LumacodecError(f"{path} is not a readable video ({_reason(exc)})") from None
        except OSError as exc:
            raise LumacodecError(f"cannot read {path}: {exc.strerror or exc}") from None
        if not self._container.streams.video:
            empty = not self._container.streams
            self._container.close()
            if empty:  # an MP4 cut short before its index, say
                raise LumacodecError(f"{path} is not a readable video (no streams found: "
                                     "truncated or damaged?)")
            raise LumacodecError(f"{path} has no video stream")
        video = self._container.streams.video[0]
        ctx = video.codec_context
        if ctx is None:  # a stream header FFmpeg has no decoder for, or cut short
            self._container.close()
            raise LumacodecError(f"{path}: its video stream cannot be decoded (truncated, "
                                 "damaged, or a codec this FFmpeg lacks)")
        video.thread_type = "AUTO"  # frame threads in FFmpeg: decoding keeps up on its own
        try:
            check_size(path, ctx.width, ctx.height, scale)
        except LumacodecError:
            self._container.close()
            raise
        fps = video.average_rate or video.guessed_rate or Fraction(DEFAULT_FPS)
        declared, exact = video.frames or 0, True
        if not declared and video.duration and video.time_base:  # an estimate only
            declared, exact = round(float(video.duration * video.time_base * fps)), False
        audio = self._container.streams.audio[0] if self._container.streams.audio else None
        self._video, self._audio = video, audio
        self.info = SourceInfo(self.path, ctx.width, ctx.height, declared, Fraction(fps),
                               video.time_base, audio, frames_exact=exact)

    def close(self) -> None:
        self._container.close()

    def items(self) -> Iterator[Frame | Passthrough]:
        """Frames (in display order) and audio packets (in demux order) as they come."""
        import av

        path, info = self.path, self.info
        index = 0
        good = 0
        pending: list[int] = []  # pts of frames that failed, not yet passed in display order
        streams = [self._video] + ([self._audio] if self._audio is not None else [])

        def flush_pending(before: int | None) -> Iterator[Frame]:
            nonlocal index
            while pending and (before is None or pending[0] < before):
                pts = pending.pop(0)
                info.warnings.append(f"{path}: frame {index}{_when(pts, info.time_base)} "
                                     "cannot be decoded: the previous frame is repeated")
                yield Frame(index, None, pts, repeat=True)
                index += 1

        try:
            for packet in self._container.demux(*streams):
                if packet.stream is not self._video:
                    if packet.dts is not None:  # the demuxer's flush packets carry nothing
                        yield Passthrough(packet)
                    continue
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError as exc:
                    if good == 0:
                        raise LumacodecError(f"{path}: the first frame cannot be decoded "
                                             f"({_reason(exc)})") from None
                    if packet.pts is not None:  # repeated when its turn comes
                        pending.append(packet.pts)
                        pending.sort()
                    else:
                        info.warnings.append(f"{path}: a frame after frame {index - 1} cannot "
                                             "be decoded and has no timestamp: dropped")
                    continue
                for frame in frames:
                    yield from flush_pending(frame.pts)
                    if frame.is_corrupt and good > 0:
                        where = _when(frame.pts, info.time_base)
                        info.warnings.append(f"{path}: frame {index}{where} is corrupt: the "
                                             "previous frame is repeated")
                        yield Frame(index, None, frame.pts, repeat=True)
                    else:
                        yield Frame(index, grey_to_L(frame.to_ndarray(format="gray")),
                                    frame.pts)
                        good += 1
                    index += 1
            yield from flush_pending(None)
        except av.error.FFmpegError as exc:
            raise LumacodecError(f"{path}: damaged or truncated after frame {index} "
                                 f"({_reason(exc)})") from None
        if good == 0:
            raise LumacodecError(f"{path}: no frame could be decoded")
        if info.short_of_declared(index):
            raise LumacodecError(f"{path} is truncated: {index} of the "
                                 f"{'' if info.frames_exact else 'about '}{info.frames} frames "
                                 "its header declares")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return re.sub(r"\s*:\s*'.*'$", "", str(text)).strip() or type(exc).__name__


def _when(pts: int | None, time_base: Fraction | None) -> str:
    if pts is None or time_base is None:
        return ""
    return f" at {float(pts * time_base):.3f} s"


# ------------------------------------------------------------------- folder of frames in


def _natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r"(\d+)", path.name)]


class FolderSource:
    """The images of a folder (not its sub-folders), in natural name order (``f2`` before
    ``f10``), read one at a time; colour images are taken by their CIELAB lightness."""

    def __init__(self, path: PathLike, scale: int = 1, fps: float | None = None) -> None:
        from ..files import image_suffixes, read_image

        self.path = Path(path)
        suffixes = image_suffixes()
        self.files = sorted((p for p in self.path.iterdir()
                             if p.is_file() and p.suffix.lower() in suffixes
                             and not p.name.startswith(".")), key=_natural_key)
        if not self.files:
            raise LumacodecError(f"{path}: no image files in this folder")
        first = read_image(self.files[0])
        check_size(self.files[0], first.width, first.height, scale)
        self.info = SourceInfo(self.path, first.width, first.height, len(self.files),
                               Fraction(fps or DEFAULT_FPS).limit_denominator(1001), None)

    def close(self) -> None:
        pass

    def items(self) -> Iterator[Frame]:
        from ..color import grey_u8_to_L, rgb_to_luma
        from ..files import read_image
        from ..images import to_pixels

        for index, file in enumerate(self.files):
            pixels, mode = to_pixels(read_image(file))
            if pixels.shape[:2] != (self.info.height, self.info.width):
                raise LumacodecError(f"{file}: {pixels.shape[1]}x{pixels.shape[0]}, but the "
                                     f"first frame is {self.info.width}x{self.info.height}")
            L = rgb_to_luma(pixels) if mode.is_colour else grey_u8_to_L(pixels)
            yield Frame(index, L, None)


def open_source(path: PathLike, scale: int = 1, fps: float | None = None
                ) -> VideoSource | FolderSource:
    """A :class:`VideoSource` for a video file, a :class:`FolderSource` for a folder."""
    if Path(path).is_dir():
        return FolderSource(path, scale, fps)
    return VideoSource(path, scale)


# ----------------------------------------------------------------------------- out


def _temporary(target: Path) -> Path:
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise LumacodecError(f"output folder does not exist: {directory}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                               dir=directory)
    os.close(fd)
    return Path(tmp)


class VideoSink:
    """H.264 (CRF ``crf``) in the container DST's suffix names, written to a temporary file
    beside DST and renamed over it by :meth:`commit` only once complete: a stopped run leaves
    no partial file (:meth:`abort` removes it)."""

    def __init__(self, path: PathLike, info: SourceInfo, width: int, height: int,
                 crf: int = 18, preset: str = "veryfast", threads: int = 0) -> None:
        import av

        self.path = Path(path)
        if self.path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise LumacodecError(f"cannot write video to {path}: use "
                                 f"{', '.join(sorted(OUTPUT_SUFFIXES))}, or a folder for PNG "
                                 "frames")
        self._tmp = _temporary(self.path)
        fmt = {".mkv": "matroska", ".mov": "mov"}.get(self.path.suffix.lower(), "mp4")
        self._out = av.open(str(self._tmp), mode="w", format=fmt)
        try:
            encoder = next(e for e in ENCODERS if e in av.codecs_available)
            self._stream = self._out.add_stream(encoder, rate=info.fps)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self.time_base = info.time_base or Fraction(1, 1) / info.fps
            self._stream.time_base = self.time_base
            self._stream.codec_context.time_base = self.time_base
            # sRGB content, BT.709 matrix (what players assume for HD), limited range
            for key, value in (("colorspace", 1), ("color_primaries", 1), ("color_trc", 1),
                               ("color_range", 1)):
                setattr(self._stream.codec_context, key, value)
            if encoder == "libx264":
                self._stream.options = {"crf": str(crf), "preset": preset}
            else:
                self._stream.bit_rate = width * height * int(info.fps * 2)
            if threads:
                self._stream.codec_context.thread_count = threads
            self._audio_in = info.audio
            self._audio_out = (self._out.add_stream_from_template(info.audio)
                               if info.audio is not None else None)
        except BaseException:
            self.abort()
            raise
        self.encoder = encoder
        self.frames = 0

    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        """Encode one frame, an RGB (H, W, 3) or grey (H, W) uint8 array, at ``pts`` (None:
        the next frame's time at the frame rate)."""
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb),
                                           format="rgb24" if rgb.ndim == 3 else "gray")
        frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709",
                               dst_color_range="MPEG")
        frame.pts = pts if pts is not None else self.frames
        frame.time_base = self.time_base
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        self.frames += 1

    def passthrough(self, item: Passthrough) -> None:
        """Copy an audio packet as it is (PyAV rescales its timestamps to the output's)."""
        if self._audio_out is None or item.packet.stream is not self._audio_in:
            return
        item.packet.stream = self._audio_out
        self._out.mux(item.packet)

    def commit(self) -> None:
        """Flush the encoder, close the file and rename it over DST."""
        try:
            for packet in self._stream.encode(None):
                self._out.mux(packet)
            self._out.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the partial output."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self._out.close()
            except Exception:  # already closed, or closing a broken file: it goes anyway
                pass
        self._tmp.unlink(missing_ok=True)


class FolderSink:
    """One PNG a frame in the folder DST (made if missing), each written atomically: a stopped
    run leaves only whole frames.  Frames of a folder keep their names (``.png``); frames of a
    video are ``frame_000000.png``, ``frame_000001.png``, ..."""

    def __init__(self, path: PathLike, names: list[str] | None = None) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise LumacodecError(f"output {path} exists and is not a folder")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LumacodecError(f"cannot make folder {path}: {exc.strerror or exc}") from None
        self._names = names
        self.frames = 0

    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        import io

        from PIL import Image

        from ..files import atomic_write

        name = (Path(self._names[self.frames]).stem if self._names is not None
                else f"frame_{self.frames:06d}")
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
        atomic_write(self.path / f"{name}.png", buf.getvalue())
        self.frames += 1

    def passthrough(self, item: Passthrough) -> None:
        """Frames alone carry no sound: audio is dropped (said once by the caller)."""

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass
