//! A cytogeneticist's review: nuclei excluded (or re-included) by hand, the
//! file the HTML report exports ("export review"), and how a review turns
//! into a new score.
//!
//! Review file (JSON, `format` = [`REVIEW_FORMAT`]):
//!
//! ```json
//! {"format": "fishscore-review/1", "case": "amp", "reviewer": "Dr A. Reader",
//!  "time_utc": "2026-11-25T10:02:11.513Z",
//!  "decisions": [{"field": "image", "id": 17, "decision": "exclude"}],
//!  "shown": {"call": "AMPLIFIED", "ratio": 5.61, "ratio_ci95": [4.2, 7.1]}}
//! ```
//!
//! `exclude` removes an eligible nucleus from the count (the next nucleus in
//! the fixed order takes its place, `scoring::rescore`); `include` returns a
//! nucleus that the morphology rules excluded (overlap, border, focus,
//! size) to the eligible nuclei, where it takes the place its order key
//! gives it. A nucleus without a signal of one colour cannot be included
//! (the panel requires both). `shown` is what the browser displayed; the
//! rescore records whether fishscore computes the same.

use super::score_input::ScoreInput;
use crate::scoring::{rescore, NucleusStatus, Score};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Value of the `format` key of a review file.
pub const REVIEW_FORMAT: &str = "fishscore-review/1";

/// What a reviewer decided about one nucleus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Do not count this nucleus.
    Exclude,
    /// Count this nucleus although the morphology rules excluded it.
    Include,
}

/// One decision of a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Field name (as in nuclei.csv).
    pub field: String,
    /// Nucleus id within the field (label value).
    pub id: u32,
    /// `exclude` or `include`.
    pub decision: Action,
}

/// What the HTML report displayed when the review was exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    /// The call shown.
    pub call: String,
    /// The ratio shown (full precision), or null.
    pub ratio: Option<f64>,
    /// The interval shown, or null.
    pub ratio_ci95: Option<[f64; 2]>,
}

/// A review file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Always [`REVIEW_FORMAT`].
    pub format: String,
    /// Case identifier; must match the result's.
    pub case: String,
    /// Who reviewed (required, not empty).
    pub reviewer: String,
    /// When the review was exported (ISO 8601, UTC), as the browser gave it.
    pub time_utc: String,
    /// Decisions, one per nucleus.
    pub decisions: Vec<Decision>,
    /// What the report showed at export (optional).
    #[serde(default)]
    pub shown: Option<Shown>,
}

/// Parses a review file's text; `Err` is one line without the file name.
pub fn parse_review(text: &str) -> Result<Review, String> {
    let r: Review =
        serde_json::from_str(text).map_err(|e| format!("not a fishscore review file ({e})"))?;
    if r.format != REVIEW_FORMAT {
        return Err(format!("format '{}' is not '{REVIEW_FORMAT}'", r.format));
    }
    if r.reviewer.trim().is_empty() {
        return Err("the reviewer's name is empty: a review must say who made it".into());
    }
    Ok(r)
}

/// Applies a review to the scoring input: checks every decision and
/// returns the score after it. `Err` is one line naming the decision that
/// cannot be applied.
pub fn apply_review(input: &ScoreInput, review: &Review) -> Result<Score, String> {
    if review.case != input.case {
        return Err(format!(
            "the review is for case '{}' but this result is case '{}'",
            review.case, input.case
        ));
    }
    let mut nuclei = input.nuclei.clone();
    let mut excluded = Vec::new();
    let mut seen: BTreeMap<(usize, u32), Action> = BTreeMap::new();
    for d in &review.decisions {
        let f = input.field_index(&d.field).ok_or_else(|| {
            format!(
                "decision on field '{}': the case has no such field (fields: {})",
                d.field,
                input.fields.join(", ")
            )
        })?;
        let i = nuclei
            .iter()
            .position(|n| n.field == f && n.id == d.id)
            .ok_or_else(|| format!("field '{}' has no nucleus {}", d.field, d.id))?;
        if let Some(prev) = seen.insert((f, d.id), d.decision) {
            if prev != d.decision {
                return Err(format!(
                    "nucleus {} of field '{}' is both excluded and included",
                    d.id, d.field
                ));
            }
        }
        match d.decision {
            Action::Exclude => excluded.push((f, d.id)),
            Action::Include => {
                let n = &mut nuclei[i];
                if let Some(r) = crate::scoring::enumerate::signal_exclusion(
                    n.target,
                    n.control,
                    input.panel.require_both_signals,
                ) {
                    return Err(format!(
                        "nucleus {} of field '{}' cannot be included: {r} (the {} panel needs a signal of each colour)",
                        d.id, d.field, input.panel.name
                    ));
                }
                n.scorable = true;
            }
        }
    }
    Ok(rescore(&nuclei, &input.panel, &input.params, &excluded))
}

