#!/usr/bin/env bash
# The same simulated case written in every layout fishscore reads, analysed
# with the same command: the calls must agree and the ratios be within 1 %
# (z-stack: a different image, judged by the accuracy figures instead).
#
#   bench/run_layouts.sh OUT_ROOT
set -euo pipefail
OUT=${1:?usage: $0 OUT_ROOT}
FS=${FISHSCORE:-target/release/fishscore}
COMMON="--seed 42 --size 1280x1280 --pixel-size-um 0.1 --ratio 3 --clusters off"
mkdir -p "$OUT"
$FS simulate --out "$OUT/multipage" $COMMON --layout multipage 2>/dev/null
$FS simulate --out "$OUT/ome" $COMMON --layout ome-tiff 2>/dev/null
$FS simulate --out "$OUT/perchannel" $COMMON --layout per-channel 2>/dev/null
$FS simulate --out "$OUT/tiled" $COMMON --layout tiled-bigtiff 2>/dev/null
$FS simulate --out "$OUT/lzw" $COMMON --layout multipage --compression lzw 2>/dev/null
$FS simulate --out "$OUT/rgb8" $COMMON --layout rgb8 2>/dev/null
$FS simulate --out "$OUT/zstack" $COMMON --layout multipage --z-planes 5 --z-step-um 0.4 2>/dev/null
for c in multipage ome tiled lzw rgb8 zstack; do
    img=$(ls "$OUT/$c"/image*.tif | head -1)
    $FS analyze "$img" --out "$OUT/result-$c" 2>&1 | tail -1
done
$FS analyze --dapi "$OUT/perchannel/dapi.tif" --target "$OUT/perchannel/target.tif" \
    --control "$OUT/perchannel/control.tif" --out "$OUT/result-perchannel" 2>&1 | tail -1
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
rows = []
for c in ["multipage", "ome", "perchannel", "tiled", "lzw", "rgb8", "zstack"]:
    r = json.load(open(f"{out}/result-{c}/report.json"))
    t = json.load(open(f"{out}/{c}/truth.json"))
    rows.append((c, r["call"], r["ratio"], t["ratio"], r["fields"][0]["input"]["layout"]))
ref = rows[0][2]
print(f"{'layout':<11} {'call':<14} {'ratio':>7} {'vs multipage':>12} {'truth':>6}  read as")
for c, call, ratio, truth, layout in rows:
    print(f"{c:<11} {call:<14} {ratio:7.3f} {100 * (ratio / ref - 1):+11.2f}% {truth:6.2f}  {layout}")
PY
