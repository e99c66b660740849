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

/// The mean of some points (a non-empty slice).
fn mean_of(points: &[Point]) -> Point {
    let count = points.len() as f32;
    let (x, y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
    Point::new(x / count, y / count)
}

/// The five points from the 68-point iBUG layout: the two eye centres (means of points 36–41 and
/// 42–47), the nose tip (30) and the mouth corners (48, 54). `None` unless exactly 68 points.
pub fn five_from_68(points: &[Point]) -> Option<FivePoints> {
    if points.len() != 68 {
        return None;
    }
    let mean = |range: std::ops::Range<usize>| mean_of(&points[range]);
    Some([
        mean(36..42),
        mean(42..48),
        points[30],
        points[48],
        points[54],
    ])
}

/// Why 68 points are not laid out as a face: what a landmark network answers for a box with no
/// face in it (a blur, an eye, a patch of hair) is a shape, but rarely a face's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutFault {
    /// The two eyes are (nearly) one point.
    EyesTogether,
    /// The mouth is not below the eyes, at a face's distance, between them.
    MouthOutOfPlace,
    /// The nose tip is far above the eyes, or below the chin.
    NoseOutOfPlace,
    /// The chin is not below the mouth.
    ChinOutOfPlace,
}

impl std::fmt::Display for LayoutFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LayoutFault::EyesTogether => "the two eyes fall on one point",
            LayoutFault::MouthOutOfPlace => "the mouth is not below the eyes",
            LayoutFault::NoseOutOfPlace => "the nose is not between the eyes and the chin",
            LayoutFault::ChinOutOfPlace => "the chin is not below the mouth",
        })
    }
}

/// Checks that 68 iBUG points are laid out as a face, in the face's own frame (the eye line
/// as its x axis, so a tilted or upside-down face passes), in units of the eye distance. The
/// bounds are wide, the range of turned, tilted and shouting faces: a frontal face has its
/// mouth about 1.1 eye distances below the eyes, its nose tip 0.6, its chin 2; a face turned
/// 60 degrees has half the eye distance, so twice these. The nose tip may sit on the eye line
/// (LFW has three faces looking up whose nose point is 0.01 to 0.05 above it).
pub fn face_layout_fault(points: &[Point]) -> Option<LayoutFault> {
    if points.len() != 68 {
        return Some(LayoutFault::EyesTogether);
    }
    let mean = |range: std::ops::Range<usize>| mean_of(&points[range]);
    let (left_eye, right_eye) = (mean(36..42), mean(42..48));
    let (ex, ey) = (right_eye.x - left_eye.x, right_eye.y - left_eye.y);
    let eye_distance = ex.hypot(ey);
    let span = points.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
        (lo.min(p.x).min(p.y), hi.max(p.x).max(p.y))
    });
    if eye_distance.is_nan() || eye_distance <= 1e-3 * (span.1 - span.0).max(1.0) {
        return Some(LayoutFault::EyesTogether);
    }
    let middle = Point::new(
        (left_eye.x + right_eye.x) / 2.0,
        (left_eye.y + right_eye.y) / 2.0,
    );
    // (along the eye line, below it), in eye distances; image y grows downwards.
    let frame = |p: Point| {
        let (dx, dy) = (p.x - middle.x, p.y - middle.y);
        let d2 = eye_distance * eye_distance;
        ((dx * ex + dy * ey) / d2, (dy * ex - dx * ey) / d2)
    };
    let (mouth_along, mouth_below) = frame(mean(48..68));
    if !(0.4..=3.5).contains(&mouth_below) || mouth_along.abs() > 1.5 {
        return Some(LayoutFault::MouthOutOfPlace);
    }
    let (_, chin_below) = frame(points[8]);
    if chin_below <= mouth_below {
        return Some(LayoutFault::ChinOutOfPlace);
    }
    let (_, nose_below) = frame(points[30]);
    if nose_below <= -0.5 || nose_below >= chin_below {
        return Some(LayoutFault::NoseOutOfPlace);
    }
    None
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

    /// A frontal face's 68 points, eyes 40 apart: only the points the layout check reads are
    /// placed as a face's; the rest sit on the jaw line.
    fn frontal_face() -> Vec<Point> {
        let mut points = vec![Point::new(50.0, 100.0); 68];
        for (i, p) in points.iter_mut().enumerate().take(17) {
            *p = Point::new(
                20.0 + 60.0 * i as f32 / 16.0,
                60.0 + 40.0 * (1.0 - ((i as f32 - 8.0) / 8.0).powi(2)),
            );
        }
        for (i, p) in points[36..42].iter_mut().enumerate() {
            *p = Point::new(30.0 + i as f32, 40.0);
        }
        for (i, p) in points[42..48].iter_mut().enumerate() {
            *p = Point::new(70.0 - i as f32, 40.0);
        }
        points[30] = Point::new(50.0, 64.0);
        for (i, p) in points[48..68].iter_mut().enumerate() {
            *p = Point::new(40.0 + i as f32, 84.0);
        }
        points
    }

    fn turned(points: &[Point], angle: f32) -> Vec<Point> {
        let (s, c) = angle.sin_cos();
        points
            .iter()
            .map(|p| Point::new(c * p.x - s * p.y + 300.0, s * p.x + c * p.y + 300.0))
            .collect()
    }

    #[test]
    fn a_face_is_a_face_however_it_is_turned_in_the_picture() {
        let face = frontal_face();
        assert_eq!(face_layout_fault(&face), None);
        for degrees in [-90.0f32, -30.0, 30.0, 90.0, 180.0] {
            assert_eq!(
                face_layout_fault(&turned(&face, degrees.to_radians())),
                None,
                "{degrees}"
            );
        }
    }

    #[test]
    fn what_is_not_laid_out_as_a_face_is_named() {
        let face = frontal_face();
        let collapsed = vec![Point::new(5.0, 5.0); 68];
        assert_eq!(
            face_layout_fault(&collapsed),
            Some(LayoutFault::EyesTogether)
        );
        assert_eq!(
            face_layout_fault(&face[..60]),
            Some(LayoutFault::EyesTogether)
        );

        let mut mouth_above = face.clone();
        for p in &mut mouth_above[48..68] {
            p.y = 20.0;
        }
        assert_eq!(
            face_layout_fault(&mouth_above),
            Some(LayoutFault::MouthOutOfPlace)
        );

        let mut nose_below_chin = face.clone();
        nose_below_chin[30].y = 110.0;
        assert_eq!(
            face_layout_fault(&nose_below_chin),
            Some(LayoutFault::NoseOutOfPlace)
        );
        let mut looking_up = face.clone();
        looking_up[30].y = 39.0;
        assert_eq!(
            face_layout_fault(&looking_up),
            None,
            "a nose on the eye line passes"
        );

        let mut chin_up = face.clone();
        chin_up[8].y = 70.0;
        assert_eq!(
            face_layout_fault(&chin_up),
            Some(LayoutFault::ChinOutOfPlace)
        );

        // Mirrored top to bottom (eyes below the mouth) is no face, even though every point is
        // where some face could have one.
        let flipped: Vec<Point> = face.iter().map(|p| Point::new(p.x, 200.0 - p.y)).collect();
        assert!(face_layout_fault(&flipped).is_some());
    }
}
