#!/usr/bin/env python3
"""Classical scikit-image baseline for DAPI nucleus segmentation.

This is a comparison tool, not part of fishscore: it segments nuclei the way
an image analyst would with scikit-image's textbook recipe ("Otsu + distance
transform watershed", cf. the scikit-image gallery example "Watershed
segmentation"), so that fishscore's own segmentation can be reported side by
side with a well-known classical approach.  Nothing here is tuned to the
simulator's ground truth; the only sizes used are generic physical ones
(smoothing 0.5 um, typical nucleus diameter 9 um, minimum object 10 um^2).

Usage::

    python bench/skimage_nuclei.py CASE_DIR OUT_DIR [--pixel-size-um F]

CASE_DIR holds either ``image.tif`` (multi-page uint16, channel-major: all
DAPI planes first, then target, then control) or ``dapi.tif`` (+ target.tif,
control.tif).  For z-stacks the DAPI planes are max-projected.

Pipeline
--------
1. DAPI (max projection of the DAPI planes of a z-stack).
2. Gaussian smoothing (sigma 0.5 um), Otsu threshold, hole filling, removal
   of objects under 10 um^2.
3. Euclidean distance transform of the mask, lightly smoothed; markers are
   the local maxima (``peak_local_max``, min_distance = 0.3 x 9 um, searched
   per connected component); every component without a peak gets one marker
   at its distance maximum; ``watershed(-distance, markers, mask=binary)``.
4. Scorability, the simple way: ``cut_by_border`` if the object touches the
   image border, ``too_small`` under 20 um^2, ``too_large`` above 3x the
   median object area; otherwise scored.

Limitations (by design of a simple baseline): there is NO detection of
overlapping nuclei and NO focus (blur) detection, so overlapping and
out-of-focus nuclei are scored whenever they pass the size/border rules.
There is no debris classifier beyond the size rules either, and no signal
(probe spot) analysis: target/control/cluster are left empty.

Outputs (the fishscore result contract used by ``fishscore evaluate``):

* ``OUT_DIR/labels.tif`` -- uint16 (uint32 if >65535 objects) label image,
  0 = background, same size as the image.
* ``OUT_DIR/nuclei.csv`` -- ``field,id,x,y,area_um2,scored,excluded_reason,
  target,control,cluster``; x, y = centroid column, row in px; field = case
  folder name; id = label value.

The wall time is printed to stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage import filters, measure, morphology, segmentation
from skimage.feature import peak_local_max

# Generic physical parameters (not fitted to any data).
SMOOTH_SIGMA_UM = 0.5
NUCLEUS_DIAMETER_UM = 9.0
MIN_DISTANCE_FRACTION = 0.3
MIN_OBJECT_UM2 = 10.0
TOO_SMALL_UM2 = 20.0
TOO_LARGE_X_MEDIAN = 3.0
DEFAULT_PIXEL_SIZE_UM = 0.1


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------

def _description(tif: tifffile.TiffFile) -> dict:
    """The JSON ImageDescription of the first page, or {}."""
    try:
        desc = tif.pages[0].description
        d = json.loads(desc) if desc else {}
        return d if isinstance(d, dict) else {}
    except (ValueError, TypeError, AttributeError):
        return {}


def _pixel_size_from_resolution(tif: tifffile.TiffFile) -> float | None:
    """um per pixel from the XResolution / ResolutionUnit tags, if usable."""
    tags = tif.pages[0].tags
    xr = tags.get("XResolution")
    unit = tags.get("ResolutionUnit")
    if xr is None:
        return None
    num, den = xr.value if isinstance(xr.value, tuple) else (xr.value, 1)
    if not num or not den:
        return None
    px_per_unit = num / den
    unit_v = int(unit.value) if unit is not None else 2
    um_per_unit = {3: 1e4, 2: 25400.0}.get(unit_v)  # 3 = cm, 2 = inch
    if um_per_unit is None or px_per_unit <= 0:
        return None
    size = um_per_unit / px_per_unit
    # A default 72/96 dpi tag means "no calibration": ignore it.
    if unit_v == 2 and px_per_unit in (72.0, 96.0, 1.0):
        return None
    return size


def read_dapi(case_dir: Path) -> tuple[np.ndarray, tifffile.TiffFile | None, dict]:
    """Returns the DAPI image (2-D, max projection over z), plus the
    pixel-size sources (resolution tag in um, description dict)."""
    multi = case_dir / "image.tif"
    single = case_dir / "dapi.tif"
    if multi.exists():
        path = multi
    elif single.exists():
        path = single
    else:
        raise SystemExit(f"{case_dir}: neither image.tif nor dapi.tif")
    with tifffile.TiffFile(path) as tif:
        desc = _description(tif)
        res_um = _pixel_size_from_resolution(tif)
        n_pages = len(tif.pages)
        if path == multi:
            n_channels = len(desc.get("channels", [])) or 3
            z = int(desc.get("z_planes", 0)) or max(1, n_pages // n_channels)
            dapi_pages = range(min(z, n_pages))
        else:
            dapi_pages = range(n_pages)  # every page of dapi.tif is a plane
        planes = np.stack([tif.pages[i].asarray() for i in dapi_pages])
    if planes.ndim != 3:
        raise SystemExit(f"{path}: expected 2-D pages, got {planes.shape[1:]}")
    dapi = planes.max(axis=0).astype(np.float32)
    return dapi, res_um, desc


def pixel_size_um(case_dir: Path, cli_value: float | None,
                  res_um: float | None, desc: dict) -> tuple[float, str]:
    if cli_value is not None:
        return cli_value, "command line"
    tj = case_dir / "truth.json"
    if tj.exists():
        try:
            v = float(json.loads(tj.read_text())["pixel_size_um"])
            if v > 0:
                return v, "truth.json"
        except (KeyError, ValueError, TypeError):
            pass
    if res_um:
        return res_um, "TIFF resolution tag"
    v = desc.get("pixel_size_um")
    if isinstance(v, (int, float)) and v > 0:
        return float(v), "TIFF ImageDescription"
    return DEFAULT_PIXEL_SIZE_UM, "default"


# --------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------

def segment(dapi: np.ndarray, px_um: float) -> np.ndarray:
    """Otsu + distance-transform watershed; returns an int32 label image."""
    um2_per_px = px_um * px_um
    smooth = filters.gaussian(dapi, sigma=SMOOTH_SIGMA_UM / px_um,
                              preserve_range=True)
    thr = filters.threshold_otsu(smooth)
    binary = ndi.binary_fill_holes(smooth > thr)
    min_px = max(1, int(round(MIN_OBJECT_UM2 / um2_per_px)))
    binary = morphology.remove_small_objects(binary, max_size=min_px - 1) \
        if _has_max_size() else morphology.remove_small_objects(binary, min_px)

    distance = ndi.distance_transform_edt(binary)
    # Light smoothing removes the ridges/plateaus of a raw EDT on a
    # pixelated outline, which would otherwise give several peaks per nucleus.
    dist_s = filters.gaussian(distance, sigma=max(1.0, SMOOTH_SIGMA_UM / px_um),
                              preserve_range=True)
    components, n_comp = ndi.label(binary)
    min_dist = max(1, int(round(MIN_DISTANCE_FRACTION * NUCLEUS_DIAMETER_UM / px_um)))
    peaks = peak_local_max(dist_s, min_distance=min_dist, labels=components,
                           exclude_border=False)
    markers = np.zeros(binary.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
    # A component with no peak (e.g. a flat-topped sliver) still gets one
    # marker, at its distance maximum, so no foreground object is dropped.
    has_peak = np.zeros(n_comp + 1, dtype=bool)
    has_peak[components[tuple(peaks.T)]] = True
    missing = np.flatnonzero(~has_peak[1:]) + 1
    if missing.size:
        pos = ndi.maximum_position(distance, components, missing)
        pos = np.asarray(pos, dtype=np.intp).reshape(-1, 2)
        markers[pos[:, 0], pos[:, 1]] = len(peaks) + np.arange(1, missing.size + 1)
    labels = segmentation.watershed(-dist_s, markers, mask=binary)
    return labels


def _has_max_size() -> bool:
    """skimage >= 0.26 renamed remove_small_objects(min_size) to max_size."""
    import inspect
    return "max_size" in inspect.signature(morphology.remove_small_objects).parameters


# --------------------------------------------------------------------------
# Scorability and output
# --------------------------------------------------------------------------

def describe(labels: np.ndarray, px_um: float) -> dict[str, np.ndarray]:
    um2_per_px = px_um * px_um
    props = measure.regionprops_table(labels, properties=("label", "centroid", "area"))
    ids = props["label"].astype(np.int64)
    area_um2 = props["area"].astype(np.float64) * um2_per_px
    border = np.zeros(labels.max() + 1, dtype=bool)
    border[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
    border[0] = False
    median_area = float(np.median(area_um2)) if area_um2.size else 0.0
    reason = np.full(ids.shape, "", dtype=object)
    reason[area_um2 > TOO_LARGE_X_MEDIAN * median_area] = "too_large"
    reason[area_um2 < TOO_SMALL_UM2] = "too_small"
    reason[border[ids]] = "cut_by_border"  # highest priority, set last
    return {
        "id": ids,
        "x": props["centroid-1"],
        "y": props["centroid-0"],
        "area_um2": area_um2,
        "reason": reason,
    }


def write_outputs(out_dir: Path, field: str, labels: np.ndarray,
                  px_um: float, table: dict[str, np.ndarray]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    dtype = np.uint16 if labels.max() <= np.iinfo(np.uint16).max else np.uint32
    res = 1e4 / px_um  # px per cm
    tifffile.imwrite(out_dir / "labels.tif", labels.astype(dtype),
                     resolution=(res, res), resolutionunit="CENTIMETER")
    with open(out_dir / "nuclei.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["field", "id", "x", "y", "area_um2", "scored",
                    "excluded_reason", "target", "control", "cluster"])
        for i, x, y, a, r in zip(table["id"], table["x"], table["y"],
                                 table["area_um2"], table["reason"]):
            w.writerow([field, int(i), f"{x:.2f}", f"{y:.2f}", f"{a:.2f}",
                        "false" if r else "true", r, "", "", ""])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("case_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--pixel-size-um", type=float, default=None,
                    help="um per pixel (default: truth.json, else TIFF "
                         "resolution tag, else ImageDescription, else 0.1)")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    case_dir = a.case_dir.resolve()
    dapi, res_um, desc = read_dapi(case_dir)
    px_um, px_src = pixel_size_um(case_dir, a.pixel_size_um, res_um, desc)
    labels = segment(dapi, px_um)
    table = describe(labels, px_um)
    write_outputs(a.out_dir, case_dir.name, labels, px_um, table)
    dt = time.perf_counter() - t0
    n_scored = int(np.sum(table["reason"] == ""))
    print(f"{case_dir.name}: {dapi.shape[1]}x{dapi.shape[0]} px at {px_um:g} um "
          f"({px_src}), {len(table['id'])} objects, {n_scored} scored, "
          f"wall time {dt:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
