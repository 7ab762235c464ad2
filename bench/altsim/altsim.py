#!/usr/bin/env python3
"""Independent dual-colour FISH image simulator (not derived from fishscore's own).

Writes, per case, into OUT/CASE/:
  image.tif          3 x H x W uint16 ImageJ hyperstack (C = DAPI, target, control),
                     with XResolution/YResolution in pixels per micrometre (unit=um)
  truth_labels.tif   uint16 truth nucleus label image (overlap pixels go to the upper nucleus)
  truth_nuclei.csv   one row per nucleus
  truth_dots.csv     one row per rendered probe dot (single copies and cluster members)
  case.json          every parameter, derived photon numbers, true PSF widths, truth ratio

Image model (all in photo-electrons until the camera):
  * nuclei: ellipses (major diameter 7-12 um, aspect 0.72-0.97) with a small
    low-order boundary perturbation; mostly separated, some touching pairs, a few
    overlapping pairs (fluorescence adds), some cut by the border.
  * DAPI: per-nucleus DNA level (lognormal, 15 % of nuclei at G2 x1.8), projected
    thickness profile (1-r^2)^0.35, multiplicative chromatin texture (Gaussian random
    field, 0.3 um and 1 um scales) plus chromocentres; blurred by a widefield
    Gaussian (sigma 0.25 um, thick object) ; weak smooth background.
  * probe PSF: Airy disc I(v)=(2 J1(v)/v)^2, v = 2 pi NA r / lambda (lambda 0.52 um
    green / 0.59 um orange), convolved with a Gaussian for probe extent
    (sigma 0.06 um) and defocus (sigma = 0.45 |dz|, |dz| ~ U(0, 0.35) um per dot),
    integrated over pixels by 5 x 5 supersampling.  Red and green PSFs differ.
  * single-copy flux lognormal (log-SD 0.30), median set from the requested SNR:
    SNR = peak pixel of a median dot (|dz| = 0.175 um, centred) / background noise SD
    inside nuclei.
  * copy numbers: non-amplified 2/2 mostly (1, 3, 4 sometimes; target and control
    drawn independently); each CEP12 copy sits 0.3-1.5 um from an MDM2 copy
    (same chromosome).  Amplified: MDM2 clusters of 6-30 copies, dots within a
    ~1 um disc (Gaussian spread 0.15-0.35 um), plus 0-2 single MDM2 copies.
    Distinct single copies of one colour are >= 1.0 um apart (counting convention:
    closer ones would be scored as one signal).
  * background: smooth autofluorescence (low-pass random field + linear gradient),
    nuclear non-specific probe background proportional to the projected thickness
    profile (or, variant "flat", a plateau up to the outline), DAPI crosstalk
    into both probe channels (1.5 % green, 0.5 % orange).
  * camera: sCMOS (Poisson, x gain ADU/e-, Gaussian read noise 1.6 e-, offset 100)
    or EMCCD (Poisson, EM register as Gamma(n, G): excess noise factor sqrt(2),
    read noise 40 e- / G, offset 100).  Clipped to 0..65535.
"""
import argparse
import csv
import json
import math
import os

import numpy as np
import tifffile
from scipy import ndimage as ndi
from scipy.special import j1

LAMBDA = {"target": 0.59, "control": 0.52}  # emission wavelengths, um
CROSSTALK = {"target": 0.005, "control": 0.015}  # DAPI -> probe channel

