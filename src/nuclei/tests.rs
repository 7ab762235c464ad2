//! Segmentation and scorability on small hand-made DAPI images whose
//! answer is known: discs and shapes at 0.1 um per pixel, blurred by an
//! optical PSF, on a faint background with camera-like noise.

use super::*;
use crate::filters::gaussian_filter;
use crate::rng::Rng;

const PX: f64 = 0.1;

/// Renders shapes (`inside(x, y) -> brightness`, summed) into a DAPI plane.
fn render(w: usize, h: usize, shapes: &[&dyn Fn(f64, f64) -> f32], seed: u64) -> Plane {
    let clean = Array2::from_shape_fn((h, w), |(y, x)| {
        shapes.iter().map(|s| s(x as f64, y as f64)).sum::<f32>()
    });
    let blurred = gaussian_filter(&clean, 0.25 / PX);
    let mut rng = Rng::new(seed, 7);
    let data = blurred.mapv(|v| 100.0 + v + 8.0 * (rng.uniform() as f32 - 0.5) * 3.46);
    Plane::new(data, PX)
}

fn disc(cx: f64, cy: f64, r_um: f64, level: f32) -> impl Fn(f64, f64) -> f32 {
    let r = r_um / PX;
    move |x, y| {
        if (x - cx).powi(2) + (y - cy).powi(2) <= r * r {
            level
        } else {
            0.0
        }
    }
}

fn labels_at(seg: &Segmentation, pts: &[(usize, usize)]) -> Vec<u32> {
    pts.iter().map(|&(x, y)| seg.labels[[y, x]]).collect()
}

fn segment(plane: &Plane) -> (Segmentation, Vec<Nucleus>) {
    let p = NucleusParams::default();
    let seg = segment_nuclei(plane, &p);
    let mut fields = vec![seg.nuclei.clone()];
    classify(&mut fields, &p);
    let n = fields.pop().unwrap_or_default();
    (seg, n)
}

#[test]
fn one_disc_is_one_nucleus_with_its_area() {
    let d = disc(150.0, 150.0, 4.5, 1000.0);
    let (seg, nuclei) = segment(&render(300, 300, &[&d], 1));
    assert_eq!(nuclei.len(), 1);
    let n = &nuclei[0];
    let area = std::f64::consts::PI * 4.5 * 4.5;
    assert!(
        (n.area_um2 - area).abs() / area < 0.05,
        "area {}",
        n.area_um2
    );
    assert!((n.x - 150.0).abs() < 1.0 && (n.y - 150.0).abs() < 1.0);
    assert!(n.scorable, "{:?}", n.reason);
    assert!(n.solidity > 0.95 && n.eccentricity < 0.3);
    assert_eq!(seg.labels[[150, 150]], n.id);
}

#[test]
fn two_touching_discs_are_two_nuclei() {
    // Centres 8 um apart, radii 4.5 um: they overlap by 1 um, and the
    // contested strip belongs to one of them (a flat contact, as in tissue).
    let a = disc(110.0, 150.0, 4.5, 1000.0);
    let b0 = disc(190.0, 150.0, 4.5, 900.0);
    let b = move |x: f64, y: f64| if a(x, y) > 0.0 { 0.0 } else { b0(x, y) };
    let a = disc(110.0, 150.0, 4.5, 1000.0);
    let (seg, nuclei) = segment(&render(300, 300, &[&a, &b], 2));
    assert_eq!(nuclei.len(), 2);
    let l = labels_at(&seg, &[(90, 150), (210, 150)]);
    assert!(l[0] != 0 && l[1] != 0 && l[0] != l[1], "{l:?}");
    assert!(
        nuclei.iter().all(|n| n.scorable),
        "{:?}",
        nuclei.iter().map(|n| n.reason).collect::<Vec<_>>()
    );
}

