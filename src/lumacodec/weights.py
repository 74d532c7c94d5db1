"""The bundled network set: weight files, their manifest, and the set's identity.

``weights/manifest.json`` records, for each network, the file, its sha256 and how it was
made (command, data, steps, wall time, validation metrics; for a ×2/×4 network trained on the
×1 networks' output, ``restored_by``: the sha256 of ``sr_x1`` or, for one trained after the
fast restorers, of each ×1 network by name, and for a colorizer trained on restored hints,
``hint_restored_by``: the hint restorer's, all checked on loading).  The
*network id* that every stream carries is the first 8 bytes of the sha256 of the sorted
``name:sha256`` lines of the networks that decode streams, so a stream names exactly the
weights that its decoder must run, and a retrained set is a different id.  The networks of
:func:`lumacodec.enhance` (uncoded inputs) are part of the set but not of its id: they never
touch a stream.

When a stream-decoding network is replaced or added, the manifest keeps the set before under
``earlier_sets`` (its id and every network's sha256), so the new set still decodes, exactly as
before, the streams of an earlier set whose decoding runs only networks the two have in common
(a hinted stream after a new colour-from-L network, say).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .container import NETWORK_ID_BYTES
from .errors import LumacodecError
from .networks import (
    Colorizer,
    GuidedColorizer,
    HintRestorer,
    LumaColorizer,
    SuperResolution,
    load_network,
)

BUNDLED_DIR = Path(__file__).with_name("weights")
MANIFEST = "manifest.json"
#: The networks that decode streams (their digests make the network id), by manifest name.
#: ``sr_x1_fast``, ``sr_x1_fine`` and ``sr_x1_top`` restore full-resolution planes of coarse,
#: fine and top base layers (each over the base qualities its config names); ``sr_x1``
#: restores the others and the low-resolution planes that the ×2/×4 cascades were trained
#: after.
RESTORERS = ("sr_x1_fast", "sr_x1_fine", "sr_x1_top")
#: ``hint_restorer_dense`` restores the dense hints (1/2, 1/4) that ``hint_restorer`` (1/8 and
#: sparser, the colorizer's) leaves as they are.
HINT_RESTORERS = ("hint_restorer_dense",)
DECODER_NETWORKS = ("sr_x1", *RESTORERS, "sr_x2", "sr_x4", "hint_restorer", *HINT_RESTORERS,
                    "colorizer", "luma_colorizer")
#: SR of clean, uncoded L, by manifest name (``sr_x<scale>_clean``).
SR_CLEAN_NETWORKS = ("sr_x2_clean",)
#: The networks of :func:`lumacodec.enhance` only (no stream runs them, so they are not part
#: of the network id): SR of clean L and the guided colour network (points, references).
ENHANCE_NETWORKS = (*SR_CLEAN_NETWORKS, "guided_colorizer")
#: Networks a set may lack: ``sr_x1`` then restores the planes they would have, and the hints
#: of the dense hint restorer go to the colorizer as decoded (as in the sets before them); a
#: set without the guided network colours from L alone and refuses points and references.
OPTIONAL_NETWORKS = (*RESTORERS, *HINT_RESTORERS, "guided_colorizer")
#: The networks that decode any enhanced stream, and those of its colour by kind of stream.
_SR_NETWORKS = tuple(n for n in DECODER_NETWORKS if n.startswith("sr_"))
_COLOUR_NETWORKS = {"hinted": ("hint_restorer", *HINT_RESTORERS, "colorizer"),
                    "luma": ("luma_colorizer",),
                    "grey": ()}
#: The networks a complete set holds.
NETWORK_NAMES = DECODER_NETWORKS + ENHANCE_NETWORKS
_MOVE_LOCK = threading.Lock()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def network_id(digests: dict[str, str]) -> bytes:
    """The 8-byte identity of a set of networks given ``{name: sha256 hex}``."""
    lines = "".join(f"{name}:{digests[name]}\n" for name in sorted(digests))
    return hashlib.sha256(lines.encode()).digest()[:NETWORK_ID_BYTES]


@dataclass(frozen=True)
class EarlierSet:
    """A set that an earlier release shipped, as the current one sees it: its id, the
    stream-decoding networks it had that the current set does not have the same (by sha256),
    and the optional ones it did not have (where they would run, ``sr_x1`` ran)."""

    id: bytes
    changed: frozenset[str]
    lacks: frozenset[str] = frozenset()


def earlier_sets(manifest: dict[str, Any]) -> tuple[EarlierSet, ...]:
    """The manifest's ``earlier_sets``, compared with its current networks."""
    now = {n: e["sha256"] for n, e in manifest["networks"].items()}
    out = []
    for entry in manifest.get("earlier_sets", []):
        digests = entry["networks"]
        changed = frozenset(n for n, sha in digests.items() if now.get(n) != sha)
        lacks = frozenset(n for n in OPTIONAL_NETWORKS if n in now and n not in digests)
        out.append(EarlierSet(network_id(digests), changed, lacks))
    return tuple(out)


