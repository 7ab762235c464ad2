//! Many cases in one run (`fishscore batch`, docs/batch.md): find the
//! cases (a folder or a CSV manifest), analyse them in parallel with the
//! same [`run_case`] as `analyze`, write each case atomically, isolate
//! failures, resume, and summarise (summary.csv, summary.html).
//!
//! Atomic cases: a case is written into `OUT/.tmp-<case>-<pid>/` and
//! renamed to `OUT/<case>/` only once every file is written, so an
//! interrupted or killed run leaves at most a `.tmp-*` folder, never a
//! half-written case; stale `.tmp-*` folders of dead processes are removed
//! when a batch starts.

use crate::io::atomic::write_bytes_atomic;
use crate::io::load::FieldSource;
use crate::run::{run_case, CaseSpec, CaseSummary, RunError, RunOptions};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Name of the per-run summary table in the output folder.
pub const SUMMARY_CSV: &str = "summary.csv";
/// Name of the HTML summary linking to each case's report.html.
pub const SUMMARY_HTML: &str = "summary.html";
/// Prefix of the temporary folder a case is written into.
pub const TMP_PREFIX: &str = ".tmp-";
/// Exit code of `fishscore batch` when at least one case failed (the others
/// completed).
pub const EXIT_SOME_FAILED: u8 = 3;

/// A problem with the batch input itself (not with one case): exit code 2.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BatchError(pub String);

/// A case found in the input, with the problem that keeps it from running
/// (recorded as its failure), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCase {
    /// What to analyse.
    pub spec: CaseSpec,
    /// Why it cannot run (e.g. a case folder without an image).
    pub problem: Option<String>,
}

/// Case-level defaults that a manifest row may override.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDefaults {
    /// Panel name or TOML file.
    pub panel: String,
    /// Channel indices of DAPI, target and control.
    pub channels: Option<[usize; 3]>,
    /// Pixel size in um overriding the files.
    pub pixel_size_um: Option<f64>,
}

/// Is this a TIFF file name (.tif, .tiff, any case)?
fn is_tiff(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"))
}

fn hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// The case id of a top-level image file: its name without `.tif`/`.tiff`
/// and a trailing `.ome`.
fn file_case_id(p: &Path) -> String {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.strip_suffix(".ome") {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => stem,
    }
}

/// Checks that a case id can name a folder: not empty, no path separator,
/// no leading dot, no control character.
pub fn check_case_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("empty case id".into());
    }
    if id.starts_with('.') || id.contains(['/', '\\']) || id.chars().any(char::is_control) {
        return Err(format!(
            "case id '{id}' cannot name a folder (no '/', '\\', leading '.' or control character)"
        ));
    }
    Ok(())
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| BatchError(format!("{}: cannot list folder: {e}", dir.display())))?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

/// The fields of a case folder: `dapi.tif`, `target.tif` and
/// `control.tif` (any TIFF extension) make one field with one file per
/// channel; every other TIFF is a field of its own (all channels in one
/// file). Simulator truth files (`truth_*`) are skipped.
pub fn case_folder_sources(dir: &Path) -> Result<Vec<FieldSource>, BatchError> {
    let images: Vec<PathBuf> = list_dir(dir)?
        .into_iter()
        .filter(|p| p.is_file() && is_tiff(p) && !hidden(p))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("truth_"))
        })
        .collect();
    let role = |name: &str| {
        images.iter().find(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.eq_ignore_ascii_case(name))
        })
    };
    let mut sources = Vec::new();
    let mut used: Vec<&PathBuf> = Vec::new();
    if let (Some(d), Some(t), Some(c)) = (role("dapi"), role("target"), role("control")) {
        sources.push(FieldSource::PerChannel {
            dapi: d.clone(),
            target: t.clone(),
            control: c.clone(),
        });
        used.extend([d, t, c]);
    }
    sources.extend(
        images
            .iter()
            .filter(|p| !used.contains(p))
            .cloned()
            .map(FieldSource::Multi),
    );
    Ok(sources)
}

