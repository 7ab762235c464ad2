#!/usr/bin/env python3
"""Why true nuclei are missed at IoU 0.5: for every true nucleus of the given
cases that no result object matches, whether it lies in a result object that
also holds a neighbour (merged), is cut between several objects (oversplit),
is found with a poor outline (boundary) or not at all (missed); then the
area (over the field's median object) and solidity of result objects by how
many true nuclei they hold. Used for docs/nuclei.md ("Dense tissue").

    python3 bench/nuclei_errors.py TRUTH_ROOT RUN_ROOT CASE [CASE ...]

Needs numpy, tifffile and scikit-image (bench/requirements.txt).
"""
import collections
import csv
import sys

import numpy as np
import tifffile
from skimage.measure import regionprops


def overlaps(t_lab, p_lab):
    m = (t_lab > 0) & (p_lab > 0)
    keys, counts = np.unique(t_lab[m].astype(np.int64) * 100000 + p_lab[m], return_counts=True)
    return [(int(k) // 100000, int(k) % 100000, int(n)) for k, n in zip(keys, counts)]


def main():
    truth_root, run_root, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
    kinds = collections.Counter()
    objects = []
    for case in cases:
        t_lab = tifffile.imread(f"{truth_root}/{case}/truth_labels.tif").astype(np.int64)
        p_lab = tifffile.imread(f"{run_root}/{case}/labels.tif").astype(np.int64)
        truth = {int(r["id"]): r for r in csv.DictReader(open(f"{truth_root}/{case}/truth_nuclei.csv"))}
        a_t = dict(zip(*np.unique(t_lab[t_lab > 0], return_counts=True)))
        a_p = dict(zip(*np.unique(p_lab[p_lab > 0], return_counts=True)))
        by_t, by_p = collections.defaultdict(list), collections.defaultdict(list)
        for t, p, n in overlaps(t_lab, p_lab):
            by_t[t].append((n, p))
            if truth.get(t, {}).get("kind") == "nucleus":
                by_p[p].append((n / a_t[t], t))
        for t, area in a_t.items():
            r = truth.get(t)
            if not r or r["kind"] != "nucleus":
                continue
            best = max(((n / (area + a_p[p] - n), p) for n, p in by_t[t]), default=(0.0, 0))
            if best[0] >= 0.5:
                continue
            cover = sorted((n / area for n, _ in by_t[t]), reverse=True)
            # The best object also covers another true nucleus substantially.
            holds_other = any(o != t and f > 0.3 for f, o in by_p.get(best[1], []))
            if not cover or cover[0] < 0.2:
                kind = "missed"
            elif holds_other and cover[0] > 0.5:
                kind = "merged"
            elif len(cover) > 1 and cover[1] > 0.25:
                kind = "oversplit"
            else:
                kind = "boundary"
            kinds[(r["reason"] or "scorable", kind)] += 1
        median = np.median(list(a_p.values()))
        for rp in regionprops(p_lab):
            held = sum(1 for f, _ in by_p[rp.label] if f > 0.5)
            objects.append((min(held, 3), rp.area / median, rp.solidity))
    print("unmatched true nuclei (truth reason, kind): count")
    for k in sorted(kinds):
        print(f"  {k[0]:<14} {k[1]:<10} {kinds[k]}")
    print("result objects by true nuclei held (>50 % covered): n, area/median p10/50/90, solidity p10/50/90")
    for held in range(4):
        sel = np.array([o[1:] for o in objects if o[0] == held])
        if len(sel):
            print(f"  {held}{'+' if held == 3 else ''} {len(sel):5d}  "
                  f"{np.percentile(sel[:, 0], [10, 50, 90]).round(2)}  {np.percentile(sel[:, 1], [10, 50, 90]).round(3)}")


if __name__ == "__main__":
    main()
