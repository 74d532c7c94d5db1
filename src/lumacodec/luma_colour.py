"""Colour from lightness alone, at a fixed working resolution, guided back up by L.

::

    L (H×W) → antialiased resize to the working size (≈ 224×336 px, never up)
            → LumaColorizer → distribution over a/b bins at 1/4 of it
            → a/b (faithful: the mean; vivid: prior-corrected, annealed)
            → guided upsampling by the full-resolution L → a/b (H×W)

The network's cost is that of the working size whatever the image, and the colour edges
follow L's at full resolution.  Used by the decoder for streams without a hint and by
:func:`lumacodec.enhance`; training builds its inputs with the same :func:`working_size` and
resizing, so the network sees at training what it sees here.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .errors import LumacodecError
from .networks.luma_colorizer import COLOUR_MODES, LumaColorizer
from .resample import guided_upsample, resize_tensor

#: Pixels of the working resolution (224×336 for a 3:2 photo); smaller images run as they are.
WORK_PIXELS = 224 * 336
#: Guided upsampling: window radius on the network's output grid, and the regularisation
#: (in units of (L/100)²): measured on held-out training photos (training/README.md).
GUIDE_RADIUS = 2
GUIDE_EPS = 1e-3

COLOURS = tuple(COLOUR_MODES)


def working_size(height: int, width: int) -> tuple[int, int]:
    """The size the network runs at: the image's aspect, at most :data:`WORK_PIXELS`."""
    s = min(1.0, math.sqrt(WORK_PIXELS / (height * width)))
    return max(1, round(height * s)), max(1, round(width * s))


def check_colour(colour: str) -> str:
    if colour not in COLOUR_MODES:
        raise LumacodecError(f"colour must be one of {', '.join(COLOURS)}, got {colour!r}")
    return colour


def run_network(net: LumaColorizer, L_work: torch.Tensor) -> torch.Tensor:
    """The network's output (N, Q + 2, ⌈h/4⌉, ⌈w/4⌉) for L (N, 1, h, w) / 100 at the working
    size (padded to the network's multiple here, the padding's outputs cropped)."""
    h, w = L_work.shape[-2:]
    m = LumaColorizer.MULTIPLE
    out = net(F.pad(L_work, (0, (-w) % m, 0, (-h) % m), mode="replicate"))
    s = LumaColorizer.OUTPUT_STRIDE
    return out[..., : -(-h // s), : -(-w // s)]


def colour_from_luma(
    L: np.ndarray, net: LumaColorizer, device: torch.device, colour: str = "faithful"
) -> np.ndarray:
    """a/b (2, H, W) for L (H, W) in [0, 100], predicted from L alone.

    Runs in whatever autocast the caller set (the decoder's bfloat16 policy)."""
    check_colour(colour)
    with torch.inference_mode():
        Lt = torch.from_numpy(np.ascontiguousarray(L, dtype=np.float32) / 100.0)
        Lt = Lt.to(device)[None, None]
        L_work = resize_tensor(Lt, working_size(*L.shape))
        out = run_network(net, L_work.contiguous(memory_format=torch.channels_last))
        ab_low = net.decode_ab(out, colour)
        guide_low = resize_tensor(L_work, ab_low.shape[-2:])
        ab = guided_upsample(ab_low, guide_low, Lt, GUIDE_RADIUS, GUIDE_EPS)
    return ab[0].float().cpu().numpy()
