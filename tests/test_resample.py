"""Area downsampling and bicubic upsampling of float planes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lumacodec.resample import (
    downsample,
    downsample_bicubic,
    guided_upsample,
    pad_to_multiple,
    reduced_size,
    resize,
    resize_tensor,
    upsample,
    upsample_tensor,
)


def block_means(plane: np.ndarray, factor: int) -> np.ndarray:
    """Reference: mean of each factor x factor block after edge padding."""
    h, w = plane.shape
    ph, pw = -(-h // factor) * factor, -(-w // factor) * factor
    padded = np.pad(plane, ((0, ph - h), (0, pw - w)), mode="edge").astype(np.float64)
    return padded.reshape(ph // factor, factor, pw // factor, factor).mean(axis=(1, 3))


@pytest.mark.parametrize(
    "height, width, factor, expected",
    [(1, 1, 4, (1, 1)), (3, 5, 2, (2, 3)), (17, 33, 4, (5, 9)), (64, 96, 32, (2, 3))],
)
def test_reduced_size(height: int, width: int, factor: int, expected: tuple[int, int]) -> None:
    assert reduced_size(height, width, factor) == expected


def test_pad_to_multiple_replicates_edges() -> None:
    plane = np.arange(6, dtype=np.float32).reshape(2, 3)
    padded = pad_to_multiple(plane, 4)
    assert padded.shape == (4, 4)
    assert padded[:2, :3].tolist() == plane.tolist()
    assert padded[:, 3].tolist() == [2, 5, 5, 5] and padded[3].tolist() == [3, 4, 5, 5]
    assert pad_to_multiple(plane, 1) is plane


@pytest.mark.parametrize("shape", [(8, 8), (16, 12), (3, 5), (17, 33), (1, 1)])
@pytest.mark.parametrize("factor", [2, 4, 32])
def test_downsample_preserves_block_means(
    rng: np.random.Generator, shape: tuple[int, int], factor: int
) -> None:
    plane = rng.uniform(0, 100, shape).astype(np.float32)
    small = downsample(plane, factor)
    assert small.dtype == np.float32
    assert small.shape == reduced_size(*shape, factor)
    assert np.allclose(small, block_means(plane, factor), rtol=5e-5, atol=1e-4)
    if shape[0] % factor == 0 and shape[1] % factor == 0:
        assert small.mean() == pytest.approx(plane.mean(), abs=1e-3)


def test_downsample_keeps_leading_axes(rng: np.random.Generator) -> None:
    ab = rng.uniform(-50, 50, (2, 9, 10)).astype(np.float32)
    small = downsample(ab, 2)
    assert small.shape == (2, 5, 5)
    for c in range(2):
        assert np.allclose(small[c], block_means(ab[c], 2), atol=1e-4)


def test_downsample_by_one_is_a_copy() -> None:
    plane = np.arange(12, dtype=np.float64).reshape(3, 4)
    out = downsample(plane, 1)
    assert out.dtype == np.float32 and np.array_equal(out, plane)
    out[0, 0] = 99
    assert plane[0, 0] == 0


@pytest.mark.parametrize("factor", [1, 2, 4, 32])
def test_upsample_of_a_constant_is_constant(factor: int) -> None:
    plane = np.full((3, 5), 42.5, np.float32)
    out = upsample(plane, factor)
    assert out.shape == (3 * factor, 5 * factor)
    assert np.allclose(out, 42.5, atol=1e-4)


@pytest.mark.parametrize("factor, size", [(2, (5, 9)), (4, (10, 17)), (4, (12, 20)), (1, (2, 3))])
def test_upsample_crops_to_size(factor: int, size: tuple[int, int]) -> None:
    plane = np.arange(15, dtype=np.float32).reshape(3, 5)
    out = upsample(plane, factor, size)
    assert out.shape == size
    full = upsample(plane, factor)
    assert np.array_equal(out, full[: size[0], : size[1]])


def test_upsample_keeps_leading_axes_and_interpolates() -> None:
    plane = np.stack([np.zeros((2, 2)), np.ones((2, 2)) * 10]).astype(np.float32)
    plane[0, 0, 0] = 8.0
    out = upsample(plane, 2)
    assert out.shape == (2, 4, 4)
    assert np.allclose(out[1], 10.0, atol=1e-4)
    assert out[0, 0, 0] > out[0, 3, 3]  # bicubic, not a copy of the other channel


@pytest.mark.parametrize(("shape", "factor", "size", "every"), [
    ((2, 32, 48), 16, (512, 768), 2),  # a hint, the search's stride
    ((2, 33, 49), 16, (521, 777), 2),  # cropped: the last block is partial
    ((129, 193), 4, (513, 770), 3),
    ((40, 60), 1, (40, 59), 2),  # factor 1 only samples
])
def test_upsample_every_kth_sample_is_that_of_the_full_upsampling(
    rng: np.random.Generator, shape: tuple[int, ...], factor: int, size: tuple[int, int],
    every: int,
) -> None:
    plane = (rng.random(shape) * 100).astype(np.float32)
    full = upsample(plane, factor, size)
    sampled = upsample(plane, factor, size, every=every)
    assert sampled.shape == full[..., ::every, ::every].shape
    np.testing.assert_allclose(sampled, full[..., ::every, ::every], atol=1e-3)


def test_upsample_then_downsample_of_smooth_plane_is_close() -> None:
    y, x = np.mgrid[0:8, 0:8].astype(np.float32)
    plane = 50 + 10 * np.sin(x / 3) + 5 * np.cos(y / 4)
    assert np.abs(downsample(upsample(plane, 2), 2) - plane).max() < 1.0


def test_upsample_tensor_factor_one_only_crops() -> None:
    import torch

    t = torch.arange(12, dtype=torch.float32).reshape(1, 1, 3, 4)
    assert torch.equal(upsample_tensor(t, 1), t)
    assert upsample_tensor(t, 1, (2, 3)).shape == (1, 1, 2, 3)


def test_downsample_bicubic_is_antialiased_and_mean_preserving(rng: np.random.Generator) -> None:
    y, x = np.mgrid[0:64, 0:96].astype(np.float32)
    smooth = 50 + 30 * np.sin(x / 9) * np.cos(y / 11)
    small = downsample_bicubic(np.stack([smooth, smooth + 1]), 2)
    assert small.shape == (2, 32, 48)
    np.testing.assert_allclose(small[1] - small[0], 1.0, atol=1e-4)
    # a smooth plane is close to its area average; an alternating one (pure aliasing)
    # is averaged away, which an unfiltered bicubic resize would not do
    assert np.abs(small[0] - downsample(smooth, 2)).mean() < 0.1
    stripes = np.tile(np.array([0.0, 100.0], np.float32), (64, 48))
    assert np.ptp(downsample_bicubic(stripes, 4)[4:-4, 4:-4]) < 1.0


def test_resize_any_size_keeps_a_constant_and_the_mean() -> None:
    plane = np.full((2, 37, 53), 7.5, np.float32)
    out = resize(plane, (11, 16))
    assert out.shape == (2, 11, 16)
    np.testing.assert_allclose(out, 7.5, rtol=1e-6)
    ramp = np.tile(np.linspace(0, 1, 300, dtype=np.float32), (200, 1))
    assert abs(float(resize(ramp, (50, 75)).mean()) - float(ramp.mean())) < 1e-3


def _guided(src: torch.Tensor, guide: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    guide_low = resize_tensor(guide, src.shape[-2:])
    return guided_upsample(src, guide_low, guide, radius=2, eps=eps)


def test_guided_upsample_reproduces_a_colour_linear_in_the_guide() -> None:
    torch.manual_seed(0)
    guide = torch.rand(1, 1, 64, 96)
    src_full = torch.cat([0.3 * guide + 0.1, -0.5 * guide + 0.2], 1)
    src = resize_tensor(src_full, (16, 24))
    out = _guided(src, guide, eps=1e-8)
    assert out.shape == (1, 2, 64, 96)
    torch.testing.assert_close(out, src_full, atol=2e-3, rtol=0)


def test_guided_upsample_keeps_a_flat_colour_and_follows_the_guides_edges() -> None:
    flat = torch.full((1, 2, 8, 12), 0.25)
    guide = torch.rand(1, 1, 32, 48)
    torch.testing.assert_close(_guided(flat, guide), torch.full((1, 2, 32, 48), 0.25))
    # a vertical edge at full resolution, between the low-resolution samples
    guide = torch.zeros(1, 1, 32, 48)
    guide[..., 22:] = 1.0
    src = resize_tensor(guide, (8, 12))  # the colour edge blurred onto the coarse grid
    guided = _guided(src, guide)[0, 0, 16]
    bilinear = torch.nn.functional.interpolate(src, size=(32, 48), mode="bilinear")[0, 0, 16]
    step = lambda row: int(((row > 0.1) & (row < 0.9)).sum())  # noqa: E731 - pixels in the ramp
    assert step(guided) < step(bilinear)
    assert float(guided[20]) < 0.1 < 0.9 < float(guided[23])


def test_guided_upsample_in_strips_equals_one_pass() -> None:
    torch.manual_seed(1)
    guide = torch.rand(1, 1, 45, 70)
    src = torch.rand(1, 2, 12, 18)
    low = resize_tensor(guide, (12, 18))
    whole = guided_upsample(src, low, guide, 2, 1e-3, rows=1000)
    torch.testing.assert_close(guided_upsample(src, low, guide, 2, 1e-3, rows=7), whole)
    # and the bilinear step is interpolate's own
    flat_guide = torch.zeros_like(guide)  # A = 0: the output is B, bilinearly upsampled
    b = guided_upsample(src, resize_tensor(flat_guide, (12, 18)), flat_guide, 0, 1e-3)
    ref = torch.nn.functional.interpolate(src, size=(45, 70), mode="bilinear")
    torch.testing.assert_close(b, ref, atol=1e-5, rtol=0)
