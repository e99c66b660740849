//! Face detection: the detectors the pipeline can use and what they share (the box, and keeping
//! the best of overlapping boxes). YuNet is the pipeline's; RFB-320, its detector before, stays
//! for `cfaces eval-detect` to compare against, and RetinaFace is measured as a second look
//! (docs/MODELS.md has the figures).

use cf_align::Turn;

use crate::retinaface::{self, RetinaFace};
use crate::rfb::{self, Rfb};
use crate::yunet::{self, YuNet};
use crate::{FaceError, Photo};

/// The packed model files of the pipeline's detector.
pub const FILES: [&str; 2] = yunet::FILES;
const YUNET_THEN_RETINAFACE_FILES: [&str; 3] = [yunet::FILES[0], yunet::FILES[1], retinaface::FILE];
/// At most this many boxes go into the overlap resolution (a crowd of 300 is well within).
const TOP_K: usize = 1000;
/// How much higher a turned look must score a first-look face to take it for a turned one.
/// Scores alone cannot always tell: on LFW's 13,233 upright photos three faces scored
/// 0.004-0.013 higher turned than upright (and were misread so before this margin), while of
/// 223 LFW faces turned upside down that the first look boxed, one scored 0.001 higher turned,
/// the others 0.022 and more (docs/MODELS.md). Upright photos are what visitors mostly give.
const TURN_MARGIN: f32 = 0.02;

/// A face box in photo pixels, with the detector's confidence and how the face lies in it
/// (upright, or turned: the look that found it saw the photo turned by [`Turn::undone`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub score: f32,
    pub turn: Turn,
}

impl FaceBox {
    /// An upright face's box.
    pub fn new([x1, y1, x2, y2]: [f32; 4], score: f32) -> Self {
        FaceBox {
            x1,
            y1,
            x2,
            y2,
            score,
            turn: Turn::Upright,
        }
    }
    /// The box of centre (`cx`, `cy`) and size `w` x `h` in a network's input, in photo pixels
    /// (`scale`: photo to input); `None` where it has no area (a prediction gone wild).
    pub(crate) fn from_input_centre(
        (cx, cy): (f32, f32),
        (w, h): (f32, f32),
        scale: f32,
        score: f32,
    ) -> Option<Self> {
        let found = FaceBox::new(
            [
                (cx - w / 2.0) / scale,
                (cy - h / 2.0) / scale,
                (cx + w / 2.0) / scale,
                (cy + h / 2.0) / scale,
            ],
            score,
        );
        (found.area() > 0.0 && found.area().is_finite()).then_some(found)
    }
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
    /// Intersection over union.
    pub fn iou(&self, other: &FaceBox) -> f32 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

/// A detector network and the way it is shown the photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorKind {
    /// YuNet in two looks: the photo fitted into its 320 x 320 input, its shape kept, then,
    /// where it is larger, into 640 x 640 for the faces the first look missed, and in 320 turned
    /// a quarter either way and upside down for faces lying so: the pipeline's.
    YuNet,
    /// YuNet's two looks without the turned ones (the pipeline's detection before them).
    YuNetUpright,
    /// YuNet in one look, at the smallest input that holds the photo, else 640 (the pipeline's
    /// detection before it took two looks).
    YuNetOneLook,
    /// RFB-320 with the whole photo stretched to 320 x 240, whatever its shape (the faceplugin
    /// package's way): a portrait photo's faces are squashed to 60 % of their width.
    RfbStretch,
    /// RFB-320, the photo scaled to fit 320 x 240, its shape kept, black around it.
    RfbLetterbox,
    /// RFB-320 letterboxed, and where the photo is over twice the network's size, also in four
    /// overlapping quarters (each letterboxed), so that small faces are seen at twice the size.
    RfbTiles,
    /// RetinaFace in one look, the photo fitted into its 640 x 640 input.
    RetinaFace,
    /// YuNet's first look at 320, then, where the photo is larger, RetinaFace at 640 for the
    /// faces the first look missed.
    YuNetThenRetinaFace,
}

