"""The training loop shared by every network: distributed, resumable, time- or step-budgeted.

* Single process (``python -m training.sr ...``) or ``torchrun --nproc_per_node=N`` with
  DistributedDataParallel (gloo on the CPU, nccl on CUDA).  Rank 0 logs, validates,
  checkpoints and exports; every rank draws its own patches (seed + rank).  The batch size
  is per rank.
* Budget: ``--steps`` or ``--minutes`` (training time, validation excluded).  The learning
  rate follows a linear warm-up then a cosine decay over the *fraction of the budget used*,
  so a time budget still ends at the low learning rate.  Under DDP rank 0's clock decides
  for everyone (broadcast each step), so all ranks stop at the same step.
* Checkpoints (model, Adam, step, elapsed time, best score, rank 0's RNG states) go to
  ``training/checkpoints/<name>.pt`` every ``--checkpoint-minutes`` and at the end (and on
  SIGTERM/SIGINT); ``--resume`` continues from one.  A run that used up its budget leaves
  out Adam's moments (twice the model's size, and these files are committed): resuming it
  with a larger budget starts Adam afresh.  Other ranks reseed from (seed, rank,
  step) on resume, since only rank 0's RNG state is saved.
* ``--bf16`` runs the forward pass under bfloat16 autocast (the backward pass follows it);
  parameters, Adam's state and validation stay float32.  On a CPU with AVX512-BF16 a step
  of the SR or colour networks takes ~0.4x the float32 time.
* Validation every ``--val-every`` steps; when the score improves the weights are exported
  with :func:`lumacodec.networks.save_network` and recorded in the weights manifest, so a
  usable, documented file exists throughout a long run.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from lumacodec.networks import save_network
from lumacodec.weights import BUNDLED_DIR, write_manifest_entry

REPO = Path(__file__).resolve().parent.parent
CHECKPOINT_DIR = REPO / "training" / "checkpoints"


class Task(Protocol):
    """What a network's training script provides to :func:`train`."""

    model: nn.Module
    #: Name of the validation metric that decides which weights are exported.
    score_key: str
    #: Whether a larger score is better (PSNR gain) or a smaller one (colour error).
    higher_is_better: bool

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[Any, ...]:
        """A training batch (CPU tensors and plain values)."""

    def loss(self, model: nn.Module, batch: tuple[Any, ...], device: torch.device) -> torch.Tensor:
        """The training loss of ``model`` (possibly DDP-wrapped) on ``batch``."""

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Validation metrics of the bare model (called in eval mode, without gradients)."""


@dataclass
class LoopConfig:
    """Options common to every training script (see :func:`add_loop_arguments`)."""

    name: str
    steps: int | None = None
    minutes: float | None = None
    batch: int = 16
    lr: float = 5e-4
    lr_min: float = 1e-5
    warmup: int = 200
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    val_every: int = 500
    log_every: int = 50
    checkpoint_minutes: float = 5.0
    checkpoint_dir: str = str(CHECKPOINT_DIR)
    weights_dir: str = str(BUNDLED_DIR)
    resume: bool = False
    export: bool = True
    bf16: bool = False


def add_loop_arguments(parser: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    """Add the :class:`LoopConfig` options to a script's parser, with per-network defaults."""
    d = {**asdict(LoopConfig(name="")), **defaults}
    parser.add_argument("--name", default=d["name"], help="checkpoint / weights / manifest name")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=d["steps"], help="budget in steps")
    budget.add_argument("--minutes", type=float, default=d["minutes"],
                        help="budget in minutes of training time")
    parser.add_argument("--batch", type=int, default=d["batch"], help="batch size per rank")
    parser.add_argument("--lr", type=float, default=d["lr"], help="peak learning rate (Adam)")
    parser.add_argument("--lr-min", type=float, default=d["lr_min"], help="final learning rate")
    parser.add_argument("--warmup", type=int, default=d["warmup"], help="linear warm-up steps")
    parser.add_argument("--seed", type=int, default=d["seed"])
    parser.add_argument("--threads", type=int, default=d["threads"], help="torch threads per rank")
    parser.add_argument("--device", default=d["device"], help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--val-every", type=int, default=d["val_every"])
    parser.add_argument("--log-every", type=int, default=d["log_every"])
    parser.add_argument("--checkpoint-minutes", type=float, default=d["checkpoint_minutes"])
    parser.add_argument("--checkpoint-dir", default=d["checkpoint_dir"])
    parser.add_argument("--weights-dir", default=d["weights_dir"],
                        help="where weights and manifest.json are written")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--no-export", dest="export", action="store_false",
                        help="do not write weights / manifest (smoke runs)")
    parser.add_argument("--bf16", action="store_true",
                        help="forward pass in bfloat16 (autocast; weights, Adam and validation "
                             "stay float32): ~2.4x the steps on a CPU with AVX512-BF16 or AMX")


