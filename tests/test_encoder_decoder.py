"""Round trips through encode / decode / info: sizes, modes, qualities, rate, determinism."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
import torch
from PIL import Image

import lumacodec
from lumacodec import QUALITIES, LumacodecError, Preset, weights
from lumacodec.baselayer import LOSSLESS_QUALITY
from lumacodec.container import Stream, pack, parse
from lumacodec.images import to_pixels
from lumacodec.networks import Colorizer, HintRestorer, SuperResolution

SIZES = [(1, 1), (3, 5), (17, 33), (37, 53)]  # (height, width)
ALL_QUALITIES = range(1, len(QUALITIES) + 1)


def rgb_psnr_floor(quality: int) -> float:
    """enhance=False PSNR floor (dB) on the 64x96 smooth image (measured 2-4 dB above)."""
    return 30.0 if quality >= 8 else 26.0 if quality >= 5 else 21.0


def grey_psnr_floor(quality: int) -> float:
    return 38.0 if quality >= 8 else 33.0 if quality >= 5 else 28.0 if quality >= 2 else 24.0


HAS_BUNDLED_WEIGHTS = all(
    name in weights.read_manifest()["networks"]
    for name in weights.NETWORK_NAMES if name not in weights.OPTIONAL_NETWORKS
)


def with_network_id(data: bytes, network_id: bytes) -> bytes:
    """The same stream, re-packed with another network id (CRCs recomputed)."""
    s = parse(data)
    header = s.header.__class__(**{**s.header.__dict__, "network_id": network_id})
    return pack(Stream(header, s.base, s.hint))


def random_image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --- public API ---------------------------------------------------------------------------


def test_public_names() -> None:
    required = {
        "encode",
        "decode",
        "encode_file",
        "decode_file",
        "info",
        "QUALITIES",
        "LumacodecError",
        "__version__",
        "enhance",
    }
    assert required <= set(lumacodec.__all__)
    for name in lumacodec.__all__:
        assert hasattr(lumacodec, name), name
    assert isinstance(lumacodec.__version__, str) and lumacodec.__version__
    assert issubclass(LumacodecError, ValueError)
    assert callable(lumacodec.enhance)


def test_quality_ladder_spends_more_bits_as_quality_grows() -> None:
    """Every knob moves towards more bits: scale and hint factor never grow; the AV1
    qualities never drop, except where the plane they code just got finer (a finer scale or
    hint factor may restart its quality lower)."""
    assert len(QUALITIES) == 10
    assert 1 <= lumacodec.DEFAULT_QUALITY <= 10
    for p in QUALITIES:
        assert p.scale in (1, 2, 4)
        assert 0 <= p.base_quality <= 100 or p.base_quality == LOSSLESS_QUALITY
        assert p.hint_factor in (2, 4, 8, 16, 32, 64, 128)
        assert 0 <= p.hint_quality <= 100
    for lo, hi in zip(QUALITIES, QUALITIES[1:], strict=False):
        assert hi.scale <= lo.scale
        assert hi.hint_factor <= lo.hint_factor
        if hi.scale == lo.scale:
            assert hi.base_quality >= lo.base_quality
        if hi.hint_factor == lo.hint_factor:
            assert hi.hint_quality >= lo.hint_quality
        assert hi != lo


@pytest.mark.parametrize("quality", [0, 11, -1, 2.5, "5", None, True])
def test_bad_quality_is_refused(quality: object) -> None:
    with pytest.raises(LumacodecError, match="quality"):
        lumacodec.encode(random_image((4, 4, 3)), quality)  # type: ignore[arg-type]


def test_numpy_integer_quality_is_accepted() -> None:
    data = lumacodec.encode(random_image((4, 4, 3)), np.int64(4), effort=0)
    assert lumacodec.info(data)["base_quality"] == QUALITIES[3].base_quality


@pytest.mark.parametrize("effort", [-1, 3, 1.5, None])
def test_bad_effort_is_refused(effort: object) -> None:
    with pytest.raises(LumacodecError, match="effort"):
        lumacodec.encode(random_image((4, 4, 3)), 3, effort=effort)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((0, 5, 3), np.uint8),
        np.zeros((5, 0), np.uint8),
        np.zeros((4, 4, 3), np.float32),
        np.zeros((4, 4, 5), np.uint8),
        np.zeros((4,), np.uint8),
        np.zeros((2, 2, 2, 3), np.uint8),
        "image.png",
        [[0, 1], [2, 3]],
    ],
    ids=["empty-h", "empty-w", "float", "5-channels", "1-d", "4-d", "str", "list"],
)
def test_bad_images_are_refused(image: object) -> None:
    with pytest.raises(LumacodecError):
        lumacodec.encode(image, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", ["a string", None, 12, [1, 2, 3]])
def test_decode_refuses_non_bytes(data: object) -> None:
    with pytest.raises(LumacodecError):
        lumacodec.decode(data, enhance=False)  # type: ignore[arg-type]


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("quality", ALL_QUALITIES)
def test_round_trip_odd_sizes_every_quality(
    size: tuple[int, int], quality: int, tiny_networks: weights.NetworkSet
) -> None:
    h, w = size
    for source, mode in [(random_image((h, w, 3)), "RGB"), (random_image((h, w)), "L")]:
        data = lumacodec.encode(source, quality)
        meta = lumacodec.info(data)
        assert (meta["width"], meta["height"], meta["mode"]) == (w, h, mode)
        for enhance in (False, True):
            out = lumacodec.decode(data, enhance=enhance, device="cpu", networks=tiny_networks)
            assert out.size == (w, h) and out.mode == mode, (enhance, out.size, out.mode)
            assert np.asarray(out).dtype == np.uint8


@pytest.mark.parametrize("quality", ALL_QUALITIES)
def test_psnr_floor_classical_decode(
    quality: int, smooth_image: np.ndarray, psnr: callable
) -> None:
    data = lumacodec.encode(smooth_image, quality)
    out = np.asarray(lumacodec.decode(data, enhance=False))
    assert out.shape == smooth_image.shape
    assert psnr(out, smooth_image) >= rgb_psnr_floor(quality)
    grey = smooth_image[..., 1]
    out_grey = np.asarray(lumacodec.decode(lumacodec.encode(grey, quality), enhance=False))
    assert psnr(out_grey, grey) >= grey_psnr_floor(quality)


def test_high_quality_is_much_better_than_low(smooth_image: np.ndarray, psnr: callable) -> None:
    def quality_psnr(q: int) -> float:
        out = lumacodec.decode(lumacodec.encode(smooth_image, q), enhance=False)
        return psnr(np.asarray(out), smooth_image)

    assert quality_psnr(10) > quality_psnr(1) + 10


def test_rate_grows_with_quality(natural_image: np.ndarray) -> None:
    """bpp strictly increases with quality on a natural image (measured: no ties)."""
    bpp = [lumacodec.info(lumacodec.encode(natural_image, q))["bpp"] for q in ALL_QUALITIES]
    assert all(a < b for a, b in zip(bpp, bpp[1:], strict=False)), bpp
    assert 0.01 < bpp[0] < 0.5 and bpp[-1] < 8


@pytest.mark.parametrize("effort", [0, 1])
def test_the_stream_does_not_depend_on_the_threads_of_the_process(effort: int) -> None:
    """AV1's output depends on its thread count, which the encoder fixes: a photo above the
    size whose trials are the stream (the search's trials and the final planes both run)."""
    skdata = pytest.importorskip("skimage.data")
    image = Image.fromarray(skdata.astronaut()).resize((400, 300))
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = lumacodec.encode(image, 6, effort=effort)
        torch.set_num_threads(2)
        two = lumacodec.encode(image, 6, effort=effort)
    finally:
        torch.set_num_threads(saved)
    assert one == two
    assert parse(one).hint is not None  # both planes were coded


def test_hints_carry_colour(smooth_image: np.ndarray, psnr: callable) -> None:
    with_hint = lumacodec.encode(smooth_image, 5)
    without = lumacodec.encode(smooth_image, 5, hints=False)
    coloured = np.asarray(lumacodec.decode(with_hint, enhance=False))
    grey = np.asarray(lumacodec.decode(without, enhance=False))
    assert grey.shape == smooth_image.shape
    assert np.abs(grey.astype(int) - grey[..., :1]).max() <= 1  # R = G = B without a hint
    assert psnr(coloured, smooth_image) > psnr(grey, smooth_image) + 5


def test_enhanced_decode_runs_the_networks(
    smooth_image: np.ndarray, tiny_networks: weights.NetworkSet
) -> None:
    # scale 4; scale 1 with a 1/8 hint (restoration + colorizer); scale 1, 1/4 hint (restoration)
    for quality in (1, 4, 5):
        data = lumacodec.encode(smooth_image, quality)
        classical = np.asarray(lumacodec.decode(data, enhance=False))
        enhanced = np.asarray(lumacodec.decode(data, networks=tiny_networks, device="cpu"))
        assert enhanced.shape == classical.shape
        assert not np.array_equal(enhanced, classical)


def test_dense_hints_skip_the_colorizer(
    smooth_image: np.ndarray, network_factory: Callable[..., weights.NetworkSet]
) -> None:
    """A 1/4 hint is kept as it is by a colorizer trained on 1/8 and sparser (the bundled one:
    it does not beat the hint there), and coloured by one trained on 1/4.  With the ×1
    restoration network made an identity, nothing else changes the picture."""
    nets = network_factory()
    restorer = nets.restorers["sr_x1_fast"]
    torch.nn.init.zeros_(restorer.tail[0].weight)
    torch.nn.init.zeros_(restorer.tail[0].bias)
    preset = lumacodec.Preset(scale=1, base_quality=30, hint_factor=4, hint_quality=50)
    data = lumacodec.encode(smooth_image, preset)
    classical = np.asarray(lumacodec.decode(data, enhance=False))
    enhanced = np.asarray(lumacodec.decode(data, networks=nets, device="cpu"))
    assert np.array_equal(enhanced, classical)
    nets.colorizer.hint_factors = (4, 8, 16, 32)
    enhanced = np.asarray(lumacodec.decode(data, networks=nets, device="cpu"))
    assert not np.array_equal(enhanced, classical)


def test_hint_restorer_runs_on_the_hints_it_was_trained_on(
    smooth_image: np.ndarray, network_factory: Callable[..., weights.NetworkSet]
) -> None:
    """With the ×1 network and the colorizer made identities, only the hint restorer can
    change the picture: it does for a 1/8 hint at quality 50, not for a 1/4 one (outside its
    factors) nor at quality 90 (outside its qualities), nor in a set without one."""
    nets = network_factory()
    for conv in (nets.restorers["sr_x1_fast"].tail[0], nets.colorizer.out):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    for factor, hint_quality, changed in ((8, 50, True), (4, 50, False), (8, 90, False)):
        preset = lumacodec.Preset(scale=1, base_quality=30, hint_factor=factor,
                                  hint_quality=hint_quality)
        data = lumacodec.encode(smooth_image, preset)
        classical = np.asarray(lumacodec.decode(data, enhance=False))
        enhanced = np.asarray(lumacodec.decode(data, networks=nets, device="cpu"))
        assert np.array_equal(enhanced, classical) != changed, (factor, hint_quality)
        without = dataclasses.replace(nets, hint_restorer=None)
        assert np.array_equal(np.asarray(lumacodec.decode(data, networks=without, device="cpu")),
                              classical)


def test_the_dense_hint_restorer_runs_on_the_dense_hints_it_was_trained_on(
    smooth_image: np.ndarray, network_factory: Callable[..., weights.NetworkSet]
) -> None:
    """A set's ``hint_restorer_dense`` (1/2 and 1/4 hints, qualities 50–90) changes the
    picture of those hints only; the first hint restorer keeps the sparse ones."""
    nets = network_factory()
    for conv in (nets.restorers["sr_x1_fast"].tail[0], nets.colorizer.out):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    dense = HintRestorer(channels=8, blocks=1, hint_factors=(2, 4),
                         hint_qualities=(50, 70, 90)).eval()
    with_dense = dataclasses.replace(nets, hint_restorers={"hint_restorer_dense": dense})
    for factor, hint_quality, dense_runs in ((4, 50, True), (2, 90, True), (4, 40, False),
                                             (8, 50, False)):
        preset = lumacodec.Preset(scale=1, base_quality=30, hint_factor=factor,
                                  hint_quality=hint_quality)
        data = lumacodec.encode(smooth_image, preset)
        without = np.asarray(lumacodec.decode(data, networks=nets, device="cpu"))
        with_it = np.asarray(lumacodec.decode(data, networks=with_dense, device="cpu"))
        assert np.array_equal(with_it, without) != dense_runs, (factor, hint_quality)


# --- modes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image, mode, source_mode, alpha",
    [
        (random_image((6, 7)), "L", "GREY", False),
        (random_image((6, 7, 1)), "L", "GREY", False),
        (random_image((6, 7, 2)), "L", "GREY_ALPHA", True),
        (random_image((6, 7, 3)), "RGB", "RGB", False),
        (random_image((6, 7, 4)), "RGB", "RGBA", True),
        (Image.fromarray(random_image((6, 7))), "L", "GREY", False),
        (Image.fromarray(random_image((6, 7, 3))), "RGB", "RGB", False),
        (Image.fromarray(random_image((6, 7, 4)), "RGBA"), "RGB", "RGBA", True),
        (Image.fromarray(random_image((6, 7, 2)), "LA"), "L", "GREY_ALPHA", True),
        (Image.new("1", (7, 6), 1), "L", "GREY", False),
        (Image.new("CMYK", (7, 6), (10, 20, 30, 0)), "RGB", "RGB", False),
        (Image.new("P", (7, 6), 3), "RGB", "RGB", False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_modes(
    image: object,
    mode: str,
    source_mode: str,
    alpha: bool,
    tiny_networks: weights.NetworkSet,
) -> None:
    data = lumacodec.encode(image, 4)
    meta = lumacodec.info(data)
    assert (meta["mode"], meta["source_mode"], meta["alpha_dropped"]) == (mode, source_mode, alpha)
    assert (meta["width"], meta["height"]) == (7, 6)
    if mode == "L":
        assert meta["hint_bytes"] == 0 and meta["hint_factor"] == 0
    for enhance in (False, True):
        out = lumacodec.decode(data, enhance=enhance, networks=tiny_networks, device="cpu")
        assert out.mode == mode and out.size == (7, 6)


def test_palette_with_transparency_counts_as_alpha() -> None:
    im = Image.new("P", (5, 5), 1)
    im.info["transparency"] = 0
    meta = lumacodec.info(lumacodec.encode(im, 3))
    assert meta["alpha_dropped"] is True and meta["mode"] == "RGB"


@pytest.mark.parametrize("mode", ["La", "PA", "RGBa"])
def test_every_alpha_mode_records_dropped_alpha(mode: str) -> None:
    """Pillow modes with an alpha band are accepted and flagged, like RGBA and LA."""
    im = Image.new("RGBA", (5, 4), (200, 100, 50, 128))
    im = im.convert("LA").convert(mode) if mode == "La" else im.convert(mode)
    data = lumacodec.encode(im, 3)
    meta = lumacodec.info(data)
    assert meta["alpha_dropped"] is True
    assert meta["mode"] == ("L" if mode == "La" else "RGB")


def test_alpha_is_dropped_not_composited() -> None:
    rgb = random_image((16, 16, 3))
    opaque = lumacodec.encode(rgb, 8)
    rgba = np.concatenate([rgb, np.zeros((16, 16, 1), np.uint8)], axis=2)
    transparent = lumacodec.encode(rgba, 8)
    assert parse(opaque).base == parse(transparent).base
    assert parse(opaque).hint == parse(transparent).hint


def test_16_bit_grey_is_scaled_to_8_bits() -> None:
    levels = np.linspace(0, 65535, 64).reshape(8, 8).astype(np.uint16)
    im = Image.fromarray(levels)
    assert im.mode == "I;16"
    data = lumacodec.encode(im, QUALITIES[-1])
    assert lumacodec.info(data)["source_mode"] == "GREY"
    out = np.asarray(lumacodec.decode(data, enhance=False)).astype(int)
    assert np.abs(out - levels / 257.0).max() <= 6


def test_32_bit_grey_out_of_range_is_clipped_not_wrapped() -> None:
    im = Image.fromarray(np.array([[-1000, 0, 65535, 70000]], np.int32))
    assert im.mode == "I"
    pixels, mode = to_pixels(im)
    assert mode.name == "GREY"
    assert pixels.tolist() == [[0, 0, 255, 255]]


def test_no_hint_stream_is_smaller(smooth_image: np.ndarray) -> None:
    for quality in ALL_QUALITIES:
        full = lumacodec.encode(smooth_image, quality)
        bare = lumacodec.encode(smooth_image, quality, hints=False)
        meta = lumacodec.info(bare)
        assert lumacodec.info(full)["hint_bytes"] > 0
        assert meta["hint_bytes"] == 0 and meta["hint_factor"] == 0 and meta["hint_quality"] == 0
        assert parse(bare).hint is None
        assert len(bare) < len(full)
        assert meta["mode"] == "RGB"
        assert lumacodec.decode(bare, enhance=False).mode == "RGB"


def test_grey_stream_never_has_a_hint() -> None:
    data = lumacodec.encode(random_image((16, 16)), 10, hints=True)
    assert lumacodec.info(data)["hint_bytes"] == 0 and parse(data).hint is None


# --- info ---------------------------------------------------------------------------------


@pytest.mark.parametrize("quality", ALL_QUALITIES)
def test_info_describes_the_preset(quality: int, smooth_image: np.ndarray) -> None:
    data = lumacodec.encode(smooth_image, quality, effort=0)
    meta = lumacodec.info(data)
    preset = QUALITIES[quality - 1]
    assert meta["version"] == 1
    assert meta["scale"] == preset.scale
    assert meta["base_quality"] == preset.base_quality
    assert meta["hint_factor"] == preset.hint_factor
    assert meta["hint_quality"] == preset.hint_quality
    assert meta["base_codec"] == "AV1"
    assert meta["bytes"] == len(data)
    assert meta["bpp"] == pytest.approx(len(data) * 8 / (64 * 96))
    assert meta["base_bytes"] + meta["hint_bytes"] < len(data)
    assert meta["network_id"] == weights.bundled_id().hex()
    assert len(meta["network_id"]) == 16


def test_lossless_custom_preset() -> None:
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    data = lumacodec.encode(
        grey, Preset(scale=1, base_quality=LOSSLESS_QUALITY, hint_factor=4, hint_quality=90)
    )
    meta = lumacodec.info(data)
    assert meta["base_quality"] == "lossless" and meta["base_codec"] == "LOSSLESS"
    out = np.asarray(lumacodec.decode(data, enhance=False)).astype(int)
    assert np.abs(out - grey).max() <= 1  # only the 8-bit L quantizer is lossy


def test_info_accepts_bytearray_and_memoryview(small_stream: bytes) -> None:
    expected = lumacodec.info(small_stream)
    assert lumacodec.info(bytearray(small_stream)) == expected
    assert lumacodec.info(memoryview(small_stream)) == expected


# --- determinism --------------------------------------------------------------------------


def test_encoding_is_deterministic(natural_image: np.ndarray) -> None:
    for quality in (1, 5, 10):
        assert lumacodec.encode(natural_image, quality) == lumacodec.encode(natural_image, quality)
    grey = natural_image[..., 0]
    assert lumacodec.encode(grey, 3) == lumacodec.encode(grey.copy(), 3)


def test_decoding_is_deterministic(
    natural_image: np.ndarray, tiny_networks: weights.NetworkSet
) -> None:
    for quality in (1, 3, 6):
        data = lumacodec.encode(natural_image, quality)
        first = np.asarray(lumacodec.decode(data, networks=tiny_networks, device="cpu"))
        second = np.asarray(lumacodec.decode(bytearray(data), networks=tiny_networks, device="cpu"))
        third = np.asarray(lumacodec.decode(memoryview(data), networks=tiny_networks, device="cpu"))
        assert np.array_equal(first, second) and np.array_equal(first, third)
        assert np.array_equal(
            np.asarray(lumacodec.decode(data, enhance=False)),
            np.asarray(lumacodec.decode(data, enhance=False)),
        )


# --- networks and devices -----------------------------------------------------------------


def test_unknown_network_id_is_named(small_stream: bytes, network_factory) -> None:
    wanted = bytes.fromhex("0123456789abcdef")
    data = with_network_id(small_stream, wanted)
    assert lumacodec.info(data)["network_id"] == "0123456789abcdef"
    other = network_factory(network_id=bytes.fromhex("fedcba9876543210"))
    with pytest.raises(LumacodecError, match="0123456789abcdef"):
        lumacodec.decode(data, networks=other, device="cpu")
    assert lumacodec.decode(data, enhance=False).size == (8, 8)
    matching = network_factory(network_id=wanted)
    assert lumacodec.decode(data, networks=matching, device="cpu").size == (8, 8)


def test_streams_of_an_earlier_set_decode_when_they_run_no_replaced_network(
    small_stream: bytes, network_factory
) -> None:
    """A set whose colour-from-L network replaced an earlier one still decodes that set's
    hinted streams, and refuses its pure-luma streams (which ran the old network)."""
    old_id = bytes.fromhex("00112233445566aa")
    nets = dataclasses.replace(network_factory(network_id=b"\x42" * 8), earlier=(
        weights.EarlierSet(old_id, frozenset({"luma_colorizer"})),))
    hinted = with_network_id(small_stream, old_id)
    assert lumacodec.decode(hinted, networks=nets, device="cpu").size == (8, 8)
    img = np.random.default_rng(7).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    luma = with_network_id(lumacodec.encode(img, 3, hints=False), old_id)
    with pytest.raises(LumacodecError, match="00112233445566aa"):
        lumacodec.decode(luma, networks=nets, device="cpu")
    assert lumacodec.decode(luma, enhance=False).size == (8, 8)


def test_zero_network_id_runs_any_set(small_stream: bytes, network_factory) -> None:
    assert lumacodec.info(small_stream)["network_id"] == weights.bundled_id().hex()
    data = with_network_id(small_stream, bytes(8))
    nets = network_factory(network_id=b"\x42" * 8)
    assert lumacodec.decode(data, networks=nets, device="cpu").size == (8, 8)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_gpu_is_an_error(
    small_stream: bytes, tiny_networks: weights.NetworkSet
) -> None:
    with pytest.raises(LumacodecError, match="cuda"):
        lumacodec.decode(small_stream, device="cuda", networks=tiny_networks)
    with pytest.raises(LumacodecError, match="cuda"):
        lumacodec.decode(small_stream, device=torch.device("cuda"), networks=tiny_networks)


@pytest.mark.parametrize("device", ["tpu", "gpu0", "mps", "meta"])
def test_unknown_device_is_an_error(
    small_stream: bytes, tiny_networks: weights.NetworkSet, device: str
) -> None:
    with pytest.raises(LumacodecError, match="device"):
        lumacodec.decode(small_stream, device=device, networks=tiny_networks)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_decode_matches_cpu(natural_image: np.ndarray, network_factory,
                                 monkeypatch, psnr: Callable) -> None:
    """Half precision and batched tiles on the GPU: within 0.05 dB PSNR-RGB of the CPU."""
    from lumacodec import decoder

    monkeypatch.setattr(decoder, "WHOLE", 48)  # tiles, so that the GPU batches them
    monkeypatch.setattr(decoder, "TILE", 48)
    monkeypatch.setattr(decoder, "SR_TILE", 32)
    nets = network_factory()
    for quality in (1, 3, 6):
        data = lumacodec.encode(natural_image, quality, effort=0)
        cpu = np.asarray(lumacodec.decode(data, networks=nets, device="cpu"))
        gpu = np.asarray(lumacodec.decode(data, networks=network_factory(), device="cuda"))
        assert gpu.shape == cpu.shape
        assert abs(psnr(gpu, natural_image) - psnr(cpu, natural_image)) <= 0.05
        assert np.abs(gpu.astype(int) - cpu).max() <= 3


@pytest.mark.skipif(HAS_BUNDLED_WEIGHTS, reason="bundled weights are installed")
def test_missing_bundled_weights_is_a_clear_error(small_stream: bytes) -> None:
    with pytest.raises(LumacodecError, match="enhance=False"):
        lumacodec.decode(small_stream, device="cpu")
    assert lumacodec.info(small_stream)["network_id"] == "0" * 16


@pytest.mark.skipif(not HAS_BUNDLED_WEIGHTS, reason="no bundled weights")
def test_decode_with_bundled_weights(natural_image: np.ndarray) -> None:
    for quality in (1, 3, 5):
        data = lumacodec.encode(natural_image, quality)
        assert lumacodec.info(data)["network_id"] == weights.bundled_id().hex() != "0" * 16
        out = lumacodec.decode(data, device="cpu")
        assert out.size == (128, 128) and out.mode == "RGB"
    grey = lumacodec.decode(lumacodec.encode(natural_image[..., 0], 2), device="cpu")
    assert grey.mode == "L"


def test_tiled_networks_match_whole_image(monkeypatch, tiny_networks) -> None:
    """Large images run the networks on tiles; the seams must not show."""
    from lumacodec import decoder

    monkeypatch.setenv(decoder.BF16_ENV, "0")  # float32: tiles and whole agree to rounding

    rng = np.random.default_rng(3)
    cpu = torch.device("cpu")
    L_low = (rng.random((70, 91)) * 100).astype(np.float32)
    L = (rng.random((140, 182)) * 100).astype(np.float32)
    hint = (rng.standard_normal((2, 140, 182)) * 10).astype(np.float32)
    L_odd = L[:139, :181]  # the restorer's body runs at 1/4: tiles must keep its grid
    whole_sr = decoder.super_resolve(L_low, 2, 30, (140, 182), tiny_networks, cpu)
    whole_x1 = decoder.super_resolve(L_odd, 1, 30, L_odd.shape, tiny_networks, cpu)
    whole_ab = decoder.colorize(L, hint, 8, tiny_networks, cpu)
    monkeypatch.setattr(decoder, "WHOLE", 64)
    monkeypatch.setattr(decoder, "TILE", 64)
    monkeypatch.setattr(decoder, "SR_TILE", 24)
    monkeypatch.setattr(decoder, "TILE_MARGIN", 32)
    tiled_sr = decoder.super_resolve(L_low, 2, 30, (140, 182), tiny_networks, cpu)
    tiled_x1 = decoder.super_resolve(L_odd, 1, 30, L_odd.shape, tiny_networks, cpu)
    tiled_ab = decoder.colorize(L, hint, 8, tiny_networks, cpu)
    assert tiled_sr.shape == whole_sr.shape and tiled_ab.shape == whole_ab.shape
    assert np.abs(tiled_sr - whole_sr).max() < 1e-3
    capped = dataclasses.replace(tiny_networks, restorers={"sr_x1_fast": SuperResolution(
        1, channels=8, blocks=1, unshuffle=4, max_quality=20).eval()})
    above = decoder.super_resolve(L_odd, 1, 30, L_odd.shape, capped, cpu)  # sr_x1 runs
    monkeypatch.setattr(decoder, "WHOLE", 1 << 16)
    assert np.abs(above - decoder.super_resolve(
        L_odd, 1, 30, L_odd.shape, dataclasses.replace(tiny_networks, restorers={}), cpu)
    ).max() < 1e-4
    monkeypatch.setattr(decoder, "WHOLE", 64)
    assert tiled_x1.shape == whole_x1.shape == L_odd.shape
    assert np.abs(tiled_x1 - whole_x1).max() < 1e-3 and np.abs(whole_x1 - L_odd).max() > 0.01
    # A GPU runs the inner tiles of one shape as batches: the same pixels as one by one.
    small = (rng.standard_normal((2, 140, 182)) * 10).astype(np.float32)
    L_big = np.repeat(np.repeat(L, 8, axis=0), 8, axis=1)  # the image of a 1/8 hint that size
    one_by_one = decoder.restore_hint(small, L_big, 8, 50, tiny_networks, cpu)
    assert np.abs(one_by_one - small).max() > 0.01  # the restorer ran
    monkeypatch.setattr(decoder, "_tile_batch", lambda device: 3)
    assert np.abs(decoder.super_resolve(L_low, 2, 30, (140, 182), tiny_networks, cpu)
                  - tiled_sr).max() < 1e-4
    assert np.abs(decoder.super_resolve(L_odd, 1, 30, L_odd.shape, tiny_networks, cpu)
                  - tiled_x1).max() < 1e-4
    assert np.abs(decoder.colorize(L, hint, 8, tiny_networks, cpu) - tiled_ab).max() < 1e-4
    assert np.abs(decoder.restore_hint(small, L_big, 8, 50, tiny_networks, cpu)
                  - one_by_one).max() < 1e-4
    assert np.abs(tiled_ab - whole_ab).max() < 1e-3
    # a colorizer at 1/4 (margins on its 16-pixel grid), on an image whose tiles start inside
    torch.manual_seed(0)
    quarter = dataclasses.replace(tiny_networks, colorizer=Colorizer(
        widths=(8, 8, 8), out_gain=10.0, hint_factors=(8, 16, 32), unshuffle=4).eval())
    L3 = (rng.random((330, 310)) * 100).astype(np.float32)
    hint3 = (rng.standard_normal((2, 330, 310)) * 10).astype(np.float32)
    tiled3 = decoder.colorize(L3, hint3, 8, quarter, cpu)
    monkeypatch.setattr(decoder, "WHOLE", 1 << 16)
    whole3 = decoder.colorize(L3, hint3, 8, quarter, cpu)
    assert np.abs(whole3 - hint3).max() > 0.01 and np.abs(tiled3 - whole3).max() < 1e-3


def test_tiles_are_written_into_one_output() -> None:
    """Each tile's centre lands in the caller's output exactly once: a network that is the
    identity gives back its input, scaled, whatever the tiling."""
    from lumacodec import decoder

    x = np.random.default_rng(6).random((2, 75, 130)).astype(np.float32)
    for whole, tile, margin in ((1000, 16, 0), (10, 16, 3), (10, 7, 5), (10, 200, 4)):
        out = np.full((2, 70, 129), np.nan, np.float32)  # cropped: less than the input
        decoder._tiled(lambda t: t, lambda r, c: torch.from_numpy(x[None, :, r, c]), x.shape[1:],
                       out, scale=1, tile=tile, margin=margin, whole=whole, gain=3.0)
        np.testing.assert_array_equal(out, x[:, :70, :129] * 3.0)
    up = np.full((1, 150, 259), np.nan, np.float32)

    def double(t: torch.Tensor) -> torch.Tensor:
        return t.repeat_interleave(2, -1).repeat_interleave(2, -2)

    decoder._tiled(double, lambda r, c: torch.from_numpy(x[None, :1, r, c]), x.shape[1:], up,
                   scale=2, tile=16, margin=2, whole=10, gain=1.0)
    np.testing.assert_array_equal(up[0], x[0].repeat(2, 0).repeat(2, 1)[:150, :259])


def test_cascade_restores_coded_planes_first(monkeypatch, network_factory) -> None:
    """A x2 network trained on restored planes gets the output of the x1 network it was trained
    after (``sr_x1``, or the fast restorer of the base quality) for a coded base layer (on
    tiles as on the whole image), and the plane itself for a lossless one."""
    from lumacodec import decoder

    monkeypatch.setenv(decoder.BF16_ENV, "0")
    nets = network_factory()
    nets.sr[2].restored_input = True
    cpu = torch.device("cpu")
    L_low = (np.random.default_rng(5).random((70, 91)) * 100).astype(np.float32)
    with torch.inference_mode():
        x = torch.from_numpy(L_low / 100.0)[None, None]
        q = torch.tensor([0.3])
        cascade = nets.sr[2](nets.sr[1](x, q), q)[0, 0].numpy() * 100.0
        lossless = nets.sr[2](x, torch.tensor([1.0]))[0, 0].numpy() * 100.0
    whole = decoder.super_resolve(L_low, 2, 30, (140, 182), nets, cpu)
    np.testing.assert_allclose(whole, cascade, atol=1e-3)
    np.testing.assert_allclose(
        decoder.super_resolve(L_low, 2, LOSSLESS_QUALITY, (140, 182), nets, cpu), lossless,
        atol=1e-3)
    # a lossless full-resolution plane is L itself: no restorer runs (sr_x1, trained on coded
    # planes, took 5 dB off it)
    exact = decoder.super_resolve(L_low, 1, LOSSLESS_QUALITY, L_low.shape, nets, cpu)
    assert np.array_equal(exact, L_low) and exact is not L_low
    assert np.abs(decoder.super_resolve(L_low, 1, 90, L_low.shape, nets, cpu) - L_low).max() > 0.01
    # one trained after the fast restorers gets the set's restorer of the base quality
    nets.sr[2].input_restorer = "fast"
    fast = nets.restorer_for(30)
    assert fast is not nets.sr[1] and fast.unshuffle == 4
    with torch.inference_mode():
        after_fast = nets.sr[2](fast(x, q), q)[0, 0].numpy() * 100.0
    whole_fast = decoder.super_resolve(L_low, 2, 30, (140, 182), nets, cpu)
    np.testing.assert_allclose(whole_fast, after_fast, atol=1e-3)
    assert np.abs(whole_fast - whole).max() > 0.01
    monkeypatch.setattr(decoder, "WHOLE", 64)
    monkeypatch.setattr(decoder, "SR_TILE", 24)
    monkeypatch.setattr(decoder, "TILE_MARGIN", 8)  # else 91 columns still run in one piece
    # tiles keep the fast restorer's 1/4 grid
    tiled = decoder.super_resolve(L_low, 2, 30, (140, 182), nets, cpu)
    assert np.abs(tiled - whole_fast).max() < 1e-3
    nets.sr[2].input_restorer = "sr_x1"
    assert np.abs(decoder.super_resolve(L_low, 2, 30, (140, 182), nets, cpu) - whole).max() < 1e-3


def test_cpu_bfloat16_stays_close_to_float32(monkeypatch, tiny_networks) -> None:
    """Where the CPU has native bfloat16 the networks run in it; LUMACODEC_CPU_BF16=0 turns it
    off and gives the float32 result exactly."""
    from lumacodec import decoder

    cpu = torch.device("cpu")
    L_low = (np.random.default_rng(4).random((40, 56)) * 100).astype(np.float32)
    with torch.inference_mode():
        x = torch.from_numpy(L_low / 100.0)[None, None]
        reference = tiny_networks.sr[2](x, torch.tensor([0.3]))[0, 0].numpy() * 100.0
    monkeypatch.setattr(decoder, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setenv(decoder.BF16_ENV, "0")
    exact = decoder.super_resolve(L_low, 2, 30, (80, 112), tiny_networks, cpu)
    np.testing.assert_allclose(exact, reference, atol=1e-3)
    monkeypatch.setenv(decoder.BF16_ENV, "1")
    fast = decoder.super_resolve(L_low, 2, 30, (80, 112), tiny_networks, cpu)
    assert fast.dtype == np.float32 and 0 < np.abs(fast - reference).max() < 2.0


def test_streams_without_a_hint_are_coloured_from_L_by_the_colour_network(
    smooth_image: np.ndarray, network_factory
) -> None:
    nets = network_factory(seed=3)
    with torch.no_grad():  # a regression head that has learnt a colour (it starts at grey)
        nets.luma_colorizer.head.bias[-2:] = torch.tensor([0.2, -0.1])
    without = lumacodec.encode(smooth_image, 5, hints=False)
    faithful = np.asarray(lumacodec.decode(without, networks=nets, device="cpu"))
    vivid = np.asarray(lumacodec.decode(without, networks=nets, device="cpu", colour="vivid"))
    assert np.abs(faithful.astype(int) - faithful[..., :1]).max() > 1  # not grey
    assert not np.array_equal(faithful, vivid)
    # a set without a colour-from-L network falls back to the colorizer without a hint
    nets.luma_colorizer = None
    fallback = np.asarray(lumacodec.decode(without, networks=nets, device="cpu"))
    assert not np.array_equal(fallback, faithful)


def test_colour_mode_does_not_change_hinted_streams(
    smooth_image: np.ndarray, tiny_networks: weights.NetworkSet
) -> None:
    data = lumacodec.encode(smooth_image, 2)
    a = lumacodec.decode(data, networks=tiny_networks, device="cpu", colour="faithful")
    b = lumacodec.decode(data, networks=tiny_networks, device="cpu", colour="vivid")
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_unknown_colour_mode_is_refused(small_stream: bytes) -> None:
    with pytest.raises(LumacodecError, match="colour must be one of"):
        lumacodec.decode(small_stream, enhance=False, colour="sepia")
