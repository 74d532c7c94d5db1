"""Train the ×2 or ×4 super-resolution network (or the ×1 restoration one) on decoded planes.

    python -m training.sr --scale 2 --data ../shared/datasets --minutes 90

Inputs are L planes downsampled by the scale, AV1-coded at a quality of the ladder's set for
that scale (or lossless; scale 1 has only coded planes) and decoded, exactly as the decoder
receives them (see :mod:`training.data`); the target is the original L.  ``--focus`` draws a
share of the patches from the qualities the presets use.  ``--clean`` trains the network of
:func:`lumacodec.enhance` instead (name ``sr_x{s}_clean``): uncoded L, bicubic-downsampled.
Loss: L1 (or ``--loss mse``, which is what PSNR measures) on L / 100; ``--init`` starts from
a weights file.  Validation: mean PSNR-L gain over bicubic of the same decoded plane (at ×1:
over the plane itself; the export score averages the ``--focus`` qualities when given) on
centre crops of the last ``--val-images`` images of bsds500/test (the evaluation script uses
the first ones).
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lumacodec import weights
from lumacodec.decoder import super_resolve
from lumacodec.networks import SuperResolution, load_network
from lumacodec.resample import upsample_tensor

from . import data
from .loop import REPO, add_loop_arguments, config_from_args, train
from .metrics import psnr

#: Base qualities the in-training validation reports (a subset of the trained ones).
VAL_QUALITIES = {
    1: (5, 10, 20, 40),
    2: (10, 15, 25, 40, data.LOSSLESS_QUALITY),
    4: (10, 15, 20, data.LOSSLESS_QUALITY),
}
#: Tag of the clean (bicubic-downsampled, uncoded) validation input.
CLEAN = "bicubic"


@dataclass
class SRTask:
    """SR training: batches from :class:`training.data.SRPatches`, L1 loss, PSNR validation."""

    model: SuperResolution
    patches: data.SRPatches
    val_records: list[dict[str, np.ndarray]]
    val_crop: int
    loss_kind: str = "l1"
    score_key: str = "gain_db"
    higher_is_better: bool = True

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[torch.Tensor, ...]:
        return self.patches.sample(rng, batch)

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...],
             device: torch.device) -> torch.Tensor:
        low, q, target = (t.to(device) for t in batch)
        err = model(low, q) - target
        return (err * err).mean() if self.loss_kind == "mse" else err.abs().mean()

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """PSNR-L of the network and of bicubic per base quality, on centre crops."""
        p = self.patches
        s, c = p.scale, self.val_crop
        metrics: dict[str, float] = {}
        gains = {}
        # the scale's usual qualities, or, for a run on others only (a restorer of the top
        # qualities), those it trains on
        shown = [q for q in VAL_QUALITIES[s] if q in p.qualities] or sorted(p.qualities)
        for q, effort in itertools.product([data.LOSSLESS_QUALITY] if p.clean else shown,
                                           p.efforts):
            lows, raws, targets = [], [], []
            for r in self.val_records:
                y, x = data.center_origin(r["L"].shape, c, s)
                box = np.s_[y // s : (y + c) // s, x // s : (x + c) // s]
                lows.append(p.low_plane(r, q, box=box, effort=effort))
                raws.append(p.low_plane(r, q, raw=True, box=box, effort=effort))
                targets.append(r["L"][y : y + c, x : x + c])

            def batch(planes: list[np.ndarray]) -> torch.Tensor:
                return torch.from_numpy(np.stack(planes)[:, None] / 100.0).float().to(device)

            target = batch(targets)
            qin = torch.full((len(lows),), data.quality_input(q), device=device)
            p_net = psnr(model(batch(lows), qin), target).mean().item()
            p_bic = psnr(upsample_tensor(batch(raws), s), target).mean().item()
            tag = CLEAN if p.clean else "lossless" if q == data.LOSSLESS_QUALITY else f"q{q}"
            tag += "" if effort == data.EFFORT else f"_e{effort}"
            metrics[f"psnr_{tag}"] = p_net
            metrics[f"gain_{tag}"] = p_net - p_bic
            gains[q, effort] = p_net - p_bic
        scored = [g for (q, _), g in gains.items() if q in p.focus] or list(gains.values())
        metrics["gain_db"] = float(np.mean(scored))
        return metrics


def zero_last_layer(conv: nn.Conv2d) -> None:
    """Zero the conv that produces the residual, so training starts *at* the classical
    reconstruction (bicubic L / bicubic hint) instead of at bicubic plus random noise; with a
    short CPU budget this is the difference between beating bicubic after a few hundred steps
    or a few thousand."""
    nn.init.zeros_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def grow_blocks(model: SuperResolution, blocks: int) -> SuperResolution:
    """``model`` deepened to ``blocks`` residual blocks without changing what it computes: the
    new blocks go after the trained ones, their second conv zeroed so each starts as the
    identity.  Fine-tuning then measures what the extra depth is worth from where the trained
    network stands, not from scratch (which a short CPU run would favour the small net in)."""
    old = model.config["blocks"]
    grown = SuperResolution(**{**model.config, "blocks": blocks})
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith(f"body.{old}."):  # the body's closing conv moves to the end
            key = key.replace(f"body.{old}.", f"body.{blocks}.", 1)
        state[key] = value
    for i in range(old, blocks):
        zero_last_layer(grown.body[i].conv2)
        for name, value in grown.body[i].state_dict().items():
            state[f"body.{i}.{name}"] = value
    grown.load_state_dict(state)
    return grown


def transplant(restorer: SuperResolution, scale: int) -> SuperResolution:
    """A x``scale`` network that starts from the x1 ``restorer``'s head and body (its
    features of edges and coding artefacts) with a zeroed tail, which the upsampler's
    different width needs anyway: it computes bicubic of its input until trained."""
    config = {k: v for k, v in restorer.config.items() if k not in ("max_quality", "min_quality")}
    model = SuperResolution(**{**config, "scale": scale})
    state = {k: v for k, v in restorer.state_dict().items() if not k.startswith("tail.")}
    zero_last_layer(model.tail[0])
    state.update({k: v for k, v in model.state_dict().items() if k.startswith("tail.")})
    model.load_state_dict(state)
    return model


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Dataset / cache options shared by the SR and colorizer scripts."""
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"),
                        help="datasets root (holds bsds500/, sun_hays80/, ...)")
    parser.add_argument("--train-sets", default=",".join(data.TRAIN_SETS),
                        help="comma-separated training folders under --data")
    parser.add_argument("--val-set", default="bsds500/test",
                        help="folder whose last --val-images images validate during training")
    parser.add_argument("--val-images", type=int, default=10)
    parser.add_argument("--cache", default=str(REPO / "cache"), help="decoded-plane cache root")
    parser.add_argument("--max-side", type=int, default=1000,
                        help="photos are reduced by an integer factor below this long side")
    parser.add_argument("--workers", type=int, default=2, help="processes coding the cache")
    parser.add_argument("--limit-images", type=int, default=0,
                        help="use only the first N training images (smoke runs)")


