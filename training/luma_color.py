"""Train the colour-from-L network (hint-free colour for streams and for ``enhance``).

    python -m training.luma_color --data ../shared/datasets --minutes 90 --bf16 --threads 2

Data (:mod:`training.luma_data`): ``colour_photos/train`` (5,057 everyday photos) and the
441 photos of the other training sets, at the working resolution, each with its exact L and
the L its hint-free stream decodes to at a random quality of the ladder.  Every
``--holdout``-th photo of ``colour_photos/train`` is held out to validate during training, so
the validation sets (``colour_photos/val``, ``bsds500/test``, ``set14``) stay unseen.

Loss, on the grid of the output (1/4 of the working resolution; the true a/b area-averaged
onto it): the cross-entropy of the predicted a/b distribution against the bilinear soft
assignment of the true a/b (no rebalancing: the distribution stays calibrated; ``vivid``
corrects for the prior at decode time), plus ``--de-weight`` × the mean CIEDE2000 of the
regression head (``faithful``).  The distribution starts at the training data's prior and the
regression head at grey.  Validation: mean CIEDE2000 of the faithful
colour (guided up to the working resolution, as the decoder does) on the held-out photos'
exact and decoded L, relative to grey of the same L; the weights are exported when that
ratio improves.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lumacodec.color import u8_to_L
from lumacodec.luma_colour import colour_from_luma
from lumacodec.networks.luma_colorizer import AB_SCALE, LumaColorizer

from . import data, luma_data
from .loop import REPO, add_loop_arguments, config_from_args, train
from .metrics import ciede2000, mean_ciede2000

COLOUR_SETS = ("colour_photos/train/imagenet_samples", "colour_photos/train/imagenet_val227",
               "colour_photos/train/caltech101", "colour_photos/train/misc")


def split(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    """(training photos, held-out photos): every ``--holdout``-th colour photo is held out."""
    colour = data.list_images(args.data, [s for s in args.colour_sets.split(",") if s])
    others = data.list_images(args.data, [s for s in args.train_sets.split(",") if s])
    held = colour[:: args.holdout]
    train_images = [p for i, p in enumerate(colour) if i % args.holdout] + others
    if args.limit_images:
        train_images, held = train_images[: args.limit_images], held[:4]
    return train_images, held


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--colour-sets", default=",".join(COLOUR_SETS))
    parser.add_argument("--train-sets", default=",".join(data.TRAIN_SETS))
    parser.add_argument("--cache", default=str(REPO / "cache"))
    parser.add_argument("--max-side", type=int, default=1000)
    parser.add_argument("--variants", type=int, default=1,
                        help="decoded-L planes per photo (random qualities 1-9)")
    parser.add_argument("--workers", type=int, default=2, help="processes coding the cache")
    parser.add_argument("--holdout", type=int, default=50,
                        help="every N-th colour photo validates instead of training")
    parser.add_argument("--limit-images", type=int, default=0, help="smoke runs")


def ab_prior(photos: list[luma_data.Photo], net: LumaColorizer, sigma: float = 5.0,
             floor: float = 1e-6) -> torch.Tensor:
    """log p(bin) of the photos' a/b, smoothed by a Gaussian of ``sigma`` (a/b units) as in
    Zhang et al. 2016, with a floor so unseen bins stay finite."""
    counts = torch.zeros(net.centres.shape[0])
    for p in photos:
        ab = torch.from_numpy(p.ab[:, ::4, ::4].astype(np.float32))[None]
        counts += net.soft_targets(ab).sum(dim=(0, 2, 3))
    d2 = torch.cdist(net.centres, net.centres).square()
    smooth = torch.exp(-d2 / (2 * sigma**2)) @ (counts / counts.sum())
    prob = smooth / smooth.sum()
    return torch.log(prob.clamp_min(floor))


@dataclass
class LumaColorTask:
    model: LumaColorizer
    patches: luma_data.LumaPatches
    val_photos: list[luma_data.Photo]
    de_weight: float = 0.2
    score_key: str = "de_rel"
    higher_is_better: bool = False

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[Any, ...]:
        return self.patches.sample(rng, batch)

    def loss(self, model: nn.Module, batch: tuple[Any, ...], device: torch.device) -> torch.Tensor:
        L, ab, mask = (t.to(device) for t in batch)
        out = model(L).float()
        s = LumaColorizer.OUTPUT_STRIDE
        m = F.avg_pool2d(mask, s)
        ab_low = F.avg_pool2d(ab * mask, s) / m.clamp_min(1e-6)
        target = self.model.soft_targets(ab_low)
        ce = -(target * torch.log_softmax(out[:, :-2], dim=1)).sum(1, keepdim=True)
        L_low = F.avg_pool2d(L, s) * 100.0
        de = ciede2000(torch.cat([L_low, ab_low], 1),
                       torch.cat([L_low, out[:, -2:] * AB_SCALE], 1))[:, None]
        return ((ce + self.de_weight * de) * m).sum() / m.sum()

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Mean CIEDE2000 of the faithful colour and of grey on the held-out photos, on the
        exact L (``clean``) and on the decoded L (``decoded``); mean a/b bias."""
        de: dict[str, list[float]] = {"clean": [], "decoded": []}
        grey: dict[str, list[float]] = {"clean": [], "decoded": []}
        bias = []
        for p in self.val_photos:
            true = p.ab.astype(np.float32)
            for name, L8 in p.L.items():
                L = u8_to_L(L8)
                ab = colour_from_luma(L, model, device)  # at the working size: as decoded
                kind = "clean" if name == "L" else "decoded"
                de[kind].append(mean_ciede2000(L, ab, true))
                grey[kind].append(mean_ciede2000(L, np.zeros_like(ab), true))
                bias.append((ab - true).mean(axis=(1, 2)))
        metrics: dict[str, float] = {}
        ratios = []
        for kind in de:
            metrics[f"de_{kind}"] = float(np.mean(de[kind]))
            metrics[f"de_{kind}_grey"] = float(np.mean(grey[kind]))
            metrics[f"better_{kind}"] = float(np.mean(np.less(de[kind], grey[kind])))
            ratios.append(metrics[f"de_{kind}"] / metrics[f"de_{kind}_grey"])
        b = np.mean(bias, axis=0)
        metrics.update(bias_a=float(b[0]), bias_b=float(b[1]), de_rel=float(np.mean(ratios)))
        return metrics


