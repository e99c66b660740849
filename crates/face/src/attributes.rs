//! Age and gender estimates (faceplugin `fr_age.onnx`, `fr_gender.onnx`, SSR-Net networks): the
//! face box enlarged 1.4 times and kept inside the photo, resized to 64 x 64 RGB, ImageNet
//! normalisation; three stages of soft classification merged into one number.

use cf_align::resize_region_rgb;

use crate::{Face, FaceError, Photo, Preparation, Runnable, load_packed, run};

const SIZE: usize = 64;
pub(crate) const INPUT_SHAPE: [usize; 4] = [1, 3, SIZE, SIZE];
const ENLARGE: f32 = 1.4;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// What a network estimates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    /// Age in years (SSR-Net range 0–101).
    Age,
    /// Gender score in [0, 1]; above 0.5 reads as male.
    Gender,
}

impl Attribute {
    fn name(self) -> &'static str {
        match self {
            Attribute::Age => "fr_age",
            Attribute::Gender => "fr_gender",
        }
    }

    /// The packed model file (`crate::pack`).
    pub const fn file(self) -> &'static str {
        match self {
            Attribute::Age => "fr_age.nnef.tar",
            Attribute::Gender => "fr_gender.nnef.tar",
        }
    }

    /// SSR-Net's output range `V`.
    fn range(self) -> f32 {
        match self {
            Attribute::Age => 101.0,
            Attribute::Gender => 1.0,
        }
    }
}

/// A loaded age or gender network.
pub struct AttributeNet {
    attribute: Attribute,
    model: Runnable,
}

impl AttributeNet {
    /// Loads the packed network ([`Attribute::file`]).
    pub fn new(attribute: Attribute, packed: &[u8]) -> Result<Self, FaceError> {
        Ok(AttributeNet {
            attribute,
            model: load_packed(attribute.name(), packed, Preparation::Full)?,
        })
    }

    /// The estimate for one face.
    pub fn estimate(&self, photo: &Photo, face: &Face) -> Result<f32, FaceError> {
        let region = enlarged_region(photo, face)?;
        let crop =
            resize_region_rgb(photo.view(), region, SIZE, SIZE).ok_or(FaceError::Degenerate)?;
        let plane = SIZE * SIZE;
        let mut input = vec![0f32; 3 * plane];
        for (i, pixel) in crop.chunks_exact(3).enumerate() {
            for c in 0..3 {
                input[c * plane + i] = (f32::from(pixel[c]) / 255.0 - MEAN[c]) / STD[c];
            }
        }
        let outputs = run(&self.model, self.attribute.name(), &INPUT_SHAPE, input)?;
        let values: Vec<f32> = outputs.concat();
        if values.len() != 21 {
            return Err(FaceError::Inference {
                model: self.attribute.name().into(),
                reason: format!("expected 21 output values, got {}", values.len()),
            });
        }
        Ok(merge_stages(&values, self.attribute.range()))
    }
}

/// The face box grown by [`ENLARGE`] about its centre (less when the photo is too small), then
/// shifted to lie inside the photo.
fn enlarged_region(photo: &Photo, face: &Face) -> Result<(f32, f32, f32, f32), FaceError> {
    let b = &face.bbox;
    let (w, h) = (b.width(), b.height());
    let (pw, ph) = (photo.width as f32, photo.height as f32);
    if !(w > 0.0 && h > 0.0) || pw < 2.0 || ph < 2.0 {
        return Err(FaceError::BoxOutside([b.x1, b.y1, b.x2, b.y2]));
    }
    let scale = ENLARGE.min((pw - 1.0) / w).min((ph - 1.0) / h);
    let (nw, nh) = (w * scale, h * scale);
    let (cx, cy) = b.centre();
    // `max(0.0)`: when the scale was capped by the photo, rounding can leave the upper bound a
    // hair below zero.
    let x = (cx - nw / 2.0).clamp(0.0, (pw - 1.0 - nw).max(0.0));
    let y = (cy - nh / 2.0).clamp(0.0, (ph - 1.0 - nh).max(0.0));
    Ok((x, y, nw, nh))
}

/// SSR-Net's stagewise regression: `values` holds the three stages' probabilities (3 each), the
/// three scale deltas, and the three stages' index offsets (3 each), in that order.
fn merge_stages(values: &[f32], range: f32) -> f32 {
    let (probs, deltas, offsets) = (&values[0..9], &values[9..12], &values[12..21]);
    let mut total = 0.0;
    let mut divisor = 1.0;
    for stage in 0..3 {
        divisor *= 3.0 * (1.0 + deltas[stage]);
        let expected: f32 = (0..3)
            .map(|i| (i as f32 + offsets[3 * stage + i]) * probs[3 * stage + i])
            .sum();
        total += expected / divisor;
    }
    total * range
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FaceBox;

    fn face(x1: f32, y1: f32, x2: f32, y2: f32) -> Face {
        Face {
            bbox: FaceBox::new([x1, y1, x2, y2], 1.0),
            landmarks: Vec::new(),
            five: [cf_align::Point::default(); 5],
        }
    }

    #[test]
    fn the_enlarged_region_stays_inside_the_photo_whatever_the_box() {
        let photo = Photo {
            width: 250,
            height: 250,
            rgb: vec![0; 3 * 250 * 250],
        };
        let boxes = [
            face(100.0, 100.0, 150.0, 150.0),
            face(0.0, 0.0, 249.0, 249.0),
            face(-20.0, 30.0, 240.3, 251.7),
            face(3.3, 7.7, 248.9, 249.99),
            face(200.0, 200.0, 260.0, 270.0),
        ];
        for f in &boxes {
            let (x, y, w, h) = enlarged_region(&photo, f).unwrap();
            assert!(x >= 0.0 && y >= 0.0 && w > 0.0 && h > 0.0, "{:?}", f.bbox);
            assert!(
                x + w <= 249.0 + 1e-3 && y + h <= 249.0 + 1e-3,
                "{:?}",
                f.bbox
            );
        }
        // A centred small face is enlarged 1.4 times about its centre.
        let (x, y, w, h) = enlarged_region(&photo, &boxes[0]).unwrap();
        assert!((w - 70.0).abs() < 1e-3 && (h - 70.0).abs() < 1e-3);
        assert!((x - 90.0).abs() < 1e-3 && (y - 90.0).abs() < 1e-3);
        assert!(enlarged_region(&photo, &face(10.0, 10.0, 10.0, 20.0)).is_err());
    }

    #[test]
    fn stages_merge_as_ssr_net_defines() {
        // Stage 1 certain of bin 2, no deltas or offsets: 2 / 3 of the range; stages 2 and 3
        // certain of bin 0 add nothing.
        let mut values = vec![0.0; 21];
        values[2] = 1.0;
        values[3] = 1.0;
        values[6] = 1.0;
        assert!((merge_stages(&values, 101.0) - 2.0 / 3.0 * 101.0).abs() < 1e-4);
        // Stage 2 certain of bin 1 adds 1 / 9 of the range.
        values[3] = 0.0;
        values[4] = 1.0;
        assert!((merge_stages(&values, 1.0) - (2.0 / 3.0 + 1.0 / 9.0)).abs() < 1e-6);
        // A positive delta shrinks the stage's bins.
        values[9] = 1.0;
        assert!((merge_stages(&values, 1.0) - (2.0 / 6.0 + 1.0 / 18.0)).abs() < 1e-6);
    }
}
