//! Accuracy of a result folder against simulator ground truth
//! (`fishscore evaluate TRUTH RESULT`), for one case or a tree of cases.

pub mod metrics;
pub mod read;

pub use metrics::{CaseMetrics, Detection};

use crate::io::IoError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Evaluates one result folder against one truth folder.
pub fn evaluate_case(truth_dir: &Path, result_dir: &Path) -> Result<CaseMetrics, IoError> {
    let truth = read::read_truth(truth_dir)?;
    let res = read::read_result(result_dir)?;
    let name = truth_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    metrics::case_metrics(&name, &truth, &res).map_err(|e| IoError::format(result_dir, e))
}

/// One row of a tree evaluation: metrics, or why the case could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    /// Case folder name.
    pub case: String,
    /// Metrics, when the case was evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<CaseMetrics>,
    /// The error, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Pooled figures over a group of cases.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupSummary {
    /// Cases evaluated.
    pub cases: usize,
    /// Nucleus detection pooled over cases.
    pub nuclei: Detection,
    /// Mean IoU over all matched nuclei.
    pub mean_iou: Option<f64>,
    /// Truly scorable nuclei kept scorable (pooled).
    pub scorable_kept_share: Option<f64>,
    /// Truly overlapping nuclei scored (pooled).
    pub overlapping_scored_share: Option<f64>,
    /// Single-copy target signals (pooled).
    pub signals_target: Option<Detection>,
    /// Single-copy control signals (pooled).
    pub signals_control: Option<Detection>,
    /// Both channels (pooled).
    pub signals_all: Option<Detection>,
    /// Exact target count share over non-cluster nuclei (pooled).
    pub target_exact_rate: Option<f64>,
    /// Exact control count share over non-cluster nuclei (pooled).
    pub control_exact_rate: Option<f64>,
    /// Both counts exact over non-cluster nuclei (pooled).
    pub both_exact_rate: Option<f64>,
    /// Median of the cases' cluster median relative errors.
    pub cluster_median_rel_error: Option<f64>,
    /// Median ratio relative error over cases.
    pub ratio_rel_error_median: Option<f64>,
    /// Worst ratio relative error.
    pub ratio_rel_error_max: Option<f64>,
    /// Correct calls.
    pub calls_correct: usize,
    /// Acceptable calls (EQUIVOCAL allowed where truth is borderline).
    pub calls_acceptable: usize,
    /// Cases with a call.
    pub calls_total: usize,
}

#[derive(Default)]
struct Acc {
    n: usize,
    det: (usize, usize, usize),
    iou_sum: f64,
    scor: (usize, usize),
    over: (usize, usize),
    sig: Option<[(usize, usize, usize); 3]>,
    exact: (usize, usize, usize, usize),
    cluster: Vec<f64>,
    ratio: Vec<f64>,
    calls: (usize, usize, usize),
}

impl Acc {
    fn add(&mut self, m: &CaseMetrics) {
        self.n += 1;
        let d = &m.nuclei.detection;
        self.det = (
            self.det.0 + d.truth,
            self.det.1 + d.predicted,
            self.det.2 + d.matched,
        );
        self.iou_sum += m.nuclei.mean_iou.unwrap_or(0.0) * d.matched as f64;
        self.scor = (
            self.scor.0 + m.nuclei.scorable_truth,
            self.scor.1 + m.nuclei.scorable_kept,
        );
        self.over = (
            self.over.0 + m.nuclei.overlapping_truth,
            self.over.1 + m.nuclei.overlapping_scored,
        );
        if let Some(s) = &m.signals {
            let mut a = self.sig.unwrap_or_default();
            for (k, d) in [&s.target, &s.control, &s.all].into_iter().enumerate() {
                a[k] = (a[k].0 + d.truth, a[k].1 + d.predicted, a[k].2 + d.matched);
            }
            self.sig = Some(a);
            if let Some(e) = s.cluster_median_rel_error {
                self.cluster.push(e);
            }
        }
        if let Some(c) = &m.counts {
            let n = c.non_cluster_nuclei;
            let r = |x: Option<f64>| (x.unwrap_or(0.0) * n as f64).round() as usize;
            self.exact = (
                self.exact.0 + n,
                self.exact.1 + r(c.target_exact_rate),
                self.exact.2 + r(c.control_exact_rate),
                self.exact.3 + r(c.both_exact_rate),
            );
        }
        if let Some(c) = &m.call {
            if let Some(e) = c.ratio_rel_error {
                self.ratio.push(e);
            }
            if let Some(ok) = c.call_correct {
                self.calls.0 += ok as usize;
                self.calls.1 += c.call_acceptable.unwrap_or(false) as usize;
                self.calls.2 += 1;
            }
        }
    }