CASES = {
    # name: parameters
    "nonamp_108": dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="nonamp",
                       snr=12, bg_af=120, bg_nuc=60, n_nuclei=120, seed=11),
    "amp_130_emccd": dict(px=0.13, size=1400, na=1.40, camera="emccd", mode="amp",
                          snr=10, bg_af=100, bg_nuc=50, n_nuclei=130, seed=12),
    "nonamp_065": dict(px=0.065, size=2048, na=1.45, camera="scmos", mode="nonamp",
                       snr=12, bg_af=60, bg_nuc=30, n_nuclei=100, seed=13),
    "lowamp_160": dict(px=0.16, size=1200, na=0.95, camera="scmos", mode="lowamp",
                       snr=10, bg_af=250, bg_nuc=120, n_nuclei=140, seed=14),
    "highbg_108": dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="nonamp",
                       snr=7, bg_af=1500, bg_nuc=600, af_var=0.6, n_nuclei=120, seed=15),
    "snr5_130": dict(px=0.13, size=1400, na=1.40, camera="scmos", mode="nonamp",
                     snr=5, bg_af=150, bg_nuc=70, n_nuclei=130, seed=16),
    "snr5_amp_108": dict(px=0.108, size=1500, na=1.40, camera="emccd", mode="amp",
                         snr=5, bg_af=100, bg_nuc=50, n_nuclei=120, seed=17),
    # attribution variants of nonamp_108 (same seed, one factor changed)
    "nonamp_108_flatbg": dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="nonamp",
                              snr=12, bg_af=120, bg_nuc=60, n_nuclei=120, seed=11, nucbg="flat"),
    "nonamp_108_evendna": dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="nonamp",
                               snr=12, bg_af=120, bg_nuc=60, n_nuclei=120, seed=11, dna_sd=0.0, g2_frac=0.0),
    # attribution variants of snr5_amp_108
    "snr5_amp_108_scmos": dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="amp",
                               snr=5, bg_af=100, bg_nuc=50, n_nuclei=120, seed=17),
    "snr8_amp_108": dict(px=0.108, size=1500, na=1.40, camera="emccd", mode="amp",
                         snr=8, bg_af=100, bg_nuc=50, n_nuclei=120, seed=17),
    # attribution variants of the 'overlapping' exclusions (nonamp_108, same seed)
    "nonamp_108_nocc": dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="nonamp",
                            snr=12, bg_af=120, bg_nuc=60, n_nuclei=120, seed=11, n_chromocentres=(0, 0)),
    "nonamp_108_flattop": dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="nonamp",
                               snr=12, bg_af=120, bg_nuc=60, n_nuclei=120, seed=11, dapi_exp=0.12),
}

# attribution variant of snr8_amp_108: bright dots (the photometric biases that scale with noise vanish)
CASES["snr30_amp_108"] = dict(px=0.108, size=1500, na=1.40, camera="emccd", mode="amp",
                              snr=30, bg_af=100, bg_nuc=50, n_nuclei=120, seed=17)
# attribution variant of snr8_amp_108: no nuclear probe background (the dome it adds)
CASES["snr8_amp_108_nonuc"] = dict(px=0.108, size=1500, na=1.40, camera="emccd", mode="amp",
                                   snr=8, bg_af=100, bg_nuc=0, n_nuclei=120, seed=17)
# spectral bleed-through variants (probe light seen in the other probe's image)
CASES["nonamp_108_bleed"] = dict(px=0.108, size=1500, na=1.40, camera="scmos", mode="nonamp",
                                 snr=12, bg_af=120, bg_nuc=60, n_nuclei=120, seed=11,
                                 ctrl_bright=3.0, bleed_c2t=0.10)
CASES["snr8_amp_108_bleed"] = dict(px=0.108, size=1500, na=1.40, camera="emccd", mode="amp",
                                   snr=8, bg_af=100, bg_nuc=50, n_nuclei=120, seed=17,
                                   ctrl_bright=2.0, bleed_c2t=0.05, bleed_t2c=0.08)

DEFAULTS = dict(n_chromocentres=(3, 9), dapi_exp=0.35, nucbg="thickness", dna_sd=0.15, g2_frac=0.15, dapi_level=3000.0, af_var=0.3, touch_frac=0.15, overlap_frac=0.05,
                flux_logsd=0.30, scmos_gain=2.0, scmos_read=1.6, em_gain=100.0,
                em_conv=12.0, em_read=40.0, offset=100.0, ctrl_bright=1.0, bleed_c2t=0.0, bleed_t2c=0.0)


