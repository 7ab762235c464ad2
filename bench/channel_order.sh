#!/usr/bin/env bash
# The channel-order check of docs/formats.md, measured:
#
#   bench/channel_order.sh RUN_DIR [RUN_DIR ...] ALTSIM_CASES OUT
#
# 1. Counts the reports holding a `CHANNEL ORDER?` line under each RUN_DIR
#    (analyze outputs of correctly ordered images: bench/out/runN, a stress
#    run, altsim outputs); every count should be 0.
# 2. Saves altsim's nonamp_108 (ALTSIM_CASES/nonamp_108/image.tif) without
#    channel names in three wrong orders, analyzes each into OUT and prints
#    its call and QC line. Needs python3 with numpy and tifffile.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 RUN_DIR [RUN_DIR ...] ALTSIM_CASES OUT" >&2; exit 2; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
FS=${FISHSCORE:-$REPO/target/release/fishscore}
args=("$@")
OUT=${args[-1]}
CASES=${args[-2]}
mkdir -p "$OUT"
for run in "${args[@]:0:$(($# - 2))}"; do
    n=$(ls "$run"/*/report.json | wc -l)
    k=$(grep -l "CHANNEL ORDER" "$run"/*/report.json | wc -l || true)
    echo "$run: $k of $n reports flagged"
done
for order in 2,0,1 1,0,2 0,2,1; do
    f="$OUT/nonamp_108_${order//,/}.tif"
    python3 -c "import sys, tifffile; a = tifffile.imread(sys.argv[1]); tifffile.imwrite(sys.argv[2], a[[int(i) for i in sys.argv[3].split(',')]])" \
        "$CASES/nonamp_108/image.tif" "$f" "$order"
    "$FS" analyze "$f" --pixel-size-um 0.108 --out "$OUT/${order//,/}" 2>&1 | tail -1
    grep -o 'CHANNEL ORDER[^"]*' "$OUT/${order//,/}/report.json" | head -1 | cut -c1-140 || echo "  (no line)"
done
