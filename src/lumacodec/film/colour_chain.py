"""Colour that holds still: each frame's colour guided by the colour given to the one before.

::

    shot start / keyframe:  L_0 ─→ key colour (points or reference: lumacodec.guided;
                                    a 1/32 hint: the hinted colorizer; else automatic) ─→ ab_0
    frame t:   L_t−1, L_t ─→ motion (DIS flow, occlusions, cut?)        lumacodec.film.propagate
               ab_t−1 ─warp→ carried ─┐
               L_t ─→ automatic ab ───┴─ where(valid, carried, automatic) = guide
               guide ─→ area 1/f ─→ bicubic ─→ hinted colorizer(L_t, hint, f) ─→ fresh
               ab_t = where(valid, carried, fresh)                   (carry = "direct")
               a scene cut: the chain restarts (automatic, or the reference's colour)

What the flow carries is kept as it is; what it cannot vouch for (uncovered background,
objects entering) is coloured afresh by the decoder's hinted colorizer
(:func:`lumacodec.decoder.colorize`), given as its hint (at 1/:data:`HINT_FACTOR` of each
side, as a stream's) the carried colour around it and automatic colour from L alone inside
it: the new region takes automatic colour and its seams blend into what was carried.  The
guided colour network can do that job instead (``carry="guided-direct"``: it is told the
carried colour everywhere else, :mod:`lumacodec.guided`); it measures the same and costs
less, but paints large new regions in colours that are plainly wrong (:data:`CARRY`).
Feeding *every* pixel through the colorizer (``carry="hint"``, the first design) drifts:
fed its own output frame after frame, it loses a little colour each time (on a still
picture, CIEDE2000 5.2 → 6.5 in 20 frames at 1/8, → 9.9 at 1/32).  Everything runs at the
input's resolution (colour is smooth; the output's a/b is upsampled), so its cost stays
small beside super-resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import weights
from ..decoder import colorize, colour_from_L
from ..hints import upsample_hint
from ..resample import downsample
from .propagate import MotionEstimator, warp

#: The hint density (1/f of each side) the carried colour is given at, on the hinted
#: colorizer's paths (benchmarks/film.py: the density sweep in benchmarks/results/film.md).
HINT_FACTOR = 8
#: How the carried colour reaches frame t (the module's docstring):
#:
#: * ``"hint"``: every pixel through the hinted colorizer, the carried a/b its hint (drifts);
#: * ``"direct"``: the carried a/b itself where valid, the hinted colorizer's only where not;
#: * ``"guided"``: every pixel through the guided colour network, the carried a/b its known
#:   colour where valid (its output is re-fitted to frame t's edges each frame);
#: * ``"guided-direct"``: the carried a/b where valid, the guided network's where not.
CARRY_MODES = ("hint", "direct", "guided", "guided-direct")
#: The default: ``direct``.  ``guided-direct`` measures the same (benchmarks/results/film.md:
#: 02_cups 3.59 against 3.67, 01_dog 3.11 against 3.10) and its holes cost less time, but
#: the guided network, told the carried colour all around a large new region, paints it in
#: colours that are plainly wrong (a hand entering over a dark table turns blue), where the
#: hinted colorizer, given automatic colour inside, leaves it muted.
CARRY = "direct"

#: Holes (pixels the flow cannot vouch for) covering less than this share of a frame are
#: filled from the carried colour around them (:func:`fill_holes`) instead of by a network.
#: 0: only a frame with no hole at all skips the network; filling holes under 1% this way
#: measured worse (02_cups, 40 frames on: CIEDE2000 3.83 against the network's 3.20), so
#: the network fills every hole there is.
SMALL_HOLES = 0.0

#: A frame's lightness (H, W) in [0, 100] → its a/b (2, H, W).
ColourFn = Callable[[np.ndarray], np.ndarray]
#: L (H, W), known a/b (2, H, W), known mask (H, W) in [0, 1] → a/b (2, H, W).
KnownFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def hinted(L: np.ndarray, guide: np.ndarray, factor: int, nets: weights.NetworkSet,
           device: torch.device) -> np.ndarray:
    """The hinted colorizer's a/b for L (H, W) given a dense guide a/b (2, H, W) sent as a
    hint at 1/``factor`` (area down, bicubic up: exactly a stream's hint, uncoded)."""
    hint = upsample_hint(downsample(guide, factor), factor, L.shape)
    return colorize(L, hint, factor, nets, device)


def guided_known(nets: weights.NetworkSet, device: torch.device,
                 reference: np.ndarray | None = None) -> KnownFn:
    """The guided colour network told the colour already known (:func:`lumacodec.guided.
    guided_colour`'s ``known_ab``/``known_mask``), and the ``reference`` photo if any.

    Always ``faithful``: the known colour already has the chain's vividness (its keyframe's or
    its shot's first frame's); ``vivid`` would boost it again every frame."""
    from ..guided import guided_colour

    def known(L: np.ndarray, ab: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return guided_colour(L, reference=reference, colour="faithful", known_ab=ab,
                             known_mask=mask, networks=nets, device=device)

    return known


def fill_holes(ab: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``ab`` (2, H, W) with its pixels outside ``valid`` (H, W) filled by normalised
    convolution: the valid colour around each, Gaussian-weighted, at growing widths until
    every hole has some valid neighbour (a frame with nothing valid is returned as it is)."""
    import cv2

    if valid.all() or not valid.any():
        return ab
    weight = valid.astype(np.float32)
    out = ab.copy()
    todo = ~valid
    sigma = 2.0
    while todo.any() and sigma < 4 * max(valid.shape):
        den = cv2.GaussianBlur(weight, (0, 0), sigma)
        ok = todo & (den > 1e-3)
        for c in range(ab.shape[0]):
            num = cv2.GaussianBlur(ab[c] * weight, (0, 0), sigma)
            out[c][ok] = num[ok] / den[ok]
        todo &= ~ok
        sigma *= 3.0
    return out


class ColourChain:
    """Colour of a film, frame after frame: call it with each frame's index and L in order.

    Parameters
    ----------
    nets, device
        The network set and where it runs.
    colour
        Automatic colour: ``"faithful"`` or ``"vivid"`` (:mod:`lumacodec.luma_colour`).
    keys
        Frame index → a function giving that frame's colour from its L (keyframe points, a
        true-colour hint in evaluation): the chain restarts there with that colour.
    auto
        Colour of a new shot and of what the flow cannot carry (default: colour from L).
    hint_factor, carry
        The carried colour's hint density and how it is applied (:data:`CARRY_MODES`); the
        guided modes fall back to ``"direct"`` with a network set that has no guided colour
        network.
    reference
        A colour photo (RGB uint8) the guided network also sees on carried frames.
    small_holes
        Holes under this share of the frame are filled from around them, not by a network
        (:data:`SMALL_HOLES`; 0: always the network).
    """

    def __init__(self, nets: weights.NetworkSet, device: torch.device, colour: str = "vivid",
                 *, keys: dict[int, ColourFn] | None = None, auto: ColourFn | None = None,
                 hint_factor: int = HINT_FACTOR, carry: str = CARRY,
                 motion: MotionEstimator | None = None,
                 reference: np.ndarray | None = None,
                 small_holes: float = SMALL_HOLES) -> None:
        if carry not in CARRY_MODES:
            raise ValueError(f"carry must be one of {CARRY_MODES}, got {carry!r}")
        if carry.startswith("guided") and nets.guided_colorizer is None:
            carry = "direct"
        self.nets, self.device = nets, device
        self.keys = dict(keys or {})
        self.auto = auto or (lambda L: colour_from_L(L, nets, device, colour))
        self.hint_factor, self.carry, self.small_holes = hint_factor, carry, small_holes
        self.known = guided_known(nets, device, reference) if carry.startswith("guided") \
            else None
        self.motion = motion or MotionEstimator()
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        #: Indices where a scene cut restarted the chain, and the share of each frame's
        #: pixels carried from the frame before (1.0 at a restart): for reports and tests.
        self.cuts: list[int] = []
        self.valid_shares: list[float] = []

    def restart(self) -> None:
        """Forget the previous frame: the next one starts a chain."""
        self._prev = None

    def __call__(self, index: int, L: np.ndarray) -> np.ndarray:
        """a/b (2, H, W) of frame ``index`` whose lightness is ``L`` (H, W) in [0, 100]."""
        key = self.keys.get(index)
        if key is not None or self._prev is None:
            ab = (key or self.auto)(L)
            self.valid_shares.append(1.0)
        else:
            ab = self._carried(index, L)
        self._prev = (L, ab)
        return ab

    def _carried(self, index: int, L: np.ndarray) -> np.ndarray:
        L_prev, ab_prev = self._prev  # type: ignore[misc]
        motion = self.motion(L_prev, L)
        if motion.cut:
            self.cuts.append(index)
            self.valid_shares.append(1.0)
            return self.auto(L)
        self.valid_shares.append(motion.valid_share)
        carried = warp(ab_prev, motion.flow)
        if self.carry != "hint" and motion.valid_share >= 1.0 - self.small_holes:
            return fill_holes(carried, motion.valid).astype(np.float32, copy=False)
        if self.known is not None:
            out = self.known(L, carried, motion.valid.astype(np.float32))
            if self.carry == "guided-direct":
                out = np.where(motion.valid, carried, out)
            return out.astype(np.float32, copy=False)
        automatic = None if motion.valid.all() else self.auto(L)
        guide = carried if automatic is None else np.where(motion.valid, carried, automatic)
        out = hinted(L, guide, self.hint_factor, self.nets, self.device)
        if self.carry == "direct":
            out = np.where(motion.valid, carried, out)
        return out.astype(np.float32, copy=False)


# ----------------------------------------------------------- keyframe points, a reference


def key_colours(keyframes: dict[int, list[Any]] | None, reference: np.ndarray | None,
                colour: str, nets: weights.NetworkSet, device: torch.device
                ) -> tuple[dict[int, ColourFn], ColourFn | None]:
    """The chain's keyframe colours (points per frame index, with the reference if any) and
    its automatic colour (with a reference photo, every shot's first frame is guided by it),
    both through :func:`lumacodec.guided.guided_colour`."""
    from ..guided import guided_colour

    auto: ColourFn | None = None
    if reference is not None:
        def auto(L: np.ndarray) -> np.ndarray:
            return guided_colour(L, reference=reference, colour=colour, networks=nets,
                                 device=device)

    keys: dict[int, ColourFn] = {}
    for index, points in (keyframes or {}).items():
        def key(L: np.ndarray, points: list[Any] = points) -> np.ndarray:
            return guided_colour(L, points=points, reference=reference, colour=colour,
                                 networks=nets, device=device)
        keys[int(index)] = key
    return keys, auto
