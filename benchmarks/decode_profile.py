"""Where a decode's time goes: each stage of ``lumacodec.decode`` timed on its own, per quality.

    python benchmarks/decode_profile.py --image ../shared/datasets/sun_hays80/<photo>.jpg \
        --threads 2 --out benchmarks/results/decode-profile.md

The photo is made 768×512 as in ``decode_time.py``.  Stages, in the decoder's order (the
functions it calls, on the same inputs): parse + CRCs, base-plane decode (AV1/lossless), SR
(the ×1 restoration network at scale 1; at scale 2/4 the ×1 network then the ×2/×4 one, each
timed), hint decode, hint restorer, colorizer (with the hint), colour from L (streams without
a hint), Lab → sRGB.  Medians of ``--repeat`` after one warm-up.  The networks' cost per
megapixel and their multiply–accumulates are listed too, to say what a faster decoder must
cut.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decode_time import kodak_sized  # noqa: E402

import lumacodec  # noqa: E402
from lumacodec import decoder, weights  # noqa: E402
from lumacodec.baselayer import LOSSLESS_QUALITY, decode_base  # noqa: E402
from lumacodec.color import planes_to_rgb_u8  # noqa: E402
from lumacodec.container import parse  # noqa: E402
from lumacodec.hints import decode_hint, upsample_hint  # noqa: E402


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def conv_macs(net: torch.nn.Module, shape: tuple[int, ...], *args: object) -> int:
    """Multiply–accumulates of the convolutions of one forward pass of ``net`` on ``shape``."""
    total = 0

    def hook(module: torch.nn.Conv2d, _: object, out: torch.Tensor) -> None:
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        total += out.numel() * k * module.in_channels // module.groups

    handles = [m.register_forward_hook(hook) for m in net.modules()
               if isinstance(m, torch.nn.Conv2d)]
    with torch.inference_mode():
        net(torch.zeros(shape), *args)
    for h in handles:
        h.remove()
    return total


def profile(data: bytes, nets: weights.NetworkSet, dev: torch.device,
            repeat: int) -> dict[str, float]:
    stream = parse(data)
    h = stream.header
    size = (h.height, h.width)
    t: dict[str, float] = {"parse": median_time(lambda: parse(data), repeat)}
    t["base plane"] = median_time(
        lambda: decode_base(stream.base, h.height, h.width, h.scale), repeat)
    L_low = decode_base(stream.base, h.height, h.width, h.scale)
    q = torch.tensor([1.0 if h.base_quality == LOSSLESS_QUALITY else h.base_quality / 100])
    x = decoder._to_device(L_low / 100.0, dev)
    net, first = decoder.sr_networks(nets, h.scale, h.base_quality)
    with decoder.inference(dev):
        if first is not None:
            t["SR: x1 restoration"] = median_time(lambda: first(x, q), repeat)
            x = first(x, q)
        if net is not None:  # none for lossless full-resolution L
            t[f"SR: x{h.scale} network" if h.scale > 1 else "SR: x1 restoration"] = (
                median_time(lambda: net(x, q), repeat))
    L = np.clip(decoder.super_resolve(L_low, h.scale, h.base_quality, size, nets, dev), 0, 100)
    if stream.hint is not None:
        t["hint plane"] = median_time(
            lambda: decode_hint(stream.hint, h.height, h.width, h.hint_factor), repeat)
        small = decode_hint(stream.hint, h.height, h.width, h.hint_factor)
        t["hint restorer"] = median_time(lambda: decoder.restore_hint(
            small, L, h.hint_factor, h.hint_quality, nets, dev), repeat)
        hint_ab = upsample_hint(decoder.restore_hint(
            small, L, h.hint_factor, h.hint_quality, nets, dev), h.hint_factor, size)
        t["colorizer"] = median_time(
            lambda: decoder.colorize(L, hint_ab, h.hint_factor, nets, dev), repeat)
        ab = decoder.colorize(L, hint_ab, h.hint_factor, nets, dev)
    else:
        t["colour from L"] = median_time(lambda: decoder.colour_from_L(L, nets, dev), repeat)
        ab = decoder.colour_from_L(L, nets, dev)
    t["Lab → sRGB"] = median_time(lambda: planes_to_rgb_u8(L, ab), repeat)
    t["whole decode"] = median_time(lambda: lumacodec.decode(data, device=dev), repeat)
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--qualities", default="1,3,5,8,10")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device("cpu")
    nets = weights.bundled().to(dev)
    rgb = kodak_sized(args.image)
    rows = {}
    for quality in (int(q) for q in args.qualities.split(",")):
        for hints in (True, False):
            data = lumacodec.encode(rgb, quality, hints=hints)
            name = f"q{quality}" + ("" if hints else " no hint")
            rows[name] = profile(data, nets, dev, args.repeat)
            print(name, {k: round(v * 1000) for k, v in rows[name].items()}, flush=True)
    stages = list(dict.fromkeys(k for r in rows.values() for k in r))
    lines = [
        f"# Decode profile, 768×512, CPU, {args.threads} threads (ms, median of {args.repeat})",
        "",
        f"`python benchmarks/decode_profile.py --image {args.image} --threads {args.threads}` "
        f"— {platform.processor() or platform.machine()}, torch {torch.__version__}; bfloat16 "
        f"convolutions: {'yes' if decoder.cpu_has_native_bf16() else 'no (float32)'}.",
        "",
        "| stream | " + " | ".join(stages) + " |",
        "|---|" + "---:|" * len(stages),
    ]
    for name, r in rows.items():
        cells = [f"{r[s] * 1000:.0f}" if s in r else "" for s in stages]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Network cost at 768×512 (convolution multiply–accumulates of one pass; "
              "SR ×2/×4 on the 1/2 and 1/4 planes):", "",
              "| network | parameters | GMAC |", "|---|---:|---:|"]
    q = torch.tensor([0.1])
    fast = tuple((name, net, (1, 1, 512, 768), (q,)) for name, net in nets.restorers.items())
    for name, net, shape, extra in (
        *fast,
        ("sr_x1", nets.sr[1], (1, 1, 512, 768), (q,)),
        ("sr_x2", nets.sr[2], (1, 1, 256, 384), (q,)),
        ("sr_x4", nets.sr[4], (1, 1, 128, 192), (q,)),
        ("colorizer", nets.colorizer, (1, 1, 512, 768), (torch.zeros(1, 2, 512, 768), [8])),
    ):
        params = sum(p.numel() for p in net.parameters())
        lines.append(f"| {name} | {params:,} | {conv_macs(net, shape, *extra) / 1e9:.1f} |")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
