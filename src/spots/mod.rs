//! Probe signals: detect MDM2 (target) and CEP12 (control) spots, count split
//! signals once, estimate clusters, exclude autofluorescent granules and
//! assign signals to nuclei. See docs/signals.md for the method and its
//! measured accuracy.
//!
//! Per channel: difference of Gaussians at the PSF scale -> local robust
//! noise -> maxima above `detection_threshold_sd` noise SDs -> objects
//! (maxima connected through the signal mask) -> ring background,
//! integrated intensity, sub-pixel position, width. Per field: granules
//! (broad, in both channels) -> single-copy reference intensity ->
//! clusters and copies -> split merging -> nuclei.

pub mod assign;
pub mod bleed;
pub mod clusters;
pub mod crosstalk;
pub mod detect;
pub mod fdr;
pub mod granules;
pub mod objects;
pub mod reference;
pub mod register;
pub mod spikes;
pub mod splits;

use crate::filters::gaussian_filter;
use crate::plane::{Channel, Field, Plane};
use ndarray::Array2;
use objects::{ObjectParams, SpotObject};
use serde::Serialize;

/// Parameters of signal detection. Lengths in micrometres; thresholds in
/// units of the image's own noise, so no per-slide tuning is needed.
#[derive(Debug, Clone, Serialize)]
pub struct SpotParams {
    /// Full width at half maximum of the probe PSF in um: the starting
    /// scale; refined from the image's own isolated signals when
    /// `estimate_psf` is on (0.35 um: typical of 60-100x oil objectives for
    /// orange/green fluorophores).
    pub psf_fwhm_um: f64,
    /// Measure the PSF width from the image's isolated signals.
    pub estimate_psf: bool,
    /// Detection threshold: DoG response in local robust noise SDs. 4.5
    /// keeps false maxima under about 1 per 100 nuclei in background-only
    /// channels (docs/signals.md).
    pub detection_threshold_sd: f64,
    /// Edge rejection: largest ratio of the principal curvatures of the
    /// DoG at a maximum (Lowe 2004 uses 10); nucleus outlines in the
    /// probe channels (bleed-through, nuclear background) give elongated
    /// responses that are not signals.
    pub edge_ratio: f64,
    /// Significance of an object: its PSF-weighted mean over the noise of
    /// that mean (from the SD of its own background ring), in SDs.
    pub object_threshold_sd: f64,
    /// Region threshold (band-pass in local noise SDs) that groups
    /// maxima into one object and bounds clusters.
    pub region_threshold_sd: f64,
    /// Two signals of one colour closer than this (centre to centre) with
    /// comparable brightness count as one split signal (about one signal
    /// diameter; domain brief).
    pub split_distance_um: f64,
    /// Brightness ratio (brighter / dimmer) under which two close signals
    /// are "comparable" and merge as a split signal.
    pub split_max_brightness_ratio: f64,
    /// An object becomes a cluster when it holds at least this many
    /// single-copy intensities and is multi-peaked or wider than a PSF.
    pub cluster_min_copies: f64,
    /// Plausibility of a copy's brightness, in robust SDs of the image's own
    /// single-copy log-brightness (and, for the lower bound, of the dot's
    /// own flux error). Upper: a compact (single-peaked, PSF-wide) object
    /// is a cluster of unresolved copies when it is brighter than TWO
    /// copies can plausibly be: two
    /// signals closer than the split distance count once, so an object
    /// that may be a single or an unresolved pair is one signal. Plausible
    /// is this many robust SDs of the image's own single-copy
    /// log-brightness: above `2 exp(z sd / sqrt 2)` (a sum of two copies
    /// has about 1/sqrt 2 of their log-spread), and never under
    /// `exp(z sd)` or `cluster_min_copies`. Lower: a lone single dot
    /// under `exp(-z sd)` references by more than z of its own flux SDs is
    /// not a copy (kind `faint`).
    pub compact_cluster_z: f64,
    /// Subtract the DAPI bleed-through (estimated per image) from the probe
    /// channels before detection.
    pub correct_crosstalk: bool,
    /// Take the ring background's bias, measured on empty apertures in the
    /// nuclei, out of every object's photometry (objects.rs,
    /// `background_bias`).
    pub correct_background_bias: bool,
    /// Objects used for the single-copy reference have no other object of
    /// their channel within this distance (um): a cluster's radius (up to
    /// 1.5 um, see max_cluster_radius_um) plus its PSF halo.
    pub reference_isolation_um: f64,
    /// Largest cluster radius in um (sets the background window).
    pub max_cluster_radius_um: f64,
    /// Default cluster estimator.
    pub cluster_estimator: ClusterEstimator,
    /// A nucleus whose target estimate exceeds this is flagged "too
    /// numerous to count" (clinical reports write ">20").
    pub tntc_copies: u32,
    /// Signals within this distance outside a nucleus mask still belong to it.
    pub rim_tolerance_um: f64,
    /// Field-wise false discovery share: per channel, the detection
    /// threshold rises from `object_threshold_sd` until the noise maxima
    /// expected inside the nuclei (random-field theory) are at most this
    /// share of the signals found there (docs/signals.md).
    pub fdr_q: f64,
    /// Granules: centres closer than this in both channels...
    pub granule_coloc_um: f64,
    /// ...and both wider than this many PSF sigmas.
    pub granule_width_factor: f64,
}

impl Default for SpotParams {
    fn default() -> Self {
        SpotParams {
            psf_fwhm_um: 0.35,
            estimate_psf: true,
            detection_threshold_sd: 4.5,
            object_threshold_sd: 4.5,
            edge_ratio: 10.0,
            region_threshold_sd: 2.5,
            split_distance_um: 1.0,
            split_max_brightness_ratio: 3.0,
            cluster_min_copies: 2.5,
            compact_cluster_z: 3.5,
            correct_crosstalk: true,
            correct_background_bias: true,
            reference_isolation_um: 2.0,
            max_cluster_radius_um: 1.5,
            cluster_estimator: ClusterEstimator::Intensity,
            tntc_copies: 20,
            rim_tolerance_um: 0.3,
            granule_coloc_um: 0.5,
            granule_width_factor: 1.6,
            fdr_q: 0.05,
        }
    }
}

/// How cluster copy numbers are estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClusterEstimator {
    /// Integrated intensity / single-copy intensity.
    Intensity,
    /// Reference spots fitted into the cluster.
    Mixture,
}

/// What a signal row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// One dot, one copy.
    Single,
    /// Two dots closer than the split distance: one copy.
    SplitMerged,
    /// A cluster of many copies (estimated).
    Cluster,
    /// An autofluorescent granule (in both channels): not a signal, 0 copies.
    Granule,
    /// Far dimmer than one copy can plausibly be (a noise or texture
    /// maximum in a channel whose copies are bright): not a signal, 0
    /// copies.
    Faint,
}

impl SignalKind {
    /// Name in spots.csv.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Single => "single",
            SignalKind::SplitMerged => "split_merged",
            SignalKind::Cluster => "cluster",
            SignalKind::Granule => "granule",
            SignalKind::Faint => "faint",
        }
    }
}

