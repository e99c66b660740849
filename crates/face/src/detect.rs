//! The RFB-320 face detector (Ultra-Light-Fast-Generic-Face-Detector, as packaged in
//! faceplugin-face-recognition-js): the photo stretched to 320 x 240, RGB, (x − 127) / 128;
//! outputs per prior a face score and a box already decoded to corners in [0, 1].

use cf_align::resize_region_rgb;

use crate::{FaceError, Photo, Preparation, Runnable, load_packed, run};

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
/// The package's settings.
const SCORE_THRESHOLD: f32 = 0.65;
const NMS_IOU: f32 = 0.4;
const TOP_K: usize = 750;
const NAME: &str = "fr_detect";
/// The packed model file (`crate::pack`).
pub const FILE: &str = "fr_detect.nnef.tar";
pub(crate) const INPUT_SHAPE: [usize; 4] = [1, 3, HEIGHT, WIDTH];

/// A face box in photo pixels, with the detector's confidence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub score: f32,
}

impl FaceBox {
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }
    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }
    pub fn centre(&self) -> (f32, f32) {
        ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)
    }
    fn iou(&self, other: &FaceBox) -> f32 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

/// The loaded detector.
pub struct Detector {
    model: Runnable,
}

impl Detector {
    /// Loads the packed detector ([`FILE`]).
    pub fn new(packed: &[u8]) -> Result<Self, FaceError> {
        Ok(Detector {
            model: load_packed(NAME, packed, Preparation::OptimizeOnly)?,
        })
    }

    /// Every face in the photo, most confident first. An empty list when there is none.
    pub fn detect(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        if photo.width == 0 || photo.height == 0 {
            return Ok(Vec::new());
        }
        let region = (0.0, 0.0, photo.width as f32, photo.height as f32);
        let small =
            resize_region_rgb(photo.view(), region, WIDTH, HEIGHT).ok_or(FaceError::Degenerate)?;
        let plane = WIDTH * HEIGHT;
        let mut input = vec![0f32; 3 * plane];
        for (i, pixel) in small.chunks_exact(3).enumerate() {
            for c in 0..3 {
                input[c * plane + i] = (f32::from(pixel[c]) - 127.0) / 128.0;
            }
        }
        let outputs = run(&self.model, NAME, &INPUT_SHAPE, input)?;
        let [scores, boxes] = &outputs[..] else {
            return Err(FaceError::Inference {
                model: NAME.into(),
                reason: format!("expected 2 outputs, got {}", outputs.len()),
            });
        };
        let (w, h) = (photo.width as f32, photo.height as f32);
        let mut found: Vec<FaceBox> = scores
            .chunks_exact(2)
            .zip(boxes.chunks_exact(4))
            .filter(|(s, _)| s[1] >= SCORE_THRESHOLD)
            .map(|(s, b)| FaceBox {
                x1: b[0] * w,
                y1: b[1] * h,
                x2: b[2] * w,
                y2: b[3] * h,
                score: s[1],
            })
            .filter(|b| b.area() > 0.0)
            .collect();
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found.truncate(TOP_K);
        Ok(non_maximum_suppression(found, NMS_IOU))
    }
}

/// Keeps each box unless it overlaps a more confident kept box by more than `iou`.
/// `boxes` must be sorted by score, highest first.
fn non_maximum_suppression(boxes: Vec<FaceBox>, iou: f32) -> Vec<FaceBox> {
    let mut kept: Vec<FaceBox> = Vec::new();
    for candidate in boxes {
        if kept.iter().all(|k| k.iou(&candidate) <= iou) {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> FaceBox {
        FaceBox {
            x1,
            y1,
            x2,
            y2,
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_distinct_faces() {
        let boxes = vec![
            b(0.0, 0.0, 10.0, 10.0, 0.9),
            b(1.0, 1.0, 11.0, 11.0, 0.8),
            b(20.0, 0.0, 30.0, 10.0, 0.7),
        ];
        let kept = non_maximum_suppression(boxes, 0.4);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].x1, 20.0);
    }

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = b(0.0, 0.0, 10.0, 10.0, 1.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&b(20.0, 20.0, 30.0, 30.0, 1.0)), 0.0);
        let half = a.iou(&b(5.0, 0.0, 15.0, 10.0, 1.0));
        assert!((half - 1.0 / 3.0).abs() < 1e-6);
    }
}
