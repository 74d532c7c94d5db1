"""Reading the boxes of an AVIF file, only as far as checking what it declares before decoding.

A plane stored as a whole AVIF file (codec 2) must not make libavif decode anything bigger,
or other, than the plane the stream header fixes: a few hundred bytes can declare a
16-megapixel picture.  :func:`check_avif_plane` reads the ISOBMFF boxes (ISO/IEC 14496-12)
and the AV1 sequence headers of the items' data, pure integer work on bytes, and refuses the
file unless every image item is one AV1 still image of exactly the plane's size.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .avif import frame_size
from .errors import LumacodecError

#: Item types a plane's AVIF file may hold: AV1 images, and metadata nobody decodes.
_IMAGE_ITEM = b"av01"
_METADATA_ITEMS = (b"Exif", b"mime")
#: Boxes that make libavif decode something other than the meta box's items.
_REFUSED_TOP_LEVEL = (b"moov", b"moof")
#: More items than any still image needs (libavif writes one or two).
MAX_ITEMS = 16


def _error(what: str) -> LumacodecError:
    return LumacodecError(f"corrupt AVIF plane: {what}")


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in ``data[start:end]``."""
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise _error("a box header is cut off")
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            if pos + 16 > end:
                raise _error("a box header is cut off")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise _error(f"box {kind!r} overruns its container")
        yield kind, pos + head, pos + size
        pos += size


