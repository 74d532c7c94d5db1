"""benchmarks/bd_breakdown.py: a codec at a constant rate ratio to its anchor saves that ratio
at every rung and up to every rung, and the rungs' shares cover the shared range once."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "bd_breakdown.py"


def _load():
    spec = importlib.util.spec_from_file_location("bd_breakdown", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(directory: Path, codec: str, bpp: np.ndarray, psnr: np.ndarray) -> None:
    results = {"quality": list(range(1, len(bpp) + 1)), "bpp": bpp.tolist(),
               "psnr-rgb": psnr.tolist()}
    (directory / f"{codec}.json").write_text(json.dumps({"results": results}))


def test_a_constant_ratio_shows_at_every_rung(tmp_path: Path) -> None:
    anchor_bpp = np.geomspace(0.1, 3.0, 10)
    anchor_psnr = 24 + 6 * np.log2(anchor_bpp / 0.1)  # 6 dB per doubling
    _write(tmp_path, "anchor", anchor_bpp, anchor_psnr)
    # 20% fewer bits at the same PSNR, rungs from below the anchor's range to inside it
    psnr = np.linspace(20, 50, 7)
    _write(tmp_path, "codec", 0.8 * 0.1 * 2 ** ((psnr - 24) / 6), psnr)
    lines = _load().breakdown(tmp_path, "codec", "anchor")
    assert "BD-rate -20.00%" in lines[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[4:]]
    assert len(rows) == 7 and rows[0][3] == "outside" and rows[0][5] == "—"
    inside = [r for r in rows if r[3] != "outside"]
    assert inside and all(r[3] == "-20.0%" for r in inside)
    assert all(abs(float(r[5].rstrip("%")) + 20) < 0.05 for r in rows if r[5] != "—")
    assert abs(sum(float(r[4].rstrip("%")) for r in rows) - 100) <= 3  # rounded to 1%