/// One reported signal.
#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    /// Probe channel.
    pub channel: Channel,
    /// Position in px (origin at the centre of the top-left pixel).
    pub x: f64,
    /// Position in px.
    pub y: f64,
    /// Nucleus label (0 = outside every nucleus).
    pub nucleus: u32,
    /// Background-corrected integrated intensity.
    pub intensity: f64,
    /// Copies counted (0 for granules).
    pub copies: u32,
    /// Intensity / single-copy reference.
    pub copies_intensity: f64,
    /// Copies by reference-spot fitting (clusters only).
    pub copies_mixture: Option<u32>,
    /// Single, split_merged, cluster or granule.
    pub kind: SignalKind,
    /// Dots merged into this row (2 for a split pair).
    pub dots: u32,
    /// Peak height over local background noise SD.
    pub snr: f64,
    /// Second-moment width in um.
    pub width_um: f64,
}

/// Per-channel quality figures.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelQc {
    /// Channel.
    pub channel: Channel,
    /// PSF sigma used, in um (estimated or given).
    pub psf_sigma_um: f64,
    /// Whether the PSF width could be measured on the image (on the
    /// control's bright dots, see `psf_measured_um`).
    pub psf_estimated: bool,
    /// The PSF sigma measured on the image (um), used when it differs
    /// from the nominal by 10 % or more (then `psf_sigma_um`), else the
    /// nominal is kept; `None` when not measurable.
    pub psf_measured_um: Option<f64>,
    /// DAPI bleed-through coefficient subtracted from this channel.
    pub dapi_crosstalk: f64,
    /// Integrated intensity of one copy.
    pub reference_intensity: Option<f64>,
    /// Where the reference came from: "image", "other_channel", "none".
    pub reference_source: String,
    /// Isolated single-copy objects the reference rests on.
    pub reference_dots: Option<usize>,
    /// Relative standard error of the reference (the trimmed mean of the
    /// ln-fluxes of `reference_dots` dots, reference.rs): common to every
    /// cluster copy number of the channel, so the bootstrap over nuclei
    /// cannot see it; the ratio's interval adds it (scoring).
    pub reference_rel_se: Option<f64>,
    /// Median SNR of single signals.
    pub median_snr: Option<f64>,
    /// Signals detected (rows, granules excluded).
    pub signals: usize,
    /// Share of single signals whose SNR is under 4 (faint probe warning).
    pub faint_share: Option<f64>,
    /// Clusters holding clipped pixels of the raw probe image: their copy
    /// numbers are lower bounds.
    pub clipped_clusters: usize,
    /// Detection threshold used in the nuclei (SDs of the matched-filter
    /// response over the nuclei): raised above the base by the false
    /// discovery control where the channel holds few signals, else the
    /// floor down to which fainter candidates were kept (at most the
    /// base); `None` when it held nothing but noise (no candidate kept).
    pub threshold_sd: Option<f64>,
    /// Noise maxima expected inside nuclei above that threshold (0 when
    /// nothing was kept).
    pub expected_false_in_nuclei: f64,
    /// Candidates inside nuclei the false discovery control rejected.
    pub noise_rejected: usize,
    /// Noise maxima expected inside nuclei above the base threshold.
    pub expected_false_at_base: f64,
    /// Single dots rejected as far dimmer than one copy (kind `faint`).
    pub faint_rejected: usize,
    /// Single-pixel spikes (hot pixels, cosmic rays: brighter than their
    /// neighbours allow any optical spot to be) replaced before detection.
    pub spikes_repaired: usize,
    /// Detected objects removed as spikes that the repair's stricter
    /// all-pixel test let through (spikes.rs).
    pub spike_objects_rejected: usize,
    /// Share of the OTHER probe's light seen in this channel's image
    /// (spectral bleed-through, bleed.rs), measured at the other probe's
    /// bright isolated dots; `None` when fewer than 20 such dots.
    pub probe_bleed: Option<f64>,
    /// Standard error of `probe_bleed`.
    pub probe_bleed_se: Option<f64>,
    /// Whether that share was subtracted before detection (when it is
    /// over 4 standard errors).
    pub probe_bleed_unmixed: bool,
    /// Shift of this channel's image against DAPI found on the DAPI
    /// bleed-through it carries (um, `[dx, dy]`: its content at
    /// `(x + dx, y + dy)` belongs at `(x, y)` of DAPI); `None` when it
    /// carries too little chromatin texture to tell (register.rs).
    pub registration_shift_um: Option<[f64; 2]>,
    /// The whole-pixel shift applied before anything else (`[0, 0]` when
    /// the image was clearly in place or the shift not measurable).
    pub registration_applied_px: [i64; 2],
    /// Bias of the ring-median background per aperture pixel (ADU),
    /// measured on empty apertures in the nuclei and taken out of every
    /// object's photometry (objects.rs, `background_bias`); `None` when
    /// not measured (too few empty apertures, or switched off).
    pub background_bias: Option<f64>,
    /// Standard error of `background_bias`.
    pub background_bias_se: Option<f64>,
    /// `background_bias` in SDs of the pixel noise around the apertures.
    pub background_bias_sd: Option<f64>,
    /// Empty apertures it was measured on.
    pub empty_apertures: usize,
    /// The image's single-copy brightness spread (robust SD of ln flux,
    /// photometric noise taken out; reference.rs): it sets the mean-copy
    /// unit of cluster copies and the two bounds below.
    pub reference_log_sd: Option<f64>,
    /// Copies (median single-copy fluxes) above which a compact,
    /// single-peaked object is a cluster: brighter than an unresolved pair
    /// of copies can plausibly be (`compact_cluster_z`).
    pub compact_cluster_min_copies: Option<f64>,
}

/// Everything found in one field's probe channels.
#[derive(Debug, Clone, Serialize)]
pub struct FieldSignals {
    /// Signals of both channels (granules included with kind granule).
    pub signals: Vec<Signal>,
    /// Granules excluded (pairs and objects, including the bleed-through
    /// objects below).
    pub granules_excluded: usize,
    /// Objects on clipped DAPI excluded as DAPI bleed-through (reported
    /// with kind granule: not a signal, present in both probe images).
    pub dapi_bleed_excluded: usize,
    /// Per-channel QC.
    pub qc: Vec<ChannelQc>,
}

struct ChannelObjects {
    objects: Vec<SpotObject>,
    /// Objects removed as single-pixel spikes.
    spike_objects: usize,
    /// The detector's block threshold in SDs of the response over the
    /// field's nuclei, at every other row and column of the nuclear pixels
    /// (where a noise maximum can become a candidate: the false discovery
    /// control's local floor).
    nuclear_levels: Vec<f64>,
    /// The ring background's bias taken out of every object.
    background_bias: Option<objects::BackgroundBias>,
    sigma_px: f64,
    /// The PSF sigma measured on the image (px), used or not.
    measured_sigma_px: Option<f64>,
}

/// What the detector found in one probe image.
struct Detected {
    objects: Vec<SpotObject>,
    /// Objects removed as single-pixel spikes.
    spike_objects: usize,
    /// See [`ChannelObjects::nuclear_levels`].
    nuclear_levels: Vec<f64>,
    /// See [`ChannelObjects::background_bias`].
    background_bias: Option<objects::BackgroundBias>,
}

