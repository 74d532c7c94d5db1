"""Decode time of CompressAI's bmshj2018-hyperprior on a 768×512 image: the learned codec that
is lumacodec's rate–distortion peer, timed on the same machine and threads.

Runs in CompressAI's own virtual environment (it pins its own numpy), not lumacodec's:

    python -m venv --system-site-packages /tmp/cai && /tmp/cai/bin/pip install compressai==1.2.8
    /tmp/cai/bin/python benchmarks/compressai_decode_time.py --threads 2

No weights can be downloaded here, so the network is randomly initialised (its entropy
models' tables built with ``update(force=True)``): the decoder runs the same layers on the
same shapes as the trained one, which is what its time depends on; the bitstream it decodes
is of that random network (prints one JSON line: milliseconds per decode, median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from compressai.zoo import bmshj2018_hyperprior


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quality", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = bmshj2018_hyperprior(quality=args.quality, pretrained=False).eval()
    net.update(force=True)
    x = torch.rand(1, 3, 512, 768)
    with torch.inference_mode():
        coded = net.compress(x)
        net.decompress(coded["strings"], coded["shape"])  # warm-up
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            net.decompress(coded["strings"], coded["shape"])
            times.append(time.perf_counter() - t)
    print(json.dumps({"model": "bmshj2018-hyperprior", "quality": args.quality,
                      "weights": "random", "threads": args.threads,
                      "decode_ms": round(1000 * statistics.median(times), 1)}))


if __name__ == "__main__":
    main()
