//! Spectral bleed-through between the two probes. A filter set passes a
//! little of the other probe's emission (SpectrumGreen's tail into the
//! orange filter, more rarely the reverse), so every dot of one probe
//! leaves a faint copy of itself, same place and same shape, in the other
//! probe's image. Centromere probes are often several times brighter than
//! locus probes, so with a bleed of a few per cent the copies of CEP12 dots
//! in the MDM2 image reach the detection threshold and each one is counted
//! as an MDM2 copy: the stress set's bleed-non (12 % bleed-through, a 3x
//! brighter centromere probe), truly 1.02, read 1.60 (docs/accuracy.md).
//!
//! The leak is linear, so it is measured on the image and unmixed, as the
//! DAPI crosstalk is: the coefficient is the median, over bright isolated
//! single dots of the source probe, of the share of each dot's own profile
//! that the other image holds at its place ([`share_at`]: a least-squares
//! fit of the dot's Gaussian on a plane, so that a background sloping or
//! stepping under the dot does not read as light). A dot of the other
//! probe nearby would add its light, so dots with one between two PSF
//! sigmas and a micron away are left out; a coincident one is the bleed
//! copy itself and is what is measured, unless it is at least half as
//! bright as the dot (a copy that bright is a signal of the other probe
//! in the same place, not a leak). Without bleed-through the shares
//! scatter around 0.

use super::objects::SpotObject;
use ndarray::Array2;

/// Response (SDs) a source dot needs to take part: twice the detection
/// threshold, so that its share in the other image is measured against a
/// flux known to a few per cent.
const MIN_RESPONSE_SD: f64 = 9.0;

/// Dots the estimate needs.
const MIN_DOTS: usize = 20;

/// A coefficient is unmixed when it is this many standard errors above 0.
const SIGNIFICANCE: f64 = 4.0;

/// Bleed-through of one probe's light into the other probe's image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bleed {
    /// Share of the source probe's light seen in the other image.
    pub coefficient: f64,
    /// Its standard error (of a median: 1.2533 x 1.4826 MAD / sqrt n).
    pub se: f64,
}

impl Bleed {
    /// Whether the coefficient is clearly above 0 (then it is unmixed).
    pub fn significant(&self) -> bool {
        self.coefficient > SIGNIFICANCE * self.se
    }
}

/// The share of `source` objects' light that `other_img` shows at their
/// places. `other` are the objects detected in `other_img`, `sigma` the
/// source's PSF sigma and `um` the microns per pixel. `None` with fewer
/// than [`MIN_DOTS`] usable dots.
pub fn estimate(
    source: &[SpotObject],
    other: &[SpotObject],
    other_img: &Array2<f32>,
    sigma: f64,
    um: f64,
) -> Option<Bleed> {
    let near = 2.0 * sigma;
    let far = near + 1.0 / um;
    // No dot of the other probe between `near` and `far` (its light would
    // add to the share), nor one within `near` at least half as bright
    // (a signal of the other probe in the same place, not a copy).
    let clear_of_other = |o: &SpotObject| {
        !other.iter().any(|q| {
            let d = (q.x - o.x).hypot(q.y - o.y);
            (d > near && d < far) || (d <= near && q.flux > 0.5 * o.flux)
        })
    };
    let mut shares: Vec<f32> = source
        .iter()
        .filter(|o| {
            o.n_maxima == 1
                && o.width_px < 1.5 * sigma
                && o.flux > 0.0
                && o.response_z >= MIN_RESPONSE_SD
                && clear_of_other(o)
        })
        .filter_map(|o| share_at(other_img, o, sigma))
        .map(|a| a as f32)
        .collect();
    let n = shares.len();
    if n < MIN_DOTS {
        return None;
    }
    let (coefficient, se) = super::detect::median_and_se(&mut shares);
    Some(Bleed { coefficient, se })
}

