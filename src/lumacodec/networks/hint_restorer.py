"""Hint restoration: the AV1-coded a/b hint cleaned at its own resolution, guided by L.

::

    coded hint a/b (2, h, w), L area-averaged to the hint grid (1, h, w), density, quality
        → [a, b, L − 0.5, 4/f, q/100] (5 ch) → conv → n × ResBlock → conv (+) → conv
        → Δa/Δb ──(+)── coded hint a/b  →  restored hint a/b (2, h, w)

At the densities where the colorizer runs, most of the colour error is the hint's coding, not
its resolution: on the validation photos, bicubic upsampling of the 1/16 hint coded at quality
50 gives a mean CIEDE2000 of 4.52, of the same hint uncoded 2.98 (training/README.md).  The
colorizer sees a few hint samples around each pixel, while AV1's errors span whole transform
blocks of the tiny hint image; this network works on the hint grid itself, where a few 3×3
convolutions cover many hint samples (one hint pixel is f × f image pixels), for a negligible
cost (1/f² of the image's pixels).  L on the same grid tells it where colour edges can be.
One network serves every hint factor and hint quality it was trained on (density and quality
are input channels, as the SR network's quality); the decoder leaves other hints as they are.
a/b are in units of 1/128, L in [0, 1] (L / 100).

``unshuffle`` runs the body at 1/u of the hint grid, the 5 input channels folded into 5·u²
(as the fast SR networks fold their plane), for 1/u² of the cost: meant for the dense hints
(1/2, 1/4), whose grids are a quarter of the image's pixels or more.  Tried there (session
13), it learnt far more slowly than a narrower network at the grid's own resolution, which is
what ships (training/README.md).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .colorizer import density_of
from .sr import ResBlock


class HintRestorer(nn.Module):
    """Restores a coded hint (N,2,h,w) from itself, L on its grid (N,1,h,w), factor and quality."""

    def __init__(
        self,
        channels: int = 32,
        blocks: int = 4,
        hint_factors: tuple[int, ...] | list[int] = (8, 16, 32),
        hint_qualities: tuple[int, ...] | list[int] = (40, 50, 60, 70, 80),
        unshuffle: int = 1,
    ) -> None:
        super().__init__()
        #: The hint factors and qualities it was trained on; the decoder runs it only there.
        self.hint_factors = tuple(int(f) for f in hint_factors)
        self.hint_qualities = tuple(int(q) for q in hint_qualities)
        self.config = {"channels": channels, "blocks": blocks,
                       "hint_factors": list(self.hint_factors),
                       "hint_qualities": list(self.hint_qualities)}
        if unshuffle not in (1, 2, 4):
            raise ValueError("unshuffle must be 1, 2 or 4")
        if unshuffle > 1:  # absent from older weights files, whose networks have none
            self.config["unshuffle"] = unshuffle
        #: The body runs at 1/unshuffle of the hint grid's resolution.
        self.unshuffle = u = unshuffle
        self.head = nn.Conv2d(5 * u * u, channels, 3, padding=1)
        self.body = nn.Sequential(
            *[ResBlock(channels, res_scale=0.2) for _ in range(blocks)],
            nn.Conv2d(channels, channels, 3, padding=1),
        )
        self.tail = nn.Conv2d(channels, 2 * u * u, 3, padding=1)

    def handles(self, factor: int, quality: int) -> bool:
        """Whether a hint of this factor and quality is one the network was trained on."""
        return factor in self.hint_factors and (
            min(self.hint_qualities) <= quality <= max(self.hint_qualities))

    def forward(
        self, hint_ab: torch.Tensor, L_small: torch.Tensor, factors: list[int],
        qualities: list[int],
    ) -> torch.Tensor:
        """``factors`` / ``qualities``: the hint factor and hint quality of each image."""
        n = hint_ab.shape[0]
        cond = torch.tensor([[density_of(f), q / 100.0] for f, q in zip(factors, qualities,
                                                                         strict=True)],
                            dtype=hint_ab.dtype, device=hint_ab.device)
        h, w = hint_ab.shape[-2:]
        cond = cond.view(n, 2, 1, 1).expand(n, 2, h, w)
        x = torch.cat([hint_ab, L_small - 0.5, cond], dim=1)
        u = self.unshuffle
        if u > 1:
            x = F.pixel_unshuffle(F.pad(x, (0, (-w) % u, 0, (-h) % u), mode="replicate"), u)
        x = self.head(x)
        delta = self.tail(x + self.body(x))
        if u > 1:
            delta = F.pixel_shuffle(delta, u)[..., :h, :w]
        return hint_ab + delta
