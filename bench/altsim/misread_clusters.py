#!/usr/bin/env python3
"""True target clusters of 5 or more copies that fishscore did not report
as a cluster: per such cluster (centre inside the image) its key, copies,
centre and the spots.csv rows (both channels) within its radius + 0.8 um,
then a count per case.

    python3 bench/altsim/misread_clusters.py W CASE [CASE ...]

W is the altsim work folder (W/cases/CASE, W/out/CASE). Used for
"Clusters beside a signal of the other probe" in docs/accuracy.md. Needs
numpy.
"""
import collections
import csv
import json
import sys

import numpy as np

KEEP = ("channel", "x", "y", "nucleus", "intensity", "copies", "kind",
        "copies_intensity", "dots", "snr", "width_um")


def misread(w, case, verbose=True):
    c, o = f"{w}/cases/{case}", f"{w}/out/{case}"
    cj = json.load(open(f"{c}/case.json"))
    px = cj["pixel_size_um"]
    dots = [r for r in csv.DictReader(open(f"{c}/truth_dots.csv")) if r["channel"] == "target"]
    spots = list(csv.DictReader(open(f"{o}/spots.csv")))
    sp = np.array([(float(r["x"]), float(r["y"])) for r in spots])
    clusters = collections.defaultdict(list)
    for r in dots:
        if r["kind"] == "cluster":
            clusters[(r["nucleus"], r["cluster"])].append(r)
    n = 0
    for key, v in sorted(clusters.items()):
        xy = np.array([(float(r["x"]), float(r["y"])) for r in v])
        cen = xy.mean(0)
        rad = np.max(np.hypot(*(xy - cen).T))
        if not (0 <= cen[0] < cj["width"] and 0 <= cen[1] < cj["height"]) or len(v) < 5:
            continue
        near = [spots[i] for i in np.where(np.hypot(*(sp - cen).T) <= rad + 0.8 / px)[0]]
        if any(r["channel"] == "target" and r["kind"] == "cluster" for r in near):
            continue
        n += 1
        if verbose:
            print(f"  {key} {len(v)} copies at {cen.round(1)}")
            for r in near:
                print("     ", {k: r[k] for k in KEEP})
    return n


if __name__ == "__main__":
    w = sys.argv[1]
    for case in sys.argv[2:]:
        print(f"{case}:")
        print(f"{case}: {misread(w, case)} clusters of 5+ copies not reported as a cluster")
