//! Landmark templates of the networks' training crops.

use crate::Point;

/// Five landmarks in this order: the eye on the image's left (the subject's right eye), the eye
/// on the image's right, the nose tip, the mouth corner on the image's left, the one on its right.
pub type FivePoints = [Point; 5];

/// InsightFace's ArcFace template for a 112 x 112 crop (the `arcface_dst` of its
/// `face_align.py`), which MobileFaceNet and most ArcFace-family networks were trained on.
pub const ARCFACE_112: FivePoints = [
    Point::new(38.2946, 51.6963),
    Point::new(73.5318, 51.5014),
    Point::new(56.0252, 71.7366),
    Point::new(41.5493, 92.3655),
    Point::new(70.7299, 92.2041),
];

/// The five points from the 68-point iBUG layout: the two eye centres (means of points 36–41 and
/// 42–47), the nose tip (30) and the mouth corners (48, 54). `None` unless exactly 68 points.
pub fn five_from_68(points: &[Point]) -> Option<FivePoints> {
    if points.len() != 68 {
        return None;
    }
    let mean = |range: std::ops::Range<usize>| {
        let count = range.len() as f32;
        let (x, y) = points[range]
            .iter()
            .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
        Point::new(x / count, y / count)
    };
    Some([
        mean(36..42),
        mean(42..48),
        points[30],
        points[48],
        points[54],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_points_come_from_the_right_68_point_indices() {
        let points: Vec<Point> = (0..68)
            .map(|i| Point::new(i as f32, 2.0 * i as f32))
            .collect();
        let five = five_from_68(&points).unwrap();
        assert_eq!(five[0], Point::new(38.5, 77.0));
        assert_eq!(five[1], Point::new(44.5, 89.0));
        assert_eq!(five[2], Point::new(30.0, 60.0));
        assert_eq!(five[3], Point::new(48.0, 96.0));
        assert_eq!(five[4], Point::new(54.0, 108.0));
        assert!(five_from_68(&points[..67]).is_none());
    }

    #[test]
    fn the_template_is_upright_and_mirror_symmetric() {
        let [le, re, nose, lm, rm] = ARCFACE_112;
        assert!(le.x < re.x && lm.x < rm.x, "image-left points first");
        assert!((le.y - re.y).abs() < 0.5 && le.y < nose.y && nose.y < lm.y);
        let centre = (le.x + re.x) / 2.0;
        assert!((centre - 56.0).abs() < 0.2 && (nose.x - 56.0).abs() < 0.2);
    }
}
