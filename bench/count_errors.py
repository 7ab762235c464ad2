#!/usr/bin/env python3
"""Why per-nucleus counts are wrong: over truly scorable, non-cluster
nuclei kept scorable (as `fishscore evaluate` counts them) of the SNR >= 4 cases (truth nuclei matched to result nuclei at
IoU > 0.5), each nucleus whose count differs from the truth is sorted by
cause: over or under, which true signals were missed (miss-single,
miss-split, with -gran when a result granule lies within 0.6 um) or found
as something else (e.g. single->granule0, split->single1), and which
result signals match nothing (extras). Used for docs/accuracy.md (exact
counts).

    python3 bench/count_errors.py TRUTH_ROOT RUN_ROOT [target|control]

Needs numpy and tifffile (bench/requirements.txt).
"""
import csv, glob, json, os, sys, collections
import numpy as np, tifffile
truth_root, run_root = sys.argv[1], sys.argv[2]
ch = sys.argv[3] if len(sys.argv) > 3 else "target"
cats = collections.Counter(); total = 0; wrong = 0
examples = collections.defaultdict(list)
for tj_path in sorted(glob.glob(f"{truth_root}/*/truth.json")):
    case = os.path.basename(os.path.dirname(tj_path))
    tj = json.load(open(tj_path))
    if "lowsnr" in "".join(tj.get("tags", [])) or not os.path.exists(f"{run_root}/{case}/nuclei.csv"):
        continue
    px = tj["pixel_size_um"]
    tl = tifffile.imread(f"{truth_root}/{case}/truth_labels.tif").astype(np.int64)
    pl = tifffile.imread(f"{run_root}/{case}/labels.tif").astype(np.int64)
    tn = {int(r["id"]): r for r in csv.DictReader(open(f"{truth_root}/{case}/truth_nuclei.csv"))}
    pn = {int(r["id"]): r for r in csv.DictReader(open(f"{run_root}/{case}/nuclei.csv"))}
    # match by IoU > 0.5
    m = (tl > 0) & (pl > 0)
    pairs = collections.Counter(zip(tl[m].tolist(), pl[m].tolist()))
    ta = collections.Counter(tl[tl > 0].tolist()); pa = collections.Counter(pl[pl > 0].tolist())
    match = {}
    for (t, p), inter in pairs.items():
        if inter / (ta[t] + pa[p] - inter) > 0.5:
            match[t] = p
    ts = [r for r in csv.DictReader(open(f"{truth_root}/{case}/truth_spots.csv")) if r["channel"] == ch]
    ps = [r for r in csv.DictReader(open(f"{run_root}/{case}/spots.csv")) if r["channel"] in (ch,) ]
    gr = [r for r in csv.DictReader(open(f"{run_root}/{case}/spots.csv")) if r["kind"] == "granule"]
    for t, p in match.items():
        T = tn[t]; P = pn.get(p)
        if P is None or T["scorable"] != "true" or P["scorable"] != "true" or T["cluster"] == "true":
            continue
        total += 1
        tc = int(T[f"{ch}_copies"]); pc = round(float(P[ch]))
        if tc == pc:
            continue
        wrong += 1
        tspots = [r for r in ts if r["nucleus"] == str(t)]
        pspots = [r for r in ps if r["nucleus"] == str(p)]
        # classify each truth spot: found (a result spot within 0.5um, non-granule), or missed
        kinds = []
        used = set()
        for r in tspots:
            x, y = float(r["x"]), float(r["y"])
            best = None
            for j, q in enumerate(pspots):
                d = np.hypot(float(q["x"]) - x, float(q["y"]) - y) * px
                if d < 0.6 and (best is None or d < best[0]):
                    best = (d, j)
            if best is None:
                # near a granule?
                g = any(np.hypot(float(q["x"]) - x, float(q["y"]) - y) * px < 0.6 for q in gr)
                kinds.append(("miss-" + r["kind"] + ("-gran" if g else ""), float(r["flux"])))
            else:
                q = pspots[best[1]]
                used.add(best[1])
                kinds.append((r["kind"] + "->" + q["kind"] + str(q["copies"]), None))
        extras = [pspots[j]["kind"] + pspots[j]["copies"] for j in range(len(pspots)) if j not in used]
        d = pc - tc
        label = ("over" if d > 0 else "under")
        bad = [k for k, _ in kinds if k.startswith("miss") or k not in ("single->single1", "split->split_merged1")]
        key = (label, tuple(sorted(bad)), tuple(sorted(extras)))
        cats[key] += 1
        examples[key].append((case, t, p))
print(f"{ch}: {wrong} wrong of {total} ({1 - wrong/total:.3f} exact)")
for k, v in cats.most_common(int(sys.argv[4]) if len(sys.argv) > 4 else 40):
    print(v, k, examples[k][:2])
