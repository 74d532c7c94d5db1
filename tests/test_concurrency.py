"""The API from many threads: the same bytes and pixels as sequential calls, networks loaded
once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lumacodec
from lumacodec import weights

THREADS = 8


@pytest.fixture(scope="module")
def photos(smooth_image: np.ndarray) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    out = []
    for i in range(THREADS):
        crop = smooth_image[i : i + 40, 2 * i : 2 * i + 56]
        out.append(np.clip(crop + rng.normal(0, 6, crop.shape), 0, 255).astype(np.uint8))
    return out


def test_encode_and_decode_from_eight_threads(photos: list[np.ndarray],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [(photo, 1 + 3 * (i % 4), i % 3 != 0) for i, photo in enumerate(photos)]
    streams = [lumacodec.encode(p, q, hints=h) for p, q, h in jobs]
    pixels = [np.asarray(lumacodec.decode(s, device="cpu")) for s in streams]

    loads = []
    real = weights.load_network_set
    monkeypatch.setattr(weights, "load_network_set",
                        lambda *a, **k: loads.append(1) or real(*a, **k))
    weights._load_bundled.cache_clear()

    def round_trip(job: tuple[np.ndarray, int, bool]) -> tuple[bytes, np.ndarray]:
        data = lumacodec.encode(job[0], job[1], hints=job[2])
        return data, np.asarray(lumacodec.decode(data, device="cpu"))

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(round_trip, jobs * 2))
    assert len(loads) == 1
    for i, (data, decoded) in enumerate(results):
        assert data == streams[i % THREADS]
        assert np.array_equal(decoded, pixels[i % THREADS])