/// The share of object `o`'s light that `img` holds at its place: `a` of
/// the least-squares fit `img = c + gx dx + gy dy + a G` over the disc of
/// 4 PSF sigmas (at least 3 px) around it, with `G` the object's own
/// Gaussian (its width, at least half the PSF sigma, and its flux). `None`
/// when the disc leaves the image or the fit is singular.
pub fn share_at(img: &Array2<f32>, o: &SpotObject, sigma: f64) -> Option<f64> {
    let (h, w) = img.dim();
    let r = (4.0 * sigma).max(3.0);
    let (x0, x1) = ((o.x - r).floor(), (o.x + r).ceil());
    let (y0, y1) = ((o.y - r).floor(), (o.y + r).ceil());
    if x0 < 0.0 || y0 < 0.0 || x1 >= w as f64 || y1 >= h as f64 || o.flux <= 0.0 {
        return None;
    }
    let wp = o.width_px.max(0.5 * sigma);
    let norm = o.flux / (2.0 * std::f64::consts::PI * wp * wp);
    // Normal equations of the four-column fit.
    let mut ata = [[0.0f64; 4]; 4];
    let mut atb = [0.0f64; 4];
    for y in y0 as usize..=y1 as usize {
        for x in x0 as usize..=x1 as usize {
            let (dx, dy) = (x as f64 - o.x, y as f64 - o.y);
            let r2 = dx * dx + dy * dy;
            if r2 > r * r {
                continue;
            }
            let row = [1.0, dx, dy, norm * (-r2 / (2.0 * wp * wp)).exp()];
            let v = img[[y, x]] as f64;
            for i in 0..4 {
                atb[i] += row[i] * v;
                for j in 0..4 {
                    ata[i][j] += row[i] * row[j];
                }
            }
        }
    }
    solve4(ata, atb).map(|c| c[3]).filter(|a| a.is_finite())
}