/// Objects of one probe image at PSF sigma `sigma_px`; `pixel_sd` is the
/// image's pixel noise ([`spikes::pixel_noise_sd`]).
fn detect_objects(
    plane: &Plane,
    labels: &Array2<u32>,
    p: &SpotParams,
    sigma_px: f64,
    pixel_sd: f32,
) -> Detected {
    let px = plane.pixel_size_um;
    let img = &plane.data;
    // Edge-preserving background (median over a window three PSF sigmas
    // wide): removes spots, keeps nucleus outlines and uneven
    // autofluorescence, which then do not reach the detector.
    let bg = crate::filters::rank::median_filter_approx(img, (3.0 * sigma_px).ceil() as usize);
    let mut flat = img.clone();
    flat.zip_mut_with(&bg, |a, b| *a -= *b);
    drop(bg);
    // Matched filter: the PSF-shaped Gaussian on the background-free image
    // (the detector of maximal signal-to-noise for a known spot shape in
    // white noise; a difference of Gaussians loses about a fifth of it).
    let dog = gaussian_filter(&flat, sigma_px);
    drop(flat);
    let block = ((8.0 / px).round() as usize).max(32);
    let thr = detect::local_threshold(&dog, block, p.detection_threshold_sd);
    // Maxima closer than two PSF sigmas are one signal: noise makes
    // secondary maxima on a spot's flank, and anything closer than the
    // split distance counts once anyway. Maxima on edges are rejected.
    let maxima: Vec<(usize, usize)> =
        detect::peak_local_max(&dog, &thr, (2.0 * sigma_px).round().max(1.0) as usize)
            .into_iter()
            .filter(|&(x, y)| detect::is_blob(&dog, x, y, p.edge_ratio))
            .collect();
    // The response at each maximum in SDs of the response over the
    // field's nuclei (median, and the SD from the lower half: where dots
    // are a sizeable share of the nuclear pixels, at coarse pixels or in
    // amplified nuclei, they widen the upper half and a MAD with it), the
    // unit of the false discovery control (fdr.rs): inside nuclei the
    // noise is not that of the 8 um blocks, which mix nucleus and
    // background.
    let (nuc_med, nuc_sd) = {
        // Every other row and column: a few hundred thousand samples fix
        // a median and a quantile to well under a per cent.
        let mut v: Vec<f32> = dog
            .slice(ndarray::s![..;2, ..;2])
            .iter()
            .zip(labels.slice(ndarray::s![..;2, ..;2]).iter())
            .filter(|&(_, &l)| l > 0)
            .map(|(&d, _)| d)
            .collect();
        detect::median_and_lower_sd(&mut v)
    };
    let nuclear_levels: Vec<f64> = thr
        .slice(ndarray::s![..;2, ..;2])
        .iter()
        .zip(labels.slice(ndarray::s![..;2, ..;2]).iter())
        .filter(|&(_, &l)| l > 0)
        .map(|(&t, _)| {
            if nuc_sd > 0.0 {
                ((t - nuc_med) / nuc_sd) as f64
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let responses: Vec<f64> = maxima
        .iter()
        .map(|&(x, y)| {
            if nuc_sd > 0.0 {
                ((dog[[y, x]] - nuc_med) / nuc_sd) as f64
            } else {
                f64::INFINITY
            }
        })
        .collect();
    // Each intermediate is freed when done with: a whole-slide scan holds
    // one tile per thread, and its peak is this function's.
    drop((dog, thr));
    let smooth = gaussian_filter(img, sigma_px);
    // Objects grow on a band-pass from the PSF scale to the cluster scale:
    // clusters (up to `max_cluster_radius_um`) stay whole, while anything
    // nucleus-sized (bleed-through, nuclear background, autofluorescent
    // tissue) is removed, so a spot on a bright structure stays a spot.
    let sigma_c = (0.5 * p.max_cluster_radius_um / px).max(2.0 * sigma_px);
    let coarse = gaussian_filter(img, sigma_c);
    let mut band = smooth;
    band.zip_mut_with(&coarse, |a, b| *a -= *b);
    drop(coarse);
    let floor = detect::local_threshold(&band, block, p.region_threshold_sd);
    let op = ObjectParams {
        sigma: sigma_px,
        // The aperture reaches 1.5 PSF sigmas past the signal region,
        // rounded to whole pixels (not up: at 0.3 um pixels rounding up
        // made a faint dot's aperture 41 px against the ~20 px that hold
        // its light, and the ring background's error times that area
        // turned faint dots' flux negative).
        aperture_margin: (1.5 * sigma_px).round().max(1.0) as usize,
        // Gap and ring in PSF sigmas, with 2-3 px floors where the PSF
        // spans several pixels; where it spans less than one (coarse
        // pixels) the floors would put the ring microns away, on nuclear
        // texture that inflates its noise.
        ring_gap: sigma_px.ceil().clamp(1.0, 2.0) as usize,
        ring_width: (2.0 * sigma_px)
            .ceil()
            .max(if sigma_px < 1.0 { 2.0 } else { 3.0 }) as usize,
        peak_fraction: 0.2,
        max_region_px: (std::f64::consts::PI * (2.0 * p.max_cluster_radius_um / px).powi(2))
            as usize,
        empty_apertures: p.correct_background_bias,
    };
    let (mut objs, background_bias) =
        objects::build_objects(img, &band, &floor, &maxima, labels, &op);
    // Maxima are in raster order: each object finds its seed's response.
    for o in objs.iter_mut() {
        if let Ok(i) = maxima.binary_search_by(|&(x, y)| (y, x).cmp(&(o.seed.1, o.seed.0))) {
            o.response_z = responses[i];
        }
    }
    // Object-level significance: the PSF-weighted mean over its own noise
    // (ring SD x sqrt(sum w^2) / sum w = SD / (2 sqrt(pi) sigma)) must pass
    // the detection threshold. This rejects maxima of texture that the
    // block-wise noise map under-estimated (e.g. at nucleus edges).
    let gain = 2.0 * std::f64::consts::PI.sqrt() * sigma_px;
    objs.retain(|o| o.flux > 0.0 && o.smoothed_peak * gain >= p.object_threshold_sd * o.noise);
    // Spikes the all-pixel repair let through (spikes.rs): a detected
    // single-maximum object whose brightest pixel holds more light than
    // its neighbours allow any optical spot to, at the looser level that
    // testing a few thousand objects (not millions of pixels) affords.
    let spike_objects = spikes::remove_spike_objects(&mut objs, img, px, pixel_sd);
    Detected {
        spike_objects,
        objects: objs,
        nuclear_levels,
        background_bias,
    }
}

/// What the false discovery control did in one channel (QC).
#[derive(Debug, Clone, Copy)]
struct FdrOutcome {
    /// Threshold used (SDs of the response over nuclei); `None` when no
    /// level qualified.
    threshold: Option<f64>,
    /// Noise maxima expected inside nuclei above it.
    expected_false: f64,
    /// Candidates inside nuclei rejected.
    rejected: usize,
    /// Noise maxima expected inside nuclei above the base threshold.
    expected_at_base: f64,
}

/// Applies the field-wise false discovery control (fdr.rs) to one
/// channel's objects: the candidates are the non-granule objects whose
/// centre lies in a nucleus, their significance the seed's response in SDs
/// over the nuclei; when the threshold rises above the base, objects under
/// it are removed (granules stay: they are reported as such). Otherwise
/// candidates in nuclei under the base are kept down to the local floor
/// (`fdr::local_floor`) and removed under it: the detector's block
/// thresholds mix nuclear and background pixels, and where the nuclei are
/// the noisier part they let in maxima under the base in the nuclei's
/// own SDs.
fn control_false_discoveries(
    ch: &mut ChannelObjects,
    gran: &mut Vec<bool>,
    labels: &Array2<u32>,
    nuclear_px: f64,
    p: &SpotParams,
) -> FdrOutcome {
    let base = p.object_threshold_sd;
    let in_nucleus = |o: &SpotObject| assign::assign_to_nucleus(labels, o.x, o.y, 0.0) > 0;
    let inside: Vec<f64> = ch
        .objects
        .iter()
        .zip(gran.iter())
        .filter(|&(o, &g)| !g && in_nucleus(o))
        .map(|(o, _)| o.response_z)
        .collect();
    let raised = fdr::fdr_threshold(&inside, nuclear_px, ch.sigma_px, base, p.fdr_q);
    let u = if raised > base {
        raised
    } else {
        fdr::local_floor(&inside, &ch.nuclear_levels, nuclear_px, ch.sigma_px, base)
    };
    let rejected = inside.iter().filter(|&&z| z < u).count();
    // A raised threshold removes every object under it, in nuclei or not
    // (a channel of noise keeps nothing); a floor at or under the base
    // concerns the nuclei, where its candidates were counted.
    let keep: Vec<bool> = ch
        .objects
        .iter()
        .zip(gran.iter())
        .map(|(o, &g)| g || o.response_z >= u || (u <= base && !in_nucleus(o)))
        .collect();
    let mut it = keep.iter();
    ch.objects
        .retain(|_| *it.next().expect("one flag per object"));
    let mut it = keep.iter();
    gran.retain(|_| *it.next().expect("one flag per object"));
    FdrOutcome {
        threshold: u.is_finite().then_some(u),
        expected_false: if u.is_finite() {
            fdr::expected_noise_maxima(nuclear_px, ch.sigma_px, u)
        } else {
            0.0
        },
        rejected,
        expected_at_base: fdr::expected_noise_maxima(nuclear_px, ch.sigma_px, base),
    }
}

/// Significance (SDs) above which a dot's width measures the PSF well.
const PSF_CLEAR_Z: f64 = 16.0;

/// PSF sigma (px) measured on a channel's own signals: the mode of the
/// widths of its bright single-maximum objects, leaving out objects that
/// have a partner in the other probe channel within `coloc` px
/// (autofluorescent granules: broad, bright and, in granular tissue,
/// numerous enough to make the width histogram's mode); `None` when there
/// are too few bright single signals.
fn measure_psf(
    objects: &[SpotObject],
    other: &[SpotObject],
    coloc: f64,
    nominal: f64,
    min_significance: f64,
) -> Option<f64> {
    let c2 = coloc * coloc;
    let (lo, hi) = (0.5 * nominal, 3.0 * nominal);
    // Significance as in detection: the PSF-weighted mean over its noise.
    let gain = 2.0 * std::f64::consts::PI.sqrt() * nominal;
    let mut dots: Vec<(f64, f64)> = Vec::new();
    for o in objects {
        if !(o.n_maxima == 1 && o.noise > 0.0 && o.flux > 0.0 && o.width_px > 0.0) {
            continue;
        }
        let z = o.smoothed_peak * gain / o.noise;
        if z < min_significance || o.width_px <= lo || o.width_px >= hi {
            continue;
        }
        if other
            .iter()
            .any(|q| (q.x - o.x).powi(2) + (q.y - o.y).powi(2) <= c2)
        {
            continue;
        }
        dots.push((z, o.width_px));
    }
    // Bright dots' widths are precise to a few per cent; a faint dot's
    // width scatters (and noise biases it). Dots at >= `PSF_CLEAR_Z` SDs
    // (a smoothed peak of 3 ring SDs at the benchmark's PSF, the rule
    // before 2026-12-03) when there are at least 50, else the 50 most
    // significant above `min_significance`. (With the fixed rule alone an
    // independent simulator's amplified case at SNR 5 had 11 such control
    // dots, fell back on the target's clusters and was miscalled.)
    dots.sort_by(|a, b| b.0.total_cmp(&a.0));
    let clear = dots.iter().filter(|d| d.0 >= PSF_CLEAR_Z).count();
    let keep = clear.max(50).min(dots.len());
    let widths: Vec<f64> = dots[..keep].iter().map(|d| d.1).collect();
    width_mode(&widths, nominal)
}

/// Mode of PSF widths (px, within 0.5-3x `nominal`). Clusters and granules
/// are wider than the PSF and noise makes faint spots scatter, so the mode
/// is found in two steps: the peak of a log-width histogram over 0.5-3x the
/// nominal sigma (objectives and probes differ: the nominal is a starting
/// point, not a prior), then a median restricted to a window around the
/// current estimate, iterated (mean-shift), starting from the nominal when
/// its window holds as many widths as the histogram peak's.
fn width_mode(widths: &[f64], nominal: f64) -> Option<f64> {
    let (lo, hi) = (0.5 * nominal, 3.0 * nominal);
    if widths.len() < 20 {
        return None;
    }
    // Log-width histogram, bins of 5 %, smoothed over +-2 bins.
    let bin = 0.05f64;
    let nb = ((hi / lo).ln() / bin).ceil() as usize + 1;
    let mut hist = vec![0.0f64; nb];
    for &w in widths {
        hist[(((w / lo).ln() / bin) as usize).min(nb - 1)] += 1.0;
    }
    let kernel = [1.0, 2.0, 3.0, 2.0, 1.0];
    let smooth: Vec<f64> = (0..nb)
        .map(|i| {
            (0..5)
                .filter_map(|k| (i + k).checked_sub(2).filter(|&j| j < nb))
                .map(|j| kernel[j + 2 - i] * hist[j])
                .sum()
        })
        .collect();
    let peak = (0..nb).fold(0, |b, i| if smooth[i] > smooth[b] { i } else { b });
    let mode = lo * ((peak as f64 + 0.5) * bin).exp();
    // Start from the nominal when it is as good a peak (the usual case),
    // else from the histogram's mode.
    let near = |s: f64| {
        widths
            .iter()
            .filter(|&&w| w > 0.6 * s && w < 1.5 * s)
            .count()
    };
    let mut sigma = if near(nominal) >= near(mode) {
        nominal
    } else {
        mode
    };
    for _ in 0..5 {
        let mut win: Vec<f64> = widths
            .iter()
            .copied()
            .filter(|&w| w > 0.6 * sigma && w < 1.5 * sigma)
            .collect();
        if win.len() < 20 {
            return None;
        }
        win.sort_by(|a, b| a.total_cmp(b));
        sigma = win[win.len() / 2].clamp(lo, hi);
    }
    Some(sigma)
}

/// Objects of both probe channels at the measured PSF scale. The PSF is
/// measured on the control (centromere) probe, whose signals are discrete
/// dots in every kind of case; the target probe's signals are mostly
/// clusters in amplified tumours, which widen the estimate. When the
/// control has too few clear dots the nominal PSF is used (and reported
/// as not estimated): the target is not a safe fallback. On an
/// independent simulator's amplified case at SNR 5 it gave 1.9x the true
/// width, every cluster read as one wide "single" and the case was called
/// NOT_AMPLIFIED at a ratio of 0.80 (bench/altsim).
fn probe_objects(
    target: &Plane,
    control: &Plane,
    labels: &Array2<u32>,
    p: &SpotParams,
    pixel_sd: [f32; 2],
) -> (ChannelObjects, ChannelObjects) {
    let px = target.pixel_size_um;
    let nominal = p.psf_fwhm_um / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt()) / px;
    let detect = |sigma: f64| {
        rayon::join(
            || detect_objects(target, labels, p, sigma, pixel_sd[0]),
            || detect_objects(control, labels, p, sigma, pixel_sd[1]),
        )
    };
    let wrap = |(t, c): (Detected, Detected), sigma_px: f64, measured: Option<f64>| {
        let one = |d: Detected| ChannelObjects {
            objects: d.objects,
            spike_objects: d.spike_objects,
            nuclear_levels: d.nuclear_levels,
            background_bias: d.background_bias,
            sigma_px,
            measured_sigma_px: measured,
        };
        (one(t), one(c))
    };
    if !p.estimate_psf {
        return wrap(detect(nominal), nominal, None);
    }
    let first = detect(nominal);
    let coloc = p.granule_coloc_um / px;
    let measured = measure_psf(
        &first.1.objects,
        &first.0.objects,
        coloc,
        nominal,
        2.0 * p.object_threshold_sd,
    );
    let sigma = measured.unwrap_or(nominal);
    if (sigma / nominal - 1.0).abs() < 0.1 {
        return wrap(first, nominal, measured);
    }
    wrap(detect(sigma), sigma, measured)
}

/// One probe image made ready for detection, and what was done to it.
struct PreparedProbe<'a> {
    /// The raw image, moved onto DAPI when it was off (clipped clusters
    /// are looked up in it).
    raw: std::borrow::Cow<'a, Array2<f32>>,
    /// The registration to DAPI (register.rs); `None` when not measurable.
    shift: Option<register::Shift>,
    /// DAPI crosstalk coefficient subtracted.
    beta: f64,
    /// Pixel noise ([`spikes::pixel_noise_sd`]), for the repair and the
    /// detector's object-level spike test.
    pixel_sd: f32,
    /// Single-pixel spikes replaced.
    spikes: usize,
}

/// Prepares one probe image (`probe`, with the `dapi` plane and its
/// band-pass `bd` at PSF sigma `sigma` px): registered to DAPI on the chromatin texture
/// its DAPI bleed-through carries and moved by whole pixels where clearly
/// off (register.rs), that bleed-through measured and subtracted
/// (crosstalk.rs), then single-pixel spikes (hot pixels, cosmic rays)
/// replaced: they are not optical, yet the matched filter would find them
/// (spikes.rs). Returns the corrected plane beside the record.
fn prepare_probe<'a>(
    probe: &'a Array2<f32>,
    dapi: &Plane,
    bd: &Array2<f32>,
    labels: &Array2<u32>,
    p: &SpotParams,
    sigma: f64,
) -> (PreparedProbe<'a>, Plane) {
    let px = dapi.pixel_size_um;
    let max_shift = (register::MAX_SHIFT_UM / px).ceil() as usize;
    let (raw, bp, shift) = register::align_to_dapi(probe, bd, labels, max_shift, sigma);
    let beta = if p.correct_crosstalk {
        crosstalk::crosstalk_on_bands(&bp, bd, labels)
    } else {
        0.0
    };
    drop(bp);
    let mut plane = Plane::new(crosstalk::subtract(&raw, &dapi.data, beta), px);
    let pixel_sd = spikes::pixel_noise_sd(&plane.data);
    let spikes = spikes::repair_spikes(&mut plane.data, px, pixel_sd);
    (
        PreparedProbe {
            raw,
            shift,
            beta,
            pixel_sd,
            spikes,
        },
        plane,
    )
}