/// Finds the cases of a batch input: a CSV manifest (a file), or a folder
/// whose subfolders are cases ([`case_folder_sources`]) and whose top-level
/// TIFF files are one-field cases. Hidden entries and `exclude` (the
/// output folder, when it lies inside the input) are skipped. Cases come
/// sorted by id; ids must be unique.
pub fn discover(
    input: &Path,
    defaults: &CaseDefaults,
    exclude: Option<&Path>,
) -> Result<Vec<PlannedCase>, BatchError> {
    let meta = std::fs::metadata(input)
        .map_err(|e| BatchError(crate::io::IoError::open(input, &e).to_string()))?;
    let mut cases = if meta.is_file() {
        let text = std::fs::read_to_string(input).map_err(|e| {
            BatchError(format!(
                "{}: cannot read the manifest: {e}",
                input.display()
            ))
        })?;
        let base = input.parent().unwrap_or(Path::new("."));
        parse_manifest(&text, base, defaults)
            .map_err(|e| BatchError(format!("{}: {e}", input.display())))?
    } else {
        let exclude = exclude.and_then(|p| p.canonicalize().ok());
        let mut v = Vec::new();
        for p in list_dir(input)? {
            if hidden(&p) || (exclude.is_some() && p.canonicalize().ok() == exclude) {
                continue;
            }
            let spec = |id: String, sources| CaseSpec {
                id,
                sources,
                panel: defaults.panel.clone(),
                channels: defaults.channels,
                pixel_size_um: defaults.pixel_size_um,
            };
            if p.is_dir() {
                let id = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let sources = case_folder_sources(&p)?;
                let problem = if sources.is_empty() {
                    Some(format!(
                        "{}: no TIFF image (.tif, .tiff) in this case folder",
                        p.display()
                    ))
                } else {
                    check_case_id(&id).err()
                };
                v.push(PlannedCase {
                    spec: spec(id, sources),
                    problem,
                });
            } else if is_tiff(&p) {
                let id = file_case_id(&p);
                let problem = check_case_id(&id).err();
                v.push(PlannedCase {
                    spec: spec(id, vec![FieldSource::Multi(p.clone())]),
                    problem,
                });
            }
        }
        if v.is_empty() {
            return Err(BatchError(format!(
                "{}: no case found: expected one subfolder per case or TIFF files, or a CSV manifest (docs/batch.md)",
                input.display()
            )));
        }
        v
    };
    cases.sort_by(|a, b| a.spec.id.cmp(&b.spec.id));
    if let Some(w) = cases.windows(2).find(|w| w[0].spec.id == w[1].spec.id) {
        return Err(BatchError(format!(
            "{}: two cases are named '{}': case ids must be unique",
            input.display(),
            w[0].spec.id
        )));
    }
    Ok(cases)
}

/// Parses `channels` of a manifest: three indices separated by `,`, `;`
/// or spaces; empty means the default.
fn parse_channels(s: &str) -> Result<Option<[usize; 3]>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let v: Vec<usize> = s
        .split([',', ';', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("channels '{s}': expected three channel indices like 0;2;1"))?;
    match v[..] {
        [a, b, c] => Ok(Some([a, b, c])),
        _ => Err(format!(
            "channels '{s}': expected three channel indices (DAPI, target, control) like 0;2;1"
        )),
    }
}

