#!/usr/bin/env bash
# Runs `fishscore analyze` on every simulated case under TRUTH_ROOT and
# evaluates the results against the ground truth:
#
#   bench/run_benchmark.sh TRUTH_ROOT OUT_ROOT
#
# Generate the benchmark set first:
#   cargo run --release -- simulate --recipe fixtures/benchmark.recipe --out bench/out/truth
# Writes OUT_ROOT/<case>/ (the analyze outputs) and OUT_ROOT/evaluation.json,
# and prints a per-case table. Environment: FISHSCORE (binary, default
# target/release/fishscore), JOBS (cases in parallel, default 1; each case
# already uses every core).
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 TRUTH_ROOT OUT_ROOT" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
FISHSCORE=${FISHSCORE:-$REPO/target/release/fishscore}
JOBS=${JOBS:-1}
TRUTH_ROOT=$1
OUT_ROOT=$2
[ -x "$FISHSCORE" ] || (cd "$REPO" && cargo build --release)
mkdir -p "$OUT_ROOT"
for d in "$TRUTH_ROOT"/*/; do
    [ -f "$d/truth.json" ] || continue
    name=$(basename "$d")
    if [ -f "$d/image.tif" ]; then
        echo "$FISHSCORE analyze $d/image.tif --out $OUT_ROOT/$name"
    else
        echo "$FISHSCORE analyze --dapi $d/dapi.tif --target $d/target.tif --control $d/control.tif --out $OUT_ROOT/$name"
    fi
done | xargs -P "$JOBS" -I{} sh -c '{} 2>&1 | tail -1'
"$FISHSCORE" evaluate "$TRUTH_ROOT" "$OUT_ROOT" --out "$OUT_ROOT/evaluation.json" >/dev/null
python3 "$HERE/summarize.py" "$OUT_ROOT/evaluation.json"