/// Detects, classifies and assigns the probe signals of one field.
/// `labels` is the nucleus label image of the field (0 = background).
pub fn detect_signals(field: &Field, labels: &Array2<u32>, p: &SpotParams) -> FieldSignals {
    let px = field.pixel_size_um();
    let sigma0 = p.psf_fwhm_um / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt()) / px;
    // The DAPI band-pass once, for both probe channels, each prepared on
    // its own side by side (`prepare_probe`); DAPI is not needed after.
    let bd = crosstalk::band_pass(&field.dapi.data, sigma0);
    let prepare = |probe| prepare_probe(probe, &field.dapi, &bd, labels, p, sigma0);
    let ((prep_t, mut target), (prep_c, mut control)) = rayon::join(
        || prepare(&field.target.data),
        || prepare(&field.control.data),
    );
    drop(bd);
    let (sd_t, sd_c) = (prep_t.pixel_sd, prep_c.pixel_sd);
    let (mut t, mut c) = probe_objects(&target, &control, labels, p, [sd_t, sd_c]);
    // Spectral bleed-through between the probes (bleed.rs): each probe's
    // share in the other's image, measured at its bright isolated dots;
    // where clearly above 0 both images are unmixed and detected again.
    let (bleed_t, bleed_c) = (
        bleed::estimate(&c.objects, &t.objects, &target.data, c.sigma_px, px),
        bleed::estimate(&t.objects, &c.objects, &control.data, t.sigma_px, px),
    );
    let unmixed = |b: Option<bleed::Bleed>| b.filter(|b| b.significant()).map(|b| b.coefficient);
    let (a, b) = (unmixed(bleed_t), unmixed(bleed_c));
    // Both images are detected again even where only one changed: the
    // PSF is measured on the control's dots less those with a partner in
    // the target image (granules), and before the unmixing every control
    // dot had one there, its bleed copy (an independent simulator's case
    // kept the nominal PSF, 0.149 um against 0.130 measured after it).
    if a.is_some() || b.is_some() {
        let (tu, cu) = bleed::unmix(
            &target.data,
            &control.data,
            a.unwrap_or(0.0),
            b.unwrap_or(0.0),
        );
        target = Plane::new(tu, px);
        control = Plane::new(cu, px);
        let (sd_t, sd_c) = rayon::join(
            || spikes::pixel_noise_sd(&target.data),
            || spikes::pixel_noise_sd(&control.data),
        );
        (t, c) = probe_objects(&target, &control, labels, p, [sd_t, sd_c]);
    }
    let sigma_g = 0.5 * (t.sigma_px + c.sigma_px);
    let granule_pairs = granules::find_granules(
        &t.objects,
        &c.objects,
        sigma_g,
        (p.granule_coloc_um / px).max(2.0),
        p.granule_width_factor,
    );
    let mut t_gran = vec![false; t.objects.len()];
    let mut c_gran = vec![false; c.objects.len()];
    for &(i, j) in &granule_pairs {
        t_gran[i] = true;
        c_gran[j] = true;
    }
    // DAPI bleed-through where the DAPI image is clipped: the crosstalk
    // subtracted there is that of the clipped value, so the chromatin
    // texture above the clip stays in BOTH probe images. An object on
    // clipped DAPI whose profile shows up in the other probe image with at
    // least half the strength that bleed-through would give it there (the
    // ratio of the two crosstalk coefficients; a signal of one probe gives
    // about 0) is that texture, not a signal. Excluded like a granule and
    // counted apart.
    let mut bleed_excluded = 0usize;
    if let Some(clip) = granules::clipped_mask(&field.dapi.data) {
        let clip = clip.as_slice().expect("fresh array");
        for (objs, gran, other, sigma, ratio) in [
            (
                &t.objects,
                &mut t_gran,
                &control.data,
                t.sigma_px,
                prep_c.beta / prep_t.beta,
            ),
            (
                &c.objects,
                &mut c_gran,
                &target.data,
                c.sigma_px,
                prep_t.beta / prep_c.beta,
            ),
        ] {
            if !(ratio.is_finite() && ratio > 0.0) {
                continue;
            }
            for (i, o) in objs.iter().enumerate() {
                if gran[i] || !o.aperture.iter().any(|&(k, _)| clip[k as usize]) {
                    continue;
                }
                if granules::share_in_other_channel(other, o, sigma)
                    .is_some_and(|a| a >= 0.5 * ratio)
                {
                    gran[i] = true;
                    bleed_excluded += 1;
                }
            }
        }
    }
    // False discovery control (fdr.rs), per channel.
    let nuclear_px = labels.iter().filter(|&&l| l > 0).count() as f64;
    let fdr_t = control_false_discoveries(&mut t, &mut t_gran, labels, nuclear_px, p);
    let fdr_c = control_false_discoveries(&mut c, &mut c_gran, labels, nuclear_px, p);
    let live = |objs: &[SpotObject], g: &[bool]| -> Vec<usize> {
        (0..objs.len()).filter(|&i| !g[i]).collect()
    };
    // The single-copy reference uses ISOLATED objects only: a dot beside a
    // cluster sits on the cluster's halo, which inflates its background
    // ring and shrinks its flux (and so inflates every cluster estimate).
    let iso = (p.reference_isolation_um / px).powi(2);
    let isolated = |objs: &[SpotObject], idx: Vec<usize>| -> Vec<usize> {
        idx.iter()
            .copied()
            .filter(|&i| {
                objs.iter().enumerate().all(|(j, o)| {
                    j == i || (o.x - objs[i].x).powi(2) + (o.y - objs[i].y).powi(2) > iso
                })
            })
            .collect()
    };
    let t_live = isolated(&t.objects, live(&t.objects, &t_gran));
    let c_live = isolated(&c.objects, live(&c.objects, &c_gran));
    // Each channel's single-copy figures from its own isolated dots: the
    // reference with its precision, and the brightness spread (log SD).
    let own = |objs: &[SpotObject], idx: &[usize], sigma: f64| {
        let dots: Vec<&SpotObject> = idx.iter().map(|&i| &objs[i]).collect();
        reference::single_signal_reference(&dots, sigma, 10).map(|r| {
            let spread = reference::single_signal_log_spread(&dots, sigma, r.flux, 10);
            (r, spread)
        })
    };
    let t_own = own(&t.objects, &t_live, t.sigma_px);
    let c_own = own(&c.objects, &c_live, c.sigma_px);
    // A channel with too few isolated signals (e.g. all target copies in
    // clusters) borrows the other channel's figures; the QC says so.
    let pick = |own, other| match (own, other) {
        (Some(f), _) => (Some(f), "image"),
        (None, Some(f)) => (Some(f), "other_channel"),
        (None, None) => (None, "none"),
    };
    let (t_fig, t_src) = pick(t_own, c_own);
    let (c_fig, c_src) = pick(c_own, t_own);
    let figures = |f: Option<(reference::Reference, Option<f64>)>| {
        (
            f.map(|f| f.0.flux),
            f.and_then(|f| f.0.precision),
            f.and_then(|f| f.1),
        )
    };
    let (t_ref, t_prec, t_spread) = figures(t_fig);
    let (c_ref, c_prec, c_spread) = figures(c_fig);
    // Bright broad objects whose partner the other channel's detector
    // missed (a granule much wider than the PSF gives a weak matched-filter
    // response there): photometry of the other channel decides. Only
    // objects that would otherwise count as clusters are checked, which is
    // where a granule does harm.
    let mut extra_granules = 0usize;
    let mut t_on_tissue = vec![false; t.objects.len()];
    let mut c_on_tissue = vec![false; c.objects.len()];
    // The PSF-wide signals of each probe: their light in the other image
    // is not that image's autofluorescence (granules::seen_in_other_channel).
    let dots = |ch: &ChannelObjects| -> Vec<(f64, f64)> {
        ch.objects
            .iter()
            .filter(|o| o.width_px <= p.granule_width_factor * ch.sigma_px)
            .map(|o| (o.x, o.y))
            .collect()
    };
    let (t_dots, c_dots) = (dots(&t), dots(&c));
    for (objs, gran, on_tissue, other, other_dots, sigma, reference) in [
        (
            &t.objects,
            &mut t_gran,
            &mut t_on_tissue,
            &control.data,
            &c_dots,
            t.sigma_px,
            t_ref,
        ),
        (
            &c.objects,
            &mut c_gran,
            &mut c_on_tissue,
            &target.data,
            &t_dots,
            c.sigma_px,
            c_ref,
        ),
    ] {
        let Some(r) = reference else {
            continue;
        };
        for (i, o) in objs.iter().enumerate() {
            if gran[i]
                || o.flux < p.cluster_min_copies * r
                || o.width_px <= p.granule_width_factor * sigma
            {
                continue;
            }
            match granules::seen_in_other_channel(
                other,
                o,
                other_dots,
                sigma,
                p.granule_width_factor,
                p.detection_threshold_sd,
            ) {
                granules::OtherChannel::SameObject => {
                    gran[i] = true;
                    extra_granules += 1;
                }
                granules::OtherChannel::BroadBackground => on_tissue[i] = true,
                granules::OtherChannel::Absent => {}
            }
        }
    }

    let w = target.width();
    let rim = p.rim_tolerance_um / px;
    let mut signals = Vec::new();
    let mut qc = Vec::new();
    for (channel, ch, prep, bleed_in, gran, on_tissue, (reference, prec), src, log_sd, fdr) in [
        (
            Channel::Target,
            &t,
            &prep_t,
            bleed_t,
            &t_gran,
            &t_on_tissue,
            (t_ref, t_prec),
            t_src,
            t_spread,
            fdr_t,
        ),
        (
            Channel::Control,
            &c,
            &prep_c,
            bleed_c,
            &c_gran,
            &c_on_tissue,
            (c_ref, c_prec),
            c_src,
            c_spread,
            fdr_c,
        ),
    ] {
        let (objs, sigma) = (&ch.objects, ch.sigma_px);
        // Brightest plausible single copy or unresolved pair, in copies.
        let compact_min = log_sd
            .map(|sd| {
                let z = p.compact_cluster_z;
                let pair = 2.0 * (z * sd / std::f64::consts::SQRT_2).exp();
                (z * sd).exp().max(pair).max(p.cluster_min_copies)
            })
            .unwrap_or(f64::INFINITY);
        // Cluster copies are counted in units of the MEAN single-copy flux:
        // a cluster of n copies carries n times their mean, exp(sd^2 / 2)
        // above n medians for lognormal brightness, with sd the image's own
        // single-copy log-spread (noise taken out, trimmed to 0.5-2x the
        // reference so doublets and faint false dots do not inflate it).
        // Whether an object is a cluster is still decided on the median.
        let mean_ref = reference.map(|r| r * log_sd.map_or(1.0, |sd| (0.5 * sd * sd).exp()));
        let peak_of = |o: &SpotObject| o.flux / (2.0 * std::f64::consts::PI * sigma * sigma);
        let mut rows: Vec<Signal> = objs
            .iter()
            .zip(gran.iter().zip(on_tissue.iter()))
            .map(|(o, (&g, &tissue))| {
                let ci = reference
                    .map(|r| clusters::copies_by_intensity(o.flux, r))
                    .unwrap_or(1.0);
                let ci_mean = mean_ref
                    .map(|r| clusters::copies_by_intensity(o.flux, r))
                    .unwrap_or(1.0);
                let wide = o.width_px > 1.5 * sigma + 0.5;
                let (kind, copies, mixture) = if g {
                    (SignalKind::Granule, 0, None)
                } else if tissue {
                    // On autofluorescent tissue: one copy, not a cluster
                    // of the tissue's light.
                    (SignalKind::Single, 1, None)
                } else if (ci >= p.cluster_min_copies && (o.n_maxima >= 2 || wide))
                    || ci >= compact_min
                {
                    let m = mean_ref
                        .map(|r| clusters::copies_by_mixture(&o.aperture, w, sigma, r, 400) as u32);
                    let chosen = match p.cluster_estimator {
                        ClusterEstimator::Intensity => ci_mean.round().max(2.0) as u32,
                        ClusterEstimator::Mixture => m.unwrap_or(ci_mean.round() as u32).max(2),
                    };
                    (SignalKind::Cluster, chosen, m)
                } else if o.n_maxima >= 2 {
                    (SignalKind::SplitMerged, 1, None)
                } else {
                    (SignalKind::Single, 1, None)
                };
                Signal {
                    channel,
                    x: o.x,
                    y: o.y,
                    nucleus: assign::assign_to_nucleus(labels, o.x, o.y, rim),
                    intensity: o.flux,
                    copies,
                    copies_intensity: ci_mean,
                    copies_mixture: mixture,
                    kind,
                    dots: o.n_maxima as u32,
                    snr: if o.noise > 0.0 {
                        peak_of(o) / o.noise
                    } else {
                        0.0
                    },
                    width_um: o.width_px * px,
                }
            })
            .collect();
        // Clusters with clipped pixels in the raw probe image: their flux,
        // and so their copy number, is a lower bound.
        let clipped_clusters = granules::clip_value(&prep.raw)
            .map(|top| {
                let raw = prep.raw.as_slice().expect("standard layout");
                rows.iter()
                    .zip(objs.iter())
                    .filter(|(r, o)| {
                        r.kind == SignalKind::Cluster
                            && o.aperture.iter().any(|&(k, _)| raw[k as usize] >= top)
                    })
                    .count()
            })
            .unwrap_or(0);
        // rows[i] is objs[i] until the merge.
        // Single dots far dimmer than a copy can plausibly be: under the
        // reference by `compact_cluster_z` robust SDs of the image's own
        // single-copy log-brightness AND by as many SDs of the dot's own
        // flux error (ring noise x sqrt(aperture pixels)), so that where
        // copies are faint and their fluxes noisy nothing is rejected.
        // Decided before split merging (on whole objects), applied after
        // it to what is still a lone single: a half of a split signal
        // merged with its partner is kept. The merge reorders the rows but
        // passes unmerged ones through unchanged, so they are found again
        // by their exact position.
        let faint: std::collections::HashSet<(u64, u64)> = match (reference, log_sd) {
            (Some(r), Some(sd)) => {
                let z = p.compact_cluster_z;
                objs.iter()
                    .zip(rows.iter())
                    .filter(|(o, row)| {
                        row.kind == SignalKind::Single
                            && o.flux < r * (-z * sd).exp() - z * o.flux_sd()
                    })
                    .map(|(o, _)| (o.x.to_bits(), o.y.to_bits()))
                    .collect()
            }
            _ => Default::default(),
        };
        rows = splits::merge_split_signals(
            rows,
            p.split_distance_um / px,
            p.split_max_brightness_ratio,
            |i, j| splits::deblended_ratio(&objs[i], &objs[j], sigma, w),
        );
        let mut faint_rejected = 0;
        for r in rows.iter_mut() {
            if r.kind == SignalKind::Single && faint.contains(&(r.x.to_bits(), r.y.to_bits())) {
                r.kind = SignalKind::Faint;
                r.copies = 0;
                faint_rejected += 1;
            }
        }
        let singles: Vec<f64> = rows
            .iter()
            .filter(|s| s.kind == SignalKind::Single)
            .map(|s| s.snr)
            .collect();
        let mut sorted = singles.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        qc.push(ChannelQc {
            channel,
            psf_sigma_um: sigma * px,
            psf_estimated: ch.measured_sigma_px.is_some(),
            psf_measured_um: ch.measured_sigma_px.map(|s| s * px),
            dapi_crosstalk: prep.beta,
            reference_intensity: reference,
            reference_source: src.to_string(),
            reference_dots: prec.map(|p| p.0),
            reference_rel_se: prec.map(|p| p.1),
            median_snr: (!sorted.is_empty()).then(|| sorted[sorted.len() / 2]),
            signals: rows
                .iter()
                .filter(|s| !matches!(s.kind, SignalKind::Granule | SignalKind::Faint))
                .count(),
            faint_share: (!singles.is_empty()).then(|| {
                singles.iter().filter(|&&s| s < 4.0).count() as f64 / singles.len() as f64
            }),
            clipped_clusters,
            threshold_sd: fdr.threshold,
            expected_false_in_nuclei: fdr.expected_false,
            noise_rejected: fdr.rejected,
            expected_false_at_base: fdr.expected_at_base,
            faint_rejected,
            spikes_repaired: prep.spikes,
            spike_objects_rejected: ch.spike_objects,
            probe_bleed: bleed_in.map(|b| b.coefficient),
            probe_bleed_se: bleed_in.map(|b| b.se),
            probe_bleed_unmixed: bleed_in.is_some_and(|b| b.significant()),
            registration_shift_um: prep.shift.map(|s| [s.dx * px, s.dy * px]),
            registration_applied_px: prep.shift.map_or([0, 0], |s| {
                let (x, y) = s.applied();
                [x, y]
            }),
            background_bias: ch.background_bias.map(|b| b.per_pixel),
            background_bias_se: ch.background_bias.map(|b| b.se),
            background_bias_sd: ch
                .background_bias
                .filter(|b| b.noise > 0.0)
                .map(|b| b.per_pixel / b.noise),
            empty_apertures: ch.background_bias.map_or(0, |b| b.n),
            reference_log_sd: log_sd,
            compact_cluster_min_copies: compact_min.is_finite().then_some(compact_min),
        });
        signals.extend(rows);
    }
    FieldSignals {
        signals,
        granules_excluded: granule_pairs.len() + extra_granules + bleed_excluded,
        dapi_bleed_excluded: bleed_excluded,
        qc,
    }
}

