"""Rate–distortion benchmark harness: ``lumacodec bench`` and :func:`run_bench`.

Modules, one job each:

* :mod:`.datasets` — folder, scikit-image samples, Kodak (fetched, pixel-verified, cached)
* :mod:`.codecs` — one small class per codec: name, qualities, encode, decode, settings
* :mod:`.metrics` — PSNR-RGB, PSNR-L, SSIM, MS-SSIM, CIEDE2000 of one image pair
* :mod:`.bdrate` — BD-rate / BD-PSNR through the ``bjontegaard`` package
* :mod:`.runner` — planning, per-image result cache, parallel workers, progress
* :mod:`.report` — CompressAI-layout JSON, CSV, plots, BD tables, comparison sheet, summary
* :mod:`.cli` — the ``click`` command

Needs the ``bench`` extra (piq, matplotlib, bjontegaard, tqdm).
"""

from __future__ import annotations

from .runner import run_bench

__all__ = ["run_bench"]
