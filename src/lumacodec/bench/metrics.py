"""Quality metrics of one reconstructed image against its original.

Conventions follow CompressAI's benchmark, so our curves overlay its published ones: every
metric is computed per image over 8-bit sRGB, and a curve point is the mean over images of the
per-image values (not a metric of pooled pixels).

========== ==================================================================================
key        definition
========== ==================================================================================
psnr-rgb   10·log10(255² / MSE), MSE over all pixels and the three channels (float64)
psnr-l     10·log10(100² / MSE) on CIELAB L (D65), peak 100 — the plane lumacodec codes
ssim-rgb   SSIM (Wang et al. 2004), 11×11 Gaussian σ = 1.5, on RGB in [0, 1], full resolution
ms-ssim-rgb MS-SSIM (Wang et al. 2003), 5 scales, weights of the paper, via ``piq``
ciede2000  mean CIEDE2000 colour difference per pixel (``skimage.color.deltaE_ciede2000``)
========== ==================================================================================

Lab always comes from :func:`lumacodec.color.rgb_to_lab`, the project's one conversion.
PSNR of identical images is capped at :data:`PSNR_CAP_DB` so that means stay finite.
MS-SSIM needs at least :data:`MS_SSIM_MIN_SIDE` pixels on the short side; smaller images get
NaN (left out of the mean, and counted in the summary).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from skimage.color import deltaE_ciede2000

from ..color import rgb_to_lab

#: Bump when a metric's definition changes: cached results of older versions are recomputed.
METRICS_VERSION = 1

#: The PSNR reported for a lossless reconstruction (MSE = 0).
PSNR_CAP_DB = 100.0

#: piq's MS-SSIM needs (kernel_size - 1) * 2 ** (scales - 1) + 1 pixels per side.
MS_SSIM_MIN_SIDE = (11 - 1) * 2 ** (5 - 1) + 1

#: The keys of :func:`compute_metrics`, in report order.
METRIC_KEYS = ("psnr-rgb", "psnr-l", "ssim-rgb", "ms-ssim-rgb", "ciede2000")


@functools.cache
def metrics_fingerprint() -> str:
    """What the metric values depend on besides the pixels: our definitions and the libraries
    that compute them (part of every cache key)."""
    from importlib import metadata

    versions = [metadata.version(d) for d in ("piq", "scikit-image")]
    return f"v{METRICS_VERSION}/piq-{versions[0]}/skimage-{versions[1]}"


def psnr(reference: np.ndarray, test: np.ndarray, peak: float) -> float:
    """Peak signal-to-noise ratio in dB, ``10·log10(peak² / MSE)``, MSE in float64.

    Returns :data:`PSNR_CAP_DB` when the arrays are identical.
    """
    diff = np.asarray(reference, np.float64) - np.asarray(test, np.float64)
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10.0 * math.log10(peak * peak / mse))


def psnr_rgb(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR over 8-bit RGB (peak 255), CompressAI's ``psnr-rgb``."""
    return psnr(reference, test, 255.0)


def psnr_l(lab_reference: np.ndarray, lab_test: np.ndarray) -> float:
    """PSNR of CIELAB lightness L (peak 100) from two Lab images."""
    return psnr(lab_reference[..., 0], lab_test[..., 0], 100.0)


def ciede2000(lab_reference: np.ndarray, lab_test: np.ndarray) -> float:
    """Mean CIEDE2000 difference between two Lab images (0 for identical ones)."""
    return float(np.mean(deltaE_ciede2000(lab_reference, lab_test)))


@contextmanager
def _single_threaded() -> Iterator[None]:
    """Run torch on one thread for the duration (then restore the process's setting).

    The benchmark parallelises across processes (``--jobs``); for the small convolutions of
    SSIM, extra intra-op threads lose more to contention than they gain (5x slower on a busy
    2-core machine). The values do not depend on it.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _to_tensor(rgb: np.ndarray):  # -> torch.Tensor; torch is imported lazily (heavy)
    import torch

    return torch.from_numpy(np.array(rgb, np.float32, copy=True) / 255.0).permute(2, 0, 1)[None]


def ssim_rgb(reference: np.ndarray, test: np.ndarray) -> float:
    """SSIM of two uint8 RGB images (mean over channels), without piq's automatic downscaling."""
    import piq

    with _single_threaded():
        x, y = _to_tensor(reference), _to_tensor(test)
        return float(piq.ssim(x, y, data_range=1.0, downsample=False))


def ms_ssim_rgb(reference: np.ndarray, test: np.ndarray) -> float:
    """MS-SSIM of two uint8 RGB images; NaN when the image is too small for five scales."""
    import piq

    if min(reference.shape[:2]) < MS_SSIM_MIN_SIDE:
        return math.nan
    with _single_threaded():
        x, y = _to_tensor(reference), _to_tensor(test)
        return float(piq.multi_scale_ssim(x, y, data_range=1.0))


def ms_ssim_db(value: float | np.ndarray) -> float | np.ndarray:
    """MS-SSIM on a decibel scale, ``-10·log10(1 - MS-SSIM)``, as R-D plots usually show it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return -10.0 * np.log10(np.maximum(1.0 - np.asarray(value, np.float64), 1e-10))


def compute_metrics(
    reference: np.ndarray,
    test: np.ndarray,
    lab_reference: np.ndarray | None = None,
) -> dict[str, float]:
    """All metrics of :data:`METRIC_KEYS` for one uint8 HxWx3 pair.

    ``lab_reference`` (``rgb_to_lab(reference)``) may be passed when the same original is
    compared with many reconstructions, to convert it once.
    """
    if reference.shape != test.shape:
        raise ValueError(f"shape mismatch: original {reference.shape}, decoded {test.shape}")
    if lab_reference is None:
        lab_reference = rgb_to_lab(reference)
    lab_test = rgb_to_lab(test)
    return {
        "psnr-rgb": psnr_rgb(reference, test),
        "psnr-l": psnr_l(lab_reference, lab_test),
        "ssim-rgb": ssim_rgb(reference, test),
        "ms-ssim-rgb": ms_ssim_rgb(reference, test),
        "ciede2000": ciede2000(lab_reference, lab_test),
    }
