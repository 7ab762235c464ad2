//! The accuracy metrics of one case.
//!
//! Nuclei are matched one-to-one at IoU >= 0.5 (greedy by IoU, as in the
//! object-detection F1 used by the cell-segmentation literature, e.g.
//! Caicedo et al. 2019). Signals are matched one-to-one within 2 px
//! (greedy by distance); a split truth signal matches at its centre or at
//! either of its two dots.

use super::read::{ResultSet, Truth};
use serde::Serialize;
use std::collections::HashMap;

/// Detection counts and scores.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Detection {
    /// Truth objects.
    pub truth: usize,
    /// Predicted objects.
    pub predicted: usize,
    /// One-to-one matches.
    pub matched: usize,
    /// matched / predicted.
    pub precision: Option<f64>,
    /// matched / truth.
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall.
    pub f1: Option<f64>,
}

impl Detection {
    /// Scores from the three counts.
    pub fn new(truth: usize, predicted: usize, matched: usize) -> Self {
        let precision = (predicted > 0).then(|| matched as f64 / predicted as f64);
        let recall = (truth > 0).then(|| matched as f64 / truth as f64);
        let f1 = (truth + predicted > 0).then(|| 2.0 * matched as f64 / (truth + predicted) as f64);
        Detection {
            truth,
            predicted,
            matched,
            precision,
            recall,
            f1,
        }
    }
}

/// Nucleus segmentation and scorability metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NucleusMetrics {
    /// Detection of nuclei at IoU >= 0.5 (debris excluded from both sides).
    pub detection: Detection,
    /// Mean IoU of the matched pairs.
    pub mean_iou: Option<f64>,
    /// Truly scorable nuclei.
    pub scorable_truth: usize,
    /// Of those, matched to a scored result nucleus.
    pub scorable_kept: usize,
    /// scorable_kept / scorable_truth.
    pub scorable_kept_share: Option<f64>,
    /// Truly overlapping nuclei.
    pub overlapping_truth: usize,
    /// Of those, at least half covered by one scored result nucleus.
    pub overlapping_scored: usize,
    /// overlapping_scored / overlapping_truth.
    pub overlapping_scored_share: Option<f64>,
    /// Truly cut-by-border nuclei, and how many were scored.
    pub cut_truth: usize,
    /// Of those, scored.
    pub cut_scored: usize,
    /// Truly out-of-focus nuclei.
    pub out_of_focus_truth: usize,
    /// Of those, scored.
    pub out_of_focus_scored: usize,
    /// Debris objects scored as nuclei.
    pub debris_scored: usize,
}

/// Per-nucleus count accuracy over matched, truly scorable, scored nuclei.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CountMetrics {
    /// Nuclei compared.
    pub nuclei: usize,
    /// Of those, without a cluster in truth.
    pub non_cluster_nuclei: usize,
    /// Share of non-cluster nuclei with the exact target count.
    pub target_exact_rate: Option<f64>,
    /// Share of non-cluster nuclei with the exact control count.
    pub control_exact_rate: Option<f64>,
    /// Share of non-cluster nuclei with both counts exact.
    pub both_exact_rate: Option<f64>,
    /// Mean absolute error of the target count (all compared nuclei).
    pub target_mae: Option<f64>,
    /// Mean absolute error of the control count.
    pub control_mae: Option<f64>,
    /// Median relative error of the target count in truly clustered nuclei.
    pub cluster_nucleus_target_median_rel_error: Option<f64>,
}

/// Signal detection per channel, over truly scorable nuclei.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SignalMetrics {
    /// Single-copy target signals.
    pub target: Detection,
    /// Single-copy control signals.
    pub control: Detection,
    /// Both channels pooled.
    pub all: Detection,
    /// Truth clusters.
    pub clusters_truth: usize,
    /// Truth clusters matched by a result cluster.
    pub clusters_matched: usize,
    /// Median |estimate - truth| / truth of matched clusters.
    pub cluster_median_rel_error: Option<f64>,
    /// Result target signals (rows with copies > 0; excluded granules do not
    /// count) inside truly scorable nuclei that hold no target copy at all
    /// (false signals from background and granules).
    pub target_in_empty_nuclei: usize,
}

