#!/usr/bin/env bash
# Simulate the altsim cases, analyse them with fishscore, compare with the truth.
# usage: bench/altsim/run.sh [WORKDIR]   (default /tmp/altsim); run from the repository root
set -euo pipefail
W=${1:-/tmp/altsim}
BIN=${FISHSCORE:-target/release/fishscore}
python3 bench/altsim/altsim.py --out "$W/cases"
for d in "$W"/cases/*/; do
  c=$(basename "$d")
  px=$(python3 -c "import json;print(json.load(open('$d/case.json'))['pixel_size_um'])")
  # main run: pixel size given explicitly
  "$BIN" analyze "$d/image.tif" --pixel-size-um "$px" --out "$W/out/$c" 2>"$W/out_$c.stderr" | tail -1
  # check run: pixel size read from the file (ImageJ resolution tags)
  "$BIN" analyze "$d/image.tif" --out "$W/out_filepx/$c" 2>/dev/null | tail -1
done
python3 bench/altsim/compare.py "$W/cases" "$W/out" --json "$W/results.json" | tee "$W/results.md"
python3 bench/altsim/compare.py "$W/cases" "$W/out_filepx" --json "$W/results_filepx.json" > "$W/results_filepx.md"
# channel-order check: the same pixels with Fiji-style channel labels (IJMetadata) in the order
# CEP12, DAPI, MDM2; fishscore should map them by name (or refuse), not by order
python3 - "$W" <<'PY'
import sys, tifffile
W = sys.argv[1]
a = tifffile.imread(f"{W}/cases/nonamp_108/image.tif")
tifffile.imwrite(f"{W}/nonamp_108_permuted.tif", a[[2, 0, 1]], imagej=True, resolution=(1 / 0.108, 1 / 0.108),
                 metadata={"axes": "CYX", "unit": "um", "Labels": ["CEP12 SpectrumGreen", "DAPI", "MDM2 SpectrumOrange"]})
PY
"$BIN" analyze "$W/nonamp_108_permuted.tif" --out "$W/out_permuted/nonamp_108_permuted" 2>&1 | tail -1
