#!/usr/bin/env python3
"""How often does the ratio's 95 % interval hold the true ratio?

For every case of a benchmark run: the true ratio of the slide (all truly
scorable nuclei, `truth_ratio`), the report's interval (`ratio_ci95`: the
nuclei bootstrap widened by the single-copy references' error where
clusters were counted from intensity) and the bootstrap alone
(`ratio_ci95_nuclei`), split by whether the enumerated nuclei held
intensity-counted clusters (`ratio_reference_se` set).

usage: ci_coverage.py RUN_DIR          (a bench/run_benchmark.sh output)
       ci_coverage.py --altsim WORKDIR (a bench/altsim/run.sh workdir: the
                                        truth is results.json's truth_ratio_all)
"""
import json
import os
import sys


def truths(argv):
    """(case, true ratio, report.json path) of every case."""
    if argv[1] == "--altsim":
        w = argv[2]
        for r in json.load(open(f"{w}/results.json")):
            yield r["case"], r["truth_ratio_all"], f"{w}/out/{r['case']}/report.json"
        return
    run = argv[1]
    ev = json.load(open(f"{run}/evaluation.json"))
    for c in ev["cases"]:
        yield c["case"], c["metrics"]["call"]["truth_ratio"], f"{run}/{c['case']}/report.json"


def main():
    rows = {True: [], False: []}
    for case, truth, path in truths(sys.argv):
        if truth is None or not os.path.exists(path):
            continue
        s = json.load(open(path))["scoring"]
        ci, cin, se = s.get("ratio_ci95"), s.get("ratio_ci95_nuclei"), s.get("ratio_reference_se")
        if ci is None:
            continue
        inside = lambda iv: iv is not None and iv[0] <= truth <= iv[1]
        rows[se is not None].append((case, truth, s["ratio"], cin, ci, inside(cin), inside(ci), se))
    for clusters in (True, False):
        r = rows[clusters]
        print(f"== cases {'with' if clusters else 'without'} intensity-counted clusters: {len(r)}")
        for case, t, ratio, cin, ci, a, b, se in r:
            f = lambda iv: "[%.2f, %.2f]" % tuple(iv) if iv else "-"
            extra = f" ref SE {se / ratio * 100:.1f} %" if se else ""
            print(f"  {case:<24} truth {t:6.2f} ratio {ratio:6.2f} bootstrap {f(cin):<16} {'in ' if a else 'OUT'}  report {f(ci):<16} {'in ' if b else 'OUT'}{extra}")
        if r:
            print(f"  truth inside: bootstrap {sum(x[5] for x in r)}/{len(r)}, report interval {sum(x[6] for x in r)}/{len(r)}")


if __name__ == "__main__":
    main()
