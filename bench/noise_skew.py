#!/usr/bin/env python3
"""Skew of a probe image's noise: (mean - median) / robust SD over 16 x 16
px blocks, median over blocks. A ring MEDIAN under-estimates a skewed
background's mean by about that many SDs per pixel (photon noise is
skewed: Poisson, more so EMCCD gain).

    python3 bench/noise_skew.py IMAGE.tif [IMAGE.tif ...]

Reads page/plane 1 (the target channel in fishscore's and altsim's
multi-channel files). Needs numpy and tifffile.
"""
import sys

import numpy as np
import tifffile


def skew(img):
    out = []
    for y in range(0, img.shape[0] - 16, 16):
        for x in range(0, img.shape[1] - 16, 16):
            b = img[y:y + 16, x:x + 16].ravel()
            med = np.median(b)
            sd = 1.4826 * np.median(np.abs(b - med))
            if sd > 0:
                out.append((b.mean() - med) / sd)
    return float(np.median(out))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for f in sys.argv[1:]:
        print(f"{f}: (mean - median) / SD {skew(tifffile.imread(f)[1].astype(float)):.4f}")


if __name__ == "__main__":
    main()
