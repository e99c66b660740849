//! How many of the annotated faces a detector finds, by face size, and how many of its boxes
//! are no face: the annotation format of `../shared/data/faces-detection` (WIDER FACE boxes,
//! `x1,y1,x2,y2;…` per photo) and the usual matching rule (a detection hits a face when their
//! intersection over union is at least 0.5; each face is hit at most once, detections taken
//! most confident first).

use thiserror::Error;

/// A box in pixels: left, top, right, bottom.
pub type Rect = [f32; 4];

/// A box and the detector's score for it.
pub type ScoredRect = (Rect, f32);

/// Each photo's path and what is listed for it.
pub type PerPhoto<T> = Vec<(String, Vec<T>)>;

/// The bands of face height (pixels) recall is reported in: [low, high).
pub const BANDS: [(f32, f32); 5] = [
    (0.0, 16.0),
    (16.0, 32.0),
    (32.0, 64.0),
    (64.0, 128.0),
    (128.0, f32::INFINITY),
];

/// The overlap at which a detection hits a face.
pub const HIT_IOU: f32 = 0.5;

#[derive(Debug, Error, PartialEq)]
pub enum AnnotationError {
    #[error("line {line}: expected a path, a tab and boxes")]
    Line { line: usize },
    #[error("line {line}: {text:?} is not a box of {expected}")]
    Box {
        line: usize,
        text: String,
        expected: &'static str,
    },
}

/// One line per photo: its path, a tab, and its boxes separated by `;` (none: empty).
pub fn parse_boxes(text: &str) -> Result<PerPhoto<Rect>, AnnotationError> {
    parse_lines(text, "four numbers x1,y1,x2,y2")
}

/// Another detector's boxes, each with its score (`x1,y1,x2,y2,score;…`), in the same layout
/// as the annotation: what a peer detector gives, to be scored by the same rule as ours.
pub fn parse_scored_boxes(text: &str) -> Result<PerPhoto<ScoredRect>, AnnotationError> {
    let photos = parse_lines::<5>(text, "five numbers x1,y1,x2,y2,score")?;
    Ok(photos
        .into_iter()
        .map(|(path, boxes)| {
            let scored = boxes
                .into_iter()
                .map(|[x1, y1, x2, y2, score]| ([x1, y1, x2, y2], score))
                .collect();
            (path, scored)
        })
        .collect())
}

fn parse_lines<const N: usize>(
    text: &str,
    expected: &'static str,
) -> Result<PerPhoto<[f32; N]>, AnnotationError> {
    let mut photos = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line_number = number + 1;
        if line.trim().is_empty() {
            continue;
        }
        let (path, boxes) = line
            .split_once('\t')
            .ok_or(AnnotationError::Line { line: line_number })?;
        let mut rects = Vec::new();
        for text in boxes.split(';').map(str::trim).filter(|t| !t.is_empty()) {
            let not_a_box = || AnnotationError::Box {
                line: line_number,
                text: text.to_string(),
                expected,
            };
            let numbers: Vec<f32> = text
                .split(',')
                .map(|n| n.trim().parse::<f32>())
                .collect::<Result<_, _>>()
                .map_err(|_| not_a_box())?;
            rects.push(<[f32; N]>::try_from(numbers).map_err(|_| not_a_box())?);
        }
        photos.push((path.to_string(), rects));
    }
    Ok(photos)
}

pub fn iou(a: &Rect, b: &Rect) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &Rect| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Of `detection`, the share inside `region`.
fn inside(detection: &Rect, region: &Rect) -> f32 {
    let w = (detection[2].min(region[2]) - detection[0].max(region[0])).max(0.0);
    let h = (detection[3].min(region[3]) - detection[1].max(region[1])).max(0.0);
    let area = (detection[2] - detection[0]).max(0.0) * (detection[3] - detection[1]).max(0.0);
    if area > 0.0 { w * h / area } else { 0.0 }
}

/// Faces found and boxes that were no face, summed over photos.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DetectionTally {
    pub photos: usize,
    /// Per [`BANDS`]: (faces, faces hit).
    pub bands: [(usize, usize); 5],
    pub detections: usize,
    /// Detections that hit no face, no face too small to score and no region marked invalid.
    pub false_boxes: usize,
}

fn band_of(face: &Rect) -> usize {
    let height = face[3] - face[1];
    BANDS
        .iter()
        .position(|&(low, high)| height >= low && height < high)
        .unwrap_or(0)
}

