//! Scoring: from per-nucleus signal counts to the case's ratio, confidence
//! and call.
//!
//! The stage is a pure function, [`score_case`], over plain counts
//! ([`NucleusCounts`], one per detected nucleus of every field of the
//! case) and a [`Panel`]. It
//!
//! 1. decides which nuclei are eligible: scorable by morphology, with at
//!    least one signal of each colour (unless the panel allows otherwise),
//!    and not excluded by a reviewer ([`rescore`]);
//! 2. puts the eligible nuclei of all fields into one fixed, unbiased order
//!    (a seeded hash of `(field, id)`, [`enumerate::order_key`]) and takes
//!    the first `min_nuclei`; if that count is borderline it takes up to
//!    `max_nuclei`;
//! 3. computes the pooled ratio, its bootstrap 95 % interval
//!    ([`bootstrap`]), means, shares and QC notes;
//! 4. applies the panel's rules ([`rules`]) for the call, and writes the
//!    ISCN string ([`iscn`]) and the CAP report elements.
//!
//! Rules, order, bootstrap and panel format are documented with their
//! sources in `docs/scoring.md`.

pub mod bootstrap;
pub mod enumerate;
pub mod iscn;
pub mod panel;
pub mod rules;

pub use enumerate::parse_nuclei_range;
pub use panel::{Panel, PanelError, RuleSet};
pub use rules::Call;

use enumerate::{enumeration_order, signal_exclusion, REASON_NOT_SCORABLE, REASON_REVIEWER};
use iscn::{iscn_summary, nucleus_ratio_ge, IscnNucleus};
use rules::{decide, fmt_ratio, needs_more_nuclei, CountSummary};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Signal counts of one detected nucleus: the input of the scoring stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NucleusCounts {
    /// Field (image) index within the case, from 0.
    pub field: usize,
    /// Nucleus id within its field (its label value).
    pub id: u32,
    /// Centroid x, pixels of its field.
    pub x: f64,
    /// Centroid y, pixels of its field.
    pub y: f64,
    /// Passes the morphology rules (intact, not overlapping, in focus, not
    /// cut by the border).
    pub scorable: bool,
    /// Morphology reason when not scorable (e.g. `border`, `overlap`).
    pub excluded_reason: Option<String>,
    /// Target signals (copies; a cluster counts its estimated copies).
    pub target: u32,
    /// Control signals (copies).
    pub control: u32,
    /// Holds a target cluster whose copies were estimated from intensity.
    pub cluster: bool,
    /// Too many target signals to count one by one (count is an estimate).
    pub tntc: bool,
    /// Of the control signals, how many are faint (near the detection
    /// threshold).
    pub control_faint: u32,
    /// Of `target` and `control`, the copies estimated from cluster
    /// intensity (intensity over the field's single-copy reference).
    #[serde(default)]
    pub cluster_copies: [u32; 2],
    /// Relative standard error of the field's single-copy reference of
    /// the target and the control channel (the same for every nucleus of
    /// a field; `None` when not measured). It scales every cluster of the
    /// field alike, so it is not averaged out over nuclei and the
    /// bootstrap over nuclei does not see it.
    #[serde(default)]
    pub reference_rel_se: [Option<f64>; 2],
}

