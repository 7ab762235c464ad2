#!/usr/bin/env python3
"""Per true target cluster of an altsim case: how fishscore read it.

    python3 bench/altsim/cluster_list.py W CASE

W is the altsim work folder (W/cases/CASE with truth_dots.csv and
case.json, W/out/CASE with fishscore's spots.csv and report.json). For
each true cluster (truth_dots.csv kind "cluster", grouped by nucleus and
cluster id) it takes the result target rows within the cluster's radius
+ 0.8 um and prints: true copies, true flux in true single-copy means,
result copies, result flux in the same unit, the cluster radius (um) and
the kinds of the result rows; then totals, and the clusters whose light
was mostly not found (with their centres: those outside the image belong
to cut nuclei). Used for the "Open finding" in bench/altsim/README.md.
Needs numpy.
"""
import collections
import csv
import json
import sys

import numpy as np

W, case = sys.argv[1], sys.argv[2]
c=f"{W}/cases/{case}"; o=f"{W}/out/{case}"
cj=json.load(open(c+"/case.json")); px=cj["pixel_size_um"]; p=cj["params"]
adu = (p["em_gain"]/p["em_conv"]) if p["camera"]=="emccd" else (1/p["scmos_gain"])
dots=[r for r in csv.DictReader(open(c+"/truth_dots.csv")) if r["channel"]=="target"]
rep=json.load(open(o+"/report.json"))
ref=[q for q in rep["fields"][0]["signal_qc"] if q["channel"]=="target"][0]["reference_intensity"]
singles=[float(r["flux_e"])*adu for r in dots if r["kind"]!="cluster"]
mean1=np.mean(singles); med1=np.median(singles)
print("ref", ref, "true single median", med1, "mean", mean1)
spots=[r for r in csv.DictReader(open(o+"/spots.csv")) if r["channel"]=="target"]
sp=np.array([(float(r["x"]),float(r["y"])) for r in spots])
cl=collections.defaultdict(list)
for r in dots:
    if r["kind"]=="cluster": cl[(r["nucleus"],r["cluster"])].append(r)
rows=[]
for k,v in cl.items():
    xy=np.array([(float(r["x"]),float(r["y"])) for r in v]); cen=xy.mean(0)
    rad=np.max(np.hypot(*(xy-cen).T))
    tflux=sum(float(r["flux_e"])*adu for r in v)
    d=np.hypot(*(sp-cen).T)
    near=[spots[i] for i in np.where(d<=rad+1.0/px*0.8)[0]]
    rc=sum(int(r["copies"]) for r in near)
    rflux=sum(float(r["intensity"]) for r in near)
    kinds=collections.Counter(r["kind"] for r in near)
    rows.append((len(v), tflux/mean1, rc, rflux/mean1, rad*px, dict(kinds)))
rows.sort()
a=np.array([(r[0],r[1],r[2],r[3],r[4]) for r in rows])
print("clusters",len(a),"true copies",a[:,0].sum(),"true flux/mean1",a[:,1].sum().round(1),"result copies",a[:,2].sum(),"result flux/mean1",a[:,3].sum().round(1))
for r in rows[::max(1,len(rows)//25)]: print(r[0], round(r[1],1), r[2], round(r[3],1), round(r[4],2), r[5])
print("--- lost clusters")
for k,v in cl.items():
    xy=np.array([(float(r["x"]),float(r["y"])) for r in v]); cen=xy.mean(0)
    rad=np.max(np.hypot(*(xy-cen).T))
    tflux=sum(float(r["flux_e"])*adu for r in v)
    d=np.hypot(*(sp-cen).T)
    near=[spots[i] for i in np.where(d<=rad+1.0/px*0.8)[0]]
    rflux=sum(float(r["intensity"]) for r in near)
    if rflux < 0.6*tflux:
        print(k, len(v), cen.round(1), "rad", round(rad*px,2), "tflux", round(tflux/mean1,1), "rflux", round(rflux/mean1,1), [(r['kind'],r['copies'],r['nucleus']) for r in near], "dz", [r['dz_um'] for r in v][:4])
