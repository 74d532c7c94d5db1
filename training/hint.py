"""Train the hint restorer: the AV1-coded a/b hint back towards the uncoded one, on its grid.

    python -m training.hint --data ../shared/datasets --minutes 30

Inputs: the decoded hint at 1/f (f in ``--factors``, hint quality from ``--hint-qualities``,
the cache's codings) and the exact L area-averaged onto the same grid; target: the uncoded hint
(a/b area-averaged, what the encoder quantizes); loss L1 on a/b / 128, on crops of ``--patch``
hint pixels (fewer at factors whose hints are smaller) with random flips and rotations.
Validation: mean CIEDE2000, at full resolution with the exact L, of the bicubic upsampling of
the restored hint and of the decoded hint itself, per factor, at ``--val-hint-quality`` (50,
the presets' at qualities 1–4), on the whole last ``--val-images`` images of bsds500/test; the
export score is the mean (restored / decoded) ratio over the factors.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lumacodec.hints import upsample_hint
from lumacodec.networks import HintRestorer
from lumacodec.resample import downsample

from . import data
from .loop import add_loop_arguments, config_from_args, train
from .metrics import mean_ciede2000
from .sr import add_data_arguments, prepare, zero_last_layer


@dataclass
class HintTask:
    """Hint-restorer training: :class:`training.data.HintPatches`, L1, CIEDE2000 validation."""

    model: HintRestorer
    patches: data.HintPatches
    val_records: list[dict[str, np.ndarray]]
    val_quality: int
    score_key: str = "de_rel"
    higher_is_better: bool = False

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[Any, ...]:
        return self.patches.sample(rng, batch)

    def loss(self, model: nn.Module, batch: tuple[Any, ...], device: torch.device) -> torch.Tensor:
        hint, L, factors, qualities, target = batch
        pred = model(hint.to(device), L.to(device), factors, qualities)
        return (pred - target.to(device)).abs().mean()

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        metrics: dict[str, float] = {}
        ratios = []
        q = self.val_quality
        colour = [r for r in self.val_records if data.has_colour(r)]
        for f in self.patches.factors:
            restored, decoded = [], []
            for r in colour:
                L, ab = r["L"], r["ab"].astype(np.float32)
                coded = r[f"hint_f{f}_q{q}"].astype(np.float32)
                hint = torch.from_numpy(coded / 128.0)[None].to(device)
                L_small = torch.from_numpy(downsample(L, f) / 100.0)[None, None].to(device)
                out = model(hint, L_small, [f], [q])[0].float().cpu().numpy() * 128.0
                size = L.shape
                restored.append(mean_ciede2000(L, upsample_hint(out, f, size), ab))
                decoded.append(mean_ciede2000(L, upsample_hint(coded, f, size), ab))
            metrics[f"de_f{f}"] = float(np.mean(restored))
            metrics[f"de_f{f}_decoded"] = float(np.mean(decoded))
            ratios.append(metrics[f"de_f{f}"] / metrics[f"de_f{f}_decoded"])
        metrics["de_rel"] = float(np.mean(ratios))
        return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patch", type=int, default=16, help="crop side in hint pixels")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--unshuffle", type=int, choices=(1, 2, 4), default=1,
                        help="run the body at 1/u of the hint grid (dense hints: 1/2, 1/4)")
    parser.add_argument("--factors", default="8,16,32", help="hint factors to train on")
    parser.add_argument("--hint-qualities",
                        default=",".join(map(str, data.FIRST_HINT_QUALITIES)),
                        help="hint qualities to train on")
    parser.add_argument("--val-hint-quality", type=int, default=50,
                        help="hint quality of validation (the presets' at qualities 1-4); "
                             "one of --hint-qualities")
    add_data_arguments(parser)
    add_loop_arguments(parser, {"name": "hint_restorer", "batch": 16, "lr": 1e-3,
                                "val_every": 1000})
    args = parser.parse_args(argv)
    factors = tuple(int(f) for f in args.factors.split(","))
    qualities = tuple(int(q) for q in args.hint_qualities.split(","))
    if not set(factors) <= set(data.HINT_FACTORS):
        parser.error(f"--factors must be among {data.HINT_FACTORS}")
    if not set(qualities) <= set(data.HINT_QUALITIES):
        parser.error(f"--hint-qualities must be among {data.HINT_QUALITIES}")
    if args.val_hint_quality not in qualities:
        parser.error("--val-hint-quality must be one of --hint-qualities")
    keys = ["L", "ab", *(f"hint_f{f}_q{q}" for f in factors for q in qualities)]
    records, val_records, description = prepare(args, keys)
    patches = data.HintPatches(records, factors, qualities, args.patch)
    torch.manual_seed(args.seed)
    model = HintRestorer(args.channels, args.blocks, factors, qualities, args.unshuffle)
    zero_last_layer(model.tail)
    task = HintTask(model, patches, val_records, args.val_hint_quality)
    train(task, config_from_args(args), description)


if __name__ == "__main__":
    main()