/// Standard error of the pooled ratio `ratio = target / control` that the
/// single-copy references contribute: each field's cluster copies of a
/// channel (summed over the enumerated nuclei in `scored`, in field
/// order) move together with that field's reference, by its relative
/// standard error; fields and channels are independent. `None` when no
/// enumerated nucleus has cluster copies with a known reference error.
pub fn reference_ratio_se(
    scored: &[&NucleusCounts],
    target: u64,
    control: u64,
    ratio: Option<f64>,
) -> Option<f64> {
    let ratio = ratio?;
    let n_fields = scored.iter().map(|n| n.field + 1).max().unwrap_or(0);
    let mut copies = vec![[0u64; 2]; n_fields];
    let mut se = vec![[None::<f64>; 2]; n_fields];
    for n in scored {
        for ch in 0..2 {
            copies[n.field][ch] += n.cluster_copies[ch] as u64;
            if se[n.field][ch].is_none() {
                se[n.field][ch] = n.reference_rel_se[ch];
            }
        }
    }
    let totals = [target as f64, control as f64];
    let mut rel_var = 0.0;
    let mut any = false;
    for (c, s) in copies.iter().zip(&se) {
        for ch in 0..2 {
            if let (true, Some(e)) = (c[ch] > 0, s[ch]) {
                let rel = e * c[ch] as f64 / totals[ch];
                rel_var += rel * rel;
                any = true;
            }
        }
    }
    (any && rel_var.is_finite()).then(|| ratio * rel_var.sqrt())
}

/// The nuclei bootstrap interval `[lo, hi]` widened by the references'
/// error `se` (standard error of the ratio, [`reference_ratio_se`]): each
/// half-width is combined in quadrature with `1.96 se` (independent,
/// approximately normal errors), the lower end kept at 0 or above.
pub fn widen_interval(ci: [f64; 2], ratio: f64, se: f64) -> [f64; 2] {
    let d = 1.96 * se;
    let a = ratio - ci[0];
    let b = ci[1] - ratio;
    let lo = ratio - (a * a + d * d).sqrt();
    let hi = ratio + (b * b + d * d).sqrt();
    [lo.max(0.0), hi]
}

/// Parameters of the scoring stage that a user may change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringParams {
    /// Seed of the enumeration order and of the bootstrap (default 0).
    /// Recorded in the report so the same nuclei are chosen again.
    pub seed: u64,
    /// Bootstrap resamples for the 95 % interval (default 2000: the ends
    /// of the interval then differ between seeds with a standard deviation
    /// of about 0.5 %, measured over 200 seeds on a 50-nucleus case of
    /// ratio 2). 0 turns the interval off.
    pub bootstrap_resamples: usize,
    /// `--nuclei MIN..MAX`: overrides the panel's `min_nuclei` and
    /// `max_nuclei` (default: the panel's).
    pub nuclei_range: Option<(usize, usize)>,
    /// Share (0-1) of the enumerated control signals flagged faint above
    /// which a QC warning is written (default 0.30: with more than about a
    /// third of reference signals at the detection limit, missed control
    /// signals can inflate the ratio).
    pub faint_control_share_warn: f64,
    /// How the counts were obtained, for the CAP summary (default:
    /// `automated image analysis (fishscore VERSION)`).
    pub image_analysis_method: String,
}

impl Default for ScoringParams {
    fn default() -> Self {
        ScoringParams {
            seed: 0,
            bootstrap_resamples: 2000,
            nuclei_range: None,
            faint_control_share_warn: 0.30,
            image_analysis_method: format!(
                "automated image analysis (fishscore {})",
                crate::VERSION
            ),
        }
    }
}

/// Scoring status of one input nucleus (same order as the input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NucleusStatus {
    /// Field index.
    pub field: usize,
    /// Nucleus id.
    pub id: u32,
    /// Eligible for enumeration.
    pub eligible: bool,
    /// Why not eligible: the morphology reason, `no_target_signal`,
    /// `no_control_signal` or `excluded_by_reviewer` (first that applies).
    pub excluded_reason: Option<String>,
    /// Rank (from 0) in the fixed enumeration order among the eligible
    /// nuclei; `None` if not eligible.
    pub order: Option<usize>,
    /// Among the enumerated (scored) nuclei: exactly those with
    /// `order < nuclei_scored`.
    pub enumerated: bool,
    /// Target/control of this nucleus; `None` without control signal.
    pub ratio: Option<f64>,
}

