//! Detection and landmarks together: every face of a photo, or the face in a given box.

use cf_align::{FivePoints, Point, face_layout_fault, five_from_68};

use crate::{Detector, DetectorKind, FaceBox, FaceError, Landmarker, Photo, SecondLook};

/// The packed files the pipeline loads: the detector's, then the landmark network's.
pub const PIPELINE_FILES: [&str; 3] = [
    crate::detect::FILES[0],
    crate::detect::FILES[1],
    crate::landmarks::FILE,
];

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
    /// Loads both networks; `read` gives the bytes of each of [`PIPELINE_FILES`].
    pub fn load(
        mut read: impl FnMut(&str) -> Result<Vec<u8>, FaceError>,
    ) -> Result<Self, FaceError> {
        Ok(FacePipeline {
            detector: Detector::load(DetectorKind::YuNet, &mut read)?,
            landmarker: Landmarker::new(&read(crate::landmarks::FILE)?)?,
        })
    }

    /// Another detector than the pipeline's own (for comparing them).
    pub fn set_detector(&mut self, detector: Detector) {
        self.detector = detector;
    }

    /// The detected boxes alone: both looks' ([`Detector::detect`]).
    pub fn boxes(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        self.detector.detect(photo)
    }

    /// The boxes of the detector's quick first look ([`Detector::first_look`]).
    pub fn first_boxes(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        self.detector.first_look(photo)
    }

    /// True where a second look may find more faces than the first.
    pub fn needs_second_look(&self, photo: &Photo) -> bool {
        self.detector.needs_second_look(photo)
    }

    /// Prepares the second look's network now ([`Detector::prepare_second_look`]): it is
    /// otherwise prepared by the first photo that needs it.
    pub fn prepare_second_look(&self) -> Result<(), FaceError> {
        self.detector.prepare_second_look()
    }

    /// What the second look adds to the first look's boxes `seen` ([`Detector::second_look`]):
    /// the faces none of them overlaps, and those of them that lie turned.
    pub fn more_boxes(&self, photo: &Photo, seen: &[FaceBox]) -> Result<SecondLook, FaceError> {
        self.detector.second_look(photo, seen)
    }

    /// Every face in the photo with its landmarks, most confident first; empty when none. A
    /// box whose landmarks are not laid out as a face is a false box, and left out.
    pub fn faces(&self, photo: &Photo) -> Result<Vec<Face>, FaceError> {
        self.faces_in_boxes(photo, self.boxes(photo)?)
    }

    /// The faces in boxes already found ([`FacePipeline::faces`] after its detection): each
    /// box's landmarks, the boxes not laid out as a face left out.
    pub fn faces_in_boxes(
        &self,
        photo: &Photo,
        boxes: impl IntoIterator<Item = FaceBox>,
    ) -> Result<Vec<Face>, FaceError> {
        let mut faces = Vec::new();
        for bbox in boxes {
            match self.face_in_box(photo, bbox) {
                Ok(face) => faces.push(face),
                Err(FaceError::NotAFace(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(faces)
    }

    /// The face in a given box (a detected one, or one the visitor drew or moved): the same
    /// landmark and alignment path as a detected face.
    pub fn face_in_box(&self, photo: &Photo, bbox: FaceBox) -> Result<Face, FaceError> {
        let landmarks = self.landmarker.landmarks(photo, &bbox)?;
        if let Some(fault) = face_layout_fault(&landmarks) {
            return Err(FaceError::NotAFace(fault));
        }
        let five = five_from_68(&landmarks).ok_or(FaceError::Degenerate)?;
        Ok(Face {
            bbox,
            landmarks,
            five,
        })
    }
}

/// The face a centred dataset such as LFW labels, and the box nearer the photo's centre that
/// lost to it, if one did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CentralFace<'a> {
    pub face: &'a Face,
    pub passed_over: Option<&'a Face>,
}

/// Of several faces, the labelled person's in a centred dataset: among the boxes over the
/// photo's centre, the most confident; where none covers it, the one nearest it. Nearness
/// alone once kept a 22 x 30 px box on an eye (score 0.67) over the whole face around it
/// (0.997, Maurice_Papon_0001).
pub fn central_face<'a>(faces: &'a [Face], photo: &Photo) -> Option<CentralFace<'a>> {
    let (cx, cy) = (photo.width as f32 / 2.0, photo.height as f32 / 2.0);
    let distance = |f: &Face| {
        let (x, y) = f.bbox.centre();
        (x - cx).powi(2) + (y - cy).powi(2)
    };
    let nearest = faces
        .iter()
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))?;
    let covers = |f: &&Face| {
        let b = &f.bbox;
        (b.x1..=b.x2).contains(&cx) && (b.y1..=b.y2).contains(&cy)
    };
    let face = faces
        .iter()
        .filter(covers)
        .max_by(|a, b| a.bbox.score.total_cmp(&b.bbox.score))
        .unwrap_or(nearest);
    let passed_over = (!std::ptr::eq(face, nearest)).then_some(nearest);
    Some(CentralFace { face, passed_over })
}

