#!/usr/bin/env python3
"""Why an altsim case's cluster copy numbers are low: the light fishscore
measures for true single dots and for true clusters against the light the
simulator put there, and the copy numbers it gives the clusters.

    python3 bench/altsim/cluster_capture.py CASES_DIR OUT_DIR CASE [CASE ...]

Per case (target channel): the median "capture" (spots.csv intensity over
the true flux, truth_dots.csv flux_e times the camera's ADU per electron)
of true single dots matched to a single row within 2 px, and of true
clusters (the rows within 1.2 um of the cluster's centre, granules and
faint rows left out); the median over clusters of their summed
copies_intensity over the true copy number; and report.json's
reference_intensity over the median true single-copy flux; and the skew of
the target image's noise as (mean - median) / robust SD over 16 x 16 px
blocks (a ring median under-estimates a skewed background's mean by about
that much per pixel). Needs numpy and tifffile.
"""
import csv
import json
import statistics as st
import sys

import numpy as np
import tifffile


def case_figures(cases, out, case):
    c, o = f"{cases}/{case}", f"{out}/{case}"
    prm = json.load(open(f"{c}/case.json"))["params"]
    px = prm["px"]
    gain = prm["scmos_gain"] if prm["camera"] == "scmos" else prm["em_gain"] / prm["em_conv"]
    dots = [d for d in csv.DictReader(open(f"{c}/truth_dots.csv")) if d["channel"] == "target"]
    rows = [r for r in csv.DictReader(open(f"{o}/spots.csv")) if r["channel"] == "target"]
    sx = np.array([float(r["x"]) for r in rows])
    sy = np.array([float(r["y"]) for r in rows])
    clusters, singles = {}, []
    for d in dots:
        if d["kind"] == "cluster":
            clusters.setdefault(d["cluster"], []).append(d)
        else:
            singles.append(d)
    cap_s = []
    for d in singles:
        r = np.hypot(sx - float(d["x"]), sy - float(d["y"]))
        i = int(np.argmin(r))
        if r[i] < 2 and rows[i]["kind"] == "single":
            cap_s.append(float(rows[i]["intensity"]) / (gain * float(d["flux_e"])))
    cap_c, cop = [], []
    for ds in clusters.values():
        cx = np.mean([float(d["x"]) for d in ds])
        cy = np.mean([float(d["y"]) for d in ds])
        idx = [i for i in np.where(np.hypot(sx - cx, sy - cy) * px < 1.2)[0]
               if rows[i]["kind"] not in ("granule", "faint")]
        if not idx:
            continue
        flux = sum(gain * float(d["flux_e"]) for d in ds)
        cap_c.append(sum(float(rows[i]["intensity"]) for i in idx) / flux)
        cop.append(sum(float(rows[i]["copies_intensity"] or rows[i]["copies"]) for i in idx) / len(ds))
    rep = json.load(open(f"{o}/report.json"))
    ref = [q for q in rep["fields"][0]["signal_qc"] if q["channel"] == "target"][0]["reference_intensity"]
    tmed = st.median(gain * float(d["flux_e"]) for d in dots)
    img = tifffile.imread(f"{c}/image.tif")[1].astype(float)
    skew = []
    for y in range(0, img.shape[0] - 16, 16):
        for x in range(0, img.shape[1] - 16, 16):
            b = img[y:y + 16, x:x + 16].ravel()
            med = np.median(b)
            skew.append((b.mean() - med) / (1.4826 * np.median(np.abs(b - med))))
    print(f"{case}: capture singles {st.median(cap_s):.3f} (n {len(cap_s)}), clusters {st.median(cap_c):.3f} "
          f"(n {len(cap_c)}); cluster copies / true {st.median(cop):.3f}; reference / true median flux {ref / tmed:.3f}; "
          f"noise (mean - median) / SD {np.median(skew):.3f}")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    for case in sys.argv[3:]:
        case_figures(sys.argv[1], sys.argv[2], case)


if __name__ == "__main__":
    main()
