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