/// Ratio and call.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CallMetrics {
    /// Truth ratio over all eligible nuclei.
    pub truth_ratio: Option<f64>,
    /// The result's ratio.
    pub ratio: Option<f64>,
    /// |ratio - truth_ratio| / truth_ratio.
    pub ratio_rel_error: Option<f64>,
    /// Truth ratio over the truth nuclei matched to the nuclei the result
    /// counted in its ratio (its `scored` column): separates counting
    /// error from the sampling of 50-100 nuclei.
    pub truth_ratio_of_scored: Option<f64>,
    /// |ratio - truth_ratio_of_scored| / truth_ratio_of_scored.
    pub ratio_rel_error_of_scored: Option<f64>,
    /// Truth call.
    pub truth_call: String,
    /// The result's call.
    pub call: Option<String>,
    /// Calls equal.
    pub call_correct: Option<bool>,
    /// Equal, or EQUIVOCAL where the truth ratio is borderline.
    pub call_acceptable: Option<bool>,
}

/// All metrics of one case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseMetrics {
    /// Case name (folder name).
    pub case: String,
    /// Tags from truth.json.
    pub tags: Vec<String>,
    /// Nuclei.
    pub nuclei: NucleusMetrics,
    /// Counts, if the result has them.
    pub counts: Option<CountMetrics>,
    /// Signals, if the result has spots.csv.
    pub signals: Option<SignalMetrics>,
    /// Ratio and call, if the result has report.json.
    pub call: Option<CallMetrics>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Greedy one-to-one matching of candidate pairs `(score, a, b)`, best
