"""Old film, measured: colour propagated along the motion, flicker, and speed.

    python benchmarks/film.py colour --clips 03_blocks,04_coffee,05_default_juggle \\
        --out benchmarks/results/film.md --strip benchmarks/results/film-strip.jpg
    python benchmarks/film.py speed --clip 03_blocks --frames 40 --threads 2
    python benchmarks/film.py memory --clip 03_blocks --frames 10000 --size 214x120 \\
        --sr fast --threads 1
    python benchmarks/film.py shimmer --clip 04_coffee --frames 40 --threads 2

Colour clips of ``video_clips`` (``sam2_gallery/*.mp4``, 1280×720, reduced to 854×480 with
area averaging; ``vos_demo`` folders, 854×480) are turned into "old film" whose true colour is
known: each frame's CIELAB L, exactly.  Over the first ``--frames`` frames, each mode colours
the L (scale 1: colour is measured at the input's resolution; super-resolution does not touch
a/b) through :class:`lumacodec.film.colour_chain.ColourChain`:

* **(a) automatic**: colour from L alone, each frame on its own (``faithful``, the colour
  closest on average: the baseline).
* **(b) hint**: frame 0's true colour given as a 1/32 hint on frame 0 only (the hinted
  colorizer), then propagated.
* **(c) points**: 5 simulated points on frame 0 (the simulated user of guided_eval.py, after
  Zhang et al. 2017: clicks inside regions, each the mean true colour of a small square,
  seed 0), through :func:`lumacodec.guided.guided_colour`, then propagated.

Measures: mean CIEDE2000 (the frame's a/b with the exact L, against the truth; every second
pixel in each direction) as a fraction of grey's (a = b = 0, the same L); frame 100's error
against frame 1's (drift); the temporal warping error E_warp of Lai et al. 2018 (mean over
consecutive frames of the squared RGB difference in [0, 1] between frame t and frame t+1
warped back onto it, over the pixels that are not occluded), for each output and for the
original colour video, with the flow of the *original* frames computed by Farnebäck's method
(not DIS, the propagation's own flow, which would flatter it).
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
from guided_eval import sample_points  # benchmarks/, the script's own folder
from PIL import Image, ImageDraw
from skimage.color import deltaE_ciede2000

from lumacodec import weights
from lumacodec.color import planes_to_rgb_u8, rgb_to_lab
from lumacodec.decoder import colour_from_L
from lumacodec.film.colour_chain import (
    CARRY,
    HINT_FACTOR,
    SMALL_HOLES,
    ColourChain,
    hinted,
    key_colours,
)
from lumacodec.film.propagate import MotionEstimator, to_u8, warp
from lumacodec.guided import guided_colour
from lumacodec.hints import upsample_hint
from lumacodec.points import Point
from lumacodec.resample import downsample

DATA = Path(os.environ.get("LUMACODEC_DATA", "../shared/datasets")) / "video_clips"
SIZE = (854, 480)  # the working size (W, H)


def clip_path(name: str) -> Path:
    """A clip by name: ``03_blocks`` (sam2_gallery) or a vos_demo folder's name."""
    mp4 = DATA / "sam2_gallery" / f"{name}.mp4"
    return mp4 if mp4.exists() else DATA / "vos_demo" / name


def frames_rgb(name: str, limit: int) -> Iterator[np.ndarray]:
    """The clip's first ``limit`` frames, RGB uint8 at :data:`SIZE` (area-reduced)."""
    path = clip_path(name)
    if path.is_dir():
        files = sorted(glob.glob(str(path / "*.jpg")))[:limit]
        for f in files:
            yield np.asarray(Image.open(f).convert("RGB").resize(SIZE, Image.Resampling.BOX))
        return
    import av

    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(c.streams.video[0])):
            if i >= limit:
                break
            rgb = frame.to_ndarray(format="rgb24")
            yield cv2.resize(rgb, SIZE, interpolation=cv2.INTER_AREA)


