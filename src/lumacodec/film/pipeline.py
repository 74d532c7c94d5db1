"""The film pipeline: a grey video (or folder of frames) in, colourised and upscaled out.

::

    reader thread:  demux → decode → grey → L ───────────────┐  (audio packets ride along)
    this thread:    L_t ─→ colour chain (lumacodec.film.colour_chain) ─→ a/b (input size)
                    L_t ─→ SR ×scale (clean-input networks) ─→ still regions held ─→ L'
                    a/b ─→ bicubic ×scale ─→ Lab → RGB ──────────────────────────┐
    writer thread:  H.264 encode → mux (audio copied) → temp file → rename  ←────┘

Frames are streamed: the reader and writer each hold a few frames at most (bounded queues)
and the colour chain only the previous frame, so memory does not grow with the film.  The
reader and writer run beside the networks so that decoding, encoding and muxing (FFmpeg,
which releases the GIL) overlap with them.

*Still regions.*  Super-resolution is a deterministic function of its input, but an old film
is never still: grain and the source's own coding noise change every frame, and the network
sharpens that change into shimmer.  Where a region of the input has not changed by more than
:data:`STILL_TOLERANCE` since the output there was last computed, the output keeps that
earlier result (benchmarks/results/film.md measures the shimmer with and without).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from .. import weights
from ..baselayer import LOSSLESS_QUALITY
from ..color import L_to_grey_u8, planes_to_rgb_u8
from ..decoder import resolve_device, super_resolve
from ..enhance import upscale_clean
from ..errors import LumacodecError
from ..luma_colour import check_colour
from ..resample import upsample
from .colour_chain import CARRY, ColourChain, key_colours
from .video_io import FolderSink, Frame, Passthrough, VideoSink, is_video_path, open_source

#: A pixel of the input whose L has moved by at most this (of 100) since its output was last
#: computed keeps that output (the shimmer of still regions; 0 turns it off).
STILL_TOLERANCE = 1.5
#: Super-resolution networks: "clean" (:func:`lumacodec.enhance.upscale_clean`, the best) or
#: "fast" (the decoder's ×2 network told "lossless": about 2.5× faster, less sharp).
SR_MODES = ("clean", "fast")
#: Frames each of the reader's and the writer's queues holds.
QUEUE_DEPTH = 4


def upscale(L: np.ndarray, scale: int, nets: weights.NetworkSet, device: torch.device,
            sr: str = "clean") -> np.ndarray:
    """L (H, W) super-resolved ×``scale`` with the ``sr`` networks (:data:`SR_MODES`)."""
    if scale == 1:
        return L
    if sr == "clean":
        return upscale_clean(L, scale, nets, device)
    if scale == 4:
        return upscale(upscale(L, 2, nets, device, sr), 2, nets, device, sr)
    size = (L.shape[0] * scale, L.shape[1] * scale)
    out = super_resolve(L, scale, LOSSLESS_QUALITY, size, nets, device)
    return np.clip(out, 0.0, 100.0, out=out)


class StillRegions:
    """Holds the SR output of regions of the input that have not changed (see the module's
    docstring): remembers, per input pixel, the L its output was computed from."""

    def __init__(self, scale: int, tolerance: float = STILL_TOLERANCE) -> None:
        self.scale, self.tolerance = scale, tolerance
        self._L_ref: np.ndarray | None = None
        self._out: np.ndarray | None = None
        #: Share of the pixels held, per frame (for reports and tests).
        self.held: list[float] = []

    def reset(self) -> None:
        self._L_ref = self._out = None

    def __call__(self, L: np.ndarray, out: np.ndarray) -> np.ndarray:
        if self.tolerance <= 0:
            return out
        if self._L_ref is None or self._L_ref.shape != L.shape:
            self._L_ref, self._out = L.copy(), out.copy()
            self.held.append(0.0)
            return out
        # Still where the whole 5x5 neighbourhood is: SR reads context, so a pixel's output
        # changes when a neighbour's input does.
        moved = (np.abs(L - self._L_ref) > self.tolerance).astype(np.uint8)
        moved = cv2.dilate(moved, np.ones((5, 5), np.uint8))
        still = moved == 0
        self.held.append(float(still.mean()))
        self._L_ref[~still] = L[~still]
        s = self.scale
        big = np.repeat(np.repeat(still, s, 0), s, 1)[: out.shape[0], : out.shape[1]]
        self._out[~big] = out[~big]
        return self._out.copy()


class FrameEnhancer:
    """One frame's L (H, W) → its output pixels: RGB (H·s, W·s, 3) uint8, or grey (H·s, W·s)
    with ``color=False``.  Call it with the frames in order (the colour chain and the still
    regions remember the frame before)."""

    def __init__(self, scale: int, nets: weights.NetworkSet, device: torch.device, *,
                 chain: ColourChain | None, sr: str = "clean",
                 still_tolerance: float = STILL_TOLERANCE) -> None:
        if sr not in SR_MODES:
            raise LumacodecError(f"sr must be one of {', '.join(SR_MODES)}, got {sr!r}")
        self.scale, self.nets, self.device, self.sr = scale, nets, device, sr
        self.chain = chain
        self.still = StillRegions(scale, still_tolerance)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="lumacodec-film-sr")

    def __call__(self, index: int, L: np.ndarray) -> np.ndarray:
        if self.chain is None:
            return L_to_grey_u8(self.still(L, upscale(L, self.scale, self.nets, self.device,
                                                      self.sr)))
        # Super-resolution on a thread of its own while this one colours: both are mostly
        # torch and OpenCV work outside Python's lock, and neither keeps 2 cores busy alone.
        sr = self._pool.submit(upscale, L, self.scale, self.nets, self.device, self.sr)
        try:
            ab = self.chain(index, L)
        finally:
            L_up = sr.result()
        L_out = self.still(L, L_up)
        if self.chain.cuts and self.chain.cuts[-1] == index:
            self.still.reset()  # a new shot shares nothing with the last
        if self.scale > 1:
            ab = upsample(ab, self.scale, L_out.shape)
        return planes_to_rgb_u8(L_out, ab)

    def close(self) -> None:
        """End the super-resolution thread."""
        self._pool.shutdown()


@dataclass
class FilmSummary:
    """What a run did: frames written, time, frames/s, scene cuts, warnings."""

    output: Path
    frames: int = 0
    seconds: float = 0.0
    repeated: int = 0
    cuts: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        extra = f", {self.repeated} corrupt frames repeated" if self.repeated else ""
        return (f"{self.output}: {self.frames} frames in {self.seconds:.1f} s "
                f"({self.fps:.2f} frames/s), {len(self.cuts)} scene cuts{extra}")


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def _in_background(items: Iterator[Any], depth: int = QUEUE_DEPTH) -> Iterator[Any]:
    """``items`` produced on a thread of their own, at most ``depth`` ahead; an exception
    there is raised here, and stopping here (an error, Ctrl-C) stops the thread."""
    q: queue.Queue[Any] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Failed(exc))

    thread = threading.Thread(target=run, name="lumacodec-film-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


class _Writer:
    """The sink's writes on a thread of their own, at most ``depth`` behind."""

    def __init__(self, sink: VideoSink | FolderSink, depth: int = QUEUE_DEPTH) -> None:
        self.sink = sink
        self._q: queue.Queue[Any] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lumacodec-film-writer",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _DONE:
                return
            if self._error is not None:
                continue  # drain: the error is raised by put() or close()
            try:
                if isinstance(item, Passthrough):
                    self.sink.passthrough(item)
                else:
                    self.sink.write(*item)
            except BaseException as exc:
                self._error = exc

    def put(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._q.put(item)

    def close(self) -> None:
        """Wait for every write; raise the first error one of them had."""
        if self._thread.is_alive():
            self._q.put(_DONE)
            self._thread.join()
        if self._error is not None:
            raise self._error


def _load_keyframes(points: Any, width: int, height: int) -> dict[int, list[Any]] | None:
    """Keyframe points by frame index: a keyframes JSON file (or a plain points file: frame
    0) read by :func:`lumacodec.points.load_keyframes`, or a dict given as it is (checked)."""
    from ..points import check_points, load_keyframes

    if points is None:
        return None
    if isinstance(points, dict):
        return {int(k): check_points(v, width, height, f"keyframe {k}")
                for k, v in points.items()}
    return load_keyframes(points, width, height)


def _load_reference(reference: Any) -> np.ndarray | None:
    """A reference photo (a path, PIL image or RGB array) as sRGB (H, W, 3) uint8; a grey
    one is refused (:func:`lumacodec.guided.reference_photo`: it has no colour to give)."""
    if reference is None:
        return None
    from ..files import read_image
    from ..guided import reference_photo

    image = read_image(reference) if isinstance(reference, (str, Path)) else reference
    try:
        return reference_photo(image)
    except LumacodecError as exc:
        raise LumacodecError(f"{reference if isinstance(reference, (str, Path)) else 'reference'}"
                             f": {exc}") from None


def enhance_film(
    src: str | Path,
    dst: str | Path,
    scale: int = 2,
    *,
    color: bool = True,
    colour: str = "vivid",
    crf: int = 18,
    preset: str = "veryfast",
    fps: float | None = None,
    points: str | Path | dict[int, list[Any]] | None = None,
    reference: Any = None,
    sr: str = "clean",
    carry: str = CARRY,
    device: str | torch.device | None = None,
    networks: weights.NetworkSet | None = None,
    progress: bool | None = None,
    threads: int | None = None,
) -> FilmSummary:
    """Colourise and upscale the grey film ``src`` (a video file or a folder of frames) into
    ``dst`` (a video file: H.264 at ``crf``, audio copied; anything else: a folder of PNG
    frames).

    Parameters
    ----------
    scale
        1, 2 or 4.
    color, colour
        Colourise (``False``: upscale only, grey out); automatic colour ``"vivid"`` or
        ``"faithful"``.
    crf, preset
        libx264's constant rate factor (0 lossless … 51; 18 looks lossless) and speed preset.
    fps
        Frame rate of a folder of frames written as a video (default 24).
    points
        Keyframe points: a JSON file (:func:`lumacodec.points.load_keyframes`) or a dict of
        frame index → points; each keyframe restarts the colour chain with its points' colour.
    reference
        A colour photo (path, PIL image or RGB array) whose colours guide every shot.
    sr
        Super-resolution networks, :data:`SR_MODES`.
    carry
        How the colour carried from the frame before is applied
        (:data:`lumacodec.film.colour_chain.CARRY_MODES`).
    progress
        Progress bar with frames/s and time left on a terminal (None: when stderr is one).
    threads
        CPU threads of the networks and the flow (default: torch's).
    """
    from ..progress import progress_bar
    from ..threads import keep_threads

    check_colour(colour)
    if isinstance(scale, bool) or scale not in (1, 2, 4):
        raise LumacodecError(f"scale must be 1, 2 or 4, got {scale!r}")
    if not 0 <= int(crf) <= 51:
        raise LumacodecError(f"crf must be 0 to 51, got {crf}")
    if threads:
        keep_threads(threads)
        cv2.setNumThreads(threads)
    ref = _load_reference(reference)
    source = open_source(src, scale, fps)
    info = source.info
    summary = FilmSummary(Path(dst))
    try:
        keyframes = _load_keyframes(points, info.width, info.height)
        if keyframes and info.frames and max(keyframes) >= info.frames:
            summary.warnings.append(f"{points}: keyframe {max(keyframes)} is past the "
                                    f"film's {info.frames} frames")
        dev = resolve_device(device)
        nets = (networks if networks is not None else weights.bundled()).to(dev)
        if (keyframes or ref is not None) and color and nets.guided_colorizer is None:
            raise LumacodecError("keyframe points and reference photos need the guided "
                                 "colour network, which this network set does not have")
        chain = None
        if color:
            keys, auto = key_colours(keyframes, ref, colour, nets, dev)
            chain = ColourChain(nets, dev, colour, keys=keys, auto=auto, carry=carry,
                                reference=ref)
        enhancer = FrameEnhancer(scale, nets, dev, chain=chain, sr=sr)
    except BaseException:
        source.close()
        raise
    out_w, out_h = info.width * scale, info.height * scale
    try:
        if is_video_path(dst):
            sink: VideoSink | FolderSink = VideoSink(dst, info, out_w, out_h, crf, preset,
                                                     threads or 0)
        else:
            names = [f.name for f in source.files] if hasattr(source, "files") else None
            sink = FolderSink(dst, names)
            if info.audio is not None:
                summary.warnings.append(f"{src}: frames carry no sound: the audio is not "
                                        "written (give a video file as DST to keep it)")
    except BaseException:
        source.close()
        raise

    start = time.perf_counter()
    writer = _Writer(sink)
    last: np.ndarray | None = None
    try:
        with progress_bar(info.frames, f"enhance {src}", progress, unit="frames") as advance:
            for item in _in_background(source.items()):
                if isinstance(item, Passthrough):
                    writer.put(item)
                    continue
                frame: Frame = item
                if frame.repeat:
                    summary.repeated += 1
                    out = last
                else:
                    out = enhancer(frame.index, frame.L)  # type: ignore[arg-type]
                writer.put((out, frame.pts))
                last = out
                summary.frames += 1
                advance()
        writer.close()
        sink.commit()
    except BaseException:
        try:
            writer.close()
        except BaseException:  # the first error is the one to report
            pass
        sink.abort()
        raise
    finally:
        enhancer.close()
        source.close()
    summary.seconds = time.perf_counter() - start
    summary.cuts = list(chain.cuts) if chain is not None else []
    summary.warnings = info.warnings + summary.warnings
    return summary
