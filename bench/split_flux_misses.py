#!/usr/bin/env python3
"""Miss rate of true single dots and true split pairs by total flux (in
units of the case's median true single flux) and, for splits, by the
separation of the halves: scorable, non-cluster nuclei of the SNR >= 4
cases; missed = no result signal of the channel within half the
separation + 0.5 um. Used for docs/accuracy.md (exact counts).

    python3 bench/split_flux_misses.py TRUTH_ROOT RUN_ROOT

Needs numpy (bench/requirements.txt).
"""
import csv, glob, json, os, sys, collections
import numpy as np
truth_root, run_root = sys.argv[1], sys.argv[2]
rows = []
for tj_path in sorted(glob.glob(f"{truth_root}/*/truth.json")):
    case = os.path.basename(os.path.dirname(tj_path))
    tj = json.load(open(tj_path))
    if "lowsnr" in "".join(tj.get("tags", [])): continue
    px = tj["pixel_size_um"]
    ps = list(csv.DictReader(open(f"{run_root}/{case}/spots.csv")))
    P = np.array([(float(r["x"]), float(r["y"])) for r in ps])
    ts = list(csv.DictReader(open(f"{truth_root}/{case}/truth_spots.csv")))
    tn = {r["id"]: r for r in csv.DictReader(open(f"{truth_root}/{case}/truth_nuclei.csv"))}
    for ch in ("target", "control"):
        med = np.median([float(r["flux"]) for r in ts if r["kind"] == "single" and r["channel"] == ch] or [1])
        for r in ts:
            if r["channel"] != ch or not r["nucleus"] or r["kind"] not in ("split", "single"): continue
            n = tn[r["nucleus"]]
            if n["scorable"] != "true" or n["cluster"] == "true": continue
            c = np.array([float(r["x"]), float(r["y"])])
            sep = 0
            if r["kind"] == "split":
                a = np.array([float(r["dot1_x"]), float(r["dot1_y"])]); b = np.array([float(r["dot2_x"]), float(r["dot2_y"])])
                sep = np.hypot(*(a - b)) * px
            near = [i for i, q in enumerate(ps) if q["channel"] == ch and np.hypot(*(P[i] - c)) * px < sep / 2 + 0.5]
            rows.append((r["kind"], float(r["flux"]) / med, sep, len(near) == 0))
rows = np.array([(k == "split", f, s, m) for k, f, s, m in rows], dtype=float)
for kind in (0, 1):
    sel = rows[rows[:, 0] == kind]
    print("split" if kind else "single", len(sel), "missed", int(sel[:, 3].sum()))
    for lo, hi in [(0, .5), (.5, .75), (.75, 1), (1, 1.5), (1.5, 9)]:
        s = sel[(sel[:, 1] >= lo) & (sel[:, 1] < hi)]
        if len(s): print(f"   flux/median {lo}-{hi}: n {len(s)} missed {s[:,3].mean():.3f}")
    if kind:
        for lo, hi in [(0, .3), (.3, .5), (.5, .7), (.7, 1.2)]:
            s = sel[(sel[:, 2] >= lo) & (sel[:, 2] < hi)]
            if len(s): print(f"   sep {lo}-{hi} um: n {len(s)} missed {s[:,3].mean():.3f}")
