//! Nuclei: segment the DAPI counterstain, split touching nuclei, measure
//! them and decide which may be scored. See docs/nuclei.md for the method,
//! its references and its measured accuracy.
//!
//! Per field ([`segment_nuclei`]): block-averaged working image -> smoothing
//! at the chromatin scale -> local background -> Otsu threshold -> per-clump
//! half-maximum mask -> distance transform -> watershed whose basins merge
//! unless a real neck separates them -> overlap lenses cut out -> outlines
//! refined at full resolution at each nucleus' own half maximum ->
//! measurements. Per case ([`classify`]): scorability with a reason, from
//! thresholds relative to the case's own nuclei.

pub mod background;
pub mod concave;
pub mod edt;
pub mod intensity;
pub mod measure;
pub mod morphology;
pub mod overlap;
pub mod refine;
pub mod resample;
pub mod scorability;
pub mod threshold;
pub mod watershed;

use crate::filters::gaussian_filter;
use crate::plane::Plane;
use ndarray::Array2;
use serde::Serialize;

pub use scorability::{classify, ExclusionReason};

/// Parameters of nucleus segmentation and scorability. Lengths in um; the
/// defaults describe interphase nuclei in FFPE sections (6-15 um across,
/// domain brief) and are converted with the image's pixel size.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct NucleusParams {
    /// Typical nucleus diameter in um (sets the background block size).
    pub nucleus_diameter_um: f64,
    /// Segmentation runs on block means of about this pixel size (um):
    /// nuclei stay 30+ px across, and outlines are refined at full
    /// resolution afterwards.
    pub working_pixel_um: f64,
    /// Gaussian smoothing (um) that suppresses chromatin texture and noise
    /// before thresholding (the scale of chromatin granules, ~0.3 um).
    pub smoothing_um: f64,
    /// A nucleus' outline lies where its DAPI falls to this fraction of its
    /// own level (0.5: the half-maximum contour of a blurred edge).
    pub edge_level: f64,
    /// Watershed: two parts stay separate only when the neck between them
    /// is narrower than this fraction of the smaller part's inscribed
    /// radius (1 = never merge, 0 = never split).
    pub split_neck_ratio: f64,
    /// Watershed: a part split off must have an inscribed radius of at
    /// least this (um); smaller bulges are lobes of one nucleus.
    pub min_split_radius_um: f64,
    /// Watershed: a distance-map peak must rise at least this (um) above
    /// the saddle to its neighbour (about one working pixel: lower peaks
    /// are outline jitter).
    pub min_split_dynamic_um: f64,
    /// Overlap: DAPI this many times the local single-layer level marks a
    /// candidate zone where two nuclei lie on each other (two layers of
    /// equal nuclei give 2x; a dim nucleus on a bright one, less).
    pub overlap_brightness: f64,
    /// Overlap: share of a bright zone's surroundings that must be nucleus
    /// (a lens is enclosed by the two crescents; a bright whole nucleus
    /// borders background).
    pub overlap_min_enclosure: f64,
    /// Overlap between neighbours A (base level a) and B (b <= a): a zone
    /// brighter than a + this x b marks them stacked (a lens is a + b).
    pub overlap_pair_fraction: f64,
    /// Overlap: smallest bright zone (um^2) that counts.
    pub min_overlap_area_um2: f64,
    /// Objects under this diameter (um, area-equivalent) are debris.
    pub min_diameter_um: f64,
    /// too_small: area under this fraction of the case's median nucleus area.
    pub small_area_fraction: f64,
    /// too_large: area over this multiple of the case's median nucleus area.
    pub large_area_factor: f64,
    /// out_of_focus: outline blur (edge sigma) over this multiple of the
    /// case's median outline blur.
    pub focus_blur_factor: f64,
    /// out_of_focus also needs the outline blur to exceed this (um): a
    /// sharp case's spread alone never marks a nucleus out of focus.
    pub focus_min_blur_um: f64,
    /// Concave-point splitting: regions at least this convex are left
    /// whole (a single nucleus is nearly convex, 0.9+).
    pub concave_max_solidity: f64,
    /// Concave-point splitting: a notch must be at least this deep (um).
    pub concave_min_depth_um: f64,
    /// Concave-point splitting: (depth of both notches) / (cut length)
    /// must reach this; a cut between shallow dents across a wide body is
    /// not a contact line.
    pub concave_min_saliency: f64,
    /// Second concave pass over the watershed's pieces: notch depth (um).
    pub declump_min_depth_um: f64,
    /// Second pass: (depth of both notches) / (cut length).
    pub declump_min_saliency: f64,
    /// Second pass: cosine of the largest angle between a notch and the cut.
    pub declump_min_facing: f64,
    /// Second pass: both parts must be at least this convex.
    pub declump_part_solidity: f64,
    /// Second pass: both parts must hold at least this share of the
    /// field's median piece area.
    pub declump_part_area_fraction: f64,
    /// Intensity splitting: a piece whose two Otsu classes differ in mean
    /// DAPI by at least this factor, each a solid nucleus-sized body, is two
    /// nuclei (cell-to-cell DAPI content varies by ~20-50 %).
    pub intensity_split_ratio: f64,
    /// Intensity splitting: smoothing (um) that averages chromatin texture.
    pub intensity_split_smoothing_um: f64,
    /// Solidity (area / convex hull) under which an unsplit region is a
    /// clump of overlapping nuclei.
    pub min_solidity: f64,
}

