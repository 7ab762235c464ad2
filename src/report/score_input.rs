//! score_input.json: everything the scoring stage read (per-nucleus counts
//! of every field, the panel, the scoring parameters), so that a reviewer's
//! rescore (`fishscore rescore`) and the HTML report's live review
//! recompute the call without the images. `ScoreInput::score` reproduces
//! the automated `Score` exactly; `write_outputs` checks it before writing.

use crate::io::IoError;
use crate::pipeline::CaseResult;
use crate::scoring::{rescore, NucleusCounts, Panel, Score, ScoringParams};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Value of the `format` key of score_input.json (bumped on a breaking
/// change of the layout).
pub const SCORE_INPUT_FORMAT: &str = "fishscore-score-input/1";

/// The input of the scoring stage of one case (score_input.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreInput {
    /// Always [`SCORE_INPUT_FORMAT`].
    pub format: String,
    /// Case identifier.
    pub case: String,
    /// Field names, by field index (`NucleusCounts::field`).
    pub fields: Vec<String>,
    /// The panel.
    pub panel: Panel,
    /// Scoring parameters (seed, bootstrap resamples, nuclei range...).
    pub params: ScoringParams,
    /// QC notes of the input layer (per field), listed in report.json's
    /// `qc` after the scoring notes.
    pub input_qc: Vec<String>,
    /// One entry per detected nucleus of every field, field-major.
    pub nuclei: Vec<NucleusCounts>,
}

impl ScoreInput {
    /// The scoring input of an analysed case.
    pub fn from_result(r: &CaseResult) -> ScoreInput {
        ScoreInput {
            format: SCORE_INPUT_FORMAT.to_string(),
            case: r.case_id.clone(),
            fields: r.fields.iter().map(|f| f.name.clone()).collect(),
            panel: r.panel.clone(),
            params: r.scoring.clone(),
            input_qc: input_qc(r),
            nuclei: r.counts.clone(),
        }
    }

    /// The automated score (no reviewer decision).
    pub fn score(&self) -> Score {
        rescore(&self.nuclei, &self.panel, &self.params, &[])
    }

    /// Index of a field by name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }

    /// Reads and checks score_input.json.
    pub fn read(path: &Path) -> Result<ScoreInput, IoError> {
        let text = std::fs::read_to_string(path).map_err(|e| IoError::open(path, &e))?;
        let v: ScoreInput = serde_json::from_str(&text).map_err(|e| {
            IoError::format(
                path,
                format!("not a fishscore score input ({e}); run fishscore analyze again"),
            )
        })?;
        if v.format != SCORE_INPUT_FORMAT {
            return Err(IoError::format(
                path,
                format!(
                    "format '{}' is not '{SCORE_INPUT_FORMAT}' (written by another fishscore version)",
                    v.format
                ),
            ));
        }
        if let Some(n) = v.nuclei.iter().find(|n| n.field >= v.fields.len()) {
            return Err(IoError::format(
                path,
                format!(
                    "nucleus {} names field {} but the case has {} fields",
                    n.id,
                    n.field,
                    v.fields.len()
                ),
            ));
        }
        Ok(v)
    }
}

/// The image-quality notes of every field, prefixed with the field name:
/// the input layer's, then per probe channel a channel with no signal
/// above the noise, single-pixel spikes replaced, the image moved onto
/// DAPI (registration), the other probe's light unmixed (spectral
/// bleed-through), the precision of the single-copy reference that scales
/// the channel's clusters (when it has clusters in nuclei) and clusters
/// with clipped pixels, then the objects excluded as DAPI bleed-through
/// on clipped DAPI.
pub fn input_qc(r: &CaseResult) -> Vec<String> {
    let mut out = Vec::new();
    for f in &r.fields {
        if let Some(i) = &f.input {
            out.extend(i.qc.iter().map(|q| format!("{}: {q}", f.name)));
        }
        for q in &f.signals.qc {
            if q.threshold_sd.is_none() {
                out.push(format!(
                    "{}: no {} signal above the noise: the {} candidate(s) in nuclei cannot be told from noise ({:.1} noise maxima expected there at the detection threshold); check the probe's hybridisation",
                    f.name,
                    q.channel.as_str(),
                    q.noise_rejected,
                    q.expected_false_at_base
                ));
            }
            if q.spikes_repaired + q.spike_objects_rejected > 0 {
                out.push(format!(
                    "{}: {} single-pixel spike(s) in the {} image (hot pixels or cosmic-ray hits: brighter than their neighbours allow any optical spot to be) replaced before detection, {} more removed after it; many spikes point to an uncorrected camera (dark-frame or defect-pixel correction)",
                    f.name,
                    q.spikes_repaired,
                    q.channel.as_str(),
                    q.spike_objects_rejected
                ));
            }
            if q.registration_applied_px != [0, 0] {
                let [x, y] = q.registration_shift_um.unwrap_or([0.0, 0.0]);
                out.push(format!(
                    "{}: the {} image is {:.2} um off the DAPI image ({:+.2}, {:+.2} um, found on the DAPI bleed-through it carries); moved back by ({:+}, {:+}) px before the analysis: check the microscope's channel registration (filter cubes, chromatic correction)",
                    f.name,
                    q.channel.as_str(),
                    x.hypot(y),
                    x,
                    y,
                    -q.registration_applied_px[0],
                    -q.registration_applied_px[1]
                ));
            }
            if let (true, Some(b), Some(se)) =
                (q.probe_bleed_unmixed, q.probe_bleed, q.probe_bleed_se)
            {
                let other = match q.channel {
                    crate::plane::Channel::Target => "control",
                    _ => "target",
                };
                out.push(format!(
                    "{}: the {} image holds {:.1} % (+-{:.1} %) of the {} probe's light at its dots (spectral bleed-through of the filter set); subtracted before detection, else each {} dot would leave a faint copy counted as a {} signal",
                    f.name,
                    q.channel.as_str(),
                    100.0 * b,
                    196.0 * se,
                    other,
                    other,
                    q.channel.as_str()
                ));
            }
            let clusters = f
                .signals
                .signals
                .iter()
                .filter(|s| {
                    s.channel == q.channel
                        && s.kind == crate::spots::SignalKind::Cluster
                        && s.nucleus > 0
                })
                .count();
            if let (true, Some(n), Some(se)) = (clusters > 0, q.reference_dots, q.reference_rel_se)
            {
                out.push(format!(
                    "{}: the copy numbers of {} {} cluster(s) in nuclei are their intensity over a single-copy reference of {} isolated dots, known to +-{:.0} % (95 %); this error is common to all of them and is added to the nuclei bootstrap in the ratio's interval",
                    f.name,
                    clusters,
                    q.channel.as_str(),
                    n,
                    196.0 * se
                ));
            }
            if q.clipped_clusters > 0 {
                out.push(format!(
                    "{}: {} cluster(s) of the {} channel hold clipped pixels: their copy numbers are lower bounds",
                    f.name,
                    q.clipped_clusters,
                    q.channel.as_str()
                ));
            }
        }
        let bleed = f.signals.dapi_bleed_excluded;
        if bleed > 0 {
            out.push(format!(
                "{}: DAPI clipped: {bleed} object(s) on clipped chromatin excluded as DAPI bleed-through (seen in both probe images); re-image with a shorter DAPI exposure",
                f.name
            ));
        }
    }
    out
}
