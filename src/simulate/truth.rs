//! Ground truth files written beside a simulated image.

use super::signals::SpotKind;
use super::tissue::Kind;
use super::SimCase;
use crate::io::atomic::write_atomic;
use crate::io::IoError;
use crate::plane::Channel;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Cutoff of the MDM2/CEP12 ratio for an amplified call.
pub const RATIO_CUTOFF: f64 = 2.0;
/// Borderline zone of the ratio (count up to 100 nuclei inside it).
pub const BORDERLINE: (f64, f64) = (1.8, 2.2);
/// Nuclei needed for a call.
pub const MIN_NUCLEI: usize = 50;

/// Case-level truth (`truth.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruthSummary {
    /// fishscore version that wrote it.
    pub version: String,
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Pixel size in um.
    pub pixel_size_um: f64,
    /// Image files of the case, relative to its folder.
    pub files: Vec<String>,
    /// True ratio: total target / total control copies over eligible nuclei
    /// (scorable, >= 1 copy of each colour); null without control copies.
    pub ratio: Option<f64>,
    /// True call: AMPLIFIED (ratio >= 2.0), NOT_AMPLIFIED, or INSUFFICIENT
    /// (fewer than 50 eligible nuclei).
    pub call: String,
    /// The true ratio lies in the borderline zone 1.8-2.2.
    pub borderline: bool,
    /// Mean control >= 3 with ratio < 2.
    pub polysomy: bool,
    /// Nuclei (debris excluded).
    pub nuclei_total: usize,
    /// Debris objects.
    pub debris: usize,
    /// Scorable nuclei (intact, not overlapping, in focus).
    pub nuclei_scorable: usize,
    /// Scorable nuclei with at least one copy of each colour.
    pub nuclei_eligible: usize,
    /// Target copies over eligible nuclei.
    pub target_copies: u64,
    /// Control copies over eligible nuclei.
    pub control_copies: u64,
    /// Mean target copies per eligible nucleus.
    pub mean_target: f64,
    /// Mean control copies per eligible nucleus.
    pub mean_control: f64,
    /// Eligible nuclei holding a cluster.
    pub cluster_nuclei: usize,
    /// Median integrated intensity of one copy in ADU.
    pub single_copy_flux: f64,
    /// Tags for grouping.
    pub tags: Vec<String>,
    /// Every simulation parameter.
    pub params: serde_json::Value,
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// Writes truth_nuclei.csv, truth_spots.csv, truth_granules.csv and truth.json.
pub fn write_truth(case: &SimCase, dir: &Path, files: &[String]) -> Result<TruthSummary, IoError> {
    let p = &case.params;
    let w = p.width();
    let px = p.pixel_size_um;
    let t = &case.tissue;
    // Visible centroid and area of every label.
    let n = t.nuclei.len();
    let mut sx = vec![0.0f64; n + 1];
    let mut sy = vec![0.0f64; n + 1];
    let mut cnt = vec![0usize; n + 1];
    for (i, &o) in t.owner.iter().enumerate() {
        if o != 0 {
            sx[o as usize] += (i % w) as f64;
            sy[o as usize] += (i / w) as f64;
            cnt[o as usize] += 1;
        }
    }

    let path = dir.join("truth_nuclei.csv");
    let mut summary_t = 0u64;
    let mut summary_c = 0u64;
    let mut eligible = 0usize;
    let mut scorable = 0usize;
    let mut clusters = 0usize;
    write_atomic(&path, |out| {
        let mut wr = csv::Writer::from_writer(out);
        let e = csv_err(&path);
        wr.write_record([
            "id",
            "x",
            "y",
            "kind",
            "scorable",
            "reason",
            "target_copies",
            "control_copies",
            "cluster",
            "amplified",
            "area_um2",
            "eligible",
        ])
        .map_err(&e)?;
        for nu in &t.nuclei {
            let id = nu.id as usize;
            let c = case.probes.copies[id - 1];
            let is_scorable = nu.reason().is_none();
            let is_eligible = is_scorable && c.target >= 1 && c.control >= 1;
            if is_scorable {
                scorable += 1;
            }
            if is_eligible {
                eligible += 1;
                summary_t += c.target as u64;
                summary_c += c.control as u64;
                clusters += c.cluster as usize;
            }
            let (x, y) = if cnt[id] > 0 {
                (sx[id] / cnt[id] as f64, sy[id] / cnt[id] as f64)
            } else {
                (nu.shape.cx, nu.shape.cy)
            };
            wr.write_record([
                id.to_string(),
                format!("{x:.2}"),
                format!("{y:.2}"),
                if nu.kind == Kind::Debris {
                    "debris"
                } else {
                    "nucleus"
                }
                .into(),
                is_scorable.to_string(),
                nu.reason().unwrap_or("").into(),
                c.target.to_string(),
                c.control.to_string(),
                c.cluster.to_string(),
                c.amplified.to_string(),
                format!("{:.2}", cnt[id] as f64 * px * px),
                is_eligible.to_string(),
            ])
            .map_err(&e)?;
        }
        wr.flush().map_err(|e| e.to_string())
    })?;

    let path = dir.join("truth_spots.csv");
    write_atomic(&path, |out| {
        let mut wr = csv::Writer::from_writer(out);
        let e = csv_err(&path);
        wr.write_record([
            "id",
            "x",
            "y",
            "channel",
            "nucleus",
            "copies",
            "kind",
            "flux",
            "radius_um",
            "dot1_x",
            "dot1_y",
            "dot2_x",
            "dot2_y",
        ])
        .map_err(&e)?;
        for (i, s) in case.probes.spots.iter().enumerate() {
            let flux: f64 = s.dots.iter().map(|d| d.flux).sum();
            let (d1x, d1y, d2x, d2y) = if s.kind == SpotKind::Split {
                (
                    format!("{:.3}", s.dots[0].x),
                    format!("{:.3}", s.dots[0].y),
                    format!("{:.3}", s.dots[1].x),
                    format!("{:.3}", s.dots[1].y),
                )
            } else {
                Default::default()
            };
            wr.write_record([
                (i + 1).to_string(),
                format!("{:.3}", s.x),
                format!("{:.3}", s.y),
                s.channel.as_str().to_string(),
                s.nucleus.to_string(),
                s.copies.to_string(),
                s.kind.as_str().to_string(),
                format!("{flux:.1}"),
                format!("{:.3}", s.radius_um),
                d1x,
                d1y,
                d2x,
                d2y,
            ])
            .map_err(&e)?;
        }
        wr.flush().map_err(|e| e.to_string())
    })?;

    let path = dir.join("truth_granules.csv");
    write_atomic(&path, |out| {
        let mut wr = csv::Writer::from_writer(out);
        let e = csv_err(&path);
        wr.write_record([
            "x",
            "y",
            "sigma_um",
            "flux_target",
            "flux_control",
            "nucleus",
        ])
        .map_err(&e)?;
        for g in &case.probes.granules {
            wr.write_record([
                format!("{:.3}", g.x),
                format!("{:.3}", g.y),
                format!("{:.3}", g.sigma_px * px),
                format!("{:.1}", g.flux_target),
                format!("{:.1}", g.flux_control),
                if g.nucleus == 0 {
                    String::new()
                } else {
                    g.nucleus.to_string()
                },
            ])
            .map_err(&e)?;
        }
        wr.flush().map_err(|e| e.to_string())
    })?;

    let ratio = (summary_c > 0).then(|| summary_t as f64 / summary_c as f64);
    let mean_target = if eligible > 0 {
        summary_t as f64 / eligible as f64
    } else {
        0.0
    };
    let mean_control = if eligible > 0 {
        summary_c as f64 / eligible as f64
    } else {
        0.0
    };
    let call = match ratio {
        _ if eligible < MIN_NUCLEI => "INSUFFICIENT",
        Some(r) if r >= RATIO_CUTOFF => "AMPLIFIED",
        _ => "NOT_AMPLIFIED",
    };
    let summary = TruthSummary {
        version: crate::VERSION.to_string(),
        width: p.width(),
        height: p.height(),
        pixel_size_um: px,
        files: files.to_vec(),
        ratio,
        call: call.to_string(),
        borderline: ratio.is_some_and(|r| (BORDERLINE.0..=BORDERLINE.1).contains(&r)),
        polysomy: mean_control >= 3.0 && ratio.is_some_and(|r| r < RATIO_CUTOFF),
        nuclei_total: t.nuclei.iter().filter(|n| n.kind == Kind::Nucleus).count(),
        debris: t.nuclei.iter().filter(|n| n.kind == Kind::Debris).count(),
        nuclei_scorable: scorable,
        nuclei_eligible: eligible,
        target_copies: summary_t,
        control_copies: summary_c,
        mean_target,
        mean_control,
        cluster_nuclei: clusters,
        single_copy_flux: case.probes.single_flux,
        tags: p
            .tags
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        params: serde_json::to_value(p).unwrap_or_default(),
    };
    let json = serde_json::to_string_pretty(&summary).map_err(|e| IoError::write(dir, e))?;
    crate::io::atomic::write_bytes_atomic(&dir.join("truth.json"), json.as_bytes())?;
    let _ = Channel::ALL;
    Ok(summary)
}
