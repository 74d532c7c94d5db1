"""The per-image choice of settings (effort 1 and 2): it only picks settings of the pool, it
gives every quality a larger stream than the one below, it beats the ladder where another
setting pays (measured through real classical decodes), and effort 0 is the ladder."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import psnr, smooth_rgb
from PIL import Image
from skimage import data

import lumacodec
from lumacodec import QUALITIES, LumacodecError
from lumacodec.color import rgb_to_lab_planes
from lumacodec.container import SourceMode
from lumacodec.presets import (
    SEARCH_BASE,
    SEARCH_BASE_FINER,
    SEARCH_HINTS,
    SEARCH_SLOPES,
    SSIM_LOSSES,
)
from lumacodec.search import (
    MAX_MEASURED,
    STRIDE,
    _ssim_db,
    _ssim_measure,
    _stride,
    base_pool,
)


def _settings(stream: bytes) -> tuple[tuple[int, int], tuple[int, int]]:
    meta = lumacodec.info(stream)
    return (meta["scale"], meta["base_quality"]), (meta["hint_factor"], meta["hint_quality"])


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return data.chelsea()[:128, 96:288]


@pytest.mark.parametrize("quality", [1, 3, 5, 8, 10])
def test_the_choice_is_a_setting_of_the_pool(photo: np.ndarray, quality: int) -> None:
    base, hint = _settings(lumacodec.encode(photo, quality))
    assert base[1] in SEARCH_BASE[base[0]]
    assert hint in SEARCH_HINTS


@pytest.mark.parametrize("image", ["chelsea", "astronaut", "coffee", "smooth"])
def test_every_quality_gives_a_larger_stream_than_the_one_below(image: str) -> None:
    """Strictly, until lossless L with the densest hint (a smooth image gets there below the
    top quality): past it, a plateau of the same stream."""
    pixels = smooth_rgb(96, 128) if image == "smooth" else getattr(data, image)()[:160, :224]
    streams = [lumacodec.encode(pixels, q) for q in range(1, len(QUALITIES) + 1)]
    sizes = [len(s) for s in streams]
    for below, above in zip(streams[:-1], streams[1:], strict=True):
        meta = lumacodec.info(below)
        top = (meta["base_quality"] == "lossless"
               and meta["hint_factor"] == min(f for f, _ in SEARCH_HINTS))
        assert len(above) > len(below) or (top and above == below), sizes


def test_the_choice_beats_the_ladder_where_another_setting_pays() -> None:
    """Saturated colour over flat areas wants denser hints than the ladder's: the choice
    leaves the ladder's settings (it would not were the objective or the pool broken) and
    gets more PSNR-RGB of the real classical decode at the same rate: where the two curves
    share rates, the choice is over 1 dB above the ladder (measured: its quality 1 at the
    rate of the ladder's quality 6, 2.7 dB above it).  Too little of their ranges is shared
    for a BD-rate: from quality 1 on, the choice is near the ladder's best PSNR."""
    wheel = data.colorwheel()[..., :3]
    assert _settings(lumacodec.encode(wheel, 5)) != _settings(lumacodec.encode(wheel, 5,
                                                                               effort=0))
    curves = []
    for effort in (0, 1):
        points = []
        for q in range(1, 10):
            stream = lumacodec.encode(wheel, q, effort=effort)
            out = np.asarray(lumacodec.decode(stream, enhance=False))
            points.append((len(stream) * 8 / wheel[..., 0].size, psnr(out, wheel)))
        curves.append(np.array(points))
    (ladder, chosen) = curves
    shared = chosen[chosen[:, 0] <= ladder[:, 0].max()]
    assert len(shared) >= 1
    assert np.all(shared[:, 1] > np.interp(shared[:, 0], ladder[:, 0], ladder[:, 1]) + 1.0)


def test_effort_0_is_the_ladder_and_search_overrides_the_effort(photo: np.ndarray) -> None:
    ladder = lumacodec.encode(photo, 4, effort=0)
    p = QUALITIES[3]
    assert _settings(ladder) == ((p.scale, p.base_quality), (p.hint_factor, p.hint_quality))
    assert _settings(lumacodec.encode(photo, 4, search=False)) == _settings(ladder)
    assert _settings(lumacodec.encode(photo, 4, effort=0, search=True)) == _settings(
        lumacodec.encode(photo, 4))


def test_slopes_fall_with_quality() -> None:
    assert len(SEARCH_SLOPES) == len(QUALITIES)
    assert list(SEARCH_SLOPES) == sorted(SEARCH_SLOPES, reverse=True)  # fewer bits, dearer
    for p in QUALITIES[:-1]:  # the ladder's own settings are in the pool
        assert p.base_quality in SEARCH_BASE[p.scale]
        assert (p.hint_factor, p.hint_quality) in SEARCH_HINTS


def test_the_measured_share_of_a_large_image_is_bounded() -> None:
    assert _stride(768 * 512) == STRIDE
    for pixels in (24_000_000, 100_000_000):
        assert (pixels / _stride(pixels) ** 2) <= MAX_MEASURED


def test_choice_for_grey_and_for_luminance_only() -> None:
    grey = smooth_rgb(48, 64)[..., 1]
    stream = lumacodec.encode(grey, 2)
    assert lumacodec.info(stream)["mode"] == "L" and lumacodec.info(stream)["hint_bytes"] == 0
    assert lumacodec.decode(stream, enhance=False).mode == "L"
    bare = lumacodec.encode(smooth_rgb(48, 64), 4, hints=False)
    assert lumacodec.info(bare)["hint_bytes"] == 0


def test_search_needs_a_quality_level() -> None:
    with pytest.raises(LumacodecError, match="Preset"):
        lumacodec.encode(smooth_rgb(16, 16), QUALITIES[2], search=True)
    custom = lumacodec.encode(smooth_rgb(16, 16), QUALITIES[2])  # a Preset is used as it is
    assert _settings(custom)[0] == (QUALITIES[2].scale, QUALITIES[2].base_quality)


def test_choice_through_the_pillow_plugin(tmp_path, photo: np.ndarray) -> None:
    path = tmp_path / "s.lmc"
    Image.fromarray(photo).save(path, quality=5, effort=0)
    assert path.read_bytes() == lumacodec.encode(photo, 5, effort=0)
    Image.fromarray(photo).save(path, quality=5)
    assert path.read_bytes() == lumacodec.encode(photo, 5)


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (1, 40), (37, 53)])
def test_choice_for_tiny_and_odd_images(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(size))
    for pixels in (rng.integers(0, 256, (*size, 3), dtype=np.uint8),
                   rng.integers(0, 256, size, dtype=np.uint8)):
        for quality in (1, 4, 9):
            out = lumacodec.decode(lumacodec.encode(pixels, quality), enhance=False)
            assert out.size == (size[1], size[0])


