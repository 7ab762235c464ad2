#!/usr/bin/env python3
"""Study: can a nucleus's own dome be told from a lens of two stacked nuclei by
how much its DAPI varies AROUND each depth ring? A domed single nucleus is
brighter in the middle but about the same all around at equal depth; a lens
lies on one side, so a ring through it is bright on that side only.

For every result nucleus excluded as `overlapping`, matched to the truth
nucleus it covers most: truly overlapping or a truly single scorable nucleus
(wrongly excluded). Statistic: on the DAPI smoothed by 0.8 um, rings of
depth (distance to the result outline) 0.4 um wide from 0.6 um inward, each
with >= 30 px: q90 / q10 of the ring; the maximum over rings.

usage: dome_vs_lens.py bench|altsim TRUTH_OR_CASES_DIR RESULTS_DIR CASE [CASE ...]
"""
import csv
import json
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi

kind, tdir, rdir = sys.argv[1:4]
res = {"overlap": [], "single": []}
for c in sys.argv[4:]:
    if kind == "bench":
        px = json.load(open(f"{tdir}/{c}/truth.json"))["pixel_size_um"]
        tn = {int(r["id"]): ("overlap" if r["reason"] == "overlapping" else
                             "single" if r["scorable"] == "true" else None)
              for r in csv.DictReader(open(f"{tdir}/{c}/truth_nuclei.csv"))}
    else:
        px = json.load(open(f"{tdir}/{c}/case.json"))["pixel_size_um"]
        tn = {int(r["id"]): ("overlap" if r["overlapping"] == "1" else
                             "single" if r["scorable"] == "1" else None)
              for r in csv.DictReader(open(f"{tdir}/{c}/truth_nuclei.csv"))}
    img = tifffile.imread(f"{tdir}/{c}/image.tif")
    dapi = ndi.gaussian_filter(img[0].astype(np.float64), 0.8 / px)
    tl = tifffile.imread(f"{tdir}/{c}/truth_labels.tif")
    rl = tifffile.imread(f"{rdir}/{c}/labels.tif")
    for r in csv.DictReader(open(f"{rdir}/{c}/nuclei.csv")):
        if r["excluded_reason"] != "overlapping":
            continue
        lab = int(r["id"])
        m = rl == lab
        ids, cnt = np.unique(tl[m], return_counts=True)
        best = [(n, i) for i, n in zip(ids, cnt) if i != 0]
        if not best:
            continue
        t = tn.get(int(max(best)[1]))
        if t is None:
            continue
        sl = ndi.find_objects(m.astype(np.int32))[0]
        sl = tuple(slice(max(s.start - 2, 0), s.stop + 2) for s in sl)
        mm = m[sl]
        depth = ndi.distance_transform_edt(mm) * px
        d = dapi[sl]
        ratios = []
        r0 = 0.6
        while r0 + 0.4 <= depth.max():
            ring = d[(depth >= r0) & (depth < r0 + 0.4)]
            if ring.size >= 30:
                q10, q90 = np.percentile(ring, [10, 90])
                if q10 > 0:
                    ratios.append(q90 / q10)
            r0 += 0.4
        if ratios:
            res[t].append(max(ratios))
for k, v in res.items():
    v = np.array(v)
    if v.size:
        print(f"{k:<8} n {v.size:>4}  ring q90/q10 max: quantiles 0/10/25/50/75/90/100 %",
              np.percentile(v, [0, 10, 25, 50, 75, 90, 100]).round(2),
              f" share under 1.45: {np.mean(v < 1.45):.2f}")
