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
reference_intensity over the median true single-copy flux; and the single
dots' capture by depth (|dz| under 0.12, 0.12-0.24, over 0.24 um: defocus
widens a dot). The noise's skew: bench/noise_skew.py. Needs numpy.
"""
import csv
import json
import statistics as st
import sys

import numpy as np


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
    depth = {(0, 0.12): [], (0.12, 0.24): [], (0.24, 0.36): []}
    for d in singles:
        r = np.hypot(sx - float(d["x"]), sy - float(d["y"]))
        i = int(np.argmin(r))
        if r[i] < 2 and rows[i]["kind"] == "single":
            cap_s.append(float(rows[i]["intensity"]) / (gain * float(d["flux_e"])))
            dz = abs(float(d["dz_um"]))
            next(v for (lo, hi), v in depth.items() if lo <= dz < hi or hi == 0.36).append(cap_s[-1])
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
    print(f"{case}: capture singles {st.median(cap_s):.3f} (n {len(cap_s)}), clusters {st.median(cap_c):.3f} "
          f"(n {len(cap_c)}); cluster copies / true {st.median(cop):.3f}; reference / true median flux {ref / tmed:.3f}")
    by_depth = " ".join(f"{lo}-{hi} um {st.median(v):.3f} (n {len(v)})" for (lo, hi), v in depth.items() if v)
    print(f"  single dots' capture by depth: {by_depth}")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    for case in sys.argv[3:]:
        case_figures(sys.argv[1], sys.argv[2], case)


if __name__ == "__main__":
    main()
