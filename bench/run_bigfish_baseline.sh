#!/usr/bin/env bash
# Big-FISH signal baseline side by side with fishscore's signal stage, both on
# the TRUE nucleus labels (so only the spot stage is compared):
#
#   OUT_ROOT/bigfish/<case>/    bench/bigfish_spots.py detect (Big-FISH
#                               detect_spots, automatic threshold, +
#                               decompose_dense, defaults)
#   OUT_ROOT/fishscore/<case>/  fishscore's example spots_on_truth
#   OUT_ROOT/*/evaluation.json  `fishscore evaluate TRUTH_ROOT <tree>`
#   OUT_ROOT/comparison.md      the side-by-side tables (also printed)
#
#   bench/run_bigfish_baseline.sh TRUTH_ROOT OUT_ROOT
#
# Both trees get nuclei.csv with the truth `scorable` column, so the count
# metrics cover the same nuclei (all truly scorable ones) for both tools.
#
# Environment: PYTHON (default python3; needs bench/requirements.txt incl.
# big-fish), JOBS (parallel Big-FISH cases, default 1 so the per-case wall
# times are not inflated), SPOT_RADIUS (sigma | hwhm, default sigma, see
# bench/bigfish_spots.py), FISHSCORE (default ./target/release/fishscore),
# SPOTS_ON_TRUTH (default ./target/release/examples/spots_on_truth; both
# built if missing), FS_THREADS (rayon threads of spots_on_truth, default 1,
# Big-FISH being single-threaded).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 TRUTH_ROOT OUT_ROOT" >&2
    exit 2
fi
TRUTH_ROOT=$1
OUT_ROOT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-1}
SPOT_RADIUS=${SPOT_RADIUS:-sigma}
FS_THREADS=${FS_THREADS:-1}
FISHSCORE=${FISHSCORE:-$REPO/target/release/fishscore}
SPOTS_ON_TRUTH=${SPOTS_ON_TRUTH:-$REPO/target/release/examples/spots_on_truth}

if [ ! -x "$FISHSCORE" ]; then
    (cd "$REPO" && cargo build --release)
fi
if [ ! -x "$SPOTS_ON_TRUTH" ]; then
    (cd "$REPO" && cargo build --release --example spots_on_truth)
fi
"$PYTHON" -c 'import numpy, scipy, skimage, tifffile, bigfish.detection' 2>/dev/null || {
    echo "missing Python deps: $PYTHON -m pip install -r $HERE/requirements.txt" >&2
    exit 1
}

TRUTH_ROOT=$(cd "$TRUTH_ROOT" && pwd)
mkdir -p "$OUT_ROOT"
OUT_ROOT=$(cd "$OUT_ROOT" && pwd)
case "$OUT_ROOT/" in
    "$TRUTH_ROOT"/*) echo "OUT_ROOT must not be inside TRUTH_ROOT" >&2; exit 2 ;;
esac
BF=$OUT_ROOT/bigfish
FS=$OUT_ROOT/fishscore
mkdir -p "$BF" "$FS"

cases=()
for d in "$TRUTH_ROOT"/*/; do
    [ -f "$d/truth.json" ] && cases+=("$(basename "$d")")
done
if [ ${#cases[@]} -eq 0 ]; then
    echo "$TRUTH_ROOT holds no case folders with truth.json" >&2
    exit 1
fi

echo "Big-FISH on ${#cases[@]} cases ($JOBS at a time, spot radius = $SPOT_RADIUS) -> $BF" >&2
SECONDS=0
printf '%s\n' "${cases[@]}" |
    xargs -P "$JOBS" -I{} "$PYTHON" "$HERE/bigfish_spots.py" detect \
        "$TRUTH_ROOT/{}" "$BF/{}" --spot-radius "$SPOT_RADIUS"
echo "Big-FISH wall time for all cases (incl. reading and writing): ${SECONDS} s" >&2

echo "fishscore spots_on_truth ($FS_THREADS thread(s)) -> $FS" >&2
SECONDS=0
RAYON_NUM_THREADS=$FS_THREADS "$SPOTS_ON_TRUTH" "$TRUTH_ROOT" "$FS" 2> "$FS/timing.log"
echo "fishscore wall time for all cases (incl. reading and writing): ${SECONDS} s" >&2

"$PYTHON" "$HERE/bigfish_spots.py" add-scorable "$TRUTH_ROOT" "$FS"
"$FISHSCORE" evaluate "$TRUTH_ROOT" "$BF" --out "$BF/evaluation.json" >/dev/null
"$FISHSCORE" evaluate "$TRUTH_ROOT" "$FS" --out "$FS/evaluation.json" >/dev/null

"$PYTHON" "$HERE/bigfish_spots.py" compare \
    "fishscore=$FS/evaluation.json" "Big-FISH=$BF/evaluation.json" \
    --without lowsnr --truth-root "$TRUTH_ROOT" --results "fishscore=$FS" "Big-FISH=$BF" |
    tee "$OUT_ROOT/comparison.md"
