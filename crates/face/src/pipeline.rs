//! Detection and landmarks together: every face of a photo, or the face in a given box.

use cf_align::{FivePoints, Point, five_from_68};

use crate::{Detector, FaceBox, FaceError, Landmarker, Photo};

/// A found face: its box, its 68 landmarks and the five points alignment uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Face {
    pub bbox: FaceBox,
    pub landmarks: Vec<Point>,
    pub five: FivePoints,
}

/// The detector and the landmark network.
pub struct FacePipeline {
    detector: Detector,
    landmarker: Landmarker,
}

impl FacePipeline {
    /// Loads both networks from their ONNX bytes.
    pub fn new(detector_onnx: &[u8], landmark_onnx: &[u8]) -> Result<Self, FaceError> {
        Ok(FacePipeline {
            detector: Detector::new(detector_onnx)?,
            landmarker: Landmarker::new(landmark_onnx)?,
        })
    }

    /// The detected boxes alone, most confident first.
    pub fn boxes(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        self.detector.detect(photo)
    }

    /// Every face in the photo with its landmarks, most confident first; empty when none.
    pub fn faces(&self, photo: &Photo) -> Result<Vec<Face>, FaceError> {
        self.boxes(photo)?
            .into_iter()
            .map(|bbox| self.face_in_box(photo, bbox))
            .collect()
    }

    /// The face in a given box (a detected one, or one the visitor drew or moved): the same
    /// landmark and alignment path as a detected face.
    pub fn face_in_box(&self, photo: &Photo, bbox: FaceBox) -> Result<Face, FaceError> {
        let landmarks = self.landmarker.landmarks(photo, &bbox)?;
        let five = five_from_68(&landmarks).ok_or(FaceError::Degenerate)?;
        Ok(Face {
            bbox,
            landmarks,
            five,
        })
    }
}

/// Of several faces, the one whose box centre is nearest the photo's centre: the labelled person
/// in a centred dataset such as LFW.
pub fn nearest_centre<'a>(faces: &'a [Face], photo: &Photo) -> Option<&'a Face> {
    let (cx, cy) = (photo.width as f32 / 2.0, photo.height as f32 / 2.0);
    faces.iter().min_by(|a, b| {
        let d = |f: &Face| {
            let (x, y) = f.bbox.centre();
            (x - cx).powi(2) + (y - cy).powi(2)
        };
        d(a).total_cmp(&d(b))
    })
}

/// Of the boxes detected in a visitor's photo, the one the page chooses before the visitor
/// does: the largest. The one place this choice is made (the worker's engine uses it, the page
/// shows its answer).
pub fn preselect(boxes: &[FaceBox]) -> Option<usize> {
    boxes
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.area().total_cmp(&b.1.area()))
        .map(|(i, _)| i)
}
