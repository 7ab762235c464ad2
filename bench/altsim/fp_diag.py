#!/usr/bin/env python3
"""Where are fishscore's unmatched single-copy rows (false positives)?
usage: fp_diag.py CASES_DIR RESULTS_DIR CASE [CASE ...]
For each channel: FP rows (kind single/split_merged, > max(2 px, 0.2 um) from every truth dot of the
channel) with depth inside the truth outline, SNR, width, intensity in copies, the DAPI
band-pass value at the spot (chromatin grain: chromocentres leak into the probe channels by
the simulated crosstalk) and the distance to the nearest truth dot of the OTHER channel."""
import csv, json, sys
import numpy as np, tifffile
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

cases, res = sys.argv[1], sys.argv[2]
for c in sys.argv[3:]:
    info = json.load(open(f"{cases}/{c}/case.json")); px = info["pixel_size_um"]
    td = list(csv.DictReader(open(f"{cases}/{c}/truth_dots.csv")))
    rs = list(csv.DictReader(open(f"{res}/{c}/spots.csv")))
    tl = tifffile.imread(f"{cases}/{c}/truth_labels.tif")
    img = tifffile.imread(f"{cases}/{c}/image.tif").astype(np.float32)
    m = tl > 0
    depth = (ndi.distance_transform_edt(m) - ndi.distance_transform_edt(~m)) * px
    dapi = img[0]
    bp = ndi.gaussian_filter(dapi, 0.15 / px) - ndi.gaussian_filter(dapi, 1.0 / px)
    bp_rel = bp / (ndi.gaussian_filter(dapi, 2.0 / px) + 1)
    r = max(2.0, 0.2 / px)
    print(f"== {c}")
    for ch in ("target", "control"):
        T = np.array([(float(d["x"]), float(d["y"])) for d in td if d["channel"] == ch])
        O = np.array([(float(d["x"]), float(d["y"])) for d in td if d["channel"] != ch])
        rows = [s for s in rs if s["channel"] == ch and s["kind"] in ("single", "split_merged")]
        P = np.array([(float(s["x"]), float(s["y"])) for s in rows])
        d, _ = cKDTree(T).query(P); do, _ = cKDTree(O).query(P)
        fp = d > r
        ix = np.clip(np.round(P).astype(int), 0, np.array(tl.shape[::-1]) - 1)
        dep = depth[ix[:, 1], ix[:, 0]]
        b = bp_rel[ix[:, 1], ix[:, 0]]
        snr = np.array([float(s["snr"]) for s in rows]); w = np.array([float(s["width_um"]) for s in rows])
        cp = np.array([float(s["copies_intensity"]) for s in rows])
        tp = ~fp
        print(f" {ch}: rows {len(rows)}, FP {fp.sum()} | FP outside nuclei {(dep[fp] < 0).sum()}, "
              f"within 0.6 um of the truth outline {((dep[fp] >= 0) & (dep[fp] < 0.6)).sum()}, deeper {(dep[fp] >= 0.6).sum()} | "
              f"FP within 0.5 um of an other-channel truth dot {(do[fp] * px < 0.5).sum()}")
        q = lambda a: np.round(np.percentile(a, [10, 50, 90]), 3) if len(a) else "-"
        print(f"   FP snr {q(snr[fp])} vs TP {q(snr[tp])}; width um {q(w[fp])} vs {q(w[tp])}; "
              f"copies {q(cp[fp])} vs {q(cp[tp])}; DAPI band-pass rel {q(b[fp])} vs TP {q(b[tp])}")