/// Solves a 4 x 4 linear system by Gaussian elimination with partial
/// pivoting; `None` when it is singular.
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for k in 0..4 {
        let p = (k..4).max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))?;
        if a[p][k].abs() < 1e-12 * a.iter().map(|r| r[k].abs()).fold(0.0, f64::max).max(1e-300) {
            return None;
        }
        a.swap(k, p);
        b.swap(k, p);
        let pivot = a[k];
        for i in k + 1..4 {
            let f = a[i][k] / pivot[k];
            for (x, &y) in a[i].iter_mut().zip(pivot.iter()).skip(k) {
                *x -= f * y;
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = [0.0f64; 4];
    for k in (0..4).rev() {
        let s: f64 = (k + 1..4).map(|j| a[k][j] * x[j]).sum();
        x[k] = (b[k] - s) / a[k][k];
    }
    Some(x)
}

/// Unmixes two probe images whose lights leak into each other: with
/// `t = T + a C` and `c = C + b T` (`a` the control's share in the target
/// image, `b` the target's in the control image), returns `(T, C)`.
pub fn unmix(
    target: &Array2<f32>,
    control: &Array2<f32>,
    a: f64,
    b: f64,
) -> (Array2<f32>, Array2<f32>) {
    let det = 1.0 - a * b;
    let mut t = target.clone();
    let mut c = control.clone();
    t.zip_mut_with(control, |x, &y| {
        *x = ((*x as f64 - a * y as f64) / det) as f32;
    });
    c.zip_mut_with(target, |x, &y| {
        *x = ((*x as f64 - b * y as f64) / det) as f32;
    });
    (t, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::optics::add_gaussian;

    use crate::spots::objects::noisy_flat as noisy;

    /// Objects at `spots` of `img`, measured as the pipeline does, bright.
    fn objects(img: &Array2<f32>, spots: &[(usize, usize)]) -> Vec<SpotObject> {
        let mut objs = crate::spots::objects::objects_on_flat(img, spots, 15.0, 2, 0.2);
        for o in objs.iter_mut() {
            o.response_z = 20.0;
        }
        objs
    }

    /// 36 control dots on a grid; the target image gets `leak` of each.
    fn case(leak: f64) -> (Vec<SpotObject>, Array2<f32>, Array2<f32>) {
        let mut control = noisy(1, 240);
        let mut target = noisy(2, 240);
        let mut at = Vec::new();
        for i in 0..6 {
            for j in 0..6 {
                let (x, y) = (20.0 + 40.0 * i as f64 + 0.3, 20.0 + 40.0 * j as f64 - 0.2);
                add_gaussian(&mut control, x, y, 1.5, 8000.0);
                add_gaussian(&mut target, x, y, 1.5, leak * 8000.0);
                at.push((x.round() as usize, y.round() as usize));
            }
        }
        at.sort_by_key(|&(x, y)| (y, x));
        (objects(&control, &at), target, control)
    }

    #[test]
    fn measures_a_known_leak_and_unmixes_it() {
        let (objs, target, control) = case(0.1);
        let b = estimate(&objs, &[], &target, 1.5, 0.1).expect("enough dots");
        assert!((b.coefficient - 0.1).abs() < 0.01, "{b:?}");
        assert!(b.significant());
        let (t, _) = unmix(&target, &control, b.coefficient, 0.0);
        // The copy is gone: what is left at a dot is under 1 % of it.
        let left: f64 = objs
            .iter()
            .map(|o| share_at(&t, o, 1.5).expect("measurable").abs())
            .sum::<f64>()
            / objs.len() as f64;
        assert!(left < 0.01, "{left}");
    }

    #[test]
    fn no_leak_is_not_significant() {
        let (objs, target, _) = case(0.0);
        let b = estimate(&objs, &[], &target, 1.5, 0.1).expect("enough dots");
        assert!(!b.significant(), "{b:?}");
        assert!(b.coefficient.abs() < 0.005, "{b:?}");
    }

    #[test]
    fn a_background_step_under_the_dots_is_not_light() {
        // A nucleus outline through every dot: the other image is 60 ADU
        // (12 noise SDs) brighter on one side. The fit's plane takes it.
        let (objs, mut target, _) = case(0.0);
        for ((_, x), v) in target.indexed_iter_mut() {
            if x % 40 > 20 {
                *v += 60.0;
            }
        }
        let b = estimate(&objs, &[], &target, 1.5, 0.1).expect("enough dots");
        assert!(b.coefficient.abs() < 0.01 && !b.significant(), "{b:?}");
    }

    #[test]
    fn a_neighbour_of_the_other_probe_keeps_a_dot_out() {
        let (objs, target, _) = case(0.0);
        // A target dot 0.5 um (5 px) beside every control dot.
        let others: Vec<SpotObject> = objs
            .iter()
            .map(|o| SpotObject {
                x: o.x + 5.0,
                ..o.clone()
            })
            .collect();
        assert!(estimate(&objs, &others, &target, 1.5, 0.1).is_none());
    }

    #[test]
    fn a_signal_of_the_other_probe_in_the_same_place_is_not_a_leak() {
        // Every control dot has a target dot as bright in the same place
        // (its share would read 1): not a bleed copy, the dots stay out;
        // a copy a tenth as bright is one and they count.
        let (objs, target, _) = case(1.0);
        let twin = |f: f64| -> Vec<SpotObject> {
            objs.iter()
                .map(|o| SpotObject {
                    flux: f * o.flux,
                    ..o.clone()
                })
                .collect()
        };
        assert!(estimate(&objs, &twin(1.0), &target, 1.5, 0.1).is_none());
        let (objs, target, _) = case(0.1);
        let b = estimate(&objs, &twin(0.1), &target, 1.5, 0.1).expect("enough dots");
        assert!((b.coefficient - 0.1).abs() < 0.01, "{b:?}");
    }

    #[test]
    fn unmixing_inverts_a_two_way_leak() {
        let t0 = noisy(3, 16);
        let c0 = noisy(4, 16);
        let (a, b) = (0.12, 0.05);
        let mut t = t0.clone();
        t.zip_mut_with(&c0, |x, &y| *x += (a * y as f64) as f32);
        let mut c = c0.clone();
        c.zip_mut_with(&t0, |x, &y| *x += (b * y as f64) as f32);
        let (tu, cu) = unmix(&t, &c, a, b);
        for (u, v) in tu.iter().zip(t0.iter()).chain(cu.iter().zip(c0.iter())) {
            assert!((u - v).abs() < 1e-3, "{u} {v}");
        }
    }
}
