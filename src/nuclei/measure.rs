//! Region measurements (`skimage.measure.regionprops` in spirit): centroid,
//! area, perimeter, convex-hull solidity, eccentricity, DAPI intensity and
//! an outline-sharpness focus measure, per label.

use ndarray::Array2;
use rayon::prelude::*;

/// Raw measurements of one labelled region, in pixels and image units.
#[derive(Debug, Clone, Default)]
pub struct RegionProps {
    /// Label value.
    pub label: u32,
    /// Pixel count.
    pub area_px: usize,
    /// Centroid column (px, origin at the centre of the top-left pixel).
    pub x: f64,
    /// Centroid row (px).
    pub y: f64,
    /// Perimeter in px: 4-connected boundary edge count x pi/4 (the
    /// Cauchy-Crofton correction of the city-block overestimate for
    /// isotropic outlines).
    pub perimeter_px: f64,
    /// Area / area of the convex hull of the region's pixel squares.
    pub solidity: f64,
    /// Eccentricity of the ellipse with the same second moments (0 = disc).
    pub eccentricity: f64,
    /// Mean background-corrected DAPI.
    pub mean_contrast: f64,
    /// Median background-corrected DAPI.
    pub median_contrast: f64,
    /// Sum of background-corrected DAPI.
    pub integrated_contrast: f64,
    /// Median gradient magnitude of the smoothed DAPI on the outline pixels
    /// that face background (per px); 0 when none face background.
    pub edge_gradient: f64,
    /// Outline pixels facing background.
    pub edge_pixels: usize,
    /// Any pixel on the image border.
    pub touches_border: bool,
    /// Bounding box `[x0, y0, x1, y1]` (inclusive).
    pub bbox: [usize; 4],
}

/// Bounding boxes of labels 1..=n (`None` for absent labels).
pub fn bounding_boxes(labels: &Array2<u32>, n: u32) -> Vec<Option<[usize; 4]>> {
    let mut b: Vec<Option<[usize; 4]>> = vec![None; n as usize + 1];
    for ((y, x), &l) in labels.indexed_iter() {
        if l == 0 || l > n {
            continue;
        }
        let e = b[l as usize].get_or_insert([x, y, x, y]);
        e[0] = e[0].min(x);
        e[1] = e[1].min(y);
        e[2] = e[2].max(x);
        e[3] = e[3].max(y);
    }
    b
}

/// Area of the convex hull of a point set (hull by
/// [`super::concave::convex_hull`], area by the shoelace formula).
pub fn convex_hull_area(pts: Vec<(i64, i64)>) -> f64 {
    let hull = super::concave::convex_hull(pts);
    if hull.len() < 3 {
        return 0.0;
    }
    let mut s = 0i64;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        s += a.0 * b.1 - b.0 * a.1;
    }
    s.abs() as f64 / 2.0
}