def _consistent(fwd: np.ndarray, bwd: np.ndarray) -> np.ndarray:
    """Non-occluded mask of ``fwd`` (t → t+1) by forward–backward consistency."""
    back_there = np.moveaxis(warp(np.moveaxis(bwd, -1, 0), fwd), 0, -1)
    gap = np.sum((fwd + back_there) ** 2, -1)
    return gap <= 0.01 * (np.sum(fwd**2, -1) + np.sum(back_there**2, -1)) + 0.5


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 21, 3, 5, 1.1, 0)


def ewarp(rgb_t: np.ndarray, rgb_next: np.ndarray, flow: np.ndarray, mask: np.ndarray) -> float:
    """Lai et al. 2018's warping error of one pair: frame t+1 warped onto t along the
    original's flow (t → t+1), squared RGB difference in [0, 1] over the mask."""
    a = rgb_t.astype(np.float32) / 255.0
    b = warp(np.moveaxis(rgb_next.astype(np.float32) / 255.0, -1, 0), flow)
    d = np.sum((np.moveaxis(a, -1, 0) - b) ** 2, axis=0)
    return float(d[mask].mean()) if mask.any() else 0.0


def simulated_points(rgb: np.ndarray, n: int = 5) -> list[Point]:
    """``n`` clicks of the simulated user of ``benchmarks/guided_eval.py`` (Zhang et al.
    2017: inside regions, each the mean true colour of a small square), seed 0."""
    return sample_points(rgb_to_lab(rgb), n, np.random.default_rng(0))


def make_chain(mode: str, rgb: np.ndarray, true_ab: np.ndarray, nets: weights.NetworkSet,
               device: torch.device) -> ColourChain | None:
    """The chain of one mode, ``KEY[:CARRY[:FACTOR[:HOLES]]]`` (None for ``auto``: per frame).

    KEY: ``hint`` (frame 0's true a/b as a 1/32 hint, the hinted colorizer), ``hintg`` (the
    same hint given to the guided network as its known colour), ``points`` (5 simulated
    points, the guided network); CARRY: a :data:`CARRY_MODES` name (default :data:`CARRY`);
    FACTOR: the hinted colorizer's density on the carried colour; HOLES: the share of a frame
    under which holes are filled from around them (:data:`SMALL_HOLES`; 0: by a network)."""
    key_name, _, rest = mode.partition(":")
    carry, _, rest = rest.partition(":")
    factor, _, holes = rest.partition(":")
    carry = carry or CARRY
    hint_factor = int(factor) if factor else HINT_FACTOR
    small_holes = float(holes) if holes else SMALL_HOLES
    if key_name == "auto":
        return None
    if key_name == "hint":
        def key(L: np.ndarray) -> np.ndarray:
            return hinted(L, true_ab, 32, nets, device)
        keys = {0: key}
    elif key_name == "hintg":
        def key(L: np.ndarray) -> np.ndarray:
            hint = upsample_hint(downsample(true_ab, 32), 32, L.shape)
            return guided_colour(L, colour="faithful", known_ab=hint,
                                 known_mask=np.ones(L.shape, np.float32), networks=nets,
                                 device=device)
        keys = {0: key}
    elif key_name == "points":
        keys, _ = key_colours({0: simulated_points(rgb)}, None, "faithful", nets, device)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    motion = MotionEstimator(strict=os.environ.get("FILM_STRICT", "") == "1")
    return ColourChain(nets, device, "faithful", keys=keys, hint_factor=hint_factor,
                       motion=motion, carry=carry, small_holes=small_holes)