/// Per-nucleus counts from signals: `(target, control, has_cluster)`,
/// indexed by nucleus label (index 0 = outside nuclei).
pub fn count_per_nucleus(signals: &[Signal], n_labels: usize) -> Vec<(u32, u32, bool)> {
    let mut out = vec![(0u32, 0u32, false); n_labels + 1];
    for s in signals {
        let i = s.nucleus as usize;
        if i >= out.len() {
            continue;
        }
        match s.channel {
            Channel::Target => {
                out[i].0 += s.copies;
                out[i].2 |= s.kind == SignalKind::Cluster;
            }
            Channel::Control => out[i].1 += s.copies,
            Channel::Dapi => {}
        }
    }
    out
}

#[cfg(test)]
mod psf_tests {
    use super::*;

    fn dot(x: f64, z: f64, width: f64, nominal: f64) -> SpotObject {
        let noise = 10.0;
        SpotObject {
            x,
            y: 0.0,
            flux: 1000.0,
            background: 100.0,
            noise,
            n_maxima: 1,
            area_px: 20,
            width_px: width,
            smoothed_peak: z * noise / (2.0 * std::f64::consts::PI.sqrt() * nominal),
            aperture: Vec::new(),
            seed: (x.max(0.0) as usize, 0),
            response_z: z,
        }
    }

