"""The poster's own use: colourise and upscale an old greyscale photo, no bitstream involved.

::

    image → L → SR ×scale (clean-input network) → L' → colour from L (vivid) → RGB

SR runs the set's network for clean, uncoded L (trained on bicubic-downsampled photos, the SR
literature's degradation; ×4 runs the ×2 one twice, and a set without one falls back to the
decoder's network, told "lossless base"), and colour comes from L alone, with the decoder's
colour-from-L network (:mod:`lumacodec.luma_colour`), ``vivid`` by default: a person
colourising a family photo wants plausible, saturated colour more than the least-error guess.
Colour in the input (a faded print, a sepia scan) is discarded.  Points and a reference photo
(:mod:`lumacodec.guided`) let a person set the colours instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from . import weights
from .baselayer import LOSSLESS_QUALITY
from .color import L_to_grey_u8, grey_u8_to_L, planes_to_rgb_u8, rgb_to_luma
from .decoder import resolve_device, super_resolve
from .errors import LumacodecError
from .guided import guided_colour, reference_photo
from .images import ImageLike, to_pixels
from .luma_colour import check_colour
from .points import PointLike, check_points, scaled


def upscale_clean(
    L: np.ndarray, scale: int, nets: weights.NetworkSet, device: torch.device
) -> np.ndarray:
    """Super-resolve an uncoded L plane (H, W) by ``scale`` with the set's clean-input networks.

    ×4 without a ×4 clean network runs the ×2 one twice: on bicubic-downsampled set14 that
    gains +1.50 dB over bicubic where the decoder's ×4 network, told "lossless", gains +1.09.
    """
    if scale == 1:
        return L
    if scale == 4 and 4 not in nets.sr_clean and 2 in nets.sr_clean:
        return upscale_clean(upscale_clean(L, 2, nets, device), 2, nets, device)
    size = (L.shape[0] * scale, L.shape[1] * scale)
    return np.clip(super_resolve(L, scale, LOSSLESS_QUALITY, size, nets, device, clean=True),
                   0.0, 100.0)


def lightness(image: ImageLike) -> np.ndarray:
    """The L (H, W) in [0, 100] that :func:`enhance` colours: a grey image's own, a colour
    image's luminance (its colour is thrown away: it is what is being replaced)."""
    pixels, mode = to_pixels(image)
    return rgb_to_luma(pixels) if mode.is_colour else grey_u8_to_L(pixels)


def enhance(
    image: ImageLike,
    scale: int = 2,
    *,
    color: bool = True,
    colour: str = "vivid",
    points: Sequence[PointLike] = (),
    reference: ImageLike | None = None,
    device: str | torch.device | None = None,
    networks: weights.NetworkSet | None = None,
) -> Image.Image:
    """Upscale ``image`` by ``scale`` (1, 2 or 4) and, unless ``color=False``, colourise it:
    ``colour="vivid"`` (plausible, saturated) or ``"faithful"`` (closest on average).

    A person can say what the colours are (:mod:`lumacodec.guided`): ``points``, each
    ``(x, y, colour)`` or ``(x, y, colour, radius)`` in the pixel coordinates of ``image``
    (colour ``"#rrggbb"`` or a 0-255 triple; a :class:`lumacodec.points.Point` too), and/or a
    ``reference`` colour photo of a similar scene."""
    check_colour(colour)
    if isinstance(scale, bool) or not isinstance(scale, int) or scale not in (1, 2, 4):
        raise LumacodecError(f"scale must be 1, 2 or 4, got {scale!r}")
    L = lightness(image)
    height, width = L.shape
    checked = check_points(points, width, height)
    ref = None if reference is None else reference_photo(reference)
    dev = resolve_device(device)
    nets = (networks if networks is not None else weights.bundled()).to(dev)
    L = upscale_clean(L, scale, nets, dev)
    if not color:
        return Image.fromarray(L_to_grey_u8(L), "L")
    ab = guided_colour(L, [scaled(p, scale) for p in checked], ref, colour, device=dev,
                       networks=nets)
    return Image.fromarray(planes_to_rgb_u8(L, ab), "RGB")
