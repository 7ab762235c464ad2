#!/usr/bin/env python3
"""At which stage of the spot detector were true single copies lost?

For each probe channel, the truth single-copy dots of truly scorable nuclei
that `fishscore evaluate`'s matching leaves unmatched (greedy, <= 2 px, to
an output spot of 0.5-1.5 copies that is not a cluster) are attributed to
the first stage that lost them:
  output  - an output row within 2 px, but of another kind or copy count
  objsig  - an object within 2 px dropped by the object significance test
            (or for flux <= 0)
  fdr     - an object within 2 px under the field's false discovery level
  object? - an object within 2 px that passed both and is not in the output
            (merged into a split pair, a granule partner, ...)
  notblob - a maximum above the block threshold rejected as an edge
  below   - the nearest maximum under the block threshold (ratio
            response / threshold given as quantiles)
  none    - no maximum within 2 px (suppressed by a brighter one nearby)

The log comes from a build with bench/experiments/debug-all-stages.patch:
  git apply bench/experiments/debug-all-stages.patch
  CARGO_TARGET_DIR=/tmp/dbg-target cargo build --release && git checkout src/
  FS_DBG_ALL=1 /tmp/dbg-target/release/fishscore analyze TRUTH/CASE/image.tif \
      --out OUT/CASE 2> OUT/CASE.log
usage: lowsnr_miss_stages.py TRUTH/CASE OUT/CASE OUT/CASE.log
"""
import csv
import json
import sys
from collections import Counter

import numpy as np
import tifffile
from scipy.spatial import cKDTree

tdir, odir, logf = sys.argv[1:4]
labels = tifffile.imread(f"{tdir}/truth_labels.tif")
H, W = labels.shape
scorable = {int(r["id"]) for r in csv.DictReader(open(f"{tdir}/truth_nuclei.csv"))
            if r["scorable"] == "true"}
tsp = list(csv.DictReader(open(f"{tdir}/truth_spots.csv")))
out = list(csv.DictReader(open(f"{odir}/spots.csv")))
rep = json.load(open(f"{odir}/report.json"))
fdr = {q["channel"]: q["threshold_sd"] for q in rep["fields"][0]["signal_qc"]}
M, O = {}, {}
for line in open(logf):
    f = line.split()
    if f[0] == "DBGM":
        M.setdefault(f[1], []).append((int(f[2]), int(f[3]), float(f[4]), float(f[5]), f[6] == "true"))
    elif f[0] == "DBGO":
        O.setdefault(f[1], []).append((float(f[4]), float(f[5]), float(f[6]), float(f[7]),
                                       int(f[8]), int(f[9]), float(f[10])))


def lab(x, y):
    xi, yi = int(round(x)), int(round(y))
    return labels[yi, xi] if 0 <= xi < W and 0 <= yi < H else 0


for ch in ("target", "control"):
    ts = [s for s in tsp if s["channel"] == ch and s["copies"] == "1" and s["nucleus"]
          and int(s["nucleus"]) in scorable]
    ps = [s for s in out if s["channel"] == ch and s["kind"] != "cluster"
          and abs(float(s["copies"]) - 1) < 0.5 and lab(float(s["x"]), float(s["y"])) in scorable]

    def pts(t):
        p = [(float(t["x"]), float(t["y"]))]
        if t["dot1_x"]:
            p += [(float(t["dot1_x"]), float(t["dot1_y"])), (float(t["dot2_x"]), float(t["dot2_y"]))]
        return p

    pairs = []
    for i, t in enumerate(ts):
        for j, p in enumerate(ps):
            d = min(np.hypot(x - float(p["x"]), y - float(p["y"])) for x, y in pts(t))
            if d <= 2.0:
                pairs.append((d, i, j))
    pairs.sort()
    ui, uj = set(), set()
    for d, i, j in pairs:
        if i not in ui and j not in uj:
            ui.add(i)
            uj.add(j)
    allout = [s for s in out if s["channel"] == ch]
    ot = cKDTree([(float(s["x"]), float(s["y"])) for s in allout])
    objs = O[ch]
    obt = cKDTree([(o[0], o[1]) for o in objs])
    mx = M[ch]
    mt = cKDTree([(m[0], m[1]) for m in mx])
    stages, below, sigs = Counter(), [], []
    for i, t in enumerate(ts):
        if i in ui:
            continue
        P = pts(t)
        near = [k for x, y in P for k in ot.query_ball_point((x, y), 2.0)]
        if near:
            s = allout[near[0]]
            stages[f"output:{s['kind']}:{s['copies']}"] += 1
            continue
        no = sorted({k for x, y in P for k in obt.query_ball_point((x, y), 2.0)})
        if no:
            o = objs[no[0]]
            if o[2] <= 0 or o[3] < 4.5:
                stages["objsig"] += 1
                sigs.append(o[3])
            elif fdr[ch] is None or o[6] < fdr[ch]:
                stages["fdr"] += 1
            else:
                stages["object?"] += 1
            continue
        nm = sorted({k for x, y in P for k in mt.query_ball_point((x, y), 2.0)},
                    key=lambda k: -mx[k][2])
        if not nm:
            stages["none"] += 1
            continue
        m = mx[nm[0]]
        if m[2] >= m[3]:
            stages["notblob" if not m[4] else "object?"] += 1
        else:
            stages["below"] += 1
            below.append(m[2] / m[3])
    miss = len(ts) - len(ui)
    print(f"{ch}: truth {len(ts)}, matched {len(ui)}, missed {miss}")
    for k, v in stages.most_common():
        print(f"   {k:<24} {v}")
    if below:
        print("   below: response/threshold quantiles 10/25/50/75/90 %:",
              np.percentile(below, [10, 25, 50, 75, 90]).round(2))
    if sigs:
        print("   objsig: significance quantiles 10/50/90 %:", np.percentile(sigs, [10, 50, 90]).round(2))
