//! A 5 x 7 pixel bitmap font for the labels burned into overlay.png
//! (nucleus ids and cluster copy numbers): digits, `#`, `x`, `~`, `+`.
//! Drawn with a one-pixel dark halo so it reads on any background.

use super::overlay::Canvas;

/// Glyph rows, top to bottom; bit 4 is the leftmost column.
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        'x' => [0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11],
        '~' => [0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        ' ' => [0; 7],
        _ => return None,
    })
}

/// Width in pixels of `text` at `scale`.
pub fn text_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    if n == 0 {
        0
    } else {
        (6 * n - 1) * scale
    }
}

/// Draws `text` with its top-left corner at (x, y), `scale` pixels per font
/// pixel, in `colour` over a dark halo. Unknown characters are skipped.
pub fn draw_text(c: &mut Canvas, x: i64, y: i64, text: &str, scale: usize, colour: [u8; 3]) {
    let s = scale.max(1) as i64;
    for pass in 0..2 {
        for (k, ch) in text.chars().enumerate() {
            let Some(g) = glyph(ch) else { continue };
            let gx = x + k as i64 * 6 * s;
            for (row, bits) in g.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) == 0 {
                        continue;
                    }
                    for dy in 0..s {
                        for dx in 0..s {
                            let px = gx + col as i64 * s + dx;
                            let py = y + row as i64 * s + dy;
                            if pass == 0 {
                                for (ox, oy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                                    c.put(px + ox, py + oy, [0, 0, 0]);
                                }
                            } else {
                                c.put(px, py, colour);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_one_in_the_expected_pixels() {
        let mut c = Canvas {
            w: 9,
            h: 11,
            rgb: vec![100; 9 * 11 * 3],
        };
        draw_text(&mut c, 2, 2, "1", 1, [255, 255, 255]);
        let at = |x: usize, y: usize| c.rgb[3 * (y * 9 + x)];
        // Row 0 of '1' is 0x04: only column 2 lit.
        assert_eq!(at(4, 2), 255);
        assert_eq!(at(3, 2), 0, "halo left of the stroke");
        // Bottom row 0x0E: columns 1-3.
        assert_eq!((at(3, 8), at(4, 8), at(5, 8)), (255, 255, 255));
        assert_eq!(at(0, 0), 100, "far pixels untouched");
        assert_eq!(text_width("12", 2), 22);
    }
}
