"""Colorization: a/b at full resolution from L and an optional, sparse chroma hint.

::

    L, hint a/b (bicubic), density ─→ [L, L − lowpass_f(L), a_h, b_h, density] (5 ch, H×W)
        → pixel unshuffle ×u (5u² ch, H/u) → U-Net (3 levels) → conv → pixel shuffle ×u
        → Δa/Δb (H×W) ──(+)── hint a/b  →  a/b

One network serves every hint density and none: the density channel is ``4 / f`` for a hint
at 1/f of each side and 0 when the stream has no hint (then the hint planes are zero and the
output is colour from L alone).  ``L − lowpass_f(L)`` is the part of L the hint cannot see,
which is what chroma-from-luma uses to sharpen colour edges.  The U-Net works at 1/u of the
resolution after a lossless space-to-depth step, so it sees every full-resolution pixel at
1/u² of the cost: u = 2 for the first colorizers, u = 4 for the fast one (session 11: 4.8
GMAC at 768×512 against 10.7, and twice the context).  L is in [0, 1] (L / 100); a/b are in
units of 1/128.  The residual is multiplied by ``out_gain``: with a zero-initialised last
conv, a gain of 10 lets Adam move the output ten times faster than the tiny a/b corrections
would otherwise allow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..resample import upsample_tensor

NO_HINT_LOWPASS = 16  # low-pass factor used for the L-detail channel when there is no hint


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.ReLU(inplace=True),
    )


def density_of(factor: int) -> float:
    """The density channel's value for a hint at 1/``factor`` of each side (0 = no hint)."""
    return 4.0 / factor if factor else 0.0


def lowpass(L: torch.Tensor, factor: int) -> torch.Tensor:
    """Area-down then bicubic-up by ``factor``: what L looks like at the hint's resolution."""
    h, w = L.shape[-2:]
    ph, pw = (-h) % factor, (-w) % factor
    padded = F.pad(L, (0, pw, 0, ph), mode="replicate") if ph or pw else L
    return upsample_tensor(F.avg_pool2d(padded, factor), factor, (h, w))


class Colorizer(nn.Module):
    """Predicts a/b (N,2,H,W) from L (N,1,H,W), bicubic hint a/b (N,2,H,W) and hint factors."""

    def __init__(
        self,
        widths: tuple[int, int, int] | list[int] = (32, 64, 96),
        out_gain: float = 1.0,
        hint_factors: tuple[int, ...] | list[int] = (4, 8, 16, 32),
        unshuffle: int = 2,
    ) -> None:
        super().__init__()
        c1, c2, c3 = widths
        u = self.unshuffle = int(unshuffle)
        #: H and W must be multiples of this (the decoder pads): the deepest level's grid.
        self.multiple = 4 * u
        #: Input pixels of context an output pixel reads on each side (each level's convs
        #: at its resolution, and the bilinear steps up): about 27 u.
        self.receptive_radius = 27 * u
        self.out_gain = float(out_gain)
        #: The hint densities (1/f) it was trained on; the decoder keeps denser hints as they
        #: are rather than run the network outside what it learned.
        self.hint_factors = tuple(int(f) for f in hint_factors)
        self.config = {"widths": list(widths), "out_gain": self.out_gain,
                       "hint_factors": list(self.hint_factors)}
        if u != 2:  # the first colorizers' configs have no "unshuffle": 2
            self.config["unshuffle"] = u
        self.enc1 = _block(5 * u * u, c1)
        self.enc2 = _block(c1, c2, stride=2)
        self.enc3 = _block(c2, c3, stride=2)
        self.dec2 = _block(c3 + c2, c2)
        self.dec1 = _block(c2 + c1, c1)
        self.out = nn.Conv2d(c1, 2 * u * u, 3, padding=1)

    def forward(self, L: torch.Tensor, hint_ab: torch.Tensor, factors: list[int]) -> torch.Tensor:
        """``factors``: the hint factor f of each image of the batch, 0 where it has no hint."""
        detail = torch.cat(
            [
                L[i : i + 1] - lowpass(L[i : i + 1], f or NO_HINT_LOWPASS)
                for i, f in enumerate(factors)
            ]
        )
        density = torch.tensor([density_of(f) for f in factors], dtype=L.dtype, device=L.device)
        dmap = density.view(-1, 1, 1, 1).expand_as(L)
        u = self.unshuffle
        x = F.pixel_unshuffle(torch.cat([L - 0.5, detail, hint_ab, dmap], dim=1), u)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.dec2(torch.cat([F.interpolate(e3, size=e2.shape[-2:], mode="bilinear"), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[-2:], mode="bilinear"), e1], 1))
        return hint_ab + self.out_gain * F.pixel_shuffle(self.out(d1), u)
