"""Colour points: where a person says what colour a thing is, and the file that keeps them.

A point is a position in the pixel coordinates of the input image (x to the right, y down,
from the top-left corner; fractions allowed), an sRGB colour, and the half-side of the small
square it covers (``radius``, in input pixels).  The points file, which ``lumacodec enhance
--points`` reads and ``lumacodec studio`` writes, is JSON (``docs/guides/guided-colour.md``)::

    {"version": 1, "width": 768, "height": 512,
     "points": [{"x": 120, "y": 200, "colour": "#c0392b", "radius": 3},
                {"x": 400.5, "y": 96, "colour": [40, 90, 200]}]}

``colour`` is ``"#rrggbb"`` (or ``"#rgb"``) or a 0-255 ``[r, g, b]``; ``radius`` defaults to
:data:`DEFAULT_RADIUS`; ``width``/``height``, when given, are the image the points were placed
on, and points on an image of another size are scaled to it.  A bare list of points is read
too.  For a film, a keyframes file gives points per frame index::

    {"version": 1, "keyframes": [{"frame": 0, "points": [...]}, {"frame": 240, "points": [...]}]}

Every error is a :class:`~lumacodec.errors.LumacodecError` of one line naming the file and
the point.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LumacodecError
from .files import atomic_write, read_bytes

#: Half-side of a point's square, in input pixels, when the file does not say.
DEFAULT_RADIUS = 3
#: Largest radius accepted (a point is a sample, not a fill).
MAX_RADIUS = 64
#: Most points in one file, and the largest points file read.
MAX_POINTS = 10_000
MAX_FILE_BYTES = 8 << 20
FORMAT_VERSION = 1

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True)
class Point:
    """One colour point: ``x``, ``y`` in input pixels, ``rgb`` 0-255, ``radius`` in pixels."""

    x: float
    y: float
    rgb: tuple[int, int, int]
    radius: int = DEFAULT_RADIUS

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


PointLike = Point | Sequence[Any] | dict[str, Any]


def scaled(point: Point, factor: float) -> Point:
    """``point`` on the image scaled by ``factor`` (its position and radius)."""
    return Point(point.x * factor, point.y * factor, point.rgb, round(point.radius * factor))


def parse_colour(value: Any) -> tuple[int, int, int]:
    """An sRGB colour from ``"#rrggbb"``, ``"#rgb"`` or three integers 0-255."""
    if isinstance(value, str):
        m = _HEX.fullmatch(value.strip())
        if m is None:
            raise ValueError(f"colour {value!r} is not #rrggbb")
        digits = m.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    if (isinstance(value, Sequence) and len(value) == 3
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255
                    for c in value)):
        return int(value[0]), int(value[1]), int(value[2])
    raise ValueError(f"colour {value!r} is neither #rrggbb nor three integers 0-255")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} {value!r} is not a number")
    return float(value)


def make_point(spec: PointLike) -> Point:
    """A :class:`Point` from a Point, ``(x, y, colour)`` or ``(x, y, colour, radius)``, or a
    mapping with keys ``x``, ``y``, ``colour`` (or ``color``) and optional ``radius``;
    ``ValueError`` says what is wrong."""
    if isinstance(spec, Point):
        x, y, colour, radius = spec.x, spec.y, spec.rgb, spec.radius
    elif isinstance(spec, dict):
        unknown = set(spec) - {"x", "y", "colour", "color", "radius"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r}")
        if "x" not in spec or "y" not in spec:
            raise ValueError("needs x and y")
        colour = spec.get("colour", spec.get("color"))
        if colour is None:
            raise ValueError("needs a colour")
        x, y, radius = spec["x"], spec["y"], spec.get("radius", DEFAULT_RADIUS)
    elif isinstance(spec, Sequence) and not isinstance(spec, str) and len(spec) in (3, 4):
        x, y, colour = spec[:3]
        radius = spec[3] if len(spec) == 4 else DEFAULT_RADIUS
    else:
        raise ValueError("is not (x, y, colour[, radius]) nor {x, y, colour}")
    if isinstance(radius, bool) or not isinstance(radius, int) or not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"radius {radius!r} is not an integer 0-{MAX_RADIUS}")
    return Point(_number(x, "x"), _number(y, "y"), parse_colour(colour), int(radius))


def check_points(points: Iterable[PointLike], width: int, height: int,
                 source: str = "points") -> list[Point]:
    """``points`` as :class:`Point` objects, each checked to lie in a ``width`` × ``height``
    image; a :class:`LumacodecError` names the first bad one (by its index in ``source``)."""
    out = []
    for i, spec in enumerate(points):
        if i >= MAX_POINTS:
            raise LumacodecError(f"{source}: more than {MAX_POINTS} points")
        try:
            p = make_point(spec)
        except ValueError as exc:
            raise LumacodecError(f"{source}: point {i}: {exc}") from None
        if not (0 <= p.x < width and 0 <= p.y < height):
            raise LumacodecError(f"{source}: point {i} at ({p.x:g}, {p.y:g}) is outside the "
                                 f"{width}×{height} image")
        out.append(p)
    return out


def _scaled(points: list[Any], doc: dict[str, Any], width: int, height: int, source: str
            ) -> list[Any]:
    """Points placed on an image of ``doc``'s width/height, scaled to ``width``×``height``."""
    if "width" not in doc and "height" not in doc:
        return points
    try:
        w0, h0 = _number(doc.get("width"), "width"), _number(doc.get("height"), "height")
    except ValueError as exc:
        raise LumacodecError(f"{source}: {exc}") from None
    if w0 <= 0 or h0 <= 0:
        raise LumacodecError(f"{source}: width and height must be positive")
    if (w0, h0) == (width, height):
        return points
    sx, sy = width / w0, height / h0
    out = []
    for i, spec in enumerate(points):
        try:
            p = make_point(spec)
        except ValueError as exc:
            raise LumacodecError(f"{source}: point {i}: {exc}") from None
        out.append(Point(p.x * sx, p.y * sy, p.rgb, max(0, round(p.radius * min(sx, sy)))))
    return out


