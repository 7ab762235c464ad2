//! Which nuclei may be scored, and why not (domain brief, "What the reader
//! does", step 2): intact, non-overlapping, in focus, not cut by the image
//! border, not debris or a clump. Size and focus thresholds are relative to
//! the case's own nuclei, so they hold whatever the magnification.

use super::{Nucleus, NucleusParams};
use serde::Serialize;

/// Why a nucleus is not scored (column `excluded_reason` of nuclei.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// Touches the image border: part of it is missing.
    CutByBorder,
    /// Smaller than a nucleus: debris, apoptotic body, fragment.
    TooSmall,
    /// Larger than a nucleus: an unsplit clump.
    TooLarge,
    /// Lies on (or under) another nucleus, or is a clump of them.
    Overlapping,
    /// Blurred outline: out of the focal plane.
    OutOfFocus,
}

impl ExclusionReason {
    /// The name written in nuclei.csv.
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::CutByBorder => "cut_by_border",
            ExclusionReason::TooSmall => "too_small",
            ExclusionReason::TooLarge => "too_large",
            ExclusionReason::Overlapping => "overlapping",
            ExclusionReason::OutOfFocus => "out_of_focus",
        }
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// Reference figures of a case: median area and outline blur of its
/// nucleus-sized, whole objects.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CaseReference {
    /// Median area (um^2).
    pub median_area_um2: Option<f64>,
    /// Median outline blur (um).
    pub median_edge_blur_um: Option<f64>,
}

/// Sets `scorable` and `reason` on every nucleus of every field of a case.
/// The first failing rule is the reason, in the order: cut by border, too
/// small, too large, overlapping, out of focus.
pub fn classify(fields: &mut [Vec<Nucleus>], p: &NucleusParams) -> CaseReference {
    let min_area = std::f64::consts::PI * (0.5 * p.min_diameter_um).powi(2);
    let whole: Vec<&Nucleus> = fields
        .iter()
        .flatten()
        .filter(|n| !n.touches_border && n.area_um2 >= min_area)
        .collect();
    let median_area = median(whole.iter().map(|n| n.area_um2).collect());
    let median_blur = median(
        whole
            .iter()
            .map(|n| n.edge_blur_um)
            .filter(|b| b.is_finite())
            .collect(),
    );
    for n in fields.iter_mut().flatten() {
        let too_small = n.area_um2 < min_area
            || median_area.is_some_and(|m| n.area_um2 < p.small_area_fraction * m);
        let too_large = median_area.is_some_and(|m| n.area_um2 > p.large_area_factor * m);
        let blurred = median_blur.is_some_and(|m| {
            n.edge_blur_um.is_finite()
                && n.edge_blur_um > (p.focus_blur_factor * m).max(p.focus_min_blur_um)
        });
        let reason = if n.touches_border {
            Some(ExclusionReason::CutByBorder)
        } else if too_small {
            Some(ExclusionReason::TooSmall)
        } else if too_large {
            Some(ExclusionReason::TooLarge)
        } else if n.overlap_evidence || n.solidity < p.min_solidity {
            Some(ExclusionReason::Overlapping)
        } else if blurred {
            Some(ExclusionReason::OutOfFocus)
        } else {
            None
        };
        n.scorable = reason.is_none();
        n.reason = reason;
    }
    CaseReference {
        median_area_um2: median_area,
        median_edge_blur_um: median_blur,
    }
}
