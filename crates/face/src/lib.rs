//! The face pipeline, the same natively (index builder) and in the browser (visitor's photo):
//! decode → detect every face → 68 landmarks → five points → similarity transform to the
//! network's template → bilinear crop → embedding, L2-normalised so that cosine similarity is a
//! dot product.
//!
//! No file I/O: the caller hands over photo bytes and model bytes. Models run with tract.

mod attributes;
mod detect;
mod embed;
mod landmarks;
mod look;
mod network;
mod photo;
mod pipeline;

pub use attributes::{Attribute, AttributeNet};
pub use detect::{Detector, FaceBox};
pub use embed::{ChannelOrder, Embedder, Layout, NetworkCard};
pub use landmarks::Landmarker;
pub use look::{LOOK_DIMENSION, LookNet, LookWeights, look_vector};
pub use network::{Network, NetworkSpec};
pub use photo::{MAX_SIDE, Photo};
pub use pipeline::{Face, FacePipeline, nearest_centre};

/// What can go wrong between bytes and vectors. No face is not an error: it is an empty list.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("the file is empty")]
    Empty,
    #[error("not an image this app reads (JPEG, PNG, WebP, GIF, BMP): {0}")]
    UnknownFormat(String),
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
}

/// Loads an ONNX model from bytes with a fixed input shape, optimised and ready to run.
pub(crate) fn load_onnx(
    name: &str,
    bytes: &[u8],
    input_shape: &[usize],
) -> Result<Runnable, FaceError> {
    use tract_onnx::prelude::*;
    let model_error = |e: TractError| FaceError::Model {
        model: name.to_string(),
        reason: format!("{e:#}"),
    };
    tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .and_then(|m| m.with_input_fact(0, f32::fact(input_shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(model_error)
}

/// Loads a TensorFlow Lite model from bytes and re-types its input to `input_shape` (a file may
/// fix a batch size the pipeline does not want: MobileFaceNet's is 2).
pub(crate) fn load_tflite(
    name: &str,
    bytes: &[u8],
    input_shape: &[usize],
) -> Result<Runnable, FaceError> {
    use tract_onnx::prelude::*;
    use tract_onnx::tract_core::ops::source::TypedSource;
    let load = || -> TractResult<crate::Runnable> {
        let mut model = tract_tflite::tflite().model_for_read(&mut &bytes[..])?;
        let fact = f32::fact(input_shape);
        let source = model.input_outlets()?[0].node;
        model.node_mut(source).op = Box::new(TypedSource::new(fact.clone()));
        model.set_input_fact(0, fact)?;
        model.refresh_output_facts()?;
        model.into_optimized()?.into_runnable()
    };
    load().map_err(|e| FaceError::Model {
        model: name.to_string(),
        reason: format!("{e:#}"),
    })
}

/// A loaded, optimised tract model.
pub(crate) type Runnable = std::sync::Arc<tract_onnx::prelude::TypedRunnableModel>;

/// Runs `model` on one NCHW f32 input; returns every output as a flat vector.
pub(crate) fn run(
    model: &Runnable,
    name: &str,
    shape: &[usize],
    input: Vec<f32>,
) -> Result<Vec<Vec<f32>>, FaceError> {
    use tract_onnx::prelude::*;
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
