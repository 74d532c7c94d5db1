"""The codec classes of the benchmark: round trips, rates, the registry."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lumacodec.bench.codecs import (
    BASELINES,
    REGISTRY,
    CompressAICodec,
    JpegCodec,
    LumacodecCodec,
    make_codecs,
)
from lumacodec.errors import LumacodecError


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.coffee()[100:228, 200:392])  # 128x192


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_round_trip_and_rate_grows_with_quality(name: str, photo: np.ndarray) -> None:
    codec = REGISTRY[name]()
    if not codec.available():
        pytest.skip(f"{name} not in this Pillow build")
    low, high = codec.qualities[1], codec.qualities[-2]
    small, big = codec.encode(photo, low), codec.encode(photo, high)
    assert isinstance(small, bytes) and len(small) < len(big)
    decoded = codec.decode(big)
    assert decoded.shape == photo.shape and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - photo).mean() < 6
    assert codec.settings()["pillow"]
    assert "quality" not in codec.settings() and "quality_layers" not in codec.settings()


def test_default_sweeps_cover_low_and_high_rates() -> None:
    assert JpegCodec.qualities[0] == 5 and JpegCodec.qualities[-1] == 95
    assert REGISTRY["avif"].options["speed"] == 6
    j2k = REGISTRY["jpeg2000"].qualities  # compression ratios against 24 bpp
    assert 24 / j2k[0] <= 0.03 and 24 / j2k[-1] >= 2


def test_make_codecs_names_and_overrides() -> None:
    codecs, _ = make_codecs(["jpeg", " WebP "], qualities={"jpeg": [10.0, 50.5]})
    assert [c.name for c in codecs] == ["jpeg", "webp"]
    assert codecs[0].qualities == (10, 50.5) and isinstance(codecs[0].qualities[0], int)
    with pytest.raises(LumacodecError, match="unknown codec"):
        make_codecs(["jpeg", "bpg"])
    with pytest.raises(LumacodecError, match="not being run"):
        make_codecs(["jpeg"], qualities={"webp": [1]})


def test_lumacodec_expands_to_both_decoders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LumacodecCodec, "available", classmethod(lambda cls: True))
    codecs, _ = make_codecs(["lumacodec"], qualities={"lumacodec": [2, 4]})
    assert [(c.name, c.enhance, c.qualities) for c in codecs] == [
        ("lumacodec", True, (2, 4)),
        ("lumacodec-classical", False, (2, 4)),
    ]
    assert {c.encode_group for c in codecs} == {"lumacodec"}
    only, _ = make_codecs(["lumacodec"], enhance=(False,))
    assert [c.name for c in only] == ["lumacodec-classical"]
    efforts, _ = make_codecs(["lumacodec", "lumacodec-fast", "lumacodec-best",
                              "lumacodec-ssim"], enhance=(True,))
    assert [(c.name, c.effort, c.tune, c.encode_group) for c in efforts] == [
        ("lumacodec", 1, "psnr", "lumacodec"),
        ("lumacodec-fast", 0, "psnr", "lumacodec-fast"),
        ("lumacodec-best", 2, "psnr", "lumacodec-best"),
        ("lumacodec-ssim", 1, "ssim", "lumacodec-ssim"),
    ]
    assert efforts[1].settings()["effort"] == 0 and efforts[3].settings()["tune"] == "ssim"


def test_compressai_is_optional() -> None:
    if CompressAICodec.available():
        pytest.skip("compressai is installed here")
    codecs, notes = make_codecs(["jpeg", "compressai"])
    assert [c.name for c in codecs] == ["jpeg"] and "compressai" in notes[0]


def test_avif_psnr_anchors_are_tuned_for_psnr(photo: np.ndarray) -> None:
    """avif-psnr: libaom's tune=psnr at 4:4:4; -slow the same at speed 2; both are anchors of
    the BD-rate tables."""
    for name, speed in (("avif-psnr", 6), ("avif-psnr-slow", 2)):
        codec = REGISTRY[name]()
        assert codec.settings()["speed"] == speed
        assert codec.settings()["subsampling"] == "4:4:4"
        assert dict(codec.settings()["advanced"]) == {"tune": "psnr"}
        data = codec.encode(photo, 60)
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "AVIF" and im.size == photo.shape[1::-1]
    assert {"avif", "avif-psnr", "avif-psnr-slow"} <= set(BASELINES)
