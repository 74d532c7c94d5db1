"""Motion between frames: optical flow, backward warping, occlusion masks, scene cuts.

::

    grey t−1, grey t ─→ DIS flow t→t−1 (backward) and t−1→t (forward)
        ─→ warp(a/b of t−1) along the backward flow ─→ a/b carried to frame t
        ─→ valid = in frame ∧ (forward–backward consistent ∨ |L_t − warp(L_t−1)| small)
                   ∧ |L_t − warp(L_t−1)| not huge
        ─→ share of valid pixels < CUT_VALID_SHARE, or the histograms differ: a scene cut

Flow is OpenCV's DIS (Kroeger et al., ECCV 2016, "Fast Optical Flow using Dense Inverse
Search"), from ``opencv-python-headless``: a well-kept library (wheels for every platform,
no GUI dependencies), CPU-only and fast (its ``medium`` preset takes about 0.1 s a direction
on 854×480 on one core, where a learned flow network (RAFT and the like) would need a GPU to
keep up), and dense with sub-pixel accuracy, which is what
warping a colour field needs.  It runs on at most :data:`FLOW_PIXELS` pixels (larger frames
are reduced first and the flow scaled back), so its cost stays small beside the networks'.

Occlusions follow Sundaram et al. (ECCV 2010): a pixel whose backward flow is not undone by
the forward flow where it lands was hidden in the earlier frame (or the flow is wrong there);
either way its carried colour is not to be trusted, and the caller colours it afresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: DIS preset: ``medium`` (PRESET_MEDIUM).  Flow errors are what makes carried colour drift
#: (each frame's small misplacement adds up along the chain), and ``medium``'s flow is the
#: better: on the development clips (101 frames, frame 0's true colour as a 1/32 hint),
#: mean CIEDE2000 02_cups 3.59 → 3.40 (frame 100 / frame 1: 1.98 → 1.82), 01_dog 3.11 →
#: 3.05, for about 0.12 s more a frame on one thread at 854×480 (0.10 → 0.23 s for both
#: directions and the checks).
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
#: Flow runs on frames of at most this many pixels (854×480).
FLOW_PIXELS = 854 * 480
#: Forward–backward consistency (Sundaram et al. 2010): |w_b + w_f(x + w_b)|² must stay below
#: ``ALPHA (|w_b|² + |w_f|²) + BETA`` (pixels², at the flow's resolution).
CONSISTENCY_ALPHA = 0.01
CONSISTENCY_BETA = 0.5
#: A carried pixel whose lightness differs from the frame's by more than this (L units, of
#: 100), where the flow is not consistent either, is not the same surface: colour it afresh.
LIGHTNESS_TOLERANCE = 12.0
#: A carried pixel whose lightness differs from the frame's by more than this is never the
#: same surface, however consistent the flow (a flat region's flow is zero both ways, and
#: consistent, when something new appears on it without moving).
LIGHTNESS_LIMIT = 30.0
#: Strict validity: a pixel is carried only when its flow is consistent *and* its lightness
#: matches (else either suffices).  Off: more holes measured worse colour (02_cups, 101
#: frames, frame 0's true colour as a 1/32 hint: CIEDE2000 3.90 against 3.40).
STRICT = False
#: A scene cut: fewer than this share of a frame's pixels carried validly from the frame
#: before, or lightness histograms further apart than :data:`CUT_HISTOGRAM_DISTANCE`.
CUT_VALID_SHARE = 0.35
CUT_HISTOGRAM_DISTANCE = 0.5


@dataclass
class Motion:
    """What frame t knows about frame t−1: the backward flow (H, W, 2) at full resolution
    (frame t's pixel x came from x + flow(x) in frame t−1), the mask (H, W) of pixels whose
    carried content is trusted, and whether t starts a new shot."""

    flow: np.ndarray
    valid: np.ndarray
    cut: bool

    @property
    def valid_share(self) -> float:
        return float(self.valid.mean())


def to_u8(L: np.ndarray) -> np.ndarray:
    """L (H, W) in [0, 100] as the 8-bit image the flow runs on (L × 2.55)."""
    return np.clip(L * 2.55 + 0.5, 0, 255).astype(np.uint8)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward-warp ``image`` (H, W) or (C, H, W) along ``flow`` (H, W, 2): out(x) =
    image(x + flow(x)), bilinear, edges replicated."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = grid_x + flow[..., 0]
    map_y = grid_y + flow[..., 1]
    planes = image if image.ndim == 3 else image[None]
    out = np.stack([cv2.remap(np.ascontiguousarray(p, dtype=np.float32), map_x, map_y,
                              cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                    for p in planes])
    return out if image.ndim == 3 else out[0]


def histogram_distance(a_u8: np.ndarray, b_u8: np.ndarray, bins: int = 32) -> float:
    """Half the L1 distance of two images' normalised grey histograms: 0 (same) to 1."""
    ha = np.bincount(a_u8.ravel() >> (8 - int(math.log2(bins))), minlength=bins)
    hb = np.bincount(b_u8.ravel() >> (8 - int(math.log2(bins))), minlength=bins)
    return 0.5 * float(np.abs(ha / ha.sum() - hb / hb.sum()).sum())


class MotionEstimator:
    """Flow, validity and scene cuts between consecutive grey frames.

    Holds one DIS instance (not thread-safe: one estimator per chain of frames)."""

    def __init__(self, preset: int = DIS_PRESET, max_pixels: int = FLOW_PIXELS,
                 strict: bool = STRICT) -> None:
        self._dis = cv2.DISOpticalFlow_create(preset)
        self.max_pixels = max_pixels
        self.strict = strict

    def _flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._dis.calc(a, b, None)

    def __call__(self, L_prev: np.ndarray, L: np.ndarray) -> Motion:
        """Motion from frame t−1 (``L_prev``) to frame t (``L``), both (H, W) in [0, 100]."""
        h, w = L.shape
        prev_u8, cur_u8 = to_u8(L_prev), to_u8(L)
        s = min(1.0, math.sqrt(self.max_pixels / (h * w)))
        if s < 1.0:
            size = (max(8, round(w * s)), max(8, round(h * s)))
            prev_small = cv2.resize(prev_u8, size, interpolation=cv2.INTER_AREA)
            cur_small = cv2.resize(cur_u8, size, interpolation=cv2.INTER_AREA)
        else:
            prev_small, cur_small = prev_u8, cur_u8
        backward = self._flow(cur_small, prev_small)  # t → t−1
        forward = self._flow(prev_small, cur_small)  # t−1 → t
        # Sundaram et al.: the forward flow where the backward flow lands should undo it.
        forward_there = warp(np.moveaxis(forward, -1, 0), backward)
        forward_there = np.moveaxis(forward_there, 0, -1)
        gap = np.sum((backward + forward_there) ** 2, axis=-1)
        bound = CONSISTENCY_ALPHA * (np.sum(backward**2, -1) + np.sum(forward_there**2, -1))
        consistent = gap <= bound + CONSISTENCY_BETA
        if s < 1.0:
            sh, sw = backward.shape[:2]
            backward = cv2.resize(backward, (w, h), interpolation=cv2.INTER_LINEAR)
            backward[..., 0] *= w / sw
            backward[..., 1] *= h / sh
            consistent = cv2.resize(consistent.astype(np.uint8), (w, h),
                                    interpolation=cv2.INTER_NEAREST).astype(bool)
        grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32),
                                     np.arange(h, dtype=np.float32))
        inside = ((grid_x + backward[..., 0] >= -0.5) & (grid_x + backward[..., 0] <= w - 0.5)
                  & (grid_y + backward[..., 1] >= -0.5) & (grid_y + backward[..., 1] <= h - 0.5))
        change = np.abs(warp(L_prev, backward) - L)
        same = change <= LIGHTNESS_TOLERANCE
        # Either test alone fails too often where nothing is wrong: the flow of a flat,
        # textureless region is not consistent but its lightness matches; shading changes
        # the lightness of a well-tracked surface.  A pixel is lost when both fail, or when
        # its lightness changed beyond anything shading does.
        trusted = (consistent & same) if self.strict else (consistent | same)
        valid = inside & trusted & (change <= LIGHTNESS_LIMIT)
        cut = (float(valid.mean()) < CUT_VALID_SHARE
               or histogram_distance(prev_small, cur_small) > CUT_HISTOGRAM_DISTANCE)
        return Motion(backward, valid, cut)
