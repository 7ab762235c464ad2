//! report.html: one self-contained page a cytogeneticist reads, reviews and
//! signs. Everything is inline (CSS, JavaScript, SVG plots, images as
//! base64 `data:` URIs), so the file opens from a USB stick with no
//! network. Sections: header (case, panel, call, ratio with its 95 %
//! interval, the rule), review controls, CAP-style summary, QC notes,
//! plots, each field's overlay with clickable outlines, a gallery of every
//! nucleus (counted, eligible in reserve, excluded with its reason), and
//! provenance.
//!
//! The page's JavaScript (`assets/score.js`, a port of `scoring::rescore`)
//! recomputes the figures when a reviewer toggles a nucleus; on load it
//! first checks that it reproduces the figures rendered here and disables
//! live review if not. The markup written here and by `assets/review.js`
//! is the same, so the page looks identical before and after the script
//! runs.

use super::contour::{ring_bounds, Ring};
use super::overlay::Canvas;
use super::review::ReviewRecord;
use super::score_input::ScoreInput;
use crate::scoring::{NucleusStatus, Score};
use serde_json::json;
use std::fmt::Write;

/// Largest side, in pixels, of a field image embedded in the page; larger
/// fields are reduced by an integer factor (the full-resolution overlay is
/// the overlay.png file beside the report). The gallery crops are views of
/// the same image, so a 2048 x 2048 field's page stays at a few megabytes.
pub const PAGE_IMAGE_MAX_PX: usize = 1024;
/// Margin around a nucleus in its gallery crop, micrometres.
pub const CROP_MARGIN_UM: f64 = 1.0;

/// Bin width of the per-nucleus ratio histogram.
pub const RATIO_BIN_WIDTH: f64 = 0.5;
/// Last bin of the per-nucleus ratio histogram (ratios at or above it).
pub const RATIO_CAP: f64 = 10.0;
/// Last bin of the target count histogram ("20+").
pub const TARGET_CAP: u32 = 20;
/// Last bin of the control count histogram ("10+").
pub const CONTROL_CAP: u32 = 10;

/// One field as the page shows it.
#[derive(Debug, Clone)]
pub struct FieldView {
    /// Field name.
    pub name: String,
    /// Width in pixels (full resolution).
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Pixel size, micrometres.
    pub pixel_size_um: f64,
    /// The overlay image as embedded (PNG), reduced by `page_scale`.
    pub page_png: Vec<u8>,
    /// Reduction factor of `page_png` (1 = full resolution).
    pub page_scale: usize,
    /// Outline of every nucleus (pixel-corner coordinates, full resolution).
    pub outlines: Vec<(u32, Ring)>,
}

/// The gallery crop of one nucleus: a window on its field's embedded
/// image (the page holds each field's image once; a tile is an SVG view
/// of it), in full-resolution pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Crop {
    /// Field index.
    pub field: usize,
    /// Nucleus id.
    pub id: u32,
    /// Left edge, px.
    pub x: usize,
    /// Top edge, px.
    pub y: usize,
    /// Width, px.
    pub width: usize,
    /// Height, px.
    pub height: usize,
}

/// Everything the page is made of apart from the score it shows.
#[derive(Debug, Clone)]
pub struct ReportModel {
    /// The scoring input (counts, panel, parameters).
    pub input: ScoreInput,
    /// Per-field images and outlines.
    pub fields: Vec<FieldView>,
    /// One crop window per nucleus that has an outline.
    pub crops: Vec<Crop>,
    /// The provenance block of report.json.
    pub provenance: serde_json::Value,
}

/// What [`build_model`] needs of one field: its name, pixel size (um), the
/// rendered overlay and the nucleus outlines.
pub type FieldPicture<'a> = (String, f64, &'a Canvas, Vec<(u32, Ring)>);

