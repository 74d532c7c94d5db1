"""Rate control: the best stream that fits a size, never over it, close under it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import lumacodec
from lumacodec.ratecontrol import budget_bytes, parse_size


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """skimage's astronaut at 320x240: large enough that 0.05 bpp is 480 bytes."""
    skdata = pytest.importorskip("skimage.data")
    image = Image.fromarray(skdata.astronaut()).resize((320, 240), Image.Resampling.LANCZOS)
    return np.asarray(image)


@pytest.mark.parametrize("target_bpp", [0.05, 0.1, 0.2, 0.5, 1.0, 2.0])
def test_never_over_and_within_five_percent(photo: np.ndarray, target_bpp: float) -> None:
    data = lumacodec.encode(photo, target_bpp=target_bpp)
    bpp = lumacodec.info(data)["bpp"]
    assert bpp <= target_bpp
    assert bpp >= 0.95 * target_bpp
    assert lumacodec.decode(data, enhance=False).size == (320, 240)


def test_target_size_in_bytes_and_monotone(photo: np.ndarray) -> None:
    sizes = []
    for budget in (600, 900, 1400, 2000, 3200, 5000, 8000):
        data = lumacodec.encode(photo, target_size=budget)
        assert len(data) <= budget
        sizes.append(len(data))
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)


def test_more_bytes_give_a_better_picture(photo: np.ndarray, psnr) -> None:
    quality = [psnr(photo, np.asarray(lumacodec.decode(
        lumacodec.encode(photo, target_bpp=bpp), enhance=False))) for bpp in (0.1, 0.4, 1.6)]
    assert quality == sorted(quality)


def test_without_hints_and_for_grey(photo: np.ndarray) -> None:
    data = lumacodec.encode(photo, hints=False, target_size=2000)
    assert 0.95 * 2000 <= len(data) <= 2000 and lumacodec.info(data)["hint_factor"] == 0
    grey = photo[..., 0]
    data = lumacodec.encode(grey, target_size=2000)
    assert 0.95 * 2000 <= len(data) <= 2000 and lumacodec.info(data)["mode"] == "L"


def test_the_tune_reaches_the_planes_of_a_target(photo: np.ndarray) -> None:
    """``tune="ssim"`` codes the planes with its own AV1 tuning under a target too, and
    still fits it."""
    streams = {tune: lumacodec.encode(photo, target_size=3000, tune=tune)
               for tune in ("psnr", "ssim")}
    assert streams["psnr"] != streams["ssim"]
    assert all(0.95 * 3000 <= len(s) <= 3000 for s in streams.values())


def test_a_target_nothing_fits_says_how_small_a_stream_can_be(photo: np.ndarray) -> None:
    with pytest.raises(lumacodec.LumacodecError,
                       match=r"no stream of this image fits in 30 bytes: the smallest is \d+"):
        lumacodec.encode(photo, target_size=30)


def test_huge_targets_reach_lossless(photo: np.ndarray) -> None:
    data = lumacodec.encode(photo, target_bpp=24.0)
    assert lumacodec.info(data)["base_quality"] == "lossless"


@pytest.mark.parametrize("kwargs, message", [
    ({"target_bpp": 0.1, "target_size": 100}, "one of"),
    ({"target_bpp": -1.0}, "positive"),
    ({"target_bpp": float("nan")}, "positive"),
    ({"target_size": 0}, "positive"),
    ({"target_size": 10.5}, "positive"),
    ({"target_bpp": 0.1, "search": True}, "cannot be combined"),
])
def test_bad_targets(photo: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(lumacodec.LumacodecError, match=message):
        lumacodec.encode(photo, **kwargs)


def test_budget_bytes() -> None:
    assert budget_bytes(1000, 0.8, None) == 100
    assert budget_bytes(1000, None, 123) == 123


@pytest.mark.parametrize("text, size", [
    ("20000", 20000), ("20KB", 20000), ("20kB", 20000), ("20k", 20000), ("19.5KiB", 19968),
    ("1.2MB", 1200000), ("1MiB", 1048576), ("512B", 512), (" 7 ", 7),
])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "KB", "-5KB", "20GB", "twenty", "0", "nan", "inf"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(lumacodec.LumacodecError, match="cannot read the size"):
        parse_size(text)
