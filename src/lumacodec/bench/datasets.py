"""The images a benchmark runs on: a folder, scikit-image's sample photos, or the Kodak suite.

A dataset is a sorted list of :class:`ImageSource` objects. A source is only a name and a
reference (a file path, or the name of a scikit-image sample), so it pickles cheaply to worker
processes, which then load the pixels themselves. Every image is used as 8-bit sRGB, HxWx3:
greyscale is repeated into three channels and alpha is dropped, because every codec under test
takes RGB and every metric compares RGB.

Kodak
-----
``--dataset kodak`` downloads the 24 images of the Kodak Lossless True Color Image Suite on first
use into ``$LUMACODEC_CACHE/kodak`` (default ``~/.cache/lumacodec/kodak``). Mirrors serve
different PNG bytes for the same pictures, so each download is verified against the sha256 of
its *decoded pixels* (``kodak_sha256.txt``, shipped with this package); a file that does not
match is refused and never cached. The base URL can be overridden with
``$LUMACODEC_KODAK_URL`` or the ``base_url`` argument (the tests serve synthetic images from a
local HTTP server that way).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import LumacodecError

#: File extensions read from a dataset folder (the list torchvision and CompressAI use).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")

#: The natural colour photographs that scikit-image ships inside its wheel (no download):
#: report name -> loader function in :mod:`skimage.data`. Microscopy, astronomy, fundus and
#: synthetic images are left out on purpose; they are not what a photo codec is judged on.
SKIMAGE_SAMPLES: dict[str, str] = {
    "astronaut": "astronaut",
    "chelsea": "chelsea",
    "coffee": "coffee",
    "motorcycle": "stereo_motorcycle",
    "rocket": "rocket",
}

#: Where the Kodak images are fetched from (``<base>/kodimNN.png``).
KODAK_BASE_URL = "http://r0k.us/graphics/kodak/kodak/"


@dataclass(frozen=True)
class ImageSource:
    """One image of a dataset: a stable name for reports and how to load it.

    ``kind`` is ``"file"`` (``ref`` is a path) or ``"skimage"`` (``ref`` is the name of a
    :mod:`skimage.data` function).
    """

    name: str
    kind: str
    ref: str

    def load(self) -> np.ndarray:
        """Return the image as a C-contiguous uint8 array of shape (H, W, 3) in sRGB."""
        if self.kind == "skimage":
            import skimage.data

            img = getattr(skimage.data, self.ref)()
            if isinstance(img, tuple):  # stereo_motorcycle -> (left, right, disparity)
                img = img[0]
            return to_rgb_u8(img)
        try:
            with Image.open(self.ref) as im:
                return to_rgb_u8(im)
        except (OSError, ValueError) as exc:
            raise LumacodecError(f"cannot read image {self.ref}: {exc}") from exc


@dataclass(frozen=True)
class Dataset:
    """A named, ordered list of images (``spec`` is what the user passed to ``--dataset``)."""

    spec: str
    description: str
    images: tuple[ImageSource, ...]
    #: Short name for plot titles: "samples", "kodak" or the folder's last two path parts.
    label: str = ""


def to_rgb_u8(image: Image.Image | np.ndarray) -> np.ndarray:
    """Convert a PIL image or an array (HxW or HxWx{1,3,4}, uint8) to uint8 HxWx3 RGB.

    Greyscale is repeated into three channels and alpha is dropped (not composited): the
    benchmark measures how codecs keep the colour pixels, and all of them see the same input.
    """
    if isinstance(image, Image.Image):
        if image.mode not in ("RGB", "L", "RGBA", "LA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        arr = np.asarray(image)
    else:
        arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise LumacodecError(f"expected 8-bit image data, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise LumacodecError(f"expected an HxW or HxWxC image, got shape {arr.shape}")
    if arr.shape[2] in (1, 2):
        arr = np.repeat(arr[..., :1], 3, axis=2)
    return np.ascontiguousarray(arr[..., :3])


def pixel_sha256(rgb: np.ndarray) -> str:
    """sha256 (hex) of a uint8 HxWx3 array's bytes in C order (the Kodak manifest's rule)."""
    return hashlib.sha256(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()).hexdigest()


def cache_dir() -> Path:
    """The download cache: ``$LUMACODEC_CACHE`` if set, else ``~/.cache/lumacodec``."""
    env = os.environ.get("LUMACODEC_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lumacodec"


def load_dataset(spec: str | None = None, limit: int | None = None) -> Dataset:
    """Resolve ``--dataset``: ``None``/``"samples"``, ``"kodak"``, or a folder of images.

    Images of a folder are the files with an image extension directly inside it (not in
    sub-folders), sorted by name; ``limit`` keeps the first ``limit`` of them.

    Raises
    ------
    LumacodecError
        If the folder does not exist or holds no images, or ``limit`` is not positive.
    """
    if limit is not None and limit < 1:
        raise LumacodecError(f"--limit must be at least 1, got {limit}")
    if spec is None or spec == "samples":
        images = tuple(ImageSource(n, "skimage", f) for n, f in sorted(SKIMAGE_SAMPLES.items()))
        description = "scikit-image sample photographs (" + ", ".join(SKIMAGE_SAMPLES) + ")"
        spec = label = "samples"
    elif spec == "kodak":
        paths = fetch_kodak()
        images = tuple(ImageSource(p.stem, "file", str(p)) for p in paths)
        description = "Kodak Lossless True Color Image Suite (24 images, pixel-verified)"
        label = "kodak"
    else:
        folder = Path(spec).expanduser()
        if not folder.is_dir():
            raise LumacodecError(f"dataset folder not found: {spec}")
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not files:
            raise LumacodecError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {spec}")
        images = tuple(ImageSource(p.name, "file", str(p)) for p in files)
        description = f"images in {spec}"
        label = "/".join(folder.resolve().parts[-2:])
    if limit is not None:
        images = images[:limit]
        description += f", first {len(images)} by name"
    return Dataset(spec=spec, description=description, images=images, label=label)


@dataclass(frozen=True)
class KodakEntry:
    """One line of the Kodak manifest: file name, size and the sha256 of its RGB pixels."""

    name: str
    width: int
    height: int
    sha256: str


def kodak_manifest() -> list[KodakEntry]:
    """Parse ``kodak_sha256.txt`` (package data) into its 24 entries."""
    text = resources.files(__package__).joinpath("kodak_sha256.txt").read_text("ascii")
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, size, digest = line.split()
        width, height = (int(v) for v in size.split("x"))
        entries.append(KodakEntry(name, width, height, digest))
    return entries


def fetch_kodak(
    cache: Path | None = None,
    base_url: str | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> list[Path]:
    """Return the paths of the verified Kodak images, downloading the missing ones.

    Parameters
    ----------
    cache
        Folder for the images; default ``cache_dir() / "kodak"``.
    base_url
        Where ``<name>`` is fetched from (``base_url + name``); default
        ``$LUMACODEC_KODAK_URL`` or :data:`KODAK_BASE_URL`.
    checksums
        ``{file name: sha256 of pixels}`` to use instead of the shipped manifest (tests serve
        their own images this way).
    timeout
        Seconds to wait for each HTTP response.

    Notes
    -----
    A file already in the cache is re-verified (decoding 24 PNGs takes well under a second), so
    a damaged cache is detected and re-downloaded rather than benchmarked. A download whose
    pixels do not match is refused with :class:`LumacodecError` and nothing is written.
    """
    cache = (cache_dir() / "kodak") if cache is None else Path(cache)
    base = base_url or os.environ.get("LUMACODEC_KODAK_URL") or KODAK_BASE_URL
    if not base.endswith("/"):
        base += "/"
    if checksums is None:
        checksums = {e.name: e.sha256 for e in kodak_manifest()}
    paths = []
    for name, digest in sorted(checksums.items()):
        path = cache / name
        if path.is_file() and _pixels_match(path.read_bytes(), digest):
            paths.append(path)
            continue
        url = base + name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                payload = response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise LumacodecError(f"cannot download {url}: {exc}") from exc
        if not _pixels_match(payload, digest):
            raise LumacodecError(
                f"{url} does not match the expected pixel checksum {digest[:12]}...; not cached"
            )
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache, prefix=name, suffix=".part", delete=False) as f:
            f.write(payload)
        os.replace(f.name, path)  # atomic: a reader never sees a half-written image
        paths.append(path)
    return paths


def _pixels_match(payload: bytes, digest: str) -> bool:
    """Whether ``payload`` decodes to an image whose RGB pixels hash to ``digest``."""
    try:
        with Image.open(io.BytesIO(payload)) as im:
            rgb = to_rgb_u8(im)
    except (OSError, ValueError, LumacodecError):
        return False
    return pixel_sha256(rgb) == digest.lower()