    fn summary(&self) -> GroupSummary {
        let share = |(t, k): (usize, usize)| (t > 0).then(|| k as f64 / t as f64);
        let mut ratio = self.ratio.clone();
        ratio.sort_by(|a, b| a.total_cmp(b));
        let mut cluster = self.cluster.clone();
        cluster.sort_by(|a, b| a.total_cmp(b));
        let med = |v: &[f64]| {
            (!v.is_empty()).then(|| {
                let n = v.len();
                if n % 2 == 1 {
                    v[n / 2]
                } else {
                    0.5 * (v[n / 2 - 1] + v[n / 2])
                }
            })
        };
        let sig = |k: usize| self.sig.map(|a| Detection::new(a[k].0, a[k].1, a[k].2));
        GroupSummary {
            cases: self.n,
            nuclei: Detection::new(self.det.0, self.det.1, self.det.2),
            mean_iou: (self.det.2 > 0).then(|| self.iou_sum / self.det.2 as f64),
            scorable_kept_share: share(self.scor),
            overlapping_scored_share: share(self.over),
            signals_target: sig(0),
            signals_control: sig(1),
            signals_all: sig(2),
            target_exact_rate: share((self.exact.0, self.exact.1)),
            control_exact_rate: share((self.exact.0, self.exact.2)),
            both_exact_rate: share((self.exact.0, self.exact.3)),
            cluster_median_rel_error: med(&cluster),
            ratio_rel_error_median: med(&ratio),
            ratio_rel_error_max: ratio.last().copied(),
            calls_correct: self.calls.0,
            calls_acceptable: self.calls.1,
            calls_total: self.calls.2,
        }
    }
}

/// Result of a tree evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct TreeReport {
    /// One row per truth case, in name order.
    pub cases: Vec<CaseRow>,
    /// Pooled over every evaluated case.
    pub summary: GroupSummary,
    /// Pooled per tag.
    pub by_tag: BTreeMap<String, GroupSummary>,
    /// Cases that could not be evaluated.
    pub failed: usize,
}

/// Summarises evaluated cases, overall and per tag.
pub fn summarize(rows: Vec<CaseRow>) -> TreeReport {
    let mut all = Acc::default();
    let mut tags: BTreeMap<String, Acc> = BTreeMap::new();
    let mut failed = 0;
    for r in &rows {
        match &r.metrics {
            Some(m) => {
                all.add(m);
                for t in &m.tags {
                    tags.entry(t.clone()).or_default().add(m);
                }
            }
            None => failed += 1,
        }
    }
    TreeReport {
        summary: all.summary(),
        by_tag: tags.iter().map(|(k, v)| (k.clone(), v.summary())).collect(),
        cases: rows,
        failed,
    }
}

/// Evaluates every case folder (one holding truth.json) under `truth_root`
/// against the folder of the same name under `result_root`.
pub fn evaluate_tree(truth_root: &Path, result_root: &Path) -> Result<TreeReport, IoError> {
    let mut names: Vec<String> = std::fs::read_dir(truth_root)
        .map_err(|e| IoError::open(truth_root, &e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("truth.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(IoError::format(
            truth_root,
            "holds no truth.json and no case folders with one",
        ));
    }
    use rayon::prelude::*;
    let rows: Vec<CaseRow> = names
        .par_iter()
        .map(
            |n| match evaluate_case(&truth_root.join(n), &result_root.join(n)) {
                Ok(m) => CaseRow {
                    case: n.clone(),
                    metrics: Some(m),
                    error: None,
                },
                Err(e) => CaseRow {
                    case: n.clone(),
                    metrics: None,
                    error: Some(e.to_string()),
                },
            },
        )
        .collect();
    Ok(summarize(rows))
}