/// Parses a CSV manifest (docs/batch.md). Columns, by header name in any
/// order: `case` and `files` required; `panel`, `pixel_size_um`,
/// `channels`, `layout` optional (an empty cell takes the default).
/// `files` are separated by `;`, relative to `base`; `layout` is
/// `fields` (default: each file is a field with all channels) or
/// `per-channel` (the files are DAPI;target;control, three per field).
/// Lines starting with `#` are comments. Errors name the line.
pub fn parse_manifest(
    text: &str,
    base: &Path,
    defaults: &CaseDefaults,
) -> Result<Vec<PlannedCase>, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| format!("cannot read the header line: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let known = [
        "case",
        "files",
        "panel",
        "pixel_size_um",
        "channels",
        "layout",
    ];
    if let Some(h) = headers.iter().find(|h| !known.contains(&h.as_str())) {
        return Err(format!(
            "unknown column '{h}' (expected case,files,panel,pixel_size_um,channels,layout)"
        ));
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(c_case), Some(c_files)) = (col("case"), col("files")) else {
        return Err("the header must name the columns 'case' and 'files' (docs/batch.md)".into());
    };
    let (c_panel, c_px, c_ch, c_layout) = (
        col("panel"),
        col("pixel_size_um"),
        col("channels"),
        col("layout"),
    );
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| format!("malformed CSV: {e}"))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |c: Option<usize>| c.and_then(|i| rec.get(i)).unwrap_or("").trim();
        let at = |m: String| format!("line {line}: {m}");
        let id = get(Some(c_case)).to_string();
        check_case_id(&id).map_err(at)?;
        let files: Vec<PathBuf> = get(Some(c_files))
            .split(';')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| base.join(f))
            .collect();
        if files.is_empty() {
            return Err(at(format!("case '{id}' has no file")));
        }
        let sources = match get(c_layout).to_ascii_lowercase().as_str() {
            "" | "fields" => files.into_iter().map(FieldSource::Multi).collect(),
            "per-channel" => {
                if !files.len().is_multiple_of(3) {
                    return Err(at(format!(
                        "case '{id}': layout per-channel needs DAPI;target;control files (a multiple of 3), got {}",
                        files.len()
                    )));
                }
                files
                    .chunks(3)
                    .map(|c| FieldSource::PerChannel {
                        dapi: c[0].clone(),
                        target: c[1].clone(),
                        control: c[2].clone(),
                    })
                    .collect()
            }
            o => return Err(at(format!("layout '{o}': expected fields or per-channel"))),
        };
        let panel = match get(c_panel) {
            "" => defaults.panel.clone(),
            p => {
                // A panel file is relative to the manifest, like the images.
                let looks_like_path = p.contains('/') || p.to_ascii_lowercase().ends_with(".toml");
                if looks_like_path && Path::new(p).is_relative() {
                    base.join(p).to_string_lossy().into_owned()
                } else {
                    p.to_string()
                }
            }
        };
        let pixel_size_um = match get(c_px) {
            "" => defaults.pixel_size_um,
            s => Some(
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v > 0.0 && *v < 50.0)
                    .ok_or_else(|| {
                        at(format!(
                            "pixel_size_um '{s}': expected a pixel size in micrometres, e.g. 0.1"
                        ))
                    })?,
            ),
        };
        let channels = match parse_channels(get(c_ch)).map_err(at)? {
            None => defaults.channels,
            c => c,
        };
        out.push(PlannedCase {
            spec: CaseSpec {
                id,
                sources,
                panel,
                channels,
                pixel_size_um,
            },
            problem: None,
        });
    }
    if out.is_empty() {
        return Err("the manifest lists no case".into());
    }
    Ok(out)
}

