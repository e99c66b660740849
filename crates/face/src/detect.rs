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

/// How a photo is shown to the 320 x 240 network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DetectorLayout {
    /// The whole photo stretched to 320 x 240, whatever its shape (the package's way): a
    /// portrait photo's faces are squashed to 60 % of their width.
    #[default]
    Stretch,
    /// The whole photo scaled to fit 320 x 240, its shape kept, black around it.
    Letterbox,
    /// Letterboxed, and where the photo is over twice the network's size, also in four
    /// overlapping quarters (each letterboxed), so that small faces are seen at twice the
    /// size; the boxes of all five merged.
    Tiles,
}

impl DetectorLayout {
    pub const ALL: [DetectorLayout; 3] = [
        DetectorLayout::Stretch,
        DetectorLayout::Letterbox,
        DetectorLayout::Tiles,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DetectorLayout::Stretch => "stretch",
            DetectorLayout::Letterbox => "letterbox",
            DetectorLayout::Tiles => "tiles",
        }
    }
}

/// The loaded detector.
pub struct Detector {
    model: Runnable,
    layout: DetectorLayout,
}

impl Detector {
    /// Loads the packed detector ([`FILE`]).
    pub fn new(packed: &[u8]) -> Result<Self, FaceError> {
        Ok(Detector {
            model: load_packed(NAME, packed, Preparation::OptimizeOnly)?,
            layout: DetectorLayout::default(),
        })
    }

    pub fn set_layout(&mut self, layout: DetectorLayout) {
        self.layout = layout;
    }

    /// Every face in the photo, most confident first. An empty list when there is none.
    pub fn detect(&self, photo: &Photo) -> Result<Vec<FaceBox>, FaceError> {
        if photo.width == 0 || photo.height == 0 {
            return Ok(Vec::new());
        }
        let whole = (0.0, 0.0, photo.width as f32, photo.height as f32);
        let mut found = match self.layout {
            DetectorLayout::Stretch => self.detect_in(photo, whole)?,
            DetectorLayout::Letterbox => self.detect_in(photo, letterbox(whole))?,
            DetectorLayout::Tiles => {
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
        };
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        found.truncate(TOP_K);
        Ok(non_maximum_suppression(found, NMS_IOU))
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
            .map(|(s, b)| FaceBox {
                x1: x + b[0] * w,
                y1: y + b[1] * h,
                x2: x + b[2] * w,
                y2: y + b[3] * h,
                score: s[1],
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

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = b(0.0, 0.0, 10.0, 10.0, 1.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&b(20.0, 20.0, 30.0, 30.0, 1.0)), 0.0);
        let half = a.iou(&b(5.0, 0.0, 15.0, 10.0, 1.0));
        assert!((half - 1.0 / 3.0).abs() < 1e-6);
    }
}
