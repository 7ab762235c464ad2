//! Interpretation rules: when to count more nuclei, and the call.
//!
//! `ratio` rules (the project domain brief): ratio >= cutoff is AMPLIFIED,
//! below is NOT_AMPLIFIED; a ratio inside the inclusive borderline zone
//! after `min_nuclei` is counted up to `max_nuclei`, and a ratio still
//! inside the zone then is EQUIVOCAL.
//!
//! `her2_asco_cap_2018` rules (Wolff et al., J Clin Oncol 2018;36:2105):
//! dual-probe groups 1-5 from the ratio and the mean HER2 signals per
//! nucleus; the guideline has no equivocal category. Group 1 is AMPLIFIED
//! (positive), group 5 NOT_AMPLIFIED (negative). Groups 2-4 cannot be
//! decided by ISH alone: the guideline's final result depends on a
//! concurrent IHC review (and, for IHC 2+, a blinded recount of at least
//! 20 more nuclei). They trigger counting up to `max_nuclei` (the recount)
//! and, if the group after that is still 2, 3 or 4, the call is EQUIVOCAL
//! with `her2_group` set and the rule text stating the work-up the
//! guideline prescribes for that group.

use super::panel::{Panel, RuleSet};
use serde::{Deserialize, Serialize};

/// The case's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Call {
    /// Ratio (or HER2 group 1) at or above the cutoff.
    Amplified,
    /// Ratio below the cutoff (or HER2 group 5).
    NotAmplified,
    /// Still in the borderline zone after `max_nuclei` (ratio rules), or
    /// HER2 group 2-4 (work-up required).
    Equivocal,
    /// Fewer eligible nuclei than `min_nuclei`, or no ratio (no control
    /// signal at all).
    Insufficient,
}

impl Call {
    /// `AMPLIFIED`, `NOT_AMPLIFIED`, `EQUIVOCAL` or `INSUFFICIENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Amplified => "AMPLIFIED",
            Call::NotAmplified => "NOT_AMPLIFIED",
            Call::Equivocal => "EQUIVOCAL",
            Call::Insufficient => "INSUFFICIENT",
        }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// ASCO/CAP 2018: mean HER2 signals per nucleus from which group 1 is
/// positive and below which groups 2 and 5 lie.
pub const HER2_MEAN_4: f64 = 4.0;
/// ASCO/CAP 2018: mean HER2 signals per nucleus from which a ratio below
/// the cutoff is group 3.
pub const HER2_MEAN_6: f64 = 6.0;

/// ASCO/CAP 2018 dual-probe group (1-5) of a ratio and a mean HER2 count
/// per nucleus, with `cutoff` the ratio threshold (2.0):
/// 1: ratio >= 2 and mean >= 4; 2: ratio >= 2 and mean < 4;
/// 3: ratio < 2 and mean >= 6; 4: ratio < 2 and 4 <= mean < 6;
/// 5: ratio < 2 and mean < 4.
pub fn her2_group(ratio: f64, mean_target: f64, cutoff: f64) -> u8 {
    if ratio >= cutoff {
        if mean_target >= HER2_MEAN_4 {
            1
        } else {
            2
        }
    } else if mean_target >= HER2_MEAN_6 {
        3
    } else if mean_target >= HER2_MEAN_4 {
        4
    } else {
        5
    }
}

/// Whether `ratio` lies in the panel's inclusive borderline zone.
pub fn in_borderline(panel: &Panel, ratio: f64) -> bool {
    let [lo, hi] = panel.borderline;
    lo <= ratio && ratio <= hi
}

/// Whether the result after the first `min_nuclei` asks for counting up to
/// `max_nuclei`: ratio in the borderline zone, or (HER2) group 2, 3 or 4.
pub fn needs_more_nuclei(panel: &Panel, ratio: Option<f64>, mean_target: Option<f64>) -> bool {
    let Some(r) = ratio else { return false };
    let zone = in_borderline(panel, r);
    match (panel.rules, mean_target) {
        (RuleSet::Her2AscoCap2018, Some(m)) => {
            zone || matches!(her2_group(r, m, panel.cutoff), 2..=4)
        }
        _ => zone,
    }
}

/// The call on the enumerated nuclei, with the text of the rule that made
/// it and the HER2 group (HER2 rules only).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The call.
    pub call: Call,
    /// The rule that produced it, in words with the figures.
    pub rule: String,
    /// ASCO/CAP 2018 group (1-5), HER2 rules only.
    pub her2_group: Option<u8>,
}

/// What [`decide`] needs to know about the count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountSummary {
    /// Eligible nuclei available.
    pub eligible: usize,
    /// Nuclei required (`min_nuclei` or the override).
    pub min_nuclei: usize,
    /// Nuclei counted at most (`max_nuclei` or the override).
    pub max_nuclei: usize,
    /// Nuclei enumerated.
    pub scored: usize,
    /// Pooled ratio over the first `min_nuclei`.
    pub ratio_at_min: Option<f64>,
    /// Whether the count after the first `min_nuclei` asked for more
    /// nuclei (counting then went on up to `max_nuclei` or as many as
    /// are eligible).
    pub borderline_at_min: bool,
    /// Pooled ratio over the enumerated nuclei.
    pub ratio: Option<f64>,
    /// Mean target signals per enumerated nucleus.
    pub mean_target: Option<f64>,
}

