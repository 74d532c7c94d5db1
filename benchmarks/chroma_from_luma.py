"""Would chroma predicted from L make the hint cheaper?  Measured before building it.

    python benchmarks/chroma_from_luma.py --out benchmarks/results/chroma-from-luma.md

On the first ``--limit`` photos of bsds500/test, exact L, classical (bicubic) hint decode, no
network: mean CIEDE2000 and bytes of

* the hint as streams code it (a|b planes at 1/f, AV1 quality q);
* a per-image *colour curve*: a/b as a piecewise-linear function of L through K knots
  (robust least squares, rounded to integers; 2 bytes per knot uncompressed) — the image-level
  chroma-from-luma predictor, sent alone;
* the curve as a predictor with the hint coding only the residual (chroma-from-luma before
  coding, as issue #12 asks).

The hint is already cheap (tens of bytes at 1/32), so the curve pays only if it makes the
residual cheaper by more than its own bytes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lumacodec.color import rgb_to_lab  # noqa: E402
from lumacodec.hints import decode_hint, encode_hint, upsample_hint  # noqa: E402
from training.metrics import mean_ciede2000  # noqa: E402

HINTS = ((32, 30), (32, 50), (16, 30), (16, 50))
KNOTS = (6, 10, 16)
PREDICTOR_KNOTS = 10


def colour_curve(L: np.ndarray, ab: np.ndarray, knots: int) -> np.ndarray:
    """a/b (2, H, W) from L through a piecewise-linear curve of ``knots`` integer knots fitted
    to the original by iteratively reweighted least squares (towards an L1 fit)."""
    t = L.ravel() / 100.0 * (knots - 1)
    i = np.clip(np.floor(t).astype(int), 0, knots - 2)
    f = t - i
    basis = np.zeros((t.size, knots))
    basis[np.arange(t.size), i] = 1.0 - f
    basis[np.arange(t.size), i + 1] = f
    values = []
    for channel in ab:
        y, w = channel.ravel(), np.ones(t.size)
        for _ in range(5):
            bw = basis * w[:, None]
            x = np.linalg.solve(bw.T @ basis + 1e-3 * np.eye(knots), bw.T @ y)
            w = 1.0 / np.maximum(np.abs(basis @ x - y), 1.0)
        values.append(np.round(x))
    return (basis @ np.array(values).T).T.reshape(ab.shape)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/chroma-from-luma.md"))
    args = parser.parse_args(argv)
    t0 = time.time()
    files = sorted(Path(args.data, "bsds500", "test").glob("*.jpg"))[: args.limit]
    rows: dict[str, list[tuple[float, float]]] = {}
    for path in files:
        with Image.open(path) as im:
            lab = rgb_to_lab(np.asarray(im.convert("RGB")))
        L = np.ascontiguousarray(lab[..., 0])
        ab = np.ascontiguousarray(lab[..., 1:].transpose(2, 0, 1))
        rows.setdefault("grey", []).append((mean_ciede2000(L, 0 * ab, ab), 0))
        for k in KNOTS:
            rows.setdefault(f"colour curve, {k} knots", []).append(
                (mean_ciede2000(L, colour_curve(L, ab, k), ab), 4 * k))
        curve = colour_curve(L, ab, PREDICTOR_KNOTS)
        for f, q in HINTS:
            for name, base in (("hint", 0 * ab), (f"curve ({PREDICTOR_KNOTS}) + hint of the "
                                                  "residual", curve)):
                data = encode_hint(ab - base, f, q)
                rec = upsample_hint(decode_hint(data, *L.shape, f), f, L.shape) + base
                extra = 4 * PREDICTOR_KNOTS if base is curve else 0
                rows.setdefault(f"{name}, 1/{f} q{q}", []).append(
                    (mean_ciede2000(L, rec, ab), len(data) + extra))
    lines = ["# Chroma from L before coding the hint", "",
             f"`python benchmarks/chroma_from_luma.py` ({len(files)} photos of bsds500/test, "
             f"{time.time() - t0:.0f} s): exact L, classical hint decode (no network). Bytes: "
             "the hint plane's AV1 payload, plus 2 bytes per curve knot and channel.", "",
             "| colour | bytes | CIEDE2000 |", "|---|---:|---:|"]
    for name, vals in rows.items():
        de, nbytes = np.mean(vals, axis=0)
        lines.append(f"| {name} | {nbytes:.0f} | {de:.2f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
