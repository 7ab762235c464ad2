#!/usr/bin/env python3
"""Where single-copy dots are missed: for the true single dots of scorable,
cluster-free nuclei (cases not tagged lowsnr), the share with no result
signal within 0.5 um, by distance to the true nucleus outline; and how many
of the missed ones lie in a result object classed as a granule. Used for
docs/accuracy.md and docs/signals.md (dots beside a nucleus outline).

    python3 bench/spot_misses.py TRUTH_ROOT RUN_ROOT [target|control|both]

Needs numpy, scipy and tifffile (bench/requirements.txt).
"""
import collections
import csv
import glob
import json
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi


def main():
    truth_root, run_root = sys.argv[1], sys.argv[2]
    which = sys.argv[3] if len(sys.argv) > 3 else "both"
    channels = ("target", "control") if which == "both" else (which,)
    bins = collections.defaultdict(lambda: [0, 0])
    in_granule = 0
    for tj_path in sorted(glob.glob(f"{truth_root}/*/truth.json")):
        case = os.path.basename(os.path.dirname(tj_path))
        tj = json.load(open(tj_path))
        if "lowsnr" in "".join(tj.get("tags", [])) or not os.path.exists(f"{run_root}/{case}/spots.csv"):
            continue
        px = tj["pixel_size_um"]
        labels = tifffile.imread(f"{truth_root}/{case}/truth_labels.tif")
        depth = ndi.distance_transform_edt(labels > 0) * px
        nuclei = {r["id"]: r for r in csv.DictReader(open(f"{truth_root}/{case}/truth_nuclei.csv"))}
        found = list(csv.DictReader(open(f"{run_root}/{case}/spots.csv")))
        for ch in channels:
            rows = [r for r in found if r["channel"] == ch]
            if not rows:
                continue
            pos = np.array([(float(r["x"]), float(r["y"])) for r in rows])
            for r in csv.DictReader(open(f"{truth_root}/{case}/truth_spots.csv")):
                n = nuclei.get(r["nucleus"])
                if r["channel"] != ch or r["kind"] != "single" or not n:
                    continue
                if n["scorable"] != "true" or n["cluster"] == "true":
                    continue
                x, y = float(r["x"]), float(r["y"])
                d = np.hypot(pos[:, 0] - x, pos[:, 1] - y) * px
                j = int(np.argmin(d))
                missed = d[j] >= 0.5 or rows[j]["kind"] == "granule"
                in_granule += missed and d[j] < 0.5 and rows[j]["kind"] == "granule"
                b = min(int(depth[int(round(y)), int(round(x))] / 0.2), 10)
                bins[b][0] += 1
                bins[b][1] += missed
    print("distance to the true outline (um): dots, missed, share")
    for b in sorted(bins):
        n, m = bins[b]
        label = f"{b * 0.2:.1f}-{b * 0.2 + 0.2:.1f}" if b < 10 else ">= 2.0"
        print(f"  {label:>8}  {n:6d} {m:5d}  {m / n:.3f}")
    total = sum(v[1] for v in bins.values())
    print(f"missed {total}, of which {in_granule} inside an object classed as a granule")


if __name__ == "__main__":
    main()
