"""The codecs a benchmark compares, each behind one small interface.

A :class:`Codec` has a report ``name``, a ``qualities`` sweep (ordered from lowest to highest
quality), ``encode(rgb, quality) -> bytes`` and ``decode(bytes) -> rgb``. The rate of a point is
the length of the *whole* file that ``encode`` returns (container and headers included), times
8, over the number of pixels: what a user would store or send.

``settings()`` lists everything that changes a codec's output (library versions and encoder
options); it is part of the key of every cached result, so upgrading Pillow or libavif, or
retraining lumacodec's networks, recomputes exactly the affected points.

Adding a baseline is a few lines: subclass :class:`PillowCodec` (or :class:`Codec`), then add
it to :data:`REGISTRY`.

Quality sweeps cover roughly 0.03-2 bpp on photographs:

========== ============================================= ======================================
codec      settings                                      sweep
========== ============================================= ======================================
jpeg       Pillow/libjpeg, defaults (4:2:0, no optimize) quality 5..95
webp       Pillow/libwebp, defaults (lossy, method 4)    quality 0..95
avif       Pillow/libavif, speed 6, 4:2:0                quality 0..90
avif-psnr  the same, tune=psnr, 4:4:4                    quality 0..90
avif-psnr- the same at speed 2                           quality 0..90
 slow
jpeg2000   Pillow/OpenJPEG .jp2, 9/7 wavelet, YCbCr      compression ratio 800..12 (0.03-2 bpp)
lumacodec  lumacodec.encode / decode(enhance=...)        quality presets 1..10
========== ============================================= ======================================

``lumacodec`` is the default encode (effort 1: settings chosen per image);
``lumacodec-fast`` is ``encode(..., effort=0)`` (the ladder's settings, coded once),
``lumacodec-best`` ``encode(..., effort=2)`` and ``lumacodec-ssim`` ``encode(..., tune="ssim")``.
"""

from __future__ import annotations

import abc
import hashlib
import importlib.util
import io
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import PIL
from PIL import Image, features

from ..errors import LumacodecError
from .datasets import to_rgb_u8


