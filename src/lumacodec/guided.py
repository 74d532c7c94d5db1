"""Guided colour: colour from L, told by a person what some things' colours are.

::

    L (H×W) → working size (as :mod:`lumacodec.luma_colour`)          ─┐
    points (x, y, sRGB, radius) → squares of a/b + mask on that grid   ─┼→ GuidedColorizer
    known a/b + mask (dense: a film's previous frame, carried along)   ─┤     → a/b at 1/4
    reference photo → its a/b by lightness (reference_condition)       ─┘        │
        → + the reference's colour by lightness, + the points' corrections spread
          (lumacodec.colour_spread) → guided upsampling by L → a/b (H×W)

A point says "this is the colour here"; the network sees it (the user-guided colorization of
Zhang et al. 2017), and its correction is then spread over the region it belongs to, so the
point keeps the colour it was given.  Only a point's chroma is used: its lightness is the
photo's own.  A reference photo says which colours go with which lightness in a similar
scene.  With neither, the result is the automatic colour of
:func:`lumacodec.luma_colour.colour_from_luma` (the guided network is not used at all, so the
automatic path is bit for bit what it was).

The rasterisation of points here (:func:`point_planes`) is also what training draws its
simulated users with, so the network sees at training what it sees here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import weights
from .color import rgb_to_lab
from .colour_spread import reference_shift, spread
from .decoder import colour_from_L, inference, resolve_device
from .errors import LumacodecError
from .images import ImageLike, to_pixels
from .luma_colour import GUIDE_EPS, GUIDE_RADIUS, check_colour, working_size
from .networks.guided_colorizer import GuidedColorizer, reference_condition
from .networks.luma_colorizer import AB_SCALE, LumaColorizer
from .points import Point, PointLike, check_points
from .resample import guided_upsample, resize, resize_tensor

#: Chroma factor of ``vivid`` for guided colour: where a person chose colours they are kept
#: as chosen, so vivid boosts less than the automatic 2.0 (benchmarks/guided_eval.py).
GUIDED_VIVID = 1.3
#: Largest half-side of a point's square on the working grid.
MAX_GRID_RADIUS = 4

#: A point on the working grid: (row, column, half-side, a, b).
Mark = tuple[int, int, int, float, float]


def point_planes(height: int, width: int, marks: Sequence[Mark],
                 known: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The network's three guidance planes (3, height, width), float32: a / :data:`AB_SCALE`,
    b / :data:`AB_SCALE`, mask.

    ``known`` (a/b (2, h, w), mask (h, w) in [0, 1], on this grid) is dense guidance laid down
    first (its a/b weighted by the mask); each mark then paints its square with its colour and
    a mask of one (later marks over earlier ones)."""
    planes = np.zeros((3, height, width), np.float32)
    if known is not None:
        ab, mask = known
        planes[:2] = ab * mask / AB_SCALE
        planes[2] = mask
    for y, x, r, a, b in marks:
        rows = slice(max(0, y - r), min(height, y + r + 1))
        cols = slice(max(0, x - r), min(width, x + r + 1))
        planes[0, rows, cols] = a / AB_SCALE
        planes[1, rows, cols] = b / AB_SCALE
        planes[2, rows, cols] = 1.0
    return planes


def point_marks(points: Sequence[Point], image_size: tuple[int, int],
                grid_size: tuple[int, int]) -> list[Mark]:
    """Points in the image's pixel coordinates as marks on a grid of ``grid_size`` (the
    working size): positions and radii scaled, colours converted to a/b."""
    if not points:
        return []
    (H, W), (h, w) = image_size, grid_size
    sy, sx = h / H, w / W
    rgb = np.array([p.rgb for p in points], np.uint8)[None]
    ab = rgb_to_lab(rgb)[0, :, 1:]
    marks = []
    for p, (a, b) in zip(points, ab, strict=True):
        y = min(h - 1, int(p.y * sy))
        x = min(w - 1, int(p.x * sx))
        r = min(MAX_GRID_RADIUS, round(p.radius * min(sy, sx)))
        marks.append((y, x, r, float(a), float(b)))
    return marks