# ----------------------------------------------------------------------------- PSF
def psf_profile(lam, na, sigma_extra, dr=0.004, rmax=2.5):
    """Radial profile (density per um^2, unit integral) of Airy (x) Gaussian."""
    n = int(round(rmax / dr))
    ax = np.arange(-n, n + 1) * dr
    xx, yy = np.meshgrid(ax, ax)
    r = np.hypot(xx, yy)
    v = 2 * np.pi * na * r / lam
    with np.errstate(invalid="ignore", divide="ignore"):
        airy = np.where(v > 1e-9, (2 * j1(v) / v) ** 2, 1.0)
    img = ndi.gaussian_filter(airy, sigma_extra / dr, mode="constant") if sigma_extra > 0 else airy
    img /= img.sum() * dr * dr
    prof = img[n, n:].copy()
    rr = ax[n:].copy()
    return rr, prof


class PSFBank:
    """Profiles for a ladder of defocus values; each dot uses the nearest."""

    def __init__(self, lam, na, probe_sigma=0.06, dz_max=0.35, nbins=8):
        self.dz = np.linspace(0, dz_max, nbins)
        self.lam, self.na = lam, na
        self.profiles = []
        for dz in self.dz:
            s = math.hypot(probe_sigma, 0.45 * dz)
            self.profiles.append(psf_profile(lam, na, s))

    def index(self, dz):
        return int(np.argmin(np.abs(self.dz - abs(dz))))

    def stamp(self, k, fx, fy, px, ss=5, rad_um=1.3):
        """Pixel-integrated PSF (sum ~ 1) around sub-pixel position (fx, fy) in px.
        Returns (x0, y0, stamp)."""
        rr, prof = self.profiles[k]
        R = int(math.ceil(rad_um / px))
        ix, iy = int(round(fx)), int(round(fy))
        offs = (np.arange(ss) + 0.5) / ss - 0.5
        gx = (np.arange(-R, R + 1)[:, None] + offs[None, :]).ravel()  # sub-pixel centres
        dx = (ix + gx - fx) * px
        dy = (iy + gx - fy) * px
        r = np.hypot(dx[None, :], dy[:, None])
        dens = np.interp(r, rr, prof, right=0.0)
        sub = dens * (px / ss) ** 2
        st = sub.reshape(2 * R + 1, ss, 2 * R + 1, ss).sum(axis=(1, 3))
        return ix - R, iy - R, st


def gaussian_fit_sigma(bank, px, dzs):
    """Equivalent Gaussian sigma (um) of the mean pixelated PSF over the dz sample,
    by least squares on a centred stamp (what a Gaussian-PSF detector would fit)."""
    acc = None
    for dz in dzs:
        x0, y0, st = bank.stamp(bank.index(dz), 0.0, 0.0, px)
        acc = st if acc is None else acc + st
    acc /= len(dzs)
    R = acc.shape[0] // 2
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    r2 = (xx ** 2 + yy ** 2) * px * px
    best = None
    for s in np.linspace(0.05, 0.5, 451):
        g = np.exp(-r2 / (2 * s * s))
        a = (g * acc).sum() / (g * g).sum()
        err = ((acc - a * g) ** 2).sum()
        if best is None or err < best[0]:
            best = (err, s)
    # second-moment sigma too
    m2 = (acc * r2).sum() / acc.sum() / 2
    return best[1], math.sqrt(m2), acc.max()


# ----------------------------------------------------------------------------- geometry
def ellipse_r(xx, yy, cx, cy, a, b, th, harm):
    c, s = math.cos(th), math.sin(th)
    u = (xx - cx) * c + (yy - cy) * s
    v = -(xx - cx) * s + (yy - cy) * c
    phi = np.arctan2(v / b, u / a)
    f = 1.0 + sum(e * np.cos(k * phi + p) for k, e, p in harm)
    return np.hypot(u / a, v / b) / f


def nucleus_bbox(cx, cy, a, H, W, pad):
    r = a * 1.15 + pad
    x0, x1 = max(0, int(cx - r)), min(W, int(cx + r) + 2)
    y0, y1 = max(0, int(cy - r)), min(H, int(cy + r) + 2)
    return x0, x1, y0, y1


