#!/usr/bin/env python3
"""What the objects classed as granules are: for every result row of kind
granule, whether a true granule lies within 0.6 um, a true dot of its own
channel within 0.5 um, a true dot of the other channel within 0.5 um.
("no-granule", "own-dot", "-") are real dots lost as granules. Used for
docs/accuracy.md and docs/signals.md (granules).

    python3 bench/granule_calls.py TRUTH_ROOT RUN_ROOT

Needs numpy (bench/requirements.txt).
"""
import csv, glob, json, os, sys, collections
import numpy as np
truth_root, run_root = sys.argv[1], sys.argv[2]
cnt = collections.Counter()
for tj_path in sorted(glob.glob(f"{truth_root}/*/truth.json")):
    case = os.path.basename(os.path.dirname(tj_path))
    tj = json.load(open(tj_path))
    px = tj["pixel_size_um"]
    ps = [r for r in csv.DictReader(open(f"{run_root}/{case}/spots.csv")) if r["kind"] == "granule"]
    tg = np.array([(float(r["x"]), float(r["y"])) for r in csv.DictReader(open(f"{truth_root}/{case}/truth_granules.csv"))] or np.zeros((0,2)))
    ts = list(csv.DictReader(open(f"{truth_root}/{case}/truth_spots.csv")))
    TS = {ch: np.array([(float(r["x"]), float(r["y"])) for r in ts if r["channel"] == ch] or np.zeros((0,2))) for ch in ("target","control")}
    for r in ps:
        p = np.array([float(r["x"]), float(r["y"])])
        dg = np.min(np.hypot(*(tg - p).T)) * px if len(tg) else 99
        other = "control" if r["channel"] == "target" else "target"
        ds = np.min(np.hypot(*(TS[r["channel"]] - p).T)) * px if len(TS[r["channel"]]) else 99
        do = np.min(np.hypot(*(TS[other] - p).T)) * px if len(TS[other]) else 99
        k = ("granule" if dg < 0.6 else "no-granule", "own-dot" if ds < 0.5 else "-", "other-dot" if do < 0.5 else "-")
        cnt[k] += 1
for k, v in cnt.most_common(): print(v, k)
