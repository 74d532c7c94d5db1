"""Train the guided colour network (points and reference photos, for ``enhance`` and film).

    python -m training.guided_color --minutes 90 --threads 2

Starts from the bundled colour-from-L network (:meth:`GuidedColorizer.from_luma`: the new
inputs' weights at zero, so step 0 is exactly the automatic colour) and fine-tunes it on the
photos of :mod:`training.luma_color` (same split: every ``--holdout``-th colour photo held
out), exact L only (``enhance`` colours photos, not decoded streams), with the simulated
users of :mod:`training.guided_data`.  Loss: that of :mod:`training.luma_color` (the
distribution's cross-entropy plus ``--de-weight`` × the regression head's CIEDE2000).

Validation, on the held-out photos at the working resolution: mean CIEDE2000 of the faithful
colour relative to grey of the same L with 0, 1, 5 and 10 simulated points (a fixed seed per
photo), and on the right half of each photo with its left half as the reference; the score is
the mean of the five ratios.
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
from lumacodec.color import u8_to_L
from lumacodec.guided import point_planes, predict
from lumacodec.networks import LumaColorizer, load_network
from lumacodec.networks.guided_colorizer import GuidedColorizer, reference_condition

from . import luma_data
from .guided_data import GuidedPatches, category, simulate_marks
from .loop import add_loop_arguments, config_from_args, train
from .luma_color import LumaColorTask, add_data_arguments, load_init, split
from .metrics import mean_ciede2000

#: Point counts validated (the benchmark adds 2 and 20).
VAL_POINTS = (0, 1, 5, 10)


def validation_marks(photo: luma_data.Photo, n: int, seed: int) -> list[Any]:
    """The fixed simulated points of a held-out photo."""
    rng = np.random.default_rng(seed)
    return simulate_marks(u8_to_L(photo.L["L"]), photo.ab.astype(np.float32), n, rng)


def colour_of(net: GuidedColorizer, L: np.ndarray, marks: list[Any],
              ref: torch.Tensor | None, device: torch.device) -> np.ndarray:
    """Faithful a/b (2, h, w) of L (h, w) at the working size with marks and a reference."""
    Lt = torch.from_numpy(L / 100.0)[None, None].to(device)
    planes = torch.from_numpy(point_planes(*L.shape, marks))[None].to(device)
    return predict(net, Lt, planes, None if ref is None else ref[None].to(device))[0].cpu() \
        .numpy()


@dataclass
class GuidedColorTask(LumaColorTask):
    model: GuidedColorizer  # type: ignore[assignment]
    patches: GuidedPatches  # type: ignore[assignment]

    def loss(self, model: nn.Module, batch: tuple[Any, ...], device: torch.device) -> torch.Tensor:
        L, ab, mask, planes, ref = batch
        bound = _Bound(model, planes.to(device), ref.to(device))
        return super().loss(bound, (L, ab, mask), device)

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        de: dict[str, list[float]] = {f"p{n}": [] for n in VAL_POINTS} | {"ref": []}
        grey: dict[str, list[float]] = {k: [] for k in de}
        bias = []
        for k, photo in enumerate(self.val_photos):
            L = u8_to_L(photo.L["L"])
            true = photo.ab.astype(np.float32)
            for n in VAL_POINTS:
                ab = colour_of(model, L, validation_marks(photo, n, 1000 * k + n), None, device)
                de[f"p{n}"].append(mean_ciede2000(L, ab, true))
                grey[f"p{n}"].append(mean_ciede2000(L, np.zeros_like(ab), true))
                if n:
                    bias.append((ab - true).mean(axis=(1, 2)))
            half = L.shape[1] // 2
            ref = reference_condition(torch.from_numpy(L[:, :half]),
                                      torch.from_numpy(true[:, :, :half]), model.reference_bins)
            right = (L[:, half:], true[:, :, half:])
            ab = colour_of(model, np.ascontiguousarray(right[0]), [], ref, device)
            de["ref"].append(mean_ciede2000(right[0], ab, right[1]))
            grey["ref"].append(mean_ciede2000(right[0], np.zeros_like(ab), right[1]))
        metrics = {f"de_{k}_rel": float(np.mean(v) / np.mean(grey[k])) for k, v in de.items()}
        b = np.mean(bias, axis=0)
        metrics.update(bias_a=float(b[0]), bias_b=float(b[1]),
                       de_rel=float(np.mean(list(metrics.values()))))
        return metrics


class _Bound(nn.Module):
    """``model`` with its guidance bound, called as the colour-from-L loss calls a network."""

    def __init__(self, model: nn.Module, planes: torch.Tensor, ref: torch.Tensor) -> None:
        super().__init__()
        self.model, self.planes, self.ref = model, planes, ref

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        return self.model(L, self.planes, self.ref)


def initial_model(init: str) -> GuidedColorizer:
    """The network training starts from (``--init``)."""
    if init.endswith(".safetensors"):
        net = load_network(init)
        if isinstance(net, GuidedColorizer):
            return net
        if not isinstance(net, LumaColorizer):
            raise SystemExit(f"--init {init}: not a colour-from-L or guided colour network")
        return GuidedColorizer.from_luma(net)
    model = GuidedColorizer.from_luma(weights.load_listed("luma_colorizer"))
    if init:
        load_init(model, Path(init))
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_arguments(parser)
    parser.set_defaults(variants=0)
    parser.add_argument("--patch", type=int, default=160, help="crop size (multiple of 32)")
    parser.add_argument("--de-weight", type=float, default=0.2,
                        help="weight of the regression head's CIEDE2000 in the loss")
    parser.add_argument("--p-none", type=float, default=0.25, help="share of crops without "
                        "points")
    parser.add_argument("--p-reference", type=float, default=0.35,
                        help="share of crops with a reference")
    parser.add_argument("--p-dense", type=float, default=0.1,
                        help="share of crops with dense guidance (film)")
    parser.add_argument("--init", default="", help="start from this weights file (guided, or "
                        "a colour-from-L network to grow) or guided checkpoint (default: the "
                        "bundled colour-from-L network)")
    add_loop_arguments(parser, {"name": "guided_colorizer", "batch": 16, "lr": 3e-4,
                                "val_every": 500})
    args = parser.parse_args(argv)
    train_images, held = split(args)
    files = luma_data.build_cache(train_images + held, args.cache, args.max_side, args.variants,
                                  args.workers)
    photos = luma_data.load_photos(files[: len(train_images)])
    val_photos = luma_data.load_photos(files[len(train_images):])
    description = (f"{len(train_images)} photos: colour_photos/train less every "
                   f"{args.holdout}-th ({len(held)} held out to validate) and "
                   f"{', '.join(args.train_sets.split(','))}; at the working resolution, exact "
                   f"L; simulated users (training/guided_data.py): p_none {args.p_none}, "
                   f"p_reference {args.p_reference}, p_dense {args.p_dense}")
    torch.manual_seed(args.seed)
    model = initial_model(args.init)
    patches = GuidedPatches(photos, [category(p) for p in train_images], args.patch,
                            args.p_none, args.p_reference, args.p_dense)
    task = GuidedColorTask(model, patches, val_photos, args.de_weight)  # type: ignore[arg-type]
    train(task, config_from_args(args), description)


if __name__ == "__main__":
    main()
