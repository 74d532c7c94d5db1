"""Resampling of float planes: antialiased downsampling and bicubic upsampling.

One implementation (PyTorch's ``interpolate``), shared by the encoder, the decoder's classical
path, the networks' global skips and training, so that what the networks learn to correct is
exactly what the decoder produces.  Planes whose size is not a multiple of the factor are
edge-padded first; :func:`upsample` crops back to the size asked for.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def pad_to_multiple(plane: np.ndarray, factor: int) -> np.ndarray:
    """Edge-pad the last two axes of ``plane`` up to a multiple of ``factor``."""
    h, w = plane.shape[-2:]
    ph, pw = (-h) % factor, (-w) % factor
    if ph == 0 and pw == 0:
        return plane
    pad = [(0, 0)] * (plane.ndim - 2) + [(0, ph), (0, pw)]
    return np.pad(plane, pad, mode="edge")


def reduced_size(height: int, width: int, factor: int) -> tuple[int, int]:
    """Size of a plane of ``height`` x ``width`` after padding and downsampling by ``factor``."""
    return -(-height // factor), -(-width // factor)


def downsample(plane: np.ndarray, factor: int) -> np.ndarray:
    """Antialiased (area) downsampling of a float plane (..., H, W) by an integer factor.

    Area averaging over ``factor`` x ``factor`` blocks after edge padding: the mean of each
    block is preserved, which is what a colour hint and a base layer both want.
    """
    if factor == 1:
        return plane.astype(np.float32, copy=True)
    padded = pad_to_multiple(plane.astype(np.float32, copy=False), factor)
    t = torch.from_numpy(np.ascontiguousarray(padded))
    lead = t.shape[:-2]
    t = t.reshape(-1, 1, *t.shape[-2:])
    out = F.avg_pool2d(t, factor)
    return out.reshape(*lead, *out.shape[-2:]).numpy()


def downsample_bicubic(plane: np.ndarray, factor: int) -> np.ndarray:
    """Antialiased bicubic downsampling of a float plane (..., H, W), H and W multiples of
    ``factor``: the degradation of the SR literature's benchmarks (as MATLAB's ``imresize``).

    Not the codec's own downsampling (:func:`downsample`); it trains and evaluates the
    networks of :func:`lumacodec.enhance`, whose inputs were never coded.
    """
    t = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))
    lead = t.shape[:-2]
    t = t.reshape(-1, 1, *t.shape[-2:])
    h, w = t.shape[-2:]
    out = F.interpolate(t, size=(h // factor, w // factor), mode="bicubic", antialias=True,
                        align_corners=False)
    return out.reshape(*lead, *out.shape[-2:]).numpy()


def upsample_tensor(
    t: torch.Tensor, factor: int, size: tuple[int, int] | None = None
) -> torch.Tensor:
    """Bicubic upsampling of an (N, C, h, w) tensor by ``factor``, cropped to ``size``."""
    if factor == 1:
        out = t
    else:
        h, w = t.shape[-2:]
        out = F.interpolate(t, size=(h * factor, w * factor), mode="bicubic", align_corners=False)
    if size is not None:
        out = out[..., : size[0], : size[1]]
    return out


def upsample(plane: np.ndarray, factor: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """Bicubic upsampling of a float plane (..., h, w) by ``factor``, cropped to ``size``."""
    t = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))
    lead = t.shape[:-2]
    t = t.reshape(-1, 1, *t.shape[-2:])
    out = upsample_tensor(t, factor, size)
    return out.reshape(*lead, *out.shape[-2:]).numpy()
