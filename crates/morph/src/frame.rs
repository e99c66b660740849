//! The square frame both faces are cut into, and the points that pin the mesh to it.

use cf_align::{ARCFACE_112, FivePoints, Point, RgbImage, Similarity, five_from_68};

use crate::MorphError;
use crate::warp::sample;

/// Side of the morph frame, in pixels: the celebrity's portrait is cut at this size, so their
/// side of the morph is shown at its own resolution.
pub const MORPH_SIDE: usize = 256;

/// How much larger the face is drawn than in ArcFace's 112 px template: with this scale the
/// frame shows as much around the face as the thumbnails do (the face box grown 1.6 times),
/// so hair and chin are in the picture.
const FRAME_SCALE: f32 = 1.6;
/// The face is drawn a little above the frame's centre, leaving room for the forehead.
const FRAME_LIFT: f32 = 8.0;

/// Where the eyes, nose tip and mouth corners go in the frame: ArcFace's template scaled about
/// its centre into the frame.
pub const FRAME_TEMPLATE: FivePoints = {
    let mut points = ARCFACE_112;
    let centre = MORPH_SIDE as f32 / 2.0;
    let mut i = 0;
    while i < 5 {
        points[i] = Point::new(
            (points[i].x - 56.0) * FRAME_SCALE + centre,
            (points[i].y - 56.0) * FRAME_SCALE + centre - FRAME_LIFT,
        );
        i += 1;
    }
    points
};

/// A face cut into the morph frame: `MORPH_SIDE x MORPH_SIDE` RGB and its 68 landmarks there.
#[derive(Clone, Debug, PartialEq)]
pub struct MorphFace {
    pub rgb: Vec<u8>,
    pub landmarks: Vec<Point>,
}

impl MorphFace {
    /// Checks the sizes (a face handed over from elsewhere, e.g. by the page's messages).
    pub fn new(rgb: Vec<u8>, landmarks: Vec<Point>) -> Result<MorphFace, MorphError> {
        let expected = 3 * MORPH_SIDE * MORPH_SIDE;
        if rgb.len() != expected {
            return Err(MorphError::PictureSize {
                got: rgb.len(),
                expected,
                side: MORPH_SIDE,
            });
        }
        if landmarks.len() != 68 {
            return Err(MorphError::Landmarks(landmarks.len()));
        }
        Ok(MorphFace { rgb, landmarks })
    }
}

/// Cuts the face with these 68 landmarks (photo pixels) out of `photo` into the morph frame:
/// the similarity that takes its five points nearest to [`FRAME_TEMPLATE`], bilinear, the
/// photo's edge repeated where the frame reaches past it (a face near the edge of a selfie).
pub fn cut_morph_face(photo: RgbImage<'_>, landmarks: &[Point]) -> Result<MorphFace, MorphError> {
    let five = five_from_68(landmarks).ok_or(MorphError::Landmarks(landmarks.len()))?;
    if photo.width == 0 || photo.height == 0 || photo.pixels.len() != 3 * photo.width * photo.height
    {
        return Err(MorphError::PhotoBytes {
            got: photo.pixels.len(),
            width: photo.width,
            height: photo.height,
        });
    }
    let to_frame = Similarity::estimate(&five, &FRAME_TEMPLATE).ok_or(MorphError::Degenerate)?;
    let to_photo = to_frame.inverse().ok_or(MorphError::Degenerate)?;
    let mut rgb = Vec::with_capacity(3 * MORPH_SIDE * MORPH_SIDE);
    for v in 0..MORPH_SIDE {
        for u in 0..MORPH_SIDE {
            let p = to_photo.apply(Point::new(u as f32, v as f32));
            let colour = sample(photo.pixels, photo.width, photo.height, p);
            rgb.extend(colour.map(|c| c.round().clamp(0.0, 255.0) as u8));
        }
    }
    let landmarks = landmarks.iter().map(|&p| to_frame.apply(p)).collect();
    Ok(MorphFace { rgb, landmarks })
}

/// How far above the brows the forehead points are put, as a share of the distance from the
/// brows down to the chin: the hairline of an average face.
const FOREHEAD_HEIGHT: f32 = 0.5;
/// Points on each side of the frame's border (corners included once).
const BORDER_POINTS_PER_SIDE: usize = 4;

