"""The per-image settings search: it never does worse than the ladder by its own objective,
measured here through real classical decodes, and it only picks allowed settings."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import psnr, smooth_rgb
from PIL import Image
from skimage import data

import lumacodec
from lumacodec import QUALITIES, LumacodecError
from lumacodec.presets import (
    SEARCH_BASE,
    SEARCH_BASE_CANDIDATES,
    SEARCH_HINT_CANDIDATES,
    SEARCH_HINTS,
    SEARCH_SLOPES,
)
from lumacodec.search import objective


def _settings(stream: bytes) -> tuple[tuple[int, int], tuple[int, int]]:
    meta = lumacodec.info(stream)
    return (meta["scale"], meta["base_quality"]), (meta["hint_factor"], meta["hint_quality"])


def _objective(stream: bytes, pixels: np.ndarray, quality: int) -> float:
    out = np.asarray(lumacodec.decode(stream, enhance=False))
    return objective(psnr(out, pixels), len(stream), pixels.shape[0] * pixels.shape[1], quality)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.chelsea()[:128, 96:288]


@pytest.mark.parametrize("quality", [1, 3, 5, 8])
def test_search_is_never_worse_than_the_ladder(photo: np.ndarray, quality: int) -> None:
    ladder = lumacodec.encode(photo, quality)
    searched = lumacodec.encode(photo, quality, search=True)
    assert _objective(searched, photo, quality) >= _objective(ladder, photo, quality) - 1e-9
    base, hint = _settings(searched)
    preset = QUALITIES[quality - 1]
    assert base in {*SEARCH_BASE_CANDIDATES[quality - 1], (preset.scale, preset.base_quality)}
    assert hint in {*SEARCH_HINT_CANDIDATES[quality - 1],
                    (preset.hint_factor, preset.hint_quality)}


def test_search_changes_the_settings_where_another_pays(photo: np.ndarray) -> None:
    """On this photo at quality 5 the search leaves the ladder's settings (it would be a no-op
    were the objective or the candidates broken) and decodes better per bit."""
    searched = lumacodec.encode(photo, 5, search=True)
    ladder = lumacodec.encode(photo, 5)
    assert _settings(searched) != _settings(ladder)
    assert _objective(searched, photo, 5) > _objective(ladder, photo, 5) + 0.05


def test_candidates_are_settings_the_networks_serve() -> None:
    assert len(SEARCH_SLOPES) == len(SEARCH_BASE_CANDIDATES) == len(SEARCH_HINT_CANDIDATES) \
        == len(QUALITIES)
    assert list(SEARCH_SLOPES) == sorted(SEARCH_SLOPES, reverse=True)  # fewer bits, dearer
    for bases, hints in zip(SEARCH_BASE_CANDIDATES, SEARCH_HINT_CANDIDATES, strict=True):
        assert all(q in SEARCH_BASE[s] for s, q in bases)
        assert set(hints) <= set(SEARCH_HINTS)
    assert SEARCH_BASE_CANDIDATES[-1] == ((QUALITIES[-1].scale, QUALITIES[-1].base_quality),)


def test_search_of_grey_and_of_luminance_only() -> None:
    grey = smooth_rgb(48, 64)[..., 1]
    stream = lumacodec.encode(grey, 2, search=True)
    assert lumacodec.info(stream)["mode"] == "L" and lumacodec.info(stream)["hint_bytes"] == 0
    assert lumacodec.decode(stream, enhance=False).mode == "L"
    bare = lumacodec.encode(smooth_rgb(48, 64), 4, hints=False, search=True)
    assert lumacodec.info(bare)["hint_bytes"] == 0


def test_top_quality_keeps_its_preset(photo: np.ndarray) -> None:
    assert lumacodec.encode(photo, 10, search=True) == lumacodec.encode(photo, 10)


def test_search_needs_a_ladder_quality(photo: np.ndarray) -> None:
    with pytest.raises(LumacodecError, match="search"):
        lumacodec.encode(photo, QUALITIES[2], search=True)


def test_search_through_the_pillow_plugin(tmp_path, photo: np.ndarray) -> None:
    path = tmp_path / "s.lmc"
    Image.fromarray(photo).save(path, quality=5, search=True)
    assert path.read_bytes() == lumacodec.encode(photo, 5, search=True)


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (1, 40), (37, 53)])
def test_search_of_tiny_and_odd_images(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(size))
    for pixels in (rng.integers(0, 256, (*size, 3), dtype=np.uint8),
                   rng.integers(0, 256, size, dtype=np.uint8)):
        for quality in (1, 4, 9):
            out = lumacodec.decode(lumacodec.encode(pixels, quality, search=True), enhance=False)
            assert out.size == (size[1], size[0])