impl Default for NucleusParams {
    fn default() -> Self {
        NucleusParams {
            nucleus_diameter_um: 9.0,
            working_pixel_um: 0.2,
            smoothing_um: 0.3,
            edge_level: 0.5,
            split_neck_ratio: 0.97,
            min_split_radius_um: 1.5,
            min_split_dynamic_um: 0.2,
            overlap_brightness: 1.5,
            overlap_min_enclosure: 0.6,
            overlap_pair_fraction: 0.85,
            min_overlap_area_um2: 3.0,
            min_diameter_um: 4.0,
            small_area_fraction: 0.3,
            large_area_factor: 3.0,
            focus_blur_factor: 2.0,
            focus_min_blur_um: 0.6,
            concave_max_solidity: 0.95,
            concave_min_depth_um: 0.4,
            concave_min_saliency: 0.15,
            declump_min_depth_um: 0.2,
            declump_min_saliency: 0.08,
            declump_min_facing: 0.3,
            declump_part_solidity: 0.93,
            declump_part_area_fraction: 0.4,
            intensity_split_ratio: 1.3,
            intensity_split_smoothing_um: 0.8,
            min_solidity: 0.8,
        }
    }
}

/// One segmented nucleus with its measurements.
#[derive(Debug, Clone, Serialize)]
pub struct Nucleus {
    /// Label value in the field's label image (1..).
    pub id: u32,
    /// Centroid column in px (origin at the centre of the top-left pixel).
    pub x: f64,
    /// Centroid row in px.
    pub y: f64,
    /// Area in um^2.
    pub area_um2: f64,
    /// Perimeter in um.
    pub perimeter_um: f64,
    /// Area / convex hull area.
    pub solidity: f64,
    /// Eccentricity of the equal-moment ellipse.
    pub eccentricity: f64,
    /// Mean background-corrected DAPI (image units).
    pub mean_dapi: f64,
    /// Integrated background-corrected DAPI (image units x px).
    pub integrated_dapi: f64,
    /// Blur of the outline: sigma (um) of the Gaussian edge that gives the
    /// measured outline gradient (in focus: optics + smoothing, ~0.3-0.4 um).
    pub edge_blur_um: f64,
    /// Focus score: 1 / edge_blur_um (higher = sharper).
    pub focus_score: f64,
    /// Touches the image border.
    pub touches_border: bool,
    /// A bright zone of two stacked nuclei lies in or against it.
    pub overlap_evidence: bool,
    /// May be scored (morphology); set by [`classify`].
    pub scorable: bool,
    /// Why not, when not scorable.
    pub reason: Option<ExclusionReason>,
    /// Bounding box `[x0, y0, x1, y1]` in px (inclusive).
    pub bbox: [usize; 4],
}

/// One field's segmentation.
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// Label image (0 background, value = nucleus id), full resolution.
    pub labels: Array2<u32>,
    /// The nuclei, ordered by id.
    pub nuclei: Vec<Nucleus>,
    /// Otsu threshold used (background-corrected DAPI units).
    pub threshold: f32,
    /// Working-scale binning factor.
    pub binning: usize,
}