/// Status of a nucleus in words: `enumerated`, `eligible` (eligible, not
/// enumerated) or `excluded: REASON`.
pub fn status_text(s: &NucleusStatus) -> String {
    if s.enumerated {
        "enumerated".into()
    } else if s.eligible {
        "eligible".into()
    } else {
        format!(
            "excluded: {}",
            s.excluded_reason.as_deref().unwrap_or("unknown")
        )
    }
}

/// A nucleus whose status differs between two scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Field name.
    pub field: String,
    /// Nucleus id.
    pub id: u32,
    /// Status in the automated result ([`status_text`]).
    pub before: String,
    /// Status after the review.
    pub after: String,
}

/// Every nucleus whose status changed (input order).
pub fn changes(input: &ScoreInput, before: &Score, after: &Score) -> Vec<Change> {
    before
        .per_nucleus
        .iter()
        .zip(&after.per_nucleus)
        .filter_map(|(a, b)| {
            let (sa, sb) = (status_text(a), status_text(b));
            (sa != sb).then(|| Change {
                field: input.fields.get(a.field).cloned().unwrap_or_default(),
                id: a.id,
                before: sa,
                after: sb,
            })
        })
        .collect()
}

/// The headline figures of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The call.
    pub call: String,
    /// The ratio.
    pub ratio: Option<f64>,
    /// Its 95 % interval.
    pub ratio_ci95: Option<[f64; 2]>,
    /// Nuclei enumerated.
    pub nuclei_scored: usize,
}

impl Outcome {
    /// The headline of `s`.
    pub fn of(s: &Score) -> Outcome {
        Outcome {
            call: s.call.as_str().to_string(),
            ratio: s.ratio,
            ratio_ci95: s.ratio_ci95,
            nuclei_scored: s.nuclei_scored,
        }
    }
}

/// The record of a review kept in the reviewed report's provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRecord {
    /// Who reviewed.
    pub reviewer: String,
    /// When the review was exported, as the review file says.
    pub review_time_utc: String,
    /// When fishscore recomputed the report (ISO 8601 UTC).
    pub rescored_utc: String,
    /// The review file, as given on the command line.
    pub review_file: String,
    /// SHA-256 of the review file.
    pub review_sha256: String,
    /// The decisions, as in the file.
    pub decisions: Vec<Decision>,
    /// Every nucleus whose status changed (decided ones and the nuclei that
    /// moved into or out of the count because of them).
    pub changes: Vec<Change>,
    /// The automated result (report.json).
    pub automated: Outcome,
    /// The result after the review.
    pub reviewed: Outcome,
    /// Whether the call changed.
    pub call_changed: bool,
    /// Whether the figures the HTML showed at export equal fishscore's
    /// (`None` when the file has no `shown`).
    pub shown_matches: Option<bool>,
    /// The file holding the automated result, kept unchanged.
    pub automated_report: String,
}

