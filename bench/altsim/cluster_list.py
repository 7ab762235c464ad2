#!/usr/bin/env python3
"""Per true target cluster of an altsim case: how fishscore read it.

    python3 bench/altsim/cluster_list.py W CASE

W is the altsim work folder (W/cases/CASE with truth_dots.csv and
case.json, W/out/CASE with fishscore's spots.csv and report.json). For
each true cluster (truth_dots.csv kind "cluster", grouped by nucleus and
cluster id) it takes the result target rows within the cluster's radius
+ 0.8 um and prints: true copies, true flux in true single-copy means,
result copies, result flux in the same unit, the cluster radius (um) and
the kinds of the result rows; then totals, and the clusters whose light
was mostly not found (with their centres: those outside the image belong
to cut nuclei). Used for the "Open finding" in bench/altsim/README.md.
Needs numpy.
"""
import collections
import csv
import json
import sys

import numpy as np



def main():
    w, case = sys.argv[1], sys.argv[2]
    c, o = f"{w}/cases/{case}", f"{w}/out/{case}"
    cj = json.load(open(f"{c}/case.json"))
    px, p = cj["pixel_size_um"], cj["params"]
    adu = p["em_gain"] / p["em_conv"] if p["camera"] == "emccd" else 1 / p["scmos_gain"]
    dots = [r for r in csv.DictReader(open(f"{c}/truth_dots.csv")) if r["channel"] == "target"]
    rep = json.load(open(f"{o}/report.json"))
    qc = [q for q in rep["fields"][0]["signal_qc"] if q["channel"] == "target"][0]
    singles = [float(r["flux_e"]) * adu for r in dots if r["kind"] != "cluster"]
    mean1 = np.mean(singles)
    print("reference", qc["reference_intensity"], "true single median", np.median(singles), "mean", mean1)
    spots = [r for r in csv.DictReader(open(f"{o}/spots.csv")) if r["channel"] == "target"]
    sp = np.array([(float(r["x"]), float(r["y"])) for r in spots])
    clusters = collections.defaultdict(list)
    for r in dots:
        if r["kind"] == "cluster":
            clusters[(r["nucleus"], r["cluster"])].append(r)
    rows = []
    for key, v in clusters.items():
        xy = np.array([(float(r["x"]), float(r["y"])) for r in v])
        cen = xy.mean(0)
        rad = np.max(np.hypot(*(xy - cen).T))
        near = [spots[i] for i in np.where(np.hypot(*(sp - cen).T) <= rad + 0.8 / px)[0]]
        inside = 0 <= cen[0] < cj["width"] and 0 <= cen[1] < cj["height"]
        rows.append({
            "key": key, "centre": cen.round(1), "inside": inside, "n": len(v),
            "tflux": sum(float(r["flux_e"]) * adu for r in v) / mean1,
            "copies": sum(int(r["copies"]) for r in near),
            "rflux": sum(float(r["intensity"]) for r in near) / mean1,
            "radius_um": rad * px, "kinds": dict(collections.Counter(r["kind"] for r in near)),
        })
    rows.sort(key=lambda r: (r["n"], r["tflux"]))
    for label, sel in (("all clusters", rows), ("centre inside the image", [r for r in rows if r["inside"]])):
        print(f"{label}: {len(sel)}, true copies {sum(r['n'] for r in sel)}, "
              f"true flux {sum(r['tflux'] for r in sel):.1f} single-copy means, "
              f"result copies {sum(r['copies'] for r in sel)}, result flux {sum(r['rflux'] for r in sel):.1f}")
    print("true copies, true flux, result copies, result flux (single-copy means), radius um, kinds")
    for r in rows[:: max(1, len(rows) // 25)]:
        print(r["n"], round(r["tflux"], 1), r["copies"], round(r["rflux"], 1), round(r["radius_um"], 2), r["kinds"])
    print("--- clusters whose light was mostly not found")
    for r in rows:
        if r["rflux"] < 0.6 * r["tflux"]:
            print(r["key"], r["n"], r["centre"], "inside" if r["inside"] else "outside the image",
                  round(r["tflux"], 1), round(r["rflux"], 1), r["kinds"])


if __name__ == "__main__":
    main()
