"""Probe: the film's fast ×2 SR network in int8 (PyTorch FX static quantization, x86
backend) against fp32, for the speed target of old film (issue #29).

    python benchmarks/sr_int8_probe.py --threads 2

The convolutions (head, body, tail) are quantized, per-channel weights and per-tensor
activations calibrated on 8 frames of 01_dog and 02_cups (development clips); the pixel
unshuffle, the quality plane and the bicubic base stay in float.  PSNR of L on 8 other
frames, each reduced ×2 and brought back ×2 (the frame itself is the truth); time of the
convolutions on one 854×480 frame (what the film pipeline feeds it).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lumacodec import weights  # noqa: E402
from lumacodec.baselayer import LOSSLESS_QUALITY  # noqa: E402
from lumacodec.color import rgb_to_lab  # noqa: E402
from lumacodec.decoder import sr_networks  # noqa: E402
from lumacodec.resample import upsample_tensor  # noqa: E402

CLIPS = ("01_dog.mp4", "02_cups.mp4")


class Convolutions(nn.Module):
    """The network's head, body and tail: what quantization applies to."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.head, self.body, self.tail = net.head, net.body, net.tail

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(x)
        return self.tail(x + self.body(x))


def frames_L(path: Path, count: int, step: int = 3) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        out = []
        for i, f in enumerate(c.decode(video=0)):
            if i % step == 0:
                out.append(rgb_to_lab(f.to_ndarray(format="rgb24"))[..., 0])
            if len(out) >= count:
                break
    return out


def network_input(L_low: np.ndarray, unshuffle: int) -> tuple[torch.Tensor, torch.Tensor]:
    t = torch.from_numpy(L_low / 100.0).float()[None, None]
    h, w = t.shape[-2:]
    x = t - 0.5
    if unshuffle > 1:
        x = F.pixel_unshuffle(F.pad(x, (0, (-w) % unshuffle, 0, (-h) % unshuffle),
                                    mode="replicate"), unshuffle)
    return t, torch.cat([x, torch.ones(1, 1, *x.shape[-2:])], 1)  # quality 1: lossless


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(100.0**2 / np.mean((a - b) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", default="../shared/datasets/video_clips/sam2_gallery")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.quantized.engine = "x86"
    net, _ = sr_networks(weights.load_network_set(), 2, LOSSLESS_QUALITY)
    u = net.unshuffle
    fp32 = Convolutions(net).eval()
    frames = [L for clip in CLIPS for L in frames_L(Path(args.clips) / clip, 8)]
    low = [cv2.resize(L, (L.shape[1] // 2, L.shape[0] // 2), interpolation=cv2.INTER_AREA)
           for L in frames]
    with torch.no_grad():
        int8 = prepare_fx(copy.deepcopy(fp32), get_default_qconfig_mapping("x86"),
                          (network_input(low[0], u)[1],))
        for x in low[::2]:
            int8(network_input(x, u)[1])
        int8 = convert_fx(int8)
        scores = []
        for L, x in zip(frames[1::2], low[1::2], strict=True):
            t, inp = network_input(x, u)
            h, w = t.shape[-2] * 2, t.shape[-1] * 2
            base = upsample_tensor(t, 2)
            outs = [(base + m(inp)[..., :h, :w]).clamp(0, 1)[0, 0].numpy() * 100
                    for m in (fp32, int8)]
            truth = L[:h, :w]
            scores.append((psnr(outs[0], truth), psnr(outs[1], truth),
                           psnr(base.clamp(0, 1)[0, 0].numpy() * 100, truth),
                           psnr(outs[1], outs[0])))
        f32, i8, bic, diff = np.mean(scores, 0)
        print(f"PSNR of L (dB): fp32 {f32:.2f}, int8 {i8:.2f}, bicubic {bic:.2f}; "
              f"int8 against fp32 {diff:.2f}")
        x = network_input(np.random.default_rng(0).uniform(0, 100, (480, 854)), u)[1]
        for name, m in (("fp32", fp32), ("int8", int8)) * 2:
            m(x)
            t0 = time.perf_counter()
            for _ in range(5):
                m(x)
            print(f"{name}: {(time.perf_counter() - t0) / 5 * 1000:.0f} ms a 854×480 frame "
                  f"on {args.threads} threads")


if __name__ == "__main__":
    main()
