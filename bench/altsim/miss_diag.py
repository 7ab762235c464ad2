#!/usr/bin/env python3
"""Why were true single dots missed? For each probe channel of each case:
the matched-filter significance of the missed and the found single dots inside truth
nuclei (median background over 3 PSF sigmas, Gaussian of the PSF sigma, in robust SDs of
that response over truth-nucleus pixels), their depth inside the truth outline, and, when
a debug log of rejected objects is given, how many misses are objects fishscore dropped.

usage: miss_diag.py CASES_DIR RESULTS_DIR CASE [--rejected LOG]

LOG comes from a build with bench/experiments/debug-rejected-objects.patch applied:
  git apply bench/experiments/debug-rejected-objects.patch
  cargo build --release && git checkout src/
  FS_DBG_SPOTS=1 target/release/fishscore analyze CASES/CASE/image.tif --out OUT/CASE 2> LOG
(the log does not say the channel: a rejected object of either channel within 2 px counts).
"""
import argparse, csv, json
import numpy as np, tifffile
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

ap = argparse.ArgumentParser()
ap.add_argument("cases"); ap.add_argument("results"); ap.add_argument("case")
ap.add_argument("--rejected")
a = ap.parse_args()
C, O = f"{a.cases}/{a.case}", f"{a.results}/{a.case}"
info = json.load(open(f"{C}/case.json")); px = info["pixel_size_um"]
img = tifffile.imread(f"{C}/image.tif").astype(np.float32)
tl = tifffile.imread(f"{C}/truth_labels.tif"); H, W = tl.shape
td = list(csv.DictReader(open(f"{C}/truth_dots.csv")))
rs = list(csv.DictReader(open(f"{O}/spots.csv")))
rep = json.load(open(f"{O}/report.json"))
sig = {q["channel"]: q["psf_sigma_um"] / px for q in rep["fields"][0]["signal_qc"]}
m = tl > 0
depth = (ndi.distance_transform_edt(m) - ndi.distance_transform_edt(~m)) * px
rej = None
if a.rejected:
    r = [l.split() for l in open(a.rejected) if l.startswith("DBGS objsig")]
    rej = cKDTree(np.array([(float(f[2]), float(f[3])) for f in r])) if r else None
for ci, ch in [(1, "target"), (2, "control")]:
    s = sig[ch]
    bg = ndi.median_filter(img[ci], size=int(2 * np.ceil(3 * s) + 1))
    resp = ndi.gaussian_filter(img[ci] - bg, s)
    med = np.median(resp[m]); sd = 1.4826 * np.median(np.abs(resp[m] - med))
    R = np.array([(float(x["x"]), float(x["y"])) for x in rs if x["channel"] == ch])
    tree = cKDTree(R)
    found, missed, dropped = [], [], 0
    for d in td:
        if d["channel"] != ch or d["kind"] != "single":
            continue
        x, y = float(d["x"]), float(d["y"])
        yi, xi = min(H - 1, int(round(y))), min(W - 1, int(round(x)))
        if tl[yi, xi] == 0:
            continue
        z = (resp[yi, xi] - med) / sd
        if tree.query((x, y))[0] < max(2.0, 0.2 / px):
            found.append((z, depth[yi, xi]))
        else:
            missed.append((z, depth[yi, xi]))
            if rej is not None and rej.query((x, y))[0] <= 2.0:
                dropped += 1
    f, mi = np.array(found), np.array(missed)
    q = lambda v: np.round(np.percentile(v, [10, 50, 90]), 2) if len(v) else "-"
    print(f"{ch}: found {len(f)} (significance {q(f[:, 0])}, depth um {q(f[:, 1])}); "
          f"missed {len(mi)} (significance {q(mi[:, 0]) if len(mi) else '-'}, "
          f"depth um {q(mi[:, 1]) if len(mi) else '-'})"
          + (f"; missed dots that are dropped objects: {dropped}" if rej is not None else ""))