/// The `fishscore analyze` arguments (without `--out` and `--threads`)
/// that analyse this case as the batch does; `None` when analyze's command
/// line cannot express it (more than one per-channel field).
pub fn analyze_args(spec: &CaseSpec, opts: &RunOptions) -> Option<Vec<String>> {
    let mut a = Vec::new();
    let mut per_channel = 0;
    for s in &spec.sources {
        match s {
            FieldSource::Multi(p) => a.push(p.to_string_lossy().into_owned()),
            FieldSource::PerChannel {
                dapi,
                target,
                control,
            } => {
                per_channel += 1;
                for (flag, p) in [
                    ("--dapi", dapi),
                    ("--target", target),
                    ("--control", control),
                ] {
                    a.push(flag.into());
                    a.push(p.to_string_lossy().into_owned());
                }
            }
        }
    }
    if per_channel > 1 {
        return None;
    }
    let mut push = |k: &str, v: String| {
        a.push(k.to_string());
        a.push(v);
    };
    push("--case-id", spec.id.clone());
    push("--panel", spec.panel.clone());
    if let Some([d, t, c]) = spec.channels {
        push("--channels", format!("{d},{t},{c}"));
    }
    if let Some(px) = spec.pixel_size_um {
        push("--pixel-size-um", px.to_string());
    }
    push(
        "--default-pixel-size-um",
        opts.default_pixel_size_um.to_string(),
    );
    push("--seed", opts.seed.to_string());
    if let Some(p) = &opts.projection {
        push("--projection", p.clone());
    }
    if let Some(n) = &opts.nuclei {
        push("--nuclei", n.clone());
    }
    Some(a)
}

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Analysed in this run.
    Ok,
    /// Complete outputs from an earlier run were kept (`--resume`).
    Resumed,
    /// Failed; the error is recorded.
    Failed,
}

impl Status {
    /// `ok`, `resumed` or `failed` (summary.csv's `status`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Resumed => "resumed",
            Status::Failed => "failed",
        }
    }
}

/// One row of summary.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutcome {
    /// Case identifier (also its folder name).
    pub case: String,
    /// How it ended.
    pub status: Status,
    /// The error of a failed case (one line).
    pub error: Option<String>,
    /// The headline of a completed case.
    pub summary: Option<CaseSummary>,
    /// Wall-clock seconds spent on the case in this run.
    pub seconds: f64,
}

/// Options of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Keep cases whose `OUT/<case>/report.json` exists.
    pub resume: bool,
    /// Print each case's stage timings.
    pub timings: bool,
    /// Draw a progress bar (stderr is a terminal) instead of log lines.
    pub progress_bar: bool,
}

/// Progress: an indicatif bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: AtomicUsize,
    running: Mutex<Vec<String>>,
}

impl Progress {
    fn new(total: usize, bar: bool) -> Progress {
        let bar = bar.then(|| {
            let pb = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} cases, ETA {eta} {wide_msg}",
            ) {
                pb.set_style(style.progress_chars("=> "));
            }
            pb
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            running: Mutex::new(Vec::new()),
        }
    }

    fn set_running(&self, f: impl FnOnce(&mut Vec<String>)) {
        if let Ok(mut r) = self.running.lock() {
            f(&mut r);
            if let Some(pb) = &self.bar {
                pb.set_message(r.join(", "));
            }
        }
    }

    fn start(&self, case: &str) {
        self.set_running(|r| r.push(case.to_string()));
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(pb) => pb.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn finish(&self, o: &CaseOutcome, timings: bool) {
        self.set_running(|r| r.retain(|c| c != &o.case));
        let k = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        let what = match (&o.status, &o.summary, &o.error) {
            (Status::Failed, _, e) => format!("FAILED: {}", e.as_deref().unwrap_or("")),
            (st, Some(s), _) => format!(
                "{} ratio {} ({} nuclei scored){}",
                s.call,
                s.ratio.map_or("n/a".into(), |r| format!("{r:.2}")),
                s.nuclei_scored,
                if *st == Status::Resumed {
                    " [resumed]"
                } else {
                    ""
                }
            ),
            _ => String::new(),
        };
        self.line(&format!(
            "[{k}/{}] {}: {what} {:.1} s",
            self.total, o.case, o.seconds
        ));
        if timings {
            if let Some(s) = &o.summary {
                for (stage, t) in &s.timings {
                    self.line(&format!("timing {} {stage} {t:.3} s", o.case));
                }
            }
        }
        if let Some(pb) = &self.bar {
            pb.inc(1);
        }
    }

    fn close(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }
}

