#!/usr/bin/env python3
"""Compare fishscore results with altsim truth.

usage: compare.py CASES_DIR RESULTS_DIR [--case NAME ...] [--json OUT.json]

CASES_DIR/NAME holds altsim.py's truth (truth_labels.tif, truth_nuclei.csv, truth_dots.csv,
case.json); RESULTS_DIR/NAME holds `fishscore analyze --out` (report.json, nuclei.csv,
spots.csv, labels.tif).  Prints a markdown table and per-case diagnostics.

Definitions
  nucleus F1       one-to-one matches at IoU >= 0.5 (any IoU > 0.5 match is unique) over all
                   truth and all result nuclei
  scorable kept    truly scorable (not cut, not overlapping) matched nuclei that fishscore
                   calls scorable
  exact T / C      among SCORED result nuclei matched to a truly scorable truth nucleus without
                   a cluster: share whose target (control) count equals the truth
  cluster err      median |est - truth| / truth of the target count of scored nuclei with a truth
                   cluster (truth target = cluster copies + single copies)
  dot P / R        truth single-copy dots in truly scorable nuclei vs result rows of kind
                   single / split_merged lying in result nuclei matched to those truth nuclei,
                   one-to-one within max(2 px, 0.2 um); target rows within 1.2 um of a truth
                   cluster centre are left out of precision (cluster fragments, counted apart)
  ratio same       truth ratio (sum T / sum C) over the truth nuclei matched to SCORED nuclei
  ratio all        truth ratio over all truly scorable truth nuclei
  call             fishscore call vs AMPLIFIED iff truth ratio (all) >= 2.0
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np
import tifffile
from scipy.spatial import cKDTree


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def tb(v):
    return str(v).strip().lower() in ("true", "1", "yes")


def iou_match(tl, pl):
    nt, np_ = int(tl.max()), int(pl.max())
    at = np.bincount(tl.ravel(), minlength=nt + 1).astype(np.int64)
    ap = np.bincount(pl.ravel(), minlength=np_ + 1).astype(np.int64)
    m = (tl > 0) & (pl > 0)
    key = tl[m].astype(np.int64) * (np_ + 1) + pl[m].astype(np.int64)
    u, c = np.unique(key, return_counts=True)
    t_of, p_of = u // (np_ + 1), u % (np_ + 1)
    iou = c / (at[t_of] + ap[p_of] - c)
    ok = iou >= 0.5
    t2p = {int(t): int(p) for t, p in zip(t_of[ok], p_of[ok])}
    p2t = {p: t for t, p in t2p.items()}
    ious = {int(t): float(i) for t, i in zip(t_of[ok], iou[ok])}
    # best overlap partner for any result nucleus (for diagnostics)
    best_t = {}
    for t, p, cc in zip(t_of, p_of, c):
        if cc > best_t.get(int(p), (0, 0))[1]:
            best_t[int(p)] = (int(t), int(cc))
    n_t = int((at[1:] > 0).sum())
    n_p = int((ap[1:] > 0).sum())
    return t2p, p2t, ious, n_t, n_p, best_t


def greedy_match(a, b, r):
    """one-to-one greedy nearest matching of point sets a, b (N x 2) within r."""
    if len(a) == 0 or len(b) == 0:
        return []
    ta, tb_ = cKDTree(a), cKDTree(b)
    sdm = ta.sparse_distance_matrix(tb_, r, output_type="ndarray")
    order = np.argsort(sdm["v"])
    ua, ub, pairs = set(), set(), []
    for k in order:
        i, j = int(sdm["i"][k]), int(sdm["j"][k])
        if i in ua or j in ub:
            continue
        ua.add(i)
        ub.add(j)
        pairs.append((i, j, float(sdm["v"][k])))
    return pairs


def compare_case(case_dir, res_dir):
    info = json.load(open(os.path.join(case_dir, "case.json")))
    px = info["pixel_size_um"]
    tn = {int(r["id"]): r for r in read_csv(os.path.join(case_dir, "truth_nuclei.csv"))}
    td = read_csv(os.path.join(case_dir, "truth_dots.csv"))
    tl = tifffile.imread(os.path.join(case_dir, "truth_labels.tif"))
    rep = json.load(open(os.path.join(res_dir, "report.json")))
    rn = {int(r["id"]): r for r in read_csv(os.path.join(res_dir, "nuclei.csv"))}
    rs = read_csv(os.path.join(res_dir, "spots.csv"))
    pl = tifffile.imread(os.path.join(res_dir, "labels.tif"))
    if pl.ndim > 2:
        pl = pl.reshape(pl.shape[-2:])
    t2p, p2t, ious, n_t, n_p, best_t = iou_match(tl, pl)
    tp = len(t2p)
    prec, rec = tp / max(n_p, 1), tp / max(n_t, 1)
    f1 = 2 * tp / max(n_t + n_p, 1)

    scorable_t = {i for i, r in tn.items() if r["scorable"] == "1"}
    kept = [i for i in scorable_t if i in t2p and tb(rn[t2p[i]]["scorable"])]
    matched_scorable = [i for i in scorable_t if i in t2p]

    # exclusion reasons of result nuclei matched to truly scorable nuclei
    excl = {}
    for i in matched_scorable:
        r = rn[t2p[i]]
        if not tb(r["scorable"]):
            excl[r["excluded_reason"]] = excl.get(r["excluded_reason"], 0) + 1

    scored = [p for p, r in rn.items() if tb(r["scored"])]
    scored_m = [p for p in scored if p in p2t and p2t[p] in scorable_t]
    scored_unmatched = [p for p in scored if p not in p2t]
    scored_bad_truth = [p for p in scored if p in p2t and p2t[p] not in scorable_t]
    noclu = [p for p in scored_m if int(tn[p2t[p]]["cluster_copies"]) == 0]
    ex_t = [int(rn[p]["target"]) == int(tn[p2t[p]]["target"]) for p in noclu]
    ex_c = [int(rn[p]["control"]) == int(tn[p2t[p]]["control"]) for p in noclu]
    dt = [int(rn[p]["target"]) - int(tn[p2t[p]]["target"]) for p in noclu]
    dc = [int(rn[p]["control"]) - int(tn[p2t[p]]["control"]) for p in noclu]
    clu = [p for p in scored_m if int(tn[p2t[p]]["cluster_copies"]) > 0]
    clu_err = [(int(rn[p]["target"]) - int(tn[p2t[p]]["target"])) / int(tn[p2t[p]]["target"]) for p in clu]

    # ratios
    st = sum(int(tn[p2t[p]]["target"]) for p in scored if p in p2t)
    sc = sum(int(tn[p2t[p]]["control"]) for p in scored if p in p2t)
    ratio_same = st / sc if sc else None
    rt = sum(int(rn[p]["target"]) for p in scored if p in p2t)
    rc = sum(int(rn[p]["control"]) for p in scored if p in p2t)
    ratio_res_matched = rt / rc if rc else None
    ratio_all = info["truth_ratio_scorable"]
    truth_call = "AMPLIFIED" if ratio_all >= 2.0 else "NOT_AMPLIFIED"

    # dots
    r_match = max(2.0, 0.2 / px)
    clusters = [(float(r["cluster_x"]), float(r["cluster_y"])) for r in tn.values()
                if int(r["cluster_copies"]) > 0]
    ctree = cKDTree(np.array(clusters)) if clusters else None
    dots = {}
    for ch in ("target", "control"):
        tpts = np.array([(float(d["x"]), float(d["y"])) for d in td
                         if d["channel"] == ch and d["kind"] == "single" and int(d["nucleus"]) in scorable_t
                         and int(d["nucleus"]) in t2p]).reshape(-1, 2)
        tpts_all = np.array([(float(d["x"]), float(d["y"])) for d in td
                             if d["channel"] == ch and d["kind"] == "single"
                             and int(d["nucleus"]) in scorable_t]).reshape(-1, 2)
        ok_nuc = {t2p[i] for i in scorable_t if i in t2p}
        rows = [s for s in rs if s["channel"] == ch and s["kind"] in ("single", "split_merged")
                and s["nucleus"] not in ("", None) and int(s["nucleus"]) in ok_nuc]
        gran = [s for s in rs if s["channel"] == ch and s["kind"] == "granule"]
        rpts = np.array([(float(s["x"]), float(s["y"])) for s in rows]).reshape(-1, 2)
        frag = np.zeros(len(rpts), bool)
        if ch == "target" and ctree is not None and len(rpts):
            d, _ = ctree.query(rpts)
            frag = d * px <= 1.2
        pairs = greedy_match(tpts, rpts, r_match)
        matched_r = {j for _, j, _ in pairs}
        fp = [j for j in range(len(rpts)) if j not in matched_r and not frag[j]]
        n_r = int((~frag).sum()) + sum(1 for j in matched_r if frag[j])
        # misses: how many missed truth dots lie within the radius of a cluster/granule/other row
        matched_t = {i for i, _, _ in pairs}
        missed = [i for i in range(len(tpts)) if i not in matched_t]
        allrows = np.array([(float(s["x"]), float(s["y"])) for s in rs if s["channel"] == ch]).reshape(-1, 2)
        kinds = [s["kind"] for s in rs if s["channel"] == ch]
        miss_kind = {}
        if len(allrows) and missed:
            tr = cKDTree(allrows)
            for i in missed:
                d, j = tr.query(tpts[i])
                k = kinds[j] if d <= r_match else "none"
                miss_kind[k] = miss_kind.get(k, 0) + 1
        # unrestricted: all result single rows anywhere vs all truth singles
        allsingle = np.array([(float(s["x"]), float(s["y"])) for s in rs
                              if s["channel"] == ch and s["kind"] in ("single", "split_merged")]).reshape(-1, 2)
        tall = np.array([(float(d["x"]), float(d["y"])) for d in td
                         if d["channel"] == ch and d["kind"] == "single"]).reshape(-1, 2)
        pairs_all = greedy_match(tall, allsingle, r_match)
        dist = [v * px for _, _, v in pairs]
        dots[ch] = dict(truth=len(tpts), truth_in_scorable_incl_unmatched=len(tpts_all), result=n_r,
                        tp=len(pairs), precision=len(pairs) / max(n_r, 1), recall=len(pairs) / max(len(tpts), 1),
                        fp=len(fp), cluster_fragments=int(frag.sum()), missed_near=miss_kind,
                        granules=len(gran), median_loc_err_um=float(np.median(dist)) if dist else None,
                        all_image=dict(truth=len(tall), result=len(allsingle), tp=len(pairs_all)))

    f = rep["fields"][0]
    psf = {s["channel"]: s["psf_sigma_um"] for s in f["signal_qc"]}
    out = dict(
        case=info["case"], px=px, pixel_size_read=f["pixel_size_um"], pixel_size_source=f["input"]["pixel_size_source"],
        truth_nuclei=n_t, result_nuclei=n_p, nuc_tp=tp, nuc_precision=prec, nuc_recall=rec, nuc_f1=f1,
        mean_iou=float(np.mean(list(ious.values()))) if ious else None,
        truly_scorable=len(scorable_t), truly_scorable_matched=len(matched_scorable),
        scorable_kept=len(kept) / max(len(matched_scorable), 1), excluded_truly_scorable=excl,
        result_excluded=rep["nuclei_excluded"], scored=len(scored), scored_matched_scorable=len(scored_m),
        scored_unmatched=len(scored_unmatched), scored_truly_unscorable=len(scored_bad_truth),
        exact_target=float(np.mean(ex_t)) if ex_t else None, exact_control=float(np.mean(ex_c)) if ex_c else None,
        n_exact_basis=len(noclu), target_err_hist={k: dt.count(k) for k in sorted(set(dt))},
        control_err_hist={k: dc.count(k) for k in sorted(set(dc))},
        cluster_nuclei_scored=len(clu), cluster_median_rel_err=float(np.median(clu_err)) if clu_err else None,
        cluster_median_abs_rel_err=float(np.median(np.abs(clu_err))) if clu_err else None,
        dots=dots,
        sums=dict(result_target=rt, result_control=rc, truth_target=st, truth_control=sc,
                  cluster_nuclei_result_target=sum(int(rn[p]["target"]) for p in clu),
                  cluster_nuclei_truth_target=sum(int(tn[p2t[p]]["target"]) for p in clu)),
        ratio=rep["ratio"], ratio_ci95=rep["ratio_ci95"], ratio_result_matched=ratio_res_matched,
        truth_ratio_same=ratio_same, truth_ratio_all=ratio_all, call=rep["call"], truth_call=truth_call,
        call_ok=rep["call"] == truth_call,
        psf_est_um=psf, psf_true_um={ch: info["psf"][ch]["gauss_fit_sigma_um"] for ch in ("target", "control")},
        median_snr={s["channel"]: s["median_snr"] for s in f["signal_qc"]},
        reference={s["channel"]: s["reference_intensity"] for s in f["signal_qc"]},
        qc=rep["qc"],
    )
    return out


def fmt(v, d=3):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{d}f}"
    return str(v)


def table(results):
    hdr = ["case", "px um", "nuc F1", "scorable kept", "scored", "exact T", "exact C", "clu err",
           "T dot P/R", "C dot P/R", "PSF est / true T,C (um)", "ratio", "truth same", "truth all", "call", "ok"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    for r in results:
        d = r["dots"]
        lines.append("| " + " | ".join([
            r["case"], fmt(r["px"]), fmt(r["nuc_f1"]), fmt(r["scorable_kept"], 2),
            f"{r['scored']} ({r['scored_matched_scorable']})", fmt(r["exact_target"], 2), fmt(r["exact_control"], 2),
            fmt(r["cluster_median_rel_err"], 2),
            f"{d['target']['precision']:.3f}/{d['target']['recall']:.3f}",
            f"{d['control']['precision']:.3f}/{d['control']['recall']:.3f}",
            f"{r['psf_est_um']['target']:.3f} / {r['psf_true_um']['target']:.3f},{r['psf_true_um']['control']:.3f}",
            fmt(r["ratio"], 2), fmt(r["truth_ratio_same"], 2), fmt(r["truth_ratio_all"], 2), r["call"],
            "yes" if r["call_ok"] else "NO"]) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("results")
    ap.add_argument("--case", action="append")
    ap.add_argument("--json")
    a = ap.parse_args()
    names = a.case or sorted(n for n in os.listdir(a.results) if os.path.exists(os.path.join(a.results, n, "report.json")))
    res = []
    for n in names:
        r = compare_case(os.path.join(a.cases, n), os.path.join(a.results, n))
        res.append(r)
    print(table(res))
    print()
    for r in res:
        print(f"## {r['case']}")
        for k in ("pixel_size_read", "pixel_size_source", "truth_nuclei", "result_nuclei", "nuc_precision", "nuc_recall",
                  "mean_iou", "truly_scorable", "excluded_truly_scorable", "result_excluded", "scored_unmatched",
                  "scored_truly_unscorable", "n_exact_basis", "target_err_hist", "control_err_hist",
                  "cluster_nuclei_scored", "cluster_median_abs_rel_err", "sums", "ratio_ci95", "ratio_result_matched",
                  "median_snr", "reference"):
            print(f"  {k}: {r[k]}")
        for ch in ("target", "control"):
            print(f"  dots {ch}: {r['dots'][ch]}")
        print(f"  qc: {r['qc']}")
    if a.json:
        json.dump(res, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
