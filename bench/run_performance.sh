#!/usr/bin/env bash
# The figures of docs/performance.md, in one run:
#
#   bench/run_performance.sh OUT_DIR
#
# 1. A simulated 2048 x 2048 3-channel 16-bit field (seed 11, ratio 3).
# 2. hyperfine, same run: the floor (examples/floor: decode + one Gaussian
#    per channel), `fishscore analyze` with 2 and 1 threads, and the
#    scikit-image + Big-FISH pipeline (bench/python_pipeline.py).
# 3. Accuracy of fishscore and of the Python pipeline against the field's
#    truth (`fishscore evaluate`).
# 4. Per-stage timings (`analyze --timings`, 2 threads).
# 5. Thread scaling of `fishscore batch` on the fixtures' manifest, 1 vs 2
#    threads.
#
# Environment: PYTHON (default /tmp/fishscore-bench/bin/python, a venv with
# bench/requirements.txt and big-fish), RUNS (default 5; Python runs 3).
set -euo pipefail
OUT=${1:?usage: $0 OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PYTHON=${PYTHON:-/tmp/fishscore-bench/bin/python}
RUNS=${RUNS:-5}
FS=$REPO/target/release/fishscore
FLOOR=$REPO/target/release/examples/floor
(cd "$REPO" && cargo build --release --bin fishscore --example floor)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
lscpu > "$OUT/lscpu.txt"
uptime > "$OUT/uptime_start.txt"

F=$OUT/field2048
[ -f "$F/image.tif" ] || "$FS" simulate --size 2048x2048 --seed 11 --ratio 3 --out "$F"

hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/field2048.json" \
  -n floor "$FLOOR $F/image.tif" \
  -n fishscore-2t "$FS analyze $F/image.tif --out $OUT/fs2 --threads 2" \
  -n fishscore-1t "$FS analyze $F/image.tif --out $OUT/fs1 --threads 1" \
  -n floor-1t "$FLOOR $F/image.tif --threads 1" \
  | tee "$OUT/field2048.txt"
hyperfine --warmup 1 --runs 3 --export-json "$OUT/python2048.json" \
  -n python "$PYTHON $HERE/python_pipeline.py $F/image.tif $OUT/py" \
  | tee "$OUT/python2048.txt"

"$FS" evaluate "$F" "$OUT/fs2" > "$OUT/eval_fishscore.json"
"$FS" evaluate "$F" "$OUT/py" > "$OUT/eval_python.json"
"$FS" analyze "$F/image.tif" --out "$OUT/fs2" --threads 2 --timings 2> "$OUT/timings.txt"

hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/batch_threads.json" \
  --prepare "rm -rf $OUT/b1 $OUT/b2" \
  -n batch-1t "$FS batch $REPO/fixtures/batch.csv --out $OUT/b1 --threads 1" \
  -n batch-2t "$FS batch $REPO/fixtures/batch.csv --out $OUT/b2 --threads 2" \
  | tee "$OUT/batch_threads.txt"
uptime > "$OUT/uptime_end.txt"