class Codec(abc.ABC):
    """One codec at one setting, swept over ``qualities``.

    Subclasses set :attr:`name` and :attr:`qualities` and implement :meth:`encode`,
    :meth:`decode` and :meth:`settings`. Instances must pickle (they travel to worker processes),
    so heavy state such as networks is loaded lazily inside the methods.
    """

    #: Name in reports, file names and the cache (lowercase, no spaces).
    name: str
    #: The default sweep, lowest quality first.
    qualities: tuple[float, ...]
    #: Codecs with the same non-empty group share one encode per (image, quality): they differ
    #: only in how they decode (lumacodec with and without enhancement).
    encode_group: str = ""

    def __init__(self, qualities: Sequence[float] | None = None) -> None:
        if qualities is not None:
            self.qualities = tuple(normalize_quality(q) for q in qualities)
            if not self.qualities:
                raise LumacodecError(f"empty quality list for codec {self.name}")

    @classmethod
    def available(cls) -> bool:
        """Whether this machine can run the codec (library present, format compiled in)."""
        return True

    @property
    def description(self) -> str:
        """One line for the CompressAI-layout JSON: what was measured, with versions."""
        return f"{self.name}: " + ", ".join(f"{k}={v}" for k, v in self.settings().items())

    @abc.abstractmethod
    def settings(self) -> dict[str, Any]:
        """Everything that changes this codec's output, as JSON-serialisable values."""

    @abc.abstractmethod
    def encode(self, rgb: np.ndarray, quality: float) -> bytes:
        """Compress a uint8 HxWx3 sRGB image into the bytes of a complete file."""

    @abc.abstractmethod
    def decode(self, data: bytes) -> np.ndarray:
        """Decompress a file made by :meth:`encode` into a uint8 HxWx3 sRGB image."""

    def warmup(self) -> None:
        """Encode and decode a small image once, before anything is timed.

        It loads what a codec loads lazily (networks, libraries), so that cost is not charged
        to the first image, and it is the self-test that lets a run skip a codec that cannot
        work here (missing weights, say) instead of failing on every image.
        """
        rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        decoded = self.decode(self.encode(rgb, self.qualities[len(self.qualities) // 2]))
        if decoded.shape != rgb.shape:
            raise LumacodecError(f"{self.name} decoded {decoded.shape}, expected {rgb.shape}")


class PillowCodec(Codec):
    """A format that Pillow writes and reads; subclasses give the format and its options."""

    format: ClassVar[str]
    #: The Pillow feature whose library version goes into :meth:`settings`.
    feature: ClassVar[str]

    @classmethod
    def available(cls) -> bool:
        return bool(features.check(cls.feature))

    #: Keyword arguments of ``Image.save`` that stay fixed along the sweep (part of settings).
    options: ClassVar[dict[str, Any]] = {}

    def quality_options(self, quality: float) -> dict[str, Any]:
        """Keyword arguments of ``Image.save`` that set one point of the sweep."""
        return {"quality": int(quality)}

    def settings(self) -> dict[str, Any]:
        return {
            "pillow": PIL.__version__,
            self.feature: features.version(self.feature),
            **self.options,
        }

    def encode(self, rgb: np.ndarray, quality: float) -> bytes:
        buf = io.BytesIO()
        kwargs = {**self.options, **self.quality_options(quality)}
        Image.fromarray(rgb, "RGB").save(buf, format=self.format, **kwargs)
        return buf.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as im:
            return to_rgb_u8(im.convert("RGB"))


class JpegCodec(PillowCodec):
    """Baseline JPEG through Pillow/libjpeg at default settings (4:2:0), as CompressAI runs it."""

    name = "jpeg"
    format = "JPEG"
    feature = "jpg"
    qualities = (5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95)


class WebpCodec(PillowCodec):
    """Lossy WebP through Pillow/libwebp at default settings, as CompressAI runs it."""

    name = "webp"
    format = "WEBP"
    feature = "webp"
    qualities = (0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)


class AvifCodec(PillowCodec):
    """AVIF (AV1 intra) through Pillow/libavif, encoder speed 6, 4:2:0."""

    name = "avif"
    format = "AVIF"
    feature = "avif"
    qualities = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90)
    options: ClassVar[dict[str, Any]] = {"speed": 6, "subsampling": "4:2:0"}


class AvifPsnrCodec(AvifCodec):
    """AVIF as a user who cares about PSNR runs it: libaom tuned for PSNR, 4:4:4, the default
    speed (6) — a stronger anchor than Pillow's defaults."""

    name = "avif-psnr"
    options: ClassVar[dict[str, Any]] = {"speed": 6, "subsampling": "4:4:4",
                                         "advanced": (("tune", "psnr"),)}


class AvifPsnrSlowCodec(AvifPsnrCodec):
    """:class:`AvifPsnrCodec` at encoder speed 2: AV1's better searches, for encode times
    comparable to ``lumacodec --effort 2``."""

    name = "avif-psnr-slow"
    options: ClassVar[dict[str, Any]] = {**AvifPsnrCodec.options, "speed": 2}


class Jpeg2000Codec(PillowCodec):
    """JPEG 2000 (.jp2) through Pillow/OpenJPEG in rate mode.

    A "quality" here is the compression ratio against 24-bit RGB (bpp ≈ 24 / ratio), so the
    sweep runs from high ratios (low quality) to low ones. The lossy 9/7 wavelet and the
    colour transform (``mct=1``) are switched on: OpenJPEG's defaults (reversible 5/3 wavelet,
    RGB coded as is) are its lossless settings and would make a straw-man baseline.
    """

    name = "jpeg2000"
    format = "JPEG2000"
    feature = "jpg_2000"
    qualities = (800, 480, 320, 200, 128, 80, 48, 32, 20, 12)
    options: ClassVar[dict[str, Any]] = {"quality_mode": "rates", "irreversible": True, "mct": 1}

    def quality_options(self, quality: float) -> dict[str, Any]:
        return {"quality_layers": [float(quality)]}


def lumacodec_fingerprint() -> str:
    """sha256 over the lumacodec package's code (this ``bench`` folder excepted) and weights.

    During development the version number does not change with every retrained network or
    edited decoder, so the cache keys lumacodec's results on its actual files instead.
    """
    spec = importlib.util.find_spec("lumacodec")
    if spec is None or not spec.submodule_search_locations:
        return "unknown"
    root = Path(next(iter(spec.submodule_search_locations)))
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel.startswith("bench/") or "__pycache__" in rel:
            continue
        if path.suffix not in (".py", ".safetensors", ".json", ".txt", ".bin"):
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class LumacodecCodec(Codec):
    """This project's codec: ``lumacodec.encode`` at each quality preset, decoded with or
    without the enhancement networks (report names ``lumacodec`` and ``lumacodec-classical``)."""

    qualities = tuple(range(1, 11))

    #: Report name of each encoder setting: (effort, tune).
    SETTINGS: ClassVar[dict[str, tuple[int, str]]] = {
        "lumacodec-fast": (0, "psnr"), "lumacodec": (1, "psnr"), "lumacodec-best": (2, "psnr"),
        "lumacodec-ssim": (1, "ssim")}

    def __init__(
        self, enhance: bool = True, qualities: Sequence[float] | None = None,
        effort: int = 1, tune: str = "psnr",
    ) -> None:
        self.enhance = enhance
        self.effort = effort
        self.tune = tune
        self.encode_group = next(n for n, s in self.SETTINGS.items() if s == (effort, tune))
        self.name = self.encode_group + ("" if enhance else "-classical")
        super().__init__(qualities)
        self._fingerprint: str | None = None

    @classmethod
    def available(cls) -> bool:
        try:
            import lumacodec
        except Exception:  # the package mid-edit, or a missing dependency
            return False
        return callable(getattr(lumacodec, "encode", None)) and callable(
            getattr(lumacodec, "decode", None)
        )

    def settings(self) -> dict[str, Any]:
        import lumacodec

        if self._fingerprint is None:
            self._fingerprint = lumacodec_fingerprint()
        return {
            "version": getattr(lumacodec, "__version__", "unknown"),
            "files_sha256": self._fingerprint[:16],
            "enhance": self.enhance,
            "effort": self.effort,
            "tune": self.tune,
        }

    def encode(self, rgb: np.ndarray, quality: float) -> bytes:
        import lumacodec

        return lumacodec.encode(rgb, quality=int(quality), effort=self.effort, tune=self.tune)

    def decode(self, data: bytes) -> np.ndarray:
        import lumacodec

        return to_rgb_u8(lumacodec.decode(data, enhance=self.enhance).convert("RGB"))


class CompressAICodec(Codec):
    """A pretrained model from CompressAI's zoo (optional: only when ``compressai`` imports).

    The file is a small header (``>HHB``: height, width, number of strings; then ``>I`` per
    string length, ``>HH`` latent shape) followed by the entropy-coded strings, so the rate
    counts everything needed to decode, unlike CompressAI's own payload-only figures.
    """

    MODELS: ClassVar[tuple[str, ...]] = (
        "bmshj2018-factorized",
        "bmshj2018-hyperprior",
        "mbt2018-mean",
        "mbt2018",
        "cheng2020-anchor",
    )
    qualities = (1, 2, 3, 4, 5, 6)

    def __init__(self, model: str, qualities: Sequence[float] | None = None) -> None:
        self.model = model
        self.name = f"compressai-{model}"
        super().__init__(qualities)
        self._nets: dict[int, Any] = {}

    @classmethod
    def available(cls) -> bool:
        return importlib.util.find_spec("compressai") is not None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_nets": {}}

    def settings(self) -> dict[str, Any]:
        import compressai

        return {"compressai": compressai.__version__, "model": self.model, "metric": "mse"}

    def _net(self, quality: int) -> Any:
        if quality not in self._nets:
            from compressai.zoo import image_models

            net = image_models[self.model](quality=quality, metric="mse", pretrained=True)
            self._nets[quality] = net.eval()
        return self._nets[quality]

    def encode(self, rgb: np.ndarray, quality: float) -> bytes:
        import torch
        import torch.nn.functional as F

        h, w = rgb.shape[:2]
        x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255.0
        x = F.pad(x, (0, (-w) % 64, 0, (-h) % 64), mode="replicate")
        with torch.no_grad():
            out = self._net(int(quality)).compress(x)
        strings = [s[0] for s in out["strings"]]
        head = struct.pack(">HHBB", h, w, int(quality), len(strings))
        head += b"".join(struct.pack(">I", len(s)) for s in strings)
        head += struct.pack(">HH", *out["shape"])
        return head + b"".join(strings)

    def decode(self, data: bytes) -> np.ndarray:
        import torch

        h, w, quality, n = struct.unpack_from(">HHBB", data)
        pos = 6
        lengths = struct.unpack_from(f">{n}I", data, pos)
        pos += 4 * n
        shape = struct.unpack_from(">HH", data, pos)
        pos += 4
        strings = []
        for length in lengths:
            strings.append([data[pos : pos + length]])
            pos += length
        with torch.no_grad():
            x = self._net(quality).decompress(strings, list(shape))["x_hat"]
        x = x[0, :, :h, :w].clamp(0, 1).permute(1, 2, 0).numpy()
        return np.round(x * 255).astype(np.uint8)


#: Codec names accepted by ``--codecs`` (``lumacodec`` and ``compressai`` expand, see
#: :func:`make_codecs`).
REGISTRY: dict[str, type[Codec]] = {
    "jpeg": JpegCodec,
    "webp": WebpCodec,
    "avif": AvifCodec,
    "avif-psnr": AvifPsnrCodec,
    "avif-psnr-slow": AvifPsnrSlowCodec,
    "jpeg2000": Jpeg2000Codec,
}

#: What ``--codecs`` means when not given.
DEFAULT_CODECS = ("lumacodec", "jpeg", "webp", "avif", "jpeg2000")

#: Codecs that BD tables use as anchors, in table order.
BASELINES = ("jpeg", "webp", "avif", "avif-psnr", "avif-psnr-slow", "jpeg2000")


def normalize_quality(q: float) -> int | float:
    """30.0 -> 30: a quality's JSON text is part of the cache key, so one value, one spelling."""
    q = float(q)
    return int(q) if q.is_integer() else q


def codec_names() -> list[str]:
    """Every name ``--codecs`` accepts, for help and error messages."""
    return [*LumacodecCodec.SETTINGS, "lumacodec-classical", *REGISTRY,
            "compressai", "compressai-<model>"]


def make_codecs(
    names: Sequence[str],
    *,
    enhance: Sequence[bool] = (True, False),
    qualities: dict[str, Sequence[float]] | None = None,
    strict: bool = True,
) -> tuple[list[Codec], list[str]]:
    """Build the codecs for ``--codecs`` names; return them and notes on what was skipped.

    ``lumacodec`` expands to one codec per value of ``enhance`` (``lumacodec`` with the
    enhancement networks, ``lumacodec-classical`` without); ``lumacodec-classical`` asks for
    that one alone. ``compressai`` expands to :attr:`CompressAICodec.MODELS`, and CompressAI
    codecs are skipped silently (with a note) when the package is not installed. ``qualities``
    overrides a codec's sweep by report name.

    With ``strict``, a codec that this machine cannot run is an error; without it (the default
    codec list) it is skipped with a note.

    Raises
    ------
    LumacodecError
        For an unknown name, or an unavailable codec when ``strict``.
    """
    qualities = dict(qualities or {})
    codecs: list[Codec] = []
    notes: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        settings = LumacodecCodec.SETTINGS
        if name in settings or name == "lumacodec-classical":
            flags = list(enhance) if name != "lumacodec-classical" else [False]
            if not LumacodecCodec.available():
                if strict:
                    raise LumacodecError(
                        "codec lumacodec is unavailable: the package does not import"
                    )
                notes.append("lumacodec skipped: the package does not import")
                continue
            effort, tune = settings.get(name, (1, "psnr"))
            codecs += [LumacodecCodec(e, effort=effort, tune=tune) for e in dict.fromkeys(flags)]
        elif name == "compressai" or name.startswith("compressai-"):
            if not CompressAICodec.available():
                notes.append(f"{name} skipped: compressai is not installed")
                continue
            models = (
                CompressAICodec.MODELS if name == "compressai" else (name[len("compressai-") :],)
            )
            codecs += [CompressAICodec(m) for m in models]
        elif name in REGISTRY:
            cls = REGISTRY[name]
            if not cls.available():
                if strict:
                    raise LumacodecError(f"codec {name} is unavailable in this Pillow build")
                notes.append(f"{name} skipped: not supported by this Pillow build")
                continue
            codecs.append(cls())
        else:
            raise LumacodecError(f"unknown codec {raw!r}; choose from {', '.join(codec_names())}")
    unique: dict[str, Codec] = {}
    for codec in codecs:
        unique.setdefault(codec.name, codec)
    for name, qs in qualities.items():
        targets = [c for c in unique.values() if c.name == name]
        if name == "lumacodec" and "lumacodec-classical" not in qualities:
            # one sweep for both variants unless told otherwise: they decode the same streams
            targets += [c for c in unique.values() if c.name == "lumacodec-classical"]
        if not targets:
            raise LumacodecError(f"--qualities names codec {name!r}, which is not being run")
        for codec in targets:
            codec.qualities = tuple(normalize_quality(q) for q in qs)
            if not codec.qualities:
                raise LumacodecError(f"empty quality list for codec {name}")
    if not unique:
        raise LumacodecError("no codec to run")
    return list(unique.values()), notes
