#!/usr/bin/env python3
"""Overlap flags against the truth: truly overlapping nuclei covered (>= 50 %) by a
scorable result nucleus, truly scorable nuclei excluded as overlapping, and, for the
latter, the ratio of the 0.8 um-smoothed DAPI maximum to the 40 % quantile of the pixels
above Otsu within one nucleus radius (the single-layer level the lens test compares with;
over 1.5 reads as a double layer).

usage: overlap_check.py CASES_DIR RESULTS_DIR CASE [CASE ...]
"""
import csv, json, sys
import numpy as np, tifffile
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

cases, out = sys.argv[1], sys.argv[2]
for c in sys.argv[3:]:
    px = json.load(open(f"{cases}/{c}/case.json"))["pixel_size_um"]
    tl = tifffile.imread(f"{cases}/{c}/truth_labels.tif")
    tn = {int(r["id"]): r for r in csv.DictReader(open(f"{cases}/{c}/truth_nuclei.csv"))}
    rl = tifffile.imread(f"{out}/{c}/labels.tif")
    rn = {int(r["id"]): r for r in csv.DictReader(open(f"{out}/{c}/nuclei.csv"))}
    ov = [r for r in tn.values() if r["overlapping"] == "1"]
    scored = 0
    for r in ov:
        mask = tl == int(r["id"])
        ids, cnt = np.unique(rl[mask], return_counts=True)
        best = [(n, i) for i, n in zip(ids, cnt) if i != 0]
        if best:
            n, i = max(best)
            scored += n >= 0.5 * mask.sum() and rn[int(i)]["scorable"] == "true"
    dapi = tifffile.imread(f"{cases}/{c}/image.tif")[0].astype(float)
    sm = ndi.gaussian_filter(dapi, 0.8 / px)
    sm -= np.percentile(sm, 5)
    t = threshold_otsu(sm)
    rad = int(round(5.0 / px))
    ratios = []
    for r in rn.values():
        if r["excluded_reason"] != "overlapping":
            continue
        x, y = int(float(r["x"])), int(float(r["y"]))
        t_id = tl[y, x]
        if not t_id or tn[t_id]["scorable"] != "1":
            continue
        win = sm[max(0, y - rad):y + rad + 1, max(0, x - rad):x + rad + 1]
        strong = win[win > t]
        if strong.size:
            ratios.append(win.max() / np.quantile(strong, 0.4))
    print(f"{c}: truly overlapping {len(ov)}, covered by a scorable result nucleus {scored}; "
          f"truly scorable excluded as overlapping {len(ratios)}, centre / 40 % level "
          f"{np.round(np.percentile(ratios, [10, 50, 90]), 2) if ratios else '-'}")
