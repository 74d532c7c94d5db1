"""Greyscale AVIF through Pillow, and the compact form of it that a stream stores.

An AVIF file from Pillow is ~270 bytes of ISOBMFF boxes (``ftyp`` + ``meta``) around the AV1
payload, and those boxes are the same for every 8-bit greyscale image except for the width,
the height, three bytes of the ``av1C`` configuration and the payload's length.  The stream
keeps only those three bytes and the payload (``codec`` AV1, see docs/spec/format.md); the decoder
rebuilds the canonical boxes with :func:`wrap` before handing the file to libavif.

The encoder checks that the rebuilt file is byte-identical to what libavif wrote; if a future
libavif writes other boxes, the whole file is stored instead (codec AVIF), so a stream never
depends on a guess.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

from .errors import LumacodecError

#: The effort of the settings search's trial codings (:mod:`lumacodec.search`): never that of
#: a stream's planes.
PROBE_EFFORT = -1
#: Pillow's AVIF encoder speed (0 slowest/best .. 10 fastest) per encoder effort level, as
#: measured on L planes (benchmarks/results/av1-options.md: against speed 6, speed 2 saves
#: 8.5–10% of the bits for ~15x the time, speed 9 costs ~14% for a tenth of it).  Effort 2
#: was speed 3 up to session 12: speed 2 takes its encodes ~20% longer for 0.2% (BD-rate,
#: 16 photos of bsds500/test), still a third of the time of AVIF at speed 2.  Slower speeds
#: have nothing left to give: 1 and 0 save 0.17% of speed 2's bits for 1.2x and 3.5x its
#: time (benchmarks/results/av1-slowest.md).
SPEED_FOR_EFFORT = {PROBE_EFFORT: 9, 0: 6, 1: 6, 2: 2}
#: At effort 1, a plane of at most SMALL_PLANE pixels (the 1/2 and 1/4 planes and the hints
#: of photos up to about 0.5 MP) is coded at SMALL_PLANE_SPEED: ~4% fewer bits for ~3x the
#: time of a plane that costs little (av1-options.md), while big planes keep speed 6.
SMALL_PLANE = 1 << 17
SMALL_PLANE_SPEED = 5
#: libaom options per ``tune`` of the encoder (what its choice optimises).  ``psnr``: tuning
#: for PSNR instead of libavif's default saves ~9% of the bits of an L plane at equal PSNR
#: (BD-rate, 6 sun_hays80 photos, benchmarks/results/presets.md).  ``ssim``: libaom's
#: all-intra image tuning ``iq`` (quantisation matrices, perceptual delta-q) takes the
#: BD-rate of ``--tune ssim``'s MS-SSIM against AVIF from +19.6% to +1.0%, or with the
#: shipped weighing of the choice from +1.2% to −5.9%, for 5–8 points of PSNR (12
#: bsds500/val photos, benchmarks/results/tune-ssim.md).
AOM_OPTIONS = {"psnr": {"tune": "psnr"}, "ssim": {"tune": "iq"}}
#: libaom's threads, fixed: its output depends on how many it is given (a 768×512 plane
#: differs by ~1% of its bytes between 1 and 2), and a stream must not depend on the
#: machine that made it.  One, so that a job of one thread (``--threads 1``) holds one core.
#: Two would take a 768×512 plane at speed 6 from 0.11 to 0.06 s, a single encode from
#: 0.36 to 0.32 s (median, benchmarks/results/encode-time.md), but a folder's jobs then hold
#: more threads than cores: two jobs went 1.66× as fast as one instead of ~1.9× (session 14).
ENCODER_THREADS = 1


def speed(effort: int, pixels: int) -> int:
    """libaom's speed for a plane of ``pixels`` pixels at encoder ``effort``."""
    if effort == 1 and pixels <= SMALL_PLANE:
        return SMALL_PLANE_SPEED
    return SPEED_FOR_EFFORT[effort]


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, flags: int, body: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags) + body)


def _meta(width: int, height: int, av1c: bytes, payload_len: int) -> bytes:
    """The ``meta`` box for one 8-bit monochrome AV1 image item (item 1) stored in ``mdat``."""
    hdlr = _full_box(b"hdlr", 0, 0, b"\0" * 4 + b"pict" + b"\0" * 12 + b"\0")
    pitm = _full_box(b"pitm", 0, 0, struct.pack(">H", 1))
    infe = _full_box(b"infe", 2, 0, struct.pack(">HH", 1, 0) + b"av01" + b"Color\0")
    iinf = _full_box(b"iinf", 0, 0, struct.pack(">H", 1) + infe)
    ispe = _full_box(b"ispe", 0, 0, struct.pack(">II", width, height))
    pixi = _full_box(b"pixi", 0, 0, bytes([1, 8]))
    av1c_box = _box(b"av1C", b"\x81" + av1c)
    colr = _box(b"colr", b"nclx" + struct.pack(">HHHB", 1, 13, 6, 0x80))
    ipco = _box(b"ipco", ispe + pixi + av1c_box + colr)
    ipma = _full_box(b"ipma", 0, 0, struct.pack(">IHB", 1, 1, 4) + bytes([0x01, 0x02, 0x83, 0x04]))
    iprp = _box(b"iprp", ipco + ipma)

    def assemble(offset: int) -> bytes:
        iloc_body = bytes([0x44, 0x00]) + struct.pack(">HHHHII", 1, 1, 0, 1, offset, payload_len)
        iloc = _full_box(b"iloc", 0, 0, iloc_body)
        return _full_box(b"meta", 0, 0, hdlr + pitm + iloc + iinf + iprp)

    ftyp_len = 28
    meta_len = len(assemble(0))
    return assemble(ftyp_len + meta_len + 8)


