"""lumacodec: a learned lossy image codec that sends luminance only.

The encoder keeps CIELAB L (downsampled, AV1-coded) and an optional tiny chroma hint; the
decoder brings back resolution with a super-resolution network and colour with a
colorization network.

Every function of the API is thread-safe: calls from many threads share nothing mutable
but the bundled network set, which the first caller loads (once) and all only read; decode
on one device per process.  Limits (pixels, sections, payload sizes) are stated in
docs/spec/format.md and docs/spec/reliability.md; ``decode(max_pixels=...)`` tightens the
pixel limit.

>>> import lumacodec
>>> data = lumacodec.encode(image, quality=5)          # doctest: +SKIP
>>> picture = lumacodec.decode(data)                    # doctest: +SKIP
>>> lumacodec.encode_files("photos/", "streams/", jobs=2)  # doctest: +SKIP
"""

from . import pillow_plugin  # noqa: E402,F401  (registers .lmc with Pillow)
from ._version import __version__
from .api import decode_file, encode_file, info
from .batch import decode_files, encode_files
from .decoder import decode
from .encoder import encode
from .enhance import enhance
from .errors import LumacodecError
from .presets import DEFAULT_QUALITY, QUALITIES, Preset

__all__ = [
    "DEFAULT_QUALITY",
    "LumacodecError",
    "Preset",
    "QUALITIES",
    "__version__",
    "decode",
    "decode_file",
    "decode_files",
    "encode",
    "encode_file",
    "encode_files",
    "enhance",
    "info",
]