@dataclass
class NetworkSet:
    """The networks one decoder runs: SR of the decoded base layer per scale (1 = restoration
    of full-resolution planes), the colorizer and the hint restorer (None: hints go to the
    colorizer as decoded), plus their identity; the SR networks of clean L per scale that
    :func:`lumacodec.enhance` runs (empty: it uses ``sr``); the colour-from-L network of
    streams without a hint and of ``enhance`` (None: the colorizer runs without a hint); the
    fast restoration networks of full-resolution planes by manifest name (:data:`RESTORERS`,
    each over its base qualities; ``sr[1]`` restores the others); the earlier sets (the
    manifest's ``earlier_sets``) whose streams it may decode as they were; and the other hint
    restorers by manifest name (:data:`HINT_RESTORERS`, each over its hint factors and
    qualities); the guided colour network of :func:`lumacodec.enhance`'s points and
    reference photos (None: the set has none)."""

    sr: dict[int, SuperResolution]
    colorizer: Colorizer
    id: bytes
    sr_clean: dict[int, SuperResolution] = field(default_factory=dict)
    hint_restorer: HintRestorer | None = None
    luma_colorizer: LumaColorizer | None = None
    restorers: dict[str, SuperResolution] = field(default_factory=dict)
    earlier: tuple[EarlierSet, ...] = ()
    hint_restorers: dict[str, HintRestorer] = field(default_factory=dict)
    guided_colorizer: GuidedColorizer | None = None

    def restorer_for(self, base_quality: int) -> SuperResolution:
        """The ×1 network that restores a full-resolution plane of ``base_quality``: the fast
        restorer that serves that quality, else ``sr[1]``."""
        for net in self.restorers.values():
            if net.handles(base_quality):
                return net
        return self.sr[1]

    def hint_restorer_for(self, factor: int, quality: int) -> HintRestorer | None:
        """The network that restores a hint at 1/``factor`` of ``quality``, if the set has one
        trained on it (None: the hint goes to the colorizer as decoded)."""
        for net in (self.hint_restorer, *self.hint_restorers.values()):
            if net is not None and net.handles(factor, quality):
                return net
        return None

    def for_stream(
        self, stream_id: bytes, kind: str = "luma", scale: int | None = None
    ) -> NetworkSet | None:
        """The set that decodes a stream of ``stream_id`` as its encoder's set did: this one,
        or this one standing for an earlier set when every network that a stream of ``kind``
        (``"hinted"``, ``"luma"``: colour from L, ``"grey"``) and of base-layer ``scale``
        (None: any) runs is unchanged since it (None: neither; the all-zero id matches any)."""
        if stream_id in (self.id, bytes(NETWORK_ID_BYTES)) or self.id == bytes(NETWORK_ID_BYTES):
            return self
        sr = _SR_NETWORKS if scale is None else (
            "sr_x1", *RESTORERS, *((f"sr_x{scale}",) if scale > 1 else ()))
        for old in self.earlier:
            if old.id == stream_id:
                if old.changed.intersection(sr + _COLOUR_NETWORKS[kind]):
                    return None
                return dataclasses.replace(
                    self, id=stream_id, earlier=(),
                    restorers={n: r for n, r in self.restorers.items() if n not in old.lacks},
                    hint_restorers={n: r for n, r in self.hint_restorers.items()
                                    if n not in old.lacks})
        return None

    def with_restorers(self, files: dict[str, Path]) -> NetworkSet:
        """This set with the full-resolution restorers named in ``files`` (of
        :data:`RESTORERS`) loaded from those weights files instead: candidates measured or
        trained on before adoption.  The id stays this set's; no stream names such a set."""
        unknown = set(files) - set(RESTORERS)
        if unknown:
            raise LumacodecError(f"not a restorer: {', '.join(sorted(unknown))} (one of "
                                 f"{', '.join(RESTORERS)})")
        return dataclasses.replace(self, restorers={
            **self.restorers, **{n: load_network(Path(f)) for n, f in files.items()}})

    def to(self, device: torch.device) -> NetworkSet:
        """Move (in place) to ``device``, channels-last: ~1.5x faster convolutions on CPUs.
        Safe to call from many threads at once (one moves, the others then find it done)."""
        fmt = torch.channels_last
        with _MOVE_LOCK:
            return NetworkSet(
                {s: n.to(device, memory_format=fmt) for s, n in self.sr.items()},
                self.colorizer.to(device, memory_format=fmt),
                self.id,
                {s: n.to(device, memory_format=fmt) for s, n in self.sr_clean.items()},
                self.hint_restorer.to(device, memory_format=fmt) if self.hint_restorer else None,
                self.luma_colorizer.to(device, memory_format=fmt) if self.luma_colorizer else None,
                {n: r.to(device, memory_format=fmt) for n, r in self.restorers.items()},
                self.earlier,
                {n: r.to(device, memory_format=fmt) for n, r in self.hint_restorers.items()},
                self.guided_colorizer.to(device, memory_format=fmt)
                if self.guided_colorizer else None,
            )


def read_manifest(directory: Path = BUNDLED_DIR) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.exists():
        return {"networks": {}}
    return json.loads(path.read_text())


