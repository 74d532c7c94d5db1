"""Accepting user images: PIL images and numpy arrays to 8-bit RGB or grey, with their mode."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .container import SourceMode
from .errors import LumacodecError

ImageLike = Image.Image | np.ndarray


def to_pixels(image: ImageLike) -> tuple[np.ndarray, SourceMode]:
    """Return (HxW uint8 grey or HxWx3 uint8 RGB, what the source was).

    Alpha is dropped (the mode records that it was); palette, CMYK, 16-bit and other Pillow
    modes are converted to RGB or L first.
    """
    if isinstance(image, Image.Image):
        mode = image.mode
        if mode in ("L", "1", "I;16", "I;16B", "I;16L", "I", "F"):
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(image, dtype=np.float64)
                peak = 65535.0 if arr.max() > 255 else 255.0
                grey = np.clip(np.round(arr / peak * 255), 0, 255).astype(np.uint8)
                return grey, SourceMode.GREY
            return np.asarray(image.convert("L")), SourceMode.GREY
        if mode in ("LA", "La"):
            return np.asarray(image.convert("LA"))[..., 0].copy(), SourceMode.GREY_ALPHA
        if mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in image.info):
            return np.asarray(image.convert("RGBA"))[..., :3].copy(), SourceMode.RGBA
        return np.asarray(image.convert("RGB")), SourceMode.RGB
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise LumacodecError(f"numpy images must be uint8, got {image.dtype}")
        if image.ndim == 2:
            return image, SourceMode.GREY
        if image.ndim == 3 and image.shape[2] == 3:
            return image, SourceMode.RGB
        if image.ndim == 3 and image.shape[2] == 4:
            return image[..., :3].copy(), SourceMode.RGBA
        if image.ndim == 3 and image.shape[2] in (1, 2):
            mode = SourceMode.GREY if image.shape[2] == 1 else SourceMode.GREY_ALPHA
            return image[..., 0].copy(), mode
        raise LumacodecError(f"unsupported image array shape {image.shape}")
    raise LumacodecError(f"expected a PIL image or a numpy array, got {type(image).__name__}")
