//! nuclei.geojson: nucleus outlines and signal points as a GeoJSON
//! FeatureCollection in the form QuPath imports as detection objects
//! (File > Import objects, or drag the file onto the image), one file per
//! field (`nuclei.geojson`, or `nuclei_<field>.geojson` for several).
//!
//! Coordinates are the image's pixels with the origin at the top-left
//! corner of the top-left pixel (QuPath's convention): outlines are traced
//! along pixel edges (`contour`), and a signal at pixel centre `(x, y)` of
//! spots.csv is written at `(x + 0.5, y + 0.5)`.
//!
//! Each feature's `properties` follow QuPath's reader
//! (`qupath.lib.io.PathObjectTypeAdapters`): `objectType: "detection"`,
//! `name`, `classification: {name, color}` and numeric `measurements`;
//! text that is not a number (status, exclusion reason, field) is in the
//! classification (`Counted`, `Eligible`, `Excluded: overlapping`, or the
//! probe name for a signal) and in `metadata`.

use super::contour::Ring;
use crate::pipeline::CaseResult;
use crate::plane::Channel;
use crate::scoring::{NucleusCounts, NucleusStatus};
use crate::spots::SignalKind;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// QuPath classification name and colour of a nucleus status.
pub fn classification(s: Option<&NucleusStatus>) -> (String, [u8; 3]) {
    match s {
        Some(s) if s.enumerated => ("Counted".into(), [255, 255, 255]),
        Some(s) if s.eligible => ("Eligible".into(), [0, 220, 255]),
        Some(s) => {
            let r = s.excluded_reason.clone().unwrap_or_default();
            let colour = if r == "no_target_signal" || r == "no_control_signal" {
                [150, 150, 150]
            } else {
                [255, 140, 0]
            };
            (format!("Excluded: {r}"), colour)
        }
        None => ("Excluded: not_scored".into(), [255, 140, 0]),
    }
}

fn closed(r: &Ring) -> Value {
    let mut pts: Vec<Value> = r.iter().map(|p| json!([p[0], p[1]])).collect();
    if let Some(first) = r.first() {
        pts.push(json!([first[0], first[1]]));
    }
    json!([pts])
}

/// The FeatureCollection of field `fi`: one Polygon feature per traced
/// nucleus, then one Point feature per signal (granules included, class
/// `Granule`, 0 copies).
pub fn field_geojson(r: &CaseResult, fi: usize, outlines: &[(u32, Ring)]) -> Value {
    let f = &r.fields[fi];
    let panel = &r.panel;
    let status = super::field_status(r, fi);
    let counts: HashMap<u32, &NucleusCounts> = r
        .counts
        .iter()
        .filter(|c| c.field == fi)
        .map(|c| (c.id, c))
        .collect();
    let area: HashMap<u32, f64> = f.nuclei.iter().map(|n| (n.id, n.area_um2)).collect();
    let mut features = Vec::new();
    for (id, ring) in outlines {
        let st = status.get(id).copied();
        let c = counts.get(id).copied();
        let (class, colour) = classification(st);
        let mut m = Map::new();
        m.insert("Nucleus id".into(), json!(id));
        m.insert(
            format!("{} signals", panel.target),
            json!(c.map_or(0, |c| c.target)),
        );
        m.insert(
            format!("{} signals", panel.control),
            json!(c.map_or(0, |c| c.control)),
        );
        if let Some(ratio) = st.and_then(|s| s.ratio) {
            m.insert("Ratio".into(), json!(ratio));
        }
        m.insert(
            "Cluster".into(),
            json!(u8::from(c.is_some_and(|c| c.cluster))),
        );
        m.insert(
            "Too many to count".into(),
            json!(u8::from(c.is_some_and(|c| c.tntc))),
        );
        m.insert(
            "Scored".into(),
            json!(u8::from(st.is_some_and(|s| s.enumerated))),
        );
        m.insert(
            "Eligible".into(),
            json!(u8::from(st.is_some_and(|s| s.eligible))),
        );
        m.insert(
            "Scorable (morphology)".into(),
            json!(u8::from(c.is_some_and(|c| c.scorable))),
        );
        if let Some(o) = st.and_then(|s| s.order) {
            m.insert("Enumeration order".into(), json!(o + 1));
        }
        if let Some(a) = area.get(id) {
            m.insert("Area um^2".into(), json!(a));
        }
        let reason = st
            .and_then(|s| s.excluded_reason.clone())
            .unwrap_or_default();
        let status_word = match st {
            Some(s) if s.enumerated => "counted",
            Some(s) if s.eligible => "eligible",
            _ => "excluded",
        };
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": closed(ring)},
            "properties": {
                "objectType": "detection",
                "name": format!("nucleus {id}"),
                "classification": {"name": class, "color": colour},
                "measurements": m,
                "metadata": {
                    "field": f.name,
                    "nucleus": id.to_string(),
                    "status": status_word,
                    "excluded_reason": reason,
                },
            }
        }));
    }
    for s in &f.signals.signals {
        let (name, colour) = match (s.kind, s.channel) {
            (SignalKind::Granule, _) => ("Granule".to_string(), [80, 120, 255]),
            (SignalKind::Faint, _) => ("Faint".to_string(), [150, 150, 150]),
            (_, Channel::Target) => (panel.target.clone(), [255, 60, 60]),
            (_, Channel::Control) => (panel.control.clone(), [60, 255, 60]),
            (_, Channel::Dapi) => continue,
        };
        let mut m = Map::new();
        m.insert("Copies".into(), json!(s.copies));
        m.insert("Intensity".into(), json!(s.intensity));
        m.insert("SNR".into(), json!(s.snr));
        m.insert("Width um".into(), json!(s.width_um));
        m.insert("Nucleus id".into(), json!(s.nucleus));
        m.insert(
            "Cluster".into(),
            json!(u8::from(s.kind == SignalKind::Cluster)),
        );
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s.x + 0.5, s.y + 0.5]},
            "properties": {
                "objectType": "detection",
                "name": format!("{name} {}", s.kind.as_str()),
                "classification": {"name": name, "color": colour},
                "measurements": m,
                "metadata": {"field": f.name, "kind": s.kind.as_str()},
            }
        }));
    }
    json!({"type": "FeatureCollection", "features": features})
}
