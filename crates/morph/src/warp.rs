//! Both faces warped piecewise-affinely onto a blended shape, and cross-dissolved.

use cf_align::Point;

use crate::{MORPH_SIDE, MorphError, MorphFace, control_points, triangulate};

/// A pixel centre on a triangle's edge counts as inside it when its barycentric weights are
/// this far below zero at most: floating-point error then never leaves a pixel of the frame
/// outside every triangle. Where two triangles both take a pixel on their common edge, their
/// affine maps agree there, so either gives the same colour.
const EDGE_TOLERANCE: f64 = 1e-6;

/// Two faces in the morph frame, ready to be blended at any `t`.
#[derive(Clone, Debug)]
pub struct Morph {
    from: MorphFace,
    to: MorphFace,
    from_points: Vec<Point>,
    to_points: Vec<Point>,
}

impl Morph {
    /// The morph from `from` (t = 0) to `to` (t = 1).
    pub fn new(from: MorphFace, to: MorphFace) -> Result<Morph, MorphError> {
        let from_points = control_points(&from.landmarks)?;
        let to_points = control_points(&to.landmarks)?;
        Ok(Morph {
            from,
            to,
            from_points,
            to_points,
        })
    }

    /// The blended shape at `t`: every control point moved `t` of the way from the first
    /// face's to the second's.
    pub fn shape(&self, t: f32) -> Vec<Point> {
        self.from_points
            .iter()
            .zip(&self.to_points)
            .map(|(a, b)| Point::new(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t))
            .collect()
    }

    /// The frame at `t` (clamped to 0..=1): both faces warped onto the shape at `t` and mixed
    /// `1 - t` to `t`; `MORPH_SIDE x MORPH_SIDE` RGB.
    pub fn frame(&self, t: f32) -> Vec<u8> {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let shape = self.shape(t);
        let triangles = triangulate(&shape);
        let mut out = vec![0u8; 3 * MORPH_SIDE * MORPH_SIDE];
        covering(&shape, &triangles, MORPH_SIDE, |corners, weights, x, y| {
            let at = |points: &[Point]| {
                let mut p = Point::default();
                for (&corner, &weight) in corners.iter().zip(&weights) {
                    p.x += weight * points[corner].x;
                    p.y += weight * points[corner].y;
                }
                p
            };
            let a = sample(
                &self.from.rgb,
                MORPH_SIDE,
                MORPH_SIDE,
                at(&self.from_points),
            );
            let b = sample(&self.to.rgb, MORPH_SIDE, MORPH_SIDE, at(&self.to_points));
            let i = 3 * (y * MORPH_SIDE + x);
            for c in 0..3 {
                out[i + c] = (a[c] + (b[c] - a[c]) * t).round().clamp(0.0, 255.0) as u8;
            }
        });
        out
    }
}

/// Calls `visit(corners, weights, x, y)` for every pixel centre `(x, y)` of a `side x side`
/// picture inside a triangle of `shape`, with the triangle's corners and the pixel's
/// barycentric weights in it. Degenerate triangles are skipped.
pub(crate) fn covering(
    shape: &[Point],
    triangles: &[[usize; 3]],
    side: usize,
    mut visit: impl FnMut([usize; 3], [f32; 3], usize, usize),
) {
    let last = (side - 1) as f64;
    for &corners in triangles {
        let [p0, p1, p2] = corners.map(|i| (f64::from(shape[i].x), f64::from(shape[i].y)));
        let (e1, e2) = ((p1.0 - p0.0, p1.1 - p0.1), (p2.0 - p0.0, p2.1 - p0.1));
        let det = e1.0 * e2.1 - e2.0 * e1.1;
        if det.abs() < 1e-9 {
            continue;
        }
        let (low_x, high_x) = (p0.0.min(p1.0).min(p2.0), p0.0.max(p1.0).max(p2.0));
        let (low_y, high_y) = (p0.1.min(p1.1).min(p2.1), p0.1.max(p1.1).max(p2.1));
        if high_x < 0.0 || high_y < 0.0 || low_x > last || low_y > last {
            continue;
        }
        let (x0, x1) = (
            low_x.ceil().max(0.0) as usize,
            high_x.floor().min(last) as usize,
        );
        let (y0, y1) = (
            low_y.ceil().max(0.0) as usize,
            high_y.floor().min(last) as usize,
        );
        for y in y0..=y1 {
            let dy = y as f64 - p0.1;
            for x in x0..=x1 {
                let dx = x as f64 - p0.0;
                let w1 = (dx * e2.1 - e2.0 * dy) / det;
                let w2 = (e1.0 * dy - dx * e1.1) / det;
                let w0 = 1.0 - w1 - w2;
                if w0 >= -EDGE_TOLERANCE && w1 >= -EDGE_TOLERANCE && w2 >= -EDGE_TOLERANCE {
                    visit(corners, [w0 as f32, w1 as f32, w2 as f32], x, y);
                }
            }
        }
    }
}

