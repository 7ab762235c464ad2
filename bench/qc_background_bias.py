#!/usr/bin/env python3
"""The ring-median bias that fishscore measured on empty apertures, over a
benchmark run: per channel report.json `signal_qc` `background_bias` (ADU
per pixel), its standard error and its size in SDs of the pixel noise;
prints the range and the bias in standard errors (mean, SD), which should
be about 0 and 1 where the noise is symmetric and the nuclear background
flat (our simulator), and lists the channels over 3 SEs.

    python3 bench/qc_background_bias.py RUN_DIR [RUN_DIR ...]
"""
import glob
import json
import statistics as st
import sys


def main(dirs):
    rows = []
    for d in dirs:
        for f in sorted(glob.glob(f"{d}/*/report.json")):
            r = json.load(open(f))
            for fl in r["fields"]:
                for q in fl["signal_qc"]:
                    if q.get("background_bias") is None:
                        continue
                    rows.append((f.split("/")[-2], q["channel"], q["background_bias"],
                                 q["background_bias_se"], q["background_bias_sd"],
                                 q["empty_apertures"]))
    if not rows:
        print("no channel with a measured background_bias")
        return
    b = [r[2] for r in rows]
    sd = [r[4] for r in rows]
    z = [r[2] / r[3] for r in rows if r[3] > 0]
    n = [r[5] for r in rows]
    print(f"{len(rows)} channels: bias {min(b):.3f} to {max(b):.3f} ADU/px, "
          f"{min(sd):.4f} to {max(sd):.4f} noise SDs; empty apertures {min(n)}-{max(n)}")
    print(f"bias in standard errors: mean {st.mean(z):.2f}, SD {st.pstdev(z):.2f}")
    for r in rows:
        if r[3] > 0 and abs(r[2] / r[3]) > 3:
            print(f"  {r[0]} {r[1]}: {r[2]:.3f} ADU/px (SE {r[3]:.3f}, {r[4]:.4f} SD)")


if __name__ == "__main__":
    main(sys.argv[1:])
