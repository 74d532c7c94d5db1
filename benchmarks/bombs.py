"""Time and memory to refuse each decompression bomb of tests/fuzz/bombs.py.

    python benchmarks/bombs.py --out benchmarks/results/bombs.md

For each bomb: the stream's size, the median time of ``--repeat`` refusals by
``lumacodec.decode`` (after one warm-up, networks loaded), the peak of Python-visible
allocations during one refusal (``tracemalloc``: numpy and bytes included) and the growth of
the process's peak RSS over all of them, and the message.  Target (issue #14): each refused
in < 10 ms with < 10 MB allocated.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz.bombs import BOMBS  # noqa: E402

import lumacodec  # noqa: E402


def refuse(data: bytes) -> str:
    try:
        lumacodec.decode(data, device="cpu")
    except lumacodec.LumacodecError as exc:
        return str(exc)
    raise AssertionError("a bomb was decoded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bombs.md"))
    args = parser.parse_args()
    lumacodec.weights.bundled()
    rows = []
    for name, build in BOMBS.items():
        data = build()
        message = refuse(data)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            refuse(data)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        refuse(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        rows.append((name, len(data), statistics.median(times) * 1000, max(times) * 1000,
                     peak / 1e6, rss_growth / 1024, message))
        print(f"{name}: {rows[-1][2]:.2f} ms, {rows[-1][4]:.3f} MB", flush=True)
    lines = [
        "# Decompression bombs: time and memory to refuse",
        "",
        f"`python benchmarks/bombs.py` — {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, median of {args.repeat} refusals by "
        "`lumacodec.decode` (networks loaded). Allocation: peak of `tracemalloc` during one "
        "refusal; RSS: growth of the process's peak resident set over all of them.",
        "",
        "| bomb | stream bytes | median ms | max ms | allocated MB | peak RSS growth MB | "
        "message |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, size, median, worst, peak, rss, message in rows:
        lines.append(f"| {name} | {size:,} | {median:.2f} | {worst:.2f} | {peak:.3f} | "
                     f"{rss:.1f} | {message} |")
    met = all(r[3] < 10 and r[4] < 10 for r in rows)
    lines += ["", f"Target (< 10 ms, < 10 MB each, at the worst of the repeats): "
              f"{'met' if met else 'NOT met'}.", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