/// The colour at `p` of a `width x height` RGB picture, bilinear, its border pixels repeated
/// outside it: a warp reaching past the picture's edge then draws no black wedge into the
/// morph, which a cross-dissolve would carry into every frame.
pub(crate) fn sample(rgb: &[u8], width: usize, height: usize, p: Point) -> [f32; 3] {
    let (last_x, last_y) = ((width - 1) as f32, (height - 1) as f32);
    let (x, y) = (p.x.max(0.0).min(last_x), p.y.max(0.0).min(last_y));
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |x: usize, y: usize, c: usize| f32::from(rgb[3 * (y * width + x) + c]);
    let mut out = [0.0; 3];
    for (c, value) in out.iter_mut().enumerate() {
        let top = at(x0, y0, c) + (at(x1, y0, c) - at(x0, y0, c)) * fx;
        let bottom = at(x0, y1, c) + (at(x1, y1, c) - at(x0, y1, c)) * fx;
        *value = top + (bottom - top) * fy;
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_faces::sample_landmarks;

    /// A smooth, non-repeating picture: a warp's errors show in it.
    fn smooth_picture() -> Vec<u8> {
        let mut rgb = Vec::with_capacity(3 * MORPH_SIDE * MORPH_SIDE);
        for y in 0..MORPH_SIDE {
            for x in 0..MORPH_SIDE {
                let r = x as f32 * 0.9 + 10.0;
                let g = y as f32 * 0.8 + 20.0;
                let b = 128.0 + 60.0 * ((x as f32 / 23.0).sin() * (y as f32 / 31.0).cos());
                rgb.extend([r as u8, g as u8, b as u8]);
            }
        }
        rgb
    }

    fn face(rgb: Vec<u8>, shift: (f32, f32), scale: f32) -> MorphFace {
        let landmarks = sample_landmarks()
            .iter()
            .map(|p| {
                Point::new(
                    128.0 + (p.x - 128.0) * scale + shift.0,
                    128.0 + (p.y - 128.0) * scale + shift.1,
                )
            })
            .collect();
        MorphFace::new(rgb, landmarks).unwrap()
    }

    fn largest_difference(a: &[u8], b: &[u8]) -> u8 {
        a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap()
    }

    #[test]
    fn the_ends_give_back_the_two_faces() {
        let from = face(smooth_picture(), (0.0, 0.0), 1.0);
        let mut other = smooth_picture();
        other.reverse();
        let to = face(other, (9.0, -6.0), 0.9);
        let morph = Morph::new(from.clone(), to.clone()).unwrap();
        assert!(largest_difference(&morph.frame(0.0), &from.rgb) <= 1);
        assert!(largest_difference(&morph.frame(1.0), &to.rgb) <= 1);
        // Out-of-range blends are the ends, not garbage.
        assert_eq!(morph.frame(-3.0), morph.frame(0.0));
        assert_eq!(morph.frame(f32::NAN), morph.frame(0.0));
    }

    #[test]
    fn a_face_warped_onto_its_own_shape_is_unchanged() {
        let same = face(smooth_picture(), (3.0, 2.0), 1.05);
        let morph = Morph::new(same.clone(), same.clone()).unwrap();
        for t in [0.25, 0.5, 0.8] {
            assert!(
                largest_difference(&morph.frame(t), &same.rgb) <= 1,
                "t = {t}"
            );
        }
    }

    #[test]
    fn the_middle_frame_has_one_nose_where_the_shapes_meet_not_two_ghosts() {
        // Each face a white picture with a black disc on its own nose tip (landmark 30).
        let disc_at = |centre: Point| {
            let mut rgb = vec![255u8; 3 * MORPH_SIDE * MORPH_SIDE];
            for y in 0..MORPH_SIDE {
                for x in 0..MORPH_SIDE {
                    if (x as f32 - centre.x).hypot(y as f32 - centre.y) <= 5.0 {
                        rgb[3 * (y * MORPH_SIDE + x)..][..3].fill(0);
                    }
                }
            }
            rgb
        };
        let blank = || vec![255u8; 3 * MORPH_SIDE * MORPH_SIDE];
        let mut from = face(blank(), (-14.0, 0.0), 1.0);
        from.rgb = disc_at(from.landmarks[30]);
        let mut to = face(blank(), (14.0, 6.0), 1.0);
        to.rgb = disc_at(to.landmarks[30]);
        let (a, b) = (from.landmarks[30], to.landmarks[30]);
        let middle = Morph::new(from, to).unwrap().frame(0.5);
        let red = |p: Point| middle[3 * (p.y.round() as usize * MORPH_SIDE + p.x.round() as usize)];
        assert!(red(Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)) < 40);
        assert!(
            red(a) > 215 && red(b) > 215,
            "ghosts: {} {}",
            red(a),
            red(b)
        );
    }

    #[test]
    fn warping_leaves_no_seam_along_the_triangle_edges() {
        let from = face(smooth_picture(), (0.0, 0.0), 1.0);
        let to = face(smooth_picture(), (12.0, 10.0), 0.85);
        let frame = Morph::new(from, to).unwrap().frame(0.5);
        // The picture changes by about one level a pixel; the warp stretches it by well
        // under three. A seam or a hole would jump by tens of levels.
        let at = |x: usize, y: usize, c: usize| frame[3 * (y * MORPH_SIDE + x) + c];
        let mut largest = 0;
        for y in 0..MORPH_SIDE - 1 {
            for x in 0..MORPH_SIDE - 1 {
                for c in 0..2 {
                    largest = largest
                        .max(at(x, y, c).abs_diff(at(x + 1, y, c)))
                        .max(at(x, y, c).abs_diff(at(x, y + 1, c)));
                }
            }
        }
        assert!(
            largest <= 4,
            "a jump of {largest} levels between neighbours"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn every_pixel_is_covered_whatever_the_two_shapes(
            shift in (-30.0f32..30.0, -30.0f32..30.0),
            scale in 0.6f32..1.4,
            jitter in proptest::collection::vec((-4.0f32..4.0, -4.0f32..4.0), 68),
            t in 0.0f32..=1.0,
        ) {
            let from = face(vec![0; 3 * MORPH_SIDE * MORPH_SIDE], (0.0, 0.0), 1.0);
            let mut to = face(vec![0; 3 * MORPH_SIDE * MORPH_SIDE], shift, scale);
            for (p, (dx, dy)) in to.landmarks.iter_mut().zip(&jitter) {
                p.x += dx;
                p.y += dy;
            }
            let morph = Morph::new(from, to).unwrap();
            let shape = morph.shape(t);
            let mut covered = vec![false; MORPH_SIDE * MORPH_SIDE];
            covering(&shape, &triangulate(&shape), MORPH_SIDE, |_, weights, x, y| {
                assert!(weights.iter().all(|w| *w >= -1e-5 && *w <= 1.0 + 1e-5));
                covered[y * MORPH_SIDE + x] = true;
            });
            let holes = covered.iter().filter(|c| !**c).count();
            prop_assert_eq!(holes, 0);
        }
    }
}