/// score first (ties broken by indices, so it is deterministic).
fn greedy<F: Fn(f64, f64) -> std::cmp::Ordering>(
    mut pairs: Vec<(f64, usize, usize)>,
    better: F,
) -> Vec<(f64, usize, usize)> {
    pairs.sort_by(|x, y| better(x.0, y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut used_a = std::collections::HashSet::new();
    let mut used_b = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (s, a, b) in pairs {
        if used_a.contains(&a) || used_b.contains(&b) {
            continue;
        }
        used_a.insert(a);
        used_b.insert(b);
        out.push((s, a, b));
    }
    out
}

/// Computes every metric the result allows.
pub fn case_metrics(name: &str, truth: &Truth, res: &ResultSet) -> Result<CaseMetrics, String> {
    if truth.labels.dim() != res.labels.dim() {
        return Err(format!(
            "labels.tif is {}x{} but the truth is {}x{}",
            res.labels.ncols(),
            res.labels.nrows(),
            truth.labels.ncols(),
            truth.labels.nrows()
        ));
    }
    let (h, w) = truth.labels.dim();
    // Areas and intersections.
    let mut area_t: HashMap<u32, usize> = HashMap::new();
    let mut area_p: HashMap<u32, usize> = HashMap::new();
    let mut inter: HashMap<(u32, u32), usize> = HashMap::new();
    for (t, p) in truth.labels.iter().zip(res.labels.iter()) {
        if *t != 0 {
            *area_t.entry(*t).or_default() += 1;
        }
        if *p != 0 {
            *area_p.entry(*p).or_default() += 1;
        }
        if *t != 0 && *p != 0 {
            *inter.entry((*t, *p)).or_default() += 1;
        }
    }
    let is_debris = |t: u32| truth.nuclei.get(&t).map(|n| n.is_debris).unwrap_or(false);
    let scored = |p: u32| res.nuclei.get(&p).map(|n| n.scored).unwrap_or(false);
    let mut pairs = Vec::new();
    for (&(t, p), &i) in &inter {
        let iou = i as f64 / (area_t[&t] + area_p[&p] - i) as f64;
        if iou >= 0.5 {
            pairs.push((iou, t as usize, p as usize));
        }
    }
    let matches = greedy(pairs, |a, b| b.total_cmp(&a));
    let t_to_p: HashMap<u32, (u32, f64)> = matches
        .iter()
        .map(|&(s, t, p)| (t as u32, (p as u32, s)))
        .collect();
    // Result objects that are debris in truth (matched to debris, or lying
    // mostly on debris) count on neither side.
    let mut ignored_p = std::collections::HashSet::new();
    for &(_, t, p) in &matches {
        if is_debris(t as u32) {
            ignored_p.insert(p as u32);
        }
    }
    for (&(t, p), &i) in &inter {
        if is_debris(t) && i * 2 > area_p[&p] {
            ignored_p.insert(p);
        }
    }
    let nuclei_truth: Vec<u32> = area_t.keys().copied().filter(|&t| !is_debris(t)).collect();
    let n_pred = area_p.keys().filter(|p| !ignored_p.contains(p)).count();
    let nucleus_matches: Vec<f64> = matches
        .iter()
        .filter(|m| !is_debris(m.1 as u32))
        .map(|m| m.0)
        .collect();
    let mut nm = NucleusMetrics {
        detection: Detection::new(nuclei_truth.len(), n_pred, nucleus_matches.len()),
        mean_iou: (!nucleus_matches.is_empty())
            .then(|| nucleus_matches.iter().sum::<f64>() / nucleus_matches.len() as f64),
        ..Default::default()
    };
    // Best coverage of each truth nucleus by one scored result nucleus.
    let mut covered_by_scored: HashMap<u32, f64> = HashMap::new();
    for (&(t, p), &i) in &inter {
        if scored(p) {
            let c = i as f64 / area_t[&t] as f64;
            let e = covered_by_scored.entry(t).or_default();
            *e = e.max(c);
        }
    }
    for &t in area_t.keys() {
        let Some(tn) = truth.nuclei.get(&t) else {
            continue;
        };
        let kept = t_to_p.get(&t).map(|(p, _)| scored(*p)).unwrap_or(false);
        let covered = covered_by_scored.get(&t).copied().unwrap_or(0.0) >= 0.5;
        if tn.is_debris {
            nm.debris_scored += kept as usize;
        } else if tn.scorable {
            nm.scorable_truth += 1;
            nm.scorable_kept += kept as usize;
        } else {
            match tn.reason.as_str() {
                "overlapping" => {
                    nm.overlapping_truth += 1;
                    nm.overlapping_scored += covered as usize;
                }
                "cut_by_border" => {
                    nm.cut_truth += 1;
                    nm.cut_scored += covered as usize;
                }
                "out_of_focus" => {
                    nm.out_of_focus_truth += 1;
                    nm.out_of_focus_scored += covered as usize;
                }
                _ => {}
            }
        }
    }
    nm.scorable_kept_share =
        (nm.scorable_truth > 0).then(|| nm.scorable_kept as f64 / nm.scorable_truth as f64);
    nm.overlapping_scored_share = (nm.overlapping_truth > 0)
        .then(|| nm.overlapping_scored as f64 / nm.overlapping_truth as f64);

    // Per-nucleus counts over matched, truly scorable, scored nuclei.
    let has_counts = res
        .nuclei
        .values()
        .any(|n| n.target.is_some() && n.control.is_some());
    let counts = has_counts.then(|| {
        let mut c = CountMetrics::default();
        let (mut te, mut ce, mut be, mut tae, mut cae) = (0, 0, 0, 0.0, 0.0);
        let mut cl_rel = Vec::new();
        let mut keys: Vec<&u32> = t_to_p.keys().collect();
        keys.sort();
        for t in keys {
            let (p, _) = t_to_p[t];
            let (Some(tn), Some(rn)) = (truth.nuclei.get(t), res.nuclei.get(&p)) else {
                continue;
            };
            let (Some(rt), Some(rc)) = (rn.target, rn.control) else {
                continue;
            };
            if !tn.scorable || !rn.scored {
                continue;
            }
            c.nuclei += 1;
            tae += (rt - tn.target as f64).abs();
            cae += (rc - tn.control as f64).abs();
            if tn.cluster {
                if tn.target > 0 {
                    cl_rel.push((rt - tn.target as f64).abs() / tn.target as f64);
                }
            } else {
                c.non_cluster_nuclei += 1;
                let t_ok = rt.round() as i64 == tn.target as i64;
                let c_ok = rc.round() as i64 == tn.control as i64;
                te += t_ok as usize;
                ce += c_ok as usize;
                be += (t_ok && c_ok) as usize;
            }
        }
        let nn = c.non_cluster_nuclei as f64;
        if c.non_cluster_nuclei > 0 {
            c.target_exact_rate = Some(te as f64 / nn);
            c.control_exact_rate = Some(ce as f64 / nn);
            c.both_exact_rate = Some(be as f64 / nn);
        }
        if c.nuclei > 0 {
            c.target_mae = Some(tae / c.nuclei as f64);
            c.control_mae = Some(cae / c.nuclei as f64);
        }
        c.cluster_nucleus_target_median_rel_error = median(cl_rel);
        c
    });

    // Signals.
    let signals = res.spots.as_ref().map(|spots| {
        let label_at = |x: f64, y: f64| -> u32 {
            let xi = x.round();
            let yi = y.round();
            if xi < 0.0 || yi < 0.0 || xi >= w as f64 || yi >= h as f64 {
                0
            } else {
                truth.labels[[yi as usize, xi as usize]]
            }
        };
        let scorable_label = |l: u32| truth.nuclei.get(&l).map(|n| n.scorable).unwrap_or(false);
        let mut sm = SignalMetrics::default();
        let mut all = (0, 0, 0);
        for channel in ["target", "control"] {
            let ts: Vec<_> = truth
                .spots
                .iter()
                .filter(|s| s.channel == channel && s.copies == 1 && scorable_label(s.nucleus))
                .collect();
            let ps: Vec<_> = spots
                .iter()
                .filter(|s| {
                    s.channel == channel
                        && s.kind != "cluster"
                        && (s.copies - 1.0).abs() < 0.5
                        && scorable_label(label_at(s.x, s.y))
                })
                .collect();
            let mut pairs = Vec::new();
            for (i, t) in ts.iter().enumerate() {
                for (j, p) in ps.iter().enumerate() {
                    let mut d = ((t.x - p.x).powi(2) + (t.y - p.y).powi(2)).sqrt();
                    for &(dx, dy) in &t.dots {
                        d = d.min(((dx - p.x).powi(2) + (dy - p.y).powi(2)).sqrt());
                    }
                    if d <= 2.0 {
                        pairs.push((d, i, j));
                    }
                }
            }
            let m = greedy(pairs, |a, b| a.total_cmp(&b)).len();
            let det = Detection::new(ts.len(), ps.len(), m);
            all = (all.0 + ts.len(), all.1 + ps.len(), all.2 + m);
            if channel == "target" {
                sm.target = det;
            } else {
                sm.control = det;
            }
        }
        sm.all = Detection::new(all.0, all.1, all.2);
        // Clusters.
        let tc: Vec<_> = truth.spots.iter().filter(|s| s.kind == "cluster").collect();
        let pc: Vec<_> = spots
            .iter()
            .filter(|s| s.kind == "cluster" || (s.kind.is_empty() && s.copies > 1.5))
            .collect();
        let px = truth.summary.pixel_size_um;
        let mut pairs = Vec::new();
        for (i, t) in tc.iter().enumerate() {
            for (j, p) in pc.iter().enumerate() {
                if p.channel != t.channel {
                    continue;
                }
                let d = ((t.x - p.x).powi(2) + (t.y - p.y).powi(2)).sqrt();
                if d <= t.radius_um / px + 2.0 {
                    pairs.push((d, i, j));
                }
            }
        }
        let cm = greedy(pairs, |a, b| a.total_cmp(&b));
        sm.clusters_truth = tc.len();
        sm.clusters_matched = cm.len();
        sm.cluster_median_rel_error = median(
            cm.iter()
                .map(|&(_, i, j)| (pc[j].copies - tc[i].copies as f64).abs() / tc[i].copies as f64)
                .collect(),
        );
        sm.target_in_empty_nuclei = spots
            .iter()
            .filter(|s| s.channel == "target" && s.copies > 0.0)
            .filter(|s| {
                let l = label_at(s.x, s.y);
                truth
                    .nuclei
                    .get(&l)
                    .map(|n| n.scorable && n.target == 0)
                    .unwrap_or(false)
            })
            .count();
        sm
    });

    // Ratio and call.
    let call = res.report.as_ref().map(|rep| {
        let ratio = rep.get("ratio").and_then(|v| v.as_f64());
        let pred_call = rep.get("call").and_then(|v| v.as_str()).map(str::to_string);
        let truth_ratio = truth.summary.ratio;
        let (mut st, mut sc) = (0u64, 0u64);
        let counted = |p: u32| res.nuclei.get(&p).map(|n| n.counted).unwrap_or(false);
        for (t, (p, _)) in &t_to_p {
            if let (Some(tn), true) = (truth.nuclei.get(t), counted(*p)) {
                st += tn.target as u64;
                sc += tn.control as u64;
            }
        }
        let of_scored = (sc > 0).then(|| st as f64 / sc as f64);
        let rel = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some((a - b).abs() / b),
            _ => None,
        };
        let correct = pred_call.as_ref().map(|c| *c == truth.summary.call);
        CallMetrics {
            truth_ratio,
            ratio,
            ratio_rel_error: rel(ratio, truth_ratio),
            truth_ratio_of_scored: of_scored,
            ratio_rel_error_of_scored: rel(ratio, of_scored),
            truth_call: truth.summary.call.clone(),
            call_acceptable: pred_call.as_ref().map(|c| {
                *c == truth.summary.call || (truth.summary.borderline && c == "EQUIVOCAL")
            }),
            call: pred_call,
            call_correct: correct,
        }
    });

    Ok(CaseMetrics {
        case: name.to_string(),
        tags: truth.summary.tags.clone(),
        nuclei: nm,
        counts,
        signals,
        call,
    })
}
