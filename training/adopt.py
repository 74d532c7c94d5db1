"""Promote a network exported to an experiment's ``--weights-dir`` into the bundled set.

    python -m training.adopt runs/wexp sr_x2_cascade --as sr_x2

Copies the weights file to ``src/lumacodec/weights/<as>.safetensors`` and records its
manifest entry (command, data, steps, wall time, validation) under the new name, with the
sha256 re-computed; the set's network id follows.  Runs whose result is not yet known export
to a scratch directory, so the bundled set only ever changes by this step or by a run's own
export.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from safetensors import safe_open

from lumacodec import weights
from lumacodec.networks import SuperResolution, load_network, save_network


def quality_bounds(text: str) -> tuple[int | None, int | None]:
    """``"MIN:MAX"`` (either side may be empty: no bound) as (min_quality, max_quality)."""
    low, _, high = text.partition(":")
    return (int(low) if low else None), (int(high) if high else None)


def adopt(source_dir: Path, name: str, as_name: str,
          target_dir: Path = weights.BUNDLED_DIR, half: bool = False,
          qualities: tuple[int | None, int | None] | None = None) -> Path:
    """Copy network ``name`` of ``source_dir`` into ``target_dir`` as ``as_name`` (``half``:
    stored as float16, half the file; ``qualities``: (min, max), an SR network's config then
    says the decoder runs it on base qualities above min and up to max, None: unbounded)."""
    entry = dict(weights.read_manifest(source_dir)["networks"][name])
    source = Path(source_dir) / entry.pop("file")
    if weights.file_sha256(source) != entry.pop("sha256"):
        raise ValueError(f"{source} does not match its manifest entry")
    net = load_network(source)  # refuses anything that is not a network file
    target = Path(target_dir) / f"{as_name}.safetensors"
    if qualities is not None:
        if not isinstance(net, SuperResolution):
            raise ValueError(f"--qualities is for super-resolution networks, not {name}")
        config = {k: v for k, v in net.config.items() if k not in ("min_quality", "max_quality")}
        bounded = SuperResolution(**config, min_quality=qualities[0], max_quality=qualities[1])
        bounded.load_state_dict(net.state_dict())
        net = bounded
        entry.pop("min_quality", None)
        entry.pop("max_quality", None)
        entry.update({k: v for k, v in zip(("min_quality", "max_quality"), qualities,
                                           strict=True) if v is not None})
    if half or qualities is not None:
        with safe_open(str(source), framework="pt") as f:
            meta = {k: v for k, v in (f.metadata() or {}).items() if k not in ("arch", "config")}
        save_network(net, target, half=half, **meta)
        target.chmod(0o644)
        if half:
            entry["stored_as"] = "float16"
    else:
        shutil.copyfile(source, target)
    weights.write_manifest_entry(as_name, target, Path(target_dir), **entry)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source_dir", type=Path, help="the run's --weights-dir")
    parser.add_argument("name", help="the network's name there (the run's --name)")
    parser.add_argument("--as", dest="as_name", default="",
                        help="name in the bundled set (default: the same)")
    parser.add_argument("--target-dir", type=Path, default=weights.BUNDLED_DIR)
    parser.add_argument("--half", action="store_true",
                        help="store the weights as float16 (half the file)")
    parser.add_argument("--qualities", type=quality_bounds, default=None, metavar="MIN:MAX",
                        help="an SR network: the decoder runs it on base qualities above MIN "
                             "and up to MAX (either may be left out: '20:', ':20')")
    args = parser.parse_args(argv)
    path = adopt(args.source_dir, args.name, args.as_name or args.name, args.target_dir,
                 args.half, args.qualities)
    print(f"adopted {args.source_dir / args.name} as {path}; network id "
          f"{weights.read_manifest(args.target_dir)['network_id']}")


if __name__ == "__main__":
    main()