def load_init(model: LumaColorizer, path: Path) -> None:
    """Load a weights file or a checkpoint's model into ``model`` (same widths); a head
    saved without the two regression channels, or with all-zero ones (a stuck start: the
    CIEDE2000 loss has no gradient at zero chroma), keeps ``model``'s fresh ones, and so
    does a colour curve (``--curve-knots``) the file has not got."""
    if path.suffix == ".pt":
        state = torch.load(path, map_location="cpu", weights_only=True)["model"]
    else:
        from safetensors.torch import load_file

        state = load_file(str(path))
    own = model.state_dict()
    for key in ("head.weight", "head.bias"):
        if state[key].shape[0] == own[key].shape[0] - 2:
            state[key] = torch.cat([state[key], own[key][-2:]])
    if not state["head.weight"][-2:].any():
        state["head.weight"][-2:] = own["head.weight"][-2:]
    for key in own:  # a colour curve the file lacks starts at zero: the same output
        if key.startswith("curve.") and key not in state:
            state[key] = own[key]
    model.load_state_dict(state)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_arguments(parser)
    parser.add_argument("--patch", type=int, default=160, help="crop size (multiple of 32)")
    parser.add_argument("--p-clean", type=float, default=0.3,
                        help="share of samples on the exact L (the rest: decoded L)")
    parser.add_argument("--widths", default="32,64,128,192,256")
    parser.add_argument("--decoder-widths", default="192,128,64")
    parser.add_argument("--curve-knots", type=int, default=0,
                        help="knots of the per-image colour-by-lightness curve (0: none)")
    parser.add_argument("--de-weight", type=float, default=0.2,
                        help="weight of the regression head's CIEDE2000 in the loss")
    parser.add_argument("--init", default="",
                        help="start from this weights file or training checkpoint (.pt); a "
                             "head without the regression channels gets them at zero")
    add_loop_arguments(parser, {"name": "luma_colorizer", "batch": 16, "lr": 1e-3,
                                "val_every": 1000})
    args = parser.parse_args(argv)
    train_images, held = split(args)
    files = luma_data.build_cache(train_images + held, args.cache, args.max_side, args.variants,
                                  args.workers)
    photos = luma_data.load_photos(files[: len(train_images)])
    val_photos = luma_data.load_photos(files[len(train_images) :])
    description = (f"{len(train_images)} photos: colour_photos/train less every "
                   f"{args.holdout}-th ({len(held)} held out to validate) and "
                   f"{', '.join(args.train_sets.split(','))}; at the working resolution, exact L "
                   f"and {args.variants} decoded L per photo (hint-free stream, qualities 1-9)")
    torch.manual_seed(args.seed)
    model = LumaColorizer([int(w) for w in args.widths.split(",")],
                          [int(w) for w in args.decoder_widths.split(",")],
                          curve_knots=args.curve_knots)
    if args.init:
        load_init(model, Path(args.init))
    else:
        with torch.no_grad():
            model.log_prior.copy_(ab_prior(photos, model))
            model.head.bias[:-2].copy_(model.log_prior)
    patches = luma_data.LumaPatches(photos, args.patch, args.p_clean)
    task = LumaColorTask(model, patches, val_photos, args.de_weight)
    train(task, config_from_args(args), description)


if __name__ == "__main__":
    main()
