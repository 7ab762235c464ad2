//! ISCN-style summary of an interphase FISH count (ISCN 2020, "nuc ish").
//!
//! The convention used here, always computed from the enumerated nuclei in
//! the same way so that equal counts give equal strings:
//!
//! - Probes are listed in the panel's ISCN order (pter to qter on the
//!   chromosome, `iscn.target_first`), by their locus names
//!   (`iscn.target`, `iscn.control`).
//! - A nucleus shows amplification ("amp") when it carries a cluster, is
//!   too numerous to count, or its own target/control ratio is at least
//!   the panel cutoff (a nucleus without control signal but with target
//!   signal counts as amplified).
//! - AMPLIFIED call: `nuc ish(D12Z3xC,MDM2amp)[k/N]`, with `k` the nuclei
//!   showing amplification, `N` the enumerated nuclei and `C` the most
//!   frequent control count among the `k` (ties: the smaller count).
//! - Any other call: the most frequent (control, target) pattern among the
//!   enumerated nuclei (ties: smaller control, then smaller target), as
//!   `nuc ish(D12Z3,MDM2)x2[k/N]` when both counts are equal and
//!   `nuc ish(D12Z3x2,MDM2x3)[k/N]` when they differ.
//! - `[k/N]` becomes `[N]` when all nuclei show the pattern.
//! - No enumerated nucleus: `nuc ish(D12Z3,MDM2)[0]`.
//!
//! Example: `nuc ish(D12Z3x2,MDM2amp)[43/50]` is 43 of 50 nuclei with MDM2
//! amplification and (mostly) two chromosome 12 centromeres.

use super::panel::Panel;
use super::rules::Call;
use std::collections::BTreeMap;

/// Per-nucleus counts the ISCN string is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IscnNucleus {
    /// Target signals.
    pub target: u32,
    /// Control signals.
    pub control: u32,
    /// Flagged as showing a cluster or too numerous to count.
    pub cluster: bool,
}

/// Whether a nucleus counts as amplified for the ISCN string and the
/// share of nuclei with a per-nucleus ratio at or above the cutoff:
/// `control > 0 ? target / control >= cutoff : target > 0`.
pub fn nucleus_ratio_ge(target: u32, control: u32, cutoff: f64) -> bool {
    if control > 0 {
        target as f64 / control as f64 >= cutoff
    } else {
        target > 0
    }
}

/// The ISCN string (convention in the module documentation).
pub fn iscn_summary(panel: &Panel, call: Call, nuclei: &[IscnNucleus]) -> String {
    let (t, c) = (&panel.iscn.target, &panel.iscn.control);
    let pair = |tt: &str, cc: &str| {
        if panel.iscn.target_first {
            format!("{tt},{cc}")
        } else {
            format!("{cc},{tt}")
        }
    };
    let n = nuclei.len();
    let cells = |k: usize| {
        if k == n {
            format!("[{n}]")
        } else {
            format!("[{k}/{n}]")
        }
    };
    if n == 0 {
        return format!("nuc ish({})[0]", pair(t, c));
    }
    if call == Call::Amplified {
        let amp: Vec<&IscnNucleus> = nuclei
            .iter()
            .filter(|x| x.cluster || nucleus_ratio_ge(x.target, x.control, panel.cutoff))
            .collect();
        if let Some(cc) = mode(amp.iter().map(|x| x.control)) {
            return format!(
                "nuc ish({}){}",
                pair(&format!("{t}amp"), &format!("{c}x{cc}")),
                cells(amp.len())
            );
        }
    }
    let patterns = nuclei.iter().map(|x| (x.control, x.target));
    let Some((cc, tt)) = mode(patterns.clone()) else {
        return format!("nuc ish({})[0]", pair(t, c));
    };
    let k = patterns.filter(|p| *p == (cc, tt)).count();
    if cc == tt {
        format!("nuc ish({})x{cc}{}", pair(t, c), cells(k))
    } else {
        format!(
            "nuc ish({}){}",
            pair(&format!("{t}x{tt}"), &format!("{c}x{cc}")),
            cells(k)
        )
    }
}

/// Most frequent value; ties go to the smallest.
fn mode<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut freq: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *freq.entry(v).or_default() += 1;
    }
    // BTreeMap iterates in ascending order; keep the first maximum.
    let mut best: Option<(T, usize)> = None;
    for (v, k) in freq {
        if best.is_none_or(|(_, bk)| k > bk) {
            best = Some((v, k));
        }
    }
    best.map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nuc(target: u32, control: u32) -> IscnNucleus {
        IscnNucleus {
            target,
            control,
            cluster: false,
        }
    }

    #[test]
    fn normal_and_gain_patterns() {
        let p = Panel::default();
        let all_2 = vec![nuc(2, 2); 50];
        assert_eq!(
            iscn_summary(&p, Call::NotAmplified, &all_2),
            "nuc ish(D12Z3,MDM2)x2[50]"
        );
        let mut mixed = vec![nuc(2, 2); 30];
        mixed.extend(vec![nuc(1, 2); 20]);
        assert_eq!(
            iscn_summary(&p, Call::NotAmplified, &mixed),
            "nuc ish(D12Z3,MDM2)x2[30/50]"
        );
        // Tie between (2,1) and (2,3) goes to the smaller target count.
        let tie = vec![nuc(3, 2), nuc(1, 2)];
        assert_eq!(
            iscn_summary(&p, Call::Insufficient, &tie),
            "nuc ish(D12Z3x2,MDM2x1)[1/2]"
        );
        assert_eq!(
            iscn_summary(&p, Call::Insufficient, &[]),
            "nuc ish(D12Z3,MDM2)[0]"
        );
    }

    #[test]
    fn amplification_pattern_and_probe_order() {
        let p = Panel::default();
        let mut v = vec![nuc(8, 2); 40];
        v.extend(vec![nuc(2, 2); 7]);
        v.extend(vec![
            IscnNucleus {
                target: 3,
                control: 2,
                cluster: true,
            };
            3
        ]);
        assert_eq!(
            iscn_summary(&p, Call::Amplified, &v),
            "nuc ish(D12Z3x2,MDM2amp)[43/50]"
        );
        let egfr = Panel::resolve("egfr-cep7").unwrap();
        assert_eq!(
            iscn_summary(&egfr, Call::Amplified, &v),
            "nuc ish(EGFRamp,D7Z1x2)[43/50]"
        );
        assert_eq!(
            iscn_summary(&egfr, Call::NotAmplified, &[nuc(2, 2); 5]),
            "nuc ish(EGFR,D7Z1)x2[5]"
        );
    }

    #[test]
    fn nucleus_ratio_rule() {
        assert!(nucleus_ratio_ge(4, 2, 2.0));
        assert!(!nucleus_ratio_ge(3, 2, 2.0));
        assert!(nucleus_ratio_ge(1, 0, 2.0));
        assert!(!nucleus_ratio_ge(0, 0, 2.0));
    }
}
