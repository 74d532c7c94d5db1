"""Choose the colour-from-L decoding constants on held-out training photos.

    python benchmarks/tune_luma_colour.py --out benchmarks/results/luma-colour-tuning.md

On the photos ``training.luma_color`` holds out (every 50th of ``colour_photos/train``, never
trained on, and not the validation sets the results are reported on), each on its exact L and
its decoded L, at the working resolution: mean CIEDE2000 relative to grey, colourfulness
(Hasler–Süsstrunk) relative to the original's and the mean a*/b* bias, for

* ``faithful`` candidates: the regression head, and the distribution's mean sharpened by 1/T;
* ``vivid`` candidates: the distribution reweighted by prior^-alpha and annealed (alpha, T),
  and the regression head's chroma multiplied by k;
* the guided upsampling's radius and regularisation (against plain bilinear upsampling);
* ``faithful`` averaged with the network's colour for the mirrored image (test-time
  augmentation: twice the network's cost).

The constants live in :data:`lumacodec.networks.luma_colorizer.COLOUR_MODES` and
:mod:`lumacodec.luma_colour` (``GUIDE_RADIUS``, ``GUIDE_EPS``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lumacodec import weights  # noqa: E402
from lumacodec.color import lab_to_rgb_u8, u8_to_L  # noqa: E402
from lumacodec.luma_colour import GUIDE_EPS, GUIDE_RADIUS, run_network  # noqa: E402
from lumacodec.networks import LumaColorizer, load_network  # noqa: E402
from lumacodec.resample import guided_upsample, resize_tensor  # noqa: E402
from training import luma_color, luma_data  # noqa: E402
from training.metrics import mean_ciede2000  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from colour_eval import colourfulness  # noqa: E402

#: Candidate decodings (as lumacodec.networks.luma_colorizer.COLOUR_MODES spells them).
MODES = [("regression", k) for k in (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)] + [
    ("distribution", 0.0, t) for t in (1.0, 0.8, 0.6)] + [
    ("distribution", a, t) for a in (0.3, 0.5, 0.7) for t in (0.5, 0.38, 0.3)]
GUIDES = [(1, 1e-3), (2, 1e-4), (2, 1e-3), (2, 1e-2), (4, 1e-3), (0, 0.0)]  # 0: bilinear


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    luma_color.add_data_arguments(parser)
    parser.add_argument("--weights",
                        default=str(weights.BUNDLED_DIR / "luma_colorizer.safetensors"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/luma-colour-tuning.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    _, held = luma_color.split(args)
    files = luma_data.build_cache(held, args.cache, args.max_side, args.variants, args.workers)
    photos = luma_data.load_photos(files)
    net = load_network(args.weights)
    assert isinstance(net, LumaColorizer)
    res: dict[tuple, list[tuple[float, float, float, float]]] = defaultdict(list)
    with torch.inference_mode():
        for p in photos:
            true = p.ab.astype(np.float32)
            lab_true = np.stack([u8_to_L(p.L["L"]), *true], -1)
            c0 = max(colourfulness(lab_to_rgb_u8(lab_true)), 1e-6)
            for name, L8 in p.L.items():
                kind = "exact L" if name == "L" else "decoded L"
                L = u8_to_L(L8)
                Lt = torch.from_numpy(L / 100.0)[None, None]
                logits = run_network(net, Lt).float()
                guide_low = resize_tensor(Lt, logits.shape[-2:])
                grey = mean_ciede2000(L, np.zeros_like(true), true)

                def score(ab_low: torch.Tensor, r: int, eps: float, _L: np.ndarray = L,
                          _Lt: torch.Tensor = Lt, _g: torch.Tensor = guide_low,
                          _true: np.ndarray = true, _grey: float = grey,
                          _c0: float = c0) -> tuple[float, float, float, float]:
                    if r:
                        ab = guided_upsample(ab_low, _g, _Lt, r, eps)[0].numpy()
                    else:
                        ab = F.interpolate(ab_low, size=_L.shape, mode="bilinear")[0].numpy()
                    de = mean_ciede2000(_L, ab, _true)
                    rgb = lab_to_rgb_u8(np.stack([_L, *ab], -1))
                    bias = (ab - _true).mean(axis=(1, 2))
                    return de / _grey, colourfulness(rgb) / _c0, float(bias[0]), float(bias[1])

                for mode in MODES:
                    ab_low = net.decode(logits, mode)
                    res[("mode", kind, *mode)].append(score(ab_low, GUIDE_RADIUS, GUIDE_EPS))
                ab_low = net.decode_ab(logits, "faithful")
                flipped = run_network(net, Lt.flip(-1)).float().flip(-1)
                res[("flip", kind)].append(score(
                    (ab_low + net.decode_ab(flipped, "faithful")) / 2, GUIDE_RADIUS, GUIDE_EPS))
                for r, eps in GUIDES:
                    res[("guide", kind, r, eps)].append(score(ab_low, r, eps))
    lines = [
        "# Colour-from-L decoding constants",
        "",
        f"`python benchmarks/tune_luma_colour.py` ({len(photos)} held-out photos of "
        f"colour_photos/train, {time.time() - t0:.0f} s; weights sha256 "
        f"{weights.file_sha256(Path(args.weights))[:12]}). Means over photos of CIEDE2000 / "
        "grey's (below 1: better than grey), colourfulness / the original's, a*/b* bias.",
        "",
        "| what | L | setting | CIEDE2000 / grey | colourfulness | a* bias | b* bias |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, vals in res.items():
        v = np.array(vals).mean(axis=0)
        if key[0] == "mode":
            setting = (f"regression, chroma x {key[3]}" if key[2] == "regression"
                       else f"distribution, prior^-{key[3]}, T = {key[4]}")
        elif key[0] == "flip":
            setting = "faithful, averaged with the mirrored image's"
        else:
            setting = f"guided r = {key[2]}, eps = {key[3]:g}" if key[2] else "bilinear"
        lines.append(f"| {key[0]} | {key[1]} | {setting} | {v[0]:.4f} | {v[1]:.2f} "
                     f"| {v[2]:+.2f} | {v[3]:+.2f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