    /// A faint control probe (every dot under the "clear" significance)
    /// still gives the PSF from its 50 most significant dots, and the
    /// target's broad clusters never enter the estimate.
    #[test]
    fn faint_control_dots_measure_the_psf() {
        let nominal = 1.5;
        let control: Vec<SpotObject> = (0..120)
            .map(|i| {
                dot(
                    100.0 * i as f64,
                    10.0 + 0.04 * i as f64,
                    1.2 + 0.002 * (i % 7) as f64,
                    nominal,
                )
            })
            .collect();
        let target: Vec<SpotObject> = (0..120)
            .map(|i| dot(100.0 * i as f64 + 50.0, 40.0, 2.3, nominal))
            .collect();
        let s = measure_psf(&control, &target, 3.0, nominal, 9.0).expect("measured");
        assert!((s - 1.2).abs() < 0.03, "{s}");
        // Too few dots above the floor: no estimate (the caller takes the
        // nominal), whatever the target holds.
        let few: Vec<SpotObject> = control.iter().take(15).cloned().collect();
        assert_eq!(measure_psf(&few, &target, 3.0, nominal, 9.0), None);
        // Dots under the floor do not count.
        let faint: Vec<SpotObject> = (0..100)
            .map(|i| dot(100.0 * i as f64, 6.0, 1.2, nominal))
            .collect();
        assert_eq!(measure_psf(&faint, &target, 3.0, nominal, 9.0), None);
    }
}

