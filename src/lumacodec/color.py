"""Colour conversion: the one sRGB <-> CIELAB implementation of the project.

Encoder, decoder, training and benchmarks all go through these functions, so a change of
convention here changes every one of them at once.

Conventions
-----------
* RGB is sRGB (IEC 61966-2-1), float32 in [0, 1] or uint8 in [0, 255].
* Lab is CIE 1976 L*a*b* under illuminant D65, 2-degree observer (scikit-image's defaults),
  float32, L in [0, 100], a and b roughly in [-128, 127].
* The 8-bit planes that the bitstream carries map L to ``round(L * 2.55)`` and a/b to
  ``round(a + 128)``, both clipped to [0, 255].

Memory
------
scikit-image's conversions make about ten temporaries the size of their input (float32 or
bool, per channel and for the whole array), 2–3 GB for a 24-megapixel photo.  Every function
here therefore converts a strip of whole rows at a time (:data:`STRIP_PIXELS`) into an output
allocated once: each pixel goes through exactly the same operations as in a whole-image call
(the conversions are per pixel, and a strip keeps whole rows), so the result is the same bit
for bit, in a fraction of the memory and, out of cache, less time.  The strips of a large
enough image are converted on two threads (NumPy releases the GIL), as many as the process
holds (torch's thread count): a quarter less time for a 768×512 decode's Lab → sRGB.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np
from skimage.color import lab2rgb, rgb2lab

L_TO_U8 = 255.0 / 100.0
AB_OFFSET = 128.0
#: Pixels per strip of the colour conversions (whole rows, at least one): temporaries of a
#: few MB, large enough that the per-call overhead of scikit-image stays negligible.
STRIP_PIXELS = 1 << 18
#: Threads of the conversions, and the fewest pixels a strip must have for a second one to
#: pay for itself.
THREADS = 2
MIN_THREADED_STRIP = 1 << 16


def _strips(height: int, width: int, parts: int = 1) -> Iterator[slice]:
    """Consecutive strips of whole rows of about :data:`STRIP_PIXELS` pixels (at least a row),
    and at least ``parts`` of them where the image has as many rows."""
    step = max(1, min(STRIP_PIXELS // max(1, width), -(-height // parts)))
    for y0 in range(0, height, step):
        yield slice(y0, min(height, y0 + step))


def _threads(height: int, width: int) -> int:
    """How many threads convert an image of this size."""
    if height * width < 2 * MIN_THREADED_STRIP:
        return 1
    import torch  # its thread count is the process's (lumacodec.file_jobs.use_threads)

    return max(1, min(THREADS, torch.get_num_threads()))


def _for_strips(height: int, width: int, work: Callable[[slice], None]) -> None:
    """``work(rows)`` for every strip of an image, on :func:`_threads` threads."""
    threads = _threads(height, width)
    if threads == 1:
        for rows in _strips(height, width):
            work(rows)
        return
    from .threads import pool as thread_pool

    with thread_pool(threads) as pool:
        for done in [pool.submit(work, rows) for rows in _strips(height, width, threads)]:
            done.result()


def _rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """The conversion itself, on one strip (or a whole image): see :func:`rgb_to_lab`."""
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float32) / 255.0
    return rgb2lab(rgb.astype(np.float32, copy=False)).astype(np.float32, copy=False)


def _lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """The conversion itself, on one strip (or a whole image): see :func:`lab_to_rgb`."""
    with warnings.catch_warnings():  # out-of-gamut Lab is expected from a lossy decode
        warnings.simplefilter("ignore", UserWarning)
        rgb = lab2rgb(lab.astype(np.float32, copy=False))
    return np.clip(rgb, 0.0, 1.0).astype(np.float32, copy=False)


def _lab_to_rgb_u8(lab: np.ndarray) -> np.ndarray:
    rgb = _lab_to_rgb(lab)
    rgb *= 255.0
    return np.round(rgb, out=rgb).astype(np.uint8)


def _stack_lab(L: np.ndarray, ab: np.ndarray | None) -> np.ndarray:
    """(h, W, 3) float32 Lab of a strip given as planes (``ab`` None: a = b = 0)."""
    lab = np.zeros((*L.shape, 3), np.float32)
    lab[..., 0] = L
    if ab is not None:
        lab[..., 1], lab[..., 2] = ab[0], ab[1]
    return lab


def _by_strips(out: np.ndarray, fn: Callable[[slice], np.ndarray]) -> np.ndarray:
    """Fill ``out`` (H, W, ...) strip by strip: ``out[rows] = fn(rows)``."""

    def work(rows: slice) -> None:
        out[rows] = fn(rows)

    _for_strips(*out.shape[:2], work)
    return out


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert an HxWx3 sRGB image (uint8, or float in [0, 1]) to float32 Lab (D65/2°)."""
    return _by_strips(np.empty((*rgb.shape[:2], 3), np.float32),
                      lambda rows: _rgb_to_lab(rgb[rows]))


