//! Split signals: one copy imaged as two dots closer than about one signal
//! diameter counts once (domain brief; the rule of every FISH scoring
//! guideline). Pairs are merged closest first, each dot at most once, only
//! within one nucleus and only when their brightness is comparable.

use super::objects::SpotObject;
use super::{Signal, SignalKind};

/// Brightness ratio (brighter / dimmer, >= 1) of two close objects from a
/// joint fit: two PSF-shaped Gaussians of width `sigma` (px) at the
/// objects' positions, amplitudes by linear least squares over the union of
/// their background-corrected apertures (`w` = image width). Two dots
/// 0.6-0.8 um apart share light: each aperture holds part of the other
/// dot, and the brighter one's share makes the pair look 3-6x unequal when
/// the copies are equal halves (docs/signals.md). `None` when the fit is
/// degenerate or an amplitude is not positive.
pub fn deblended_ratio(a: &SpotObject, b: &SpotObject, sigma: f64, w: usize) -> Option<f64> {
    // Union of the apertures; a pixel in both (each corrected with its
    // object's own background) takes the mean of its two values, so the
    // ratio does not depend on the order of the pair.
    let mut all: Vec<(u32, f32)> = a
        .aperture
        .iter()
        .chain(b.aperture.iter())
        .copied()
        .collect();
    all.sort_by(|p, q| p.0.cmp(&q.0).then(p.1.total_cmp(&q.1)));
    let px: Vec<(u32, f32)> = all
        .chunk_by(|p, q| p.0 == q.0)
        .map(|run| {
            (
                run[0].0,
                run.iter().map(|p| p.1).sum::<f32>() / run.len() as f32,
            )
        })
        .collect();
    let s2 = 2.0 * sigma * sigma;
    let (mut g11, mut g12, mut g22, mut d1, mut d2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(i, v) in &px {
        let (x, y) = ((i as usize % w) as f64, (i as usize / w) as f64);
        let u = (-((x - a.x).powi(2) + (y - a.y).powi(2)) / s2).exp();
        let t = (-((x - b.x).powi(2) + (y - b.y).powi(2)) / s2).exp();
        g11 += u * u;
        g12 += u * t;
        g22 += t * t;
        d1 += u * v as f64;
        d2 += t * v as f64;
    }
    let det = g11 * g22 - g12 * g12;
    if det <= 1e-9 * g11 * g22 {
        return None;
    }
    let fa = (g22 * d1 - g12 * d2) / det;
    let fb = (g11 * d2 - g12 * d1) / det;
    (fa > 0.0 && fb > 0.0).then(|| fa.max(fb) / fa.min(fb))
}

/// Merges pairs of single-copy signals of one channel closer than
/// `distance_px` whose brightness ratio is at most `max_ratio`. The merged
/// row has the intensity-weighted position, the summed intensity, one copy
/// and kind `split_merged`. `ratio_of(i, j)` gives the brightness ratio of
/// rows `i` and `j` where a better measure than their intensities exists
/// (a joint fit, [`deblended_ratio`]); `None` falls back to intensities.
pub fn merge_split_signals(
    rows: Vec<Signal>,
    distance_px: f64,
    max_ratio: f64,
    ratio_of: impl Fn(usize, usize) -> Option<f64>,
) -> Vec<Signal> {
    let single = |s: &Signal| {
        matches!(s.kind, SignalKind::Single | SignalKind::SplitMerged)
            && s.copies == 1
            && s.intensity > 0.0
    };
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    // Sort by x for a sweep instead of all pairs.
    let mut order: Vec<usize> = (0..rows.len()).filter(|&i| single(&rows[i])).collect();
    order.sort_by(|&a, &b| rows[a].x.total_cmp(&rows[b].x).then(a.cmp(&b)));
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            if rows[j].x - rows[i].x > distance_px {
                break;
            }
            let (a, b) = (&rows[i], &rows[j]);
            if a.nucleus != b.nucleus || a.channel != b.channel {
                continue;
            }
            let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
            if d >= distance_px {
                continue;
            }
            let ratio = ratio_of(i, j)
                .unwrap_or_else(|| a.intensity.max(b.intensity) / a.intensity.min(b.intensity));
            if ratio <= max_ratio {
                pairs.push((d, i.min(j), i.max(j)));
            }
        }
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut gone = vec![false; rows.len()];
    let mut merged: Vec<Signal> = Vec::new();
    for (_, i, j) in pairs {
        if gone[i] || gone[j] {
            continue;
        }
        gone[i] = true;
        gone[j] = true;
        let (a, b) = (&rows[i], &rows[j]);
        let f = a.intensity + b.intensity;
        merged.push(Signal {
            x: (a.x * a.intensity + b.x * b.intensity) / f,
            y: (a.y * a.intensity + b.y * b.intensity) / f,
            intensity: f,
            copies: 1,
            copies_intensity: a.copies_intensity + b.copies_intensity,
            kind: SignalKind::SplitMerged,
            dots: a.dots + b.dots,
            snr: a.snr.max(b.snr),
            width_um: a.width_um.max(b.width_um),
            ..a.clone()
        });
    }
    let mut out: Vec<Signal> = rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !gone[*i])
        .map(|(_, s)| s)
        .collect();
    out.extend(merged);
    out.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plane::Channel;
    use crate::simulate::optics::add_gaussian;
    use ndarray::Array2;

    fn sig(x: f64, y: f64, i: f64) -> Signal {
        Signal {
            channel: Channel::Control,
            x,
            y,
            nucleus: 1,
            intensity: i,
            copies: 1,
            copies_intensity: 1.0,
            copies_mixture: None,
            kind: SignalKind::Single,
            dots: 1,
            snr: 10.0,
            width_um: 0.15,
        }
    }

    #[test]
    fn deblended_ratio_of_two_close_dots_is_their_true_ratio() {
        use crate::spots::objects::{build_objects, ObjectParams};
        // Two PSF dots (sigma 1.5 px) 7 px apart, fluxes 1000 and 800 on a
        // background of 100: the apertures and rings overlap.
        let (h, w) = (41, 51);
        let mut img = Array2::<f32>::from_elem((h, w), 100.0);
        add_gaussian(&mut img, 22.0, 20.0, 1.5, 1000.0);
        add_gaussian(&mut img, 29.0, 20.3, 1.5, 800.0);
        let mut band = Array2::<f32>::zeros((h, w));
        add_gaussian(&mut band, 22.0, 20.0, 1.5, 1000.0);
        add_gaussian(&mut band, 29.0, 20.3, 1.5, 800.0);
        let floor = Array2::from_elem((h, w), 1.0f32);
        let labels = Array2::<u32>::ones((h, w));
        let p = ObjectParams {
            aperture_margin: 3,
            peak_fraction: 0.5,
            ..crate::spots::objects::test_params()
        };
        let objs = build_objects(&img, &band, &floor, &[(22, 20), (29, 20)], &labels, &p).0;
        assert_eq!(objs.len(), 2);
        let r = deblended_ratio(&objs[0], &objs[1], 1.5, w).unwrap();
        assert!((r - 1.25).abs() < 0.05, "deblended ratio {r}");
        // The same ratio whichever comes first.
        let r2 = deblended_ratio(&objs[1], &objs[0], 1.5, w).unwrap();
        assert!((r - r2).abs() < 1e-9);
    }

    #[test]
    fn a_measured_ratio_overrides_the_intensities() {
        // Intensities 5x apart (as overlapping apertures measure a split
        // pair), but the joint fit says 1.2: one copy. And the other way
        // round: equal intensities, a fitted ratio of 4: two copies.
        let rows = vec![sig(10.0, 10.0, 500.0), sig(14.0, 10.0, 100.0)];
        let out = merge_split_signals(rows.clone(), 8.0, 3.0, |_, _| Some(1.2));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, SignalKind::SplitMerged);
        assert_eq!(merge_split_signals(rows, 8.0, 3.0, |_, _| None).len(), 2);
        let rows = vec![sig(10.0, 10.0, 100.0), sig(14.0, 10.0, 100.0)];
        assert_eq!(
            merge_split_signals(rows, 8.0, 3.0, |_, _| Some(4.0)).len(),
            2
        );
    }

    #[test]
    fn close_comparable_pair_merges_far_or_unequal_do_not() {
        let rows = vec![
            sig(10.0, 10.0, 100.0),
            sig(14.0, 10.0, 80.0),
            sig(40.0, 10.0, 100.0),
            sig(43.0, 10.0, 10.0),
        ];
        let out = merge_split_signals(rows, 8.0, 3.0, |_, _| None);
        assert_eq!(out.len(), 3);
        let m: Vec<_> = out
            .iter()
            .filter(|s| s.kind == SignalKind::SplitMerged)
            .collect();
        assert_eq!(m.len(), 1);
        assert!((m[0].x - (10.0 * 100.0 + 14.0 * 80.0) / 180.0).abs() < 1e-9);
        assert_eq!(m[0].intensity, 180.0);
    }
}