/// Segments the nuclei of one DAPI plane. Scorability is left for
/// [`classify`], which needs every field of the case.
pub fn segment_nuclei(dapi: &Plane, p: &NucleusParams) -> Segmentation {
    let px = dapi.pixel_size_um;
    let (h, w) = dapi.data.dim();
    let f = ((p.working_pixel_um / px).floor() as usize).max(1);
    let pw = px * f as f64;
    let img_w = resample::bin_mean(&dapi.data, f);
    let smooth_w = gaussian_filter(&img_w, p.smoothing_um / pw);
    // Background from the pixels outside a first Otsu mask.
    let all: Vec<f32> = smooth_w.iter().copied().collect();
    let t0 = threshold::threshold_otsu(&all).unwrap_or(f32::INFINITY);
    let fg0 = smooth_w.mapv(|v| v > t0);
    let block = ((2.0 * p.nucleus_diameter_um / pw).round() as usize).max(8);
    let bg_w = background::block_background(&smooth_w, &fg0, block);
    let mut contrast_w = smooth_w.clone();
    contrast_w.zip_mut_with(&bg_w, |a, b| *a -= *b);
    let call: Vec<f32> = contrast_w.iter().copied().collect();
    let t1 = threshold::threshold_otsu(&call)
        .unwrap_or(f32::INFINITY)
        .max(0.0);
    // Holes up to a small nucleus' area are nucleoli or pale chromatin;
    // larger enclosed background is the space between a ring of nuclei.
    let max_hole = (std::f64::consts::PI * (0.5 * p.min_diameter_um / pw).powi(2)) as usize;
    // Hysteresis: a nucleus dimmer than the Otsu level of the field (DAPI
    // content and staining vary from cell to cell) would come out in
    // fragments; its pixels above half the level are kept when they
    // connect to pixels above it.
    let low = contrast_w.mapv(|v| v > 0.5 * t1);
    let (low_l, n_low) = morphology::label(&low);
    let mut seeded = vec![false; n_low as usize + 1];
    for (&l, &c) in low_l.iter().zip(contrast_w.iter()) {
        if l != 0 && c > t1 {
            seeded[l as usize] = true;
        }
    }
    let mask0 =
        morphology::fill_small_holes(&low_l.mapv(|l| l != 0 && seeded[l as usize]), max_hole);
    // Per clump: half of its own level, so touching nuclei separated by a
    // blurred dim seam come apart and outlines sit at half maximum.
    let (clumps, nc) = morphology::label(&mask0);
    let mut per: Vec<Vec<f32>> = vec![Vec::new(); nc as usize + 1];
    for (&l, &c) in clumps.iter().zip(contrast_w.iter()) {
        if l != 0 {
            per[l as usize].push(c);
        }
    }
    let clump_level: Vec<f32> = per
        .iter()
        .map(|v| threshold::median(v).unwrap_or(0.0) * p.edge_level as f32)
        .collect();
    let mask1 = Array2::from_shape_fn(mask0.dim(), |(y, x)| {
        let l = clumps[[y, x]];
        l != 0 && contrast_w[[y, x]] >= clump_level[l as usize]
    });
    let mask1 = morphology::fill_small_holes(&mask1, max_hole);
    // Double layers (two nuclei stacked) come out of the mask before
    // touching nuclei are split; they are shared out afterwards.
    let radius = ((0.5 * p.nucleus_diameter_um / pw).round() as usize).max(2);
    // Smoothed at the chromatin-domain scale so that texture does not
    // pass for a second layer.
    let smooth_i = gaussian_filter(&contrast_w, p.intensity_split_smoothing_um / pw);
    // The single-layer level comes from pixels above the Otsu level only:
    // the dim nuclei the hysteresis added would pull it down and make
    // their ordinary neighbours look double.
    let strong = Array2::from_shape_fn(mask1.dim(), |(y, x)| {
        mask1[[y, x]] && contrast_w[[y, x]] > t1
    });
    // Window samples every half smoothing sigma (adjacent pixels of the
    // smoothed image are redundant): a quarter of the work.
    let stride = ((0.5 * p.intensity_split_smoothing_um / pw).floor() as usize).max(1);
    let layer =
        overlap::local_layer_level(&smooth_i, &strong, radius, (radius / 4).max(1), stride, 0.4);
    let lens_px = (p.min_overlap_area_um2 / (pw * pw)).ceil() as usize;
    let lens = overlap::double_layer_zones(
        &smooth_i,
        &mask1,
        &layer,
        p.overlap_brightness as f32,
        lens_px,
        p.overlap_min_enclosure,
    );
    let single = Array2::from_shape_fn(mask1.dim(), |(y, x)| {
        mask1[[y, x]]
            && !morphology::N8
                .iter()
                .chain(std::iter::once(&(0, 0)))
                .any(|&(dy, dx)| {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    ny >= 0
                        && nx >= 0
                        && ny < lens.nrows() as i64
                        && nx < lens.ncols() as i64
                        && lens[[ny as usize, nx as usize]]
                })
    });
    // Clumps cut along lines between the notches of their outline, then
    // every piece split at the necks of its distance map.
    let min_area_w = std::f64::consts::PI * (0.5 * p.min_diameter_um / pw).powi(2);
    let (pieces, n_pieces) = morphology::label(&single);
    let crule = concave::ConcaveRule {
        max_solidity: p.concave_max_solidity,
        min_depth: p.concave_min_depth_um / pw,
        min_saliency: p.concave_min_saliency,
        min_part_px: (0.5 * min_area_w).ceil() as usize,
        min_facing: 0.5,
        min_part_solidity: 0.0,
    };
    let (pieces, _) = concave::split_concave(&pieces, n_pieces, &crule);
    let separated = Array2::from_shape_fn(pieces.dim(), |(y, x)| {
        let l = pieces[[y, x]];
        l != 0
            && morphology::N4.iter().all(|&(dy, dx)| {
                let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                ny < 0 || nx < 0 || ny >= pieces.nrows() as i64 || nx >= pieces.ncols() as i64 || {
                    let m = pieces[[ny as usize, nx as usize]];
                    m == l || m == 0
                }
            })
    });
    let dist = gaussian_filter(&edt::distance_transform_edt(&separated), 1.0);
    let rule = watershed::SplitRule {
        min_peak: (p.min_split_radius_um / pw) as f32,
        max_saddle_ratio: p.split_neck_ratio as f32,
        min_dynamic: (p.min_split_dynamic_um / pw) as f32,
    };
    let (lab_w, n_w) = watershed::watershed_dynamics(&dist, &separated, &rule);
    if let Ok(d) = std::env::var("FS_DEBUG_DIR") {
        let d = std::path::Path::new(&d);
        let _ = crate::io::tiff_write::write_labels(
            &d.join("mask1.tif"),
            &mask1.mapv(|v| v as u32),
            pw,
        );
        let _ = crate::io::tiff_write::write_labels(&d.join("ws.tif"), &lab_w, pw);
        let _ = crate::io::tiff_write::write_labels(
            &d.join("dist.tif"),
            &dist.mapv(|v| (v * 10.0) as u32),
            pw,
        );
    }
    // Pieces made of a dim and a bright nucleus come apart by level
    // (smoothed at a nucleus-radius fraction so chromatin texture averages out).
    let irule = intensity::IntensityRule {
        min_level_ratio: p.intensity_split_ratio as f32,
        min_part_px: (0.5 * min_area_w).ceil() as usize,
        min_coherence: 0.85,
        rim_px: ((p.intensity_split_smoothing_um + 0.5) / pw) as f32,
    };
    let (lab_w, n_w) = intensity::split_by_intensity(&lab_w, n_w, &smooth_i, &irule);
    // Second look at what is still whole: a piece that the strict cut
    // above left alone is cut between shallower notches when both parts
    // come out convex (single nuclei are, 0.93+) and nucleus-sized for THIS
    // field (a share of its median piece), i.e. when the cut explains the
    // piece as two ordinary nuclei.
    let (mut lab_w, n_w) = {
        let areas = morphology::label_areas(&lab_w, n_w);
        let sizes: Vec<f32> = areas
            .iter()
            .skip(1)
            .filter(|&&a| a > 0)
            .map(|&a| a as f32)
            .collect();
        let median_px = threshold::median(&sizes).unwrap_or(0.0) as f64;
        let rule = concave::ConcaveRule {
            max_solidity: p.concave_max_solidity,
            min_depth: p.declump_min_depth_um / pw,
            min_saliency: p.declump_min_saliency,
            min_part_px: ((p.declump_part_area_fraction * median_px) as usize)
                .max(crule.min_part_px),
            min_facing: p.declump_min_facing,
            min_part_solidity: p.declump_part_solidity,
        };
        concave::split_concave(&lab_w, n_w, &rule)
    };
    let mut flagged = overlap::share_lenses(&mut lab_w, &mask1, &lens);
    // Neighbours of different brightness stacked on each other: the lens
    // is dimmer than 1.6 x the local level but still the SUM of the two.
    flagged.extend(overlap::flag_stacked_pairs(
        &lab_w,
        n_w,
        &smooth_i,
        lens_px,
        p.overlap_pair_fraction as f32,
    ));
    // A lens that stayed inside one piece (the partner's crescent too small
    // to stand alone, or the cut ran along the lens).
    flagged.extend(overlap::flag_inner_lenses(
        &lab_w,
        n_w,
        &smooth_i,
        p.overlap_brightness as f32,
        lens_px,
        (1.0 / pw) as f32,
    ));
    // Full resolution: each label's outline at its own half maximum.
    let smooth = gaussian_filter(&dapi.data, p.smoothing_um / px);
    let bg = resample::upsample_bilinear(&bg_w, f, h, w);
    let mut contrast = smooth.clone();
    contrast.zip_mut_with(&bg, |a, b| *a -= *b);
    let mut per: Vec<Vec<f32>> = vec![Vec::new(); n_w as usize + 1];
    for (&l, &c) in lab_w.iter().zip(contrast_w.iter()) {
        if l != 0 {
            per[l as usize].push(c);
        }
    }
    let level: Vec<f32> = per
        .iter()
        .map(|v| (threshold::median(v).unwrap_or(0.0) * p.edge_level as f32).max(f32::MIN_POSITIVE))
        .collect();
    let up = resample::upsample_labels(&lab_w, f, h, w);
    let grow_px = ((1.0 / px).ceil() as usize).max(2);
    let mut labels = refine::refine_labels(&up, &contrast, &level, grow_px);
    // Drop specks (half the debris floor) before numbering.
    let areas = morphology::label_areas(&labels, n_w);
    let min_area = std::f64::consts::PI * (0.25 * p.min_diameter_um / px).powi(2);
    labels.mapv_inplace(|l| {
        if (areas[l as usize] as f64) < min_area {
            0
        } else {
            l
        }
    });
    // Sequential ids, keeping the overlap flags (labels are at most n_w).
    let mut map = vec![0u32; n_w as usize + 1];
    let mut n = 0u32;
    for v in labels.iter_mut() {
        if *v == 0 {
            continue;
        }
        let m = &mut map[*v as usize];
        if *m == 0 {
            n += 1;
            *m = n;
        }
        *v = *m;
    }
    let flagged_new: std::collections::HashSet<u32> = flagged
        .iter()
        .filter_map(|&o| map.get(o as usize).copied().filter(|&m| m != 0))
        .collect();
    let props = measure::regionprops(&labels, n, &contrast, &smooth);
    let sqrt_2pi = (2.0 * std::f64::consts::PI).sqrt();
    let nuclei = props
        .into_iter()
        .map(|r| {
            let blur_px = if r.edge_gradient > 0.0 {
                r.median_contrast / (sqrt_2pi * r.edge_gradient)
            } else {
                f64::NAN
            };
            let edge_blur_um = blur_px * px;
            Nucleus {
                id: r.label,
                x: r.x,
                y: r.y,
                area_um2: r.area_px as f64 * px * px,
                perimeter_um: r.perimeter_px * px,
                solidity: r.solidity,
                eccentricity: r.eccentricity,
                mean_dapi: r.mean_contrast,
                integrated_dapi: r.integrated_contrast,
                edge_blur_um,
                focus_score: if edge_blur_um > 0.0 {
                    1.0 / edge_blur_um
                } else {
                    0.0
                },
                touches_border: r.touches_border,
                overlap_evidence: flagged_new.contains(&r.label),
                scorable: false,
                reason: None,
                bbox: r.bbox,
            }
        })
        .collect();
    Segmentation {
        labels,
        nuclei,
        threshold: t1,
        binning: f,
    }
}

#[cfg(test)]
mod tests;
