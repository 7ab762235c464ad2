#!/usr/bin/env python3
"""Baseline for single-copy detection at low SNR: the best F1 that a plain
matched filter with ONE global threshold reaches when the truth picks the
threshold (an oracle choice no real detector has), for comparison with
fishscore's figures. It is not an upper bound: fishscore's local tests
beat it (docs/accuracy.md, "Where the low-SNR misses are lost").

The detector knows the PSF exactly: background = median over a square
of radius 3 PSF sigmas, response = Gaussian (PSF sigma) of the residual,
noise = robust SD (MAD) of the response over the truth's nuclear pixels,
candidates = local maxima (3 x 3) inside truly scorable nuclei. Each
candidate is matched one-to-one (greedy, nearest first, <= 2 px) to a
truth single-copy dot (either dot of a split pair), as `fishscore
evaluate` does. Sweeping the threshold gives the best F1 any single
threshold on this matched filter reaches, with the truth choosing it.

usage: lowsnr_oracle.py TRUTH_DIR
   TRUTH_DIR  a case of `fishscore simulate` (image.tif, truth_*.csv)
"""
import csv
import json
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi


def main():
    truth_dir = sys.argv[1]
    info = json.load(open(f"{truth_dir}/truth.json"))
    p = info["params"]
    sigma = p["psf_fwhm_um"] / 2.3548 / p["pixel_size_um"]
    img = tifffile.imread(f"{truth_dir}/image.tif").astype(np.float64)
    labels = tifffile.imread(f"{truth_dir}/truth_labels.tif")
    scorable = set()
    with open(f"{truth_dir}/truth_nuclei.csv") as f:
        for r in csv.DictReader(f):
            if r["scorable"] == "true":
                scorable.add(int(r["id"]))
    smask = np.isin(labels, list(scorable))
    nucmask = labels > 0
    spots = list(csv.DictReader(open(f"{truth_dir}/truth_spots.csv")))
    rad = int(np.ceil(3 * sigma))  # as fishscore: radius ceil(3 sigma)
    for ci, ch in [(1, "target"), (2, "control")]:
        truth = [s for s in spots if s["channel"] == ch and s["copies"] == "1"
                 and s["nucleus"] and int(s["nucleus"]) in scorable]
        pts = []  # (truth index, x, y)
        for i, s in enumerate(truth):
            pts.append((i, float(s["x"]), float(s["y"])))
            if s["dot1_x"]:
                pts.append((i, float(s["dot1_x"]), float(s["dot1_y"])))
                pts.append((i, float(s["dot2_x"]), float(s["dot2_y"])))
        a = img[ci]
        bg = ndi.median_filter(a, size=2 * rad + 1)
        resp = ndi.gaussian_filter(a - bg, sigma)
        v = resp[nucmask]
        sd = 1.4826 * np.median(np.abs(v - np.median(v)))
        z = resp / sd
        mx = (z == ndi.maximum_filter(z, size=3)) & smask
        ys, xs = np.nonzero(mx)
        zs = z[ys, xs]
        order = np.argsort(-zs)
        ys, xs, zs = ys[order], xs[order], zs[order]
        # candidate -> nearest truth within 2 px (distance), greedy one-to-one
        pairs = []
        tp_xy = np.array([(x, y) for _, x, y in pts])
        tid = np.array([i for i, _, _ in pts])
        for k in range(len(xs)):
            d = np.hypot(tp_xy[:, 0] - xs[k], tp_xy[:, 1] - ys[k])
            for j in np.nonzero(d <= 2.0)[0]:
                pairs.append((d[j], k, tid[j]))
        pairs.sort()
        used_c, used_t, match = set(), set(), {}
        for d, k, t in pairs:
            if k in used_c or t in used_t:
                continue
            used_c.add(k)
            used_t.add(t)
            match[k] = t
        # sweep: candidates above threshold z0 (sorted descending)
        is_tp = np.array([k in match for k in range(len(xs))])
        ctp = np.cumsum(is_tp)
        n = np.arange(1, len(xs) + 1)
        prec = ctp / n
        rec = ctp / max(len(truth), 1)
        f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
        b = int(np.argmax(f1))
        print(f"{ch}: truth {len(truth)}, noise SD {sd:.2f}; best F1 {f1[b]:.3f} "
              f"(P {prec[b]:.3f} R {rec[b]:.3f}) at z >= {zs[b]:.2f}")
        for z0 in (3.5, 4.0, 4.5, 5.0):
            kk = np.searchsorted(-zs, -z0, side="right") - 1
            if kk >= 0:
                print(f"   z >= {z0}: P {prec[kk]:.3f} R {rec[kk]:.3f} F1 {f1[kk]:.3f}")
        # response at the true positions (best pixel of a 3 x 3 around each
        # dot; for a split copy, its brighter dot), in the same SDs
        zt = []
        for i, s in enumerate(truth):
            best = -np.inf
            for j, x, y in pts:
                if j != i or (s["dot1_x"] and (x, y) == (float(s["x"]), float(s["y"]))):
                    continue
                yi, xi = int(round(y)), int(round(x))
                best = max(best, z[max(yi - 1, 0):yi + 2, max(xi - 1, 0):xi + 2].max())
            zt.append(best)
        zt = np.array(zt)
        print(f"   true copies: response median {np.median(zt):.2f} SDs, share <= 4 SDs "
              f"{np.mean(zt <= 4):.3f}, share < 4.5 SDs {np.mean(zt < 4.5):.3f}")
        # truth dots never matched to any local maximum at all
        print(f"   truth reachable by some maximum: {len(set(match.values()))/len(truth):.3f}")


if __name__ == "__main__":
    main()
