"""Colour from lightness alone: a distribution over quantised a/b, seeing the whole image.

::

    L at the working resolution (N,1,H,W)
      → encoder, stride 2 five times: 1/2 … 1/32 ──→ global average → MLP → g (image context)
      → decoder 1/32 → 1/16 (+ skip, + g broadcast: global fusion) → 1/8 (+ skip) → 1/4 (+ skip)
      → 1×1 conv → logits over Q a/b bins at 1/4 of the working resolution

The network runs at a fixed *working resolution* (:mod:`lumacodec.luma_colour` chooses it and
brings its a/b up to full resolution guided by L), so its cost does not grow with the image;
the encoder reaches 1/32 and its global average feeds every position (the global-fusion idea
of Iizuka et al. 2016), so it can see what the picture is of before it picks colours.

One head predicts a distribution over colours (Zhang et al. 2016): a/b is quantised on a
square grid of ``bin_step``, trained by cross-entropy against the bilinear soft assignment of
the true a/b to its four surrounding bins, without rebalancing, so the distribution stays
calibrated.  A second head (two channels, starting near zero, i.e. grey) regresses a/b directly
under the CIEDE2000 loss, which the mean of the distribution does not minimise (CIEDE2000 is
closer to an L1 than an L2 error: the mean of a distribution that hesitates between a colour
and grey is a muted colour that is worse than grey).  :meth:`LumaColorizer.decode_ab` gives

* ``faithful``: the regression head: the colour closest to the truth by CIEDE2000;
* ``vivid``: the distribution reweighted by the inverse of the training data's colour prior
  (the class rebalancing of Zhang et al., applied to the output instead of the loss; the
  prior is stored in the weights file) and sharpened by a temperature (the annealed mean), so
  rare, saturated colours win where the network hesitates between them and grey.

Optionally (``curve_knots``; the bundled weights have none) the global features also give a
per-image colour curve, a/b at evenly spaced lightness knots, added to the regression head
through each output cell's L: tried in session 10 (training/README.md), no gain measured.

L is in [0, 1] (L / 100); a/b are in Lab units.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: How a colour mode turns the network's output into a/b: ``("regression", k)`` is the
#: regression head's a/b with its chroma multiplied by k; ``("distribution", alpha, T)`` the
#: bin distribution reweighted by prior^-alpha and annealed by T.
Decoding = tuple[str, float] | tuple[str, float, float]
#: The modes offered (constants set by benchmarks/tune_luma_colour.py on held-out photos).
COLOUR_MODES: dict[str, Decoding] = {
    "faithful": ("regression", 1.0),
    "vivid": ("regression", 2.0),
}
#: a/b units of the regression head's output.
AB_SCALE = 100.0


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def ab_grid(bin_step: float, ab_max: float) -> torch.Tensor:
    """Bin centres (Q, 2) of a square a/b grid covering [-ab_max, ab_max] in steps of
    ``bin_step``; bin ``i * n + j`` has a = centre ``i``, b = centre ``j``."""
    n = round(2 * ab_max / bin_step)
    c = -ab_max + bin_step * (torch.arange(n, dtype=torch.float32) + 0.5)
    return torch.stack(torch.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2)


class LumaColorizer(nn.Module):
    """(N, Q + 2, H/4, W/4) from L (N, 1, H, W) in [0, 1]: logits over the Q a/b bins, then
    the regressed a/b / :data:`AB_SCALE`."""

    MULTIPLE = 32  # H and W must be multiples of this (the caller pads)
    OUTPUT_STRIDE = 4

    def __init__(
        self,
        widths: tuple[int, ...] | list[int] = (32, 64, 128, 192, 256),
        decoder_widths: tuple[int, ...] | list[int] = (192, 128, 64),
        bin_step: float = 10.0,
        ab_max: float = 110.0,
        curve_knots: int = 0,
    ) -> None:
        super().__init__()
        w1, w2, w3, w4, w5 = widths
        d4, d3, d2 = decoder_widths
        self.bin_step = float(bin_step)
        self.ab_max = float(ab_max)
        self.config = {"widths": list(widths), "decoder_widths": list(decoder_widths),
                       "bin_step": self.bin_step, "ab_max": self.ab_max}
        if curve_knots:
            self.config["curve_knots"] = curve_knots
        self.register_buffer("centres", ab_grid(bin_step, ab_max))
        q = self.centres.shape[0]
        #: log of the training data's a/b prior per bin (for ``vivid``); uniform until set.
        self.register_buffer("log_prior", torch.full((q,), -float(torch.log(torch.tensor(q)))))
        self.enc1 = nn.Sequential(_conv(1, w1, 2), _conv(w1, w1))
        self.enc2 = nn.Sequential(_conv(w1, w2, 2), _conv(w2, w2))
        self.enc3 = nn.Sequential(_conv(w2, w3, 2), _conv(w3, w3))
        self.enc4 = nn.Sequential(_conv(w3, w4, 2), _conv(w4, w4), _conv(w4, w4, dilation=2))
        self.enc5 = nn.Sequential(_conv(w4, w5, 2), _conv(w5, w5))
        self.glob = nn.Sequential(nn.Linear(w5, w5), nn.ReLU(inplace=True), nn.Linear(w5, w5),
                                  nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(nn.Conv2d(w5 + w4 + w5, d4, 1, bias=False),
                                  nn.BatchNorm2d(d4), nn.ReLU(inplace=True), _conv(d4, d4))
        self.dec3 = nn.Sequential(_conv(d4 + w3, d3), _conv(d3, d3))
        self.dec2 = nn.Sequential(_conv(d3 + w2, d2), _conv(d2, d2))
        self.head = nn.Conv2d(d2, q + 2, 1)
        #: The image's colour as a function of lightness: a/b at ``curve_knots`` evenly
        #: spaced L, from the global features alone (zero at the start: adds nothing).
        self.curve = nn.Linear(w5, 2 * curve_knots) if curve_knots else None
        if self.curve is not None:
            nn.init.zeros_(self.curve.weight)
            nn.init.zeros_(self.curve.bias)
        with torch.no_grad():  # near grey, not at it: CIEDE2000 has no gradient at zero chroma
            self.head.weight[q:].mul_(0.01)
            self.head.bias[q:].zero_()

    @staticmethod
    def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)

    def trunk(self, x: torch.Tensor, context: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """The head's output and the global features g for the first layer's input ``x``;
        ``context`` (N, C), if given, is joined to the pooled features before the global MLP
        (the guided network's reference condition)."""
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        e4 = self.enc4(e3)
        e5 = self.enc5(e4)
        pooled = e5.mean(dim=(2, 3))
        if context is not None:
            pooled = torch.cat([pooled, context.to(pooled.dtype)], 1)
        g = self.glob(pooled)
        d4 = self.fuse(torch.cat([self._up(e5, e4), e4,
                                  g[:, :, None, None].expand(-1, -1, *e4.shape[-2:])], 1))
        d3 = self.dec3(torch.cat([self._up(d4, e3), e3], 1))
        d2 = self.dec2(torch.cat([self._up(d3, e2), e2], 1))
        return self.head(d2), g

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        out, g = self.trunk(L - 0.5)
        if self.curve is None:
            return out
        curve = self.curve(g).view(L.shape[0], -1, 2)  # (N, K, 2)
        ab = torch.einsum("nkhw,nkc->nchw", self.curve_basis(L), curve.to(out.dtype))
        return torch.cat([out[:, :-2], out[:, -2:] + ab], 1)

    def curve_basis(self, L: torch.Tensor) -> torch.Tensor:
        """Piecewise-linear (hat) weights (N, K, h, w) of the curve's knots at the output
        grid's L (``L`` averaged over each output cell)."""
        k = self.curve.out_features // 2  # type: ignore[union-attr]
        L_low = F.avg_pool2d(L, self.OUTPUT_STRIDE)
        knots = torch.linspace(0.0, 1.0, k, device=L.device, dtype=L_low.dtype)
        return (1.0 - (L_low - knots.view(1, -1, 1, 1)).abs() * (k - 1)).clamp_min(0.0)

    def soft_targets(self, ab: torch.Tensor) -> torch.Tensor:
        """The bilinear assignment (N, Q, h, w) of a/b (N, 2, h, w) to the four surrounding
        bins: its mean is exactly ``ab`` (clipped to the grid)."""
        n = round(2 * self.ab_max / self.bin_step)
        pos = (ab.float() + self.ab_max) / self.bin_step - 0.5  # fractional bin index
        pos = pos.clamp(0.0, n - 1 - 1e-4)
        lo = pos.floor()
        frac = pos - lo
        lo = lo.long()
        out = ab.new_zeros((ab.shape[0], n * n, *ab.shape[-2:]), dtype=torch.float32)
        for da in (0, 1):
            wa = frac[:, 0] if da else 1.0 - frac[:, 0]
            for db in (0, 1):
                wb = frac[:, 1] if db else 1.0 - frac[:, 1]
                idx = (lo[:, 0] + da) * n + (lo[:, 1] + db)
                out.scatter_add_(1, idx[:, None], (wa * wb)[:, None])
        return out

    def decode_ab(self, out: torch.Tensor, colour: str = "faithful") -> torch.Tensor:
        """a/b (N, 2, h, w) from the network's output in the ``colour`` mode of
        :data:`COLOUR_MODES`."""
        return self.decode(out, COLOUR_MODES[colour])

    def decode(self, out: torch.Tensor, how: Decoding) -> torch.Tensor:
        """a/b (N, 2, h, w) from the network's output, decoded as ``how`` says (see
        :data:`COLOUR_MODES`)."""
        if how[0] == "regression":
            return out[:, -2:].float() * (AB_SCALE * how[1])
        return self.annealed_mean(out[:, :-2], how[1], how[2])  # type: ignore[misc]

    def annealed_mean(self, logits: torch.Tensor, alpha: float, temperature: float
                      ) -> torch.Tensor:
        """The mean a/b (N, 2, h, w) of the bin distribution reweighted by prior^-alpha and
        sharpened by 1 / temperature."""
        z = logits.float() - alpha * self.log_prior.view(1, -1, 1, 1)
        p = torch.softmax(z / temperature, dim=1)
        return torch.einsum("nqhw,qc->nchw", p, self.centres)