def config_from_args(args: argparse.Namespace) -> LoopConfig:
    fields = LoopConfig.__dataclass_fields__
    return LoopConfig(**{k: v for k, v in vars(args).items() if k in fields})


def command_line() -> str:
    """The command that started this process, as it could be re-typed (for the manifest)."""
    module = sys.modules["__main__"].__spec__
    head = f"python -m {module.name}" if module is not None else f"python {sys.argv[0]}"
    return " ".join([head, *map(shlex.quote, sys.argv[1:])])


def lr_at(cfg: LoopConfig, step: int, progress: float) -> float:
    """Linear warm-up over ``cfg.warmup`` steps, then cosine from ``lr`` to ``lr_min``."""
    warm = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
    cos = 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    return warm * (cfg.lr_min + (cfg.lr - cfg.lr_min) * cos)


@dataclass
class DistInfo:
    rank: int
    world: int
    device: torch.device


def setup_distributed(device: str) -> DistInfo:
    """Join the process group when started by torchrun (``WORLD_SIZE`` > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    dev = torch.device(device)
    if world > 1:
        if dev.type == "cuda":
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return DistInfo(rank, world, dev)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Exclusive lock on a directory: two runs exporting at once must not lose a manifest
    entry (``write_manifest_entry`` reads, updates and rewrites the whole file)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def export_weights(
    model: nn.Module, cfg: LoopConfig, *, data: str, steps: int, wall_time_s: float,
    validation: dict[str, float], extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``<weights_dir>/<name>.safetensors`` and its manifest entry."""
    directory = Path(cfg.weights_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{cfg.name}.safetensors"
    with _locked(directory):
        tmp = path.with_suffix(".tmp")
        save_network(model, tmp, steps=str(steps), data=data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        write_manifest_entry(
            cfg.name, path, directory, command=command_line(), data=data, steps=steps,
            wall_time_s=round(wall_time_s, 1), validation=validation, **(extra or {}),
        )
    return path


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s"


def train(task: Task, cfg: LoopConfig, data_description: str,
          log: Callable[[str], None] | None = None,
          manifest_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``task.model`` under ``cfg``; returns the final state summary (rank 0's view).

    ``manifest_extra`` goes into the manifest entry of every export."""
    if (cfg.steps is None) == (cfg.minutes is None):
        raise ValueError("give exactly one of steps or minutes")
    torch.set_num_threads(cfg.threads)
    info = setup_distributed(cfg.device)
    rank0 = info.rank == 0
    say = (log or (lambda s: print(s, flush=True))) if rank0 else (lambda s: None)
    model = task.model.to(info.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    ckpt_path = Path(cfg.checkpoint_dir) / f"{cfg.name}.pt"
    state: dict[str, Any] = {"step": 0, "elapsed": 0.0, "best": None, "best_step": None,
                             "best_metrics": None, "exported_step": None,
                             "val_step": None}
    rng = np.random.default_rng([cfg.seed, info.rank])
    if cfg.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=info.device, weights_only=True)
        model.load_state_dict(ck["model"])
        if "optimizer" in ck:
            opt.load_state_dict(ck["optimizer"])
        else:
            say(f"[{cfg.name}] the checkpoint of a finished run has no optimizer state: "
                "Adam starts afresh")
        state.update(ck["state"])
        if rank0:
            rng.bit_generator.state = ck["rng"]
            torch.set_rng_state(ck["torch_rng"].cpu())
        else:
            rng = np.random.default_rng([cfg.seed, info.rank, state["step"]])
        say(f"[{cfg.name}] resumed from {ckpt_path} at step {state['step']}")
    elif cfg.resume:
        say(f"[{cfg.name}] no checkpoint at {ckpt_path}; starting from scratch")
    net: nn.Module = DistributedDataParallel(model) if info.world > 1 else model
    n_params = sum(p.numel() for p in model.parameters())
    say(f"[{cfg.name}] {n_params} parameters, world {info.world}, device {info.device}, "
        f"threads {cfg.threads}, budget "
        + (f"{cfg.steps} steps" if cfg.steps is not None else f"{cfg.minutes} min"))

    def save_checkpoint(with_optimizer: bool = True) -> None:
        if not rank0:
            return
        ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt_path.with_suffix(".tmp")
        ck = {"model": model.state_dict(), "state": state, "rng": rng.bit_generator.state,
              "torch_rng": torch.get_rng_state(), "config": asdict(cfg)}
        if with_optimizer:
            ck["optimizer"] = opt.state_dict()
        torch.save(ck, tmp)
        os.replace(tmp, ckpt_path)

    def validate_and_export() -> dict[str, float]:
        if not rank0:
            return {}
        t0 = time.time()
        model.eval()
        with torch.no_grad():
            metrics = task.validate(model, info.device)
        model.train()
        state["val_step"] = state["step"]
        score = metrics[task.score_key]
        best = state["best"]
        better = not math.isnan(score) and (
            best is None or math.isnan(best)
            or (score > best if task.higher_is_better else score < best))
        if better:
            state.update(best=score, best_step=state["step"], best_metrics=metrics)
        say(f"[{cfg.name}] val @ {state['step']}: "
            + json.dumps({k: round(v, 4) for k, v in metrics.items()})
            + f" ({time.time() - t0:.1f}s){' *best*' if better else ''}")
        if better and cfg.export:
            export_weights(model, cfg, data=data_description, steps=state["step"],
                           wall_time_s=state["elapsed"], validation=metrics,
                           extra=manifest_extra)
            state["exported_step"] = state["step"]
            say(f"[{cfg.name}] exported weights of step {state['step']} to {cfg.weights_dir}")
        return metrics

    stop = {"flag": False}

    def on_signal(signum: int, _frame: Any) -> None:
        stop["flag"] = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)

    budget = cfg.steps if cfg.steps is not None else cfg.minutes * 60.0  # type: ignore[operator]
    last_ckpt = time.time()
    run_loss, run_n, t_log, step_log = 0.0, 0, time.time(), state["step"]
    model.train()
    while True:
        used = state["step"] if cfg.steps is not None else state["elapsed"]
        progress = used / budget
        flags = torch.tensor([progress, float(stop["flag"])], dtype=torch.float64)
        if info.world > 1:
            dist.broadcast(flags, 0)
        progress, stopping = float(flags[0]), bool(flags[1])
        if progress >= 1.0 or stopping:
            break
        t0 = time.time()
        lr = lr_at(cfg, state["step"], progress)
        for group in opt.param_groups:
            group["lr"] = lr
        batch = task.sample(rng, cfg.batch)
        with torch.autocast(info.device.type, torch.bfloat16, enabled=cfg.bf16):
            loss = task.loss(net, batch, info.device).float()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state["step"] += 1
        state["elapsed"] += time.time() - t0
        run_loss += float(loss.detach())
        run_n += 1
        step = state["step"]
        if rank0 and step % cfg.log_every == 0:
            rate = (step - step_log) / max(time.time() - t_log, 1e-9)
            if cfg.steps is not None:
                eta = (cfg.steps - step) / max(rate, 1e-9)
            else:
                eta = budget - state["elapsed"]
            say(f"[{cfg.name}] step {step} ({100 * progress:.1f}%) loss {run_loss / run_n:.5f} "
                f"lr {lr:.2e} {rate:.2f} step/s elapsed {_fmt_time(state['elapsed'])} "
                f"ETA {_fmt_time(eta)}")
            run_loss, run_n, t_log, step_log = 0.0, 0, time.time(), step
        if step % cfg.val_every == 0:
            validate_and_export()
        if time.time() - last_ckpt >= cfg.checkpoint_minutes * 60.0:
            save_checkpoint()
            last_ckpt = time.time()
    if state["step"] != state["val_step"] and not stopping:
        validate_and_export()
    save_checkpoint(with_optimizer=stopping)
    say(f"[{cfg.name}] {'stopped' if stopping else 'finished'} at step {state['step']}, "
        f"best {task.score_key} = {state['best']} at step {state['best_step']}")
    if info.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return dict(state)