def colour_run(name: str, frames: int, modes: list[str], nets: weights.NetworkSet,
               device: torch.device, strip_at: tuple[int, ...] = ()) -> dict:
    """Every mode over one clip, frame by frame (only the previous frame of each is held)."""
    chains: dict[str, ColourChain] = {}
    results = {m: {"de": [], "ewarp": []} for m in [*modes, "grey", "original"]}
    prev: dict[str, np.ndarray] = {}
    prev_u8 = None
    strip: list[dict[str, np.ndarray]] = []
    elapsed = {m: 0.0 for m in modes}
    for t, rgb in enumerate(frames_rgb(name, frames)):
        lab = rgb_to_lab(rgb)
        L = np.ascontiguousarray(lab[..., 0])
        true_ab = np.moveaxis(lab[..., 1:], -1, 0)
        if t == 0:
            for m in modes:
                chains[m] = make_chain(m, rgb, true_ab, nets, device)
        outs = {"grey": planes_to_rgb_u8(L, None), "original": rgb}
        for m in modes:
            start = time.perf_counter()
            ab = (colour_from_L(L, nets, device, "faithful") if chains[m] is None
                  else chains[m](t, L))
            elapsed[m] += time.perf_counter() - start
            pred = np.concatenate([L[None], ab])
            s = (slice(None), slice(None, None, 2), slice(None, None, 2))
            de = deltaE_ciede2000(np.moveaxis(pred[s], 0, -1), lab[::2, ::2])
            results[m]["de"].append(float(de.mean()))
            outs[m] = planes_to_rgb_u8(L, ab)
        grey_de = deltaE_ciede2000(np.stack([L, 0 * L, 0 * L], -1)[::2, ::2], lab[::2, ::2])
        results["grey"]["de"].append(float(grey_de.mean()))
        u8 = to_u8(L)
        if prev_u8 is not None:
            fwd, bwd = farneback(prev_u8, u8), farneback(u8, prev_u8)
            mask = _consistent(fwd, bwd)
            for m, out in outs.items():
                results[m]["ewarp"].append(ewarp(prev[m], out, fwd, mask))
        prev, prev_u8 = outs, u8
        if t in strip_at:
            strip.append(outs)
        print(f"{name} {t}: " + " ".join(f"{m} {results[m]['de'][-1]:.2f}" for m in modes),
              file=sys.stderr, flush=True)
    for m in modes:
        results[m]["seconds_per_frame"] = elapsed[m] / max(1, len(results[m]["de"]))
        if chains[m] is not None:
            results[m]["cuts"] = list(chains[m].cuts)
            results[m]["valid_share"] = float(np.mean(chains[m].valid_shares))
    results["strip"] = strip
    return results


def summarise(name: str, res: dict, modes: list[str]) -> list[str]:
    grey = np.asarray(res["grey"]["de"])
    orig = float(np.mean(res["original"]["ewarp"]))
    rows = []
    for m in modes:
        de = np.asarray(res[m]["de"])
        drift = de[100] / de[1] if len(de) > 100 else de[-1] / de[1]
        ew = float(np.mean(res[m]["ewarp"]))
        rows.append(f"| {name} | {m} | {de.mean():.2f} | {de.mean() / grey.mean():.3f} | "
                    f"{drift:.2f} | {ew * 1e3:.2f} | {ew / orig:.2f} | "
                    f"{len(res[m].get('cuts', []))} | {res[m]['seconds_per_frame']:.2f} |")
    rows.append(f"| {name} | grey | {grey.mean():.2f} | 1.000 | – | "
                f"{np.mean(res['grey']['ewarp']) * 1e3:.2f} | – | – | – |")
    rows.append(f"| {name} | original | 0 | 0 | – | {orig * 1e3:.2f} | 1.00 | – | – |")
    return rows


def save_strip(path: Path, strips: dict[str, list[dict[str, np.ndarray]]], modes: list[str],
               frames: tuple[int, ...]) -> None:
    """One row per (clip, frame): grey, each mode, original; each cell 240 px high."""
    cols = ["grey", *modes, "original"]
    rows = []
    for name, strip in strips.items():
        for outs, t in zip(strip, frames, strict=False):
            cells = []
            for c in cols:
                im = Image.fromarray(outs[c]).resize((427, 240), Image.Resampling.BOX)
                ImageDraw.Draw(im).text((4, 2), f"{name} t={t} {c}", fill=(255, 255, 0))
                cells.append(np.asarray(im))
            rows.append(np.concatenate(cells, 1))
    Image.fromarray(np.concatenate(rows, 0)).save(path, quality=85)