def _read_json(path: str | Path) -> Any:
    data = read_bytes(path, MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise LumacodecError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MB: not a points file")
    if not data.strip():
        raise LumacodecError(f"{path}: the points file is empty")
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LumacodecError(f"{path}: not a JSON points file ({exc})") from None


def _points_of(doc: Any, source: str) -> tuple[list[Any], dict[str, Any]]:
    """The list of point specs of a points document, and the document (for its size)."""
    if isinstance(doc, list):
        return doc, {}
    if not isinstance(doc, dict) or not isinstance(doc.get("points"), list):
        raise LumacodecError(f"{source}: not a points file (expected a list of points or "
                             "an object with a \"points\" list)")
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise LumacodecError(f"{source}: points file version {version!r} is not supported "
                             f"(this lumacodec reads version {FORMAT_VERSION})")
    return doc["points"], doc


def points_from_document(doc: Any, width: int, height: int, source: str = "points"
                         ) -> list[Point]:
    """The points of a parsed points document (what :func:`points_document` makes; a bare
    list too) for an image of ``width`` × ``height``, errors naming ``source``."""
    points, meta = _points_of(doc, source)
    return check_points(_scaled(points, meta, width, height, source), width, height, source)


def load_points(path: str | Path, width: int, height: int) -> list[Point]:
    """The points of a points file for an image of ``width`` × ``height``."""
    return points_from_document(_read_json(path), width, height, str(path))


def load_keyframes(path: str | Path, width: int, height: int) -> dict[int, list[Point]]:
    """The points of a keyframes file by frame index (a plain points file: frame 0)."""
    doc = _read_json(path)
    if not (isinstance(doc, dict) and "keyframes" in doc):
        return {0: load_points(path, width, height)}
    frames = doc["keyframes"]
    if not isinstance(frames, list) or not frames:
        raise LumacodecError(f"{path}: \"keyframes\" must be a non-empty list")
    out: dict[int, list[Point]] = {}
    for k, entry in enumerate(frames):
        where = f"{path}: keyframe {k}"
        if not isinstance(entry, dict):
            raise LumacodecError(f"{where} is not an object")
        frame = entry.get("frame")
        if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
            raise LumacodecError(f"{where}: frame {frame!r} is not a frame index")
        if frame in out:
            raise LumacodecError(f"{where}: frame {frame} given twice")
        points, _ = _points_of({**doc, **entry, "version": doc.get("version", 1)}, where)
        out[frame] = check_points(_scaled(points, doc, width, height, where), width, height,
                                  where)
    return out


def points_document(points: Sequence[Point], width: int, height: int) -> dict[str, Any]:
    """The JSON document of a points file."""
    return {"version": FORMAT_VERSION, "width": width, "height": height,
            "points": [{"x": _plain(p.x), "y": _plain(p.y), "colour": p.hex,
                        "radius": p.radius} for p in points]}


def _plain(v: float) -> float | int:
    """A coordinate as JSON writes it best: 12, not 12.0."""
    return int(v) if float(v).is_integer() else round(float(v), 3)


def save_points(path: str | Path, points: Sequence[Point], width: int, height: int) -> None:
    """Write a points file (atomically)."""
    text = json.dumps(points_document(points, width, height), indent=1)
    atomic_write(path, (text + "\n").encode())
