#!/usr/bin/env python3
"""Noise of the spot detector's matched-filter output inside and outside
nuclei, with and without the DAPI crosstalk correction (and, for scale,
white noise of the nominal background through the same steps); and the random-field expectation of false maxima per nucleus at a
threshold u (Adler 1981; Worsley 1996: lambda / (2 pi)^1.5 u exp(-u^2/2)
per px^2, lambda = 1 / (2 sigma^2) for a Gaussian filter of sigma px).
Approximates fishscore's steps (median background over 3 PSF sigmas, a
Gaussian of the PSF sigma, crosstalk slope of the band-passed probe on the
band-passed DAPI inside nuclei) on the top-left 768 x 768 px of the target
channel. Used for docs/signals.md (Known limits).

    python3 bench/probe_noise.py TRUTH_CASE_DIR RESULT_CASE_DIR [u ...]

Needs numpy, scipy and tifffile (bench/requirements.txt).
"""
import json
import math
import sys

import numpy as np
import tifffile
from scipy import ndimage as ndi


def robust_sd(v):
    m = np.median(v)
    return 1.4826 * np.median(np.abs(v - m))


def main():
    truth, result = sys.argv[1], sys.argv[2]
    us = [float(u) for u in sys.argv[3:]] or [4.2, 4.5, 4.6]
    p = json.load(open(f"{truth}/truth.json"))["params"]
    img = tifffile.imread(f"{truth}/image.tif").astype(float)
    inside = tifffile.imread(f"{result}/labels.tif") > 0
    sigma = p["psf_fwhm_um"] / (2 * math.sqrt(2 * math.log(2))) / p["pixel_size_um"]
    win = 2 * math.ceil(3 * sigma) + 1
    crop = (slice(0, 768), slice(0, 768))
    dapi, probe, m = img[0][crop], img[1][crop], inside[crop]

    def band(a):
        return ndi.gaussian_filter(a, sigma) - ndi.gaussian_filter(a, 4 * sigma)

    bp, bd = band(probe), band(dapi)
    beta = float(np.sum(bp[m] * bd[m]) / np.sum(bd[m] ** 2))
    print(f"PSF sigma {sigma:.2f} px, crosstalk slope {beta:.4f}")
    for b in (0.0, beta):
        corrected = probe - b * dapi
        out = ndi.gaussian_filter(corrected - ndi.median_filter(corrected, size=win), sigma)
        print(f"  slope {b:.4f}: robust SD inside nuclei {robust_sd(out[m]):.3f}, outside {robust_sd(out[~m]):.3f}")
    rng = np.random.default_rng(0)
    noise_sd = math.sqrt(p["background"] + p["read_noise"] ** 2)
    wn = rng.normal(0, noise_sd, (768, 768))
    white = robust_sd(ndi.gaussian_filter(wn - ndi.median_filter(wn, size=win), sigma))
    print(f"  white noise of the background's shot noise through the same steps: {white:.3f}")
    lam = 1 / (2 * sigma**2)
    area = math.pi * (0.5 * p["nucleus_diameter_um"] / p["pixel_size_um"]) ** 2
    for u in us:
        rho = lam / (2 * math.pi) ** 1.5 * u * math.exp(-u * u / 2)
        print(f"  u = {u}: {rho * area:.4f} false maxima expected per nucleus of {p['nucleus_diameter_um']} um")


if __name__ == "__main__":
    main()
