"""Every way a small stream can demand a large allocation or a long decode is refused before
any decoder runs (tests/fuzz/bombs.py; times and memory in benchmarks/results/bombs.md)."""

from __future__ import annotations

import tracemalloc

import pytest
import zstandard
from fuzz import bombs

import lumacodec
from lumacodec import avif


@pytest.mark.parametrize("name", sorted(bombs.BOMBS))
def test_bombs_are_refused_before_decoding(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream's legitimate 16x16 base plane may be decoded; nothing larger ever is."""
    data = bombs.BOMBS[name]()
    decoders = []
    real_open = avif.Image.open

    def avif_open(*args, **kwargs):
        im = real_open(*args, **kwargs)
        if im.width * im.height > 16 * 16:
            decoders.append(f"libavif {im.size}")
        return im

    monkeypatch.setattr(avif.Image, "open", avif_open)
    monkeypatch.setattr(zstandard, "ZstdDecompressor", lambda *a, **k: decoders.append("zstd"))
    tracemalloc.start()
    try:
        with pytest.raises(lumacodec.LumacodecError):
            lumacodec.decode(data, device="cpu")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20
    assert decoders == []


def test_bomb_messages_say_what_was_declared() -> None:
    expected = {
        "AV1 base plane (codec 1) of 4096x4096": "sequence header says 4096x4096",
        "AVIF base plane (codec 2) of 4096x4096": "declares 4096x4096, the stream says 16x16",
        "AVIF base plane whose ispe says 16x16": "sequence header is not 16x16",
        "zstandard frame of 16 MiB in a 256-byte plane": "declares 16777216 bytes",
        "section length of 16 GiB": "holds 17179869183 bytes",
        "a million ancillary sections": "more than 64 sections",
    }
    for name, message in expected.items():
        with pytest.raises(lumacodec.LumacodecError, match=message):
            lumacodec.decode(bombs.BOMBS[name](), enhance=False)