/// The 68 landmarks, then ten forehead points (each brow point moved up along the face's own
/// vertical, so a tilted face gets a tilted forehead), then points on the frame's border
/// (the pixel grid's outer edge, so that the mesh covers every pixel centre). The same count
/// and order for every face, which is what lets two faces' points be blended one to one.
pub fn control_points(landmarks: &[Point]) -> Result<Vec<Point>, MorphError> {
    if landmarks.len() != 68 {
        return Err(MorphError::Landmarks(landmarks.len()));
    }
    let brows = &landmarks[17..27];
    let brow_centre = mean(brows);
    let chin = landmarks[8];
    let up = Point::new(
        (brow_centre.x - chin.x) * FOREHEAD_HEIGHT,
        (brow_centre.y - chin.y) * FOREHEAD_HEIGHT,
    );
    let mut points = landmarks.to_vec();
    points.extend(brows.iter().map(|b| Point::new(b.x + up.x, b.y + up.y)));
    let (low, high) = (-0.5, MORPH_SIDE as f32 - 0.5);
    let span = high - low;
    for i in 0..BORDER_POINTS_PER_SIDE {
        let along = low + span * i as f32 / BORDER_POINTS_PER_SIDE as f32;
        points.extend([
            Point::new(along, low),
            Point::new(high, along),
            Point::new(low + high - along, high),
            Point::new(low, low + high - along),
        ]);
    }
    Ok(points)
}

fn mean(points: &[Point]) -> Point {
    let n = points.len() as f32;
    let (x, y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
    Point::new(x / n, y / n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_faces::sample_landmarks;

    #[test]
    fn a_face_is_cut_with_its_eyes_where_the_template_puts_them() {
        // A photo twice the frame's size with the face drawn at twice the scale, shifted: the
        // sample face is not the template's proportions, so the fit is close, not exact.
        let landmarks: Vec<Point> = sample_landmarks()
            .iter()
            .map(|p| Point::new(2.0 * p.x + 140.0, 2.0 * p.y + 110.0))
            .collect();
        let (w, h) = (800, 760);
        let pixels = vec![90u8; 3 * w * h];
        let photo = RgbImage {
            width: w,
            height: h,
            pixels: &pixels,
        };
        let face = cut_morph_face(photo, &landmarks).unwrap();
        assert_eq!(face.rgb.len(), 3 * MORPH_SIDE * MORPH_SIDE);
        let five = five_from_68(&face.landmarks).unwrap();
        let eye_gap = five[1].x - five[0].x;
        let template_gap = FRAME_TEMPLATE[1].x - FRAME_TEMPLATE[0].x;
        assert!(
            (eye_gap - template_gap).abs() < 10.0,
            "{eye_gap} vs {template_gap}"
        );
        let eye_y = (five[0].y + five[1].y) / 2.0;
        assert!((eye_y - FRAME_TEMPLATE[0].y).abs() < 6.0, "{eye_y}");
        assert!(face.rgb.iter().all(|&v| v == 90));
        // A face at the photo's corner: the frame reaches past the edge, which is repeated
        // there rather than drawn black.
        let cornered: Vec<Point> = sample_landmarks()
            .iter()
            .map(|p| Point::new(p.x - 60.0, p.y - 70.0))
            .collect();
        let small = vec![90u8; 3 * 200 * 200];
        let photo = RgbImage {
            width: 200,
            height: 200,
            pixels: &small,
        };
        let face = cut_morph_face(photo, &cornered).unwrap();
        assert!(face.rgb.iter().all(|&v| v == 90));
        let wrong = RgbImage {
            width: 200,
            height: 201,
            pixels: &small,
        };
        assert!(matches!(
            cut_morph_face(wrong, &cornered),
            Err(MorphError::PhotoBytes { height: 201, .. })
        ));
    }

    #[test]
    fn control_points_add_a_forehead_above_the_brows_and_pin_the_border() {
        let points = control_points(&sample_landmarks()).unwrap();
        assert_eq!(points.len(), 68 + 10 + 4 * BORDER_POINTS_PER_SIDE);
        for (forehead, brow) in points[68..78].iter().zip(&sample_landmarks()[17..27]) {
            assert!(forehead.y < brow.y - 40.0, "{forehead:?} above {brow:?}");
            assert!((forehead.x - brow.x).abs() < 4.0);
        }
        let border = &points[78..];
        let edge = MORPH_SIDE as f32 - 0.5;
        for corner in [(-0.5, -0.5), (edge, -0.5), (edge, edge), (-0.5, edge)] {
            assert!(
                border.contains(&Point::new(corner.0, corner.1)),
                "{corner:?}"
            );
        }
        assert!(
            border
                .iter()
                .all(|p| { p.x == -0.5 || p.y == -0.5 || p.x == edge || p.y == edge })
        );
        assert_eq!(
            control_points(&[Point::default(); 5]),
            Err(MorphError::Landmarks(5))
        );
    }

    #[test]
    fn a_handed_over_face_is_checked() {
        let rgb = vec![0; 3 * MORPH_SIDE * MORPH_SIDE];
        assert!(MorphFace::new(rgb.clone(), sample_landmarks()).is_ok());
        assert_eq!(
            MorphFace::new(rgb[1..].to_vec(), sample_landmarks()),
            Err(MorphError::PictureSize {
                got: rgb.len() - 1,
                expected: rgb.len(),
                side: MORPH_SIDE
            })
        );
        assert_eq!(
            MorphFace::new(rgb, sample_landmarks()[..60].to_vec()),
            Err(MorphError::Landmarks(60))
        );
    }
}
