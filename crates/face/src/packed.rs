//! Reading a packed model (`pack` writes them): tract NNEF whose large weights are stored as
//! `L.q.dat` (int8) and `L.scale.dat` (float32, one per slice along one axis). They are turned
//! back into the float32 tensor `L` here, in one plain loop, before tract builds the graph:
//! tract sees the float graph it wrote, and does not spend its own graph folding on it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use tract_nnef::ast::Identifier;
use tract_nnef::framework::Nnef;
use tract_nnef::internal::{bail, format_err};
use tract_nnef::prelude::*;
use tract_nnef::resource::{DatLoader, GraphNnefLoader, ResourceLoader};

use crate::quantize::dequantize;
use crate::{FaceError, Runnable};

/// The labels of the int8 values and of the scales that stand for tensor `label`.
pub(crate) fn quantized_labels(label: &str) -> (Identifier, Identifier) {
    (
        Identifier(format!("{label}.q")),
        Identifier(format!("{label}.scale")),
    )
}

/// tract's NNEF framework with the standard NNEF operators only, built once. The packed graphs
/// use no other (`pack` writes them with this same framework, so packing fails if one ever
/// would); building tract's full operator registry took 10-45 ms per model in the browser, more
/// than reading a small model. (It does not shrink the wasm: tract-core registers its operators
/// itself.)
pub(crate) fn nnef() -> &'static Nnef {
    static NNEF: OnceLock<Nnef> = OnceLock::new();
    NNEF.get_or_init(|| Nnef {
        stdlib: tract_nnef::framework::stdlib(),
        registries: vec![tract_nnef::ops::tract_nnef()],
        resource_loaders: vec![GraphNnefLoader.into_boxed(), DatLoader.into_boxed()],
        allow_extended_identifier_syntax: false,
        extern_all_constants: false,
    })
}

/// How much of tract's graph work a model gets when it is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preparation {
    /// Simplify ("declutter") the graph, then optimise it: the fastest model to run.
    Full,
    /// Optimise the graph as written. The packed graph was simplified when it was packed, so
    /// for the detector and the landmark network this runs as fast (within 10 %, measured) and
    /// loads a third faster, which the page's first visit waits for. MobileFaceNet's graph
    /// runs 40 % slower without it, so it gets [`Preparation::Full`].
    OptimizeOnly,
}

/// Loads a packed model, optimised and ready to run.
pub(crate) fn load_packed(
    name: &str,
    bytes: &[u8],
    preparation: Preparation,
) -> Result<Runnable, FaceError> {
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
    if let Some(problem) = graph_problem(bytes) {
        return Err(failed(format!("its graph.nnef {problem}")));
    }
    let load = || -> TractResult<Runnable> {
        let mut proto = nnef().proto_model_for_read(&mut &bytes[..])?;
        dequantize_tensors(&mut proto.tensors)?;
        let mut model = nnef().model_for_proto_model(&proto)?;
        if preparation == Preparation::Full {
            model.declutter()?;
        }
        model.optimize()?;
        model.into_runnable()
    };
    load().map_err(|e| failed(format!("{e:#}")))
}

/// The deepest nesting of brackets a packed graph may have. tract's NNEF parser tries its
/// alternatives again at every level of nesting, so its time about doubles with each level:
/// fuzzing found 2 KB graphs of 130 nested parentheses, and of 100 unary `+` in a row, that it
/// never finished (under the fuzzer, 10 levels of parentheses took 1 s, 12 took 6 s, 14 took
/// 20 s; crates/face/tests/fuzz_found.rs). The graphs `pack` writes nest 5 deep, and put a
/// sign before numbers only.
const MAX_GRAPH_NESTING: usize = 8;

/// Why the tar's graph.nnef would cost tract's parser more than any packed model can: brackets
/// nested too deep, or an operator put before another operator or a bracket. `None` when it
/// has none of these, or no graph.nnef that can be read (tract then says what is wrong).
fn graph_problem(bytes: &[u8]) -> Option<String> {
    let mut archive = tar::Archive::new(bytes);
    let entries = archive.entries().ok()?;
    for mut entry in entries.map_while(Result::ok) {
        let is_graph = entry
            .path()
            .is_ok_and(|path| path.ends_with(tract_nnef::resource::GRAPH_NNEF_FILENAME));
        let mut text = Vec::new();
        if is_graph
            && entry.read_to_end(&mut text).is_ok()
            && let Some(problem) = text_problem(&text)
        {
            return Some(problem);
        }
    }
    None
}

/// What [`graph_problem`] looks for in NNEF text, outside `#` comments and strings.
fn text_problem(text: &[u8]) -> Option<String> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote = None;
    let mut comment = false;
    // The last byte that was not space; a sign after one of these is a prefix operator.
    let mut previous = b'(';
    let mut after_prefix = false;
    for &byte in text {
        if comment {
            comment = byte != b'\n';
            continue;
        }
        if let Some(open) = quote {
            quote = (byte != open).then_some(open);
            continue;
        }
        if byte.is_ascii_whitespace() {
            continue;
        }
        let opens = matches!(byte, b'(' | b'[' | b'{');
        let prefix = matches!(byte, b'+' | b'-' | b'!') && b"([{,=:<>+-*/!^&|?".contains(&previous);
        if after_prefix && (prefix || opens) {
            return Some(format!(
                "puts an operator before `{}`, which no packed model does",
                char::from(byte)
            ));
        }
        match byte {
            b'#' => comment = true,
            b'"' | b'\'' => quote = Some(byte),
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ if opens => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            _ => {}
        }
        after_prefix = prefix;
        previous = byte;
    }
    (deepest > MAX_GRAPH_NESTING).then(|| {
        format!(
            "nests brackets {deepest} deep, more than the {MAX_GRAPH_NESTING} a packed model may \
             (`cfaces pack-models` writes 5)"
        )
    })
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
