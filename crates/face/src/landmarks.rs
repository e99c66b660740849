//! The 68-point landmark network (faceplugin `fr_landmark.onnx`): the face box cut out and
//! resized to 64 x 64 gray, values / 256; outputs 68 (x, y) pairs in box coordinates [0, 1].

use cf_align::{Point, resize_region_rgb};

use crate::{FaceBox, FaceError, Photo, Preparation, Runnable, load_packed, run};

const SIZE: usize = 64;
const NAME: &str = "fr_landmark";
/// The packed model file (`crate::pack`).
pub const FILE: &str = "fr_landmark.nnef.tar";
pub(crate) const INPUT_SHAPE: [usize; 4] = [1, 1, SIZE, SIZE];

/// The loaded landmark network.
pub struct Landmarker {
    model: Runnable,
}

impl Landmarker {
    /// Loads the packed landmark network ([`FILE`]).
    pub fn new(packed: &[u8]) -> Result<Self, FaceError> {
        Ok(Landmarker {
            model: load_packed(NAME, packed, Preparation::OptimizeOnly)?,
        })
    }

    /// The 68 landmarks of the face in `face`, in photo pixels. The box is first clipped to the
    /// photo (a hand-drawn box may reach outside it); a turned face is read from its box turned
    /// upright, the network having seen upright faces only.
    pub fn landmarks(&self, photo: &Photo, face: &FaceBox) -> Result<Vec<Point>, FaceError> {
        let x1 = face.x1.max(0.0);
        let y1 = face.y1.max(0.0);
        let x2 = face.x2.min(photo.width as f32);
        let y2 = face.y2.min(photo.height as f32);
        let (w, h) = (x2 - x1, y2 - y1);
        if !(w >= 1.0 && h >= 1.0) {
            return Err(FaceError::BoxOutside([face.x1, face.y1, face.x2, face.y2]));
        }
        let upright = face.turn.undone();
        let crop = resize_region_rgb(photo.view(), (x1, y1, w, h), SIZE, SIZE)
            .and_then(|crop| upright.turn_pixels(&crop, (SIZE, SIZE), 3))
            .ok_or(FaceError::BoxOutside([face.x1, face.y1, face.x2, face.y2]))?;
        // OpenCV's RGB → gray weights, as the network's training pipeline used.
        let input: Vec<f32> = crop
            .chunks_exact(3)
            .map(|p| {
                let gray =
                    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
                gray.round() / 256.0
            })
            .collect();
        let outputs = run(&self.model, NAME, &INPUT_SHAPE, input)?;
        let values =
            outputs
                .first()
                .filter(|v| v.len() == 136)
                .ok_or_else(|| FaceError::Inference {
                    model: NAME.into(),
                    reason: "expected 136 landmark values".into(),
                })?;
        Ok(values
            .chunks_exact(2)
            .map(|xy| {
                let (x, y) = upright.point_before((xy[0], xy[1]), (1.0, 1.0));
                Point::new(x1 + x * w, y1 + y * h)
            })
            .collect())
    }
}