def write_manifest_entry(
    name: str, weights_file: Path, directory: Path = BUNDLED_DIR, **info: Any
) -> None:
    """Record (or replace) one network's entry: file name, sha256 and ``info`` (command, data,
    steps, wall_time_s, validation, ...).  Training calls this when it exports weights."""
    manifest = read_manifest(directory)
    before = {n: e["sha256"] for n, e in manifest["networks"].items() if n in DECODER_NETWORKS}
    manifest["networks"][name] = {
        "file": Path(weights_file).name,
        "sha256": file_sha256(Path(weights_file)),
        **info,
    }
    digests = {n: e["sha256"] for n, e in manifest["networks"].items()
               if n not in ENHANCE_NETWORKS}
    complete = all(n in before for n in DECODER_NETWORKS if n not in OPTIONAL_NETWORKS)
    if complete and name in DECODER_NETWORKS and before.get(name) != digests[name]:
        # a stream-decoding network replaced or added: keep the set before (see module doc)
        known = [e["id"] for e in manifest.get("earlier_sets", [])]
        if network_id(before).hex() not in known:
            manifest.setdefault("earlier_sets", []).append(
                {"id": network_id(before).hex(), "networks": before})
    manifest["network_id"] = network_id(digests).hex()
    (Path(directory) / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def load_listed(
    name: str, directory: Path = BUNDLED_DIR, entries: dict[str, Any] | None = None
) -> torch.nn.Module:
    """Network ``name`` of the manifest in ``directory``, its file checked against the
    manifest's sha256 (``entries``: the manifest's networks, if already read)."""
    entry = (read_manifest(directory)["networks"] if entries is None else entries)[name]
    path = Path(directory) / entry["file"]
    if not path.exists() or file_sha256(path) != entry["sha256"]:
        raise LumacodecError(f"network weights {path} are missing or do not match the manifest")
    return load_network(path)


def load_network_set(directory: Path = BUNDLED_DIR) -> NetworkSet:
    """Load and verify every network of the set in ``directory`` (sha256 against the manifest)."""
    manifest = read_manifest(directory)
    entries = manifest["networks"]
    missing = [n for n in NETWORK_NAMES if n not in entries and n not in OPTIONAL_NETWORKS]
    if missing:
        raise LumacodecError(
            f"network weights missing from {directory}: {', '.join(missing)} "
            "(decode with enhance=False for the classical reconstruction)"
        )
    names = [n for n in NETWORK_NAMES if n in entries]
    nets = {name: load_listed(name, directory, entries) for name in names}
    for name in (n for n in DECODER_NETWORKS if n in nets):
        if not getattr(nets[name], "restored_input", False):
            continue
        trained_after = entries[name].get("restored_by")
        if not isinstance(trained_after, dict):  # the first cascades: a digest of sr_x1
            trained_after = {"sr_x1": trained_after}
        for x1, sha in trained_after.items():
            now = entries.get(x1, {}).get("sha256")
            if now != sha:
                raise LumacodecError(
                    f"{name} was trained on the output of {x1} {str(sha)[:12]}, but this "
                    f"set's {x1} is {str(now)[:12]}: retrain {name} after it"
                )
    hints_by = entries["colorizer"].get("hint_restored_by")
    if hints_by is not None and hints_by != entries["hint_restorer"]["sha256"]:
        raise LumacodecError(
            f"the colorizer was trained on hints restored by hint_restorer {hints_by[:12]}, but "
            f"this set's is {entries['hint_restorer']['sha256'][:12]}: retrain the colorizer"
        )
    digests = {n: entries[n]["sha256"] for n in DECODER_NETWORKS if n in nets}
    sr = {s: nets[f"sr_x{s}"] for s in (1, 2, 4)}
    sr_clean = {int(n.removeprefix("sr_x").removesuffix("_clean")): nets[n]
                for n in SR_CLEAN_NETWORKS}
    return NetworkSet(sr, nets["colorizer"], network_id(digests), sr_clean,
                      nets["hint_restorer"], nets["luma_colorizer"],
                      {n: nets[n] for n in RESTORERS if n in nets}, earlier_sets(manifest),
                      {n: nets[n] for n in HINT_RESTORERS if n in nets},
                      nets.get("guided_colorizer"))


_BUNDLED_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _load_bundled() -> NetworkSet:
    return load_network_set(BUNDLED_DIR)


def bundled() -> NetworkSet:
    """The network set shipped in the package, loaded once per process (the first of many
    threads that ask loads it; the others wait for it)."""
    with _BUNDLED_LOCK:
        return _load_bundled()


def bundled_id() -> bytes:
    """The id new streams carry: the bundled set's, or zeros if the package ships none."""
    entries = read_manifest(BUNDLED_DIR)["networks"]
    if not all(n in entries for n in NETWORK_NAMES if n not in OPTIONAL_NETWORKS):
        return bytes(NETWORK_ID_BYTES)
    return network_id({n: entries[n]["sha256"] for n in DECODER_NETWORKS if n in entries})
