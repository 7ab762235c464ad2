#!/usr/bin/env python3
"""Rows of kind `faint` in a benchmark run and how many lie within 2 px of a true dot of
their channel (true copies the faint rule took), over all cases but the low-SNR ones.
usage: python3 bench/faint_matches.py TRUTH_DIR RUN_DIR   (e.g. bench/out/truth bench/out/run38)"""
import csv, math, os, sys
import numpy as np
from scipy.spatial import cKDTree

truth, run = sys.argv[1], sys.argv[2]
total = near = 0
for c in sorted(os.listdir(run)):
    spots, tf = f"{run}/{c}/spots.csv", f"{truth}/{c}/truth_spots.csv"
    if c.startswith("lowsnr") or not (os.path.exists(spots) and os.path.exists(tf)):
        continue
    T = list(csv.DictReader(open(tf)))
    trees = {}
    for ch in ("target", "control"):
        pts = [(float(t["x"]), float(t["y"])) for t in T if t["channel"] == ch]
        trees[ch] = cKDTree(np.array(pts)) if pts else None
    for s in csv.DictReader(open(spots)):
        if s["kind"] != "faint":
            continue
        total += 1
        tree = trees.get(s["channel"])
        if tree is not None and tree.query((float(s["x"]), float(s["y"])))[0] < 2.0:
            near += 1
print(f"faint rows {total}, within 2 px of a true dot {near}")
