"""Greyscale AVIF through Pillow, and the canonical box rebuild (strip / wrap)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from lumacodec import avif
from lumacodec.errors import LumacodecError


def ramp(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return ((x * 9 + y * 4) % 256).astype(np.uint8)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (17, 33), (37, 53), (64, 1)])
@pytest.mark.parametrize("quality", [0, 50, 100])
@pytest.mark.parametrize("effort", [0, 1, 2])
def test_strip_and_wrap_are_inverse(shape: tuple[int, int], quality: int, effort: int) -> None:
    h, w = shape
    file = avif.encode_grey(ramp(h, w), quality, effort)
    stripped = avif.strip(file, w, h)
    assert stripped is not None
    av1c, payload = stripped
    assert len(av1c) == 3 and len(payload) > 0
    assert avif.wrap(payload, w, h, av1c) == file
    assert len(file) - len(payload) > 200  # the boxes the stream does not store


def test_wrap_layout() -> None:
    """ftyp first, then meta; iloc points at the mdat payload; ispe holds the size."""
    payload = b"\x12\x00fake-av1-payload"
    file = avif.wrap(payload, 300, 7, b"\x01\x02\x03")
    assert file[4:8] == b"ftyp" and struct.unpack(">I", file[:4])[0] == 28
    assert file[8:12] == b"avif" and file[16:28] == b"avifmif1miaf"
    assert file[32:36] == b"meta"
    mdat = file.index(b"mdat")
    assert file[mdat + 4 :] == payload
    assert struct.unpack(">I", file[mdat - 4 : mdat])[0] == 8 + len(payload)
    iloc = file.index(b"iloc")
    offset, length = struct.unpack(">II", file[iloc + 18 : iloc + 26])
    assert file[offset : offset + length] == payload
    ispe = file.index(b"ispe")
    assert struct.unpack(">II", file[ispe + 8 : ispe + 16]) == (300, 7)
    av1c = file.index(b"av1C")
    assert file[av1c + 4 : av1c + 8] == b"\x81\x01\x02\x03"


def test_strip_refuses_what_it_cannot_rebuild() -> None:
    file = avif.encode_grey(ramp(4, 6), 50)
    assert avif.strip(file, 6, 4) is not None
    assert avif.strip(file, 7, 4) is None  # other dimensions: not the canonical file
    assert avif.strip(file + b"\x00\x00\x00\x08free", 6, 4) is None
    assert avif.strip(b"not an avif file", 6, 4) is None
    box = file.index(b"colr")
    altered = file[: box + 10] + bytes([file[box + 10] ^ 1]) + file[box + 11 :]
    assert avif.strip(altered, 6, 4) is None


def test_encode_grey_writes_a_greyscale_avif() -> None:
    plane = ramp(10, 12)
    file = avif.encode_grey(plane, 100)
    with Image.open(io.BytesIO(file)) as im:
        assert im.format == "AVIF" and im.size == (12, 10)
        decoded = np.asarray(im.convert("L"))
    assert np.abs(decoded.astype(int) - plane).max() <= 4


def test_every_tune_reaches_libaom() -> None:
    """Each tune of the encoder has its libaom options, and they reach the encoder: the
    ``ssim`` tune (libaom's ``iq``) codes a textured plane differently from ``psnr``, and
    both decode close to the plane."""
    from lumacodec.search import TUNES

    assert set(avif.AOM_OPTIONS) == set(TUNES)
    rng = np.random.default_rng(5)
    plane = np.clip(128 + np.cumsum(rng.normal(0, 6, (96, 128)), axis=1), 0, 255).astype(np.uint8)
    files = {tune: avif.encode_grey(plane, 70, 1, tune) for tune in TUNES}
    assert len(set(files.values())) == len(TUNES)
    for file in files.values():
        decoded = avif.decode_grey(file, 96, 128).astype(float)
        assert np.sqrt(np.mean((decoded - plane) ** 2)) < 6


def test_encode_grey_accepts_non_contiguous_planes() -> None:
    plane = ramp(16, 16)[::2, ::-1]
    assert not plane.flags.c_contiguous
    decoded = avif.decode_grey(avif.encode_grey(plane, 100), 8, 16)
    assert np.abs(decoded.astype(int) - plane).max() <= 4


@pytest.mark.parametrize("effort", [avif.PROBE_EFFORT, 0, 1])
def test_encode_grey_does_not_depend_on_the_machines_threads(
    effort: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libaom's output changes with its thread count, which Pillow sets from the CPUs: the
    encoder pins it, so that any machine makes the same stream."""
    from PIL import AvifImagePlugin

    rng = np.random.default_rng(3)
    plane = np.clip(128 + np.cumsum(rng.normal(0, 6, (240, 320)), axis=1), 0, 255).astype(np.uint8)
    files = set()
    for threads in (1, 3, 8):
        monkeypatch.setattr(AvifImagePlugin, "DEFAULT_MAX_THREADS", threads)
        files.add(avif.encode_grey(plane, 60, effort))
    assert len(files) == 1


def test_effort_trades_speed_for_size() -> None:
    """The search's trial codings are the fastest; a higher effort is never faster; at
    effort 1 a small plane is coded slower than a big one (it can afford it), at the other
    efforts every plane alike."""
    assert set(avif.SPEED_FOR_EFFORT) == {avif.PROBE_EFFORT, 0, 1, 2}
    speeds = [avif.SPEED_FOR_EFFORT[e] for e in (avif.PROBE_EFFORT, 0, 1, 2)]
    assert speeds == sorted(speeds, reverse=True) and speeds[0] > speeds[1] > speeds[3]
    small, big = avif.SMALL_PLANE, avif.SMALL_PLANE + 1
    assert avif.speed(1, small) < avif.speed(1, big) == avif.SPEED_FOR_EFFORT[1]
    for effort in (avif.PROBE_EFFORT, 0, 2):
        assert avif.speed(effort, small) == avif.speed(effort, big) == avif.SPEED_FOR_EFFORT[effort]
    assert avif.speed(2, small) < avif.speed(1, small)


def test_a_small_plane_costs_fewer_bytes_at_effort_1_than_at_0() -> None:
    rng = np.random.default_rng(5)
    plane = np.clip(128 + np.cumsum(rng.normal(0, 6, (128, 192)), axis=1), 0, 255).astype(np.uint8)
    assert len(avif.encode_grey(plane, 40, 1)) < len(avif.encode_grey(plane, 40, 0))


def test_decode_grey_round_trip() -> None:
    plane = ramp(17, 33)
    decoded = avif.decode_grey(avif.encode_grey(plane, 95), 17, 33)
    assert decoded.shape == (17, 33) and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - plane).mean() < 3


def test_decode_grey_refuses_damage_and_size_mismatch() -> None:
    file = avif.encode_grey(ramp(6, 8), 50)
    with pytest.raises(LumacodecError, match="stream says 9x6"):
        avif.decode_grey(file, 6, 9)
    for bad in (b"", b"garbage", file[:40], file[: len(file) // 2]):
        with pytest.raises(LumacodecError, match="corrupt AV1"):
            avif.decode_grey(bad, 6, 8)
    png = io.BytesIO()
    Image.new("L", (8, 6)).save(png, "PNG")
    with pytest.raises(LumacodecError, match="corrupt AV1"):
        avif.decode_grey(png.getvalue(), 6, 8)  # only AVIF is ever opened
