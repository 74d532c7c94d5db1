"""Quality measures shared by training validation and :mod:`training.eval`."""

from __future__ import annotations

import numpy as np
import torch
from skimage.color import deltaE_ciede2000


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of (N, C, H, W) tensors in [0, 1] (L / 100: peak = L 100).

    ``pred`` is clipped to [0, 1] first, as any decoder output is before display.
    """
    mse = (pred.clamp(0.0, 1.0) - target).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / mse.clamp_min(1e-12))


def mean_ciede2000(L: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray) -> float:
    """Mean CIEDE2000 between Lab images that share ``L`` (H, W) and differ in a/b (2, H, W)."""
    ref = np.stack([L, ab_true[0], ab_true[1]], axis=-1).astype(np.float64)
    test = np.stack([L, ab_pred[0], ab_pred[1]], axis=-1).astype(np.float64)
    return float(deltaE_ciede2000(ref, test).mean())
