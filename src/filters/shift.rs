//! Moving an image by a shift: the simulator's registration errors
//! (sub-pixel) and the registration of probe images to DAPI (whole
//! pixels, spots/register.rs).

use ndarray::Array2;

/// The image moved by `(dx, dy)` px (what is at `(x, y)` goes to
/// `(x + dx, y + dy)`), bilinear; pixels brought in from outside take the
/// nearest edge value.
pub fn shift_bilinear(a: &Array2<f32>, dx: f64, dy: f64) -> Array2<f32> {
    let (h, w) = a.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        let sx = (x as f64 - dx).clamp(0.0, (w - 1) as f64);
        let sy = (y as f64 - dy).clamp(0.0, (h - 1) as f64);
        let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
        let v = (1.0 - fy) * ((1.0 - fx) * a[[y0, x0]] as f64 + fx * a[[y0, x1]] as f64)
            + fy * ((1.0 - fx) * a[[y1, x0]] as f64 + fx * a[[y1, x1]] as f64);
        v as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_pixels_move_values_exactly_and_halves_average() {
        let a = Array2::from_shape_fn((5, 6), |(y, x)| (10 * y + x) as f32 + 0.125);
        let b = shift_bilinear(&a, 2.0, -1.0);
        for y in 0..5usize {
            for x in 0..6usize {
                let (sy, sx) = ((y + 1).min(4), x.saturating_sub(2));
                assert_eq!(b[[y, x]], a[[sy, sx]], "({y}, {x})");
            }
        }
        let c = shift_bilinear(&a, 0.5, 0.0);
        assert_eq!(c[[2, 3]], 0.5 * (a[[2, 2]] + a[[2, 3]]));
    }
}