/// Whether the figures a browser showed equal the computed ones (exact
/// equality of the doubles: the page computes the same arithmetic).
pub fn shown_matches(shown: &Shown, s: &Score) -> bool {
    shown.call == s.call.as_str() && shown.ratio == s.ratio && shown.ratio_ci95 == s.ratio_ci95
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::{NucleusCounts, Panel, ScoringParams};

    fn input() -> ScoreInput {
        // 60 scorable nuclei 4/2 (field 0) and 2 overlapping ones; 1 without
        // a control signal.
        let mut nuclei: Vec<NucleusCounts> = (1..=60u32)
            .map(|id| NucleusCounts {
                field: 0,
                id,
                x: 0.0,
                y: 0.0,
                scorable: true,
                excluded_reason: None,
                target: 2 + id % 3,
                control: 2,
                cluster: false,
                tntc: false,
                control_faint: 0,
                cluster_copies: [0, 0],
                reference_rel_se: [None, None],
            })
            .collect();
        nuclei.push(NucleusCounts {
            id: 61,
            scorable: false,
            excluded_reason: Some("overlapping".into()),
            target: 9,
            control: 1,
            ..nuclei[0].clone()
        });
        nuclei.push(NucleusCounts {
            id: 62,
            control: 0,
            ..nuclei[0].clone()
        });
        ScoreInput {
            format: crate::report::score_input::SCORE_INPUT_FORMAT.into(),
            case: "c".into(),
            fields: vec!["img".into()],
            panel: Panel::default(),
            params: ScoringParams {
                bootstrap_resamples: 200,
                ..ScoringParams::default()
            },
            input_qc: vec![],
            nuclei,
        }
    }

    fn review(decisions: Vec<Decision>) -> Review {
        Review {
            format: REVIEW_FORMAT.into(),
            case: "c".into(),
            reviewer: "R".into(),
            time_utc: "2026-01-01T00:00:00Z".into(),
            decisions,
            shown: None,
        }
    }

    fn d(id: u32, decision: Action) -> Decision {
        Decision {
            field: "img".into(),
            id,
            decision,
        }
    }

    #[test]
    fn exclusion_equals_library_rescore_and_lists_the_replacement() {
        let inp = input();
        let auto = inp.score();
        let first = auto
            .per_nucleus
            .iter()
            .find(|s| s.order == Some(0))
            .unwrap();
        let r = apply_review(&inp, &review(vec![d(first.id, Action::Exclude)])).unwrap();
        let lib = rescore(&inp.nuclei, &inp.panel, &inp.params, &[(0, first.id)]);
        assert_eq!(r, lib);
        let ch = changes(&inp, &auto, &r);
        // The excluded nucleus, and the 51st in order now enumerated.
        assert_eq!(ch.len(), 2, "{ch:?}");
        let mine = ch.iter().find(|c| c.id == first.id).unwrap();
        assert_eq!(mine.before, "enumerated");
        assert_eq!(mine.after, "excluded: excluded_by_reviewer");
        assert!(ch
            .iter()
            .any(|c| c.before == "eligible" && c.after == "enumerated"));
    }

    #[test]
    fn include_returns_a_morphology_exclusion_to_the_eligible() {
        let inp = input();
        let r = apply_review(&inp, &review(vec![d(61, Action::Include)])).unwrap();
        let st = r.per_nucleus.iter().find(|s| s.id == 61).unwrap();
        assert!(st.eligible);
        assert_eq!(r.nuclei_eligible, inp.score().nuclei_eligible + 1);
    }

    #[test]
    fn bad_decisions_are_one_line_errors() {
        let inp = input();
        let e = apply_review(&inp, &review(vec![d(62, Action::Include)])).unwrap_err();
        assert!(e.contains("no_control_signal"), "{e}");
        let e = apply_review(&inp, &review(vec![d(999, Action::Exclude)])).unwrap_err();
        assert!(e.contains("no nucleus 999"), "{e}");
        let mut other = review(vec![]);
        other.case = "x".into();
        assert!(apply_review(&inp, &other).unwrap_err().contains("case 'x'"));
        let e = apply_review(
            &inp,
            &review(vec![d(3, Action::Exclude), d(3, Action::Include)]),
        )
        .unwrap_err();
        assert!(e.contains("both"), "{e}");
        let bad = Decision {
            field: "nope".into(),
            id: 1,
            decision: Action::Exclude,
        };
        assert!(apply_review(&inp, &review(vec![bad]))
            .unwrap_err()
            .contains("no such field"));
    }

    #[test]
    fn parse_checks_format_and_reviewer() {
        let ok = r#"{"format":"fishscore-review/1","case":"c","reviewer":"A","time_utc":"t","decisions":[{"field":"img","id":3,"decision":"exclude"}]}"#;
        assert_eq!(parse_review(ok).unwrap().decisions.len(), 1);
        assert!(parse_review(&ok.replace("\"A\"", "\" \""))
            .unwrap_err()
            .contains("reviewer"));
        assert!(parse_review(&ok.replace("review/1", "review/9"))
            .unwrap_err()
            .contains("format"));
        assert!(parse_review(&ok.replace("exclude", "drop")).is_err());
        assert!(parse_review("{").is_err());
    }
}
