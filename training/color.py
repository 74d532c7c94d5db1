"""Train the colorizer: a/b from L and an optional AV1-coded chroma hint.

    python -m training.color --data ../shared/datasets --minutes 60

Inputs: the exact L of the image (the decoder feeds the SR output, which is close), and the
hint as the decoder builds it (area-downsampled a/b at 1/f, AV1-coded at a hint quality from
``--hint-qualities``, default every cached one, 40–80; decoded, bicubic-upsampled), for f in
``--factors`` (default 8, 16, 32: the densities the presets use below 1/4; they are recorded in
the network's ``hint_factors``, and the decoder keeps denser hints as they are), or no hint
with probability 0.2. Target a/b / 128, loss L1 or (``--loss ciede2000``) the mean CIEDE2000
that validation and the evaluation measure, computed with the exact L. Validation: mean
CIEDE2000 of the network and of the classical reconstruction (bicubic hint, grey without one)
at the (lower) median hint quality, per factor, on centre crops of the last ``--val-images``
images of bsds500/test; the weights are exported when the mean (network / classical) ratio
improves among weights that beat the classical path at every density.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lumacodec import weights
from lumacodec.decoder import restore_hint
from lumacodec.networks import Colorizer, HintRestorer, load_network

from . import data
from .loop import add_loop_arguments, config_from_args, train
from .metrics import ciede2000, mean_ciede2000
from .sr import add_data_arguments, prepare, zero_last_layer


@dataclass
class ColorTask:
    """Colorizer training: :class:`training.data.ColorPatches`, L1 on a/b or CIEDE2000,
    CIEDE2000 validation."""

    model: Colorizer
    patches: data.ColorPatches
    val_records: list[dict[str, np.ndarray]]
    val_crop: int
    factors: tuple[int, ...] = data.FIRST_HINT_FACTORS
    val_hint_quality: int = 60
    score_key: str = "de_score"
    higher_is_better: bool = False
    loss_kind: str = "l1"
    #: A trained colorizer whose a/b the model also learns to match (distillation: a dense,
    #: easy target that a new, cheaper architecture learns from much faster than from the
    #: photos alone), with this weight against the loss on the true a/b.
    teacher: Colorizer | None = None
    teacher_weight: float = 1.0

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[Any, ...]:
        return self.patches.sample(rng, batch)

    def loss(self, model: nn.Module, batch: tuple[Any, ...], device: torch.device) -> torch.Tensor:
        L, hint, factors, target = batch
        L, target = L.to(device), target.to(device)
        pred = model(L, hint.to(device), factors)
        if self.loss_kind == "ciede2000":
            L100 = L * 100.0
            loss = ciede2000(torch.cat([L100, target * 128.0], 1),
                             torch.cat([L100, pred * 128.0], 1)).mean()
        else:
            loss = (pred - target).abs().mean()
        if self.teacher is not None:
            with torch.no_grad():
                taught = self.teacher(L, hint.to(device), factors)
            # in a/b units (x128) under CIEDE2000, where one unit is about one CIEDE2000 unit
            scale = 128.0 if self.loss_kind == "ciede2000" else 1.0
            loss = loss + self.teacher_weight * scale * (pred - taught).abs().mean()
        return loss

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Mean CIEDE2000 per hint factor (0 = none) for the network and the classical path."""
        c = self.val_crop
        metrics: dict[str, float] = {}
        nets: list[float] = []
        classicals: list[float] = []
        crops = []
        for r in self.val_records:
            y, x = data.center_origin(r["L"].shape, c, data.ColorPatches.GRID)
            crops.append((r, y, x))
        # without hint-free patches (--p-no-hint 0: a set whose colour from L is its own
        # network), the hint-free row is not what the network is for
        for f in (0, *self.factors) if self.patches.p_no_hint > 0 else self.factors:
            Ls, hints, trues = [], [], []
            for r, y, x in crops:
                Ls.append(r["L"][y : y + c, x : x + c])
                trues.append(r["ab"][:, y : y + c, x : x + c].astype(np.float32))
                hints.append(
                    data.hint_crop(r[f"hint_f{f}_q{self.val_hint_quality}"], f, y, x, c) if f
                    else np.zeros((2, c, c), np.float32)
                )
            Lt = torch.from_numpy(np.stack(Ls)[:, None] / 100.0).float().to(device)
            ht = torch.from_numpy(np.stack(hints) / 128.0).float().to(device)
            pred = (model(Lt, ht, [f] * len(Ls)) * 128.0).cpu().numpy()
            de_net = np.mean([mean_ciede2000(*a) for a in zip(Ls, pred, trues, strict=True)])
            de_cls = np.mean([mean_ciede2000(*a) for a in zip(Ls, hints, trues, strict=True)])
            tag = f"f{f}" if f else "nohint"
            metrics[f"de_{tag}"] = float(de_net)
            metrics[f"de_{tag}_classical"] = float(de_cls)
            nets.append(de_net)
            classicals.append(de_cls)
        metrics["de_mean"] = float(np.mean(nets))
        # The score: the mean network / classical ratio over settings, so the large hint-free
        # errors cannot outvote the hinted densities, and only for weights that beat the
        # classical reconstruction at every density (the others score above 1, so they rank
        # after every checkpoint that does).
        ratios = np.divide(nets, classicals)
        metrics["de_rel"] = float(np.mean(ratios))
        metrics["de_worst_ratio"] = float(np.max(ratios))
        worst = metrics["de_worst_ratio"]
        metrics["de_score"] = metrics["de_rel"] if worst < 1.0 else 1.0 + worst
        return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patch", type=int, default=128, help="patch size (multiple of 32)")
    parser.add_argument("--p-no-hint", type=float, default=0.2)
    parser.add_argument("--val-crop", type=int, default=256, help="crop size (multiple of 32)")
    parser.add_argument("--widths", default="32,64,96", help="U-Net widths")
    parser.add_argument("--unshuffle", type=int, choices=(2, 4), default=2,
                        help="the U-Net's resolution: 1/2 or 1/4 (the fast colorizer)")
    parser.add_argument("--out-gain", type=float, default=10.0, help="residual output gain")
    parser.add_argument("--factors", default="8,16,32",
                        help="hint factors to train and validate (0 = no hint is always added)")
    parser.add_argument("--hint-qualities",
                        default=",".join(map(str, data.FIRST_HINT_QUALITIES)),
                        help="hint qualities to train on (the presets send the colorizer 50 "
                             "and 70); validation uses their (lower) median")
    parser.add_argument("--restored-hints", action="store_true",
                        help="train on hints the bundled hint restorer cleaned first, as the "
                             "decoder feeds them (validation's classical reference is then the "
                             "bicubic restored hint)")
    parser.add_argument("--loss", choices=("l1", "ciede2000"), default="l1",
                        help="L1 on a/b, or mean CIEDE2000 (what validation measures)")
    parser.add_argument("--no-zero-init", dest="zero_init", action="store_false",
                        help="keep PyTorch's random init of the last conv")
    parser.add_argument("--init", default="",
                        help="start from this weights file (its widths and gain; the hint "
                             "factors are --factors)")
    parser.add_argument("--distill", default="",
                        help="a colorizer weights file to learn from as well (its a/b, L1)")
    parser.add_argument("--distill-weight", type=float, default=1.0)
    add_data_arguments(parser)
    add_loop_arguments(parser, {"name": "colorizer", "batch": 8, "lr": 5e-4, "val_every": 1000})
    args = parser.parse_args(argv)
    factors = tuple(int(f) for f in args.factors.split(","))
    if not set(factors) <= set(data.HINT_FACTORS):
        parser.error(f"--factors must be among {data.HINT_FACTORS}")
    qualities = tuple(int(q) for q in args.hint_qualities.split(","))
    if not set(qualities) <= set(data.HINT_QUALITIES):
        parser.error(f"--hint-qualities must be among {data.HINT_QUALITIES}")
    # Only the hint planes this run trains on are coded into (or read from) the cache.
    keys = ["L", "ab", *(f"hint_f{f}_q{q}" for f in factors for q in qualities)]
    records, val_records, description = prepare(args, keys)
    extra = {}
    if args.restored_hints:
        path = weights.BUNDLED_DIR / "hint_restorer.safetensors"
        restorer = load_network(path)
        if not isinstance(restorer, HintRestorer):
            parser.error(f"{path} is not a hint restorer")
        nets = weights.NetworkSet({}, None, b"", {}, restorer)  # type: ignore[arg-type]
        torch.set_num_threads(args.threads)
        cpu = torch.device("cpu")
        for r in records + val_records:
            for f in factors:
                for q in qualities:
                    key = f"hint_f{f}_q{q}"
                    r[key] = restore_hint(r[key].astype(np.float32), r["L"], f, q, nets, cpu)
        sha = weights.file_sha256(path)
        description += f"; hints restored by the bundled hint_restorer (sha256 {sha[:12]})"
        extra = {"hint_restored_by": sha}
    patches = data.ColorPatches(records, args.patch, args.p_no_hint, factors, qualities)
    val_records = [r for r in val_records if min(r["L"].shape) >= args.val_crop]
    torch.manual_seed(args.seed)
    if args.init:
        init = load_network(args.init)
        if not isinstance(init, Colorizer):
            parser.error(f"--init {args.init} is not a colorizer")
        model = Colorizer(**{**init.config, "hint_factors": factors})
        model.load_state_dict(init.state_dict())
    else:
        model = Colorizer(tuple(int(w) for w in args.widths.split(",")), args.out_gain, factors,
                          args.unshuffle)
        if args.zero_init:
            zero_last_layer(model.out)
    val_quality = sorted(qualities)[(len(qualities) - 1) // 2]  # the (lower) median
    teacher = None
    if args.distill:
        teacher = load_network(args.distill)
        if not isinstance(teacher, Colorizer):
            parser.error(f"--distill {args.distill} is not a colorizer")
        teacher.eval().requires_grad_(False)
        sha = weights.file_sha256(Path(args.distill))
        description += f"; distilled from {Path(args.distill).name} (sha256 {sha[:12]})"
    task = ColorTask(model, patches, val_records, args.val_crop, factors, val_quality,
                     loss_kind=args.loss, teacher=teacher, teacher_weight=args.distill_weight)
    train(task, config_from_args(args), description, manifest_extra=extra)


if __name__ == "__main__":
    main()