/// Builds the model from each field's rendered overlay and label outlines.
pub fn build_model(
    input: ScoreInput,
    fields: Vec<FieldPicture<'_>>,
    provenance: serde_json::Value,
) -> Result<ReportModel, String> {
    let mut views = Vec::new();
    let mut crops = Vec::new();
    for (fi, (name, px, canvas, outlines)) in fields.into_iter().enumerate() {
        let margin = (CROP_MARGIN_UM / px).ceil().max(1.0);
        for (id, ring) in &outlines {
            let b = ring_bounds(ring);
            let x0 = (b[0] - margin).max(0.0) as usize;
            let y0 = (b[1] - margin).max(0.0) as usize;
            let x1 = ((b[2] + margin) as usize).min(canvas.w);
            let y1 = ((b[3] + margin) as usize).min(canvas.h);
            if x1 <= x0 || y1 <= y0 {
                continue;
            }
            crops.push(Crop {
                field: fi,
                id: *id,
                x: x0,
                y: y0,
                width: x1 - x0,
                height: y1 - y0,
            });
        }
        let k = canvas.w.max(canvas.h).div_ceil(PAGE_IMAGE_MAX_PX).max(1);
        let page = if k == 1 {
            super::overlay::encode_png(canvas)?
        } else {
            super::overlay::encode_png(&reduce(canvas, k))?
        };
        views.push(FieldView {
            name,
            width: canvas.w,
            height: canvas.h,
            pixel_size_um: px,
            page_png: page,
            page_scale: k,
            outlines,
        });
    }
    Ok(ReportModel {
        input,
        fields: views,
        crops,
        provenance,
    })
}

/// Reduces a canvas by an integer factor `k` (mean of each k x k block;
/// partial blocks at the right and bottom edges average what they hold).
pub fn reduce(c: &Canvas, k: usize) -> Canvas {
    if k <= 1 {
        return Canvas {
            w: c.w,
            h: c.h,
            rgb: c.rgb.clone(),
        };
    }
    let (w, h) = (c.w.div_ceil(k), c.h.div_ceil(k));
    let mut rgb = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0u32; 3];
            let mut n = 0u32;
            for yy in y * k..((y + 1) * k).min(c.h) {
                for xx in x * k..((x + 1) * k).min(c.w) {
                    let i = 3 * (yy * c.w + xx);
                    for (a, v) in acc.iter_mut().zip(&c.rgb[i..i + 3]) {
                        *a += *v as u32;
                    }
                    n += 1;
                }
            }
            let o = 3 * (y * w + x);
            for (dst, a) in rgb[o..o + 3].iter_mut().zip(acc) {
                *dst = ((a + n / 2) / n.max(1)) as u8;
            }
        }
    }
    Canvas { w, h, rgb }
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for ch in bytes.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if ch.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if ch.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Readable text of an exclusion reason (the code is kept in data files).
pub fn reason_text(code: &str, target: &str, control: &str) -> String {
    match code {
        "cut_by_border" => "cut by the image border".into(),
        "too_small" => "too small (debris or fragment)".into(),
        "too_large" => "too large (clump or overlap)".into(),
        "overlapping" => "overlapping another nucleus".into(),
        "out_of_focus" => "out of focus".into(),
        "not_scorable" => "not scorable (morphology)".into(),
        "no_target_signal" => format!("no {target} signal"),
        "no_control_signal" => format!("no {control} signal"),
        "excluded_by_reviewer" => "excluded by the reviewer".into(),
        other => other.to_string(),
    }
}

fn fixed(x: f64, d: usize) -> String {
    format!("{x:.d$}")
}

fn fmt_opt(x: Option<f64>, d: usize) -> String {
    x.map_or("n/a".into(), |v| fixed(v, d))
}

fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{} %", fixed(100.0 * v, 1)))
}

fn ci_text(ci: Option<[f64; 2]>) -> String {
    ci.map_or("n/a".into(), |[a, b]| {
        format!("{} \u{2013} {}", fixed(a, 2), fixed(b, 2))
    })
}

