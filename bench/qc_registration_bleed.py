#!/usr/bin/env python3
"""Over every report.json under RUN_DIR (one folder per case): the probe
channels' bleed-through shares in standard errors (z = probe_bleed /
probe_bleed_se; about N(0, 1) where there is no leak) and how many were
unmixed, and the largest registration shift found and how many were
applied.

    python3 bench/qc_registration_bleed.py RUN_DIR
"""
import glob
import json
import math
import statistics as st
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    z, unmixed, shifts, applied = [], 0, [], 0
    for f in sorted(glob.glob(f"{sys.argv[1]}/*/report.json")):
        for field in json.load(open(f))["fields"]:
            for q in field["signal_qc"]:
                if q.get("probe_bleed") is not None and q["probe_bleed_se"] > 0:
                    z.append(q["probe_bleed"] / q["probe_bleed_se"])
                unmixed += bool(q.get("probe_bleed_unmixed"))
                if q.get("registration_shift_um") is not None:
                    shifts.append(math.hypot(*q["registration_shift_um"]))
                applied += q.get("registration_applied_px", [0, 0]) != [0, 0]
    if z:
        print(f"bleed-through: {len(z)} channels measured, z mean {st.mean(z):.2f} SD "
              f"{st.stdev(z) if len(z) > 1 else 0:.2f}, range {min(z):.2f} to {max(z):.2f}; unmixed {unmixed}")
    if shifts:
        print(f"registration: {len(shifts)} channels measured, largest shift {max(shifts):.3f} um; applied {applied}")


if __name__ == "__main__":
    main()
