"""Guided colour: the colour-from-L network, told a few true colours by a person.

::

    [L, a_p, b_p, mask] at the working resolution (N,4,H,W)   (user points, Zhang et al. 2017)
      → the colour-from-L encoder (1/2 … 1/32) → global average ─┐
    reference condition r (N, R): a/b by lightness of a photo ───┴→ MLP → g (image context)
      → the colour-from-L decoder (global fusion, skips) → a/b distribution + regressed a/b at 1/4

It is :class:`~lumacodec.networks.luma_colorizer.LumaColorizer` with two more inputs:

* **points**: each a small square of the working grid carrying the colour a person chose
  (``a_p``, ``b_p`` in units of :data:`AB_SCALE`) and a mask of ones where it lies, zeros
  elsewhere, as three extra input channels of the first convolution (the user-guided
  colorization of Zhang et al. 2017, "Real-Time User-Guided Image Colorization with Learned
  Deep Priors");
* **reference**: a global colour condition taken from a reference photo,
  :func:`reference_condition` (its mean a/b in soft lightness bins and the share of its pixels
  in each, plus a flag), joined to the pooled features before the global MLP, so it reaches
  every position through the global fusion.

Both enter through weights that start at zero (:meth:`GuidedColorizer.from_luma`), so the
network starts as exactly the automatic colour-from-L network, and with no point and no
reference it stays that network's task.
"""

from __future__ import annotations

import torch
from torch import nn

from .luma_colorizer import AB_SCALE, LumaColorizer

#: Lightness bins of the reference condition.
REFERENCE_BINS = 10


def reference_size(bins: int = REFERENCE_BINS) -> int:
    """Length of the reference condition: share, mean a and mean b per bin, and a flag."""
    return 3 * bins + 1


def reference_condition(L: torch.Tensor, ab: torch.Tensor, bins: int = REFERENCE_BINS
                        ) -> torch.Tensor:
    """The condition (R,) of a reference photo with L (H, W) in [0, 100] and a/b (2, H, W).

    Soft (hat-weighted) lightness bins with knots evenly spaced over [0, 100]: for each, the
    share of the photo's pixels in it and their mean a/b / :data:`AB_SCALE` (zero where
    empty), then 1 (a reference is given; the all-zero vector means none)."""
    knots = torch.linspace(0.0, 100.0, bins, dtype=torch.float32, device=L.device)
    w = (1.0 - (L.reshape(1, -1).float() - knots[:, None]).abs() * ((bins - 1) / 100.0))
    w = w.clamp_min(0.0)  # (bins, P)
    mass = w.sum(1)
    mean = (w @ ab.reshape(2, -1).float().T) / mass.clamp_min(1e-6)[:, None]  # (bins, 2)
    share = mass / mass.sum().clamp_min(1e-6)
    return torch.cat([share, mean[:, 0] / AB_SCALE, mean[:, 1] / AB_SCALE,
                      torch.ones(1, device=L.device)])


class GuidedColorizer(LumaColorizer):
    """(N, Q + 2, H/4, W/4) from L (N, 1, H, W) in [0, 1], points (N, 3, H, W) and a
    reference condition (N, R), as :class:`LumaColorizer`'s output."""

    POINT_CHANNELS = 3

    def __init__(
        self,
        widths: tuple[int, ...] | list[int] = (32, 64, 128, 192, 256),
        decoder_widths: tuple[int, ...] | list[int] = (192, 128, 64),
        bin_step: float = 10.0,
        ab_max: float = 110.0,
        reference_bins: int = REFERENCE_BINS,
    ) -> None:
        super().__init__(widths, decoder_widths, bin_step, ab_max)
        self.reference_bins = int(reference_bins)
        self.config["reference_bins"] = self.reference_bins
        w1, w5 = widths[0], widths[-1]
        self.enc1[0][0] = nn.Conv2d(1 + self.POINT_CHANNELS, w1, 3, stride=2, padding=1,
                                    bias=False)
        self.glob[0] = nn.Linear(w5 + reference_size(self.reference_bins), w5)

    @classmethod
    def from_luma(cls, luma: LumaColorizer) -> GuidedColorizer:
        """A guided network that computes exactly what ``luma`` does (the new inputs' weights
        at zero), to be fine-tuned from there."""
        net = cls(luma.config["widths"], luma.config["decoder_widths"], luma.bin_step,
                  luma.ab_max)
        state = luma.state_dict()
        own = net.state_dict()
        for key in ("enc1.0.0.weight", "glob.0.weight"):  # new input columns: zero
            pad = list(own[key].shape)
            pad[1] -= state[key].shape[1]
            state[key] = torch.cat([state[key], state[key].new_zeros(pad)], 1)
        net.load_state_dict(state)
        return net

    def forward(self, L: torch.Tensor, points: torch.Tensor | None = None,  # type: ignore[override]
                reference: torch.Tensor | None = None) -> torch.Tensor:
        n, _, h, w = L.shape
        if points is None:
            points = L.new_zeros((n, self.POINT_CHANNELS, h, w))
        if reference is None:
            reference = L.new_zeros((n, reference_size(self.reference_bins)))
        return self.trunk(torch.cat([L - 0.5, points.to(L.dtype)], 1), reference)[0]
