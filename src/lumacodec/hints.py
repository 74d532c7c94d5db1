"""The chroma hint: a and b at 1/f of each side, packed side by side into one 8-bit plane.

::

    ab (2, H, W) --area 1/f--> (2, h, w) --quantize +128--> [ a | b ] (h, 2w) uint8 --AV1--> bytes

A small smooth image codes far better with an image codec than with DPCM + zstd (half the
bits at equal colour error, see DESIGN-NOTES), and one plane shares one set of AV1 headers.
The decoder's classical reconstruction is the bicubic upsampling of the two planes; with the
networks, the hint restorer first cleans the decoded planes on their own grid and the
colorizer then predicts a residual over their bicubic upsampling.
"""

from __future__ import annotations

import numpy as np

from .baselayer import decode_plane, encode_plane
from .color import ab_to_u8, u8_to_ab
from .resample import downsample, reduced_size, upsample


def hint_size(height: int, width: int, factor: int) -> tuple[int, int]:
    """Size (h, 2w) of the packed a|b plane for an image of ``height`` x ``width``."""
    h, w = reduced_size(height, width, factor)
    return h, 2 * w


def pack_hint(ab: np.ndarray, factor: int) -> np.ndarray:
    """Area-downsample a/b (2, H, W) by ``factor`` and pack them as one uint8 plane [a | b]."""
    small = ab_to_u8(downsample(ab, factor))
    return np.concatenate([small[0], small[1]], axis=1)


def unpack_hint(plane: np.ndarray) -> np.ndarray:
    """The inverse of :func:`pack_hint`'s packing: (h, 2w) uint8 -> (2, h, w) float a/b."""
    w = plane.shape[1] // 2
    return np.stack([u8_to_ab(plane[:, :w]), u8_to_ab(plane[:, w:])])


def encode_hint(
    ab: np.ndarray, factor: int, quality: int, effort: int = 1, tune: str = "psnr"
) -> bytes:
    """Code the a/b planes (2, H, W) as a hint at 1/``factor`` resolution."""
    return encode_plane(pack_hint(ab, factor), quality, effort, tune)


def decode_hint(data: bytes, height: int, width: int, factor: int) -> np.ndarray:
    """Decode a hint of an image of ``height`` x ``width`` to low-resolution a/b (2, h, w)."""
    return unpack_hint(decode_plane(data, *hint_size(height, width, factor)))


def upsample_hint(
    ab_small: np.ndarray, factor: int, size: tuple[int, int], every: int = 1
) -> np.ndarray:
    """Classical reconstruction of full-resolution a/b (2, H, W): bicubic, cropped to ``size``
    (every ``every``-th row and column of it: :func:`lumacodec.resample.upsample`)."""
    return upsample(ab_small, factor, size, every)
