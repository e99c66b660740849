//! The RFB-320 face detector (Ultra-Light-Fast-Generic-Face-Detector, as packaged in
//! faceplugin-face-recognition-js): the photo at 320 x 240, RGB, (x − 127) / 128; outputs per
//! prior a face score and a box already decoded to corners in [0, 1]. The pipeline's detector
//! until YuNet measured better (docs/MODELS.md); kept for `cfaces eval-detect`'s comparison.

use cf_align::resize_region_rgb;

use crate::{FaceBox, FaceError, Photo, Preparation, Runnable, load_packed, run};

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
/// The package's settings.
const SCORE_THRESHOLD: f32 = 0.65;
pub(crate) const NMS_IOU: f32 = 0.4;
const NAME: &str = "fr_detect";
/// The packed model file (`crate::pack`).
pub const FILE: &str = "fr_detect.nnef.tar";
pub(crate) const INPUT_SHAPE: [usize; 4] = [1, 3, HEIGHT, WIDTH];

/// How a photo is shown to the 320 x 240 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The whole photo stretched to 320 x 240, whatever its shape (the package's way): a
    /// portrait photo's faces are squashed to 60 % of their width.
    Stretch,
    /// The whole photo scaled to fit 320 x 240, its shape kept, black around it.
    Letterbox,
    /// Letterboxed, and where the photo is over twice the network's size, also in four
    /// overlapping quarters (each letterboxed), so that small faces are seen at twice the
    /// size; the boxes of all five merged.
    Tiles,
}

/// The loaded network and the layout it is given photos in.
pub(crate) struct Rfb {
    model: Runnable,
    layout: Layout,
}

impl Rfb {
    pub(crate) fn new(packed: &[u8], layout: Layout) -> Result<Self, FaceError> {
        Ok(Rfb {
            model: load_packed(NAME, packed, Preparation::OptimizeOnly)?,
            layout,
        })
    }

    /// Every box over the score threshold, in photo pixels, before overlaps are resolved.
    pub(crate) fn candidates(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        let whole = (0.0, 0.0, photo.width as f32, photo.height as f32);
        Ok(match self.layout {
            Layout::Stretch => self.detect_in(photo, whole)?,
            Layout::Letterbox => self.detect_in(photo, letterbox(whole))?,
            Layout::Tiles => {
                let mut found = self.detect_in(photo, letterbox(whole))?;
                for tile in quarters(photo.width as f32, photo.height as f32) {
                    let seen = letterbox(tile);
                    found.extend(
                        self.detect_in(photo, seen)?
                            .into_iter()
                            .filter(|b| !cut_by_inner_edge(b, tile, whole)),
                    );
                }
                found
            }
        })
    }

    /// The boxes the network finds in `region` (x, y, w, h of the photo, which may reach past
    /// it: black there), stretched to its input, in photo pixels; unsorted.
    fn detect_in(
        &self,
        photo: &Photo,
        region: (f32, f32, f32, f32),
    ) -> Result<Vec<FaceBox>, FaceError> {
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
        let (x, y, w, h) = region;
        Ok(scores
            .chunks_exact(2)
            .zip(boxes.chunks_exact(4))
            .filter(|(s, _)| s[1] >= SCORE_THRESHOLD)
            .map(|(s, b)| {
                FaceBox::new(
                    [x + b[0] * w, y + b[1] * h, x + b[2] * w, y + b[3] * h],
                    s[1],
                )
            })
            .filter(|b| b.area() > 0.0)
            .collect())
    }
}

/// The region of the network's shape (4:3) centred on `region`, just covering it.
fn letterbox((x, y, w, h): (f32, f32, f32, f32)) -> (f32, f32, f32, f32) {
    let aspect = WIDTH as f32 / HEIGHT as f32;
    let (seen_w, seen_h) = if w / h > aspect {
        (w, w / aspect)
    } else {
        (h * aspect, h)
    };
    (
        x + (w - seen_w) / 2.0,
        y + (h - seen_h) / 2.0,
        seen_w,
        seen_h,
    )
}

/// Four overlapping quarters of a photo over twice the network's size (none otherwise): each
/// 60 % of its width and height, so that a face up to a fifth of the photo lies whole in one.
fn quarters(width: f32, height: f32) -> Vec<(f32, f32, f32, f32)> {
    if width < 2.0 * WIDTH as f32 && height < 2.0 * HEIGHT as f32 {
        return Vec::new();
    }
    let (w, h) = (0.6 * width, 0.6 * height);
    [
        (0.0, 0.0),
        (width - w, 0.0),
        (0.0, height - h),
        (width - w, height - h),
    ]
    .into_iter()
    .map(|(x, y)| (x, y, w, h))
    .collect()
}

/// True when `b` touches an edge of `tile` that lies inside the photo: a face cut there is
/// seen whole by the pass over the whole photo or by a neighbouring quarter.
fn cut_by_inner_edge(b: &FaceBox, tile: (f32, f32, f32, f32), photo: (f32, f32, f32, f32)) -> bool {
    let (x, y, w, h) = tile;
    let margin = 0.01 * w.max(h);
    let inner = |edge: f32, photo_edge: f32| (edge - photo_edge).abs() > margin;
    (b.x1 <= x + margin && inner(x, photo.0))
        || (b.y1 <= y + margin && inner(y, photo.1))
        || (b.x2 >= x + w - margin && inner(x + w, photo.0 + photo.2))
        || (b.y2 >= y + h - margin && inner(y + h, photo.1 + photo.3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> FaceBox {
        FaceBox::new([x1, y1, x2, y2], score)
    }

    #[test]
    fn a_letterbox_keeps_the_shape_and_covers_the_photo() {
        let (x, y, w, h) = letterbox((0.0, 0.0, 300.0, 400.0));
        assert!((w / h - 4.0 / 3.0).abs() < 1e-6);
        assert_eq!((y, h), (0.0, 400.0));
        assert!((x + w / 2.0 - 150.0).abs() < 1e-4, "centred");
        let wide = letterbox((10.0, 20.0, 800.0, 200.0));
        assert_eq!((wide.0, wide.2), (10.0, 800.0));
        assert!((wide.1 + wide.3 / 2.0 - 120.0).abs() < 1e-4);
    }

    #[test]
    fn quarters_cover_a_large_photo_and_cut_faces_are_left_to_the_others() {
        assert!(quarters(600.0, 400.0).is_empty());
        let tiles = quarters(1000.0, 800.0);
        assert_eq!(tiles.len(), 4);
        let (x, y, w, h) = tiles[3];
        for (got, want) in [(x, 400.0), (y, 320.0), (w, 600.0), (h, 480.0)] {
            assert!((got - want).abs() < 1e-3, "{:?}", tiles[3]);
        }
        let photo = (0.0, 0.0, 1000.0, 800.0);
        // A face cut by the first quarter's right edge (x = 600, inside the photo)...
        assert!(cut_by_inner_edge(
            &b(550.0, 100.0, 600.0, 160.0, 0.9),
            tiles[0],
            photo
        ));
        // ...but not one at the photo's own left edge, nor one well inside.
        assert!(!cut_by_inner_edge(
            &b(0.0, 100.0, 50.0, 160.0, 0.9),
            tiles[0],
            photo
        ));
        assert!(!cut_by_inner_edge(
            &b(200.0, 200.0, 260.0, 270.0, 0.9),
            tiles[0],
            photo
        ));
    }
}
