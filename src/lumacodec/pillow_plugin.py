"""Pillow plugin: ``Image.open("x.lmc")`` and ``image.save("x.lmc", quality=q)``.

Saving to an ``.lmc`` path is atomic (see :func:`_save_atomically`): the one change this
module makes to Pillow beyond registering the format.

Opening reads only the header (size and mode), as Pillow's own plugins do; pixels are decoded
(with the networks) on ``load()``.  Importing :mod:`lumacodec` registers the plugin, and so
does Pillow's ``PIL.plugins`` entry point when the package is installed.
"""

from __future__ import annotations

import functools
import io
import os
from typing import IO, Any

from PIL import Image, ImageFile

from .container import MAGIC, parse_header
from .errors import LumacodecError

FORMAT = "LMC"
EXTENSION = ".lmc"


def _accept(prefix: bytes) -> bool:
    return prefix[: len(MAGIC)] == MAGIC


class LmcImageFile(ImageFile.ImageFile):
    """A ``.lmc`` stream opened by Pillow: ``Image.open`` reads the header (size, mode,
    ``info["scale"]``); :meth:`load` decodes the pixels, with the networks unless
    ``info["enhance"]`` is set to False before loading."""

    format = FORMAT
    format_description = "lumacodec luminance-only image"

    def _open(self) -> None:
        assert self.fp is not None
        self._data = self.fp.read()
        try:
            header, _ = parse_header(self._data)
        except LumacodecError as exc:
            raise SyntaxError(str(exc)) from None
        self._size = (header.width, header.height)
        self._mode = "RGB" if header.source_mode.is_colour else "L"
        self.info["scale"] = header.scale
        self.info["alpha_dropped"] = header.source_mode.alpha_dropped
        self.tile = []

    def load(self) -> Any:
        """Decode the stream (once) and return Pillow's pixel access object."""
        if self._im is None:
            from .decoder import decode

            try:
                decoded = decode(self._data, enhance=self.info.get("enhance", True))
            except LumacodecError as exc:
                raise OSError(str(exc)) from None
            self.im = decoded.im
            self._mode = decoded.mode
            self._size = decoded.size
            if self._exclusive_fp and self.fp is not None:
                self.fp.close()
            self.fp = None
        return Image.Image.load(self)


def _save(im: Image.Image, fp: IO[bytes], filename: str | bytes) -> None:
    from .encoder import encode

    info = im.encoderinfo
    data = encode(im, info.get("quality", 5), hints=info.get("hints", True),
                  effort=info.get("effort", 1), search=info.get("search"),
                  tune=info.get("tune", "psnr"))
    fp.write(data)


_pillow_save = Image.Image.save


def _is_lmc_path(fp: Any, format: str | None) -> bool:
    if not isinstance(fp, (str, bytes, os.PathLike)):
        return False
    if format is not None:
        return format.upper() == FORMAT
    return os.path.splitext(os.fsdecode(fp))[1].lower() == EXTENSION


@functools.wraps(_pillow_save)
def _save_atomically(self: Image.Image, fp: Any, format: str | None = None,
                     **params: Any) -> None:
    """``Image.save`` for everything, except that an ``.lmc`` *path* is written atomically.

    Pillow opens (and so truncates) the target before any plugin code runs, so a save killed
    while encoding would leave an empty file; for ``.lmc`` paths the stream is encoded in
    memory first and then written through a temporary file and a rename
    (:func:`lumacodec.files.atomic_write`), like the CLI's outputs.  Other formats and file
    objects go to Pillow's own ``save`` untouched.
    """
    if not _is_lmc_path(fp, format) or params.get("append") or params.get("save_all"):
        return _pillow_save(self, fp, format, **params)
    from .files import atomic_write

    buf = io.BytesIO()
    _pillow_save(self, buf, FORMAT, **params)
    atomic_write(fp if not isinstance(fp, bytes) else os.fsdecode(fp), buf.getvalue())
    return None


Image.Image.save = _save_atomically  # type: ignore[method-assign]
Image.register_open(FORMAT, LmcImageFile, _accept)
Image.register_save(FORMAT, _save)
Image.register_extension(FORMAT, EXTENSION)
Image.register_mime(FORMAT, "image/x-lumacodec")