#[test]
fn peanut_and_kidney_nuclei_stay_whole() {
    // A peanut: two discs of 4 um radius 3 um apart (shallow waist).
    let p1 = disc(135.0, 150.0, 4.0, 1000.0);
    let p2 = disc(165.0, 150.0, 4.0, 1000.0);
    let peanut = move |x: f64, y: f64| p1(x, y).max(p2(x, y));
    // A kidney: a 5 um disc with a 2.5 um bite out of one side.
    let k1 = disc(150.0, 400.0, 5.0, 1100.0);
    let k2 = disc(205.0, 400.0, 2.5, 1.0);
    let kidney = move |x: f64, y: f64| if k2(x, y) > 0.0 { 0.0 } else { k1(x, y) };
    let (seg, nuclei) = segment(&render(320, 560, &[&peanut, &kidney], 3));
    assert_eq!(nuclei.len(), 2, "{}", nuclei.len());
    let l = labels_at(&seg, &[(110, 150), (190, 150)]);
    assert_eq!(l[0], l[1]);
    assert!(l[0] != 0);
}

#[test]
fn disc_on_the_border_is_cut_by_border() {
    let d = disc(20.0, 150.0, 4.5, 1000.0);
    let e = disc(200.0, 150.0, 4.5, 1000.0);
    let (_, nuclei) = segment(&render(300, 300, &[&d, &e], 4));
    assert_eq!(nuclei.len(), 2);
    let cut: Vec<_> = nuclei.iter().filter(|n| n.touches_border).collect();
    assert_eq!(cut.len(), 1);
    assert_eq!(cut[0].reason, Some(ExclusionReason::CutByBorder));
    assert!(nuclei.iter().any(|n| n.scorable));
}

#[test]
fn bright_overlap_is_overlapping_and_neighbours_stay_scorable() {
    // Two nuclei stacked (their DAPI adds up where they overlap) and two
    // lone nuclei for the case's reference.
    let a = disc(120.0, 130.0, 4.5, 1000.0);
    let b = disc(175.0, 130.0, 4.5, 950.0);
    let c = disc(120.0, 380.0, 4.5, 1000.0);
    let d = disc(330.0, 380.0, 4.5, 1050.0);
    let (seg, nuclei) = segment(&render(460, 500, &[&a, &b, &c, &d], 5));
    let stacked: Vec<u32> = labels_at(&seg, &[(90, 130), (205, 130)]);
    assert!(stacked.iter().all(|&l| l != 0));
    for l in &stacked {
        let n = nuclei
            .iter()
            .find(|n| n.id == *l)
            .expect("labelled nucleus");
        assert_eq!(n.reason, Some(ExclusionReason::Overlapping), "nucleus {l}");
    }
    let lone = labels_at(&seg, &[(120, 380), (330, 380)]);
    for l in &lone {
        let n = nuclei
            .iter()
            .find(|n| n.id == *l)
            .expect("labelled nucleus");
        assert!(n.scorable, "{:?}", n.reason);
    }
}

#[test]
fn small_bright_debris_is_too_small_and_blurred_nucleus_out_of_focus() {
    let a = disc(100.0, 100.0, 4.5, 1000.0);
    let b = disc(300.0, 100.0, 4.5, 1000.0);
    let c = disc(100.0, 300.0, 4.5, 1000.0);
    let debris = disc(300.0, 300.0, 1.0, 2000.0);
    let sharp = render(420, 420, &[&a, &b, &c, &debris], 6);
    // An out-of-focus nucleus: its own image blurred by 1.2 um.
    let f = disc(210.0, 200.0, 4.5, 1000.0);
    let blurred = gaussian_filter(
        &Array2::from_shape_fn((420, 420), |(y, x)| f(x as f64, y as f64)),
        1.2 / PX,
    );
    let mut data = sharp.data.clone();
    data.zip_mut_with(&blurred, |a, b| *a += *b);
    let (seg, nuclei) = segment(&Plane::new(data, PX));
    let at = |x: usize, y: usize| {
        let l = seg.labels[[y, x]];
        nuclei.iter().find(|n| n.id == l).map(|n| n.reason)
    };
    assert_eq!(at(300, 300), Some(Some(ExclusionReason::TooSmall)));
    assert_eq!(at(210, 200), Some(Some(ExclusionReason::OutOfFocus)));
    assert_eq!(at(100, 100), Some(None));
}