def test_tune_ssim_chooses_by_ms_ssim() -> None:
    """``tune="ssim"`` measures MS-SSIM: its choice decodes (classically) to a better
    MS-SSIM per bit than the PSNR choice by its own objective (the loss on the tangent dB
    scale of each quality), on average over the qualities, and the ladder still rises; a
    bad tune is refused; an image too small for MS-SSIM is chosen for by the squared error
    (no MS-SSIM measure)."""
    from lumacodec.bench.metrics import ms_ssim_rgb

    photo = data.astronaut()[:192, :256]
    gain = []
    sizes = []
    for q in (2, 5, 8):
        scores = []
        for tune in ("psnr", "ssim"):
            stream = lumacodec.encode(photo, q, tune=tune)
            out = np.asarray(lumacodec.decode(stream, enhance=False))
            bpp = len(stream) * 8 / (192 * 256)
            loss = np.array(1 - ms_ssim_rgb(photo, out))
            scores.append(float(_ssim_db(loss, SSIM_LOSSES[q - 1])) - SEARCH_SLOPES[q - 1] * bpp)
            sizes.append((tune, q, len(stream)))
        gain.append(scores[1] - scores[0])
    assert np.mean(gain) > 0, gain
    ssim_sizes = [n for t, _, n in sizes if t == "ssim"]
    assert ssim_sizes == sorted(ssim_sizes) and len(set(ssim_sizes)) == 3
    with pytest.raises(LumacodecError, match="tune"):
        lumacodec.encode(photo, 5, tune="vmaf")
    tiny = smooth_rgb(64, 96)
    L, ab = rgb_to_lab_planes(tiny)
    assert _ssim_measure(tiny, SourceMode.RGB, L, ab) is None
    assert lumacodec.decode(lumacodec.encode(tiny, 5, tune="ssim"), enhance=False).size == (96, 64)


