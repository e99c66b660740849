//! Reading a packed model (`pack` writes them): tract NNEF whose large weights are stored as
//! `L.q.dat` (int8) and `L.scale.dat` (float32, one per slice along one axis). They are turned
//! back into the float32 tensor `L` here, in one plain loop, before tract builds the graph:
//! tract sees the float graph it wrote, and does not spend its own graph folding on it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use tract_nnef::ast::Identifier;
use tract_nnef::framework::Nnef;
use tract_nnef::internal::{bail, format_err};
use tract_nnef::prelude::*;

use crate::quantize::dequantize;
use crate::{FaceError, Runnable};

/// The labels of the int8 values and of the scales that stand for tensor `label`.
pub(crate) fn quantized_labels(label: &str) -> (Identifier, Identifier) {
    (
        Identifier(format!("{label}.q")),
        Identifier(format!("{label}.scale")),
    )
}

/// tract's NNEF reader with its operator registry, built once: building it takes longer than
/// reading a small model.
fn nnef() -> &'static Nnef {
    static NNEF: OnceLock<Nnef> = OnceLock::new();
    NNEF.get_or_init(tract_nnef::nnef)
}

/// Loads a packed model, optimised and ready to run.
pub(crate) fn load_packed(name: &str, bytes: &[u8]) -> Result<Runnable, FaceError> {
    let failed = |reason: String| FaceError::Model {
        model: name.to_string(),
        reason,
    };
    if !is_tar(bytes) {
        return Err(failed(
            "not a packed model (tract NNEF tar); `cfaces pack-models` makes one from the \
             original ONNX or TensorFlow Lite file"
                .into(),
        ));
    }
    let load = || -> TractResult<Runnable> {
        let mut proto = nnef().proto_model_for_read(&mut &bytes[..])?;
        dequantize_tensors(&mut proto.tensors)?;
        nnef()
            .model_for_proto_model(&proto)?
            .into_optimized()?
            .into_runnable()
    };
    load().map_err(|e| failed(format!("{e:#}")))
}

/// A POSIX tar has "ustar" at byte 257.
fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// Every `L.q` with its `L.scale` becomes the float32 tensor `L`.
fn dequantize_tensors(tensors: &mut HashMap<Identifier, Arc<Tensor>>) -> TractResult<()> {
    let quantized: Vec<String> = tensors
        .keys()
        .filter_map(|id| id.0.strip_suffix(".q").map(str::to_string))
        .collect();
    for label in quantized {
        let (q_label, scale_label) = quantized_labels(&label);
        let (Some(values), Some(scales)) = (tensors.remove(&q_label), tensors.remove(&scale_label))
        else {
            bail!("{} has no scales", q_label.0);
        };
        let floats = dequantize(
            values.try_as_plain_ram()?.as_slice::<i8>()?,
            values.shape(),
            scales.try_as_plain_ram()?.as_slice::<f32>()?,
            scales.shape(),
        )
        .ok_or_else(|| format_err!("{}: the scales do not fit the values", label))?;
        tensors.insert(
            Identifier(label),
            Tensor::from_shape(values.shape(), &floats)?.into_arc_tensor(),
        );
    }
    Ok(())
}
