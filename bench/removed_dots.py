#!/usr/bin/env python3
"""Which single-copy rows did a change remove, and were they true dots?

Rows of run A (kind single or split_merged, in a nucleus) that run B no
longer has (no row of B within 0.5 px), counted per channel for the
lowsnr cases and for the others, with how many of them lie within 2 px
of a true dot of that channel (either dot of a split pair).

usage: removed_dots.py TRUTH_ROOT RUN_A RUN_B
"""
import csv
import os
import sys

from scipy.spatial import cKDTree


def rows(path):
    return list(csv.DictReader(open(path)))


def main():
    truth_root, run_a, run_b = sys.argv[1:4]
    tot = {}
    for case in sorted(os.listdir(truth_root)):
        if not os.path.exists(f"{run_a}/{case}/spots.csv"):
            continue
        ts = rows(f"{truth_root}/{case}/truth_spots.csv")
        a = rows(f"{run_a}/{case}/spots.csv")
        b = rows(f"{run_b}/{case}/spots.csv")
        for ch in ("target", "control"):
            pts = []
            for t in ts:
                if t["channel"] != ch:
                    continue
                pts.append((float(t["x"]), float(t["y"])))
                if t["dot1_x"]:
                    pts += [(float(t["dot1_x"]), float(t["dot1_y"])),
                            (float(t["dot2_x"]), float(t["dot2_y"]))]
            truth = cKDTree(pts) if pts else None
            kept = cKDTree([(float(s["x"]), float(s["y"])) for s in b if s["channel"] == ch]
                           or [(-99.0, -99.0)])
            removed = [s for s in a
                       if s["channel"] == ch and s["nucleus"] and s["kind"] in ("single", "split_merged")
                       and kept.query((float(s["x"]), float(s["y"])))[0] > 0.5]
            true = sum(1 for s in removed
                       if truth is not None and truth.query((float(s["x"]), float(s["y"])))[0] <= 2.0)
            key = ("lowsnr" if case.startswith("lowsnr") else "other", ch)
            t = tot.setdefault(key, [0, 0])
            t[0] += len(removed)
            t[1] += true
    for (group, ch), (n, true) in sorted(tot.items()):
        print(f"{group:<7} {ch:<8} removed {n:>4}, of them true dots {true:>4}")


if __name__ == "__main__":
    main()
