//! Reading a truth folder (simulator output) and a result folder (the
//! output contract of `fishscore analyze`, see docs/outputs.md).

use crate::io::tiff_read::{read_tiff, DecodeLimits};
use crate::io::IoError;
use crate::simulate::truth::TruthSummary;
use ndarray::Array2;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A truth nucleus row.
#[derive(Debug, Clone)]
pub struct TruthNucleus {
    /// Label id.
    pub id: u32,
    /// `nucleus` or `debris`.
    pub is_debris: bool,
    /// Scorable in truth.
    pub scorable: bool,
    /// Why not scorable (empty if scorable).
    pub reason: String,
    /// Target copies.
    pub target: u32,
    /// Control copies.
    pub control: u32,
    /// Holds a cluster.
    pub cluster: bool,
}

/// A truth spot row.
#[derive(Debug, Clone)]
pub struct TruthSpotRow {
    /// Position (px).
    pub x: f64,
    /// Position (px).
    pub y: f64,
    /// `target` or `control`.
    pub channel: String,
    /// Nucleus id.
    pub nucleus: u32,
    /// Copies.
    pub copies: u32,
    /// single, split or cluster.
    pub kind: String,
    /// Cluster radius in um.
    pub radius_um: f64,
    /// The two dots of a split signal.
    pub dots: Vec<(f64, f64)>,
}

/// Everything in a truth folder.
#[derive(Debug, Clone)]
pub struct Truth {
    /// truth.json.
    pub summary: TruthSummary,
    /// truth_labels.tif.
    pub labels: Array2<u32>,
    /// truth_nuclei.csv by id.
    pub nuclei: HashMap<u32, TruthNucleus>,
    /// truth_spots.csv.
    pub spots: Vec<TruthSpotRow>,
}

/// A result nucleus row.
#[derive(Debug, Clone)]
pub struct ResultNucleus {
    /// Label id.
    pub id: u32,
    /// Morphologically scorable (fishscore's `scorable` column, else the
    /// `scored` flag): what the nucleus figures compare with the truth.
    pub scored: bool,
    /// Counted in the ratio (the `scored` column: the nuclei enumerated,
    /// 50-100 of the scorable ones).
    pub counted: bool,
    /// Target count, when the result has signals.
    pub target: Option<f64>,
    /// Control count.
    pub control: Option<f64>,
}

/// A result spot row.
#[derive(Debug, Clone)]
pub struct ResultSpot {
    /// Position (px).
    pub x: f64,
    /// Position (px).
    pub y: f64,
    /// `target` or `control`.
    pub channel: String,
    /// Copies it stands for.
    pub copies: f64,
    /// single, split_merged, cluster (empty if not given).
    pub kind: String,
}

/// Everything in a result folder that the evaluator uses.
#[derive(Debug, Clone)]
pub struct ResultSet {
    /// labels.tif.
    pub labels: Array2<u32>,
    /// nuclei.csv by id.
    pub nuclei: HashMap<u32, ResultNucleus>,
    /// spots.csv, if present.
    pub spots: Option<Vec<ResultSpot>>,
    /// report.json, if present.
    pub report: Option<serde_json::Value>,
}

/// Errors of the evaluator: the file and what is wrong.
pub type EvalError = IoError;

fn read_labels(path: &Path) -> Result<Array2<u32>, EvalError> {
    let t = read_tiff(path, &DecodeLimits::default())?;
    let page = t
        .pages
        .into_iter()
        .next()
        .ok_or_else(|| IoError::format(path, "no image page"))?;
    Ok(page.mapv(|v| v.max(0.0).round() as u32))
}

fn open_csv(
    path: &Path,
) -> Result<(csv::Reader<std::fs::File>, HashMap<String, usize>), EvalError> {
    let f = std::fs::File::open(path).map_err(|e| IoError::open(path, &e))?;
    let mut r = csv::Reader::from_reader(f);
    let headers = r
        .headers()
        .map_err(|e| IoError::format(path, format!("bad CSV header: {e}")))?
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_string(), i))
        .collect();
    Ok((r, headers))
}

struct Row<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a HashMap<String, usize>,
    path: &'a Path,
    line: usize,
}

impl Row<'_> {
    fn has(&self, name: &str) -> bool {
        self.cols.contains_key(name)
    }
    fn str(&self, name: &str) -> Result<&str, EvalError> {
        let i = self
            .cols
            .get(name)
            .ok_or_else(|| IoError::format(self.path, format!("missing column '{name}'")))?;
        Ok(self.rec.get(*i).unwrap_or("").trim())
    }
    fn opt_str(&self, name: &str) -> &str {
        self.cols
            .get(name)
            .and_then(|i| self.rec.get(*i))
            .unwrap_or("")
            .trim()
    }
    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, EvalError> {
        let s = self.str(name)?;
        s.parse().map_err(|_| {
            IoError::format(
                self.path,
                format!(
                    "line {}: column '{name}' = '{s}' is not a number",
                    self.line
                ),
            )
        })
    }
    fn opt_num(&self, name: &str) -> Result<Option<f64>, EvalError> {
        let s = self.opt_str(name);
        if s.is_empty() {
            return Ok(None);
        }
        s.parse().map(Some).map_err(|_| {
            IoError::format(
                self.path,
                format!(
                    "line {}: column '{name}' = '{s}' is not a number",
                    self.line
                ),
            )
        })
    }
    fn bool(&self, name: &str) -> Result<bool, EvalError> {
        match self.str(name)?.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            s => Err(IoError::format(
                self.path,
                format!(
                    "line {}: column '{name}' = '{s}' is not true/false",
                    self.line
                ),
            )),
        }
    }
}