class _Reader:
    """Big-endian integers from ``data[pos:end]``, each read checked against ``end``."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def uint(self, nbytes: int) -> int:
        if self.pos + nbytes > self.end:
            raise _error("a box is cut off")
        value = int.from_bytes(self.data[self.pos : self.pos + nbytes], "big")
        self.pos += nbytes
        return value

    def skip_string(self) -> None:
        nul = self.data.find(b"\0", self.pos, self.end)
        self.pos = self.end if nul < 0 else nul + 1


@dataclass
class _Meta:
    primary: int | None = None
    types: dict[int, bytes] = field(default_factory=dict)
    extents: dict[int, tuple[int, list[tuple[int, int]]]] = field(default_factory=dict)
    properties: list[tuple[bytes, int, int]] = field(default_factory=list)
    associations: dict[int, list[int]] = field(default_factory=dict)
    idat: tuple[int, int] | None = None


def _parse_iinf(data: bytes, start: int, end: int, meta: _Meta) -> None:
    r = _Reader(data, start, end)
    version = r.uint(4) >> 24
    count = r.uint(2 if version == 0 else 4)
    if count > MAX_ITEMS:
        raise _error(f"{count} items (at most {MAX_ITEMS})")
    for kind, s, e in _boxes(data, r.pos, end):
        if kind != b"infe":
            continue
        infe = _Reader(data, s, e)
        infe_version = infe.uint(4) >> 24
        if infe_version < 2:
            raise _error(f"item info version {infe_version} is not supported")
        item = infe.uint(2 if infe_version == 2 else 4)
        infe.uint(2)  # protection index
        meta.types[item] = bytes(data[infe.pos : infe.pos + 4])
        infe.uint(4)
    if len(meta.types) > MAX_ITEMS:
        raise _error(f"more than {MAX_ITEMS} items")


def _parse_iloc(data: bytes, start: int, end: int, meta: _Meta) -> None:
    r = _Reader(data, start, end)
    version = r.uint(4) >> 24
    if version > 2:
        raise _error(f"item location version {version} is not supported")
    sizes = r.uint(2)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 0xF
    base_offset_size, index_size = (sizes >> 4) & 0xF, sizes & 0xF
    if version == 0:
        index_size = 0
    count = r.uint(2 if version < 2 else 4)
    if count > MAX_ITEMS:
        raise _error(f"{count} item locations (at most {MAX_ITEMS})")
    for _ in range(count):
        item = r.uint(2 if version < 2 else 4)
        method = r.uint(2) & 0xF if version else 0
        r.uint(2)  # data reference index
        base = r.uint(base_offset_size)
        extents = []
        extent_count = r.uint(2)
        if extent_count > MAX_ITEMS:
            raise _error(f"{extent_count} extents (at most {MAX_ITEMS})")
        for _ in range(extent_count):
            r.uint(index_size)
            extents.append((base + r.uint(offset_size), r.uint(length_size)))
        meta.extents[item] = (method, extents)


def _parse_iprp(data: bytes, start: int, end: int, meta: _Meta) -> None:
    for kind, s, e in _boxes(data, start, end):
        if kind == b"ipco":
            meta.properties = list(_boxes(data, s, e))
            if len(meta.properties) > 4 * MAX_ITEMS:
                raise _error("too many item properties")
        elif kind == b"ipma":
            r = _Reader(data, s, e)
            version_flags = r.uint(4)
            version, wide = version_flags >> 24, version_flags & 1
            for _ in range(min(r.uint(4), MAX_ITEMS + 1)):
                item = r.uint(2 if version < 1 else 4)
                indices = [r.uint(2 if wide else 1) & (0x7FFF if wide else 0x7F)
                           for _ in range(r.uint(1))]
                meta.associations.setdefault(item, []).extend(indices)


_META_PARSERS: dict[bytes, Callable[[bytes, int, int, _Meta], None]] = {
    b"iinf": _parse_iinf, b"iloc": _parse_iloc, b"iprp": _parse_iprp,
}


def _parse_meta(data: bytes, start: int, end: int) -> _Meta:
    meta = _Meta()
    for kind, s, e in _boxes(data, start + 4, end):  # meta is a full box
        if kind in _META_PARSERS:
            _META_PARSERS[kind](data, s, e, meta)
        elif kind == b"pitm":
            r = _Reader(data, s, e)
            meta.primary = r.uint(2 if r.uint(4) >> 24 == 0 else 4)
        elif kind == b"idat":
            meta.idat = (s, e)
    return meta


def _item_data(data: bytes, meta: _Meta, item: int) -> bytes:
    method, extents = meta.extents.get(item, (0, []))
    if method not in (0, 1) or not extents:
        raise _error(f"item {item} has no data in the file")
    base, limit = (0, len(data)) if method == 0 else (meta.idat or (0, 0))
    out = bytearray()
    for offset, length in extents:
        lo = base + offset
        hi = limit if length == 0 else lo + length
        if lo > limit or hi > limit:
            raise _error(f"item {item}'s data lies outside the file")
        out += data[lo:hi]
    return bytes(out)


def check_avif_plane(data: bytes, width: int, height: int) -> None:
    """Refuse an AVIF file unless each of its images is one AV1 frame of ``width`` x
    ``height``, as both its ``ispe`` property and its AV1 sequence header declare."""
    metas = []
    for kind, s, e in _boxes(data, 0, len(data)):
        if kind in _REFUSED_TOP_LEVEL:
            raise _error(f"an image sequence ({kind.decode('latin-1')}) is not a plane")
        if kind == b"meta":
            metas.append(_parse_meta(data, s, e))
    if len(metas) != 1:
        raise _error(f"{len(metas)} meta boxes (one expected)")
    meta = metas[0]
    images = [item for item, kind in meta.types.items() if kind == _IMAGE_ITEM]
    others = {kind for kind in meta.types.values()} - {_IMAGE_ITEM, *_METADATA_ITEMS}
    if others:
        names = ", ".join(sorted(k.decode("latin-1") for k in others))
        raise _error(f"item types {names} are not allowed in a plane")
    if meta.primary not in images:
        raise _error("the primary item is not an AV1 image")
    for item in images:
        sizes = set()
        for index in meta.associations.get(item, []):
            if not 1 <= index <= len(meta.properties):
                raise _error(f"item {item} names a missing property")
            kind, s, e = meta.properties[index - 1]
            if kind == b"ispe":
                r = _Reader(data, s, e)
                r.uint(4)
                sizes.add((r.uint(4), r.uint(4)))
        if sizes != {(width, height)}:
            found = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)) or "no size"
            raise _error(f"item {item} declares {found}, the stream says {width}x{height}")
        if frame_size(_item_data(data, meta, item)) != (width, height):
            raise _error(f"item {item}'s AV1 sequence header is not {width}x{height}")
