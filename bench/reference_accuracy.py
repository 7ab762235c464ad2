#!/usr/bin/env python3
"""Single-copy reference of every case against the truth, pooled per run.

    python3 bench/reference_accuracy.py TRUTH_ROOT RUN_ROOT [RUN_ROOT ...]

For each probe channel of each case with at least 20 true single dots:
report.json's `reference_intensity` over the median flux of the truth's
single dots, minus 1. Prints, per run, the median and mean absolute
error, the median signed error (bias) and the worst. Standard library
only. Used for docs/accuracy.md (2026-12-03, nuclear background).
"""
import csv
import glob
import json
import os
import statistics as st
import sys


def main():
    truth_root, runs = sys.argv[1], sys.argv[2:]
    if not runs:
        sys.exit(__doc__)
    errors = {r: [] for r in runs}
    for d in sorted(glob.glob(os.path.join(truth_root, "*", "truth_spots.csv"))):
        case = os.path.basename(os.path.dirname(d))
        spots = list(csv.DictReader(open(d)))
        for run in runs:
            rep_path = os.path.join(run, case, "report.json")
            if not os.path.exists(rep_path):
                continue
            rep = json.load(open(rep_path))
            for field in rep["fields"]:
                for q in field["signal_qc"]:
                    flux = [float(t["flux"]) for t in spots
                            if t["channel"] == q["channel"] and t["kind"] == "single"]
                    if len(flux) < 20 or not q.get("reference_intensity"):
                        continue
                    errors[run].append(q["reference_intensity"] / st.median(flux) - 1.0)
    for run, e in errors.items():
        if not e:
            print(f"{run}: no case")
            continue
        a = [abs(x) for x in e]
        print(f"{run}: {len(e)} channels, median |error| {st.median(a):.3f}, "
              f"mean {st.mean(a):.3f}, bias {st.median(e):+.3f}, worst {max(a):.3f}")


if __name__ == "__main__":
    main()
