//! The face pipeline, the same natively (index builder) and in the browser (visitor's photo):
//! decode → detect every face → 68 landmarks → five points → similarity transform to the
//! network's template → bilinear crop → embedding, L2-normalised so that cosine similarity is a
//! dot product.
//!
//! No file I/O: the caller hands over photo bytes and model bytes. Models run with tract, from
//! the packed files `pack` makes (feature `import`, native only) out of the fetched originals.

mod attributes;
pub mod detect;
mod dlib_nets;
pub mod doubling_upsample;
mod embed;
pub mod graph_tree;
pub mod halving_pool;
pub mod landmarks;
mod look;
mod network;
pub mod one_pass_prelu;
pub mod optimizer;
#[cfg(feature = "import")]
pub mod pack;
mod packed;
mod photo;
mod pipeline;
mod probe;
pub mod quantize;
mod retinaface;
mod rfb;
#[cfg(feature = "import")]
mod tensorflow_import;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod wasm_matmul;
mod ycbcr;
mod yunet;

pub use attributes::{Attribute, AttributeNet};
pub use cf_align::Turn;
pub use detect::{Detector, DetectorKind, FaceBox, SecondLook};
pub use dlib_nets::{DlibAttribute, DlibAttributeNet, face_chip};
pub use embed::{ChannelOrder, Embedder, Layout, NetworkCard};
pub use image::metadata::Orientation;
pub use landmarks::Landmarker;
pub use look::{LOOK_DIMENSION, LookNet, LookWeights, look_vector};
pub use network::{Network, NetworkSpec};
#[cfg(feature = "import")]
use packed::quantized_labels;
use packed::{Preparation, load_packed};
pub use photo::{
    DecodePlan, MAX_DIMENSION, MAX_SIDE, Photo, PixelOrder, plan_decode, working_size,
};
pub use pipeline::{CentralFace, Face, FacePipeline, PIPELINE_FILES, central_face, preselect};
pub use probe::GenderProbe;
pub use ycbcr::{ChromaSampling, Plane, YCbCrPlanes};

/// What can go wrong between bytes and vectors. No face is not an error: it is an empty list.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("the file is empty")]
    Empty,
    #[error("not an image this app reads (JPEG, PNG, WebP, GIF, BMP): {0}")]
    UnknownFormat(String),
    /// An image format known by its first bytes that this app does not decode: "HEIC",
    /// "AVIF", "TIFF" or "SVG".
    #[error("a {0} image, a format this app does not read (JPEG, PNG, WebP, GIF, BMP)")]
    UnsupportedFormat(&'static str),
    #[error("the image could not be decoded: {0}")]
    Decode(String),
    #[error("the image is too large to decode safely: {0}")]
    TooLarge(String),
    #[error("model {model}: {reason}")]
    Model { model: String, reason: String },
    #[error("inference failed in {model}: {reason}")]
    Inference { model: String, reason: String },
    #[error("the face box {0:?} does not overlap the photo")]
    BoxOutside([f32; 4]),
    #[error("the landmarks are degenerate; the face cannot be aligned")]
    Degenerate,
    /// The landmark network's points for the box are not laid out as a face's.
    #[error("the box holds no face: {0}")]
    NotAFace(cf_align::LayoutFault),
}

/// A loaded, optimised tract model.
pub(crate) type Runnable = std::sync::Arc<tract_nnef::prelude::TypedRunnableModel>;

/// Runs `model` on one NCHW f32 input; returns every output as a flat vector.
pub(crate) fn run(
    model: &Runnable,
    name: &str,
    shape: &[usize],
    input: Vec<f32>,
) -> Result<Vec<Vec<f32>>, FaceError> {
    use tract_nnef::prelude::*;
    let failed = |e: TractError| FaceError::Inference {
        model: name.to_string(),
        reason: format!("{e:#}"),
    };
    let tensor: Tensor = tract_ndarray::Array::from_shape_vec(shape, input)
        .map_err(|e| FaceError::Inference {
            model: name.to_string(),
            reason: e.to_string(),
        })?
        .into();
    let outputs = model.run(tvec!(tensor.into())).map_err(failed)?;
    outputs
        .iter()
        .map(|t| {
            t.to_plain_array_view::<f32>()
                .map(|view| view.iter().copied().collect())
                .map_err(failed)
        })
        .collect()
}
