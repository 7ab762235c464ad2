//! The analysis pipeline in one screen: for every field, segment nuclei and
//! detect signals (fields in parallel); then, for the case, decide which
//! nuclei may be scored, count signals per nucleus, enumerate and score by
//! the panel's rules. Pure computation: no I/O (see `report` for outputs).

use crate::io::load::InputInfo;
use crate::nuclei::{self, Nucleus, NucleusParams};
use crate::plane::{Case, Channel, Field};
use crate::scoring::{self, NucleusCounts, Panel, Score, ScoringParams};
use crate::spots::{self, FieldSignals, Signal, SignalKind, SpotParams};
use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// Every parameter of an analysis (recorded in report.json's provenance).
#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeParams {
    /// Nucleus segmentation and scorability.
    pub nuclei: NucleusParams,
    /// Signal detection.
    pub spots: SpotParams,
    /// Enumeration, bootstrap and QC thresholds.
    pub scoring: ScoringParams,
    /// A control signal whose SNR is under this is "faint" (the faint
    /// control QC warning counts them).
    pub faint_snr: f64,
}

impl Default for AnalyzeParams {
    fn default() -> Self {
        AnalyzeParams {
            nuclei: NucleusParams::default(),
            spots: SpotParams::default(),
            scoring: ScoringParams::default(),
            faint_snr: 4.0,
        }
    }
}

/// One field's results.
#[derive(Debug, Clone)]
pub struct FieldResult {
    /// Field name (file stem).
    pub name: String,
    /// How the field was read (absent for fields built in memory).
    pub input: Option<InputInfo>,
    /// Pixel size (um).
    pub pixel_size_um: f64,
    /// Nucleus label image (0 background).
    pub labels: Array2<u32>,
    /// The nuclei, by id, with scorability set.
    pub nuclei: Vec<Nucleus>,
    /// Signals and per-channel QC.
    pub signals: FieldSignals,
    /// Seconds spent per stage: ("nuclei", s), ("signals", s).
    pub timings: Vec<(String, f64)>,
}

/// The result of a case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case identifier.
    pub case_id: String,
    /// Per-field results, in input order.
    pub fields: Vec<FieldResult>,
    /// Per-nucleus counts over all fields (input to scoring), field-major.
    pub counts: Vec<NucleusCounts>,
    /// Reference figures of the case's nuclei (median area, outline blur).
    pub nucleus_reference: nuclei::scorability::CaseReference,
    /// Enumeration, ratio, confidence and call.
    pub score: Score,
    /// The panel used.
    pub panel: Panel,
    /// The scoring parameters used (stored with the counts in
    /// score_input.json so a reviewer's rescore needs no image).
    pub scoring: ScoringParams,
    /// Seconds spent in scoring.
    pub scoring_seconds: f64,
}

/// Segments and detects signals in one field (scorability is decided per
/// case in [`analyze`]).
pub fn analyze_field(field: &Field, input: Option<InputInfo>, p: &AnalyzeParams) -> FieldResult {
    let t0 = Instant::now();
    let seg = nuclei::segment_nuclei(&field.dapi, &p.nuclei);
    let t1 = Instant::now();
    let signals = spots::detect_signals(field, &seg.labels, &p.spots);
    let t2 = Instant::now();
    FieldResult {
        name: field.name.clone(),
        input,
        pixel_size_um: field.pixel_size_um(),
        labels: seg.labels,
        nuclei: seg.nuclei,
        signals,
        timings: vec![
            ("nuclei".into(), (t1 - t0).as_secs_f64()),
            ("signals".into(), (t2 - t1).as_secs_f64()),
        ],
    }
}

/// Per-nucleus counts of one field for scoring.
pub fn field_counts(
    index: usize,
    f: &FieldResult,
    tntc: u32,
    faint_snr: f64,
) -> Vec<NucleusCounts> {
    let se = reference_rel_se(&f.signals.qc);
    nucleus_counts(index, &f.nuclei, &f.signals.signals, se, tntc, faint_snr)
}

