//! Least-squares similarity transforms in the plane.

/// A point in pixel coordinates (x to the right, y down).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub const fn new(x: f32, y: f32) -> Self {
        Point { x, y }
    }
}

/// `p -> [a -b; b a] p + t`: a rotation and uniform scale (`a = s cos θ`, `b = s sin θ`) followed
/// by a translation. No reflection, no shear: a face keeps its shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// The identity map.
    pub const IDENTITY: Similarity = Similarity {
        a: 1.0,
        b: 0.0,
        tx: 0.0,
        ty: 0.0,
    };

    /// Maps `p`.
    pub fn apply(&self, p: Point) -> Point {
        Point {
            x: self.a * p.x - self.b * p.y + self.tx,
            y: self.b * p.x + self.a * p.y + self.ty,
        }
    }

    /// The scale factor `s`.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// The inverse map, or `None` for a degenerate (zero-scale) transform.
    pub fn inverse(&self) -> Option<Similarity> {
        let det = self.a * self.a + self.b * self.b;
        if det <= f32::EPSILON * f32::EPSILON || !det.is_finite() {
            return None;
        }
        let (a, b) = (self.a / det, -self.b / det);
        Some(Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        })
    }

    /// The similarity minimising `Σ |T(src_i) − dst_i|²` (Umeyama's method restricted to the
    /// plane, without reflection). `None` when fewer than two points are given, the counts
    /// differ, a value is not finite, or all source points coincide.
    pub fn estimate(src: &[Point], dst: &[Point]) -> Option<Similarity> {
        if src.len() != dst.len() || src.len() < 2 {
            return None;
        }
        if src
            .iter()
            .chain(dst)
            .any(|p| !p.x.is_finite() || !p.y.is_finite())
        {
            return None;
        }
        // Sums in f64: the closed form subtracts nearly equal quantities for small faces.
        let n = src.len() as f64;
        let mean = |points: &[Point]| {
            let (sx, sy) = points.iter().fold((0.0, 0.0), |(x, y), p| {
                (x + f64::from(p.x), y + f64::from(p.y))
            });
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut dot, mut cross, mut spread) = (0.0f64, 0.0f64, 0.0f64);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (f64::from(s.x) - msx, f64::from(s.y) - msy);
            let (dx, dy) = (f64::from(d.x) - mdx, f64::from(d.y) - mdy);
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
            spread += sx * sx + sy * sy;
        }
        if spread <= 1e-12 {
            return None;
        }
        let a = dot / spread;
        let b = cross / spread;
        Some(Similarity {
            a: a as f32,
            b: b as f32,
            tx: (mdx - (a * msx - b * msy)) as f32,
            ty: (mdy - (b * msx + a * msy)) as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(p: Point, q: Point, tolerance: f32) -> bool {
        (p.x - q.x).abs() <= tolerance && (p.y - q.y).abs() <= tolerance
    }

    #[test]
    fn a_known_transform_is_recovered_and_inverted() {
        // 30 degrees, scale 2, shift (5, -3).
        let (s, t) = (2.0f32, 30f32.to_radians());
        let truth = Similarity {
            a: s * t.cos(),
            b: s * t.sin(),
            tx: 5.0,
            ty: -3.0,
        };
        let src = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 0.0),
            Point::new(0.0, 10.0),
            Point::new(7.0, 3.0),
        ];
        let dst: Vec<Point> = src.iter().map(|&p| truth.apply(p)).collect();
        let found = Similarity::estimate(&src, &dst).unwrap();
        assert!((found.a - truth.a).abs() < 1e-5 && (found.b - truth.b).abs() < 1e-5);
        assert!((found.tx - truth.tx).abs() < 1e-4 && (found.ty - truth.ty).abs() < 1e-4);
        assert!((found.scale() - 2.0).abs() < 1e-5);
        let back = found.inverse().unwrap();
        for p in src {
            assert!(close(back.apply(found.apply(p)), p, 1e-4));
        }
    }

    #[test]
    fn noise_is_averaged_in_the_least_squares_sense() {
        // A pure shift with symmetric noise: the estimate is the mean shift, no rotation.
        let src = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 0.0),
            Point::new(10.0, 10.0),
            Point::new(0.0, 10.0),
        ];
        let dst = [
            Point::new(1.1, 2.0),
            Point::new(10.9, 2.0),
            Point::new(11.1, 12.0),
            Point::new(0.9, 12.0),
        ];
        let found = Similarity::estimate(&src, &dst).unwrap();
        assert!((found.tx - 1.0).abs() < 0.05 && (found.ty - 2.0).abs() < 0.05);
        assert!(found.b.abs() < 0.01 && (found.a - 1.0).abs() < 0.01);
    }

    #[test]
    fn degenerate_inputs_give_none() {
        let p = Point::new(1.0, 1.0);
        assert!(Similarity::estimate(&[p], &[p]).is_none());
        assert!(Similarity::estimate(&[p, p], &[p]).is_none());
        assert!(Similarity::estimate(&[p, p, p], &[p, Point::new(2.0, 0.0), p]).is_none());
        let nan = Point::new(f32::NAN, 0.0);
        assert!(Similarity::estimate(&[p, nan], &[p, p]).is_none());
        let zero = Similarity {
            a: 0.0,
            b: 0.0,
            tx: 1.0,
            ty: 1.0,
        };
        assert!(zero.inverse().is_none());
    }

    proptest! {
        #[test]
        fn any_similarity_is_recovered_from_five_points(
            angle in -3.1f32..3.1,
            scale in 0.05f32..20.0,
            tx in -500f32..500.0,
            ty in -500f32..500.0,
        ) {
            let truth = Similarity { a: scale * angle.cos(), b: scale * angle.sin(), tx, ty };
            let src = [
                Point::new(30.0, 50.0), Point::new(70.0, 50.0), Point::new(50.0, 70.0),
                Point::new(35.0, 90.0), Point::new(65.0, 90.0),
            ];
            let dst: Vec<Point> = src.iter().map(|&p| truth.apply(p)).collect();
            let found = Similarity::estimate(&src, &dst).unwrap();
            for (&s, &d) in src.iter().zip(&dst) {
                let tolerance = 1e-3 * (1.0 + scale * 100.0 + tx.abs() + ty.abs());
                prop_assert!(close(found.apply(s), d, tolerance));
            }
        }
    }
}
