#!/usr/bin/env python3
"""Probe images moved by whole pixels against DAPI on a benchmark case:
the case's three channels written as separate files, the probe images
rolled along x with numpy, each variant analysed and evaluated.

    python3 bench/registration_roll.py TRUTH_CASE OUT_DIR [FISHSCORE]

e.g. python3 bench/registration_roll.py bench/out/truth/nonamp-1 /tmp/roll
Prints per variant (MDM2 / CEP12 shift in px): the ratio, the truth's,
the exact target / control count rates and the shifts fishscore found.
Needs numpy and tifffile.
"""
import json
import shutil
import subprocess
import sys

import numpy as np
import tifffile


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    exe = sys.argv[3] if len(sys.argv) > 3 else "target/release/fishscore"
    pages = tifffile.imread(f"{src}/image.tif")
    px = json.load(open(f"{src}/truth.json"))["pixel_size_um"]
    for name, (t, c) in {"aligned": (0, 0), "mdm2-3": (3, 0), "both-3": (3, 3),
                         "both-5": (5, 5), "both-8": (8, 8)}.items():
        d = f"{out}/{name}"
        shutil.copytree(src, d, dirs_exist_ok=True)
        tifffile.imwrite(f"{d}/dapi.tif", pages[0])
        tifffile.imwrite(f"{d}/target.tif", np.roll(pages[1], t, axis=1))
        tifffile.imwrite(f"{d}/control.tif", np.roll(pages[2], c, axis=1))
        res = f"{out}/{name}-result"
        subprocess.run([exe, "analyze", "--dapi", f"{d}/dapi.tif", "--target", f"{d}/target.tif",
                        "--control", f"{d}/control.tif", "--pixel-size-um", str(px), "--out", res],
                       check=True, capture_output=True)
        m = json.loads(subprocess.run([exe, "evaluate", d, res], check=True,
                                      capture_output=True).stdout)
        rep = json.load(open(f"{res}/report.json"))
        found = {q["channel"]: q.get("registration_shift_um") for q in rep["fields"][0]["signal_qc"]}
        print(f"{name}: ratio {m['call']['ratio']:.3f} (truth {m['call']['truth_ratio']:.3f}), exact "
              f"{m['counts']['target_exact_rate']:.3f} / {m['counts']['control_exact_rate']:.3f}, shifts found {found}")


if __name__ == "__main__":
    main()
