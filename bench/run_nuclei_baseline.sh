#!/usr/bin/env bash
# Runs the scikit-image nucleus baseline (bench/skimage_nuclei.py) on every
# simulated case folder under TRUTH_ROOT (the folders holding truth.json),
# writing OUT_ROOT/<case>/{labels.tif,nuclei.csv}, then evaluates the tree with
# `fishscore evaluate TRUTH_ROOT OUT_ROOT --out OUT_ROOT/evaluation.json` and
# prints a per-case table, the overall summary and the `dense` tag summary.
#
#   bench/run_nuclei_baseline.sh TRUTH_ROOT OUT_ROOT
#
# Environment: PYTHON (default python3), JOBS (parallel cases, default 2),
# FISHSCORE (default ./target/release/fishscore, built if missing).
# Python deps: pip install -r bench/requirements.txt
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
JOBS=${JOBS:-2}
FISHSCORE=${FISHSCORE:-$REPO/target/release/fishscore}

if [ ! -x "$FISHSCORE" ]; then
    (cd "$REPO" && cargo build --release)
fi
"$PYTHON" -c 'import numpy, scipy, skimage, tifffile' 2>/dev/null || {
    echo "missing Python deps: $PYTHON -m pip install -r $HERE/requirements.txt" >&2
    exit 1
}

TRUTH_ROOT=$(cd "$TRUTH_ROOT" && pwd)
mkdir -p "$OUT_ROOT"
OUT_ROOT=$(cd "$OUT_ROOT" && pwd)
case "$OUT_ROOT/" in
    "$TRUTH_ROOT"/*) echo "OUT_ROOT must not be inside TRUTH_ROOT" >&2; exit 2 ;;
esac

cases=()
for d in "$TRUTH_ROOT"/*/; do
    [ -f "$d/truth.json" ] && cases+=("$(basename "$d")")
done
if [ ${#cases[@]} -eq 0 ]; then
    echo "$TRUTH_ROOT holds no case folders with truth.json" >&2
    exit 1
fi
echo "baseline on ${#cases[@]} cases ($JOBS at a time) -> $OUT_ROOT" >&2

SECONDS=0
printf '%s\n' "${cases[@]}" |
    xargs -P "$JOBS" -I{} "$PYTHON" "$HERE/skimage_nuclei.py" "$TRUTH_ROOT/{}" "$OUT_ROOT/{}"
echo "baseline wall time for all cases: ${SECONDS} s" >&2

"$FISHSCORE" evaluate "$TRUTH_ROOT" "$OUT_ROOT" --out "$OUT_ROOT/evaluation.json" >/dev/null

"$PYTHON" - "$OUT_ROOT/evaluation.json" <<'EOF'
import json, sys

rep = json.load(open(sys.argv[1]))

def f(v, w=8):
    return f"{v:{w}.3f}" if isinstance(v, (int, float)) else f"{'-':>{w}}"

hdr = f"{'case':<18} {'F1':>8} {'meanIoU':>8} {'scor.kept':>9} {'ovl.scored':>10} {'truth':>6} {'pred':>6} {'match':>6}"
print(hdr)
print("-" * len(hdr))
for row in rep["cases"]:
    m = row.get("metrics")
    if m is None:
        print(f"{row['case']:<18} ERROR: {row.get('error')}")
        continue
    n = m["nuclei"]; d = n["detection"]
    print(f"{row['case']:<18} {f(d['f1'])} {f(n['mean_iou'])} {f(n['scorable_kept_share'], 9)} "
          f"{f(n['overlapping_scored_share'], 10)} {d['truth']:>6} {d['predicted']:>6} {d['matched']:>6}")

def summary(name, s):
    d = s["nuclei"]
    print(f"{name:<18} {f(d['f1'])} {f(s['mean_iou'])} {f(s['scorable_kept_share'], 9)} "
          f"{f(s['overlapping_scored_share'], 10)} {d['truth']:>6} {d['predicted']:>6} {d['matched']:>6}"
          f"   ({s['cases']} cases)")

print("-" * len(hdr))
summary("SUMMARY", rep["summary"])
if "dense" in rep.get("by_tag", {}):
    summary("tag dense", rep["by_tag"]["dense"])
else:
    print("tag dense          (no case tagged dense)")
if rep.get("failed"):
    print(f"FAILED cases: {rep['failed']}")
    sys.exit(1)
EOF
