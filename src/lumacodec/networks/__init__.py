"""The decoder's networks, and how they are saved and rebuilt from safetensors files.

A weights file names its architecture and configuration in its safetensors metadata
(``{"arch": "sr", "config": "{...}"}``), so loading rebuilds exactly the network the tensors
were trained for; no pickle is ever read.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ..errors import LumacodecError
from .colorizer import Colorizer
from .guided_colorizer import GuidedColorizer
from .hint_restorer import HintRestorer
from .luma_colorizer import LumaColorizer
from .sr import SuperResolution

#: Stable architecture names, as written in weights files' metadata.
ARCHITECTURES: dict[str, type[torch.nn.Module]] = {
    "sr": SuperResolution, "colorizer": Colorizer, "hint_restorer": HintRestorer,
    "luma_colorizer": LumaColorizer, "guided_colorizer": GuidedColorizer}


def save_network(
    net: torch.nn.Module, path: str | Path, *, half: bool = False, **extra: str
) -> None:
    """Write ``net``'s weights and its architecture/config to a safetensors file; ``half``
    stores floating-point tensors as float16 (half the file; :func:`load_network` loads them
    into the float32 network)."""
    arch = next(name for name, cls in ARCHITECTURES.items() if type(net) is cls)
    metadata = {"arch": arch, "config": json.dumps(net.config), **extra}
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    save_file(tensors, str(path), metadata=metadata)


def load_network(path: str | Path) -> torch.nn.Module:
    """Rebuild a network from a file written by :func:`save_network` (eval mode, on the CPU)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
        cls = ARCHITECTURES[meta["arch"]]
        net = cls(**json.loads(meta["config"]))
        net.load_state_dict(state, strict=True)
    except (OSError, KeyError, ValueError, RuntimeError, SafetensorError) as exc:
        raise LumacodecError(f"cannot load network weights {path}: {exc}") from None
    return net.eval()


__all__ = ["ARCHITECTURES", "Colorizer", "GuidedColorizer", "HintRestorer", "LumaColorizer",
           "SuperResolution", "load_network", "save_network"]