/// Applies the panel's rules to the count.
pub fn decide(panel: &Panel, c: &CountSummary) -> Decision {
    let label = panel.ratio_label();
    let [lo, hi] = panel.borderline;
    let cut = panel.cutoff;
    let done = |call: Call, rule: String| Decision {
        call,
        rule,
        her2_group: None,
    };
    if c.eligible < c.min_nuclei {
        return done(
            Call::Insufficient,
            format!(
                "{} eligible nuclei, fewer than the {} required: INSUFFICIENT",
                c.eligible, c.min_nuclei
            ),
        );
    }
    let (Some(ratio), Some(mean_t)) = (c.ratio, c.mean_target) else {
        return done(
            Call::Insufficient,
            format!(
                "no {} signal in the {} enumerated nuclei, so the {label} ratio is undefined: INSUFFICIENT",
                panel.control, c.scored
            ),
        );
    };
    let prefix = if c.borderline_at_min {
        format!(
            "{label} ratio {} over the first {} nuclei {}, so {} nuclei were enumerated; ",
            fmt_ratio(c.ratio_at_min),
            c.min_nuclei,
            match panel.rules {
                RuleSet::Ratio => format!("lay in the borderline zone [{lo}, {hi}]"),
                RuleSet::Her2AscoCap2018 =>
                    "was not conclusive (borderline zone or group 2-4)".into(),
            },
            c.scored
        )
    } else {
        String::new()
    };
    let n = c.scored;
    match panel.rules {
        RuleSet::Ratio => {
            if c.borderline_at_min && in_borderline(panel, ratio) {
                done(
                    Call::Equivocal,
                    format!(
                        "{prefix}{label} ratio {ratio:.3} over {n} nuclei is still in the borderline zone [{lo}, {hi}]: EQUIVOCAL, review recommended"
                    ),
                )
            } else if ratio >= cut {
                done(
                    Call::Amplified,
                    format!("{prefix}{label} ratio {ratio:.3} >= {cut} over {n} nuclei: AMPLIFIED"),
                )
            } else {
                done(
                    Call::NotAmplified,
                    format!(
                        "{prefix}{label} ratio {ratio:.3} < {cut} over {n} nuclei: NOT_AMPLIFIED"
                    ),
                )
            }
        }
        RuleSet::Her2AscoCap2018 => {
            let g = her2_group(ratio, mean_t, cut);
            let t = &panel.target;
            let figures = format!("{label} ratio {ratio:.3}, mean {t} {mean_t:.2} signals per nucleus over {n} nuclei");
            let (call, text) = match g {
                1 => (Call::Amplified, format!("ASCO/CAP 2018 group 1 (ratio >= {cut}, mean {t} >= 4.0): positive: AMPLIFIED")),
                2 => (Call::Equivocal, format!("ASCO/CAP 2018 group 2 (ratio >= {cut}, mean {t} < 4.0): not decided by ISH alone; the guideline reports negative unless concurrent IHC is 3+: EQUIVOCAL, work-up required")),
                3 => (Call::Equivocal, format!("ASCO/CAP 2018 group 3 (ratio < {cut}, mean {t} >= 6.0): not decided by ISH alone; the guideline reports positive if concurrent IHC is 3+, or 2+ confirmed by a blinded recount, negative if IHC 0-1+: EQUIVOCAL, work-up required")),
                4 => (Call::Equivocal, format!("ASCO/CAP 2018 group 4 (ratio < {cut}, 4.0 <= mean {t} < 6.0): not decided by ISH alone; the guideline reports negative unless concurrent IHC is 3+: EQUIVOCAL, work-up required")),
                _ => (Call::NotAmplified, format!("ASCO/CAP 2018 group 5 (ratio < {cut}, mean {t} < 4.0): negative: NOT_AMPLIFIED")),
            };
            Decision {
                call,
                rule: format!("{prefix}{figures}; {text}"),
                her2_group: Some(g),
            }
        }
    }
}

/// A ratio with three decimals, or `undefined`.
pub fn fmt_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{r:.3}"),
        None => "undefined".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn her2_group_boundaries() {
        // Ratio exactly at the cutoff belongs to ">= 2.0".
        assert_eq!(her2_group(2.0, 4.0, 2.0), 1);
        assert_eq!(her2_group(2.0, 3.999, 2.0), 2);
        assert_eq!(her2_group(1.999, 6.0, 2.0), 3);
        assert_eq!(her2_group(1.999, 5.999, 2.0), 4);
        assert_eq!(her2_group(1.999, 4.0, 2.0), 4);
        assert_eq!(her2_group(1.999, 3.999, 2.0), 5);
        assert_eq!(her2_group(2.0, 6.0, 2.0), 1);
        assert_eq!(her2_group(8.0, 1.0, 2.0), 2);
    }

    #[test]
    fn borderline_zone_is_inclusive() {
        let p = Panel::default();
        assert!(in_borderline(&p, 1.8));
        assert!(in_borderline(&p, 2.2));
        assert!(!in_borderline(&p, 1.799_999));
        assert!(!in_borderline(&p, 2.200_001));
        assert!(needs_more_nuclei(&p, Some(2.1), Some(4.0)));
        assert!(!needs_more_nuclei(&p, None, None));
        let h = Panel::resolve("her2-cep17").unwrap();
        // Group 3 far from the ratio zone still asks for the recount.
        assert!(needs_more_nuclei(&h, Some(1.2), Some(7.0)));
        assert!(!needs_more_nuclei(&h, Some(1.2), Some(2.5)));
        assert!(!needs_more_nuclei(&h, Some(3.0), Some(6.5)));
    }

    #[test]
    fn call_names() {
        assert_eq!(
            serde_json::to_string(&Call::NotAmplified).unwrap(),
            "\"NOT_AMPLIFIED\""
        );
        assert_eq!(Call::Insufficient.to_string(), "INSUFFICIENT");
    }
}
