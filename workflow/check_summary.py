#!/usr/bin/env python3
"""Checks a batch summary.csv against the fixtures' ground truth (used by
.ci/run after the Snakemake workflow): every case of the manifest is
present with status ok, its call is the truth's call, its report.html
exists, and the figures equal those of a reference summary.csv written by
`fishscore batch` on the same input (same analysis, so identical numbers).

    python3 workflow/check_summary.py SUMMARY.csv FIXTURES_DIR [REFERENCE.csv]

Standard library only. Exits 1 with one line per problem.
"""

import csv
import json
import sys
from pathlib import Path


def rows(path):
    with open(path, newline="") as f:
        return {r["case"]: r for r in csv.DictReader(f)}


def main(argv):
    summary, fixtures = Path(argv[1]), Path(argv[2])
    got = rows(summary)
    problems = []
    # The cases to expect: the reference's, else every fixture with truth.
    if len(argv) > 3:
        expected = sorted(rows(argv[3]))
    else:
        expected = sorted(p.parent.name for p in fixtures.glob("*/truth.json"))
    for case in expected:
        r = got.get(case)
        if r is None:
            problems.append(f"{case}: missing from {summary}")
            continue
        truth = json.loads((fixtures / case / "truth.json").read_text())
        if r["status"] != "ok":
            problems.append(f"{case}: status {r['status']}: {r['error']}")
        elif r["call"] != truth["call"]:
            problems.append(f"{case}: call {r['call']}, truth {truth['call']}")
        if not (summary.parent / r["report"]).is_file():
            problems.append(f"{case}: {r['report']} missing")
    if len(argv) > 3:
        ref = rows(argv[3])
        keys = ["call", "ratio", "ratio_ci95_low", "ratio_ci95_high",
                "nuclei_detected", "nuclei_scored", "qc"]
        for case, r in ref.items():
            g = got.get(case)
            if g is None:
                problems.append(f"{case}: in the reference but not in {summary}")
                continue
            diff = [k for k in keys if g[k] != r[k]]
            if diff:
                problems.append(f"{case}: differs from the reference in {', '.join(diff)}")
    for p in problems:
        print(p, file=sys.stderr)
    if not expected:
        print(f"{summary}: no fixture case found", file=sys.stderr)
        return 1
    print(f"workflow summary OK: {len(expected)} cases, calls as the truth")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
