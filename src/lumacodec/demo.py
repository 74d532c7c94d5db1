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
from .progress import progress_bar

SAMPLES = ("astronaut", "coffee", "chelsea")


def sample_photos() -> dict[str, np.ndarray]:
    """The colour sample photos bundled with scikit-image, as uint8 RGB arrays."""
    from skimage import data

    return {name: getattr(data, name)() for name in SAMPLES}


def run_demo(output: Path, qualities: tuple[int, ...] | None = None, enhance: bool = True,
             progress: bool | None = None) -> str:
    """Encode/decode every sample photo at ``qualities``; returns the printed table.

    ``progress``: a bar on stderr while it runs, as :func:`lumacodec.progress.progress_bar`
    (None: when stderr is a terminal; False: never)."""
    output.mkdir(parents=True, exist_ok=True)
    qualities = qualities or tuple(range(1, len(QUALITIES) + 1))
    lines = [
        "| photo | quality | bpp | PSNR-RGB classical | PSNR-RGB enhanced | decode s |",
        "|---|---|---|---|---|---|",
    ]
    photos = sample_photos()
    kept = qualities[len(qualities) // 2]  # the quality whose stream and PNG are written
    with progress_bar(len(photos) * len(qualities), "demo", progress, unit="codings") as advance:
        for name, rgb in photos.items():
            for q in qualities:
                lines.append(_table_row(output / f"{name}-q{q}" if q == kept else None,
                                        name, rgb, q, enhance))
                advance()
    return "\n".join(lines)


def _table_row(keep: Path | None, name: str, rgb: np.ndarray, q: int, enhance: bool) -> str:
    """Encode ``rgb`` at quality ``q`` and decode it both ways: its row of the table.  With
    ``keep``, its stream and enhanced decode are written to ``keep`` + ``.lmc`` / ``.png``."""
    data = encode(rgb, q)
    bpp = len(data) * 8 / (rgb.shape[0] * rgb.shape[1])
    classical = psnr(np.asarray(decode(data, enhance=False)), rgb)
    enhanced, seconds = float("nan"), float("nan")
    if enhance:
        start = time.perf_counter()
        picture = decode(data)
        seconds = time.perf_counter() - start
        enhanced = psnr(np.asarray(picture), rgb)
        if keep is not None:
            atomic_write(keep.with_suffix(".lmc"), data)
            save_image(picture, keep.with_suffix(".png"))
    return f"| {name} | {q} | {bpp:.4f} | {classical:.2f} | {enhanced:.2f} | {seconds:.3f} |"