/// The CAP-style summary rows (mirrors `summaryRows` in review.js).
pub fn summary_rows(input: &ScoreInput, s: &Score) -> Vec<(String, String)> {
    let p = &input.panel;
    let (t, c) = (&p.target, &p.control);
    let mut rows = vec![
        (
            "Probe set".to_string(),
            format!("{} ({})", s.cap.probe, p.name),
        ),
        ("Nuclei detected".into(), s.nuclei_detected.to_string()),
        (
            "Nuclei scorable (morphology)".into(),
            s.nuclei_scorable.to_string(),
        ),
        ("Nuclei eligible".into(), s.nuclei_eligible.to_string()),
        (
            "Nuclei counted".into(),
            format!(
                "{} (required {}, up to {} when borderline)",
                s.nuclei_scored, s.nuclei_required, s.nuclei_max
            ),
        ),
    ];
    let ex: Vec<String> = s
        .nuclei_excluded
        .iter()
        .map(|(k, v)| format!("{}: {v}", reason_text(k, t, c)))
        .collect();
    rows.push((
        "Nuclei excluded, by reason".into(),
        if ex.is_empty() {
            "none".into()
        } else {
            ex.join("; ")
        },
    ));
    rows.push((
        format!("Total {t} / {c} signals"),
        format!("{} / {}", s.target_signals, s.control_signals),
    ));
    rows.push((
        format!("Mean {t} signals per nucleus"),
        fmt_opt(s.mean_target, 2),
    ));
    rows.push((
        format!("Mean {c} signals per nucleus"),
        fmt_opt(s.mean_control, 2),
    ));
    rows.push((
        format!("{} ratio (95 % CI)", s.cap.probe),
        format!("{} ({})", fmt_opt(s.ratio, 2), ci_text(s.ratio_ci95)),
    ));
    rows.push(("Heterogeneity".into(), s.cap.heterogeneity.clone()));
    rows.push(("Nuclei too numerous to count".into(), pct(s.share_tntc)));
    rows.push((
        format!("Polysomy {c}"),
        if s.polysomy {
            format!(
                "yes (mean {c} \u{2265} {} with ratio < {})",
                p.polysomy_control_mean, p.cutoff
            )
        } else {
            "no".into()
        },
    ));
    if let Some(g) = s.her2_group {
        rows.push(("ASCO/CAP 2018 group".into(), g.to_string()));
    }
    rows.push(("ISCN".into(), s.iscn.clone()));
    rows.push(("Interpretation".into(), s.rule.clone()));
    rows.push((
        "Image analysis method".into(),
        s.cap.image_analysis_method.clone(),
    ));
    rows
}

/// Histogram bins of integer counts `0..cap` and `cap+` (mirrors review.js).
pub fn count_bins(values: &[u32], cap: u32) -> Vec<(String, usize)> {
    let mut bins: Vec<(String, usize)> = (0..=cap)
        .map(|k| {
            (
                if k == cap {
                    format!("{cap}+")
                } else {
                    k.to_string()
                },
                0,
            )
        })
        .collect();
    for &v in values {
        bins[v.min(cap) as usize].1 += 1;
    }
    bins
}

/// Histogram bins of per-nucleus ratios, width `width`, last bin `>= cap`
/// (also for nuclei without control signal).
pub fn ratio_bins(values: &[Option<f64>], width: f64, cap: f64) -> Vec<(String, usize)> {
    let n = (cap / width).round() as usize;
    let mut bins: Vec<(String, usize)> = (0..=n)
        .map(|k| {
            (
                if k == n {
                    format!("\u{2265}{}", fixed(cap, 0))
                } else {
                    fixed(k as f64 * width, 1)
                },
                0,
            )
        })
        .collect();
    for v in values {
        let k = match v {
            Some(r) => ((r / width).floor() as usize).min(n),
            None => n,
        };
        bins[k].1 += 1;
    }
    bins
}