def reference_vector(reference: np.ndarray, bins: int) -> torch.Tensor:
    """The reference condition of an sRGB photo (H, W, 3) uint8, taken at the working size
    (its colour statistics do not need more)."""
    lab = rgb_to_lab(np.ascontiguousarray(reference))
    size = working_size(*lab.shape[:2])
    planes = resize(lab.transpose(2, 0, 1), size)
    return reference_condition(torch.from_numpy(planes[0]), torch.from_numpy(planes[1:]), bins)


def run_guided(net: GuidedColorizer, L_work: torch.Tensor, planes: torch.Tensor,
               reference: torch.Tensor | None) -> torch.Tensor:
    """The network's output for L (N, 1, h, w) / 100 at the working size with its guidance
    planes (N, 3, h, w): padded to the network's multiple (L by replication, the planes with
    zeros: no guidance there), the padding's outputs cropped."""
    h, w = L_work.shape[-2:]
    m = LumaColorizer.MULTIPLE
    pad = (0, (-w) % m, 0, (-h) % m)
    out = net(F.pad(L_work, pad, mode="replicate"), F.pad(planes, pad), reference)
    s = LumaColorizer.OUTPUT_STRIDE
    return out[..., : -(-h // s), : -(-w // s)]


def guided_ab(out: torch.Tensor, colour: str) -> torch.Tensor:
    """a/b from the guided network's output: its regression head (``faithful``), its chroma
    times :data:`GUIDED_VIVID` for ``vivid``."""
    return out[:, -2:].float() * (AB_SCALE * (GUIDED_VIVID if colour == "vivid" else 1.0))


def point_corrections(ab_low: np.ndarray, marks: Sequence[Mark], stride: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """What each mark asks of the network's a/b (2, h, w) on its output grid (``stride``
    working pixels a cell): (its colour − the network's, mask) on the cells its square
    covers (the mask labels them: mark k's cells are k + 1)."""
    target = np.zeros_like(ab_low)
    mask = np.zeros(ab_low.shape[1:], np.float32)
    h, w = mask.shape
    for k, (y, x, r, a, b) in enumerate(marks):
        rows = slice(max(0, (y - r) // stride), min(h, (y + r) // stride + 1))
        cols = slice(max(0, (x - r) // stride), min(w, (x + r) // stride + 1))
        target[0, rows, cols] = a - ab_low[0, rows, cols]
        target[1, rows, cols] = b - ab_low[1, rows, cols]
        mask[rows, cols] = k + 1
    return target, mask


def corrections(L_low: np.ndarray, ab_low: np.ndarray, reference: np.ndarray | None,
                marks: Sequence[Mark], texture: np.ndarray | None = None) -> np.ndarray:
    """The correction (2, h, w) of one image's network a/b (2, h, w) on its output grid, L
    (h, w) in [0, 100] (``texture``: its standard deviation within each cell): the
    reference's colours by lightness first, then the points' own colours spread over their
    regions (:mod:`lumacodec.colour_spread`)."""
    field = np.zeros_like(ab_low)
    if reference is not None and reference[-1] > 0:  # all zeros: no reference
        field += reference_shift(L_low, ab_low, reference)
    if marks:
        target, mask = point_corrections(ab_low + field, marks, LumaColorizer.OUTPUT_STRIDE)
        field += spread(L_low, target, mask, texture=texture)
    return field


def predict(net: GuidedColorizer, L_work: torch.Tensor, planes: torch.Tensor,
            reference: torch.Tensor | None, colour: str = "faithful",
            guide: torch.Tensor | None = None, marks: Sequence[Mark] = ()) -> torch.Tensor:
    """a/b (N, 2, H, W) for L (N, 1, h, w) / 100 at the working size and its guidance, brought
    up to the size of ``guide`` (L / 100 at full resolution; default: ``L_work`` itself) by
    guided upsampling, as :func:`lumacodec.luma_colour.colour_from_luma` does.  ``marks``
    (the first image's): each point keeps its colour; with a reference, each lightness gets
    the reference's mean colour (:func:`corrections`, before the upsampling)."""
    ab_low = guided_ab(run_guided(net, L_work, planes, reference), colour)
    guide_low = resize_tensor(L_work, ab_low.shape[-2:])
    if marks or reference is not None:
        texture = (resize_tensor(L_work.square(), ab_low.shape[-2:]) - guide_low.square()
                   ).clamp_min(0.0).sqrt() * 100.0
        ab_low = ab_low + torch.from_numpy(np.stack([
            corrections(guide_low[i, 0].float().cpu().numpy() * 100.0,
                        ab_low[i].float().cpu().numpy(),
                        None if reference is None else reference[i].float().cpu().numpy(),
                        marks if i == 0 else (), texture[i, 0].float().cpu().numpy())
            for i in range(ab_low.shape[0])])).to(ab_low.device, ab_low.dtype)
    return guided_upsample(ab_low, guide_low, L_work if guide is None else guide,
                           GUIDE_RADIUS, GUIDE_EPS)


def colour_with(
    net: GuidedColorizer,
    device: torch.device,
    L: np.ndarray,
    points: Sequence[Point] = (),
    reference: torch.Tensor | None = None,
    colour: str = "faithful",
    known: tuple[np.ndarray, np.ndarray] | None = None,
    work: tuple[int, int] | None = None,
) -> np.ndarray:
    """a/b (2, H, W) for L (H, W) in [0, 100] from ``net`` on ``device``, guided by
    ``points`` (pixel coordinates of L), a ``reference`` condition (:func:`reference_vector`)
    and ``known`` dense colour (a/b (2, H, W) and a mask (H, W) in [0, 1], at L's size);
    ``work`` overrides the working size (the studio's previews run smaller).  Runs in
    whatever autocast the caller set."""
    size = work or working_size(*L.shape)
    Lt = torch.from_numpy(np.ascontiguousarray(L, dtype=np.float32) / 100.0).to(device)
    L_work = resize_tensor(Lt[None, None], size)
    dense = None
    if known is not None:
        ab_k, mask_k = known
        dense = (resize(ab_k, size), np.clip(resize(mask_k, size), 0.0, 1.0))
    marks = point_marks(points, L.shape, size)
    planes = point_planes(*size, marks, dense)
    ref = None if reference is None else reference[None].to(device)
    ab = predict(net, L_work, torch.from_numpy(planes)[None].to(device), ref, colour,
                 Lt[None, None], marks)
    return ab[0].float().cpu().numpy()


def reference_photo(reference: ImageLike, source: str = "the reference photo") -> np.ndarray:
    """A reference photo as sRGB (H, W, 3) uint8; a grey one is an error (it has no colour to
    give), naming ``source``."""
    pixels, mode = to_pixels(reference)
    if not mode.is_colour:
        raise LumacodecError(f"{source} is grey: it has no colour to give")
    return pixels


def guided_colour(
    L: np.ndarray,
    points: Sequence[PointLike] = (),
    reference: ImageLike | None = None,
    colour: str = "faithful",
    *,
    known_ab: np.ndarray | None = None,
    known_mask: np.ndarray | None = None,
    device: str | torch.device | None = None,
    networks: weights.NetworkSet | None = None,
    work: tuple[int, int] | None = None,
) -> np.ndarray:
    """a/b (2, H, W) for L (H, W) in [0, 100], guided by a person.

    ``points``: :class:`~lumacodec.points.Point` objects or ``(x, y, colour[, radius])`` in
    L's pixel coordinates (colour ``"#rrggbb"`` or 0-255 triples); ``reference``: a colour
    photo of a similar scene (PIL image or uint8 array); ``known_ab`` (2, H, W) with
    ``known_mask`` (H, W) in [0, 1]: colour already known where the mask is one (a film's
    previous frame carried along the motion).  With none of them this is the automatic colour
    of the set's colour-from-L network, exactly."""
    check_colour(colour)
    height, width = L.shape
    checked = check_points(points, width, height)
    dev = resolve_device(device)
    nets = (networks if networks is not None else weights.bundled()).to(dev)
    if not checked and reference is None and known_ab is None:
        return colour_from_L(L, nets, dev, colour)
    net = nets.guided_colorizer
    if net is None:
        raise LumacodecError("this network set has no guided colour network (points and "
                             "reference photos need one)")
    known = None
    if known_ab is not None:
        mask = np.ones(L.shape, np.float32) if known_mask is None else known_mask
        if known_ab.shape != (2, height, width) or mask.shape != L.shape:
            raise LumacodecError(f"known_ab must be (2, {height}, {width}) and known_mask "
                                 f"({height}, {width})")
        known = (known_ab, mask)
    ref = None if reference is None else \
        reference_vector(reference_photo(reference), net.reference_bins)
    with inference(dev):
        return colour_with(net, dev, L, checked, ref, colour, known, work)
