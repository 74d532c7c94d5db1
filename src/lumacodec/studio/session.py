"""One photo being coloured in the studio: what is cached between the page's updates.

Every update of the page recolours the photo from scratch with the points it has now, so the
work that does not depend on the points is done once, when the photo or the reference
arrives: the photo's L at the preview size (long side :data:`PREVIEW_SIDE`) and the
reference's condition vector.  An update is then one run of the guided network at the
working size plus the spreading of the points (:func:`lumacodec.guided.colour_with`), about
0.1 s on two cores (``benchmarks/results/guided.md``).  A save runs the full
:func:`lumacodec.enhance` at the chosen scale on the original photo.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import weights
from ..color import lab_to_rgb_u8
from ..decoder import inference
from ..enhance import enhance, lightness
from ..errors import LumacodecError
from ..guided import colour_with, reference_photo, reference_vector
from ..luma_colour import check_colour
from ..points import Point, PointLike, check_points, points_document, scaled
from ..resample import resize

#: Long side of the preview the page shows (and colours at every update).
PREVIEW_SIDE = 1024
#: Largest photo the studio takes, and the largest image a save may make.
MAX_PHOTO_PIXELS = 24_000_000
MAX_OUTPUT_PIXELS = 100_000_000
SCALES = (1, 2, 4)


def png_bytes(rgb: np.ndarray | Image.Image, compress_level: int = 1) -> bytes:
    """An image as PNG bytes (fast compression by default: a preview is thrown away)."""
    im = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=compress_level)
    return buf.getvalue()


def check_pixels(image: Image.Image, what: str) -> None:
    limit = MAX_PHOTO_PIXELS
    if image.width * image.height > limit:
        raise LumacodecError(f"{what} is {image.width}×{image.height}: more than the studio's "
                             f"{limit / 1e6:g} megapixels")


@dataclass
class PhotoSession:
    """A photo, its preview L, and (once given) a reference photo's condition."""

    image: Image.Image
    name: str = "photo"
    networks: weights.NetworkSet | None = None
    reference: np.ndarray | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        check_pixels(self.image, self.name)
        self.width, self.height = self.image.size
        self.factor = min(1.0, PREVIEW_SIDE / max(self.width, self.height))
        size = (max(1, round(self.height * self.factor)), max(1, round(self.width * self.factor)))
        L = lightness(self.image)
        self.L_preview = np.clip(resize(L[None], size)[0], 0.0, 100.0)
        self.nets = (self.networks or weights.bundled()).to(torch.device("cpu"))
        if self.nets.guided_colorizer is None:
            raise LumacodecError("this network set has no guided colour network")
        self._reference_vector: torch.Tensor | None = None

    def set_reference(self, image: Image.Image | None, source: str = "the reference") -> None:
        """Take colours from ``image`` from now on (``None``: no reference)."""
        if image is None:
            self.reference, self._reference_vector = None, None
            return
        check_pixels(image, source)
        pixels = reference_photo(image, source)
        vec = reference_vector(pixels, self.nets.guided_colorizer.reference_bins)
        self.reference, self._reference_vector = pixels, vec

    def points(self, specs: Sequence[PointLike]) -> list[Point]:
        """The page's points (photo pixels), checked: a bad one is a one-line error."""
        return check_points(specs, self.width, self.height, "point list")

    def preview(self, specs: Sequence[PointLike], colour: str = "vivid") -> bytes:
        """The photo coloured with these points at the preview size, as PNG."""
        check_colour(colour)
        pts = [scaled(p, self.factor) for p in self.points(specs)]
        h, w = self.L_preview.shape
        pts = [Point(min(p.x, w - 1), min(p.y, h - 1), p.rgb, p.radius) for p in pts]
        with self.lock, inference(torch.device("cpu")):
            ab = colour_with(self.nets.guided_colorizer, torch.device("cpu"), self.L_preview,
                             pts, self._reference_vector, colour)
        return png_bytes(lab_to_rgb_u8(np.stack([self.L_preview, ab[0], ab[1]], -1)))

    def save(self, specs: Sequence[PointLike], colour: str = "vivid", scale: int = 2) -> bytes:
        """The photo enhanced at ``scale`` with these points and the reference, as PNG."""
        if scale not in SCALES:
            raise LumacodecError(f"scale must be one of {', '.join(map(str, SCALES))}")
        if self.width * self.height * scale * scale > MAX_OUTPUT_PIXELS:
            raise LumacodecError(f"×{scale} of a {self.width}×{self.height} photo is more "
                                 f"than {MAX_OUTPUT_PIXELS / 1e6:g} megapixels")
        pts = self.points(specs)
        with self.lock:
            out = enhance(self.image, scale, colour=colour, points=pts,
                          reference=self.reference, networks=self.nets, device="cpu")
        return png_bytes(out, compress_level=6)

    def document(self, specs: Sequence[PointLike]) -> dict[str, Any]:
        """The points file of these points (as ``lumacodec enhance --points`` reads it)."""
        return points_document(self.points(specs), self.width, self.height)


def timed(f: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``f(*args, **kwargs)`` and the seconds it took."""
    t = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t