/// One histogram as inline SVG (mirrors `histogramSvg` in review.js).
pub fn histogram_svg(
    title: &str,
    bins: &[(String, usize)],
    colour: &str,
    cut: Option<(f64, f64)>,
) -> String {
    let (w, h, l, r, t, b) = (360.0, 190.0, 34.0, 8.0, 22.0, 34.0);
    let (pw, ph) = (w - l - r, h - t - b);
    let max = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let bw = pw / bins.len().max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="plot" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="14" class="pt">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    let _ = write!(
        s,
        r#"<line x1="{l}" y1="{}" x2="{}" y2="{}" class="ax"/>"#,
        t + ph,
        l + pw,
        t + ph
    );
    let _ = write!(
        s,
        r#"<line x1="{l}" y1="{t}" x2="{l}" y2="{}" class="ax"/>"#,
        t + ph
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="yl">{max}</text>"#,
        l - 4.0,
        t + 4.0
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="yl">0</text>"#,
        l - 4.0,
        t + ph
    );
    let every = bins.len().div_ceil(12).max(1);
    for (i, (label, n)) in bins.iter().enumerate() {
        let bh = *n as f64 / max as f64 * ph;
        let x = l + i as f64 * bw;
        let _ = write!(
            s,
            r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{colour}"><title>{}: {n}</title></rect>"#,
            x,
            t + ph - bh,
            (bw - 1.0).max(1.0),
            bh,
            esc(label)
        );
        if i % every == 0 || i + 1 == bins.len() {
            let _ = write!(
                s,
                r#"<text x="{:.2}" y="{}" class="xl">{}</text>"#,
                x + bw / 2.0,
                t + ph + 12.0,
                esc(label)
            );
        }
    }
    if let Some((bin, cutoff)) = cut {
        let x = l + bin * bw;
        let _ = write!(
            s,
            r#"<line x1="{x:.2}" y1="{}" x2="{x:.2}" y2="{}" class="cut"/>"#,
            t - 4.0,
            t + ph
        );
        let _ = write!(
            s,
            r#"<text x="{:.2}" y="{}" class="cutl">cutoff {cutoff}</text>"#,
            x + 3.0,
            t + 6.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="xt">{}</text>"#,
        l + pw / 2.0,
        h - 4.0,
        if cut.is_none() {
            "signals per nucleus"
        } else {
            "ratio per nucleus"
        }
    );
    s.push_str("</svg>");
    s
}

/// The three plots of a score (mirrors `plotsHtml` in review.js).
pub fn plots_html(input: &ScoreInput, s: &Score) -> String {
    let mut scored: Vec<(usize, &crate::scoring::NucleusCounts)> = s
        .per_nucleus
        .iter()
        .zip(&input.nuclei)
        .filter(|(p, _)| p.enumerated)
        .map(|(p, n)| (p.order.unwrap_or(0), n))
        .collect();
    scored.sort_by_key(|x| x.0);
    let p = &input.panel;
    let t: Vec<u32> = scored.iter().map(|x| x.1.target).collect();
    let c: Vec<u32> = scored.iter().map(|x| x.1.control).collect();
    let r: Vec<Option<f64>> = scored
        .iter()
        .map(|x| (x.1.control > 0).then(|| x.1.target as f64 / x.1.control as f64))
        .collect();
    let mut out = histogram_svg(
        &format!("{} signals per counted nucleus", p.target),
        &count_bins(&t, TARGET_CAP),
        "#d62728",
        None,
    );
    out += &histogram_svg(
        &format!("{} signals per counted nucleus", p.control),
        &count_bins(&c, CONTROL_CAP),
        "#2ca02c",
        None,
    );
    out += &histogram_svg(
        &format!("{} ratio per counted nucleus", s.cap.probe),
        &ratio_bins(&r, RATIO_BIN_WIDTH, RATIO_CAP),
        "#6a51a3",
        Some((p.cutoff / RATIO_BIN_WIDTH, p.cutoff)),
    );
    out
}

/// CSS class of a nucleus status (mirrors `statusClass` in review.js).
pub fn status_class(s: &NucleusStatus) -> &'static str {
    if s.enumerated {
        "st-enumerated"
    } else if s.eligible {
        "st-reserve"
    } else {
        match s.excluded_reason.as_deref() {
            Some("excluded_by_reviewer") => "st-reviewer",
            Some("no_target_signal") | Some("no_control_signal") => "st-signal",
            _ => "st-morph",
        }
    }
}

fn why_text(s: &NucleusStatus, input: &ScoreInput) -> String {
    if s.enumerated {
        format!("counted, order {}", s.order.unwrap_or(0) + 1)
    } else if s.eligible {
        format!("eligible, not needed (order {})", s.order.unwrap_or(0) + 1)
    } else {
        format!(
            "excluded: {}",
            reason_text(
                s.excluded_reason.as_deref().unwrap_or(""),
                &input.panel.target,
                &input.panel.control
            )
        )
    }
}