def place_nuclei(rng, H, W, px, n_target, touch_frac, overlap_frac):
    occ = np.zeros((H, W), np.int32)  # 0 free, else id (upper nucleus)
    nuclei = []
    gap_px = 0.8 / px
    tries = 0
    while len(nuclei) < n_target and tries < n_target * 200:
        tries += 1
        dmaj = rng.uniform(7.0, 12.0)
        asp = rng.uniform(0.72, 0.97)
        a = dmaj / 2 / px
        b = a * asp
        th = rng.uniform(0, np.pi)
        harm = [(k, rng.normal(0, 0.02), rng.uniform(0, 2 * np.pi)) for k in (2, 3, 4, 5)]
        kind = "free"
        u = rng.random()
        if nuclei and u < touch_frac:
            kind = "touch"
        elif nuclei and u < touch_frac + overlap_frac:
            kind = "overlap"
        if kind == "free":
            cx = rng.uniform(-0.4 * a, W + 0.4 * a)
            cy = rng.uniform(-0.4 * a, H + 0.4 * a)
        else:
            nb = nuclei[rng.integers(len(nuclei))]
            ang = rng.uniform(0, 2 * np.pi)
            dirx, diry = math.cos(ang), math.sin(ang)
        # the candidate mask as a function of centre
        def mask_at(cx, cy, pad=0.0):
            x0, x1, y0, y1 = nucleus_bbox(cx, cy, a, H, W, pad)
            if x1 <= x0 or y1 <= y0:
                return None
            yy, xx = np.mgrid[y0:y1, x0:x1]
            r = ellipse_r(xx, yy, cx, cy, a + pad, b + pad, th, harm)
            return (x0, x1, y0, y1), r <= 1.0

        if kind == "free":
            m = mask_at(cx, cy, pad=gap_px)
            if m is None:
                continue
            (x0, x1, y0, y1), mk = m
            if (occ[y0:y1, x0:x1][mk] > 0).any():
                continue
            partner = None
        else:
            # slide the new nucleus outwards from the partner until it just clears
            # everything (touch) or until it overlaps the partner by 10-30 % (overlap)
            partner = nb["id"]
            found = None
            want = rng.uniform(0.10, 0.30)
            for d in np.arange(0.3, 3.0, 0.02) * (nb["a"] + a) / 2:
                cx = nb["cx"] + dirx * d
                cy = nb["cy"] + diry * d
                m = mask_at(cx, cy)
                if m is None:
                    break
                (x0, x1, y0, y1), mk = m
                if mk.sum() < 0.5 * math.pi * a * b:
                    break  # mostly outside the image
                sub = occ[y0:y1, x0:x1][mk]
                if kind == "touch":
                    if not (sub > 0).any():
                        # must not come closer than the gap to anyone but the partner
                        mg = mask_at(cx, cy, pad=gap_px)
                        (gx0, gx1, gy0, gy1), mkg = mg
                        others = occ[gy0:gy1, gx0:gx1][mkg]
                        others = others[(others > 0) & (others != partner)]
                        if others.size == 0:
                            found = (cx, cy)
                        break
                else:
                    share = (sub == partner).sum() / mk.sum()
                    if (sub[(sub > 0) & (sub != partner)]).size:
                        continue
                    if share <= want:
                        mg = mask_at(cx, cy, pad=gap_px)
                        (gx0, gx1, gy0, gy1), mkg = mg
                        others = occ[gy0:gy1, gx0:gx1][mkg]
                        others = others[(others > 0) & (others != partner)]
                        if others.size == 0 and share > 0.05:
                            found = (cx, cy)
                        break
            if found is None:
                continue
            cx, cy = found
        nid = len(nuclei) + 1
        (x0, x1, y0, y1), mk = mask_at(cx, cy)
        occ[y0:y1, x0:x1][mk] = nid
        full_inside = (cx - a * 1.1 >= 0 and cy - a * 1.1 >= 0 and cx + a * 1.1 <= W - 1
                       and cy + a * 1.1 <= H - 1)
        nuc = dict(id=nid, cx=cx, cy=cy, a=a, b=b, th=th, harm=harm, kind=kind,
                   partner=partner, overlapping=False, touching=False)
        if kind == "overlap":
            nuc["overlapping"] = True
            nuclei[partner - 1]["overlapping"] = True
        if kind == "touch":
            nuc["touching"] = True
            nuclei[partner - 1]["touching"] = True
        nuclei.append(nuc)
    return nuclei


