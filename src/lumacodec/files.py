"""Reading images and streams from disk and writing outputs atomically.

An output is written to a temporary file in the destination folder and renamed over the
target only once complete, so a failed or interrupted run never leaves a partial file.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

from .errors import LumacodecError

PathLike = str | os.PathLike

#: Formats Pillow registers but reads no pixels of (MPEG: the header only), and our streams.
_NOT_PICTURES = frozenset({"MPEG", "LMC"})


def read_bytes(path: PathLike, limit: int = -1) -> bytes:
    """The bytes of ``path`` (its first ``limit`` bytes only, when given), with a one-line
    error for a missing or unreadable file."""
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except FileNotFoundError:
        raise LumacodecError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise LumacodecError(f"is a directory, not a file: {path}") from None
    except OSError as exc:
        raise LumacodecError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_image(path: PathLike) -> Image.Image:
    """Open and fully load an image file with Pillow (its decompression-bomb guard included)."""
    return image_from_bytes(read_bytes(path), path)


def image_from_bytes(data: bytes, path: PathLike) -> Image.Image:
    """:func:`read_image` for bytes already read (an upload), errors naming ``path``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LumacodecError(f"{path}: {exc}") from None
    except UnidentifiedImageError:  # its message names our BytesIO object: no use to a person
        raise LumacodecError(f"{path} is not a readable image (unknown format)") from None
    except Exception as exc:  # Pillow raises many types for damaged files
        raise LumacodecError(
            f"{path} is not a readable image ({type(exc).__name__}: {exc})"
        ) from None
    return im


def image_suffixes() -> frozenset[str]:
    """The file extensions (lower case, with the dot) of the images Pillow can read pixels
    from: what a folder encode takes.  Pillow's stubs (formats it names but cannot decode
    without a plug-in), MPEG and ``.lmc`` streams are left out."""
    def decodes(fmt: str) -> bool:
        factory = Image.OPEN[fmt][0]  # a class, or a function (JPEG's) that returns one
        return not (isinstance(factory, type) and issubclass(factory, ImageFile.StubImageFile))

    Image.init()
    return frozenset(ext for ext, fmt in Image.registered_extensions().items()
                     if fmt in Image.OPEN and fmt not in _NOT_PICTURES and decodes(fmt))


def output_format(path: PathLike) -> str | None:
    """The Pillow format that the extension of ``path`` names (``"PNG"``, ``"JPEG"``, ...),
    or None when no format claims it."""
    return Image.registered_extensions().get(Path(path).suffix.lower())


def atomic_write(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise LumacodecError(f"output folder does not exist: {directory}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        if os.name == "posix":  # mkstemp makes 0600; give the output the usual 0666 & ~umask
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the rename must not reach the disk before the bytes do
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise LumacodecError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def save_image(image: Image.Image, path: PathLike) -> None:
    """Save ``image`` in the format its extension names (PNG, JPEG, ...), atomically."""
    fmt = output_format(path)
    if fmt is None:
        raise LumacodecError(f"unknown image format for output {path} (use e.g. .png)")
    buf = io.BytesIO()
    try:
        image.save(buf, format=fmt)
    except (OSError, ValueError, KeyError) as exc:
        raise LumacodecError(f"cannot save as {fmt}: {exc}") from None
    atomic_write(path, buf.getvalue())
