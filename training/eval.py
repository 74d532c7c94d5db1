"""Evaluate the trained networks against the classical reconstruction, on validation images.

    python -m training.eval --data ../shared/datasets --out benchmarks/results/networks.md

* SR ×2 / ×4: PSNR of L (peak L = 100) of the network and of bicubic upsampling of the *same*
  decoded base-layer plane, per base quality (and lossless), on whole images; ×1: of the
  restoration network and of the decoded full-resolution plane itself.
* SR of clean L (``lumacodec.enhance``'s networks): PSNR-L of the network and of bicubic
  upsampling of L bicubic-downsampled by 2 and 4 (the SR literature's degradation), 8-bit.
* Colorizer: mean CIEDE2000 (true L, predicted a/b) of the networks (the hint restorer,
  then the colorizer, as the decoder runs them; and the hint restorer alone) and of the
  classical reconstruction (bicubic hint; grey a = b = 0 without a hint; without a hint the
  set's colour-from-L network runs, ``faithful``, as in the decoder), per hint factor at
  hint quality 50 (the presets' at qualities 1–4) and for the 1/8 hint at quality 70 of
  qualities 5–7 (the decoder keeps hints denser than
  the colorizer was trained on as they are, so such rows show no change).  Greyscale images
  are left out of the colour table.
* The SR gain at the presets that downsample (:data:`lumacodec.QUALITIES`), per preset and
  averaged.

Images: the first ``--bsds`` (default 30) of bsds500/test in file-name order, set5 and set14,
cropped to a multiple of 4 (the cache's ground truth).  The networks run through the
decoder's own functions (:func:`lumacodec.decoder.super_resolve` and
:func:`~lumacodec.decoder.colorize`), so what is measured is what a decode produces.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from lumacodec import QUALITIES, weights
from lumacodec.color import L_to_u8, u8_to_L
from lumacodec.decoder import colorize, colour_from_L, restore_hint, super_resolve
from lumacodec.enhance import upscale_clean
from lumacodec.hints import upsample_hint
from lumacodec.networks import load_network
from lumacodec.resample import downsample_bicubic, upsample

from . import data
from .loop import REPO
from .metrics import mean_ciede2000

SR_EVAL_QUALITIES = {1: (5, 10, 20, 40, 60),
                     2: (10, 15, 25, 40, 60, data.LOSSLESS_QUALITY),
                     4: (10, 20, 40, data.LOSSLESS_QUALITY)}
#: The hint quality of the presets below scale 1 and of quality 4 (1/16 and 1/8 hints).
HINT_QUALITY = 50
#: The colour settings evaluated: (hint factor, hint quality), (0, 0) for no hint; 1/8 at
#: quality 70 is what qualities 5–7 send, 1/4 and 1/2 at 70 what the top qualities often do.
COLOUR_SETTINGS = ((0, 0), *((f, HINT_QUALITY) for f in data.FIRST_HINT_FACTORS), (8, 70), (4, 70),
                   (2, 70))


def psnr_L(pred: np.ndarray, target: np.ndarray) -> float:
    """PSNR (dB) of an L plane in [0, 100] against the original (prediction clipped)."""
    mse = float(np.mean((np.clip(pred, 0.0, 100.0) - target) ** 2))
    return 10.0 * np.log10(100.0**2 / max(mse, 1e-12))


def _cell(classical: list[float], network: list[float]) -> str:
    if not network:
        return "–"
    c, n = float(np.mean(classical)), float(np.mean(network))
    return f"{c:.2f} → {n:.2f} ({n - c:+.2f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "networks.md"))
    parser.add_argument("--weights-dir", default=str(weights.BUNDLED_DIR))
    parser.add_argument("--cache", default=str(REPO / "cache"))
    parser.add_argument("--bsds", type=int, default=30, help="first N images of bsds500/test")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.time()

    groups = {
        f"bsds500/test[:{args.bsds}]": data.list_images(args.data, ["bsds500/test"])[: args.bsds],
        "set5": data.list_images(args.data, ["set5"]),
        "set14": data.list_images(args.data, ["set14"]),
    }
    manifest = weights.read_manifest(Path(args.weights_dir))["networks"]
    nets = {n: load_network(Path(args.weights_dir) / e["file"]) for n, e in manifest.items()
            if n in weights.NETWORK_NAMES}
    sr = {s: nets[f"sr_x{s}"] for s in (1, 2, 4) if f"sr_x{s}" in nets}
    sr_clean = {s: nets[f"sr_x{s}_clean"] for s in (2, 4) if f"sr_x{s}_clean" in nets}
    netset = weights.NetworkSet(sr, nets.get("colorizer"), b"", sr_clean,  # type: ignore[arg-type]
                                nets.get("hint_restorer"),  # type: ignore[arg-type]
                                nets.get("luma_colorizer"),  # type: ignore[arg-type]
                                {n: nets[n] for n in weights.RESTORERS if n in nets},
                                hint_restorers={n: nets[n] for n in weights.HINT_RESTORERS
                                                if n in nets})
    # The ×1 rows measure sr_x1 (the cascades' restorer); the fast restorers get rows of their
    # own (each at the base qualities it serves).
    earlier = dataclasses.replace(netset, restorers={})
    fast = {"fast": 1} if netset.restorers else {}
    clean_scales = [s for s in (2, 4) if s in sr or s in sr_clean]
    device = torch.device("cpu")

    # results[kind][(row, group)] = (classical values, network values)
    sr_res: dict[int | str, dict] = {s: defaultdict(lambda: ([], [])) for s in [*sr, *fast]}
    clean_res: dict = defaultdict(lambda: ([], []))
    col_res: dict = defaultdict(lambda: ([], []))
    hint_res: dict = defaultdict(lambda: ([], []))
    n_colour = defaultdict(int)
    keys = ["L", "ab", *(f"x{s}_q{q}" for s in sr for q in SR_EVAL_QUALITIES[s]),
            *(f"hint_f{f}_q{q}" for f, q in COLOUR_SETTINGS if f)]
    for group, images in groups.items():
        files = data.build_cache(images, args.cache, workers=args.workers, log=False)
        for rec in data.load_cache(files, keys):
            L = rec["L"]
            H, W = L.shape
            for key in [*sr, *fast]:
                s = fast.get(key, key)
                for q in SR_EVAL_QUALITIES[s]:
                    low = u8_to_L(rec[f"x{s}_q{q}"])
                    res = sr_res[key][(q, group)]
                    res[0].append(psnr_L(upsample(low, s, (H, W)), L))
                    run = netset if key in fast else earlier
                    res[1].append(psnr_L(super_resolve(low, s, q, (H, W), run, device), L))
            for s in clean_scales:
                low = u8_to_L(L_to_u8(downsample_bicubic(L, s)))
                res = clean_res[(s, group)]
                res[0].append(psnr_L(upsample(low, s, (H, W)), L))
                res[1].append(psnr_L(upscale_clean(low, s, netset, device), L))
            if netset.colorizer is None or not data.has_colour(rec):
                continue  # greyscale image: nothing to colour
            ab = rec["ab"].astype(np.float32)
            n_colour[group] += 1
            for f, hq in COLOUR_SETTINGS:
                if f:
                    small = rec[f"hint_f{f}_q{hq}"].astype(np.float32)
                    classical = upsample_hint(small, f, (H, W))
                    restored = restore_hint(small, L, f, hq, netset, device)
                    hint = upsample_hint(restored, f, (H, W))
                    res = hint_res[(f, hq, group)]
                    res[0].append(mean_ciede2000(L, classical, ab))
                    res[1].append(mean_ciede2000(L, hint, ab))
                else:
                    hint, classical = None, np.zeros_like(ab)
                pred = (colorize(L, hint, f, netset, device) if f
                        else colour_from_L(L, netset, device))
                res = col_res[(f, hq, group)]
                res[0].append(mean_ciede2000(L, classical, ab))
                res[1].append(mean_ciede2000(L, pred, ab))
        print(f"evaluated {group} ({time.time() - t_start:.0f}s)", flush=True)

    names = list(groups)
    lines = [
        "# Decoder networks vs the classical reconstruction",
        "",
        f"Written by `python -m training.eval` ({time.time() - t_start:.0f} s on "
        f"{args.threads} CPU threads).  Images: the first {args.bsds} of bsds500/test "
        "(file-name order), set5 and set14, whole images cropped to a multiple of 4; none "
        "of them is used in training.  Cells: classical → network (difference), mean over "
        "images.",
        "",
        "Weights: "
        + ", ".join(f"`{n}` ({manifest[n]['steps']} steps, sha256 {manifest[n]['sha256'][:12]})"
                    for n in nets)
        + ".",
        "",
    ]
    for key in [*sr, *fast]:
        s = fast.get(key, key)
        title = (f"Super-resolution ×{s}" if key not in fast else
                 "Restoration ×1 of full-resolution planes (the fast restorers, bodies at "
                 "1/4: `sr_x1_fast` and, above its qualities, `sr_x1_fine` where the set has "
                 "it)")
        lines += [f"## {title}: PSNR-L (dB, peak L = 100), bicubic → network",
                  "", "| base quality | " + " | ".join(names + ["all"]) + " |",
                  "|---" * (len(names) + 2) + "|"]
        for q in SR_EVAL_QUALITIES[s]:
            cells = [_cell(*sr_res[key][(q, g)]) for g in names]
            allc = [sum((sr_res[key][(q, g)][i] for g in names), []) for i in (0, 1)]
            tag = "lossless" if q == data.LOSSLESS_QUALITY else str(q)
            lines.append(f"| {tag} | " + " | ".join(cells + [_cell(*allc)]) + " |")
        lines.append("")
    downsampling = [(i, p) for i, p in enumerate(QUALITIES, 1) if p.scale > 1 and p.scale in sr
                    and p.base_quality in SR_EVAL_QUALITIES[p.scale]]
    if downsampling:
        gains = []
        for _, p in downsampling:
            c, n = ([v for g in names for v in sr_res[p.scale][(p.base_quality, g)][i]]
                    for i in (0, 1))
            gains.append(float(np.mean(n) - np.mean(c)))
        lines += ["## SR at the presets that downsample (all images)", "",
                  ", ".join(f"quality {i} (×{p.scale}, base {p.base_quality}): {g:+.2f} dB"
                            for (i, p), g in zip(downsampling, gains, strict=True))
                  + f"; mean {np.mean(gains):+.2f} dB.", ""]
    if clean_scales:
        lines += ["## Super-resolution of clean L (`lumacodec.enhance`): PSNR-L, bicubic → "
                  "network", "", "L bicubic-downsampled (antialiased, as the SR literature's "
                  "benchmarks) and rounded to 8 bits; upscaled as `lumacodec.enhance` does "
                  "(`lumacodec.enhance.upscale_clean`: ×4 is the ×2 clean network twice).", "",
                  "| scale | " + " | ".join(names + ["all"]) + " |",
                  "|---" * (len(names) + 2) + "|"]
        for s in clean_scales:
            cells = [_cell(*clean_res[(s, g)]) for g in names]
            allc = [sum((clean_res[(s, g)][i] for g in names), []) for i in (0, 1)]
            lines.append(f"| ×{s} | " + " | ".join(cells + [_cell(*allc)]) + " |")
        lines.append("")
    if netset.colorizer is not None:
        counts = ", ".join(f"{g}: {n_colour[g]}" for g in names)
        restorers = [r for r in (netset.hint_restorer, *netset.hint_restorers.values()) if r]
        factors = ", ".join(str(r.hint_factors) for r in restorers) or "–"
        lines += ["## Colorizer: mean CIEDE2000 (lower is better), per hint density and quality",
                  "", "Classical: bicubic-upsampled hint, or grey (a = b = 0) without a hint. "
                  f"Network: as the decoder does it, the hint restorers (factors {factors}) "
                  "then the colorizer. "
                  "Hints denser than the colorizer's `hint_factors` "
                  f"({netset.colorizer.hint_factors}) are kept as they are. "
                  f"Colour images: {counts}.", "",
                  "| hint | " + " | ".join(names + ["all"]) + " |",
                  "|---" * (len(names) + 2) + "|"]
        for f, hq in COLOUR_SETTINGS:
            cells = [_cell(*col_res[(f, hq, g)]) for g in names]
            allc = [sum((col_res[(f, hq, g)][i] for g in names), []) for i in (0, 1)]
            tag = f"1/{f}, q{hq}" if f else "none"
            lines.append(f"| {tag} | " + " | ".join(cells + [_cell(*allc)]) + " |")
        lines += ["", "The hint restorer alone (bicubic upsampling of the restored hint, no "
                  "colorizer): mean CIEDE2000, decoded hint → restored hint.", "",
                  "| hint | " + " | ".join(names + ["all"]) + " |",
                  "|---" * (len(names) + 2) + "|"]
        for f, hq in COLOUR_SETTINGS[1:]:
            cells = [_cell(*hint_res[(f, hq, g)]) for g in names]
            allc = [sum((hint_res[(f, hq, g)][i] for g in names), []) for i in (0, 1)]
            lines.append(f"| 1/{f}, q{hq} | " + " | ".join(cells + [_cell(*allc)]) + " |")
        lines.append("")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
