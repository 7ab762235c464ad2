#!/usr/bin/env python3
"""How true split signals come out: for each true split pair (SNR >= 4
cases, any nucleus), the kinds of the result signals of its channel
within half its separation + 0.5 um of its centre; ('single', 'single')
is a split counted as two copies, listed with the true and measured
separations (um), the measured brightness ratio and whether both rows lie
in one nucleus. Used for docs/signals.md (split signals).

    python3 bench/split_pairs.py TRUTH_ROOT RUN_ROOT

Needs numpy (bench/requirements.txt).
"""
import csv, glob, json, os, sys, collections
import numpy as np
truth_root, run_root = sys.argv[1], sys.argv[2]
res = collections.Counter(); two = []
for tj_path in sorted(glob.glob(f"{truth_root}/*/truth.json")):
    case = os.path.basename(os.path.dirname(tj_path))
    tj = json.load(open(tj_path))
    if "lowsnr" in "".join(tj.get("tags", [])): continue
    px = tj["pixel_size_um"]
    ps = list(csv.DictReader(open(f"{run_root}/{case}/spots.csv")))
    P = np.array([(float(r["x"]), float(r["y"])) for r in ps])
    for r in csv.DictReader(open(f"{truth_root}/{case}/truth_spots.csv")):
        if r["kind"] != "split" or not r["nucleus"]: continue
        a = np.array([float(r["dot1_x"]), float(r["dot1_y"])]); b = np.array([float(r["dot2_x"]), float(r["dot2_y"])])
        sep = np.hypot(*(a - b)) * px
        c = np.array([float(r["x"]), float(r["y"])])
        chans = [i for i, q in enumerate(ps) if q["channel"] == r["channel"]]
        near = [i for i in chans if np.hypot(*(P[i] - c)) * px < sep / 2 + 0.5]
        kinds = tuple(sorted(ps[i]["kind"] for i in near))
        res[kinds] += 1
        if kinds == ("single", "single"):
            i, j = near
            d = np.hypot(*(P[i] - P[j])) * px
            fi, fj = float(ps[i]["intensity"]), float(ps[j]["intensity"])
            two.append((case, round(sep, 2), round(d, 2), round(max(fi, fj) / max(min(fi, fj), 1e-9), 2), ps[i]["nucleus"] == ps[j]["nucleus"]))
for k, v in res.most_common(): print(v, k)
for t in two: print(t)