def rgb_to_lab_planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rgb_to_lab` as the codec's planes: L (H, W) and a/b (2, H, W), each contiguous
    and each its own array (the encoder drops a/b once the hint is coded)."""
    height, width = rgb.shape[:2]
    L, ab = np.empty((height, width), np.float32), np.empty((2, height, width), np.float32)

    def work(rows: slice) -> None:
        lab = _rgb_to_lab(rgb[rows])
        L[rows], ab[0, rows], ab[1, rows] = lab[..., 0], lab[..., 1], lab[..., 2]

    _for_strips(height, width, work)
    return L, ab


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Convert HxWx3 float Lab (D65/2°) to float32 sRGB in [0, 1] (out-of-gamut values clipped)."""
    return _by_strips(np.empty((*lab.shape[:2], 3), np.float32),
                      lambda rows: _lab_to_rgb(lab[rows]))


def lab_to_rgb_u8(lab: np.ndarray) -> np.ndarray:
    """Convert HxWx3 float Lab to uint8 sRGB, rounding to nearest."""
    return _by_strips(np.empty((*lab.shape[:2], 3), np.uint8),
                      lambda rows: _lab_to_rgb_u8(lab[rows]))


def planes_to_rgb_u8(L: np.ndarray, ab: np.ndarray | None) -> np.ndarray:
    """uint8 sRGB (H, W, 3) of Lab given as planes: L (H, W) and a/b (2, H, W), or ``None``
    for a = b = 0 (grey).  The same as :func:`lab_to_rgb_u8` of the stacked planes, without
    ever stacking the whole image (the decoder's layout: 12 bytes a pixel saved)."""
    return _by_strips(np.empty((*L.shape, 3), np.uint8), lambda rows: _lab_to_rgb_u8(
        _stack_lab(L[rows], None if ab is None else ab[:, rows])))


def rgb_error_weights(L: np.ndarray, ab: np.ndarray | None) -> np.ndarray:
    """How an error in Lab shows in 8-bit sRGB, per pixel: (4, H, W) float32 ``w_LL, w_aa,
    w_ab, w_bb`` such that the mean square sRGB error (over the three channels, in 8-bit
    units) of a small Lab error (e_L, e_a, e_b) is about ``w_LL e_L² + w_aa e_a² + 2 w_ab e_a
    e_b + w_bb e_b²`` (cross terms between L and a/b left out: independent errors).  From
    central differences of the Lab → sRGB conversion, so gamut clipping counts (a clipped
    channel does not change).  ``ab`` None: a grey image, whose a/b terms are zero.

    The encoder's settings search (:mod:`lumacodec.search`) measures a candidate plane's error
    this way instead of converting every candidate to sRGB."""
    lab = _stack_lab(L, ab)
    steps = (0.5, 1.0, 1.0)  # L, a, b
    jac = []
    for axis in range(3 if ab is not None else 1):
        lo, hi = lab.copy(), lab.copy()
        lo[..., axis] -= steps[axis]
        hi[..., axis] += steps[axis]
        jac.append((_lab_to_rgb(hi) - _lab_to_rgb(lo)) * (255.0 / (2 * steps[axis])))
    w = np.zeros((4, *L.shape), np.float32)
    w[0] = np.mean(jac[0] * jac[0], axis=-1)
    if ab is not None:
        w[1] = np.mean(jac[1] * jac[1], axis=-1)
        w[2] = np.mean(jac[1] * jac[2], axis=-1)
        w[3] = np.mean(jac[2] * jac[2], axis=-1)
    return w


def rgb_to_luma(rgb: np.ndarray) -> np.ndarray:
    """CIELAB lightness L in [0, 100] (float32, HxW) of an sRGB image."""
    return _by_strips(np.empty(rgb.shape[:2], np.float32),
                      lambda rows: _rgb_to_lab(rgb[rows])[..., 0])


def grey_u8_to_L(grey: np.ndarray) -> np.ndarray:
    """L of a greyscale 8-bit image, read as sRGB grey (R = G = B)."""
    return rgb_to_luma(np.broadcast_to(grey[..., None], (*grey.shape, 3)))


def L_to_grey_u8(L: np.ndarray) -> np.ndarray:
    """The 8-bit sRGB grey level whose lightness is L (the inverse of :func:`grey_u8_to_L`)."""
    return _by_strips(np.empty(L.shape, np.uint8),
                      lambda rows: _lab_to_rgb_u8(_stack_lab(L[rows], None))[..., 0])


def L_to_u8(L: np.ndarray) -> np.ndarray:
    """Quantize L in [0, 100] to the 8-bit plane the base layer codes."""
    x = L * L_TO_U8
    np.round(x, out=x)
    return np.clip(x, 0, 255, out=x).astype(np.uint8)


def u8_to_L(plane: np.ndarray) -> np.ndarray:
    """Back from the 8-bit L plane to float32 L in [0, 100]."""
    L = plane.astype(np.float32)
    L /= L_TO_U8
    return L


def ab_to_u8(ab: np.ndarray) -> np.ndarray:
    """Quantize a or b (float) to the 8-bit plane a hint carries."""
    x = ab + AB_OFFSET
    np.round(x, out=x)
    return np.clip(x, 0, 255, out=x).astype(np.uint8)


def u8_to_ab(plane: np.ndarray) -> np.ndarray:
    """Back from an 8-bit a/b plane to float32 a/b."""
    ab = plane.astype(np.float32)
    ab -= AB_OFFSET
    return ab