/// The relative standard error of the single-copy reference of the target
/// and the control channel, from a field's signal QC.
pub fn reference_rel_se(qc: &[spots::ChannelQc]) -> [Option<f64>; 2] {
    let of = |ch: Channel| {
        qc.iter()
            .find(|q| q.channel == ch)
            .and_then(|q| q.reference_rel_se)
    };
    [of(Channel::Target), of(Channel::Control)]
}

/// As [`field_counts`], from a field's nuclei and signals.
pub fn nucleus_counts(
    index: usize,
    nuclei: &[Nucleus],
    signals: &[Signal],
    reference_rel_se: [Option<f64>; 2],
    tntc: u32,
    faint_snr: f64,
) -> Vec<NucleusCounts> {
    let n_labels = nuclei.iter().map(|n| n.id).max().unwrap_or(0) as usize;
    let counts = spots::count_per_nucleus(signals, n_labels);
    let mut faint = vec![0u32; n_labels + 1];
    let mut cluster_copies = vec![[0u32; 2]; n_labels + 1];
    for s in signals {
        let ch = match s.channel {
            Channel::Target => 0,
            Channel::Control => 1,
            Channel::Dapi => continue,
        };
        if s.kind == SignalKind::Cluster {
            if let Some(v) = cluster_copies.get_mut(s.nucleus as usize) {
                v[ch] += s.copies;
            }
        }
    }
    for s in signals {
        if s.channel == Channel::Control
            && !matches!(s.kind, SignalKind::Granule | SignalKind::Faint)
            && s.snr < faint_snr
        {
            if let Some(v) = faint.get_mut(s.nucleus as usize) {
                *v += s.copies;
            }
        }
    }
    nuclei
        .iter()
        .map(|n| {
            let (t, c, cl) = counts.get(n.id as usize).copied().unwrap_or((0, 0, false));
            NucleusCounts {
                field: index,
                id: n.id,
                x: n.x,
                y: n.y,
                scorable: n.scorable,
                excluded_reason: n.reason.map(|r| r.as_str().to_string()),
                target: t,
                control: c,
                cluster: cl,
                tntc: t > tntc,
                control_faint: faint.get(n.id as usize).copied().unwrap_or(0),
                cluster_copies: cluster_copies.get(n.id as usize).copied().unwrap_or([0, 0]),
                reference_rel_se,
            }
        })
        .collect()
}

/// Analyses a case: fields in parallel, then scorability over the whole
/// case, counts, enumeration and the call.
pub fn analyze(
    case: &Case,
    inputs: Vec<Option<InputInfo>>,
    panel: &Panel,
    p: &AnalyzeParams,
) -> CaseResult {
    let mut inputs = inputs;
    inputs.resize(case.fields.len(), None);
    let mut fields: Vec<FieldResult> = case
        .fields
        .par_iter()
        .zip(inputs.into_par_iter())
        .map(|(f, info)| analyze_field(f, info, p))
        .collect();
    let t0 = Instant::now();
    let mut per_field: Vec<Vec<Nucleus>> = fields
        .iter_mut()
        .map(|f| std::mem::take(&mut f.nuclei))
        .collect();
    let nucleus_reference = nuclei::classify(&mut per_field, &p.nuclei);
    for (f, n) in fields.iter_mut().zip(per_field) {
        f.nuclei = n;
    }
    let counts: Vec<NucleusCounts> = fields
        .iter()
        .enumerate()
        .flat_map(|(i, f)| field_counts(i, f, p.spots.tntc_copies, p.faint_snr))
        .collect();
    let score = scoring::score_case(&counts, panel, &p.scoring);
    CaseResult {
        case_id: case.id.clone(),
        fields,
        counts,
        nucleus_reference,
        score,
        panel: panel.clone(),
        scoring: p.scoring.clone(),
        scoring_seconds: t0.elapsed().as_secs_f64(),
    }
}