/// Removes `.tmp-*` folders left in `out` by processes that are no longer
/// running (a killed batch); returns how many were removed.
pub fn remove_stale_temps(out: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(out) else {
        return 0;
    };
    let me = std::process::id().to_string();
    let mut n = 0;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(TMP_PREFIX) || !e.path().is_dir() {
            continue;
        }
        let pid = name.rsplit('-').next().unwrap_or("");
        let alive = pid != me
            && !pid.is_empty()
            && pid.bytes().all(|b| b.is_ascii_digit())
            && Path::new("/proc").join(pid).exists();
        if !alive && std::fs::remove_dir_all(e.path()).is_ok() {
            n += 1;
        }
    }
    n
}

/// The complete result of a case from an earlier run, if any.
fn existing_summary(dir: &Path) -> Option<CaseSummary> {
    let text = std::fs::read_to_string(dir.join("report.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    CaseSummary::from_report_json(&v)
}

/// Text of a panic payload.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Case indices by decreasing input size (bytes of the files; a missing
/// file counts 0), ties by case order.
fn largest_first(cases: &[PlannedCase]) -> Vec<usize> {
    let size = |c: &PlannedCase| -> u64 {
        c.spec
            .sources
            .iter()
            .flat_map(|s| match s {
                FieldSource::Multi(p) => vec![p.clone()],
                FieldSource::PerChannel {
                    dapi,
                    target,
                    control,
                } => vec![dapi.clone(), target.clone(), control.clone()],
            })
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum()
    };
    let sizes: Vec<u64> = cases.iter().map(size).collect();
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    order
}

/// Runs one case into its temporary folder, then renames it into place.
fn run_one(case: &PlannedCase, ropts: &RunOptions, out: &Path) -> Result<CaseSummary, RunError> {
    if let Some(p) = &case.problem {
        return Err(RunError::Input(p.clone()));
    }
    let id = &case.spec.id;
    let pid = std::process::id();
    let tmp = out.join(format!("{TMP_PREFIX}{id}-{pid}"));
    let dest = out.join(id);
    let _ = std::fs::remove_dir_all(&tmp);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_case(&case.spec, ropts, &tmp)
    }))
    .unwrap_or_else(|p| Err(RunError::Internal(format!("panic: {}", panic_text(&*p)))));
    let commit = |s: CaseSummary| -> Result<CaseSummary, RunError> {
        let io = |e: std::io::Error, p: &Path| {
            RunError::Input(format!("{}: cannot write: {e}", p.display()))
        };
        if dest.exists() {
            // Replace an earlier result only by a complete one.
            let old = out.join(format!("{TMP_PREFIX}old-{id}-{pid}"));
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&dest, &old).map_err(|e| io(e, &dest))?;
            std::fs::rename(&tmp, &dest).map_err(|e| io(e, &dest))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&tmp, &dest).map_err(|e| io(e, &dest))?;
        }
        Ok(s)
    };
    let r = result.and_then(commit);
    if r.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    r
}

