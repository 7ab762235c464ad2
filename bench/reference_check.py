#!/usr/bin/env python3
"""Where the single-copy reference of a case comes from, against the truth.

    python3 bench/reference_check.py TRUTH_CASE_DIR RESULT_CASE_DIR

For each probe channel: the reference and QC of report.json; the truth's
single-copy fluxes (median and mean) and the mean flux per copy inside true
clusters (the unit in which a cluster's intensity counts copies); and the
isolated single rows of spots.csv (no other row of the channel within
2 um, as the reference's selection), split into those that match a true
single dot within 2 px and the rest (false dots, one half of a split
pair, cluster fragments), with their median intensities.
"""
import csv
import json
import math
import statistics as st
import sys
from collections import Counter


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    truth_dir, result_dir = sys.argv[1], sys.argv[2]
    truth = list(csv.DictReader(open(f"{truth_dir}/truth_spots.csv")))
    rows = list(csv.DictReader(open(f"{result_dir}/spots.csv")))
    report = json.load(open(f"{result_dir}/report.json"))
    px = json.load(open(f"{truth_dir}/truth.json"))["pixel_size_um"]
    iso2 = (2.0 / px) ** 2
    qc = {q["channel"]: q for f in report["fields"] for q in f["signal_qc"]}
    for ch in ["target", "control"]:
        ts = [t for t in truth if t["channel"] == ch]
        singles = [float(t["flux"]) for t in ts if t["kind"] == "single"]
        cl = [(float(t["flux"]), int(t["copies"])) for t in ts if t["kind"] == "cluster"]
        ss = [s for s in rows if s["channel"] == ch]
        good, other = [], []
        kinds = Counter()
        for s in ss:
            if s["kind"] != "single":
                continue
            x, y = float(s["x"]), float(s["y"])
            if any(o is not s and (float(o["x"]) - x) ** 2 + (float(o["y"]) - y) ** 2 < iso2 for o in ss):
                continue
            best = min(ts, key=lambda t: (float(t["x"]) - x) ** 2 + (float(t["y"]) - y) ** 2)
            d = math.hypot(float(best["x"]) - x, float(best["y"]) - y)
            if d < 2 and best["kind"] == "single":
                good.append(float(s["intensity"]))
            else:
                other.append(float(s["intensity"]))
                kinds[best["kind"] if d < 5 else "none"] += 1
        q = qc.get(ch, {})
        print(f"{ch}: reference {q.get('reference_intensity')} ({q.get('reference_source')})")
        if singles:
            print(f"  truth singles: n {len(singles)} median {st.median(singles):.0f} mean {st.mean(singles):.0f}")
        if cl:
            print(f"  truth clusters: flux per copy {sum(f for f, _ in cl) / sum(c for _, c in cl):.0f}")
        if good:
            print(f"  isolated singles matching a true single: n {len(good)} median {st.median(good):.0f}")
        if other:
            print(f"  other isolated singles: n {len(other)} median {st.median(other):.0f} nearest truth {dict(kinds)}")
        allv = good + other
        if allv:
            print(f"  all isolated singles: median {st.median(allv):.0f}")


if __name__ == "__main__":
    main()
