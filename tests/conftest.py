"""Shared fixtures of the codec suite: synthetic and natural images, tiny networks, streams."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch
from PIL import Image

import lumacodec
from lumacodec import weights
from lumacodec.networks import (
    Colorizer,
    GuidedColorizer,
    HintRestorer,
    LumaColorizer,
    SuperResolution,
)


def smooth_rgb(height: int, width: int) -> np.ndarray:
    """A smooth, photo-like synthetic RGB image (low-frequency colour plus some texture)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 120 + 70 * np.sin(x / 23 + 0.5) * np.cos(y / 29) + 20 * np.sin((x + 2 * y) / 7)
    g = 110 + 60 * np.cos((x + y) / 31) + 15 * np.sin((2 * x - y) / 6)
    b = 100 + 50 * np.sin((x - y) / 37) + 10 * np.cos(x / 5)
    return np.clip(np.stack([r, g, b], -1), 0, 255).round().astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images of the same shape."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def make_networks(network_id: bytes = bytes(8), seed: int = 0) -> weights.NetworkSet:
    """A small, randomly initialised network set (no trained weights needed)."""
    torch.manual_seed(seed)
    return weights.NetworkSet(
        {
            1: SuperResolution(1, channels=8, blocks=1).eval(),
            2: SuperResolution(2, channels=8, blocks=1).eval(),
            4: SuperResolution(4, channels=8, blocks=1).eval(),
        },
        Colorizer(widths=(8, 8, 8), hint_factors=(8, 16, 32)).eval(),  # as the bundled one
        network_id,
        {2: SuperResolution(2, channels=8, blocks=1).eval()},
        HintRestorer(channels=8, blocks=1, hint_factors=(8, 16, 32)).eval(),  # as the bundled
        LumaColorizer(widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8), bin_step=20.0).eval(),
        restorers={"sr_x1_fast": SuperResolution(1, channels=8, blocks=1, unshuffle=4).eval()},
        guided_colorizer=GuidedColorizer(widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8),
                                         bin_step=20.0).eval(),
    )


@pytest.fixture(name="psnr")
def psnr_fixture() -> Callable[[np.ndarray, np.ndarray], float]:
    return psnr


@pytest.fixture
def network_factory() -> Callable[..., weights.NetworkSet]:
    """``network_factory(network_id=..., seed=...)`` builds a fresh tiny network set."""
    return make_networks


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if Ray (the ``ray`` extra) were not installed: ``import ray`` fails, and
    lumacodec.ray_engine is imported afresh."""
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.delitem(sys.modules, "lumacodec.ray_engine", raising=False)
    monkeypatch.delattr(lumacodec, "ray_engine", raising=False)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def tiny_networks() -> weights.NetworkSet:
    """Random networks whose id is zeros (what streams carry when no weights are bundled)."""
    return make_networks(bytes(8))


@pytest.fixture(scope="session")
def smooth_image() -> np.ndarray:
    """64x96 smooth synthetic RGB image."""
    return smooth_rgb(64, 96)


@pytest.fixture(scope="session")
def natural_image() -> np.ndarray:
    """skimage's astronaut, downscaled to 128x128 RGB."""
    skdata = pytest.importorskip("skimage.data")
    im = Image.fromarray(skdata.astronaut()).resize((128, 128), Image.Resampling.LANCZOS)
    return np.asarray(im)


@pytest.fixture(scope="session")
def small_stream() -> bytes:
    """An 8x8 random RGB image at quality 3: header, AV1 base and hint sections."""
    img = np.random.default_rng(7).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    data = lumacodec.encode(img, 3)
    info = lumacodec.info(data)
    assert info["hint_bytes"] > 0 and info["base_bytes"] > 0
    return data


@pytest.fixture
def time_limit() -> Callable[[float], contextlib.AbstractContextManager[None]]:
    """``with time_limit(s): ...`` fails the test (instead of hanging) after ``s`` seconds."""
    if sys.platform == "win32" or not hasattr(signal, "setitimer"):
        return lambda seconds: contextlib.nullcontext()

    @contextlib.contextmanager
    def limit(seconds: float) -> Iterator[None]:
        def on_alarm(signum: int, frame: object) -> None:
            raise TimeoutError(f"took longer than {seconds} s (hang?)")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    return limit
