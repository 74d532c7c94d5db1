"""Encode and decode time and peak memory of big photos, against a 768×512 crop of the same.

    python benchmarks/big_image.py --image ../shared/datasets/sun_hays80/<photo>.jpg \
        --sizes 6000x4000 --out benchmarks/results/big-image.md
    python benchmarks/big_image.py --image ... --sizes 12288x8192 \
        --out benchmarks/results/big-image.md --append

The photo is upscaled with Lanczos to each size and given mild Gaussian noise (σ = 2 levels,
fixed seed), so that the big image has fine texture as a real photo's sensor noise, not the
smoothness of an upscale.  Every encode and every decode (default quality, networks on, CPU)
runs in a fresh subprocess (``--child``) that reports its wall time and its peak RSS
(``getrusage``: ``ru_maxrss``), so one measurement's memory never hides another's; the child
first encodes and decodes a 64×64 image (weights loaded, kernels initialised), whose RSS is
reported apart as the process's floor.  The 768×512 reference is the centre crop of the
first size's image, timed as the median of ``--repeat`` runs; the ratio column is each
size's time per pixel over the reference's.  Target (issue #13): 24 MP with peak RSS
≤ 1.5 GB, per-pixel time within 1.2× of 768×512; 100 MP without running out of memory.

``--tiles`` adds how the decoder's tile sizes were chosen: the SR network and the colorizer
(a subprocess each) run on a 2048² crop of the first size's decoded planes with each tile
size, interleaved with the crop's 768×512 corner in one piece; time per pixel against the
corner's (median over rounds of each round's ratio), and the growth of peak RSS.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REFERENCE = (768, 512)
TILE_PLANE = 2048  # side of the plane the tile sizes are measured on
TILE_SIZES = {"sr": (384, 512, 768), "colorizer": (512, 768, 1024)}
NOISE_SIGMA = 2.0
#: Rows per chunk when making the image and computing PSNR (bounded memory at 100 MP).
CHUNK_ROWS = 512


def parse_size(text: str) -> tuple[int, int]:
    """``"6000x4000"`` → (width, height)."""
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def make_image(photo: Path, size: tuple[int, int], path: Path) -> None:
    """Write the photo upscaled to ``size`` (Lanczos) plus noise as a uint8 .npy (H, W, 3)."""
    width, height = size
    big = Image.open(photo).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    out = np.lib.format.open_memmap(path, "w+", np.uint8, (height, width, 3))
    rng = np.random.default_rng(0)
    for y0 in range(0, height, CHUNK_ROWS):
        y1 = min(height, y0 + CHUNK_ROWS)
        rows = np.asarray(big.crop((0, y0, width, y1)), np.float32)
        rows += rng.normal(0.0, NOISE_SIGMA, rows.shape).astype(np.float32)
        out[y0:y1] = np.clip(np.round(rows), 0, 255)
    out.flush()


def centre_crop(src: Path, dst: Path, size: tuple[int, int]) -> None:
    pixels = np.load(src, mmap_mode="r")
    (w, h), (H, W) = size, pixels.shape[:2]
    top, left = (H - h) // 2, (W - w) // 2
    np.save(dst, np.ascontiguousarray(pixels[top : top + h, left : left + w]))


def psnr(a_path: Path, b_path: Path) -> float:
    """PSNR-RGB of two uint8 .npy images, read a chunk of rows at a time."""
    a, b = np.load(a_path, mmap_mode="r"), np.load(b_path, mmap_mode="r")
    sse = 0.0
    for y0 in range(0, a.shape[0], CHUNK_ROWS):
        d = a[y0 : y0 + CHUNK_ROWS].astype(np.float64) - b[y0 : y0 + CHUNK_ROWS]
        sse += float(np.sum(d * d))
    return float(10 * np.log10(255.0**2 / (sse / a.size)))


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is in KiB


def child(args: argparse.Namespace) -> None:
    """One measurement in this fresh process; prints a JSON line."""
    import torch

    import lumacodec

    torch.set_num_threads(args.threads)
    warm = np.full((64, 64, 3), 128, np.uint8)
    lumacodec.decode(lumacodec.encode(warm), device="cpu")
    floor = peak_rss_gb()
    max_pixels = args.max_pixels or sys.maxsize  # decode's None is the default limit
    if args.child == "encode":
        pixels = np.load(args.input)
        run = lambda: lumacodec.encode(pixels)  # noqa: E731
    else:
        data = args.input.read_bytes()
        run = lambda: lumacodec.decode(data, device="cpu", max_pixels=max_pixels)  # noqa: E731
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    peak = peak_rss_gb()
    if args.child == "encode":
        args.output.write_bytes(result)
    else:
        np.save(args.output, np.asarray(result))
    print(json.dumps({"seconds": statistics.median(times), "peak_gb": peak, "floor_gb": floor}))


def tile_child(args: argparse.Namespace) -> None:
    """One network (``--net``) on a 2048² crop of a default-quality stream's planes with each
    of its tile sizes, in rounds that interleave them with the crop's 768×512 corner in one
    piece (so that the load of a shared machine cancels out of the ratios), and the growth of
    peak RSS over the corner's (tile sizes ascending: each adds its own); prints JSON."""
    import torch

    from lumacodec import decoder, weights
    from lumacodec.baselayer import decode_base
    from lumacodec.container import parse
    from lumacodec.hints import decode_hint, upsample_hint

    torch.set_num_threads(args.threads)
    stream = parse(args.input.read_bytes(), None)
    h = stream.header
    assert h.scale == 1 and stream.hint is not None, "needs a scale-1 stream with a hint"
    n, f = TILE_PLANE, h.hint_factor
    L = np.clip(decode_base(stream.base, h.height, h.width, 1)[:n, :n], 0, 100).copy()
    small = decode_hint(stream.hint, h.height, h.width, f)[:, : n // f + 4, : n // f + 4]
    hint = upsample_hint(small, f, (n, n))
    device, nets = torch.device("cpu"), weights.bundled()
    w, hh = REFERENCE
    corner = (L[:hh, :w].copy(), hint[:, :hh, :w].copy())

    def seconds(planes: tuple[np.ndarray, np.ndarray], tile: int) -> float:
        """Seconds per pixel of one run of the network on ``planes`` (L, bicubic hint)."""
        start = time.perf_counter()
        if args.net == "sr":
            decoder.SR_TILE = tile
            decoder.super_resolve(planes[0], 1, h.base_quality, planes[0].shape, nets, device)
        else:
            decoder.TILE = tile
            decoder.colorize(*planes, f, nets, device)
        return (time.perf_counter() - start) / planes[0].size

    tiles = TILE_SIZES[args.net]
    seconds(corner, tiles[0])  # warm-up
    floor = peak_rss_gb()
    whole, tiled, growth = [], {t: [] for t in tiles}, {}
    for _ in range(args.rounds):
        whole.append(seconds(corner, tiles[0]))
        for tile in tiles:
            tiled[tile].append(seconds((L, hint), tile))
            growth.setdefault(tile, peak_rss_gb() - floor)
    print(json.dumps([
        {"tile": t, "tiled": statistics.median(tiled[t]), "whole": statistics.median(whole),
         "ratio": statistics.median(a / b for a, b in zip(tiled[t], whole, strict=True)),
         "growth_gb": growth[t]} for t in tiles
    ]))


def tile_rows(stream: Path, args: argparse.Namespace) -> list[str]:
    rows = []
    for net in TILE_SIZES:
        cmd = [sys.executable, __file__, "--child", "tile", "--net", net, "--input", str(stream),
               "--threads", str(args.threads), "--rounds", str(args.rounds)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        for got in json.loads(done.stdout.strip().splitlines()[-1]):
            rows.append(f"| {net} | {got['tile']} | {got['tiled'] * 1e9:.0f} "
                        f"| {got['whole'] * 1e9:.0f} | {got['ratio']:.2f}× "
                        f"| {got['growth_gb']:.2f} |")
            print(rows[-1], flush=True)
    return rows


def measure(step: str, src: Path, dst: Path, args: argparse.Namespace, repeat: int = 1) -> dict:
    cmd = [sys.executable, __file__, "--child", step, "--input", str(src), "--output", str(dst),
           "--threads", str(args.threads), "--repeat", str(repeat),
           "--max-pixels", str(args.max_pixels)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", type=Path)
    parser.add_argument("--sizes", default="6000x4000", help="comma-separated WxH")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=9, help="runs of the 768×512 reference")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the --tiles timings")
    parser.add_argument("--max-pixels", type=int, default=0,
                        help="decode's max_pixels (0: no limit; the default one, "
                        "lumacodec.container.MAX_IMAGE_PIXELS, refuses 100 MP)")
    parser.add_argument("--workdir", type=Path, help="keep the images and streams here")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--append", action="store_true", help="add a section to --out")
    parser.add_argument("--title", default="")
    parser.add_argument("--tiles", action="store_true", help="measure the tile sizes too")
    parser.add_argument("--child", choices=["encode", "decode", "tile"], help=argparse.SUPPRESS)
    parser.add_argument("--net", choices=list(TILE_SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tile_child(args) if args.child == "tile" else child(args)
        return
    if args.image is None:
        parser.error("--image is required")
    sizes = [REFERENCE] + [parse_size(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows, reference = [], None
        for i, (w, h) in enumerate(sizes):
            name = work / f"{w}x{h}"
            original = name.with_suffix(".npy")
            if i == 0:
                first = work / "{}x{}.npy".format(*sizes[1])
                if not first.exists():
                    make_image(args.image, sizes[1], first)
                centre_crop(first, original, REFERENCE)
            elif not original.exists():
                make_image(args.image, (w, h), original)
            repeat = args.repeat if i == 0 else 1
            stream, decoded = name.with_suffix(".lmc"), work / f"{w}x{h}-decoded.npy"
            enc = measure("encode", original, stream, args, repeat)
            dec = measure("decode", stream, decoded, args, repeat)
            pixels = w * h
            per_px = (enc["seconds"] / pixels, dec["seconds"] / pixels)
            reference = reference or per_px
            rows.append(
                f"| {w}×{h} | {pixels / 1e6:.1f} | {stream.stat().st_size * 8 / pixels:.3f} "
                f"| {psnr(original, decoded):.2f} | {enc['seconds']:.2f} "
                f"| {per_px[0] * 1e9:.0f} ({per_px[0] / reference[0]:.2f}×) "
                f"| {enc['peak_gb']:.2f} | {dec['seconds']:.2f} "
                f"| {per_px[1] * 1e9:.0f} ({per_px[1] / reference[1]:.2f}×) "
                f"| {dec['peak_gb']:.2f} | {max(enc['floor_gb'], dec['floor_gb']):.2f} |"
            )
            print(rows[-1], flush=True)
        tiles = tile_rows(work / "{}x{}.lmc".format(*sizes[1]), args) if args.tiles else []
    import torch

    command = " ".join(["python", "benchmarks/big_image.py", *sys.argv[1:]])
    lines = [
        f"## {args.title or 'Big images'}: default quality, CPU, {args.threads} threads",
        "",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}. "
        f"Image: `{args.image.name}` upscaled (Lanczos) + noise σ = {NOISE_SIGMA}; 768×512 is "
        f"its centre crop (median of {args.repeat}). Command: `{command}`",
        "",
        "| size | MP | bpp | PSNR-RGB | encode s | encode ns/px (vs 768×512) | encode peak GB "
        "| decode s | decode ns/px (vs 768×512) | decode peak GB | process floor GB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]
    if tiles:
        lines += [
            f"Tile sizes (`--tiles`): each network on a {TILE_PLANE}² crop of the "
            f"{sizes[1][0]}×{sizes[1][1]} stream's planes, tiled, against its 768×512 corner "
            f"in one piece, interleaved ({args.rounds} rounds, medians); SR tiles in input "
            "pixels, plus their receptive radius of margin; colorizer tiles plus 72 px "
            "(hint 1/8).",
            "",
            "| network | tile | ns/px tiled | ns/px 768×512 in one piece | ratio "
            "| RSS growth over 768×512, GB |",
            "|---|---:|---:|---:|---:|---:|",
            *tiles,
            "",
        ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        if args.append and args.out.exists():
            text = args.out.read_text() + "\n" + text
        args.out.write_text(text)


if __name__ == "__main__":
    main()