/// The elements a CAP-style FISH report lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapSummary {
    /// Probe set, e.g. `MDM2/CEP12`.
    pub probe: String,
    /// Nuclei counted.
    pub nuclei_counted: usize,
    /// Mean target signals per nucleus.
    pub mean_target: Option<f64>,
    /// Mean control signals per nucleus.
    pub mean_control: Option<f64>,
    /// Target/control ratio.
    pub ratio: Option<f64>,
    /// ASCO/CAP 2018 group (HER2 panels).
    pub her2_group: Option<u8>,
    /// Interpretation: the call and the rule that made it.
    pub interpretation: String,
    /// Heterogeneity: shares of nuclei with clusters and with a
    /// per-nucleus ratio at or above the cutoff.
    pub heterogeneity: String,
    /// How the counts were obtained.
    pub image_analysis_method: String,
}

/// The scoring of a case: the call, the figures behind it, and the status
/// of every input nucleus. Serialized into `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Panel name.
    pub panel: String,
    /// The call.
    pub call: Call,
    /// The rule that produced the call, with its figures.
    pub rule: String,
    /// Pooled ratio: total target / total control over the enumerated
    /// nuclei; `None` when the control total is 0.
    pub ratio: Option<f64>,
    /// 95 % interval of `ratio`: the bootstrap percentile interval over
    /// nuclei (`ratio_ci95_nuclei`) widened by the single-copy
    /// references' error (`ratio_reference_se`) where clusters were
    /// counted from their intensity.
    pub ratio_ci95: Option<[f64; 2]>,
    /// Bootstrap 95 % percentile interval of `ratio` over nuclei alone.
    pub ratio_ci95_nuclei: Option<[f64; 2]>,
    /// Standard error of `ratio` due to the single-copy references that
    /// scale the clusters' copy numbers; `None` without such clusters.
    pub ratio_reference_se: Option<f64>,
    /// Whether the interval contains the cutoff (`lo < cutoff <= hi`): the
    /// call would differ at the interval's two ends.
    pub ci_crosses_cutoff: Option<bool>,
    /// Ratio cutoff of the panel.
    pub cutoff: f64,
    /// Borderline zone of the panel (inclusive).
    pub borderline: [f64; 2],
    /// Nuclei required for a call (panel or `--nuclei`).
    pub nuclei_required: usize,
    /// Nuclei counted at most (panel or `--nuclei`).
    pub nuclei_max: usize,
    /// Nuclei in the input.
    pub nuclei_detected: usize,
    /// Nuclei passing the morphology rules.
    pub nuclei_scorable: usize,
    /// Nuclei eligible for enumeration.
    pub nuclei_eligible: usize,
    /// Nuclei enumerated (the ratio's denominator count).
    pub nuclei_scored: usize,
    /// Count of non-eligible nuclei per reason.
    pub nuclei_excluded: BTreeMap<String, usize>,
    /// Total target signals over the enumerated nuclei.
    pub target_signals: u64,
    /// Total control signals over the enumerated nuclei.
    pub control_signals: u64,
    /// Mean target signals per enumerated nucleus.
    pub mean_target: Option<f64>,
    /// Mean control signals per enumerated nucleus.
    pub mean_control: Option<f64>,
    /// Pooled ratio over the first `nuclei_required` nuclei, which decides
    /// the extension (over all eligible nuclei when there are fewer).
    pub ratio_at_min: Option<f64>,
    /// Share (0-1) of enumerated nuclei whose own ratio is >= the cutoff.
    pub share_ratio_ge_cutoff: Option<f64>,
    /// Share (0-1) of enumerated nuclei with a target cluster.
    pub share_cluster: Option<f64>,
    /// Share (0-1) of enumerated nuclei too numerous to count.
    pub share_tntc: Option<f64>,
    /// Share (0-1) of enumerated control signals flagged faint.
    pub control_faint_share: Option<f64>,
    /// Mean control >= the panel's polysomy level with a ratio below the
    /// cutoff.
    pub polysomy: bool,
    /// ASCO/CAP 2018 group, HER2 panels.
    pub her2_group: Option<u8>,
    /// The first count was borderline and counting went on toward
    /// `nuclei_max`.
    pub extended_to_max: bool,
    /// QC notes, in a fixed order.
    pub qc: Vec<String>,
    /// ISCN 2020-style summary.
    pub iscn: String,
    /// CAP report elements.
    pub cap: CapSummary,
    /// Status of each input nucleus, in input order.
    pub per_nucleus: Vec<NucleusStatus>,
}

