"""Datasets of the benchmark: folders, scikit-image samples, and the verified Kodak fetch.

The fetch is tested against a local HTTP server on 127.0.0.1, never the internet.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lumacodec.bench import datasets
from lumacodec.bench.datasets import fetch_kodak, kodak_manifest, load_dataset, pixel_sha256
from lumacodec.errors import LumacodecError


def _png(path: Path, seed: int, size: tuple[int, int] = (24, 16)) -> np.ndarray:
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return rgb


def test_folder_dataset_is_sorted_filtered_and_limited(tmp_path: Path) -> None:
    _png(tmp_path / "b.png", 1)
    _png(tmp_path / "a.PNG", 2)
    Image.new("L", (20, 10), 77).save(tmp_path / "c.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    _png(tmp_path / "sub" / "d.png", 3)
    ds = load_dataset(str(tmp_path))
    assert [s.name for s in ds.images] == ["a.PNG", "b.png", "c.jpg"]
    grey = ds.images[2].load()
    assert grey.shape == (10, 20, 3) and grey.dtype == np.uint8 and (grey == 77).all()
    assert [s.name for s in load_dataset(str(tmp_path), limit=2).images] == ["a.PNG", "b.png"]


def test_bad_folders_raise(tmp_path: Path) -> None:
    with pytest.raises(LumacodecError, match="not found"):
        load_dataset(str(tmp_path / "missing"))
    with pytest.raises(LumacodecError, match="no images"):
        load_dataset(str(tmp_path))


def test_samples_are_colour_photos() -> None:
    ds = load_dataset(None)
    assert ds.spec == "samples"
    assert {s.name for s in ds.images} >= {"astronaut", "chelsea", "coffee", "rocket"}
    rgb = ds.images[0].load()
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8


def test_shipped_kodak_manifest() -> None:
    entries = kodak_manifest()
    assert [e.name for e in entries] == [f"kodim{i:02d}.png" for i in range(1, 25)]
    assert all(len(e.sha256) == 64 and {e.width, e.height} == {512, 768} for e in entries)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """An HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields (base URL, folder, log)."""
    www = tmp_path / "www"
    www.mkdir()
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            requests.append(self.path)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", www, requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_verifies_and_caches(server: tuple[str, Path, list[str]], tmp_path: Path) -> None:
    base, www, requests = server
    sums = {name: pixel_sha256(_png(www / name, i)) for i, name in enumerate(["k1.png", "k2.png"])}
    cache = tmp_path / "cache"
    paths = fetch_kodak(cache, base_url=base, checksums=sums)
    assert [p.name for p in paths] == ["k1.png", "k2.png"]
    assert all(p.parent == cache for p in paths) and len(requests) == 2
    assert fetch_kodak(cache, base_url=base, checksums=sums) == paths
    assert len(requests) == 2  # second call served from the cache
    paths[0].write_bytes(b"damaged")
    fetch_kodak(cache, base_url=base, checksums=sums)
    assert len(requests) == 3  # a damaged cache entry is fetched again


def test_fetch_refuses_a_wrong_checksum(
    server: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    base, www, _ = server
    _png(www / "k1.png", 1)
    cache = tmp_path / "cache"
    with pytest.raises(LumacodecError, match="does not match"):
        fetch_kodak(cache, base_url=base, checksums={"k1.png": "0" * 64})
    assert not (cache / "k1.png").exists()
    with pytest.raises(LumacodecError, match="cannot download"):
        fetch_kodak(cache, base_url=base, checksums={"missing.png": "0" * 64})


def test_kodak_dataset_uses_env_cache_and_url(
    server: tuple[str, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, www, _ = server
    entries = [
        datasets.KodakEntry("kodim01.png", 24, 16, pixel_sha256(_png(www / "kodim01.png", 5)))
    ]
    monkeypatch.setattr(datasets, "kodak_manifest", lambda: entries)
    monkeypatch.setenv("LUMACODEC_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("LUMACODEC_KODAK_URL", base)
    ds = load_dataset("kodak")
    assert ds.spec == "kodak" and [s.name for s in ds.images] == ["kodim01"]
    assert Path(ds.images[0].ref).parent == tmp_path / "c" / "kodak"
