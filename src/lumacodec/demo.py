"""``lumacodec demo``: encode and decode the sample photos that scikit-image ships.

A first run with nothing to download: it writes each photo's ``.lmc`` stream and decoded PNG
to an output folder and prints rate (bits per pixel), PSNR-RGB with and without the networks,
and decode time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .bench.metrics import psnr_rgb as psnr
from .decoder import decode
from .encoder import encode
from .files import atomic_write, save_image
from .presets import QUALITIES

SAMPLES = ("astronaut", "coffee", "chelsea")


def sample_photos() -> dict[str, np.ndarray]:
    """The colour sample photos bundled with scikit-image, as uint8 RGB arrays."""
    from skimage import data

    return {name: getattr(data, name)() for name in SAMPLES}


def run_demo(output: Path, qualities: tuple[int, ...] | None = None, enhance: bool = True) -> str:
    """Encode/decode every sample photo at ``qualities``; returns the printed table."""
    output.mkdir(parents=True, exist_ok=True)
    qualities = qualities or tuple(range(1, len(QUALITIES) + 1))
    lines = [
        "| photo | quality | bpp | PSNR-RGB classical | PSNR-RGB enhanced | decode s |",
        "|---|---|---|---|---|---|",
    ]
    for name, rgb in sample_photos().items():
        for q in qualities:
            data = encode(rgb, q)
            bpp = len(data) * 8 / (rgb.shape[0] * rgb.shape[1])
            classical = psnr(np.asarray(decode(data, enhance=False)), rgb)
            enhanced, seconds = float("nan"), float("nan")
            if enhance:
                start = time.perf_counter()
                picture = decode(data)
                seconds = time.perf_counter() - start
                enhanced = psnr(np.asarray(picture), rgb)
                if q == qualities[len(qualities) // 2]:
                    atomic_write(output / f"{name}-q{q}.lmc", data)
                    save_image(picture, output / f"{name}-q{q}.png")
            lines.append(
                f"| {name} | {q} | {bpp:.4f} | {classical:.2f} | {enhanced:.2f} | {seconds:.3f} |"
            )
    return "\n".join(lines)