impl DetectorKind {
    pub const ALL: [DetectorKind; 8] = [
        DetectorKind::YuNet,
        DetectorKind::YuNetUpright,
        DetectorKind::YuNetOneLook,
        DetectorKind::RfbStretch,
        DetectorKind::RfbLetterbox,
        DetectorKind::RfbTiles,
        DetectorKind::RetinaFace,
        DetectorKind::YuNetThenRetinaFace,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::YuNet => "yunet",
            DetectorKind::YuNetUpright => "yunet-upright",
            DetectorKind::YuNetOneLook => "yunet-one-look",
            DetectorKind::RfbStretch => "rfb-stretch",
            DetectorKind::RfbLetterbox => "rfb-letterbox",
            DetectorKind::RfbTiles => "rfb-tiles",
            DetectorKind::RetinaFace => "retinaface",
            DetectorKind::YuNetThenRetinaFace => "yunet-then-retinaface",
        }
    }

    /// The packed model files it loads.
    pub fn files(self) -> &'static [&'static str] {
        match self {
            DetectorKind::YuNet | DetectorKind::YuNetUpright | DetectorKind::YuNetOneLook => {
                &yunet::FILES
            }
            DetectorKind::RetinaFace => &[retinaface::FILE],
            DetectorKind::YuNetThenRetinaFace => &YUNET_THEN_RETINAFACE_FILES,
            DetectorKind::RfbStretch | DetectorKind::RfbLetterbox | DetectorKind::RfbTiles => {
                &[rfb::FILE]
            }
        }
    }
}

enum Network {
    YuNet(YuNet),
    Rfb(Rfb),
    RetinaFace(RetinaFace),
    YuNetThenRetinaFace(YuNet, RetinaFace),
}

/// A loaded detector.
pub struct Detector {
    network: Network,
    kind: DetectorKind,
}

impl Detector {
    /// Loads a detector of the given kind; `read` gives the bytes of each of its packed files
    /// ([`DetectorKind::files`]).
    pub fn load(
        kind: DetectorKind,
        mut read: impl FnMut(&str) -> Result<Vec<u8>, FaceError>,
    ) -> Result<Self, FaceError> {
        let rfb = |layout, read: &mut dyn FnMut(&str) -> Result<Vec<u8>, FaceError>| {
            Ok::<_, FaceError>(Network::Rfb(Rfb::new(&read(rfb::FILE)?, layout)?))
        };
        let network = match kind {
            DetectorKind::YuNet | DetectorKind::YuNetUpright | DetectorKind::YuNetOneLook => {
                Network::YuNet(YuNet::load(read)?)
            }
            DetectorKind::RfbStretch => rfb(rfb::Layout::Stretch, &mut read)?,
            DetectorKind::RfbLetterbox => rfb(rfb::Layout::Letterbox, &mut read)?,
            DetectorKind::RfbTiles => rfb(rfb::Layout::Tiles, &mut read)?,
            DetectorKind::RetinaFace => {
                let retinaface = RetinaFace::load(read)?;
                // Prepared now, so that a broken file is reported on loading.
                retinaface.prepare()?;
                Network::RetinaFace(retinaface)
            }
            DetectorKind::YuNetThenRetinaFace => {
                Network::YuNetThenRetinaFace(YuNet::load(&mut read)?, RetinaFace::load(read)?)
            }
        };
        Ok(Detector { network, kind })
    }

    pub fn kind(&self) -> DetectorKind {
        self.kind
    }

    /// Sets the score threshold of YuNet, or of RetinaFace where it looks (for measuring
    /// others than the pipeline's); `false` for RFB-320, whose threshold is its package's.
    pub fn set_score_threshold(&mut self, threshold: f32) -> bool {
        match &mut self.network {
            Network::YuNet(yunet) => yunet.set_score_threshold(threshold),
            Network::RetinaFace(retinaface) | Network::YuNetThenRetinaFace(_, retinaface) => {
                retinaface.set_score_threshold(threshold)
            }
            Network::Rfb(_) => return false,
        }
        true
    }

    /// Sets the score threshold of YuNet's turned looks (`false` where there are none).
    pub fn set_turned_score_threshold(&mut self, threshold: f32) -> bool {
        match (&mut self.network, self.kind) {
            (Network::YuNet(yunet), DetectorKind::YuNet) => {
                yunet.set_turned_score_threshold(threshold);
                true
            }
            _ => false,
        }
    }

    /// Every face in the photo: the first look's, most confident first (some of them seen
    /// turned by the second look), then the second look's new ones (see
    /// [`Detector::first_look`]). An empty list when there is none.
    pub fn detect(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        let found = self.first_look(photo)?;
        Ok(self.second_look(photo, &found)?.applied_to(found))
    }

