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


def ciede2000(lab1: torch.Tensor, lab2: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """CIEDE2000 colour difference per pixel of (N, 3, H, W) Lab tensors, differentiable.

    The formula of Sharma, Wu and Dalal (2005), branch for branch as
    :func:`skimage.color.deltaE_ciede2000` computes it (a test keeps the two equal);
    scikit-image's is NumPy only, this one lets a colorizer be trained on what it is measured
    by.  Square roots and hue angles at zero chroma take the safe branch of a ``where`` so
    that their gradients stay finite; ``eps`` only guards the last square root.
    """
    L1, a1, b1 = lab1.unbind(1)
    L2, a2, b2 = lab2.unbind(1)

    def norm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(torch.stack([a, b]), dim=0)

    def safe_sqrt(x: torch.Tensor) -> torch.Tensor:
        positive = x > 0
        return torch.where(positive, torch.sqrt(torch.where(positive, x, 1.0)), 0.0)

    def hue(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        grey = (a == 0) & (b == 0)
        angle = torch.atan2(b, torch.where(grey, 1.0, a))
        return torch.remainder(torch.where(grey, 0.0, angle), two_pi)

    two_pi = 2.0 * torch.pi
    c7 = (0.5 * (norm(a1, b1) + norm(a2, b2))).pow(7)
    scale = 1.0 + 0.5 * (1.0 - safe_sqrt(c7 / (c7 + 25.0**7)))
    c1, c2 = norm(a1 * scale, b1), norm(a2 * scale, b2)
    h1, h2 = hue(a1 * scale, b1), hue(a2 * scale, b2)
    l_bar = 0.5 * (L1 + L2)
    l50 = (l_bar - 50.0) ** 2
    l_term = (L2 - L1) / (1.0 + 0.015 * l50 / torch.sqrt(20.0 + l50))
    c_bar = 0.5 * (c1 + c2)
    c_term = (c2 - c1) / (1.0 + 0.045 * c_bar)
    h_diff, h_sum, cc = h2 - h1, h1 + h2, c1 * c2
    d_h = torch.where(h_diff > torch.pi, h_diff - two_pi,
                      torch.where(h_diff < -torch.pi, h_diff + two_pi, h_diff))
    d_h = torch.where(cc == 0, 0.0, d_h)
    wrap = (cc != 0) & (h_diff.abs() > torch.pi)
    h_bar = torch.where(wrap & (h_sum < two_pi), h_sum + two_pi,
                        torch.where(wrap, h_sum - two_pi, h_sum))
    h_bar = 0.5 * torch.where(cc == 0, 2.0 * h_bar, h_bar)
    deg = torch.pi / 180.0
    t = (
        1.0
        - 0.17 * torch.cos(h_bar - 30.0 * deg)
        + 0.24 * torch.cos(2.0 * h_bar)
        + 0.32 * torch.cos(3.0 * h_bar + 6.0 * deg)
        - 0.20 * torch.cos(4.0 * h_bar - 63.0 * deg)
    )
    h_term = 2.0 * safe_sqrt(cc) * torch.sin(0.5 * d_h) / (1.0 + 0.015 * c_bar * t)
    cb7 = c_bar.pow(7)
    r_c = 2.0 * safe_sqrt(cb7 / (cb7 + 25.0**7))
    d_theta = 30.0 * deg * torch.exp(-(((h_bar / deg - 275.0) / 25.0) ** 2))
    r_term = -torch.sin(2.0 * d_theta) * r_c * c_term * h_term
    de2 = l_term * l_term + c_term * c_term + h_term * h_term + r_term
    return torch.sqrt(de2.clamp_min(0.0) + eps)


def mean_ciede2000(L: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray) -> float:
    """Mean CIEDE2000 between Lab images that share ``L`` (H, W) and differ in a/b (2, H, W)."""
    ref = np.stack([L, ab_true[0], ab_true[1]], axis=-1).astype(np.float64)
    test = np.stack([L, ab_pred[0], ab_pred[1]], axis=-1).astype(np.float64)
    return float(deltaE_ciede2000(ref, test).mean())
