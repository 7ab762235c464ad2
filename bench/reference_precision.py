#!/usr/bin/env python3
"""Is the single-copy reference's stated precision right?

For each probe channel of each case with at least 20 true single dots:
the reference's error against the median true flux of single dots
(report.json `reference_intensity` over it, minus 1), the median error
over all channels (the bias: the measured flux of a dot is not its true
flux) taken out, in units of the stated `reference_rel_se`. Calibrated,
these z are standard normal: SD 1, 95 % within +-1.96.

usage: reference_precision.py TRUTH_ROOT RUN_ROOT
"""
import csv
import glob
import json
import os
import statistics as st
import sys


def main():
    truth_root, run = sys.argv[1:3]
    rows = []
    for d in sorted(glob.glob(os.path.join(truth_root, "*", "truth_spots.csv"))):
        case = os.path.basename(os.path.dirname(d))
        rp = os.path.join(run, case, "report.json")
        if not os.path.exists(rp):
            continue
        rep = json.load(open(rp))
        ts = list(csv.DictReader(open(d)))
        for q in rep["fields"][0]["signal_qc"]:
            f = [float(t["flux"]) for t in ts
                 if t["channel"] == q["channel"] and t["kind"] == "single" and t["copies"] == "1"]
            if len(f) < 20 or not q.get("reference_intensity") or q.get("reference_rel_se") is None:
                continue
            rows.append((q["reference_intensity"] / st.median(f) - 1, q["reference_rel_se"]))
    if not rows:
        sys.exit("no channel with a reference and >= 20 true single dots")
    bias = st.median(e for e, _ in rows)
    z = [(e - bias) / s for e, s in rows]
    print(f"channels {len(rows)}; median error (bias) {bias:+.3f}; median stated SE {st.median(s for _, s in rows):.3f}")
    print(f"z: SD {st.pstdev(z):.2f}, share within +-1.96 {sum(abs(v) < 1.96 for v in z) / len(z):.2f}; "
          f"median |error - bias| {st.median(abs(e - bias) for e, _ in rows):.3f}")


if __name__ == "__main__":
    main()
