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
"""

from __future__ import annotations

import warnings

import numpy as np
from skimage.color import lab2rgb, rgb2lab

L_TO_U8 = 255.0 / 100.0
AB_OFFSET = 128.0


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert an HxWx3 sRGB image (uint8, or float in [0, 1]) to float32 Lab (D65/2°)."""
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float32) / 255.0
    return rgb2lab(rgb.astype(np.float32, copy=False)).astype(np.float32, copy=False)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Convert HxWx3 float Lab (D65/2°) to float32 sRGB in [0, 1] (out-of-gamut values clipped)."""
    with warnings.catch_warnings():  # out-of-gamut Lab is expected from a lossy decode
        warnings.simplefilter("ignore", UserWarning)
        rgb = lab2rgb(lab.astype(np.float32, copy=False))
    return np.clip(rgb, 0.0, 1.0).astype(np.float32, copy=False)


def lab_to_rgb_u8(lab: np.ndarray) -> np.ndarray:
    """Convert HxWx3 float Lab to uint8 sRGB, rounding to nearest."""
    return np.round(lab_to_rgb(lab) * 255.0).astype(np.uint8)


def rgb_to_luma(rgb: np.ndarray) -> np.ndarray:
    """CIELAB lightness L in [0, 100] (float32, HxW) of an sRGB image."""
    return rgb_to_lab(rgb)[..., 0]


def grey_u8_to_L(grey: np.ndarray) -> np.ndarray:
    """L of a greyscale 8-bit image, read as sRGB grey (R = G = B)."""
    return rgb_to_luma(np.repeat(grey[..., None], 3, axis=-1))


def L_to_grey_u8(L: np.ndarray) -> np.ndarray:
    """The 8-bit sRGB grey level whose lightness is L (the inverse of :func:`grey_u8_to_L`)."""
    lab = np.zeros((*L.shape, 3), np.float32)
    lab[..., 0] = L
    return lab_to_rgb_u8(lab)[..., 0]


def L_to_u8(L: np.ndarray) -> np.ndarray:
    """Quantize L in [0, 100] to the 8-bit plane the base layer codes."""
    return np.clip(np.round(L * L_TO_U8), 0, 255).astype(np.uint8)


def u8_to_L(plane: np.ndarray) -> np.ndarray:
    """Back from the 8-bit L plane to float32 L in [0, 100]."""
    return plane.astype(np.float32) / L_TO_U8


def ab_to_u8(ab: np.ndarray) -> np.ndarray:
    """Quantize a or b (float) to the 8-bit plane a hint carries."""
    return np.clip(np.round(ab + AB_OFFSET), 0, 255).astype(np.uint8)


def u8_to_ab(plane: np.ndarray) -> np.ndarray:
    """Back from an 8-bit a/b plane to float32 a/b."""
    return plane.astype(np.float32) - AB_OFFSET