/// Scores a case: see the module documentation. Equivalent to
/// [`rescore`] with no reviewer exclusion.
pub fn score_case(nuclei: &[NucleusCounts], panel: &Panel, p: &ScoringParams) -> Score {
    rescore(nuclei, panel, p, &[])
}

/// Scores a case after a reviewer excluded the nuclei `excluded` (as
/// `(field, id)`). Excluded nuclei stop being eligible; the enumeration
/// again takes the first eligible nuclei in the same fixed order, so the
/// next nuclei in that order take their places, and every figure, the
/// extension decision and the call are recomputed. Ids not in the input
/// are listed in a QC note.
pub fn rescore(
    nuclei: &[NucleusCounts],
    panel: &Panel,
    p: &ScoringParams,
    excluded: &[(usize, u32)],
) -> Score {
    let (min_n, max_n) = match p.nuclei_range {
        Some((a, b)) => (a.max(1), b.max(a.max(1))),
        None => (
            panel.min_nuclei.max(1),
            panel.max_nuclei.max(panel.min_nuclei.max(1)),
        ),
    };
    let reviewer: BTreeSet<(usize, u32)> = excluded.iter().copied().collect();

    // 1. Eligibility.
    let mut per_nucleus: Vec<NucleusStatus> = nuclei
        .iter()
        .map(|n| {
            let reason = if !n.scorable {
                Some(
                    n.excluded_reason
                        .clone()
                        .filter(|r| !r.trim().is_empty())
                        .unwrap_or_else(|| REASON_NOT_SCORABLE.to_string()),
                )
            } else if let Some(r) =
                signal_exclusion(n.target, n.control, panel.require_both_signals)
            {
                Some(r.to_string())
            } else if reviewer.contains(&(n.field, n.id)) {
                Some(REASON_REVIEWER.to_string())
            } else {
                None
            };
            NucleusStatus {
                field: n.field,
                id: n.id,
                eligible: reason.is_none(),
                excluded_reason: reason,
                order: None,
                enumerated: false,
                ratio: (n.control > 0).then(|| n.target as f64 / n.control as f64),
            }
        })
        .collect();
    let eligible: Vec<usize> = (0..nuclei.len())
        .filter(|&i| per_nucleus[i].eligible)
        .collect();

    // 2. Fixed order and the 50 -> 100 rule.
    let keys: Vec<(usize, u32)> = eligible
        .iter()
        .map(|&i| (nuclei[i].field, nuclei[i].id))
        .collect();
    let ordered: Vec<usize> = enumeration_order(p.seed, &keys)
        .into_iter()
        .map(|k| eligible[k])
        .collect();
    for (rank, &i) in ordered.iter().enumerate() {
        per_nucleus[i].order = Some(rank);
    }
    let counts_of = |k: usize| -> Vec<(u32, u32)> {
        ordered
            .iter()
            .take(k)
            .map(|&i| (nuclei[i].target, nuclei[i].control))
            .collect()
    };
    let mean_target_of = |c: &[(u32, u32)]| {
        (!c.is_empty()).then(|| c.iter().map(|x| x.0 as f64).sum::<f64>() / c.len() as f64)
    };
    let n_eligible = ordered.len();
    let (n_scored, borderline_at_min, ratio_at_min) = if n_eligible < min_n {
        (
            n_eligible,
            false,
            bootstrap::pooled_ratio(&counts_of(n_eligible)),
        )
    } else {
        let first = counts_of(min_n);
        let r_min = bootstrap::pooled_ratio(&first);
        let more = needs_more_nuclei(panel, r_min, mean_target_of(&first));
        let n = if more { max_n.min(n_eligible) } else { min_n };
        (n, more, r_min)
    };
    let extended = borderline_at_min && max_n > min_n;
    for &i in ordered.iter().take(n_scored) {
        per_nucleus[i].enumerated = true;
    }

    // 3. Figures over the enumerated nuclei.
    let scored: Vec<&NucleusCounts> = ordered.iter().take(n_scored).map(|&i| &nuclei[i]).collect();
    let counts = counts_of(n_scored);
    let target_signals: u64 = scored.iter().map(|n| n.target as u64).sum();
    let control_signals: u64 = scored.iter().map(|n| n.control as u64).sum();
    let nf = n_scored as f64;
    let share = |pred: &dyn Fn(&NucleusCounts) -> bool| {
        (n_scored > 0).then(|| scored.iter().filter(|n| pred(n)).count() as f64 / nf)
    };
    let ratio = bootstrap::pooled_ratio(&counts);
    let mean_target = (n_scored > 0).then(|| target_signals as f64 / nf);
    let mean_control = (n_scored > 0).then(|| control_signals as f64 / nf);
    let ratio_ci95_nuclei = bootstrap::ratio_ci95(&counts, p.seed, p.bootstrap_resamples);
    let ratio_reference_se = reference_ratio_se(&scored, target_signals, control_signals, ratio);
    let ratio_ci95 = match (ratio_ci95_nuclei, ratio, ratio_reference_se) {
        (Some(ci), Some(r), Some(se)) => Some(widen_interval(ci, r, se)),
        (ci, _, _) => ci,
    };
    let ci_crosses_cutoff = ratio_ci95.map(|[lo, hi]| lo < panel.cutoff && panel.cutoff <= hi);
    let share_ratio_ge_cutoff = share(&|n| nucleus_ratio_ge(n.target, n.control, panel.cutoff));
    let share_cluster = share(&|n| n.cluster);
    let share_tntc = share(&|n| n.tntc);
    let faint: u64 = scored
        .iter()
        .map(|n| n.control_faint.min(n.control) as u64)
        .sum();
    let control_faint_share = (control_signals > 0).then(|| faint as f64 / control_signals as f64);
    let polysomy = matches!((mean_control, ratio), (Some(m), Some(r)) if m >= panel.polysomy_control_mean && r < panel.cutoff);

    // 4. Call.
    let decision = decide(
        panel,
        &CountSummary {
            eligible: n_eligible,
            min_nuclei: min_n,
            max_nuclei: max_n,
            scored: n_scored,
            ratio_at_min,
            borderline_at_min,
            ratio,
            mean_target,
        },
    );

    // QC notes, in a fixed order.
    let mut qc = Vec::new();
    let label = panel.ratio_label();
    if n_eligible < min_n {
        qc.push(format!(
            "too few nuclei: {n_eligible} eligible of {} detected ({} scorable); the panel needs {min_n}",
            nuclei.len(),
            nuclei.iter().filter(|n| n.scorable).count()
        ));
    }
    if n_scored > 0 && ratio.is_none() {
        qc.push(format!(
            "no {} signal in the enumerated nuclei: check the control probe's hybridisation",
            panel.control
        ));
    }
    if borderline_at_min {
        qc.push(format!(
            "borderline after {min_n} nuclei ({label} ratio {}): {n_scored} nuclei enumerated",
            fmt_ratio(ratio_at_min)
        ));
        if n_scored < max_n {
            qc.push(format!(
                "only {n_scored} eligible nuclei available; the panel counts up to {max_n} in the borderline zone"
            ));
        }
    }
    if decision.call == Call::Equivocal {
        qc.push("equivocal result: review by a cytogeneticist recommended".to_string());
    }
    if let (Some(true), Some([lo, hi])) = (ci_crosses_cutoff, ratio_ci95) {
        qc.push(format!(
            "low confidence: the 95 % interval of the ratio [{lo:.3}, {hi:.3}] contains the cutoff {}",
            panel.cutoff
        ));
    }
    if polysomy {
        qc.push(format!(
            "polysomy: mean {} {:.2} per nucleus (>= {}) with {label} ratio {} < {}: copy gain of the chromosome, not amplification",
            panel.control,
            mean_control.unwrap_or(0.0),
            panel.polysomy_control_mean,
            fmt_ratio(ratio),
            panel.cutoff
        ));
    }
    if let Some(s) = control_faint_share {
        if s > p.faint_control_share_warn {
            qc.push(format!(
                "weak control hybridisation: {:.0} % of {} signals are near the detection threshold (warning above {:.0} %); missed {} signals would inflate the ratio",
                100.0 * s,
                panel.control,
                100.0 * p.faint_control_share_warn,
                panel.control
            ));
        }
    }
    let n_tntc = scored.iter().filter(|n| n.tntc).count();
    if n_tntc > 0 {
        qc.push(format!(
            "{n_tntc} of {n_scored} enumerated nuclei have too many {} signals to count; their counts are estimates",
            panel.target
        ));
    }
    let present: BTreeSet<(usize, u32)> = nuclei.iter().map(|n| (n.field, n.id)).collect();
    let unknown: Vec<String> = reviewer
        .iter()
        .filter(|k| !present.contains(k))
        .map(|(f, i)| format!("field {f} nucleus {i}"))
        .collect();
    if !unknown.is_empty() {
        qc.push(format!(
            "reviewer exclusion of unknown nuclei ignored: {}",
            unknown.join(", ")
        ));
    }

    let mut nuclei_excluded: BTreeMap<String, usize> = BTreeMap::new();
    for s in &per_nucleus {
        if let Some(r) = &s.excluded_reason {
            *nuclei_excluded.entry(r.clone()).or_default() += 1;
        }
    }

    let iscn_nuclei: Vec<IscnNucleus> = scored
        .iter()
        .map(|n| IscnNucleus {
            target: n.target,
            control: n.control,
            cluster: n.cluster || n.tntc,
        })
        .collect();
    let iscn = iscn_summary(panel, decision.call, &iscn_nuclei);
    let pct = |s: Option<f64>| s.map_or("n/a".to_string(), |v| format!("{:.1} %", 100.0 * v));
    let cap = CapSummary {
        probe: label,
        nuclei_counted: n_scored,
        mean_target,
        mean_control,
        ratio,
        her2_group: decision.her2_group,
        interpretation: decision.rule.clone(),
        heterogeneity: format!(
            "clusters in {} of nuclei; per-nucleus ratio >= {} in {}",
            pct(share_cluster),
            panel.cutoff,
            pct(share_ratio_ge_cutoff)
        ),
        image_analysis_method: p.image_analysis_method.clone(),
    };

    Score {
        panel: panel.name.clone(),
        call: decision.call,
        rule: decision.rule,
        ratio,
        ratio_ci95,
        ratio_ci95_nuclei,
        ratio_reference_se,
        ci_crosses_cutoff,
        cutoff: panel.cutoff,
        borderline: panel.borderline,
        nuclei_required: min_n,
        nuclei_max: max_n,
        nuclei_detected: nuclei.len(),
        nuclei_scorable: nuclei.iter().filter(|n| n.scorable).count(),
        nuclei_eligible: n_eligible,
        nuclei_scored: n_scored,
        nuclei_excluded,
        target_signals,
        control_signals,
        mean_target,
        mean_control,
        ratio_at_min,
        share_ratio_ge_cutoff,
        share_cluster,
        share_tntc,
        control_faint_share,
        polysomy,
        her2_group: decision.her2_group,
        extended_to_max: extended,
        qc,
        iscn,
        cap,
        per_nucleus,
    }
}

#[cfg(test)]
mod tests;
