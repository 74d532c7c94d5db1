"""Which files a folder transcode takes, and where their outputs go.

::

    src: a folder | "photos/**/*.jpg" | [paths]
      ─► (file, its path relative to the mirrored folder)   hidden names and dst_dir left out
      ─► (source, dst_dir/<rel>.<out_suffix>) pairs, sorted by source
    up_to_date(src, dst): the resume rule (an output at least as new as its source)
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from itertools import takewhile
from pathlib import Path

from .errors import LumacodecError
from .files import PathLike

#: What ``src`` may be: a folder, a glob pattern, one file, or a list of files.
Sources = PathLike | Iterable[PathLike]
_GLOB_MAGIC = frozenset("*?[")


def is_many(src: PathLike) -> bool:
    """Whether ``src`` names many files, a folder or a glob pattern, rather than one file (a
    file whose name has ``*?[`` in it is one file)."""
    path = Path(src)
    return path.is_dir() or (not path.exists() and bool(_GLOB_MAGIC.intersection(str(src))))


def pairs(
    src: Sources, dst_dir: PathLike, suffixes: Iterable[str], out_suffix: str, what: str
) -> list[tuple[Path, Path]]:
    """(source, output) for every file with one of ``suffixes`` that ``src`` names, sorted by
    source; ``dst_dir`` is made.  ``what`` names the files in an error ("image", "stream")."""
    for where in (src, dst_dir):
        if isinstance(where, str) and "://" in where:  # rather than a local folder "s3:"
            raise LumacodecError(f"object-storage paths are not supported yet: {where} (use a "
                                 "folder every worker sees, e.g. NFS; docs/guides/ray.md)")
    dst_dir = Path(dst_dir)
    if dst_dir.exists() and not dst_dir.is_dir():
        raise LumacodecError(f"the output folder is a file: {dst_dir}")
    found = sorted(_sources(src, frozenset(suffixes), dst_dir, what))
    dst_dir.mkdir(parents=True, exist_ok=True)
    return [(path, dst_dir / rel.with_suffix(out_suffix)) for path, rel in found]


def up_to_date(src: Path, dst: Path) -> bool:
    """Whether ``dst`` exists and is at least as new as ``src``."""
    try:
        return dst.stat().st_mtime_ns >= src.stat().st_mtime_ns
    except OSError:
        return False


def _sources(
    src: Sources, suffixes: frozenset[str], dst_dir: Path, what: str
) -> list[tuple[Path, Path]]:
    """(file, its path relative to the folder that is mirrored) for what ``src`` names."""
    if not isinstance(src, (str, os.PathLike)):
        return _listed([Path(p) for p in src])
    path = Path(src)
    if path.is_dir():
        return [(p, p.relative_to(path)) for p in _walk(path, suffixes, dst_dir)]
    if path.exists():
        return _listed([path])
    text = os.fspath(src)
    if not _GLOB_MAGIC.intersection(text):
        raise LumacodecError(f"no such file or folder: {src}")
    root = Path(*takewhile(lambda part: not _GLOB_MAGIC.intersection(part), path.parts))
    matches = [Path(p) for p in glob.glob(text, recursive=True)]
    found = [(p, p.relative_to(root)) for p in matches
             if p.is_file() and p.suffix.lower() in suffixes and not _inside(p, dst_dir)]
    if not found:
        raise LumacodecError(f"no {what} files match {src}")
    return found


def _walk(root: Path, suffixes: frozenset[str], skip: Path) -> Iterator[Path]:
    """Files under ``root`` with one of ``suffixes``, leaving out hidden names and ``skip``."""
    skip = skip.resolve()
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".") and (here / d).resolve() != skip]
        for name in names:
            if not name.startswith(".") and Path(name).suffix.lower() in suffixes:
                yield here / name


def _listed(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Listed files, mirrored from their common folder (by name when they have none)."""
    if not paths:
        return []
    try:
        common = os.path.commonpath([os.path.abspath(p.parent) for p in paths])
    except ValueError:  # different drives
        return [(p, Path(p.name)) for p in paths]
    return [(p, Path(os.path.relpath(os.path.abspath(p), common))) for p in paths]


def _inside(path: Path, folder: Path) -> bool:
    return folder.resolve() in path.resolve().parents
