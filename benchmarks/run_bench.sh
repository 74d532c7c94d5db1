#!/usr/bin/env bash
# Reproduce the committed rate–distortion results (see benchmarks/README.md).
#
#   benchmarks/run_bench.sh [DATASET_DIR] [OUTDIR]
#
# Defaults: the first LIMIT (default 50; 0 = all 200) images by name of
# ../shared/datasets/bsds500/test into benchmarks/results/bsds500-test, as committed.
# JOBS (default: number of CPUs) sets the worker processes. Re-running reuses OUTDIR/cache and
# recomputes only what changed (new images, a codec or library upgraded, new weights).
set -euo pipefail
cd "$(dirname "$0")/.."

DATASET=${1:-../shared/datasets/bsds500/test}
OUT=${2:-benchmarks/results/bsds500-test}
JOBS=${JOBS:-$(nproc)}
LIMIT=${LIMIT:-50}
SUBSET=()
[ "$LIMIT" != 0 ] && SUBSET=(--limit "$LIMIT")

nice -n 10 python3 -m lumacodec.bench \
    --dataset "$DATASET" \
    --codecs lumacodec,lumacodec-fast,lumacodec-best,lumacodec-ssim,jpeg,webp,avif,avif-psnr,avif-psnr-slow,jpeg2000 \
    --output "$OUT" \
    --jobs "$JOBS" \
    "${SUBSET[@]}"

# Kodak, with CompressAI's published curves overlaid (fetches the 24 images on first use):
#   nice -n 10 python3 -m lumacodec.bench --dataset kodak --output benchmarks/results/kodak \
#       --jobs "$JOBS" \
#       --reference ../shared/anchors/compressai-kodak/jpeg.json \
#       --reference ../shared/anchors/compressai-kodak/webp.json \
#       --reference ../shared/anchors/compressai-kodak/compressai-mbt2018-mean_mse_cpu.json
