"""The poster's own use: colourise and upscale an old greyscale photo, no bitstream involved.

::

    image → L → SR ×scale (network, told "clean input") → L' → colorizer (no hint) → RGB

The same networks as the decoder: a scan is treated like an uncoded base layer, and colour
comes from L alone.  Colour in the input (a faded print, a sepia scan) is discarded.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from . import weights
from .baselayer import LOSSLESS_QUALITY
from .color import L_to_grey_u8, grey_u8_to_L, lab_to_rgb_u8, rgb_to_luma
from .decoder import colorize, resolve_device, super_resolve
from .errors import LumacodecError
from .images import ImageLike, to_pixels


def enhance(
    image: ImageLike,
    scale: int = 2,
    *,
    color: bool = True,
    device: str | torch.device | None = None,
    networks: weights.NetworkSet | None = None,
) -> Image.Image:
    """Upscale ``image`` by ``scale`` (1, 2 or 4) and, unless ``color=False``, colourise it."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale not in (1, 2, 4):
        raise LumacodecError(f"scale must be 1, 2 or 4, got {scale!r}")
    pixels, mode = to_pixels(image)
    L = rgb_to_luma(pixels) if mode.is_colour else grey_u8_to_L(pixels)
    dev = resolve_device(device)
    nets = (networks if networks is not None else weights.bundled()).to(dev)
    size = (L.shape[0] * scale, L.shape[1] * scale)
    if scale > 1:
        L = np.clip(super_resolve(L, scale, LOSSLESS_QUALITY, size, nets, dev), 0.0, 100.0)
    if not color:
        return Image.fromarray(L_to_grey_u8(L), "L")
    ab = colorize(L, None, 0, nets, dev)
    return Image.fromarray(lab_to_rgb_u8(np.stack([L, ab[0], ab[1]], axis=-1)), "RGB")
