#!/usr/bin/env python3
"""Where an altsim case's ratio error comes from: summed counts of the
scored nuclei against their truth, and the single-copy reference against
the true single-dot flux.

    python3 bench/altsim/cluster_totals.py CASES_DIR OUT_DIR CASE [CASE ...]

Each scored nucleus of OUT_DIR/CASE/nuclei.csv is matched to the truth
nucleus that covers most of its pixels (labels.tif against
truth_labels.tif). Printed per case: the summed target and control counts
against the truth over those nuclei, the same for the nuclei that hold a
true cluster, and per channel report.json's reference_intensity over the
median and the mean true single-dot flux (truth_dots.csv flux_e times the
camera's ADU per electron from case.json). Needs numpy and tifffile.
"""
import csv
import json
import statistics as st
import sys

import numpy as np
import tifffile


def totals(cases, out, case):
    c, o = f"{cases}/{case}", f"{out}/{case}"
    truth_labels = tifffile.imread(f"{c}/truth_labels.tif")
    labels = tifffile.imread(f"{o}/labels.tif")
    truth = {r["id"]: r for r in csv.DictReader(open(f"{c}/truth_nuclei.csv"))}
    s = np.zeros(4, dtype=int)
    sc = np.zeros(2, dtype=int)
    n_clu = 0
    for n in csv.DictReader(open(f"{o}/nuclei.csv")):
        if n["scored"] != "true":
            continue
        vals, cnt = np.unique(truth_labels[labels == int(n["id"])], return_counts=True)
        t = truth.get(str(vals[np.argmax(cnt)]))
        if t is None:
            continue
        row = [int(n["target"]), int(t["target"]), int(n["control"]), int(t["control"])]
        s += row
        if int(t["cluster_copies"] or 0) > 0:
            sc += row[:2]
            n_clu += 1
    print(f"{case}: scored nuclei target {s[0]} (true {s[1]}), control {s[2]} (true {s[3]}); "
          f"{n_clu} with a true cluster: target {sc[0]} (true {sc[1]})")
    prm = json.load(open(f"{c}/case.json"))["params"]
    gain = prm["scmos_gain"] if prm["camera"] == "scmos" else prm["em_gain"] / prm["em_conv"]
    dots = list(csv.DictReader(open(f"{c}/truth_dots.csv")))
    rep = json.load(open(f"{o}/report.json"))
    for q in rep["fields"][0]["signal_qc"]:
        flux = [gain * float(d["flux_e"]) for d in dots
                if d["channel"] == q["channel"] and d["kind"] == "single"]
        if not flux or not q.get("reference_intensity"):
            continue
        ref = q["reference_intensity"]
        print(f"  {q['channel']}: reference / true median single flux {ref / st.median(flux):.2f}, "
              f"/ true mean {ref / st.mean(flux):.2f} (PSF sigma used {q['psf_sigma_um']:.3f} um)")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    for case in sys.argv[3:]:
        totals(sys.argv[1], sys.argv[2], case)


if __name__ == "__main__":
    main()