/// Measures labels 1..=n. `contrast` is the background-corrected DAPI,
/// `smooth` the smoothed DAPI whose gradient measures outline sharpness.
pub fn regionprops(
    labels: &Array2<u32>,
    n: u32,
    contrast: &Array2<f32>,
    smooth: &Array2<f32>,
) -> Vec<RegionProps> {
    let (h, w) = labels.dim();
    let boxes = bounding_boxes(labels, n);
    (1..=n)
        .into_par_iter()
        .filter_map(|l| boxes[l as usize].map(|b| (l, b)))
        .map(|(l, [x0, y0, x1, y1])| {
            let (mut cnt, mut sx, mut sy) = (0usize, 0.0f64, 0.0f64);
            let (mut sxx, mut syy, mut sxy) = (0.0f64, 0.0f64, 0.0f64);
            let mut sc = 0.0f64;
            let mut edges = 0usize;
            let mut touches = false;
            let mut grads = Vec::new();
            let mut vals = Vec::new();
            let mut hull = Vec::new();
            for y in y0..=y1 {
                let mut row_min = usize::MAX;
                let mut row_max = 0usize;
                for x in x0..=x1 {
                    if labels[[y, x]] != l {
                        continue;
                    }
                    row_min = row_min.min(x);
                    row_max = row_max.max(x);
                    cnt += 1;
                    let (xf, yf) = (x as f64, y as f64);
                    sx += xf;
                    sy += yf;
                    sxx += xf * xf;
                    syy += yf * yf;
                    sxy += xf * yf;
                    let c = contrast[[y, x]] as f64;
                    sc += c;
                    vals.push(contrast[[y, x]]);
                    if y == 0 || x == 0 || y + 1 == h || x + 1 == w {
                        touches = true;
                    }
                    let mut faces_bg = false;
                    for (dy, dx) in super::morphology::N4 {
                        let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                        if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                            edges += 1;
                            continue;
                        }
                        let nl = labels[[ny as usize, nx as usize]];
                        if nl != l {
                            edges += 1;
                            if nl == 0 {
                                faces_bg = true;
                            }
                        }
                    }
                    if faces_bg && x > 0 && y > 0 && x + 1 < w && y + 1 < h {
                        let gx = 0.5 * (smooth[[y, x + 1]] - smooth[[y, x - 1]]) as f64;
                        let gy = 0.5 * (smooth[[y + 1, x]] - smooth[[y - 1, x]]) as f64;
                        grads.push((gx * gx + gy * gy).sqrt() as f32);
                    }
                }
                if row_min != usize::MAX {
                    for xc in [row_min as i64, row_max as i64 + 1] {
                        hull.push((xc, y as i64));
                        hull.push((xc, y as i64 + 1));
                    }
                }
            }
            let nf = cnt as f64;
            let (mx, my) = (sx / nf, sy / nf);
            // Central second moments (+1/12 for the pixel's own extent).
            let mu20 = sxx / nf - mx * mx + 1.0 / 12.0;
            let mu02 = syy / nf - my * my + 1.0 / 12.0;
            let mu11 = sxy / nf - mx * my;
            let common = ((mu20 - mu02).powi(2) + 4.0 * mu11 * mu11).sqrt();
            let l1 = 0.5 * (mu20 + mu02 + common);
            let l2 = 0.5 * (mu20 + mu02 - common);
            let ecc = if l1 > 0.0 {
                (1.0 - (l2 / l1).max(0.0)).sqrt()
            } else {
                0.0
            };
            let hull_area = convex_hull_area(hull);
            let median_contrast = super::threshold::median(&vals).unwrap_or(0.0) as f64;
            let edge_gradient = super::threshold::median(&grads).unwrap_or(0.0) as f64;
            RegionProps {
                label: l,
                area_px: cnt,
                x: mx,
                y: my,
                perimeter_px: edges as f64 * std::f64::consts::FRAC_PI_4,
                solidity: if hull_area > 0.0 {
                    (nf / hull_area).min(1.0)
                } else {
                    1.0
                },
                eccentricity: ecc,
                mean_contrast: sc / nf,
                median_contrast,
                integrated_contrast: sc,
                edge_gradient,
                edge_pixels: grads.len(),
                touches_border: touches,
                bbox: [x0, y0, x1, y1],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disc_measurements() {
        let r = 20.0;
        let lab = Array2::from_shape_fn((61, 61), |(y, x)| {
            (((y as f64 - 30.0).powi(2) + (x as f64 - 30.0).powi(2)).sqrt() <= r) as u32
        });
        let c = lab.mapv(|v| v as f32 * 100.0);
        let p = &regionprops(&lab, 1, &c, &c)[0];
        let area = std::f64::consts::PI * r * r;
        assert!((p.area_px as f64 - area).abs() / area < 0.02);
        assert!((p.x - 30.0).abs() < 1e-9 && (p.y - 30.0).abs() < 1e-9);
        let per = 2.0 * std::f64::consts::PI * r;
        assert!(
            (p.perimeter_px - per).abs() / per < 0.08,
            "{}",
            p.perimeter_px
        );
        assert!(p.solidity > 0.95, "{}", p.solidity);
        assert!(p.eccentricity < 0.1);
        assert!(!p.touches_border);
        assert_eq!(p.median_contrast, 100.0);
    }

    #[test]
    fn hull_of_a_square() {
        let pts = vec![(0, 0), (4, 0), (4, 4), (0, 4), (2, 2), (1, 3)];
        assert_eq!(convex_hull_area(pts), 16.0);
    }

    #[test]
    fn crescent_has_low_solidity_and_ellipse_is_eccentric() {
        let lab = Array2::from_shape_fn((61, 61), |(y, x)| {
            let (yf, xf) = (y as f64, x as f64);
            let a = ((yf - 30.0).powi(2) + (xf - 30.0).powi(2)).sqrt() <= 20.0;
            let b = ((yf - 30.0).powi(2) + (xf - 42.0).powi(2)).sqrt() <= 18.0;
            (a && !b) as u32
        });
        let p = &regionprops(&lab, 1, &lab.mapv(|v| v as f32), &lab.mapv(|v| v as f32))[0];
        assert!(p.solidity < 0.6, "{}", p.solidity);
        let e = Array2::from_shape_fn((41, 81), |(y, x)| {
            (((x as f64 - 40.0) / 30.0).powi(2) + ((y as f64 - 20.0) / 10.0).powi(2) <= 1.0) as u32
        });
        let p = &regionprops(&e, 1, &e.mapv(|v| v as f32), &e.mapv(|v| v as f32))[0];
        let want = (1.0f64 - 1.0 / 9.0).sqrt();
        assert!((p.eccentricity - want).abs() < 0.02, "{}", p.eccentricity);
    }
}