/// Runs every case (in parallel on the current rayon pool) and writes
/// summary.csv and summary.html into `opts.out`. A failing case is
/// recorded and does not stop the others. Outcomes come in case order.
pub fn run_batch(
    cases: &[PlannedCase],
    ropts: &RunOptions,
    opts: &BatchOptions,
) -> Result<Vec<CaseOutcome>, BatchError> {
    let out = &opts.out;
    std::fs::create_dir_all(out)
        .map_err(|e| BatchError(format!("{}: cannot create folder: {e}", out.display())))?;
    let removed = remove_stale_temps(out);
    let progress = Progress::new(cases.len(), opts.progress_bar);
    if removed > 0 {
        progress.line(&format!(
            "removed {removed} unfinished case folder(s) of an interrupted run"
        ));
    }
    let run = |c: &PlannedCase| -> CaseOutcome {
        let t0 = Instant::now();
        let id = c.spec.id.clone();
        let kept = if opts.resume && c.problem.is_none() {
            existing_summary(&out.join(&id))
        } else {
            None
        };
        let o = if let Some(s) = kept {
            CaseOutcome {
                case: id,
                status: Status::Resumed,
                error: None,
                summary: Some(s),
                seconds: t0.elapsed().as_secs_f64(),
            }
        } else {
            progress.start(&id);
            let r = run_one(c, ropts, out);
            let seconds = t0.elapsed().as_secs_f64();
            match r {
                Ok(s) => CaseOutcome {
                    case: id,
                    status: Status::Ok,
                    error: None,
                    summary: Some(s),
                    seconds,
                },
                Err(e) => CaseOutcome {
                    case: id,
                    status: Status::Failed,
                    error: Some(e.to_string().lines().next().unwrap_or("").to_string()),
                    summary: None,
                    seconds,
                },
            }
        };
        progress.finish(&o, opts.timings);
        o
    };
    // Largest cases first, one per worker, each worker taking the next
    // case when it is free (longest-processing-time-first: the last cases
    // to finish are the small ones). Workers blocked inside a case help
    // with the other cases' parallel loops (rayon work stealing).
    let order = largest_first(cases);
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<CaseOutcome>>> = cases.iter().map(|_| Mutex::new(None)).collect();
    let workers = rayon::current_num_threads().min(cases.len()).max(1);
    rayon::scope(|sc| {
        for _ in 0..workers {
            sc.spawn(|_| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = order.get(k) else { break };
                let o = run(&cases[i]);
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(o);
                }
            });
        }
    });
    let outcomes: Vec<CaseOutcome> = slots
        .into_iter()
        .zip(cases)
        .map(|(slot, c)| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| CaseOutcome {
                    case: c.spec.id.clone(),
                    status: Status::Failed,
                    error: Some("internal error: the case did not run".into()),
                    summary: None,
                    seconds: 0.0,
                })
        })
        .collect();
    progress.close();
    write_bytes_atomic(&out.join(SUMMARY_CSV), summary_csv(&outcomes).as_bytes())
        .map_err(|e| BatchError(e.to_string()))?;
    write_bytes_atomic(&out.join(SUMMARY_HTML), summary_html(&outcomes).as_bytes())
        .map_err(|e| BatchError(e.to_string()))?;
    Ok(outcomes)
}

/// Columns of summary.csv, in order (docs/batch.md).
pub const SUMMARY_COLUMNS: [&str; 13] = [
    "case",
    "status",
    "error",
    "call",
    "ratio",
    "ratio_ci95_low",
    "ratio_ci95_high",
    "nuclei_detected",
    "nuclei_scored",
    "qc",
    "report",
    "seconds",
    "resumed",
];