# ----------------------------------------------------------------------------- fields
def smooth_field(rng, H, W, scale_px, sd):
    """Low-pass Gaussian random field with unit-ish SD, via downsampled noise."""
    f = max(1, int(scale_px / 4))
    h, w = H // f + 3, W // f + 3
    n = ndi.gaussian_filter(rng.normal(size=(h, w)), scale_px / f)
    n /= n.std() + 1e-12
    z = ndi.zoom(n, f, order=1)[:H, :W]
    return z * sd


def uniform_in_nucleus(rng, nuc, rmax=0.82):
    while True:
        u = rng.uniform(-1, 1)
        v = rng.uniform(-1, 1)
        if u * u + v * v <= rmax * rmax:
            break
    c, s = math.cos(nuc["th"]), math.sin(nuc["th"])
    x = nuc["cx"] + u * nuc["a"] * c - v * nuc["b"] * s
    y = nuc["cy"] + u * nuc["a"] * s + v * nuc["b"] * c
    return x, y


def simulate(case, p, outdir):
    prm = dict(DEFAULTS)
    prm.update(p)
    rng = np.random.default_rng(prm["seed"])
    H = W = prm["size"]
    px = prm["px"]
    os.makedirs(outdir, exist_ok=True)

    nuclei = place_nuclei(rng, H, W, px, prm["n_nuclei"], prm["touch_frac"], prm["overlap_frac"])

    # ---- truth labels and per-nucleus profiles
    labels = np.zeros((H, W), np.uint16)
    dapi = np.zeros((H, W), np.float32)
    nucmask = np.zeros((H, W), np.float32)
    thick = np.zeros((H, W), np.float32)
    tex_fine = ndi.gaussian_filter(rng.normal(size=(H, W)).astype(np.float32), 0.15 / px)
    tex_fine /= tex_fine.std()
    tex_coarse = ndi.gaussian_filter(rng.normal(size=(H, W)).astype(np.float32), 0.8 / px)
    tex_coarse /= tex_coarse.std()
    texture = 1.0 + 0.18 * tex_fine + 0.12 * tex_coarse
    # chromocentres: bright small blobs
    cc = np.zeros((H, W), np.float32)
    for nuc in nuclei:
        level = (prm["dapi_level"] * math.exp(rng.normal(0, prm["dna_sd"]))
                 * (1.8 if rng.random() < prm["g2_frac"] else 1.0))
        nuc["dapi_level"] = level
        x0, x1, y0, y1 = nucleus_bbox(nuc["cx"], nuc["cy"], nuc["a"], H, W, 2)
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        r = ellipse_r(xx, yy, nuc["cx"], nuc["cy"], nuc["a"], nuc["b"], nuc["th"], nuc["harm"])
        inside = r <= 1.0
        prof = np.where(inside, np.clip(1 - r * r, 0, 1) ** prm["dapi_exp"], 0).astype(np.float32)
        dapi[y0:y1, x0:x1] += level * prof
        nucmask[y0:y1, x0:x1] += inside
        thick[y0:y1, x0:x1] += prof
        labels[y0:y1, x0:x1][inside] = nuc["id"]
        xi, yi = xx[inside], yy[inside]
        nuc["cut"] = bool((xi == 0).any() or (yi == 0).any() or (xi == W - 1).any() or (yi == H - 1).any())
        nuc["area_px"] = int(inside.sum())
        lo, hi = prm["n_chromocentres"]
        for _ in range(rng.integers(lo, hi) if hi > lo else lo):
            x, y = uniform_in_nucleus(rng, nuc, 0.8)
            ix, iy = int(round(x)), int(round(y))
            if 0 <= ix < W and 0 <= iy < H:
                cc[iy, ix] += level * rng.uniform(0.4, 1.0) * 2 * math.pi * (0.3 / px) ** 2
    cc = ndi.gaussian_filter(cc, 0.3 / px)
    dapi = dapi * texture + cc * (nucmask > 0)
    dapi = ndi.gaussian_filter(dapi, 0.25 / px)
    dapi += 0.03 * prm["dapi_level"] * (1 + smooth_field(rng, H, W, 20 / px, 0.3))
    dapi = np.clip(dapi, 0, None)
    # nuclear non-specific probe background: proportional to the projected nuclear
    # thickness (default, physical: binding per volume of nuclear material), or a flat
    # plateau up to the outline ("flat": stress variant), blurred like the DAPI image
    if prm["nucbg"] == "flat":
        nucmask_b = ndi.gaussian_filter(np.clip(nucmask, 0, 1), 0.3 / px)
    else:
        nucmask_b = ndi.gaussian_filter(thick, 0.25 / px)
    # labels: overlapping pixels go to the later (upper) nucleus, as drawn

    # ---- copy numbers and dot positions
    dots = []  # dict(nucleus, channel, x, y, flux, dz, kind, cluster)
    mode = prm["mode"]
    cluster_id = 0

    def draw_nonamp():
        return int(rng.choice([1, 2, 3, 4], p=[0.07, 0.80, 0.09, 0.04]))

    def far_enough(x, y, pts, dmin):
        return all(math.hypot(x - qx, y - qy) * px >= dmin for qx, qy in pts)

    for nuc in nuclei:
        nuc["target"] = 0
        nuc["control"] = 0
        nuc["cluster_copies"] = 0
        amp = False
        if mode == "amp":
            amp = rng.random() < 0.85
        elif mode == "lowamp":
            amp = rng.random() < 0.55
        n_ctrl = draw_nonamp()
        if amp:
            if mode == "amp":
                k = int(np.clip(round(math.exp(rng.normal(math.log(9), 0.45))), 6, 30))
                n_tsingle = int(rng.choice([0, 1, 2], p=[0.5, 0.3, 0.2]))
            else:
                k = int(rng.integers(6, 11))
                n_tsingle = int(rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2]))
        else:
            k = 0
            n_tsingle = draw_nonamp()
        # positions: cluster centre first, then singles with spacing rules
        tpts, cpts = [], []
        if k:
            cluster_id += 1
            ccx, ccy = uniform_in_nucleus(rng, nuc, 0.6)
            spread = rng.uniform(0.15, 0.35)
            for _ in range(k):
                while True:
                    dx, dy = rng.normal(0, spread, 2)
                    if math.hypot(dx, dy) <= 1.0:
                        break
                dots.append(dict(nucleus=nuc["id"], channel="target", x=ccx + dx / px, y=ccy + dy / px,
                                 kind="cluster", cluster=cluster_id))
            nuc["cluster_copies"] = k
            nuc["cluster_x"], nuc["cluster_y"] = ccx, ccy
            tpts.append((ccx, ccy))
        # control copies, each near a target copy when one exists (same chromosome 12)
        singles_t = []
        for i in range(n_tsingle):
            for _ in range(200):
                x, y = uniform_in_nucleus(rng, nuc)
                dmin = 1.0
                if k and not far_enough(x, y, tpts[:1], 2.0):
                    continue
                if far_enough(x, y, singles_t, dmin):
                    singles_t.append((x, y))
                    break
        for (x, y) in singles_t:
            dots.append(dict(nucleus=nuc["id"], channel="target", x=x, y=y, kind="single", cluster=0))
        anchors = singles_t + ([(nuc["cluster_x"], nuc["cluster_y"])] if k else [])
        for i in range(n_ctrl):
            for attempt in range(300):
                if i < len(anchors) and attempt < 150:
                    ax, ay = anchors[i]
                    d = rng.uniform(0.3, 1.5) / px
                    ang = rng.uniform(0, 2 * np.pi)
                    x, y = ax + d * math.cos(ang), ay + d * math.sin(ang)
                    # must stay inside the nucleus
                    r = ellipse_r(np.array(x), np.array(y), nuc["cx"], nuc["cy"], nuc["a"], nuc["b"],
                                  nuc["th"], nuc["harm"])
                    if r > 0.85:
                        continue
                else:
                    x, y = uniform_in_nucleus(rng, nuc)
                if far_enough(x, y, cpts, 1.0):
                    cpts.append((x, y))
                    break
        for (x, y) in cpts:
            dots.append(dict(nucleus=nuc["id"], channel="control", x=x, y=y, kind="single", cluster=0))
        nuc["target"] = len(singles_t) + k
        nuc["control"] = len(cpts)
        nuc["target_singles"] = len(singles_t)

    # ---- photometry: background levels and single-copy flux from the SNR
    banks = {ch: PSFBank(LAMBDA[ch], prm["na"]) for ch in ("target", "control")}
    psf_true = {}
    mean_dapi_in = float(dapi[labels > 0].mean())
    flux_med = {}
    for ch in ("target", "control"):
        dzs = np.linspace(0, 0.35, 15)
        sig_fit, sig_m2, _ = gaussian_fit_sigma(banks[ch], px, dzs)
        _, _, st = banks[ch].stamp(banks[ch].index(0.175), 0.0, 0.0, px)
        p0 = float(st.max())
        b_in = prm["bg_af"] + prm["bg_nuc"] + CROSSTALK[ch] * mean_dapi_in
        if prm["camera"] == "scmos":
            sd = math.sqrt(b_in + prm["scmos_read"] ** 2)
        else:
            sd = math.sqrt(2 * b_in + (prm["em_read"] / prm["em_gain"]) ** 2)
        flux_med[ch] = prm["snr"] * sd / p0
        psf_true[ch] = dict(lambda_um=LAMBDA[ch], na=prm["na"],
                            airy_fwhm_um=0.514 * LAMBDA[ch] / prm["na"],
                            gauss_fit_sigma_um=sig_fit, second_moment_sigma_um=sig_m2,
                            peak_fraction_centred=p0, bg_inside_e=b_in, noise_sd_e=sd,
                            median_flux_e=flux_med[ch])

    # ---- render probe channels
    chans = {}
    dot_light = {}
    for ch in ("target", "control"):
        img = np.zeros((H, W), np.float64)
        for d in dots:
            if d["channel"] != ch:
                continue
            d["dz"] = float(rng.uniform(0, 0.35))
            d["flux"] = float(flux_med[ch] * (prm["ctrl_bright"] if ch == "control" else 1.0)
                              * math.exp(rng.normal(0, prm["flux_logsd"])))
            x0, y0, st = banks[ch].stamp(banks[ch].index(d["dz"]), d["x"], d["y"], px)
            h, w = st.shape
            sx0, sy0 = max(0, -x0), max(0, -y0)
            ex, ey = min(w, W - x0), min(h, H - y0)
            if ex <= sx0 or ey <= sy0:
                continue
            img[y0 + sy0:y0 + ey, x0 + sx0:x0 + ex] += d["flux"] * st[sy0:ey, sx0:ex]
        dot_light[ch] = img.copy()
        af = prm["bg_af"] * (1 + smooth_field(rng, H, W, 25 / px, prm["af_var"]))
        yy, xx = np.mgrid[0:H, 0:W]
        grad = 1 + prm["af_var"] * ((xx / W) - 0.5)
        af = np.clip(af * grad, 0.2 * prm["bg_af"], None)
        img += af + prm["bg_nuc"] * nucmask_b + CROSSTALK[ch] * dapi
        chans[ch] = img

    # spectral bleed-through: a share of each probe's dot light seen through the other's filter
    if prm["bleed_c2t"] > 0:
        chans["target"] += prm["bleed_c2t"] * dot_light["control"]
    if prm["bleed_t2c"] > 0:
        chans["control"] += prm["bleed_t2c"] * dot_light["target"]

    # ---- camera
    def camera(photons):
        n = rng.poisson(np.clip(photons, 0, None))
        if prm["camera"] == "scmos":
            adu = n * prm["scmos_gain"] + rng.normal(0, prm["scmos_read"] * prm["scmos_gain"], n.shape)
        else:
            out = rng.gamma(np.maximum(n, 1e-12), prm["em_gain"]) * (n > 0)
            adu = (out + rng.normal(0, prm["em_read"], n.shape)) / prm["em_conv"]
        adu += prm["offset"]
        return np.clip(np.round(adu), 0, 65535).astype(np.uint16)

    stack = np.stack([camera(dapi), camera(chans["target"]), camera(chans["control"])])
    sat = {c: float((stack[i] == 65535).mean()) for i, c in enumerate(["dapi", "target", "control"])}

    tifffile.imwrite(os.path.join(outdir, "image.tif"), stack, imagej=True,
                     resolution=(1.0 / px, 1.0 / px),
                     metadata={"axes": "CYX", "unit": "um", "spacing": 1.0,
                               "Labels": ["DAPI", "MDM2", "CEP12"]})
    tifffile.imwrite(os.path.join(outdir, "truth_labels.tif"), labels)

    # ---- truth tables
    scorable = lambda n: (not n["cut"]) and (not n["overlapping"])
    with open(os.path.join(outdir, "truth_nuclei.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["id", "x", "y", "a_px", "b_px", "theta_rad", "major_um", "minor_um", "target", "control",
                     "target_singles", "cluster_copies", "cluster_x", "cluster_y", "overlapping", "touching",
                     "cut_by_border", "scorable", "area_px", "dapi_level_e"])
        for n in nuclei:
            wr.writerow([n["id"], f"{n['cx']:.3f}", f"{n['cy']:.3f}", f"{n['a']:.3f}", f"{n['b']:.3f}",
                         f"{n['th']:.4f}", f"{2 * n['a'] * px:.3f}", f"{2 * n['b'] * px:.3f}",
                         n["target"], n["control"], n["target_singles"], n["cluster_copies"],
                         f"{n.get('cluster_x', float('nan')):.3f}", f"{n.get('cluster_y', float('nan')):.3f}",
                         int(n["overlapping"]), int(n["touching"]), int(n["cut"]), int(scorable(n)),
                         n["area_px"], f"{n['dapi_level']:.1f}"])
    with open(os.path.join(outdir, "truth_dots.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["nucleus", "channel", "x", "y", "kind", "cluster", "flux_e", "dz_um"])
        for d in dots:
            wr.writerow([d["nucleus"], d["channel"], f"{d['x']:.3f}", f"{d['y']:.3f}", d["kind"], d["cluster"],
                         f"{d.get('flux', 0):.1f}", f"{d.get('dz', 0):.3f}"])
    sc = [n for n in nuclei if scorable(n)]
    tt = sum(n["target"] for n in sc)
    tc = sum(n["control"] for n in sc)
    info = dict(case=case, params=prm, width=W, height=H, pixel_size_um=px,
                nuclei=len(nuclei), scorable=len(sc), cut=sum(n["cut"] for n in nuclei),
                overlapping=sum(n["overlapping"] for n in nuclei), touching=sum(n["touching"] for n in nuclei),
                dots=len(dots), single_dots=sum(d["kind"] == "single" for d in dots),
                cluster_dots=sum(d["kind"] == "cluster" for d in dots), clusters=cluster_id,
                truth_ratio_scorable=tt / tc if tc else None, truth_target=tt, truth_control=tc,
                psf=psf_true, saturated_share=sat, mean_dapi_in_nuclei_e=mean_dapi_in,
                snr_definition="peak pixel of a median-flux centred dot at |dz|=0.175 um over the background "
                               "noise SD inside nuclei (shot + read/excess noise)")
    with open(os.path.join(outdir, "case.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/altsim/cases")
    ap.add_argument("--case", action="append", help="case name (repeatable); default all: " + ", ".join(CASES))
    a = ap.parse_args()
    for name in a.case or list(CASES):
        info = simulate(name, CASES[name], os.path.join(a.out, name))
        print(f"{name}: {info['nuclei']} nuclei ({info['scorable']} scorable, {info['cut']} cut, "
              f"{info['overlapping']} overlapping, {info['touching']} touching), {info['single_dots']} single dots, "
              f"{info['clusters']} clusters, truth ratio {info['truth_ratio_scorable']:.3f}, "
              f"psf sigma t/c {info['psf']['target']['gauss_fit_sigma_um']:.3f}/"
              f"{info['psf']['control']['gauss_fit_sigma_um']:.3f} um", flush=True)


if __name__ == "__main__":
    main()
