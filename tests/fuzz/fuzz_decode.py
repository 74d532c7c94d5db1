"""Coverage-guided fuzzing of ``lumacodec.decode`` with atheris (libFuzzer for Python).

Every input must give an image or a :class:`lumacodec.LumacodecError`; anything else (another
exception, a hang past ``-timeout``, memory past ``-rss_limit_mb``) is a crash that libFuzzer
saves as ``crash-*`` / ``timeout-*`` / ``oom-*``.  The mutator is structure-aware
(:func:`streams.mutate`): it re-packs mutated fields and payloads with valid CRCs, so inputs
reach the plane decoders (zstandard, libavif) and the networks.

Each input is decoded classically (every parsing and plane-decoding path); an input that
decodes and whose structure (size class, source mode, scale, hint factor, codecs) has not been
seen yet is decoded again with the networks, so every kind of stream reaches them without
paying a network pass per execution.

Run (docs/spec/reliability.md has the figures of the last long run)::

    pip install atheris hypothesis
    mkdir -p /tmp/lmc-corpus
    python tests/fuzz/fuzz_decode.py /tmp/lmc-corpus tests/fuzz/corpus \\
        -runs=1000000 -timeout=1 -rss_limit_mb=1024 -print_final_stats=1

libFuzzer writes new interesting inputs into the first folder; the committed seeds stay as
they are.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import atheris
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["lumacodec"]):
    import lumacodec
    from lumacodec import container
    from lumacodec.errors import LumacodecError

import streams  # noqa: E402

#: Streams may declare at most this many pixels here: a valid stream of the default limit
#: (89 megapixels) would legitimately take seconds and gigabytes, which is not a finding.
MAX_PIXELS = 1 << 20
#: Streams up to this size also run through the networks (once per new structure).
NETWORK_PIXELS = 1 << 12
_seen: set[tuple] = set()
_slowest = [0.0, b""]
SLOWEST = "lumacodec-slowest-input.lmc"


def _structure(data: bytes) -> tuple | None:
    try:
        stream = container.parse(data, MAX_PIXELS)
    except LumacodecError:
        return None
    h = stream.header
    pixels = h.width * h.height
    if pixels > NETWORK_PIXELS:
        return None
    return (pixels.bit_length(), h.source_mode, h.scale, h.hint_factor, stream.base[:1],
            stream.hint[:1] if stream.hint else None, h.base_quality, h.hint_quality // 10)


def test_one_input(data: bytes) -> None:
    start = time.perf_counter()
    try:
        image = lumacodec.decode(data, enhance=False, max_pixels=MAX_PIXELS)
    except LumacodecError:
        pass
    else:
        header = container.parse_header(data, MAX_PIXELS)[0]
        assert image.size == (header.width, header.height), "decoded size differs from header"
        key = _structure(data)
        if key is not None and key not in _seen:
            _seen.add(key)
            try:
                lumacodec.decode(data, max_pixels=MAX_PIXELS, device="cpu")
            except LumacodecError:
                pass  # e.g. a network id this lumacodec does not have
    elapsed = time.perf_counter() - start
    if elapsed > _slowest[0]:
        _slowest[:] = [elapsed, data]
        if elapsed > 0.05:  # libFuzzer keeps whole seconds only: say it, keep the input
            Path(SLOWEST).write_bytes(data)
            print(f"#lumacodec slowest input so far: {elapsed * 1000:.1f} ms, {len(data)} bytes "
                  f"(saved to {SLOWEST}); structures through the networks: {len(_seen)}",
                  file=sys.stderr)


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    return streams.mutate(data, max_size, random.Random(seed), atheris.Mutate)


def main() -> None:
    torch.set_num_threads(1)  # one core per fuzzer: timings then do not depend on the others
    atheris.Setup(sys.argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