#[cfg(test)]
mod compact_tests {
    use super::*;
    use crate::simulate::optics::add_gaussian;

    /// A 400 x 400 field at 0.1 um on one nucleus label: a 9 x 9 grid of
    /// isolated single dots (lognormal brightness around 2000, log-SD 0.25)
    /// in both probes, except at the `special` target positions, which get
    /// the given number of copies' light in one PSF-sized dot.
    fn dot_grid(seed: u64, special: &[((f64, f64), f64)]) -> FieldSignals {
        let (n, px) = (400, 0.1);
        let sigma = 0.35 / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt()) / px;
        let mut rng = crate::rng::Rng::new(seed, 1);
        let noisy = |rng: &mut crate::rng::Rng| {
            Array2::from_shape_fn((n, n), |_| (100.0 + 3.0 * rng.normal()) as f32)
        };
        let (mut t, mut c) = (noisy(&mut rng), noisy(&mut rng));
        for gy in 0..9 {
            for gx in 0..9 {
                let (x, y) = (20.0 + 40.0 * gx as f64, 20.0 + 40.0 * gy as f64);
                let f = |rng: &mut crate::rng::Rng| 2000.0 * (0.25 * rng.normal()).exp();
                add_gaussian(&mut c, x + 3.0, y + 3.0, sigma, f(&mut rng));
                let flux = match special.iter().find(|(p, _)| *p == (x, y)) {
                    Some((_, copies)) => copies * 2000.0,
                    None => f(&mut rng),
                };
                add_gaussian(&mut t, x, y, sigma, flux);
            }
        }
        let field = Field {
            name: "f".into(),
            dapi: Plane::new(Array2::from_elem((n, n), 1000.0), px),
            target: Plane::new(t, px),
            control: Plane::new(c, px),
        };
        detect_signals(&field, &Array2::<u32>::ones((n, n)), &SpotParams::default())
    }

    /// The target signal within 2 px of `(x, y)`.
    fn target_at(s: &FieldSignals, (x, y): (f64, f64)) -> &Signal {
        s.signals
            .iter()
            .find(|g| {
                g.channel == Channel::Target && (g.x - x).abs() < 2.0 && (g.y - y).abs() < 2.0
            })
            .expect("a signal there")
    }

    /// A PSF-sized object of 5 copies' light is a cluster; one of 2 copies'
    /// light (an unresolved pair, counted once like a split signal) is not.
    #[test]
    fn compact_objects_brighter_than_a_pair_are_clusters() {
        let (five, two) = ((180.0, 180.0), (260.0, 260.0));
        let s = dot_grid(11, &[(five, 5.0), (two, 2.0)]);
        let c5 = target_at(&s, five);
        assert_eq!(c5.kind, SignalKind::Cluster, "{c5:?}");
        assert!((4..=6).contains(&c5.copies), "{c5:?}");
        let c2 = target_at(&s, two);
        assert_eq!(c2.kind, SignalKind::Single, "{c2:?}");
        assert_eq!(c2.copies, 1);
    }

    /// Among bright single copies (log-SD 0.25), a clearly detected dot of
    /// 15 % of a copy's light is kind `faint` with 0 copies, while a dim
    /// but plausible copy (60 %) stays a single.
    #[test]
    fn dots_far_dimmer_than_a_copy_are_faint() {
        let (dim, plausible) = ((180.0, 180.0), (260.0, 260.0));
        let s = dot_grid(12, &[(dim, 0.15), (plausible, 0.6)]);
        let d = target_at(&s, dim);
        assert_eq!(d.kind, SignalKind::Faint, "{d:?}");
        assert_eq!(d.copies, 0);
        let p = target_at(&s, plausible);
        assert_eq!(p.kind, SignalKind::Single, "{p:?}");
        assert_eq!(p.copies, 1);
        let qc = s.qc.iter().find(|q| q.channel == Channel::Target).unwrap();
        assert_eq!(qc.faint_rejected, 1, "{qc:?}");
        let target_copies: u32 = s
            .signals
            .iter()
            .filter(|g| g.channel == Channel::Target)
            .map(|g| g.copies)
            .sum();
        assert_eq!(target_copies, 80);
    }
}