def _sequence_header_size(body: bytes) -> tuple[int, int] | None:
    """(max_frame_width, max_frame_height) of an AV1 sequence header OBU's payload."""
    bits, nbits, at = int.from_bytes(body, "big"), 8 * len(body), 0

    def read(n: int) -> int:
        nonlocal at
        at += n
        if at > nbits:
            raise LumacodecError("corrupt AV1 plane: sequence header is cut off")
        return (bits >> (nbits - at)) & ((1 << n) - 1)

    read(4)  # seq_profile, still_picture
    if read(1):  # reduced_still_picture_header
        read(5)
    else:
        if read(1):  # timing_info_present_flag: libavif writes none for still images
            return None
        delay_present = read(1)
        for _ in range(read(5) + 1):
            read(12)
            if read(5) > 7:
                read(1)
            if delay_present and read(1):
                read(4)
    wbits, hbits = read(4) + 1, read(4) + 1
    return read(wbits) + 1, read(hbits) + 1


def frame_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) from the AV1 sequence header OBUs of ``payload``; None if there is
    none, one cannot be read, or two disagree (a later one would resize the decoder)."""
    pos, sizes = 0, set()
    while pos < len(payload):
        header = payload[pos]
        obu_type, has_ext, has_size = (header >> 3) & 0xF, header >> 2 & 1, header >> 1 & 1
        pos += 1 + has_ext
        if not has_size:
            return None
        size = shift = 0
        while pos < len(payload) and shift < 56:
            byte = payload[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if obu_type == 1:
            sizes.add(_sequence_header_size(payload[pos : pos + size]))
        pos += size
    return sizes.pop() if len(sizes) == 1 else None


def wrap(payload: bytes, width: int, height: int, av1c: bytes) -> bytes:
    """Rebuild the canonical AVIF file around an AV1 payload (the inverse of :func:`strip`)."""
    ftyp = _box(b"ftyp", b"avif" + b"\0\0\0\0" + b"avifmif1miaf")
    return ftyp + _meta(width, height, av1c, len(payload)) + _box(b"mdat", payload)


def strip(avif: bytes, width: int, height: int) -> tuple[bytes, bytes] | None:
    """Split an AVIF file into (av1C bytes 1–3, AV1 payload) if :func:`wrap` rebuilds it exactly."""
    marker = avif.find(b"av1C")
    mdat = avif.find(b"mdat")
    if marker < 0 or mdat < 0:
        return None
    av1c = avif[marker + 5 : marker + 8]
    payload = avif[mdat + 4 :]
    if wrap(payload, width, height, av1c) != avif:
        return None
    return av1c, payload


def encode_grey(plane: np.ndarray, quality: int, effort: int = 1, tune: str = "psnr") -> bytes:
    """Encode an HxW uint8 plane as a greyscale (monochrome 8-bit) AVIF file, with libaom
    tuned as :data:`AOM_OPTIONS` says for ``tune``."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(plane), "L").save(
        buf, "AVIF", quality=int(quality), speed=speed(effort, plane.size),
        advanced=AOM_OPTIONS[tune], max_threads=ENCODER_THREADS,
    )
    return buf.getvalue()


def decode_grey(avif: bytes, height: int, width: int) -> np.ndarray:
    """Decode a greyscale AVIF file to an HxW uint8 plane of the size the stream promised."""
    try:
        with Image.open(io.BytesIO(avif), formats=["AVIF"]) as im:
            # the size comes from the file's headers: refuse a mismatch before any pixel is
            # decoded (a tiny stream must not make libavif decode a huge picture)
            if im.size != (width, height):
                raise LumacodecError(
                    f"corrupt AV1 base layer: the file is {im.width}x{im.height}, "
                    f"stream says {width}x{height}"
                )
            im.load()
            plane = np.asarray(im.convert("L"))
    except LumacodecError:
        raise
    except Exception as exc:  # libavif reports damage through several exception types
        raise LumacodecError(f"corrupt AV1 base layer: {exc}") from None
    if plane.shape != (height, width):
        raise LumacodecError(
            f"corrupt AV1 base layer: decoded {plane.shape[1]}x{plane.shape[0]}, "
            f"stream says {width}x{height}"
        )
    return plane
