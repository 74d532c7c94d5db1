"""Where the colour-from-L error lives: oracles, fit and the image's global colour.

    python benchmarks/colour_headroom.py --out benchmarks/results/colour-headroom.md

On the exact L (at the working resolution) of the photos ``training.luma_color`` holds out
(every 50th of ``colour_photos/train``) and of as many of its training photos (every 49th):

* **oracles** (know the original; bounds, not decoders): mean CIEDE2000 relative to grey of
  one a/b for the whole image (the original's median), of a/b as a function of L (the
  original's median in each of 10 L bins), and of the network's colour shifted by the
  median of its error;
* **fit**: the network against grey on the training photos and on the held-out ones (equal
  figures: the network is not over-fitted, it under-fits);
* **global colour**: the spread (standard deviation over photos) of each photo's median a*
  and b*, predicted and true, and their correlation: how much of what makes one photo's
  colour differ from another's the network recovers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lumacodec import weights  # noqa: E402
from lumacodec.color import u8_to_L  # noqa: E402
from lumacodec.luma_colour import colour_from_luma  # noqa: E402
from lumacodec.networks import LumaColorizer, load_network  # noqa: E402
from training import luma_color, luma_data  # noqa: E402
from training.metrics import mean_ciede2000  # noqa: E402

L_BINS = 10


def median_ab(ab: np.ndarray) -> np.ndarray:
    return np.median(ab.reshape(2, -1), axis=1)[:, None, None]


def ab_by_lightness(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """The original's median a/b in each of :data:`L_BINS` bins of L, painted back."""
    bins = np.clip((L * L_BINS / 100.0).astype(int), 0, L_BINS - 1)
    out = np.zeros_like(ab)
    for b in np.unique(bins):
        m = bins == b
        out[:, m] = np.median(ab[:, m], axis=1)[:, None]
    return out


def measure(photos: list[luma_data.Photo], net: LumaColorizer) -> dict[str, np.ndarray]:
    rows: dict[str, list] = {k: [] for k in ("grey", "network", "network + oracle shift",
                                             "oracle: one a/b per image",
                                             "oracle: a/b by lightness", "pred", "true")}
    cpu = torch.device("cpu")
    for p in photos:
        L, true = u8_to_L(p.L["L"]), p.ab.astype(np.float32)
        ab = colour_from_luma(L, net, cpu)
        rows["grey"].append(mean_ciede2000(L, np.zeros_like(true), true))
        rows["network"].append(mean_ciede2000(L, ab, true))
        rows["network + oracle shift"].append(mean_ciede2000(L, ab + median_ab(true - ab), true))
        rows["oracle: one a/b per image"].append(
            mean_ciede2000(L, np.broadcast_to(median_ab(true), true.shape).copy(), true))
        rows["oracle: a/b by lightness"].append(mean_ciede2000(L, ab_by_lightness(L, true), true))
        rows["pred"].append(median_ab(ab)[:, 0, 0])
        rows["true"].append(median_ab(true)[:, 0, 0])
    return {k: np.array(v) for k, v in rows.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    luma_color.add_data_arguments(parser)
    parser.add_argument("--weights",
                        default=str(weights.BUNDLED_DIR / "luma_colorizer.safetensors"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/colour-headroom.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    train_images, held = luma_color.split(args)
    net = load_network(args.weights)
    assert isinstance(net, LumaColorizer)
    sets = {"held out": held, "training": train_images[3::49][: len(held)]}
    results = {}
    for name, images in sets.items():
        files = luma_data.build_cache(images, args.cache, args.max_side, args.variants,
                                      args.workers)
        results[name] = measure(luma_data.load_photos(files), net)
    lines = [
        "# Colour from L: where the error lives",
        "",
        f"`python benchmarks/colour_headroom.py` ({time.time() - t0:.0f} s; weights sha256 "
        f"{weights.file_sha256(Path(args.weights))[:12]}). Exact L at the working resolution; "
        "held out = every 50th photo of colour_photos/train, training = every 49th of the "
        "photos the network trained on. Mean CIEDE2000 relative to grey's (below 1: better).",
        "",
        "| colour | " + " | ".join(f"{n} ({len(r['grey'])})" for n, r in results.items()) + " |",
        "|---|" + "---|" * len(results),
    ]
    for row in ("network", "network + oracle shift", "oracle: one a/b per image",
                "oracle: a/b by lightness"):
        lines.append(f"| {row} | " + " | ".join(
            f"{r[row].mean() / r['grey'].mean():.3f}" for r in results.values()) + " |")
    lines += ["", "Each photo's median a*/b*: spread over photos (standard deviation) and "
              "correlation, predicted against true.", "",
              "| photos | channel | predicted spread | true spread | correlation |",
              "|---|---|---|---|---|"]
    for name, r in results.items():
        for i, ch in enumerate("ab"):
            pred, true = r["pred"][:, i], r["true"][:, i]
            lines.append(f"| {name} | {ch}* | {pred.std():.2f} | {true.std():.2f} | "
                         f"{np.corrcoef(pred, true)[0, 1]:.2f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