/// summary.csv: one row per case in case order; QC notes joined by `; `.
pub fn summary_csv(outcomes: &[CaseOutcome]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(SUMMARY_COLUMNS);
    for o in outcomes {
        let s = o.summary.as_ref();
        let num = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
        let ci = s.and_then(|s| s.ratio_ci95);
        let row = [
            o.case.clone(),
            match o.status {
                Status::Failed => "failed",
                _ => "ok",
            }
            .to_string(),
            o.error.clone().unwrap_or_default(),
            s.map_or(String::new(), |s| s.call.clone()),
            num(s.and_then(|s| s.ratio)),
            num(ci.map(|c| c[0])),
            num(ci.map(|c| c[1])),
            s.map_or(String::new(), |s| s.nuclei_detected.to_string()),
            s.map_or(String::new(), |s| s.nuclei_scored.to_string()),
            s.map_or(String::new(), |s| s.qc.join("; ")),
            if s.is_some() {
                format!("{}/report.html", o.case)
            } else {
                String::new()
            },
            format!("{:.3}", o.seconds),
            (o.status == Status::Resumed).to_string(),
        ];
        let _ = w.write_record(&row);
    }
    w.into_inner()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Percent-encodes a case id for a relative link.
fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// summary.html: a self-contained table of the cases, each linking to its
/// report.html.
pub fn summary_html(outcomes: &[CaseOutcome]) -> String {
    let failed = outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .count();
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>fishscore batch summary</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#eee}.failed{background:#fdd}.AMPLIFIED{color:#b00;font-weight:bold}.num,.nw{text-align:right;white-space:nowrap}.nw{text-align:left}</style></head><body>\n",
    );
    h.push_str(&format!(
        "<h1>fishscore batch summary</h1>\n<p>{} case(s): {} completed, {} failed. fishscore {}.</p>\n",
        outcomes.len(),
        outcomes.len() - failed,
        failed,
        esc(crate::VERSION)
    ));
    h.push_str("<table><thead><tr><th>case</th><th>status</th><th>call</th><th>ratio</th><th>95 % CI</th><th>nuclei scored / detected</th><th>QC</th><th>error</th></tr></thead><tbody>\n");
    for o in outcomes {
        let s = o.summary.as_ref();
        let case = match s {
            Some(_) => format!(
                "<a href=\"{}/report.html\">{}</a>",
                url_segment(&o.case),
                esc(&o.case)
            ),
            None => esc(&o.case),
        };
        let f2 = |v: Option<f64>| v.map_or("n/a".into(), |x| format!("{x:.2}"));
        h.push_str(&format!(
            "<tr class=\"{}\"><td class=\"nw\">{case}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"nw\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
            o.status.as_str(),
            o.status.as_str(),
            esc(s.map_or("", |s| s.call.as_str())),
            esc(s.map_or("", |s| s.call.as_str())),
            f2(s.and_then(|s| s.ratio)),
            s.and_then(|s| s.ratio_ci95)
                .map_or(String::new(), |c| format!("{:.2} - {:.2}", c[0], c[1])),
            s.map_or(String::new(), |s| format!(
                "{} / {}",
                s.nuclei_scored, s.nuclei_detected
            )),
            esc(&s.map_or(String::new(), |s| s.qc.join("; "))),
            esc(o.error.as_deref().unwrap_or("")),
        ));
    }
    h.push_str("</tbody></table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> CaseDefaults {
        CaseDefaults {
            panel: "mdm2-cep12".into(),
            channels: None,
            pixel_size_um: None,
        }
    }

    #[test]
    fn manifest_rows_become_cases() {
        let text = "case,files,panel,pixel_size_um,channels,layout\n\
                    # a comment\n\
                    a,a.tif;b/c.tif,,0.065,\"0,2,1\",\n\
                    b,d.tif;t.tif;c.tif,her2-cep17,,,per-channel\n";
        let v = parse_manifest(text, Path::new("/m"), &defaults()).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0].spec.sources,
            vec![
                FieldSource::Multi("/m/a.tif".into()),
                FieldSource::Multi("/m/b/c.tif".into())
            ]
        );
        assert_eq!(v[0].spec.panel, "mdm2-cep12");
        assert_eq!(v[0].spec.pixel_size_um, Some(0.065));
        assert_eq!(v[0].spec.channels, Some([0, 2, 1]));
        assert_eq!(v[1].spec.panel, "her2-cep17");
        assert_eq!(
            v[1].spec.sources,
            vec![FieldSource::PerChannel {
                dapi: "/m/d.tif".into(),
                target: "/m/t.tif".into(),
                control: "/m/c.tif".into()
            }]
        );
    }

    #[test]
    fn manifest_errors_name_the_line() {
        let d = defaults();
        let e =
            parse_manifest("case,files\na,x.tif\n../b,y.tif\n", Path::new("."), &d).unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
        let e = parse_manifest(
            "case,files,layout\na,x.tif;y.tif,per-channel\n",
            Path::new("."),
            &d,
        )
        .unwrap_err();
        assert!(e.contains("multiple of 3"), "{e}");
        let e = parse_manifest("case,files,pixel_size_um\na,x.tif,-1\n", Path::new("."), &d)
            .unwrap_err();
        assert!(e.contains("pixel_size_um '-1'"), "{e}");
        let e = parse_manifest("case,files,colour\na,x.tif,red\n", Path::new("."), &d).unwrap_err();
        assert!(e.contains("unknown column 'colour'"), "{e}");
        assert!(parse_manifest("case,files\n", Path::new("."), &d).is_err());
        assert!(parse_manifest("case,files,channels\na,x.tif,0;1\n", Path::new("."), &d).is_err());
    }

    #[test]
    fn case_ids_must_name_a_folder() {
        assert!(check_case_id("case-01").is_ok());
        assert!(check_case_id("").is_err());
        assert!(check_case_id(".tmp-x").is_err());
        assert!(check_case_id("a/b").is_err());
    }

    #[test]
    fn plan_args_restate_the_case_for_analyze() {
        let spec = CaseSpec {
            id: "c1".into(),
            sources: vec![FieldSource::Multi("x.tif".into())],
            panel: "mdm2-cep12".into(),
            channels: Some([0, 2, 1]),
            pixel_size_um: Some(0.1),
        };
        let a = analyze_args(&spec, &RunOptions::default()).unwrap();
        assert_eq!(a[0], "x.tif");
        let s = a.join(" ");
        assert!(s.contains("--case-id c1"), "{s}");
        assert!(s.contains("--channels 0,2,1"), "{s}");
        assert!(s.contains("--pixel-size-um 0.1"), "{s}");
    }

    #[test]
    fn summary_csv_records_failures_and_figures() {
        let ok = CaseOutcome {
            case: "a".into(),
            status: Status::Ok,
            error: None,
            summary: Some(CaseSummary {
                case: "a".into(),
                call: "AMPLIFIED".into(),
                ratio: Some(4.5),
                ratio_ci95: Some([4.0, 5.0]),
                nuclei_detected: 90,
                nuclei_scored: 50,
                qc: vec!["x".into(), "y".into()],
                timings: vec![],
            }),
            seconds: 1.0,
        };
        let bad = CaseOutcome {
            case: "b".into(),
            status: Status::Failed,
            error: Some("b/image.tif: not a TIFF".into()),
            summary: None,
            seconds: 0.0,
        };
        let csv = summary_csv(&[ok.clone(), bad.clone()]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], SUMMARY_COLUMNS.join(","));
        assert!(lines[1].starts_with("a,ok,,AMPLIFIED,4.5,4,5,90,50,x; y,a/report.html,"));
        assert!(lines[2].starts_with("b,failed,b/image.tif: not a TIFF,,"));
        let html = summary_html(&[ok, bad]);
        assert!(html.contains("<a href=\"a/report.html\">a</a>"));
        assert!(html.contains("1 completed, 1 failed"));
    }

    #[test]
    fn largest_cases_run_first() {
        let d = tempfile::tempdir().unwrap();
        let case = |id: &str, bytes: usize| {
            let p = d.path().join(format!("{id}.tif"));
            std::fs::write(&p, vec![0u8; bytes]).unwrap();
            PlannedCase {
                spec: CaseSpec {
                    id: id.into(),
                    sources: vec![FieldSource::Multi(p)],
                    panel: "mdm2-cep12".into(),
                    channels: None,
                    pixel_size_um: None,
                },
                problem: None,
            }
        };
        let cases = [case("a", 10), case("b", 300), case("c", 10), case("d", 50)];
        assert_eq!(largest_first(&cases), vec![1, 3, 0, 2]);
    }

    #[test]
    fn stale_temp_folders_of_dead_processes_are_removed() {
        let d = tempfile::tempdir().unwrap();
        // pid 0 is never a running process's folder in /proc.
        std::fs::create_dir(d.path().join(".tmp-a-0")).unwrap();
        std::fs::create_dir(d.path().join("a")).unwrap();
        assert_eq!(remove_stale_temps(d.path()), 1);
        assert!(d.path().join("a").exists());
        assert!(!d.path().join(".tmp-a-0").exists());
    }
}