/// Renders the page for `score` (the automated score, or the score after
/// `review`, whose decisions the page then starts from).
pub fn render_html(m: &ReportModel, score: &Score, review: Option<&ReviewRecord>) -> String {
    let input = &m.input;
    let p = &input.panel;
    let decisions: Vec<super::review::Decision> =
        review.map(|r| r.decisions.clone()).unwrap_or_default();
    let decided: std::collections::HashMap<(usize, u32), super::review::Action> = decisions
        .iter()
        .filter_map(|d| input.field_index(&d.field).map(|f| ((f, d.id), d.decision)))
        .collect();
    let title = format!("fishscore report: {} ({})", input.case, p.name);
    let mut h = String::with_capacity(1 << 20);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">");
    let _ = write!(h, "<title>{}</title><style>", esc(&title));
    h.push_str(include_str!("assets/report.css"));
    h.push_str("</style></head><body>\n");

    // Header.
    let prov = &m.provenance;
    let pstr = |k: &str| {
        prov.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let _ = write!(
        h,
        r#"<header><div class="case"><h1>{}</h1><div class="sub">Case <b>{}</b> &middot; panel <b>{}</b> ({}) &middot; {} field(s) &middot; analysed {} by {} {}</div></div>"#,
        esc(&format!("{} FISH report", p.ratio_label())),
        esc(&input.case),
        esc(&p.name),
        esc(&p.description),
        input.fields.len(),
        esc(&pstr("finished_utc")),
        esc(&pstr("program")),
        esc(&pstr("version")),
    );
    let _ = write!(
        h,
        r#"<div class="result"><div id="call" class="call call-{c}">{c}</div><div class="ratio">{label} ratio <span id="ratio" data-value="{rv}">{r}</span> <span class="cil">95 % CI</span> <span id="ci" data-value="{cv}">{ci}</span> &middot; <span id="nscored">{n}</span> nuclei counted</div><div id="rule" class="rule">{rule}</div></div></header>"#,
        c = score.call.as_str(),
        label = esc(&p.ratio_label()),
        rv = score.ratio.map(|v| v.to_string()).unwrap_or_default(),
        r = fmt_opt(score.ratio, 2),
        cv = score
            .ratio_ci95
            .map(|c| esc(&serde_json::to_string(&c).unwrap_or_default()))
            .unwrap_or_default(),
        ci = ci_text(score.ratio_ci95),
        n = score.nuclei_scored,
        rule = esc(&score.rule),
    );

    // Review panel.
    h.push_str(r#"<section class="review"><h2>Review</h2>"#);
    if let Some(r) = review {
        let _ = write!(
            h,
            r#"<p class="reviewed">Reviewed by <b>{}</b> ({}), recomputed {}: {} decision(s), {} nucleus status change(s). Automated result: <b>{}</b>, ratio {}; after review: <b>{}</b>, ratio {}. The automated report is kept unchanged in {}.</p>"#,
            esc(&r.reviewer),
            esc(&r.review_time_utc),
            esc(&r.rescored_utc),
            r.decisions.len(),
            r.changes.len(),
            esc(&r.automated.call),
            fmt_opt(r.automated.ratio, 3),
            esc(&r.reviewed.call),
            fmt_opt(r.reviewed.ratio, 3),
            esc(&r.automated_report),
        );
    }
    h.push_str(r#"<p id="verify" class="verify">Live review needs JavaScript; the figures shown are fishscore's.</p>"#);
    h.push_str(r#"<p class="how">Click a nucleus in the gallery or its outline on a field to exclude it from the count (click again to undo); click an excluded nucleus to include it when only its shape excluded it. Ratio, interval, call and plots are recomputed at once, with the same arithmetic as <code>fishscore rescore</code>.</p>"#);
    let _ = write!(
        h,
        r#"<div class="controls"><label>Reviewer <input id="reviewer" type="text" autocomplete="name" placeholder="name" value="{}"></label> <button id="export" type="button">Export review</button> <button id="restore" type="button">Undo my changes</button> <button id="reset" type="button">Back to automated result</button> <span class="nd"><span id="n-decisions">{}</span> decision(s)</span></div><p id="review-state" class="state"></p><p id="export-msg" class="msg"></p></section>"#,
        esc(review.map(|r| r.reviewer.as_str()).unwrap_or("")),
        decisions.len()
    );

    // Summary, QC, plots.
    h.push_str(
        r#"<section class="summary"><h2>Summary</h2><table class="cap"><tbody id="summary-body">"#,
    );
    for (k, v) in summary_rows(input, score) {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
    }
    h.push_str(r#"</tbody></table><h3>QC</h3><ul id="qc">"#);
    if score.qc.is_empty() {
        h.push_str("<li>none</li>");
    }
    for q in &score.qc {
        let _ = write!(h, "<li>{}</li>", esc(q));
    }
    h.push_str("</ul>");
    if !input.input_qc.is_empty() {
        h.push_str(r#"<h3>Input QC</h3><ul class="inputqc">"#);
        for q in &input.input_qc {
            let _ = write!(h, "<li>{}</li>", esc(q));
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
    let _ = write!(
        h,
        r#"<section><h2>Distributions</h2><div id="plots" class="plots">{}</div></section>"#,
        plots_html(input, score)
    );

    // Fields.
    let status: std::collections::HashMap<(usize, u32), &NucleusStatus> = score
        .per_nucleus
        .iter()
        .map(|s| ((s.field, s.id), s))
        .collect();
    let counts: std::collections::HashMap<(usize, u32), &crate::scoring::NucleusCounts> =
        input.nuclei.iter().map(|n| ((n.field, n.id), n)).collect();
    let label_of = |fi: usize, id: u32| -> String {
        let c = counts.get(&(fi, id));
        format!(
            "#{id} {}: {} {}, {} {}{}",
            m.fields.get(fi).map(|f| f.name.as_str()).unwrap_or(""),
            c.map_or(0, |c| c.target),
            p.target,
            c.map_or(0, |c| c.control),
            p.control,
            if c.is_some_and(|c| c.cluster) {
                ", cluster"
            } else {
                ""
            }
        )
    };
    h.push_str(r#"<section><h2>Fields</h2><p class="legend"><span class="k st-enumerated">counted</span> <span class="k st-reserve">eligible, not needed</span> <span class="k st-morph">excluded (shape)</span> <span class="k st-signal">excluded (no signal of one colour)</span> <span class="k st-reviewer">excluded by the reviewer</span> &middot; signals: <span class="sig t">&#9675; "#);
    let _ = write!(
        h,
        r#"{}</span> <span class="sig c">&#9675; {}</span> <span class="sig cl">&#9711; cluster (copies)</span> <span class="sig g">+ granule (not counted)</span> <span class="sig g">&middot; faint, under one copy (not counted)</span></p>"#,
        esc(&p.target),
        esc(&p.control)
    );
    for (fi, f) in m.fields.iter().enumerate() {
        let _ = write!(
            h,
            r##"<div class="field"><h3>{} <small>{} &times; {} px, {} &micro;m/px{}</small> <button class="zoom" type="button">100 % / fit</button></h3><div class="fieldbox"><svg class="fieldsvg" viewBox="0 0 {w} {hh}" width="{pw}" height="{ph}" preserveAspectRatio="xMinYMin meet"><defs><image id="fimg-{fi}" href="data:image/png;base64,{}" x="0" y="0" width="{w}" height="{hh}" preserveAspectRatio="none"/></defs><use href="#fimg-{fi}"/><g class="outlines">"##,
            esc(&f.name),
            f.width,
            f.height,
            f.pixel_size_um,
            if f.page_scale > 1 {
                format!(
                    ", shown at 1/{} resolution (full size: the overlay file)",
                    f.page_scale
                )
            } else {
                String::new()
            },
            base64(&f.page_png),
            w = f.width,
            hh = f.height,
            pw = f.width / f.page_scale,
            ph = f.height / f.page_scale,
        );
        for (id, ring) in &f.outlines {
            let Some(st) = status.get(&(fi, *id)) else {
                continue;
            };
            let pts: Vec<String> = ring.iter().map(|q| format!("{},{}", q[0], q[1])).collect();
            let label = label_of(fi, *id);
            let _ = write!(
                h,
                r#"<polygon class="ol {}{}" data-key="{fi}:{id}" data-label="{}" points="{}"><title>{}: {}</title></polygon>"#,
                status_class(st),
                if decided.contains_key(&(fi, *id)) {
                    " decided"
                } else {
                    ""
                },
                esc(&label),
                pts.join(" "),
                esc(&label),
                esc(&why_text(st, input)),
            );
        }
        h.push_str("</g></svg></div></div>");
    }
    h.push_str("</section>");

    // Gallery.
    let mut enumerated = Vec::new();
    let mut reserve = Vec::new();
    let mut excluded = Vec::new();
    for c in &m.crops {
        let Some(st) = status.get(&(c.field, c.id)) else {
            continue;
        };
        let n = counts.get(&(c.field, c.id));
        let d = decided.get(&(c.field, c.id));
        let tile = format!(
            r##"<figure id="tile-{f}-{id}" class="tile {cls}{dec}" data-key="{f}:{id}" tabindex="0" title="{title}"><svg class="crop" viewBox="{cx} {cy} {w} {hh}" preserveAspectRatio="xMidYMid meet" role="img" aria-label="nucleus {id}"><use href="#fimg-{f}"/></svg><figcaption><b>#{id}</b> {field}<br><span class="t">{t} {tn}</span> &middot; <span class="c">{cc} {cn}</span>{cl}</figcaption><div class="why">{why}{inc}</div></figure>"##,
            f = c.field,
            id = c.id,
            cls = status_class(st),
            dec = if d.is_some() { " decided" } else { "" },
            title = esc(&label_of(c.field, c.id)),
            cx = c.x,
            cy = c.y,
            w = c.width,
            hh = c.height,
            field = esc(m.fields.get(c.field).map(|f| f.name.as_str()).unwrap_or("")),
            t = n.map_or(0, |n| n.target),
            tn = esc(&p.target),
            cc = n.map_or(0, |n| n.control),
            cn = esc(&p.control),
            cl = if n.is_some_and(|n| n.cluster) {
                " &middot; cluster"
            } else {
                ""
            },
            why = esc(&why_text(st, input)),
            inc = if d == Some(&super::review::Action::Include) {
                " (included by the reviewer)"
            } else {
                ""
            },
        );
        if st.enumerated {
            enumerated.push((st.order.unwrap_or(0), tile));
        } else if st.eligible {
            reserve.push((st.order.unwrap_or(0), tile));
        } else {
            excluded.push((
                format!(
                    "{}\u{0}{:06}:{:010}",
                    st.excluded_reason.as_deref().unwrap_or(""),
                    c.field,
                    c.id
                ),
                tile,
            ));
        }
    }
    enumerated.sort_by_key(|x| x.0);
    reserve.sort_by_key(|x| x.0);
    excluded.sort_by(|a, b| a.0.cmp(&b.0));
    h.push_str(r#"<section class="gallery"><h2>Nuclei</h2>"#);
    for (id, title, tiles) in [
        (
            "g-enumerated",
            "Counted nuclei, in enumeration order",
            enumerated.into_iter().map(|x| x.1).collect::<Vec<_>>(),
        ),
        (
            "g-reserve",
            "Eligible nuclei not needed for the count (they replace excluded ones, in order)",
            reserve.into_iter().map(|x| x.1).collect(),
        ),
        (
            "g-excluded",
            "Excluded nuclei, with the reason",
            excluded.into_iter().map(|x| x.1).collect(),
        ),
    ] {
        let _ = write!(
            h,
            r#"<h3>{title} (<span id="{id}-n">{}</span>)</h3><div id="{id}" class="tiles">{}</div>"#,
            tiles.len(),
            tiles.join("")
        );
    }
    h.push_str("</section>");

    // Provenance.
    h.push_str(r#"<section class="prov"><h2>Provenance</h2><table class="cap"><tbody>"#);
    let prow = |h: &mut String, k: &str, v: &str| {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    prow(
        &mut h,
        "Program",
        &format!("{} {}", pstr("program"), pstr("version")),
    );
    prow(
        &mut h,
        "Analysis",
        &format!("{} to {}", pstr("started_utc"), pstr("finished_utc")),
    );
    if let Some(cl) = prov.get("command_line").and_then(|v| v.as_array()) {
        let s: Vec<&str> = cl.iter().filter_map(|x| x.as_str()).collect();
        prow(&mut h, "Command", &s.join(" "));
    }
    if let Some(ins) = prov.get("inputs").and_then(|v| v.as_array()) {
        for i in ins {
            prow(
                &mut h,
                "Input file",
                &format!(
                    "{} ({} bytes, SHA-256 {})",
                    i.get("path").and_then(|v| v.as_str()).unwrap_or(""),
                    i.get("bytes").and_then(|v| v.as_u64()).unwrap_or(0),
                    i.get("sha256").and_then(|v| v.as_str()).unwrap_or("")
                ),
            );
        }
    }
    prow(
        &mut h,
        "Enumeration",
        &format!(
            "seed {}, {} bootstrap resamples, nuclei {}..{}",
            input.params.seed,
            input.params.bootstrap_resamples,
            score.nuclei_required,
            score.nuclei_max
        ),
    );
    if let Some(r) = review {
        prow(
            &mut h,
            "Review",
            &format!(
                "{} at {}; file {} (SHA-256 {})",
                r.reviewer, r.review_time_utc, r.review_file, r.review_sha256
            ),
        );
        for c in &r.changes {
            prow(
                &mut h,
                "Changed",
                &format!("{} #{}: {} \u{2192} {}", c.field, c.id, c.before, c.after),
            );
        }
    }
    h.push_str("</tbody></table><p class=\"small\">Every parameter is in report.json (provenance.parameters); the per-nucleus data behind this page are in score_input.json and nuclei.csv.</p></section>");

    // Data for the script.
    let reasons: serde_json::Map<String, serde_json::Value> = [
        "cut_by_border",
        "too_small",
        "too_large",
        "overlapping",
        "out_of_focus",
        "not_scorable",
        "no_target_signal",
        "no_control_signal",
        "excluded_by_reviewer",
    ]
    .iter()
    .map(|k| (k.to_string(), json!(reason_text(k, &p.target, &p.control))))
    .collect();
    let data = json!({
        "input": input,
        "decisions": decisions,
        "score": {
            "call": score.call,
            "rule": score.rule,
            "ratio": score.ratio,
            "ratio_ci95": score.ratio_ci95,
            "nuclei_scored": score.nuclei_scored,
            "nuclei_eligible": score.nuclei_eligible,
            "mean_target": score.mean_target,
            "mean_control": score.mean_control,
            "iscn": score.iscn,
            "qc": score.qc,
        },
        "reason_text": reasons,
        "plot": {
            "ratio_bin_width": RATIO_BIN_WIDTH,
            "ratio_cap": RATIO_CAP,
            "target_cap": TARGET_CAP,
            "control_cap": CONTROL_CAP,
        },
    });
    let data = serde_json::to_string(&data)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c");
    let _ = write!(
        h,
        "<script type=\"application/json\" id=\"fishscore-data\">{data}</script>\n<script>{}</script>\n<script>{}</script>\n</body></html>\n",
        include_str!("assets/score.js"),
        include_str!("assets/review.js")
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn bins() {
        let b = count_bins(&[0, 2, 2, 25], 20);
        assert_eq!(b.len(), 21);
        assert_eq!(b[2], ("2".into(), 2));
        assert_eq!(b[20], ("20+".into(), 1));
        let r = ratio_bins(
            &[Some(0.49), Some(0.5), Some(2.0), Some(12.0), None],
            0.5,
            10.0,
        );
        assert_eq!(r.len(), 21);
        assert_eq!(r[0].1, 1);
        assert_eq!(r[1], ("0.5".into(), 1));
        assert_eq!(r[4], ("2.0".into(), 1));
        assert_eq!(r[20], ("\u{2265}10".into(), 2));
    }

    #[test]
    fn reduce_averages_blocks() {
        let c = Canvas {
            w: 3,
            h: 2,
            rgb: vec![
                0, 0, 0, 10, 10, 10, 100, 0, 0, //
                20, 20, 20, 30, 30, 30, 200, 0, 0,
            ],
        };
        let r = reduce(&c, 2);
        assert_eq!((r.w, r.h), (2, 1));
        assert_eq!(&r.rgb[0..3], &[15, 15, 15]);
        assert_eq!(&r.rgb[3..6], &[150, 0, 0]);
    }
}
