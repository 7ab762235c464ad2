#!/usr/bin/env python3
"""The whole scoring job in Python, for the speed comparison of
docs/performance.md: scikit-image nuclei + Big-FISH signals + the same
ratio arithmetic as fishscore, on one multi-page TIFF field.

This is a comparison tool, not part of fishscore.  It is what an analyst
would assemble from the two well-known libraries, written with care for
speed (float32 images, one pass per stage, vectorised assignment), and
with nothing tuned to the simulator's truth:

1. Read the three channels (pages DAPI, target, control) with tifffile.
2. Nuclei: bench/skimage_nuclei.py's ``segment`` and ``describe`` (Gaussian
   0.5 um, Otsu, hole filling, distance-transform watershed; border, too
   small and too large nuclei not scored).
3. Signals, per probe channel: ``bigfish.detection.detect_spots`` with the
   automatic (elbow) threshold, ``voxel_size`` = the pixel size and
   ``spot_radius`` = the PSF sigma from fishscore's default PSF FWHM
   (0.35 um); then ``bigfish.detection.decompose_dense`` (defaults) so
   that clusters count as their estimated number of copies.
4. Counting: a copy belongs to the nucleus under its (rounded) position.
5. Scoring as the mdm2-cep12 panel: eligible = scored nuclei with at least
   one signal of each colour; a seeded shuffle; pooled ratio over the first
   50, extended to 100 when it lies in the borderline zone [1.8, 2.2];
   AMPLIFIED at ratio >= 2.0, EQUIVOCAL if still borderline after 100,
   INSUFFICIENT under 50 eligible; bootstrap 95 % percentile interval
   (1000 resamples).  (fishscore's order is a seeded hash, not numpy's
   shuffle, so the enumerated nuclei differ; the arithmetic is the same.)

Outputs in OUT_DIR (the contract ``fishscore evaluate`` reads):
labels.tif, nuclei.csv, spots.csv, report.json (with per-stage seconds).

Usage::

    python bench/python_pipeline.py IMAGE.tif OUT_DIR [--pixel-size-um F]

Needs: numpy, scipy, scikit-image, tifffile, big-fish (bench/requirements.txt).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
import warnings
from pathlib import Path

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import tifffile  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import skimage_nuclei  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import bigfish.detection as bfd  # noqa: E402

T_IMPORTS = time.perf_counter() - T_START

PSF_FWHM_UM = 0.35  # fishscore's SpotParams::psf_fwhm_um default
FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
CUTOFF = 2.0
BORDERLINE = (1.8, 2.2)
MIN_NUCLEI, MAX_NUCLEI = 50, 100
BOOTSTRAP = 1000
SEED = 0


def read_channels(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with tifffile.TiffFile(path) as tif:
        if len(tif.pages) < 3:
            raise SystemExit(f"{path}: expected 3 pages (DAPI, target, control)")
        return tuple(tif.pages[i].asarray() for i in range(3))


def pixel_size(path: Path, given: float | None) -> float:
    if given:
        return given
    desc = skimage_nuclei._description(tifffile.TiffFile(path))
    v = desc.get("pixel_size_um")
    if isinstance(v, (int, float)) and v > 0:
        return float(v)
    tj = path.parent / "truth.json"
    if tj.exists():
        return float(json.loads(tj.read_text())["pixel_size_um"])
    return 0.1


def detect(img: np.ndarray, px_um: float):
    """Big-FISH spots (y, x) with copies, and dense regions."""
    px_nm = px_um * 1000.0
    r_nm = PSF_FWHM_UM * FWHM_TO_SIGMA * 1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spots, thr = bfd.detect_spots(
            images=img, threshold=None, return_threshold=True,
            voxel_size=(px_nm, px_nm), spot_radius=(r_nm, r_nm))
        try:
            post, regions, _ref = bfd.decompose_dense(
                image=img, spots=spots, voxel_size=(px_nm, px_nm),
                spot_radius=(r_nm, r_nm))
        except (ValueError, RuntimeError):
            post, regions = spots, np.zeros((0, 4), dtype=np.int64)
    return spots, post, regions, float(thr)


def assign(labels: np.ndarray, pts: np.ndarray) -> np.ndarray:
    if len(pts) == 0:
        return np.zeros(0, dtype=np.int64)
    h, w = labels.shape
    y = np.clip(np.rint(pts[:, 0]).astype(np.int64), 0, h - 1)
    x = np.clip(np.rint(pts[:, 1]).astype(np.int64), 0, w - 1)
    return labels[y, x]


def score(t: np.ndarray, c: np.ndarray, eligible: np.ndarray) -> dict:
    idx = np.flatnonzero(eligible)
    rng = np.random.default_rng(SEED)
    order = idx[rng.permutation(len(idx))]
    n_el = len(order)
    if n_el < MIN_NUCLEI:
        take = order
    else:
        take = order[:MIN_NUCLEI]
        r = t[take].sum() / max(c[take].sum(), 1)
        if BORDERLINE[0] <= r <= BORDERLINE[1]:
            take = order[:MAX_NUCLEI]
    ratio = float(t[take].sum() / c[take].sum()) if c[take].sum() > 0 else None
    if n_el < MIN_NUCLEI or ratio is None:
        call = "INSUFFICIENT"
    elif len(take) >= MAX_NUCLEI and BORDERLINE[0] <= ratio <= BORDERLINE[1]:
        call = "EQUIVOCAL"
    else:
        call = "AMPLIFIED" if ratio >= CUTOFF else "NOT_AMPLIFIED"
    ci = None
    if ratio is not None and len(take):
        b = rng.integers(0, len(take), size=(BOOTSTRAP, len(take)))
        tt, cc = t[take][b].sum(axis=1), c[take][b].sum(axis=1)
        rs = tt[cc > 0] / cc[cc > 0]
        ci = [float(np.percentile(rs, 2.5)), float(np.percentile(rs, 97.5))]
    return {"call": call, "ratio": ratio, "ratio_ci95": ci,
            "nuclei_eligible": int(n_el), "nuclei_scored": int(len(take)),
            "scored_ids": take}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("image", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--pixel-size-um", type=float, default=None)
    a = ap.parse_args(argv)
    times = {"imports": T_IMPORTS}

    t0 = time.perf_counter()
    dapi, target, control = read_channels(a.image)
    px_um = pixel_size(a.image, a.pixel_size_um)
    times["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    labels = skimage_nuclei.segment(dapi.astype(np.float32), px_um)
    table = skimage_nuclei.describe(labels, px_um)
    times["nuclei"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    found = {}
    for name, img in (("target", target), ("control", control)):
        found[name] = detect(img, px_um)
    times["signals"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n = int(labels.max())
    counts, cluster = {}, np.zeros(n + 1, dtype=bool)
    for name, (_s, post, regions, _thr) in found.items():
        nuc = assign(labels, post)
        counts[name] = np.bincount(nuc, minlength=n + 1)
        if name == "target" and len(regions):
            big = regions[regions[:, 2] >= 2]
            cluster[assign(labels, big[:, :2].astype(np.float64))] = True
    cluster[0] = False
    ids = table["id"]
    t, c = counts["target"][ids], counts["control"][ids]
    scored = table["reason"] == ""
    eligible = scored & (t >= 1) & (c >= 1)
    s = score(t, c, eligible)
    times["scoring"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    skimage_nuclei.write_outputs(a.out_dir, "image", labels, px_um, table)
    # Rewrite nuclei.csv with the counts (write_outputs leaves them empty).
    with open(a.out_dir / "nuclei.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["field", "id", "x", "y", "area_um2", "scored",
                    "excluded_reason", "target", "control", "cluster"])
        for k, i in enumerate(ids):
            w.writerow(["image", int(i), f"{table['x'][k]:.2f}", f"{table['y'][k]:.2f}",
                        f"{table['area_um2'][k]:.2f}",
                        "true" if eligible[k] else "false",
                        table["reason"][k] or ("" if eligible[k] else "no_signal"),
                        int(t[k]), int(c[k]), "true" if cluster[i] else "false"])
    with open(a.out_dir / "spots.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["field", "x", "y", "channel", "nucleus", "intensity", "copies", "kind"])
        for name, (_s, post, _r, _thr) in found.items():
            img = target if name == "target" else control
            nuc = assign(labels, post)
            for (y, x), lab in zip(post, nuc):
                w.writerow(["image", int(x), int(y), name, int(lab) if lab else "",
                            int(img[int(y), int(x)]), 1, "single"])
    times["write"] = time.perf_counter() - t0
    times["total_in_script"] = time.perf_counter() - T_START
    report = {k: v for k, v in s.items() if k != "scored_ids"}
    report.update({
        "nuclei_detected": int(n),
        "target_spots": {k: int(len(v[1])) for k, v in found.items()},
        "thresholds": {k: v[3] for k, v in found.items()},
        "pixel_size_um": px_um,
        "seconds": times,
    })
    (a.out_dir / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({"call": s["call"], "ratio": s["ratio"], "seconds": times}),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
