"""Resampling of float planes: antialiased downsampling and bicubic upsampling.

One implementation (PyTorch's ``interpolate``), shared by the encoder, the decoder's classical
path, the networks' global skips and training, so that what the networks learn to correct is
exactly what the decoder produces.  Planes whose size is not a multiple of the factor are
edge-padded first; :func:`upsample` crops back to the size asked for.
"""

from __future__ import annotations

import functools

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


def upsample(
    plane: np.ndarray, factor: int, size: tuple[int, int] | None = None, every: int = 1
) -> np.ndarray:
    """Bicubic upsampling of a float plane (..., h, w) by ``factor``, cropped to ``size``.

    ``every`` > 1: only every ``every``-th row and column of that result (what the encoder's
    search measures), as two matrix products per plane, the cost of the samples alone.
    """
    if every > 1:
        return _upsample_sampled(plane, factor, size, every)
    t = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))
    lead = t.shape[:-2]
    t = t.reshape(-1, 1, *t.shape[-2:])
    out = upsample_tensor(t, factor, size)
    return out.reshape(*lead, *out.shape[-2:]).numpy()


@functools.lru_cache(maxsize=64)
def _bicubic_rows(n_in: int, factor: int, n_out: int, every: int) -> torch.Tensor:
    """(⌈n_out / every⌉, n_in) weights of every ``every``-th output of bicubic upsampling by
    ``factor`` along one axis, cropped to ``n_out``: ``interpolate`` applied to the identity,
    so the borders are exactly its own."""
    eye = torch.eye(n_in)[None, None]
    rows = F.interpolate(eye, size=(n_in * factor, n_in), mode="bicubic", align_corners=False)
    return rows[0, 0, :n_out:every].contiguous()


def _upsample_sampled(
    plane: np.ndarray, factor: int, size: tuple[int, int] | None, every: int
) -> np.ndarray:
    h, w = plane.shape[-2:]
    H, W = size if size is not None else (h * factor, w * factor)
    t = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))
    if factor == 1:
        return t[..., :H:every, :W:every].numpy().copy()
    out = _bicubic_rows(h, factor, H, every) @ t @ _bicubic_rows(w, factor, W, every).T
    return out.numpy()


def resize_tensor(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Antialiased bilinear resampling of an (N, C, h, w) tensor to ``size`` (any factor)."""
    if tuple(t.shape[-2:]) == tuple(size):
        return t
    return F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)


def resize(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Antialiased bilinear resampling of a float plane (..., h, w) to ``size``."""
    t = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))
    lead = t.shape[:-2]
    out = resize_tensor(t.reshape(-1, 1, *t.shape[-2:]), size)
    return out.reshape(*lead, *out.shape[-2:]).numpy()


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)² window, the window shrinking at the borders."""
    return F.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)


def _bilinear_matrix(n_in: int, n_out: int, like: torch.Tensor) -> torch.Tensor:
    """(n_out, n_in) weights of bilinear resampling along one axis, exactly as
    ``interpolate(mode="bilinear", align_corners=False)`` computes it."""
    eye = torch.eye(n_in, dtype=like.dtype, device=like.device)[None, None]
    return F.interpolate(eye, size=(n_out, n_in), mode="bilinear", align_corners=False)[0, 0]


def guided_upsample(
    src: torch.Tensor, guide_low: torch.Tensor, guide: torch.Tensor, radius: int, eps: float,
    rows: int = 256,
) -> torch.Tensor:
    """Bring ``src`` (N, C, h, w) to the size of ``guide`` (N, 1, H, W) so that its edges
    follow the guide's: the fast guided filter (He & Sun 2015).

    Per low-resolution window, ``src ≈ A · guide_low + B`` by least squares (``eps``
    regularises A: flat windows get A ≈ 0); A and B are smoothed, bilinearly upsampled, and
    applied to the full-resolution guide.  Cost: a few operations per output pixel; the
    upsampling is done ``rows`` output rows at a time (as separable matrix products), so
    beyond the output itself memory does not grow with the image.  ``guide_low`` is
    ``guide`` resampled onto ``src``'s grid.
    """
    mean_i = _box(guide_low, radius)
    mean_p = _box(src, radius)
    cov = _box(guide_low * src, radius) - mean_i * mean_p
    var = _box(guide_low * guide_low, radius) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    a, b = _box(a, radius), _box(b, radius)
    (h, w), (H, W) = src.shape[-2:], guide.shape[-2:]
    ry, rx = _bilinear_matrix(h, H, src), _bilinear_matrix(w, W, src)
    out = src.new_empty((*src.shape[:2], H, W))
    for y0 in range(0, H, rows):
        y1 = min(H, y0 + rows)
        strip = ry[y0:y1]
        out[..., y0:y1, :] = (strip @ a @ rx.T) * guide[..., y0:y1, :] + strip @ b @ rx.T
    return out
