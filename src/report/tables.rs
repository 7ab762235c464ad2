//! nuclei.csv and spots.csv (column names are a public contract; see
//! docs/outputs.md).

use crate::pipeline::CaseResult;
use crate::spots::Signal;
use std::io::{self, Write};

/// A field name made safe for a file name.
pub fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Quotes a CSV cell when it needs it.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_default()
}

/// nuclei.csv: one row per detected nucleus of every field.
pub fn nuclei_csv(r: &CaseResult) -> String {
    let mut out = Vec::new();
    write_nuclei_csv(&mut out, r).expect("writing to memory");
    String::from_utf8(out).expect("the table is UTF-8")
}

/// Writes nuclei.csv to `out` row by row (a whole slide's table is never
/// held in memory).
pub fn write_nuclei_csv<W: Write>(out: &mut W, r: &CaseResult) -> io::Result<()> {
    out.write_all(
        b"field,id,x,y,area_um2,scored,excluded_reason,target,control,cluster,\
         scorable,eligible,order,ratio,tntc,control_faint,perimeter_um,solidity,eccentricity,\
         mean_dapi,integrated_dapi,focus_score,edge_blur_um,touches_border,overlap_evidence\n",
    )?;
    let status: std::collections::HashMap<(usize, u32), &crate::scoring::NucleusStatus> = r
        .score
        .per_nucleus
        .iter()
        .map(|s| ((s.field, s.id), s))
        .collect();
    let counts: std::collections::HashMap<(usize, u32), &crate::scoring::NucleusCounts> =
        r.counts.iter().map(|c| ((c.field, c.id), c)).collect();
    for (fi, f) in r.fields.iter().enumerate() {
        for n in &f.nuclei {
            let st = status.get(&(fi, n.id));
            let c = counts.get(&(fi, n.id));
            let scored = st.is_some_and(|s| s.enumerated);
            let reason = match st {
                Some(s) if !s.eligible => s.excluded_reason.clone().unwrap_or_default(),
                Some(s) if !s.enumerated => "not_enumerated".to_string(),
                _ => String::new(),
            };
            writeln!(
                out,
                "{},{},{:.2},{:.2},{:.2},{},{},{},{},{},{},{},{},{},{},{},{:.2},{:.3},{:.3},{:.1},{:.0},{:.3},{:.3},{},{}",
                cell(&f.name),
                n.id,
                n.x,
                n.y,
                n.area_um2,
                scored,
                reason,
                c.map(|c| c.target).unwrap_or(0),
                c.map(|c| c.control).unwrap_or(0),
                c.is_some_and(|c| c.cluster),
                n.scorable,
                st.is_some_and(|s| s.eligible),
                st.and_then(|s| s.order).map(|o| o.to_string()).unwrap_or_default(),
                opt(st.and_then(|s| s.ratio), 3),
                c.is_some_and(|c| c.tntc),
                c.map(|c| c.control_faint).unwrap_or(0),
                n.perimeter_um,
                n.solidity,
                n.eccentricity,
                n.mean_dapi,
                n.integrated_dapi,
                n.focus_score,
                n.edge_blur_um,
                n.touches_border,
                n.overlap_evidence,
            )?;
        }
    }
    Ok(())
}

/// Header line of spots.csv.
pub const SPOTS_CSV_HEADER: &str = "field,x,y,channel,nucleus,intensity,copies,kind,copies_intensity,copies_mixture,dots,snr,width_um\n";

/// spots.csv: one row per detected signal (granules and dots far dimmer
/// than one copy included with kind `granule` / `faint` and 0 copies, so
/// every exclusion is visible).
pub fn spots_csv(r: &CaseResult) -> String {
    let mut out = SPOTS_CSV_HEADER.as_bytes().to_vec();
    for f in &r.fields {
        write_spot_rows(&mut out, &f.name, &f.signals.signals).expect("writing to memory");
    }
    String::from_utf8(out).expect("the table is UTF-8")
}

/// Writes the spots.csv rows of one field's signals (no header).
pub fn write_spot_rows<W: Write>(out: &mut W, field: &str, signals: &[Signal]) -> io::Result<()> {
    let field = cell(field);
    for s in signals {
        writeln!(
            out,
            "{},{:.3},{:.3},{},{},{:.1},{},{},{:.2},{},{},{:.2},{:.3}",
            field,
            s.x,
            s.y,
            s.channel.as_str(),
            if s.nucleus == 0 {
                String::new()
            } else {
                s.nucleus.to_string()
            },
            s.intensity,
            s.copies,
            s.kind.as_str(),
            s.copies_intensity,
            s.copies_mixture.map(|m| m.to_string()).unwrap_or_default(),
            s.dots,
            s.snr,
            s.width_um,
        )?;
    }
    Ok(())
}