    /// The faces a quick look finds, most confident first: YuNet's at 320, every face of the
    /// photo but small ones, which [`Detector::second_look`] finds where the photo is larger;
    /// the page shows matches after the first look, and adds the second's boxes when they
    /// come. The other kinds find everything in this one look.
    pub fn first_look(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        if photo.width == 0 || photo.height == 0 {
            return Ok(Vec::new());
        }
        let (found, iou) = match (&self.network, self.kind) {
            (Network::YuNet(yunet), DetectorKind::YuNet | DetectorKind::YuNetUpright) => {
                (yunet.first_look(photo)?, yunet::NMS_IOU)
            }
            (Network::YuNet(yunet), _) => (yunet.candidates(photo)?, yunet::NMS_IOU),
            (Network::Rfb(rfb), _) => (rfb.candidates(photo)?, rfb::NMS_IOU),
            (Network::RetinaFace(retinaface), _) => {
                (retinaface.candidates(photo)?, retinaface::NMS_IOU)
            }
            (Network::YuNetThenRetinaFace(yunet, _), _) => {
                (yunet.first_look(photo)?, yunet::NMS_IOU)
            }
        };
        Ok(best_of_overlapping(found, iou))
    }

    /// True where [`Detector::second_look`] may find more faces in the photo, or see some of
    /// the first look's turned: for the pipeline's, any photo (the turned looks).
    pub fn needs_second_look(&self, photo: &Photo) -> bool {
        if photo.width == 0 || photo.height == 0 {
            return false;
        }
        match (&self.network, self.kind) {
            (Network::YuNet(_), DetectorKind::YuNet) => true,
            (Network::YuNet(yunet), DetectorKind::YuNetUpright)
            | (Network::YuNetThenRetinaFace(yunet, _), _) => yunet.has_second_look(photo),
            _ => false,
        }
    }

    /// Prepares the second look's network now, rather than on the first photo that needs it.
    pub fn prepare_second_look(&self) -> Result<(), FaceError> {
        match &self.network {
            Network::YuNet(yunet) => yunet.prepare_every_side(),
            Network::YuNetThenRetinaFace(_, retinaface) => retinaface.prepare(),
            _ => Ok(()),
        }
    }

    /// What the second look adds to `seen` (the first look's boxes): the faces no box of
    /// `seen` overlaps, and the boxes of `seen` that a turned look scores higher, turned.
    pub fn second_look(&self, photo: &Photo, seen: &[FaceBox]) -> Result<SecondLook, FaceError> {
        if !self.needs_second_look(photo) {
            return Ok(SecondLook::default());
        }
        let (mut found, iou) = match &self.network {
            Network::YuNet(yunet) if yunet.has_second_look(photo) => {
                (yunet.second_look(photo)?, yunet::NMS_IOU)
            }
            Network::YuNet(_) => (Vec::new(), yunet::NMS_IOU),
            Network::YuNetThenRetinaFace(_, retinaface) => {
                (retinaface.candidates(photo)?, retinaface::NMS_IOU)
            }
            _ => return Ok(SecondLook::default()),
        };
        if let (Network::YuNet(yunet), DetectorKind::YuNet) = (&self.network, self.kind) {
            found.extend(yunet.turned_looks(photo)?);
        }
        let mut look = SecondLook::default();
        for face in best_of_overlapping(found, iou) {
            let overlapped = seen
                .iter()
                .enumerate()
                .map(|(index, old)| (index, old.iou(&face)))
                .filter(|(_, overlap)| *overlap > yunet::NMS_IOU)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match overlapped {
                None => look.new.push(face),
                // Most confident first: the first turned box over a face is its best.
                Some((index, _))
                    if face.turn != seen[index].turn
                        && face.score > seen[index].score + TURN_MARGIN
                        && look.turned.iter().all(|(other, _)| *other != index) =>
                {
                    look.turned.push((index, face))
                }
                Some(_) => {}
            }
        }
        Ok(look)
    }
}

/// What a second look adds to the first look's faces.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecondLook {
    /// The faces the first look missed, most confident first.
    pub new: Vec<FaceBox>,
    /// Faces of the first look (by their place in its list) that lie turned: a turned look
    /// scored them higher than the upright one did, by [`TURN_MARGIN`] or more. Its box
    /// replaces the first look's.
    pub turned: Vec<(usize, FaceBox)>,
}

impl SecondLook {
    /// The first look's boxes with this look's turned ones in their places, then the new ones.
    pub fn applied_to(self, mut seen: Vec<FaceBox>) -> Vec<FaceBox> {
        for (index, face) in self.turned {
            if let Some(slot) = seen.get_mut(index) {
                *slot = face;
            }
        }
        seen.extend(self.new);
        seen
    }
}

/// The most confident of each group of overlapping boxes, most confident first.
fn best_of_overlapping(mut found: Vec<FaceBox>, iou: f32) -> Vec<FaceBox> {
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.truncate(TOP_K);
    non_maximum_suppression(found, iou)
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
        FaceBox::new([x1, y1, x2, y2], score)
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