impl DetectionTally {
    /// Adds one photo: its faces, its regions to ignore, and the detections most confident
    /// first. A detection on a face under `scored_from` pixels tall (found or not, such faces
    /// are not what the detector is asked for) or inside an ignored region is neither a hit
    /// nor a false box.
    pub fn add(&mut self, faces: &[Rect], ignore: &[Rect], detections: &[Rect], scored_from: f32) {
        self.photos += 1;
        self.detections += detections.len();
        let mut hit = vec![false; faces.len()];
        for detection in detections {
            let best = faces
                .iter()
                .enumerate()
                .filter(|(i, _)| !hit[*i])
                .map(|(i, face)| (i, iou(detection, face)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((i, overlap)) if overlap >= HIT_IOU => hit[i] = true,
                _ => {
                    let on_small_face = faces.iter().any(|face| {
                        face[3] - face[1] < scored_from && iou(detection, face) >= HIT_IOU
                    });
                    let ignored = ignore.iter().any(|region| inside(detection, region) >= 0.5);
                    if !on_small_face && !ignored {
                        self.false_boxes += 1;
                    }
                }
            }
        }
        for (face, found) in faces.iter().zip(hit) {
            let band = &mut self.bands[band_of(face)];
            band.0 += 1;
            band.1 += usize::from(found);
        }
    }

    /// Recall of the faces at least `min_height` tall (band edges only).
    pub fn recall_from(&self, min_height: f32) -> f64 {
        let (faces, hits) = BANDS
            .iter()
            .zip(&self.bands)
            .filter(|((low, _), _)| *low >= min_height)
            .fold((0, 0), |(f, h), (_, &(faces, hits))| (f + faces, h + hits));
        if faces == 0 {
            0.0
        } else {
            hits as f64 / faces as f64
        }
    }

    pub fn false_boxes_per_photo(&self) -> f64 {
        if self.photos == 0 {
            0.0
        } else {
            self.false_boxes as f64 / self.photos as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_parse_with_empty_photos_and_refuse_bad_boxes() {
        let text = "a.jpg\t1,2,11,22;30,30,60,70\nb.jpg\t\n";
        let photos = parse_boxes(text).unwrap();
        assert_eq!(
            photos[0].1,
            vec![[1.0, 2.0, 11.0, 22.0], [30.0, 30.0, 60.0, 70.0]]
        );
        assert_eq!(photos[1], ("b.jpg".to_string(), Vec::new()));
        assert_eq!(
            parse_boxes("c.jpg\t1,2,3\n"),
            Err(AnnotationError::Box {
                line: 1,
                text: "1,2,3".into(),
                expected: "four numbers x1,y1,x2,y2",
            })
        );
        assert_eq!(
            parse_boxes("no tab\n"),
            Err(AnnotationError::Line { line: 1 })
        );
    }

    #[test]
    fn a_peers_boxes_parse_with_their_scores_and_a_box_without_one_is_refused() {
        let photos = parse_scored_boxes("a.jpg\t1,2,11,22,0.9;30,30,60,70,0.5\nb.jpg\t\n").unwrap();
        assert_eq!(
            photos[0].1,
            vec![
                ([1.0, 2.0, 11.0, 22.0], 0.9),
                ([30.0, 30.0, 60.0, 70.0], 0.5)
            ]
        );
        assert_eq!(photos[1], ("b.jpg".to_string(), Vec::new()));
        let error = parse_scored_boxes("c.jpg\t1,2,11,22\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 1: \"1,2,11,22\" is not a box of five numbers x1,y1,x2,y2,score"
        );
    }

    #[test]
    fn each_face_is_hit_once_and_the_rest_are_false_unless_ignored_or_tiny() {
        let faces = [
            [0.0, 0.0, 40.0, 40.0],     // 40 px: band 32-64
            [100.0, 0.0, 200.0, 100.0], // 100 px: band 64-128
            [300.0, 0.0, 310.0, 10.0],  // 10 px: not scored
        ];
        let ignore = [[500.0, 500.0, 600.0, 600.0]];
        let detections = [
            [1.0, 1.0, 41.0, 41.0],       // hits the 40 px face
            [2.0, 2.0, 42.0, 42.0],       // the same face again: false
            [300.0, 0.0, 310.0, 10.0],    // the tiny face: neither
            [510.0, 510.0, 560.0, 560.0], // inside the ignored region: neither
            [800.0, 800.0, 900.0, 900.0], // nothing there: false
        ];
        let mut tally = DetectionTally::default();
        tally.add(&faces, &ignore, &detections, 16.0);
        assert_eq!(tally.photos, 1);
        assert_eq!(tally.detections, 5);
        assert_eq!(tally.false_boxes, 2);
        assert_eq!(
            tally.bands[0],
            (1, 1),
            "the tiny face counts as found, in its own band"
        );
        assert_eq!(tally.bands[2], (1, 1));
        assert_eq!(tally.bands[3], (1, 0));
        assert_eq!(tally.recall_from(32.0), 0.5);
        assert_eq!(tally.false_boxes_per_photo(), 2.0);
        assert!(
            (iou(&faces[0], &detections[0]) - 39.0 * 39.0 / (2.0 * 1600.0 - 39.0 * 39.0)).abs()
                < 1e-6
        );
    }
}