def cmd_colour(args: argparse.Namespace) -> None:
    nets = weights.bundled()
    device = torch.device("cpu")
    modes = args.modes.split(",")
    lines = ["| clip | mode | CIEDE2000 | of grey | frame 100 / frame 1 | E_warp ×1e3 | "
             "of original's | cuts | s/frame |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    strips = {}
    strip_at = (0, args.frames // 2, args.frames - 1)
    for name in args.clips.split(","):
        res = colour_run(name, args.frames, modes, nets, device, strip_at)
        lines += summarise(name, res, modes)
        strips[name] = res["strip"]
        print("\n".join(lines), flush=True)
    if args.strip:
        save_strip(args.strip, strips, modes, strip_at)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


def write_grey_clip(name: str, path: Path, frames: int, size: tuple[int, int] = SIZE,
                    loop: int = 0) -> Path:
    """The clip's first ``frames`` frames as a grey H.264 video at ``size`` (the "old film"
    the pipeline is timed on); with ``loop``, played forwards and backwards in turn until
    ``loop`` frames (no scene cut where it turns)."""
    import av

    grey = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
            for f in frames_rgb(name, frames)]
    order = list(range(len(grey)))
    total = loop or len(grey)
    cycle = order + order[-2:0:-1] if len(order) > 1 else order
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for i in range(total):
            frame = av.VideoFrame.from_ndarray(grey[cycle[i % len(cycle)]], format="gray")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


class RssSampler:
    """This process's resident memory, sampled every ``every`` seconds on a thread."""

    def __init__(self, every: float = 1.0) -> None:
        import threading

        self.samples: list[tuple[float, float]] = []  # (seconds, GB)
        self._stop = threading.Event()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    @staticmethod
    def rss_gb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append((time.perf_counter() - self._start, self.rss_gb()))

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def cmd_speed(args: argparse.Namespace) -> None:
    """Frames/s of ``lumacodec.film.enhance_film`` on a grey 854×480 clip, ×scale, H.264
    out, on ``--threads`` threads (the networks loaded beforehand, not timed)."""
    import tempfile

    from lumacodec.film import enhance_film

    nets = weights.bundled()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        src = write_grey_clip(args.clip, Path(tmp) / "old.mp4", args.frames)
        for sr in args.sr.split(","):
            summary = enhance_film(src, Path(tmp) / "out.mp4", args.scale, sr=sr,
                                   networks=nets, progress=False, threads=args.threads)
            lines.append(f"| {args.clip} | {SIZE[0]}×{SIZE[1]} → ×{args.scale} | {sr} | "
                         f"{args.threads} | {summary.frames} | {summary.fps:.2f} |")
            print(lines[-1], flush=True)
    print("\n".join(["| clip | size | SR | threads | frames | frames/s |",
                     "|---|---|---|---:|---:|---:|", *lines]))


def cmd_memory(args: argparse.Namespace) -> None:
    """Resident memory over a long run: the clip looped (forwards, backwards) to
    ``--frames`` frames at ``--size``, through the whole pipeline (×scale, H.264 out)."""
    import tempfile

    from lumacodec.film import enhance_film

    w, h = (int(v) for v in args.size.split("x"))
    nets = weights.bundled()
    with tempfile.TemporaryDirectory() as tmp:
        src = write_grey_clip(args.clip, Path(tmp) / "long.mp4", 100, (w, h), args.frames)
        sampler = RssSampler(args.every)
        summary = enhance_film(src, Path(tmp) / "out.mp4", args.scale, sr=args.sr,
                               networks=nets, progress=False, threads=args.threads)
        samples = sampler.stop()
    print(summary)
    marks = [samples[min(len(samples) - 1, int(len(samples) * q))] for q in
             (0.02, 0.1, 0.25, 0.5, 0.75, 1.0)]
    print("| at (s) | RSS (GB) |\n|---:|---:|")
    for t, gb in marks:
        print(f"| {t:.0f} | {gb:.3f} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{summary.frames} frames {w}×{h} → ×{args.scale} ({args.sr} SR) in "
          f"{summary.seconds:.0f} s; RSS after 10% of the run {marks[1][1]:.3f} GB, at the "
          f"end {marks[-1][1]:.3f} GB, peak {peak:.3f} GB")


def cmd_shimmer(args: argparse.Namespace) -> None:
    """Temporal stability of super-resolution: E_warp of the ×scale lightness (L / 100, the
    original's Farnebäck flow scaled up) over ``--frames`` frames, everywhere the flow is
    consistent and on the pixels that did not move, for bicubic upscaling, the SR networks
    frame by frame, and the pipeline's SR with still regions held."""
    from lumacodec.film.pipeline import STILL_TOLERANCE, FrameEnhancer

    torch.set_num_threads(args.threads)
    nets = weights.bundled()
    device = torch.device("cpu")
    s = args.scale
    ways = {"bicubic": None,
            f"{args.sr} SR, frame by frame": FrameEnhancer(s, nets, device, chain=None,
                                                          sr=args.sr, still_tolerance=0.0),
            f"{args.sr} SR, still regions held": FrameEnhancer(
                s, nets, device, chain=None, sr=args.sr, still_tolerance=STILL_TOLERANCE)}
    errors: dict[str, list[float]] = {w: [] for w in ways}
    still_errors: dict[str, list[float]] = {w: [] for w in ways}
    prev: dict[str, np.ndarray] = {}
    prev_u8 = None
    for t, rgb in enumerate(frames_rgb(args.clip, args.frames)):
        L = np.ascontiguousarray(rgb_to_lab(rgb)[..., 0])
        u8 = to_u8(L)
        h, w = L.shape
        outs = {}
        for name, enhancer in ways.items():
            if enhancer is None:
                big = cv2.resize(L, (w * s, h * s), interpolation=cv2.INTER_CUBIC)
                big = np.round(np.clip(big * 2.55, 0, 255)) / 2.55  # 8 bits, as the others
            else:
                big = enhancer(t, L).astype(np.float32) / 2.55  # grey uint8 → L
            outs[name] = big / 100.0
        if prev_u8 is not None:
            fwd, bwd = farneback(prev_u8, u8), farneback(u8, prev_u8)
            mask = cv2.resize(_consistent(fwd, bwd).astype(np.uint8), (w * s, h * s),
                              interpolation=cv2.INTER_NEAREST).astype(bool)
            flow = cv2.resize(fwd, (w * s, h * s), interpolation=cv2.INTER_LINEAR) * s
            still = mask & (np.sum(flow**2, -1) < (0.25 * s) ** 2)  # what did not move
            for name, big in outs.items():
                d = (prev[name] - warp(big, flow)) ** 2
                errors[name].append(float(d[mask].mean()))
                still_errors[name].append(float(d[still].mean()) if still.any() else 0.0)
        prev, prev_u8 = outs, u8
    for enhancer in ways.values():
        if enhancer is not None:
            enhancer.close()
    base, still_base = np.mean(errors["bicubic"]), np.mean(still_errors["bicubic"])
    print(f"| {args.clip}, {args.frames} frames, ×{s} | E_warp of L ×1e3 | of bicubic's | "
          "on still pixels ×1e3 | of bicubic's |")
    print("|---|---:|---:|---:|---:|")
    for name, e in errors.items():
        e_still = np.mean(still_errors[name])
        print(f"| {name} | {np.mean(e) * 1e3:.3f} | {np.mean(e) / base:.2f} | "
              f"{e_still * 1e3:.3f} | {e_still / still_base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("colour")
    p.add_argument("--clips", default="03_blocks,04_coffee,05_default_juggle")
    p.add_argument("--frames", type=int, default=101)
    p.add_argument("--modes", default="auto,hint,points")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--strip", type=Path, default=None)
    p.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("speed")
    p.add_argument("--clip", default="03_blocks")
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--sr", default="clean,fast")
    p.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("shimmer")
    p.add_argument("--clip", default="03_blocks")
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--sr", default="clean")
    p.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("memory")
    p.add_argument("--clip", default="03_blocks")
    p.add_argument("--frames", type=int, default=10_000)
    p.add_argument("--size", default="854x480")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--sr", default="clean")
    p.add_argument("--every", type=float, default=2.0)
    p.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    {"colour": cmd_colour, "speed": cmd_speed, "memory": cmd_memory,
     "shimmer": cmd_shimmer}[args.cmd](args)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB",
          file=sys.stderr)


if __name__ == "__main__":
    main()