/// How far below the best score a box may be and still be preselected for its size: a clear
/// face scores 0.99 or more; the false boxes seen (a blur behind an actor, a patch on an eye)
/// 0.6 to 0.8, some of them larger than the face.
pub const PRESELECT_SCORE_MARGIN: f32 = 0.1;

/// Of the boxes detected in a visitor's photo, the one the page chooses before the visitor
/// does: the largest of the confident ones (within [`PRESELECT_SCORE_MARGIN`] of the best
/// score). The one place this choice is made (the worker's engine uses it, the page shows its
/// answer).
pub fn preselect(boxes: &[FaceBox]) -> Option<usize> {
    let best = boxes.iter().map(|b| b.score).reduce(f32::max)?;
    boxes
        .iter()
        .enumerate()
        .filter(|(_, b)| b.score >= best - PRESELECT_SCORE_MARGIN)
        .max_by(|a, b| a.1.area().total_cmp(&b.1.area()))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Face {
        Face {
            bbox: FaceBox::new([x1, y1, x2, y2], score),
            landmarks: Vec::new(),
            five: [Point::new(0.0, 0.0); 5],
        }
    }

    fn photo(width: usize, height: usize) -> Photo {
        Photo {
            width,
            height,
            rgb: vec![0; width * height * 3],
        }
    }

    #[test]
    fn the_confident_face_over_the_centre_wins_over_an_eye_nearer_it() {
        // Maurice_Papon_0001: his face, and a box on his eye whose centre is the nearer.
        let faces = [
            face(73.0, 50.0, 177.0, 219.0, 0.997),
            face(110.0, 108.0, 132.0, 138.0, 0.672),
        ];
        let chosen = central_face(&faces, &photo(250, 250)).unwrap();
        assert_eq!(chosen.face, &faces[0]);
        assert_eq!(chosen.passed_over, Some(&faces[1]));
    }

    #[test]
    fn with_no_box_over_the_centre_the_nearest_is_kept() {
        let faces = [
            face(0.0, 0.0, 40.0, 40.0, 0.999),
            face(150.0, 150.0, 200.0, 200.0, 0.8),
        ];
        let chosen = central_face(&faces, &photo(250, 250)).unwrap();
        assert_eq!(chosen.face, &faces[1]);
        assert_eq!(chosen.passed_over, None);
        assert!(central_face(&[], &photo(250, 250)).is_none());
    }

    #[test]
    fn a_larger_but_doubtful_box_is_not_preselected() {
        let actor = FaceBox::new([300.0, 100.0, 420.0, 250.0], 0.995);
        let blur = FaceBox::new([0.0, 0.0, 250.0, 300.0], 0.78);
        assert_eq!(preselect(&[blur, actor]), Some(1));
        // Among confident faces, size still decides: the nearest person, not the best score.
        let near = FaceBox {
            score: 0.95,
            ..blur
        };
        assert_eq!(preselect(&[actor, near]), Some(1));
        assert_eq!(preselect(&[]), None);
    }
}
