"""The Pillow plugin: Image.open reads the header only; load() decodes; save() encodes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

import lumacodec
from lumacodec import decoder, pillow_plugin


@pytest.fixture
def rgb_lmc(tmp_path: Path) -> Path:
    path = tmp_path / "x.lmc"
    pixels = np.random.default_rng(5).integers(0, 256, (9, 14, 3), dtype=np.uint8)
    path.write_bytes(lumacodec.encode(pixels, 4, effort=0))
    return path


def test_registered() -> None:
    assert Image.registered_extensions()[".lmc"] == "LMC"
    assert Image.MIME["LMC"] == "image/x-lumacodec"
    assert "LMC" in Image.OPEN and "LMC" in Image.SAVE


def test_open_reads_the_header_without_decoding(
    rgb_lmc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("open() decoded pixels")

    monkeypatch.setattr(decoder, "decode", must_not_decode)
    with Image.open(rgb_lmc) as im:
        assert im.format == "LMC"
        assert im.size == (14, 9) and im.mode == "RGB"
        assert im.info["alpha_dropped"] is False
        assert im.info["scale"] == lumacodec.QUALITIES[3].scale
        assert im.get_format_mimetype() == "image/x-lumacodec"


def test_open_grey_and_alpha(tmp_path: Path) -> None:
    path = tmp_path / "la.lmc"
    Image.new("LA", (3, 5), (90, 10)).save(path, format="LMC", quality=2)
    with Image.open(path) as im:
        assert im.mode == "L" and im.size == (3, 5) and im.info["alpha_dropped"] is True


def test_load_decodes(rgb_lmc: Path) -> None:
    data = rgb_lmc.read_bytes()
    expected = np.asarray(lumacodec.decode(data, enhance=False))
    with Image.open(rgb_lmc) as im:
        im.info["enhance"] = False
        im.load()
        assert im.mode == "RGB" and im.size == (14, 9)
        assert np.array_equal(np.asarray(im), expected)
    with Image.open(io.BytesIO(data)) as im:
        im.info["enhance"] = False
        assert np.array_equal(np.asarray(im.convert("RGB")), expected)


def test_load_uses_the_networks_by_default(
    rgb_lmc: Path, monkeypatch: pytest.MonkeyPatch, tiny_networks
) -> None:
    calls: list[bool] = []
    real_decode = decoder.decode

    def decode(data: bytes, *, enhance: bool = True, **kwargs: object):
        calls.append(enhance)
        return real_decode(data, enhance=enhance, networks=tiny_networks, device="cpu")

    monkeypatch.setattr(decoder, "decode", decode)
    with Image.open(rgb_lmc) as im:
        im.load()
        assert im.size == (14, 9)
    assert calls == [True]


def test_load_closes_the_file(rgb_lmc: Path) -> None:
    im = Image.open(rgb_lmc)
    im.info["enhance"] = False
    im.load()
    assert im.fp is None or im.fp.closed
    im.close()


def test_load_failure_is_an_oserror(tmp_path: Path, rgb_lmc: Path) -> None:
    data = bytearray(rgb_lmc.read_bytes())
    data[-2] ^= 0xFF  # damage after the header: open() succeeds, load() fails
    bad = tmp_path / "bad.lmc"
    bad.write_bytes(bytes(data))
    with Image.open(bad) as im:
        im.info["enhance"] = False
        with pytest.raises(OSError, match="checksum"):
            im.load()


def test_damaged_header_is_not_identified(tmp_path: Path, rgb_lmc: Path) -> None:
    bad = tmp_path / "bad.lmc"
    bad.write_bytes(rgb_lmc.read_bytes()[:12])
    with pytest.raises(UnidentifiedImageError):
        Image.open(bad)
    data = bytearray(rgb_lmc.read_bytes())
    data[6] ^= 1
    bad.write_bytes(bytes(data))
    with pytest.raises(UnidentifiedImageError):
        Image.open(bad)


def test_accept_checks_the_magic() -> None:
    assert pillow_plugin._accept(b"\x89LMC\x01")
    assert not pillow_plugin._accept(b"\x89PNG\r\n")
    assert not pillow_plugin._accept(b"")


def test_save_writes_a_stream(tmp_path: Path) -> None:
    pixels = np.random.default_rng(6).integers(0, 256, (11, 13, 3), dtype=np.uint8)
    path = tmp_path / "saved.lmc"
    Image.fromarray(pixels).save(path, format="LMC", quality=3, effort=0)
    data = path.read_bytes()
    meta = lumacodec.info(data)
    assert meta["base_quality"] == lumacodec.QUALITIES[2].base_quality
    assert data == lumacodec.encode(pixels, 3, effort=0)
    out = lumacodec.decode(data, enhance=False)
    assert out.size == (13, 11) and out.mode == "RGB"


def test_save_by_extension_and_options(tmp_path: Path) -> None:
    im = Image.fromarray(np.random.default_rng(8).integers(0, 256, (8, 8, 3), dtype=np.uint8))
    default, bare = tmp_path / "a.lmc", tmp_path / "b.lmc"
    im.save(default)
    im.save(bare, quality=7, hints=False, effort=0)
    assert default.read_bytes() == lumacodec.encode(im, 5)
    bare_meta = lumacodec.info(bare.read_bytes())
    assert bare_meta["hint_bytes"] == 0
    assert bare_meta["base_quality"] == lumacodec.QUALITIES[6].base_quality


def test_save_refuses_a_bad_quality(tmp_path: Path) -> None:
    with pytest.raises(lumacodec.LumacodecError):
        Image.new("RGB", (4, 4)).save(tmp_path / "q.lmc", quality=95)


def test_save_open_round_trip_in_memory() -> None:
    buf = io.BytesIO()
    Image.new("L", (6, 4), 128).save(buf, format="LMC", quality=10)
    buf.seek(0)
    with Image.open(buf) as im:
        assert (im.format, im.mode, im.size) == ("LMC", "L", (6, 4))
        im.info["enhance"] = False
        assert abs(int(np.asarray(im).astype(int).mean()) - 128) <= 2


def test_save_to_a_path_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow truncates a path before a plugin runs; for .lmc the stream is encoded first and
    renamed into place, so a failed (or killed) save leaves the previous file."""
    path = tmp_path / "photo.lmc"
    path.write_bytes(b"previous")
    with pytest.raises(lumacodec.LumacodecError):
        Image.new("RGB", (4, 4)).save(path, quality=95)
    assert path.read_bytes() == b"previous"
    written = []
    from lumacodec import files

    real = files.atomic_write
    monkeypatch.setattr(files, "atomic_write", lambda p, d: written.append(p) or real(p, d))
    Image.new("RGB", (4, 4)).save(str(path), quality=3)
    Image.new("RGB", (4, 4)).save(tmp_path / "other", format="LMC")
    assert written == [str(path), tmp_path / "other"]
    assert lumacodec.info(path.read_bytes())["width"] == 4
    png = tmp_path / "a.png"
    Image.new("RGB", (4, 4)).save(png)  # other formats: Pillow's own save
    assert written == [str(path), tmp_path / "other"] and png.read_bytes()[:4] == b"\x89PNG"
