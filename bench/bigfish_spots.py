#!/usr/bin/env python3
"""Big-FISH baseline for probe-signal detection and cluster decomposition.

This is a comparison tool, not part of fishscore.  It runs the spot stage of
Big-FISH (Imbert et al. 2022, RNA 28:786-795; PyPI ``big-fish``) on the
simulated cases so that fishscore's signal figures can be reported side by
side with a published, widely used smFISH detector:

1. ``bigfish.detection.detect_spots`` on each probe channel (target, control)
   with ``threshold=None``, i.e. Big-FISH's automatic threshold: the elbow
   ("kink") of the log spot-count vs LoG-threshold curve.
   ``voxel_size`` = the case's pixel size in nm; ``spot_radius`` = the PSF
   Gaussian sigma in nm, derived from the simulator's PSF FWHM in
   ``truth.json`` (sigma = FWHM / (2 sqrt(2 ln 2))).  Big-FISH uses
   ``spot_radius / voxel_size`` both as the LoG sigma and as the minimum
   peak distance and documents it as "the standard deviation of the spot
   PSF" (``bigfish.detection.get_object_radius_pixel``).  ``--spot-radius
   hwhm`` uses FWHM / 2 instead, as a sensitivity check.  Nothing is tuned.
   The image is given as loaded (uint16), as in Big-FISH's tutorials; note
   that Big-FISH then computes the LoG on the image scaled to [0, 1] and
   casts it back to uint16, so with 12-bit data the LoG values (and the
   candidate thresholds) are small integers (about 0-100).
   ``--image-dtype float32`` passes the ADU values to detect_spots as float32
   instead (a documented input type; the LoG then stays in ADU), as a second
   sensitivity check; decompose_dense always gets the uint16 image (Big-FISH
   0.6.2's decompose_dense fails on float images: ``np.iinfo`` in
   ``_gaussian_mixture_2d``).  ``--no-decompose`` skips step 2 (every LoG spot is one
   copy), to tell the two stages' errors apart.
2. ``bigfish.detection.decompose_dense`` with its defaults (alpha = 0.5:
   the median spot is the reference; beta = 1: a dense region is a connected
   set of >= 2 pixels brighter than the reference spot's peak; gamma = 5:
   background removed with a Gaussian of 5 x spot radius).  It returns the
   spots outside dense regions plus one simulated spot per Gaussian fitted
   into each dense region, and one row per region with its spot count.
3. Assignment to nuclei with the TRUE label image (``truth_labels.tif``):
   segmentation is taken from the truth on purpose, so the comparison
   isolates the spot stage (fishscore's counterpart is the example
   ``spots_on_truth``, which does the same).  A spot belongs to the nucleus
   under its (rounded) position.

Result folder (the contract read by ``fishscore evaluate``):

* ``labels.tif``: copy of ``truth_labels.tif``.
* ``spots.csv``: ``field,x,y,channel,nucleus,intensity,copies,kind``. One row
  ``kind=single, copies=1`` per spot outside a dense region and per dense
  region decomposed into a single Gaussian; one row ``kind=cluster`` per
  dense region decomposed into >= 2 Gaussians, ``copies`` = that number, at
  the mean position of its Gaussians.  ``intensity`` = raw pixel value at the
  position.  x = column, y = row, pixel centres at integers.
* ``nuclei.csv``: every truth label (debris included) with
  ``scored = scorable = truth scorable`` and the per-nucleus sums of
  ``copies`` per channel; ``cluster`` = the nucleus holds a target cluster.
* ``bigfish.json``: automatic thresholds, spot counts before/after
  decomposition, dense regions, warnings and wall times (detection and
  decomposition only, image reading and writing excluded).

No ``report.json`` is written: Big-FISH has no ratio or call.

Usage::

    python bench/bigfish_spots.py detect CASE_DIR OUT_DIR [--spot-radius sigma|hwhm] [--image-dtype uint16|float32] [--no-decompose]
    python bench/bigfish_spots.py add-scorable TRUTH_ROOT RESULT_ROOT
    python bench/bigfish_spots.py compare NAME=EVAL.json NAME=EVAL.json [--truth-root R --results NAME=ROOT ...]

``add-scorable`` adds the truth ``scorable`` column to the nuclei.csv of every
case of a result tree (used on ``spots_on_truth`` output so that both tools
are counted over the same nuclei); ``compare`` prints the markdown tables of
bench/run_bigfish_baseline.sh.  Both need only the standard library.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import statistics
import sys
import time
import warnings
from pathlib import Path

FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))
CHANNELS = ("target", "control")


# --------------------------------------------------------------------------
# detect
# --------------------------------------------------------------------------

def load_channels(case: Path):
    """Returns {'target': 2-d uint16, 'control': 2-d uint16} (z max-projected)."""
    import numpy as np
    import tifffile

    if (case / "image.tif").is_file():
        pages = tifffile.imread(case / "image.tif")
        if pages.ndim == 2 or pages.shape[0] % 3 != 0:
            raise ValueError(f"{case / 'image.tif'}: expected 3 x z pages (DAPI, target, control)")
        z = pages.shape[0] // 3
        return {
            name: np.max(pages[(k + 1) * z:(k + 2) * z], axis=0).astype(np.uint16)
            for k, name in enumerate(CHANNELS)
        }
    out = {}
    for name in CHANNELS:
        img = tifffile.imread(case / f"{name}.tif")
        if img.ndim == 3:
            img = img.max(axis=0)
        out[name] = img.astype(np.uint16)
    return out


def detect_channel(image, voxel_nm: float, radius_nm: float, decompose: bool = True,
                   detect_dtype: str = "uint16") -> dict:
    """Big-FISH detect_spots (automatic threshold) on `image` cast to
    `detect_dtype`, then decompose_dense (defaults; skipped if not
    `decompose`) on the uint16 `image`."""
    import numpy as np
    from bigfish import detection

    caught = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        spots, threshold = detection.detect_spots(
            image.astype(detect_dtype),
            threshold=None,
            return_threshold=True,
            voxel_size=(voxel_nm, voxel_nm),
            spot_radius=(radius_nm, radius_nm),
        )
        t1 = time.perf_counter()
        # build_reference_spot draws a random subset of <= 2000 spots.
        np.random.seed(0)
        if len(spots) > 0 and decompose:
            spots_post, regions, _ref = detection.decompose_dense(
                image,
                spots,
                voxel_size=(voxel_nm, voxel_nm),
                spot_radius=(radius_nm, radius_nm),
            )
        else:
            spots_post, regions = spots, np.zeros((0, 6), dtype=np.int64)
        t2 = time.perf_counter()
        # Big-FISH's own warnings (e.g. too few spots for a reference spot);
        # deprecation notices (scikit-image API changes) are left out.
        caught = sorted({str(x.message).strip() for x in w
                         if not issubclass(x.category, (DeprecationWarning, FutureWarning))
                         and "deprecated" not in str(x.message)})

    # decompose_dense returns [spots outside regions; spots inside regions],
    # the latter in region order, region i holding regions[i, 2] spots.
    n_in = int(regions[:, 2].sum()) if len(regions) else 0
    n_out = len(spots_post) - n_in
    outside = spots_post[:n_out]
    inside = spots_post[n_out:]
    groups = []
    k = 0
    for r in regions:
        n = int(r[2])
        groups.append(inside[k:k + n])
        k += n
    return {
        "threshold": None if threshold is None else float(threshold),
        "spots_detected": int(len(spots)),
        "spots_after_decomposition": int(len(spots_post)),
        "outside": outside,
        "regions": groups,
        "warnings": caught,
        "detect_s": t1 - t0,
        "decompose_s": t2 - t1,
    }


def cmd_detect(args) -> int:
    import numpy as np
    import tifffile

    case = Path(args.case_dir)
    out = Path(args.out_dir)
    truth = json.loads((case / "truth.json").read_text())
    px_um = float(truth["pixel_size_um"])
    fwhm_um = float(truth["params"]["psf_fwhm_um"])
    radius_um = fwhm_um * FWHM_TO_SIGMA if args.spot_radius == "sigma" else fwhm_um / 2.0
    voxel_nm, radius_nm = px_um * 1000.0, radius_um * 1000.0

    labels = tifffile.imread(case / "truth_labels.tif")
    h, w = labels.shape
    channels = load_channels(case)
    for name, img in channels.items():
        if img.shape != labels.shape:
            raise ValueError(f"{case}: {name} is {img.shape}, labels are {labels.shape}")

    def label_at(y: float, x: float) -> int:
        yi, xi = int(round(y)), int(round(x))
        if 0 <= yi < h and 0 <= xi < w:
            return int(labels[yi, xi])
        return 0

    rows = []
    info = {
        "case": case.name,
        "bigfish_version": __import__("bigfish").__version__,
        "pixel_size_nm": voxel_nm,
        "psf_fwhm_nm": fwhm_um * 1000.0,
        "spot_radius_rule": args.spot_radius,
        "spot_radius_nm": radius_nm,
        "image_dtype": args.image_dtype,
        "decompose_dense": {"alpha": 0.5, "beta": 1, "gamma": 5} if args.decompose else None,
        "channels": {},
    }
    for name in CHANNELS:
        img = channels[name]
        r = detect_channel(img, voxel_nm, radius_nm, args.decompose, args.image_dtype)
        for y, x in r["outside"]:
            rows.append((name, float(x), float(y), 1, "single", int(img[int(y), int(x)])))
        n_clusters = 0
        for g in r["regions"]:
            if len(g) == 0:
                continue
            y, x = float(np.mean(g[:, 0])), float(np.mean(g[:, 1]))
            kind = "single" if len(g) == 1 else "cluster"
            n_clusters += kind == "cluster"
            yi = min(max(int(round(y)), 0), h - 1)
            xi = min(max(int(round(x)), 0), w - 1)
            rows.append((name, x, y, len(g), kind, int(img[yi, xi])))
        info["channels"][name] = {
            "threshold": r["threshold"],
            "spots_detected": r["spots_detected"],
            "spots_after_decomposition": r["spots_after_decomposition"],
            "dense_regions": len(r["regions"]),
            "clusters_ge2": n_clusters,
            "largest_region_spots": max((len(g) for g in r["regions"]), default=0),
            "detect_s": round(r["detect_s"], 3),
            "decompose_s": round(r["decompose_s"], 3),
            "warnings": r["warnings"],
        }
    info["wall_s"] = round(sum(c["detect_s"] + c["decompose_s"] for c in info["channels"].values()), 3)

    # Per-nucleus sums.
    n_max = int(labels.max())
    counts = {c: [0] * (n_max + 1) for c in CHANNELS}
    has_cluster = [False] * (n_max + 1)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "spots.csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["field", "x", "y", "channel", "nucleus", "intensity", "copies", "kind"])
        for ch, x, y, copies, kind, inten in rows:
            lab = label_at(y, x)
            if lab:
                counts[ch][lab] += copies
                if ch == "target" and kind == "cluster":
                    has_cluster[lab] = True
            wr.writerow([case.name, f"{x:.3f}", f"{y:.3f}", ch, lab or "", inten, copies, kind])

    with open(case / "truth_nuclei.csv", newline="") as f:
        truth_rows = list(csv.DictReader(f))
    with open(out / "nuclei.csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["field", "id", "x", "y", "area_um2", "scored", "excluded_reason",
                     "target", "control", "cluster", "scorable"])
        for t in truth_rows:
            i = int(t["id"])
            scorable = t["scorable"] == "true"
            reason = t["reason"] or ("debris" if t["kind"] == "debris" else "")
            tc = counts["target"][i] if i <= n_max else 0
            cc = counts["control"][i] if i <= n_max else 0
            cl = has_cluster[i] if i <= n_max else False
            wr.writerow([case.name, i, t["x"], t["y"], t["area_um2"],
                         str(scorable).lower(), "" if scorable else reason,
                         tc, cc, str(cl).lower(), str(scorable).lower()])
    shutil.copyfile(case / "truth_labels.tif", out / "labels.tif")
    (out / "bigfish.json").write_text(json.dumps(info, indent=1) + "\n")
    ch = info["channels"]
    print(f"{case.name}: {info['wall_s']:.1f} s; threshold target {ch['target']['threshold']} "
          f"control {ch['control']['threshold']}; spots target {ch['target']['spots_after_decomposition']} "
          f"control {ch['control']['spots_after_decomposition']}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------
# add-scorable
# --------------------------------------------------------------------------

def cmd_add_scorable(args) -> int:
    truth_root, res_root = Path(args.truth_root), Path(args.result_root)
    n = 0
    for case in sorted(p for p in truth_root.iterdir() if (p / "truth.json").is_file()):
        res = res_root / case.name / "nuclei.csv"
        if not res.is_file():
            print(f"{res}: missing", file=sys.stderr)
            return 1
        with open(case / "truth_nuclei.csv", newline="") as f:
            scorable = {r["id"]: r["scorable"] for r in csv.DictReader(f)}
        with open(res, newline="") as f:
            rd = csv.DictReader(f)
            fields = [c for c in rd.fieldnames if c != "scorable"] + ["scorable"]
            rows = list(rd)
        for r in rows:
            r["scorable"] = scorable.get(r["id"], "false")
        with open(res, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=fields)
            wr.writeheader()
            wr.writerows(rows)
        n += 1
    print(f"added truth scorable column to {n} cases under {res_root}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------

def _f(v, d=3):
    return "-" if v is None else f"{v:.{d}f}"


def _pooled(cases, tag=None):
    """Pools per-case metrics of the cases: all (tag None), those of one tag,
    or those without a tag ("-tag")."""
    def keep(m):
        if tag is None:
            return True
        if tag.startswith("-"):
            return tag[1:] not in m["tags"]
        return tag in m["tags"]
    sel = [c["metrics"] for c in cases if c.get("metrics") and keep(c["metrics"])]
    out = {"cases": len(sel)}
    for ch in ("target", "control"):
        t = sum(m["signals"][ch]["truth"] for m in sel)
        p = sum(m["signals"][ch]["predicted"] for m in sel)
        k = sum(m["signals"][ch]["matched"] for m in sel)
        out[ch] = (k / p if p else None, k / t if t else None, 2 * k / (t + p) if t + p else None)
    nn = sum(m["counts"]["non_cluster_nuclei"] for m in sel)
    for ch in ("target", "control", "both"):
        ex = sum(round((m["counts"][f"{ch}_exact_rate"] or 0) * m["counts"]["non_cluster_nuclei"]) for m in sel)
        out[f"{ch}_exact"] = ex / nn if nn else None
    out["non_cluster_nuclei"] = nn
    cl = [m["signals"]["cluster_median_rel_error"] for m in sel if m["signals"]["cluster_median_rel_error"] is not None]
    out["cluster_err"] = statistics.median(cl) if cl else None
    cn = [m["counts"]["cluster_nucleus_target_median_rel_error"] for m in sel
          if m["counts"]["cluster_nucleus_target_median_rel_error"] is not None]
    out["cluster_nucleus_err"] = statistics.median(cn) if cn else None
    ct = sum(m["signals"]["clusters_truth"] for m in sel)
    cm = sum(m["signals"]["clusters_matched"] for m in sel)
    out["clusters"] = f"{cm}/{ct}" if ct else "-"
    out["target_in_empty"] = sum(m["signals"]["target_in_empty_nuclei"] for m in sel)
    return out


def _background_share(truth_root: Path, res_root: Path, case="background-only"):
    """Truly scorable nuclei of `case`: how many have a target count > 0,
    how many there are, and the target copies counted in them."""
    tn = truth_root / case / "truth_nuclei.csv"
    rn = res_root / case / "nuclei.csv"
    if not (tn.is_file() and rn.is_file()):
        return None
    with open(tn, newline="") as f:
        scor = {r["id"] for r in csv.DictReader(f) if r["scorable"] == "true"}
    with open(rn, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["id"] in scor]
    with_sig = sum(float(r["target"] or 0) > 0 for r in rows)
    copies = sum(float(r["target"] or 0) for r in rows)
    return with_sig, len(rows), copies


def _timing_table(roots: dict) -> None:
    """Per case: Big-FISH's automatic thresholds, counts, warnings and wall
    times (from bigfish.json) and fishscore's time (spots_on_truth's
    timing.log), where those files exist under the result roots."""
    import re

    bf = {}
    fs = {}
    for root in roots.values():
        for p in sorted(Path(root).glob("*/bigfish.json")):
            bf[p.parent.name] = json.loads(p.read_text())
        log = Path(root) / "timing.log"
        if log.is_file():
            for line in log.read_text().splitlines():
                m = re.match(r'^"(.+?)": ([0-9.]+)s', line)
                if m:
                    fs[m.group(1)] = float(m.group(2))
    if not bf:
        return
    print()
    print("| case | BF threshold target | BF threshold control | BF spots target (LoG / after decomp.) "
          "| BF spots control (LoG / after decomp.) | BF dense regions t / c (>= 2 spots) | BF warnings "
          "| BF time s | fishscore time s |")
    print("|" + "---|" * 9)
    tot_bf = tot_fs = 0.0
    for case in sorted(bf):
        i = bf[case]
        t, c = i["channels"]["target"], i["channels"]["control"]
        warn = sorted(set(t["warnings"]) | set(c["warnings"]))
        tot_bf += i["wall_s"]
        tot_fs += fs.get(case, 0.0)
        print(f"| {case} | {_f(t['threshold'], 1)} | {_f(c['threshold'], 1)} "
              f"| {t['spots_detected']} / {t['spots_after_decomposition']} "
              f"| {c['spots_detected']} / {c['spots_after_decomposition']} "
              f"| {t['dense_regions']} ({t['clusters_ge2']}) / {c['dense_regions']} ({c['clusters_ge2']}) "
              f"| {'; '.join(w.strip() for w in warn) or '-'} | {i['wall_s']:.2f} "
              f"| {_f(fs.get(case), 2)} |")
    print(f"| **total** | | | | | | | {tot_bf:.1f} | {tot_fs:.1f} |")


def cmd_compare(args) -> int:
    evals = []
    for spec in args.evals:
        name, _, path = spec.partition("=")
        evals.append((name, json.loads(Path(path).read_text())))
    tags = sorted({t for _, e in evals for c in e["cases"] if c.get("metrics") for t in c["metrics"]["tags"]})
    names = [n for n, _ in evals]

    print("| group | tool | cases | target P | target R | target F1 | control P | control R | control F1 "
          "| target exact | control exact | both exact | clusters matched | cluster copies med. rel. err. "
          "| clustered-nucleus target med. rel. err. |")
    print("|" + "---|" * 15)
    for group in [None] + [f"-{t}" for t in args.without] + tags:
        for name, e in evals:
            s = _pooled(e["cases"], group)
            if s["cases"] == 0:
                continue
            t, c = s["target"], s["control"]
            label = "**all**" if group is None else f"**all but {group[1:]}**" if group.startswith("-") else group
            print(f"| {label} | {name} | {s['cases']} | {_f(t[0])} | {_f(t[1])} | {_f(t[2])} "
                  f"| {_f(c[0])} | {_f(c[1])} | {_f(c[2])} | {_f(s['target_exact'])} | {_f(s['control_exact'])} "
                  f"| {_f(s['both_exact'])} | {s['clusters']} | {_f(s['cluster_err'])} | {_f(s['cluster_nucleus_err'])} |")

    if args.truth_root and args.results:
        print()
        print("| case `background-only` (no target copy anywhere) | scorable nuclei with a target count > 0 "
              "| target copies counted in scorable nuclei |")
        print("|---|---|---|")
        roots = dict(r.partition("=")[::2] for r in args.results)
        for name, e in evals:
            b = _background_share(Path(args.truth_root), Path(roots.get(name, "")))
            share = "-" if b is None else f"{b[0]}/{b[1]} = {b[0] / b[1]:.3f}" if b[1] else "-"
            print(f"| {name} | {share} | {'-' if b is None else f'{b[2]:g}'} |")

    if args.results:
        _timing_table(dict(r.partition("=")[::2] for r in args.results))

    print()
    hdr = "| case | " + " | ".join(f"{n} tF1 | {n} cF1 | {n} tEx | {n} cEx | {n} clErr" for n in names) + " |"
    print(hdr)
    print("|" + "---|" * (1 + 5 * len(names)))
    by_case = [{c["case"]: c.get("metrics") for c in e["cases"]} for _, e in evals]
    for case in sorted(by_case[0]):
        cells = []
        for bc in by_case:
            m = bc.get(case)
            if m is None:
                cells += ["ERR"] * 5
                continue
            cells += [_f(m["signals"]["target"]["f1"]), _f(m["signals"]["control"]["f1"]),
                      _f(m["counts"]["target_exact_rate"]), _f(m["counts"]["control_exact_rate"]),
                      _f(m["signals"]["cluster_median_rel_error"])]
        print(f"| {case} | " + " | ".join(cells) + " |")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("detect", help="run Big-FISH on one simulated case")
    d.add_argument("case_dir")
    d.add_argument("out_dir")
    d.add_argument("--spot-radius", choices=("sigma", "hwhm"), default="sigma",
                   help="spot_radius = PSF sigma (FWHM/2.355, default) or FWHM/2")
    d.add_argument("--no-decompose", dest="decompose", action="store_false",
                   help="skip decompose_dense (every LoG spot is one copy): separates the two stages")
    d.add_argument("--image-dtype", choices=("uint16", "float32"), default="uint16",
                   help="type of the image given to detect_spots (default uint16, as loaded)")
    a = sub.add_parser("add-scorable", help="add the truth scorable column to a result tree")
    a.add_argument("truth_root")
    a.add_argument("result_root")
    c = sub.add_parser("compare", help="markdown side-by-side of tree evaluations")
    c.add_argument("evals", nargs="+", metavar="NAME=EVAL.json")
    c.add_argument("--without", action="append", default=[], metavar="TAG",
                   help="add a pooled row over the cases without TAG (repeatable)")
    c.add_argument("--truth-root")
    c.add_argument("--results", nargs="*", metavar="NAME=RESULT_ROOT")
    args = ap.parse_args()
    try:
        return {"detect": cmd_detect, "add-scorable": cmd_add_scorable, "compare": cmd_compare}[args.cmd](args)
    except (OSError, ValueError, KeyError) as e:
        print(f"bigfish_spots.py {args.cmd}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
