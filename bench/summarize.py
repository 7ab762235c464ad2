#!/usr/bin/env python3
"""Prints a per-case table of `fishscore evaluate` output (a tree evaluation
JSON): nuclei, signals, counts, clusters, ratio and call; then the summary
and per-tag figures. Standard library only.

    python3 bench/summarize.py OUT_ROOT/evaluation.json
"""
import json
import sys


def f(v, w=6, d=3):
    return f"{v:{w}.{d}f}" if isinstance(v, (int, float)) and v is not None else f"{'-':>{w}}"


rep = json.load(open(sys.argv[1]))
hdr = (f"{'case':<17} {'nucF1':>6} {'IoU':>6} {'keep':>6} {'ovl':>6} | {'tF1':>6} {'cF1':>6} | "
       f"{'tEx':>6} {'cEx':>6} {'clErr':>6} | {'true':>6} {'ratio':>6} {'err':>6} {'call':>14} ok")
print(hdr)
print("-" * len(hdr))
for row in rep["cases"]:
    m = row.get("metrics")
    if m is None:
        print(f"{row['case']:<17} ERROR {row.get('error')}")
        continue
    n, s, k, c = m["nuclei"], m.get("signals") or {}, m.get("counts") or {}, m.get("call") or {}
    print(f"{row['case']:<17} {f(n['detection']['f1'])} {f(n['mean_iou'])} {f(n['scorable_kept_share'])} "
          f"{f(n['overlapping_scored_share'])} | {f((s.get('target') or {}).get('f1'))} "
          f"{f((s.get('control') or {}).get('f1'))} | {f(k.get('target_exact_rate'))} "
          f"{f(k.get('control_exact_rate'))} {f(k.get('cluster_nucleus_target_median_rel_error'))} | "
          f"{f(c.get('truth_ratio'), 6, 2)} {f(c.get('ratio'), 6, 2)} {f(c.get('ratio_rel_error'))} "
          f"{str(c.get('call')):>14} {'yes' if c.get('call_correct') else ('acc' if c.get('call_acceptable') else 'NO')}")
print("-" * len(hdr))
s = rep["summary"]
print(json.dumps({k: v for k, v in s.items() if not isinstance(v, dict)}, indent=1))
for k in ("nuclei", "signals_target", "signals_control"):
    if s.get(k):
        print(k, {kk: round(vv, 4) if isinstance(vv, float) else vv for kk, vv in s[k].items()})
for tag, v in sorted(rep.get("by_tag", {}).items()):
    print(f"tag {tag:<16} nucF1 {f(v['nuclei']['f1'])} keep {f(v.get('scorable_kept_share'))} "
          f"tEx {f(v.get('target_exact_rate'))} cEx {f(v.get('control_exact_rate'))} "
          f"ratioErr(med) {f(v.get('ratio_rel_error_median'))} calls {v.get('calls_correct')}/{v.get('calls_total')}")


def pooled_signals(pred):
    tot = {"target": [0, 0, 0], "control": [0, 0, 0]}
    for row in rep["cases"]:
        m = row.get("metrics")
        if not m or not m.get("signals") or not pred(m["tags"]):
            continue
        for ch in tot:
            s = m["signals"][ch]
            tot[ch][0] += s["truth"]
            tot[ch][1] += s["predicted"]
            tot[ch][2] += s["matched"]
    out = {}
    for ch, (t, p, mm) in tot.items():
        pr = mm / p if p else 0.0
        rc = mm / t if t else 0.0
        out[ch] = (pr, rc, 2 * pr * rc / (pr + rc) if pr + rc else 0.0)
    return out


def pooled_exact(pred):
    te = ce = n = 0.0
    for row in rep["cases"]:
        m = row.get("metrics")
        k = (m or {}).get("counts") or {}
        if not m or not pred(m["tags"]) or not k.get("non_cluster_nuclei"):
            continue
        nn = k["non_cluster_nuclei"]
        n += nn
        te += k["target_exact_rate"] * nn
        ce += k["control_exact_rate"] * nn
    return (te / n, ce / n, int(n)) if n else (None, None, 0)


print()
print("single-copy signals by SNR (precision / recall / F1), pooled:")
for name, pred in [("SNR >= 4 (all cases but lowsnr)", lambda t: "lowsnr" not in t),
                   ("SNR 2.5-3 (lowsnr cases)", lambda t: "lowsnr" in t)]:
    r = pooled_signals(pred)
    print(f"  {name:<34} target {r['target'][0]:.3f} / {r['target'][1]:.3f} / {r['target'][2]:.3f}"
          f"   control {r['control'][0]:.3f} / {r['control'][1]:.3f} / {r['control'][2]:.3f}")
print("exact per-nucleus counts over non-cluster nuclei (target, control, nuclei):")
for name, pred in [("all cases", lambda t: True), ("SNR >= 4", lambda t: "lowsnr" not in t),
                   ("SNR 2.5-3", lambda t: "lowsnr" in t)]:
    te, ce, n = pooled_exact(pred)
    print(f"  {name:<12} {f(te)} {f(ce)} {n:>6}")
calls = [r["metrics"]["call"] for r in rep["cases"] if r.get("metrics") and r["metrics"].get("call")]
outside = [c for c in calls if c.get("truth_ratio") is not None and not (1.8 <= c["truth_ratio"] <= 2.2)]
print(f"calls outside the 1.8-2.2 zone: {sum(1 for c in outside if c['call_correct'])}/{len(outside)} correct; "
      f"EQUIVOCAL outside the zone: {sum(1 for c in outside if c['call'] == 'EQUIVOCAL')}")
errs = sorted(c["ratio_rel_error"] for c in calls if c.get("ratio_rel_error") is not None)
if errs:
    print(f"ratio relative error: median {errs[len(errs) // 2]:.3f}, worst {errs[-1]:.3f} over {len(errs)} cases")
# The same error against the truth of the nuclei the result counted: what
# is left is counting error; the rest of the error above is the sampling
# of 50-100 nuclei.
cerrs = sorted(c["ratio_rel_error_of_scored"] for c in calls if c.get("ratio_rel_error_of_scored") is not None)
if cerrs:
    print(f"ratio error against the counted nuclei' truth (counting only): median {cerrs[len(cerrs) // 2]:.3f}, "
          f"worst {cerrs[-1]:.3f} over {len(cerrs)} cases")