fn for_rows(
    path: &Path,
    mut f: impl FnMut(&Row) -> Result<(), EvalError>,
) -> Result<(), EvalError> {
    let (mut r, cols) = open_csv(path)?;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| IoError::format(path, format!("line {}: {e}", i + 2)))?;
        f(&Row {
            rec: &rec,
            cols: &cols,
            path,
            line: i + 2,
        })?;
    }
    Ok(())
}

/// Reads a truth folder.
pub fn read_truth(dir: &Path) -> Result<Truth, EvalError> {
    let jp = dir.join("truth.json");
    let text = std::fs::read_to_string(&jp).map_err(|e| IoError::open(&jp, &e))?;
    let summary: TruthSummary = serde_json::from_str(&text)
        .map_err(|e| IoError::format(&jp, format!("not a fishscore truth.json: {e}")))?;
    let labels = read_labels(&dir.join("truth_labels.tif"))?;
    let mut nuclei = HashMap::new();
    for_rows(&dir.join("truth_nuclei.csv"), |r| {
        let n = TruthNucleus {
            id: r.num("id")?,
            is_debris: r.str("kind")? == "debris",
            scorable: r.bool("scorable")?,
            reason: r.str("reason")?.to_string(),
            target: r.num("target_copies")?,
            control: r.num("control_copies")?,
            cluster: r.bool("cluster")?,
        };
        nuclei.insert(n.id, n);
        Ok(())
    })?;
    let mut spots = Vec::new();
    for_rows(&dir.join("truth_spots.csv"), |r| {
        let mut dots = Vec::new();
        if let (Some(a), Some(b), Some(c), Some(d)) = (
            r.opt_num("dot1_x")?,
            r.opt_num("dot1_y")?,
            r.opt_num("dot2_x")?,
            r.opt_num("dot2_y")?,
        ) {
            dots.push((a, b));
            dots.push((c, d));
        }
        spots.push(TruthSpotRow {
            x: r.num("x")?,
            y: r.num("y")?,
            channel: r.str("channel")?.to_string(),
            nucleus: r.num("nucleus")?,
            copies: r.num("copies")?,
            kind: r.str("kind")?.to_string(),
            radius_um: r.opt_num("radius_um")?.unwrap_or(0.0),
            dots,
        });
        Ok(())
    })?;
    Ok(Truth {
        summary,
        labels,
        nuclei,
        spots,
    })
}

/// The label image of a single-field result: `labels.tif`, else the only
/// `labels_*.tif`.
fn result_labels_path(dir: &Path) -> Result<PathBuf, EvalError> {
    let p = dir.join("labels.tif");
    if p.exists() {
        return Ok(p);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| IoError::open(dir, &e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .map(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with("labels_") && n.ends_with(".tif")
                })
                .unwrap_or(false)
        })
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(IoError::format(dir, "no labels.tif in the result folder")),
        _ => Err(IoError::format(
            dir,
            "several labels_*.tif: evaluate compares single-field cases",
        )),
    }
}

/// Reads a result folder; spots.csv and report.json are optional (a
/// nuclei-only result is evaluated for nuclei only).
pub fn read_result(dir: &Path) -> Result<ResultSet, EvalError> {
    if !dir.is_dir() {
        return Err(IoError::Open {
            path: dir.to_path_buf(),
            problem: "result folder does not exist".into(),
        });
    }
    let labels = read_labels(&result_labels_path(dir)?)?;
    let mut nuclei = HashMap::new();
    for_rows(&dir.join("nuclei.csv"), |r| {
        let n = ResultNucleus {
            id: r.num("id")?,
            // Morphological scorability when the result gives it (fishscore's
            // `scorable` column); otherwise the `scored` flag.
            scored: if r.has("scorable") {
                r.bool("scorable")?
            } else {
                r.bool("scored")?
            },
            counted: if r.has("scored") {
                r.bool("scored")?
            } else {
                r.bool("scorable")?
            },
            target: r.opt_num("target")?,
            control: r.opt_num("control")?,
        };
        nuclei.insert(n.id, n);
        Ok(())
    })?;
    let sp = dir.join("spots.csv");
    let spots = if sp.exists() {
        let mut v = Vec::new();
        for_rows(&sp, |r| {
            v.push(ResultSpot {
                x: r.num("x")?,
                y: r.num("y")?,
                channel: r.str("channel")?.to_string(),
                copies: r.opt_num("copies")?.unwrap_or(1.0),
                kind: r.opt_str("kind").to_string(),
            });
            Ok(())
        })?;
        Some(v)
    } else {
        None
    };
    let rp = dir.join("report.json");
    let report = if rp.exists() {
        let text = std::fs::read_to_string(&rp).map_err(|e| IoError::open(&rp, &e))?;
        Some(
            serde_json::from_str(&text)
                .map_err(|e| IoError::format(&rp, format!("not valid JSON: {e}")))?,
        )
    } else {
        None
    };
    Ok(ResultSet {
        labels,
        nuclei,
        spots,
        report,
    })
}
