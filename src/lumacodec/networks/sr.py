"""Super-resolution (and, at ×1, restoration) of the decoded L plane: an EDSR-style network.

::

    L_low ─┬─ [L_low, q] → conv → n × ResBlock → conv (+) → conv → shuffle ×s ─(+)→ L
           └──────────────────────── bicubic ×s ─────────────────────────────┘

As EDSR (Lim et al., CVPRW 2017): no batch norm, residual blocks with a residual scale, a
sub-pixel (pixel shuffle) upsampler (Shi et al., CVPR 2016) and a global bicubic skip, so the
network only learns what bicubic misses.  It restores a *coded* plane, not a clean one, so it
is told the base layer's quality (a constant input channel, ``quality / 100``) and trained on
planes coded at the qualities the presets use.  At scale 1 (the full-resolution rungs of the
ladder) the same network, with an identity skip and no upsampler, removes coding artefacts.
Input and output are L / 100 (in [0, 1]).  A ×2/×4 network may be trained on planes the ×1
network restored first (``restored_input``): the decoder then runs the two as a cascade, twice
the depth for no extra weights.

``unshuffle`` = u > 1 runs the body at 1/u of the input's resolution: the input is folded into
u² channels (pixel unshuffle, lossless) and the tail unfolds (s·u)² channels back, so the
body costs 1/u² as many multiply–accumulates for the same width and sees u times the
context.  The ×1 network of the full-resolution rungs (``sr_x1_fast``) uses u = 4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..resample import upsample_tensor


class ResBlock(nn.Module):
    def __init__(self, channels: int, res_scale: float = 1.0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.conv2(torch.relu(self.conv1(x)))


class SuperResolution(nn.Module):
    """×1 (restoration), ×2 or ×4 super-resolution of L conditioned on the base layer's quality."""

    def __init__(
        self,
        scale: int = 2,
        channels: int = 32,
        blocks: int = 6,
        restored_input: bool = False,
        unshuffle: int = 1,
        max_quality: int | None = None,
        min_quality: int | None = None,
        input_restorer: str = "sr_x1",
    ) -> None:
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError("scale must be 1, 2 or 4")
        if restored_input and scale == 1:
            raise ValueError("restored_input needs scale 2 or 4")
        if unshuffle not in (1, 2, 4):
            raise ValueError("unshuffle must be 1, 2 or 4")
        if input_restorer not in ("sr_x1", "fast"):
            raise ValueError('input_restorer must be "sr_x1" or "fast"')
        self.config = {"scale": scale, "channels": channels, "blocks": blocks,
                       "restored_input": restored_input}
        if unshuffle > 1:  # absent from older weights files, whose networks have none
            self.config["unshuffle"] = unshuffle
        if max_quality is not None:
            self.config["max_quality"] = max_quality
        if min_quality is not None:
            self.config["min_quality"] = min_quality
        if input_restorer != "sr_x1":  # absent from older weights files: their cascades' is
            self.config["input_restorer"] = input_restorer
        #: The base qualities the decoder runs this network at: above ``min_quality`` and up
        #: to ``max_quality`` (None: no bound); outside them, where it was measured to help
        #: less than another ×1 network of the set, that one runs.
        self.max_quality = max_quality
        self.min_quality = min_quality
        #: The body runs at 1/unshuffle of the input's resolution.
        self.unshuffle = unshuffle
        self.scale = scale
        #: Trained on coded planes that the ×1 network restored first (see
        #: :func:`lumacodec.decoder.super_resolve`); the forward pass itself is the same.
        self.restored_input = restored_input
        #: Which ×1 network restored those planes: ``"sr_x1"`` or ``"fast"`` (the set's fast
        #: restorer of the base quality, ``sr_x1`` where none serves it).
        self.input_restorer = input_restorer
        u = unshuffle
        self.head = nn.Conv2d(u * u + 1, channels, 3, padding=1)
        self.body = nn.Sequential(
            *[ResBlock(channels, res_scale=0.2) for _ in range(blocks)],
            nn.Conv2d(channels, channels, 3, padding=1),
        )
        self.tail = nn.Sequential(
            nn.Conv2d(channels, (scale * u) ** 2, 3, padding=1), nn.PixelShuffle(scale * u)
        )

    def handles(self, base_quality: int) -> bool:
        """Whether the decoder runs this network on a base layer of ``base_quality``."""
        return ((self.max_quality is None or base_quality <= self.max_quality)
                and (self.min_quality is None or base_quality > self.min_quality))

    def forward(self, L_low: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
        """``L_low`` (N,1,h,w) in [0, 1]; ``quality`` (N,) in [0, 1]; returns (N,1,sh,sw)."""
        u = self.unshuffle
        h, w = L_low.shape[-2:]
        x = L_low - 0.5
        if u > 1:
            x = F.pixel_unshuffle(F.pad(x, (0, (-w) % u, 0, (-h) % u), mode="replicate"), u)
        qmap = quality.view(-1, 1, 1, 1).to(x.dtype).expand(x.shape[0], 1, *x.shape[-2:])
        x = self.head(torch.cat([x, qmap], dim=1))
        x = x + self.body(x)
        s = self.scale
        residual = self.tail(x)[..., : h * s, : w * s]
        return upsample_tensor(L_low, s) + residual