def prepare(args: argparse.Namespace, keys: list[str]) -> tuple[list[dict], list[dict], str]:
    """Code (if needed) and load the training and validation caches.

    Returns (train records, validation records, a one-line description for the manifest).
    """
    sets = [s for s in args.train_sets.split(",") if s]
    train_images = data.list_images(args.data, sets)
    if args.limit_images:
        train_images = train_images[: args.limit_images]
    val_images = data.list_images(args.data, [args.val_set])[-args.val_images :]
    files = data.prepare_cache(train_images + val_images, args.cache, args.max_side, args.workers,
                               keys=keys)
    records = data.load_cache(files[: len(train_images)], keys)
    val_records = data.load_cache(files[len(train_images) :], keys)
    description = (f"{len(train_images)} images of {', '.join(sets)} (long side reduced by an "
                   f"integer factor to <= {args.max_side}); validation: last {len(val_images)} "
                   f"of {args.val_set}")
    return records, val_records, description


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, choices=(1, 2, 4), required=True,
                        help="1 trains the restoration network of the full-resolution rungs")
    parser.add_argument("--patch", type=int, default=0,
                        help="low-resolution patch size (default 64 at x1 and x2, 48 at x4)")
    parser.add_argument("--val-crop", type=int, default=192, help="full-resolution crop size")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--unshuffle", type=int, choices=(1, 2, 4), default=1,
                        help="run the body at 1/u of the input's resolution (see "
                             "lumacodec.networks.sr)")
    parser.add_argument("--blocks", type=int, default=0,
                        help="residual blocks (default 6); with --init, more blocks than the "
                             "init has grows it (see grow_blocks)")
    parser.add_argument("--no-zero-init", dest="zero_init", action="store_false",
                        help="keep PyTorch's random init of the last conv")
    parser.add_argument("--init", default="",
                        help="start from this weights file (its architecture; --channels is "
                             "ignored)")
    parser.add_argument("--clean", action="store_true",
                        help="train lumacodec.enhance's network on bicubic-downsampled clean L")
    parser.add_argument("--qualities", default="",
                        help="comma-separated base qualities (default: all of the scale's)")
    parser.add_argument("--focus", default="",
                        help="comma-separated qualities that get --focus-share of the patches "
                             "and decide the export score")
    parser.add_argument("--focus-share", type=float, default=0.5)
    parser.add_argument("--restored-input", action="store_true",
                        help="train on coded planes the bundled x1 network restored first (the "
                             "decoder then runs both: a cascade)")
    parser.add_argument("--input-restorer", choices=("sr_x1", "fast"), default="sr_x1",
                        help="with --restored-input: the x1 network that restores the coded "
                             "planes first: sr_x1, or the bundled set's fast restorer of each "
                             "base quality (sr_x1 where none serves it)")
    parser.add_argument("--restorer", action="append", default=[], metavar="NAME=FILE",
                        help="with --input-restorer fast: this weights file in place of the "
                             f"bundled restorer NAME (one of {', '.join(weights.RESTORERS)}), "
                             "for a cascade that goes with restorers not yet adopted")
    parser.add_argument("--efforts", default=str(data.EFFORT),
                        help="comma-separated AV1 efforts whose coded planes the patches are "
                             f"drawn from, evenly (scale 1; {data.EFFORT} and any of "
                             f"{data.SLOW_EFFORTS})")
    parser.add_argument("--loss", choices=("l1", "mse"), default="l1")
    add_data_arguments(parser)
    add_loop_arguments(parser, {"name": "", "batch": 16, "lr": 5e-4, "val_every": 500})
    args = parser.parse_args(argv)
    s = args.scale
    if (args.clean or args.restored_input) and s == 1:
        parser.error("--clean and --restored-input need --scale 2 or 4")
    if args.clean and args.restored_input:
        parser.error("--clean inputs are not coded: nothing to restore")
    args.name = args.name or f"sr_x{s}" + ("_clean" if args.clean else "")
    qualities = tuple(int(q) for q in args.qualities.split(",") if q) or data.SR_QUALITIES[s]
    focus = tuple(int(q) for q in args.focus.split(",") if q)
    if not set(focus) <= set(qualities) <= set(data.SR_QUALITIES[s]):
        parser.error(f"--focus must be among --qualities, and those among the cached "
                     f"{data.SR_QUALITIES[s]}")
    swapped = dict(item.split("=", 1) for item in args.restorer)
    if swapped and (args.input_restorer != "fast" or not args.restored_input):
        parser.error("--restorer goes with --restored-input --input-restorer fast")
    if not set(swapped) <= set(weights.RESTORERS):
        parser.error(f"--restorer names one of {', '.join(weights.RESTORERS)}")
    efforts = tuple(int(e) for e in args.efforts.split(",") if e)
    if not efforts or not set(efforts) <= {data.EFFORT, *data.SLOW_EFFORTS}:
        parser.error(f"--efforts must be among {(data.EFFORT, *data.SLOW_EFFORTS)}")
    if efforts != (data.EFFORT,) and (s != 1 or args.clean):
        parser.error("--efforts other than the default need --scale 1")
    keys = ["L", *(data.plane_key(s, q, e) for q in data.SR_QUALITIES[s] for e in efforts)]
    records, val_records, description = prepare(args, ["L"] if args.clean else keys)
    if args.clean:
        data.add_clean_planes(records, s)
        data.add_clean_planes(val_records, s)
        description += "; inputs bicubic-downsampled, uncoded"
    extra = {}
    if args.restored_input:
        files = {n: weights.BUNDLED_DIR / f"{n}.safetensors"
                 for n in ("sr_x1", *weights.RESTORERS)}
        if args.input_restorer == "fast":
            files.update({n: Path(f) for n, f in swapped.items()})
            restorer = weights.bundled().with_restorers(swapped)
            used = ["sr_x1", *(n for n in weights.RESTORERS if n in restorer.restorers)]
        else:
            restorer = weights.NetworkSet(
                {1: load_network(weights.BUNDLED_DIR / "sr_x1.safetensors")},
                None, b"")  # type: ignore[arg-type]
            used = ["sr_x1"]
        cpu = torch.device("cpu")

        def restore(low: np.ndarray, q: int) -> np.ndarray:
            return super_resolve(low, 1, q, low.shape, restorer, cpu)

        torch.set_num_threads(args.threads)
        for recs in (records, val_records):
            data.add_restored_planes(recs, s, qualities, restore)
        shas = {n: weights.file_sha256(files[n]) for n in used}
        description += "; coded inputs restored by " + ", ".join(
            f"{n} (sha256 {sha[:12]}{'' if n not in swapped else ', ' + swapped[n]})"
            for n, sha in shas.items())
        extra = {"restored_by": shas["sr_x1"] if args.input_restorer == "sr_x1" else shas}
    patches = data.SRPatches(records, s, args.patch or (48 if s == 4 else 64), qualities,
                             focus, args.focus_share, args.clean, args.restored_input, efforts)
    if efforts != (data.EFFORT,):
        description += f"; planes coded at AV1 efforts {', '.join(map(str, efforts))}, evenly"
    torch.manual_seed(args.seed)
    if args.init:
        init = load_network(args.init)
        if not isinstance(init, SuperResolution) or init.scale not in (1, s):
            parser.error(f"--init {args.init} is neither a x{s} super-resolution network "
                         "nor a x1 restoration one")
        if init.scale != s:
            init = transplant(init, s)
        model = SuperResolution(**{**init.config, "restored_input": args.restored_input,
                                   "input_restorer": args.input_restorer})
        model.load_state_dict(init.state_dict())
        if args.blocks and args.blocks < model.config["blocks"]:
            parser.error(f"--blocks {args.blocks}: {args.init} has "
                         f"{model.config['blocks']} blocks, and a network only grows")
        if args.blocks > model.config["blocks"]:
            model = grow_blocks(model, args.blocks)
    else:
        model = SuperResolution(s, channels=args.channels, blocks=args.blocks or 6,
                                restored_input=args.restored_input, unshuffle=args.unshuffle,
                                input_restorer=args.input_restorer)
        if args.zero_init:
            zero_last_layer(model.tail[0])
    task = SRTask(model, patches, val_records, args.val_crop, args.loss)
    train(task, config_from_args(args), description, manifest_extra=extra)


if __name__ == "__main__":
    main()

__all__ = ["SRTask", "add_data_arguments", "grow_blocks", "main", "prepare", "transplant"]
