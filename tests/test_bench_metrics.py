"""Metrics of the benchmark on pairs whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lumacodec.bench import metrics
from lumacodec.color import rgb_to_lab


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[100:292, 150:342])  # 192x192, MS-SSIM-sized


def test_psnr_of_a_known_mse() -> None:
    ref = np.full((16, 16, 3), 100, np.uint8)
    test = ref.copy()
    test[::2] += 5  # half the samples off by 5: MSE = 12.5
    assert metrics.psnr_rgb(ref, test) == pytest.approx(10 * math.log10(255**2 / 12.5), abs=1e-9)
    assert metrics.psnr(ref, ref - 1, peak=100.0) == pytest.approx(40.0)


def test_identical_images(photo: np.ndarray) -> None:
    m = metrics.compute_metrics(photo, photo.copy())
    assert m["psnr-rgb"] == metrics.PSNR_CAP_DB
    assert m["psnr-l"] == metrics.PSNR_CAP_DB
    assert m["ciede2000"] == 0.0
    assert m["ssim-rgb"] == pytest.approx(1.0, abs=1e-5)
    assert m["ms-ssim-rgb"] == pytest.approx(1.0, abs=1e-5)


def test_degradation_lowers_every_score(photo: np.ndarray) -> None:
    noisy = np.clip(photo + np.random.default_rng(1).normal(0, 8, photo.shape), 0, 255)
    m = metrics.compute_metrics(photo, noisy.astype(np.uint8))
    assert 25 < m["psnr-rgb"] < 35
    assert 0.5 < m["ssim-rgb"] < 0.99
    assert 0.8 < m["ms-ssim-rgb"] < 0.999
    assert m["ciede2000"] > 0.5


def test_psnr_l_uses_the_project_lab() -> None:
    ref = np.full((8, 8, 3), 120, np.uint8)
    test = np.full((8, 8, 3), 130, np.uint8)
    dl = float(rgb_to_lab(test)[0, 0, 0] - rgb_to_lab(ref)[0, 0, 0])
    expected = 10 * math.log10(100**2 / dl**2)
    assert metrics.psnr_l(rgb_to_lab(ref), rgb_to_lab(test)) == pytest.approx(expected, abs=1e-3)


def test_ciede2000_on_sharma_pair() -> None:
    # Sharma, Wu & Dalal (2005), test pair 1: expected ΔE00 = 2.0425
    a = np.array([[[50.0, 2.6772, -79.7751]]])
    b = np.array([[[50.0, 0.0, -82.7485]]])
    assert metrics.ciede2000(a, b) == pytest.approx(2.0425, abs=1e-4)


def test_ms_ssim_needs_161_pixels() -> None:
    small = np.zeros((160, 300, 3), np.uint8)
    assert math.isnan(metrics.ms_ssim_rgb(small, small))
    assert metrics.MS_SSIM_MIN_SIDE == 161


def test_ms_ssim_db() -> None:
    assert metrics.ms_ssim_db(0.99) == pytest.approx(20.0)