def test_ssim_db_is_the_tangent_of_the_db_scale_at_the_reference() -> None:
    """At its quality's reference loss the objective is MS-SSIM dB, with dB's slope there;
    elsewhere it is linear in the loss (equal losses weigh alike on every photo) and under
    the dB curve (−10·log10 is convex)."""
    reference = 0.05
    db = lambda x: -10 * np.log10(x)  # noqa: E731
    assert _ssim_db(np.array(reference), reference) == pytest.approx(db(reference))
    h = 1e-6
    slope = (_ssim_db(np.array(reference + h), reference) - db(reference)) / h
    assert slope == pytest.approx((db(reference + h) - db(reference - h)) / (2 * h), rel=1e-4)
    losses = np.array([0.01, 0.03, 0.2, 0.5])
    steps = np.diff(_ssim_db(losses, reference)) / np.diff(losses)
    assert np.allclose(steps, steps[0])
    assert np.all(_ssim_db(losses, reference) < db(losses))


def test_a_big_photo_is_chosen_for_on_a_mosaic_of_its_tiles(monkeypatch) -> None:
    """Above MOSAIC_ABOVE pixels the trials run on tiles spread over the image (on the
    coarsest hint's grid) and the whole image is coded with the chosen settings; the ladder
    still rises."""
    from lumacodec import search

    monkeypatch.setattr(search, "MOSAIC_ABOVE", 100 * 100)
    monkeypatch.setattr(search, "MOSAIC_TILE", 64)
    rows, cols = search._mosaic_grid(300, 451)
    assert rows[0] == cols[0] == 0 and all(r % 32 == 0 for r in rows + cols)
    assert rows[-1] + 64 <= 300 and cols[-1] + 64 <= 451
    photo = data.astronaut()[:300, :451]
    assert search._mosaic(photo, rows, cols).shape == (256, 256, 3)
    streams = [lumacodec.encode(photo, q) for q in (2, 5, 8)]
    assert [len(s) for s in streams] == sorted(len(s) for s in streams)
    out = lumacodec.decode(streams[1], enhance=False)
    assert out.size == (451, 300)


def test_best_mode_searches_a_finer_pool() -> None:
    assert base_pool(0) == base_pool(1) == SEARCH_BASE
    finer = base_pool(2)
    assert set(finer) == set(SEARCH_BASE)
    for scale, qualities in finer.items():
        assert list(qualities) == sorted(set(qualities))
        assert set(qualities) == set(SEARCH_BASE[scale]) | set(SEARCH_BASE_FINER.get(scale, ()))
    assert any(len(finer[s]) > len(SEARCH_BASE[s]) for s in finer)


def test_best_mode_trials_its_finer_pool_at_speed_6(monkeypatch) -> None:
    """Above EXACT_BELOW pixels the trials only rank the settings: at AV1's fastest speed at
    effort 1, at effort 1's speed (6) in best mode, whose finer pool they cover."""
    from lumacodec import search

    monkeypatch.setattr(search, "EXACT_BELOW", 32 * 32)
    coded: dict[int, list[tuple[int, int]]] = {1: [], 2: []}
    real = search.encode_plane

    def recording(plane, quality, effort=1, tune="psnr"):
        coded[current].append((effort, quality))
        return real(plane, quality, effort, tune)

    monkeypatch.setattr(search, "encode_plane", recording)
    photo = data.astronaut()[:64, :96]
    for current in (1, 2):
        choice = lumacodec.encode(photo, 5, effort=current)
        assert lumacodec.info(choice)["base_quality"] in base_pool(current)[
            lumacodec.info(choice)["scale"]]
    assert {e for e, _ in coded[1]} == {search.PROBE_EFFORT}
    assert {e for e, _ in coded[2]} == {search.TRIAL_EFFORT[2]} == {1}
    finer = {q for qs in SEARCH_BASE_FINER.values() for q in qs}
    assert finer <= {q for _, q in coded[2]} and not finer & {q for _, q in coded[1]}
