//! Embedding networks and their model cards.

use cf_align::{ARCFACE_112, FivePoints, Similarity, warp_rgb};

use crate::{Face, FaceError, Photo, Runnable, load_onnx, run};

/// Channel order a network expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// What a network needs and gives: everything the pipeline must do identically natively and in
/// the browser for its vectors to be comparable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkCard {
    /// Name used on the command line, in the index and in the UI switch.
    pub name: &'static str,
    /// File in `models/` (see scripts/models.pins).
    pub file: &'static str,
    /// For people.
    pub description: &'static str,
    /// Side of the square aligned crop.
    pub input_size: usize,
    /// Input layout is NCHW; the channel order is this.
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
        file: "fr_feature.onnx",
        description: "Identity embedding, 512-d (faceplugin fr_feature)",
        input_size: 112,
        channels: ChannelOrder::Rgb,
        mean: 127.0,
        scale: 128.0,
        template: ARCFACE_112,
        dimension: 512,
        licence: "MIT (package); weights of unclear origin",
        source: "npm faceplugin-face-recognition-js@0.0.1 package/model/fr_feature.onnx",
    };

    /// All cards this build knows.
    pub const ALL: [NetworkCard; 1] = [NetworkCard::FACEPLUGIN_512];

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
    pub fn new(card: NetworkCard, onnx: &[u8]) -> Result<Self, FaceError> {
        let s = card.input_size;
        Ok(Embedder {
            card,
            model: load_onnx(card.name, onnx, &[1, 3, s, s])?,
        })
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
        let mut input = vec![0f32; 3 * plane];
        for (i, pixel) in crop.chunks_exact(3).enumerate() {
            for c in 0..3 {
                let channel = match self.card.channels {
                    ChannelOrder::Rgb => c,
                    ChannelOrder::Bgr => 2 - c,
                };
                input[c * plane + i] = (f32::from(pixel[channel]) - self.card.mean) / self.card.scale;
            }
        }
        let outputs = run(&self.model, self.card.name, &[1, 3, s, s], input)?;
        let mut vector = outputs
            .into_iter()
            .next()
            .filter(|v| v.len() == self.card.dimension)
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
