//! Packing: each model file as fetched from its package (ONNX, TensorFlow Lite or a frozen
//! TensorFlow graph, float32) becomes
//! the file the pipeline loads, natively and in the browser: tract's NNEF, an uncompressed tar of
//! `graph.bin` (the graph, already simplified by tract for the fixed input shape, as NNEF's syntax
//! tree: `crate::graph_tree`) and one `.dat` per tensor, except that every large float32 weight `L` is stored as `L.q.dat` (int8) and
//! `L.scale.dat` (float32, one per channel; `crate::quantize`). The loader (`crate::load_packed`)
//! turns those back into `L` before tract builds the graph, so the graph is the float one.
//!
//! Why: the page downloads 40 % of the bytes (7.6 → 3.1 MB for the default network), and the
//! browser's worker needs only tract's NNEF reader, not its ONNX and TensorFlow Lite importers
//! (protobuf, flatbuffers, shape inference): a quarter less code to download and compile.
//!
//! Packing is deterministic (sorted tar entries, a fixed timestamp), so scripts/packed.pins can
//! pin each packed file's sha256 like the originals'.

use std::collections::HashMap;
use std::sync::Arc;

use tract_nnef::ast::Identifier;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{bail, format_err};
use tract_onnx::tract_core::model::Rewriter;
use tract_onnx::tract_core::ops::array::Tile;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::math::{Abs, Add, Max, Mul, Sub, add, min, mul};
use tract_onnx::tract_core::ops::nn::NearestUpsample;

use crate::FaceError;
use crate::quantize::quantize;

/// The file format a model comes in from its package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Onnx,
    Tflite,
    /// A frozen graph, cut at these outputs (`crate::tensorflow_import`).
    TensorflowFrozen {
        outputs: &'static [&'static str],
    },
}

/// One model the pipeline uses: where it comes from, the packed file's name and the input shape
/// the pipeline feeds it (fixed at packing, so tract simplifies the graph once, here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelPacking {
    pub source: &'static str,
    pub format: SourceFormat,
    pub packed: &'static str,
    pub input_shape: &'static [usize],
    /// The file's `value_info` shapes are for another batch layout or input size than the
    /// pipeline's: tract reads the graph without them and infers every shape from the input.
    pub ignore_value_info: bool,
}

/// Weights smaller than this stay float32: biases and tiny kernels, where int8 saves little.
const QUANTIZE_FROM_ELEMENTS: usize = 256;

/// Every model the pipeline knows, original and packed names.
pub const MODEL_PACKINGS: [ModelPacking; 11] = [
    // The file's shapes are for its 640 x 640 input: tract infers them from each side instead.
    ModelPacking {
        source: "face_detection_yunet_2023mar.onnx",
        format: SourceFormat::Onnx,
        packed: crate::yunet::FILES[0],
        input_shape: &crate::yunet::INPUT_SHAPES[0],
        ignore_value_info: true,
    },
    ModelPacking {
        source: "face_detection_yunet_2023mar.onnx",
        format: SourceFormat::Onnx,
        packed: crate::yunet::FILES[1],
        input_shape: &crate::yunet::INPUT_SHAPES[1],
        ignore_value_info: true,
    },
    ModelPacking {
        source: crate::retinaface::SOURCE,
        format: SourceFormat::TensorflowFrozen {
            outputs: &crate::retinaface::SOURCE_OUTPUTS,
        },
        packed: crate::retinaface::FILE,
        input_shape: &crate::retinaface::INPUT_SHAPE,
        ignore_value_info: false,
    },
    ModelPacking {
        source: "fr_detect.onnx",
        format: SourceFormat::Onnx,
        packed: crate::rfb::FILE,
        input_shape: &crate::rfb::INPUT_SHAPE,
        ignore_value_info: false,
    },
    ModelPacking {
        source: "fr_landmark.onnx",
        format: SourceFormat::Onnx,
        packed: crate::landmarks::FILE,
        input_shape: &crate::landmarks::INPUT_SHAPE,
        ignore_value_info: false,
    },
    ModelPacking {
        source: "fr_age.onnx",
        format: SourceFormat::Onnx,
        packed: crate::Attribute::Age.file(),
        input_shape: &crate::attributes::INPUT_SHAPE,
        ignore_value_info: false,
    },
    ModelPacking {
        source: "fr_gender.onnx",
        format: SourceFormat::Onnx,
        packed: crate::Attribute::Gender.file(),
        input_shape: &crate::attributes::INPUT_SHAPE,
        ignore_value_info: false,
    },
    ModelPacking {
        source: "fr_feature.onnx",
        format: SourceFormat::Onnx,
        packed: crate::NetworkCard::FACEPLUGIN_512.file,
        input_shape: &[1, 3, 112, 112],
        ignore_value_info: false,
    },
    ModelPacking {
        source: "mobilefacenet.tflite",
        format: SourceFormat::Tflite,
        packed: crate::NetworkCard::MOBILEFACENET_192.file,
        input_shape: &[1, 112, 112, 3],
        ignore_value_info: false,
    },
    ModelPacking {
        source: "gender-v1.onnx",
        format: SourceFormat::Onnx,
        packed: crate::DlibAttribute::Gender.file(),
        input_shape: &crate::DlibAttribute::Gender.input_shape(),
        ignore_value_info: true,
    },
    ModelPacking {
        source: "age-v1.onnx",
        format: SourceFormat::Onnx,
        packed: crate::DlibAttribute::Age.file(),
        input_shape: &crate::DlibAttribute::Age.input_shape(),
        ignore_value_info: true,
    },
];

/// Packs one model: `bytes` is the original file named by `packing.source`.
pub fn pack(packing: &ModelPacking, bytes: &[u8]) -> Result<Vec<u8>, FaceError> {
    let failed = |e: TractError| FaceError::Model {
        model: packing.source.to_string(),
        reason: format!("{e:#}"),
    };
    let mut model = import(packing, bytes).map_err(failed)?;
    rewrite_prelu_without_abs(&mut model).map_err(failed)?;
    let nnef = crate::packed::nnef();
    let mut proto = tract_nnef::ser::to_proto_model(nnef, &model).map_err(failed)?;
    if !proto.resources.is_empty() || proto.quantization.is_some() {
        return Err(failed(format_err!(
            "the graph has nested models or quantised tensors, which packing does not handle"
        )));
    }
    // The model's metadata (producer, versions) is read only by tract's own operator set, which
    // the reader leaves out (`crate::packed::nnef`).
    proto
        .doc
        .fragments
        .retain(|fragment| fragment.decl.id.0 != "tract_core_properties");
    quantize_tensors(&mut proto.tensors).map_err(failed)?;
    write_tar(nnef, &proto).map_err(failed)
}

/// Reads the original file with the input shape fixed and lets tract simplify the graph (without
/// the target-specific optimisation, which the loader does).
fn import(packing: &ModelPacking, bytes: &[u8]) -> TractResult<TypedModel> {
    let fact = f32::fact(packing.input_shape);
    match packing.format {
        SourceFormat::Onnx => {
            let mut model = tract_onnx::onnx()
                .with_ignore_value_info(packing.ignore_value_info)
                .model_for_read(&mut &bytes[..])?
                .with_input_fact(0, fact.into())?
                .into_typed()?
                .into_decluttered()?;
            Rewriter::default()
                .with_rule_for("nearest-upsample-as-tile", nearest_upsample_as_tile)
                .rewrite(&(), &mut model)?;
            Ok(model)
        }
        SourceFormat::TensorflowFrozen { outputs } => {
            let mut model = crate::tensorflow_import::import(bytes, packing.input_shape, outputs)?;
            Rewriter::default()
                .with_rule_for("nearest-upsample-as-tile", nearest_upsample_as_tile)
                .rewrite(&(), &mut model)?;
            Ok(model)
        }
        SourceFormat::Tflite => {
            use tract_onnx::tract_core::ops::source::TypedSource;
            // The file may fix another batch size (MobileFaceNet's is 2): re-type the source.
            let mut model = tract_tflite::tflite().model_for_read(&mut &bytes[..])?;
            let source = model.input_outlets()?[0].node;
            model.node_mut(source).op = Box::new(TypedSource::new(fact.clone()));
            model.set_input_fact(0, fact)?;
            model.refresh_output_facts()?;
            model.into_decluttered()
        }
    }
}

/// YuNet's and RetinaFace's feature pyramids upsample by two (ONNX Resize, TensorFlow
/// ResizeNearestNeighbor), which tract reads as its
/// own `NearestUpsample`; NNEF's standard operators have no such one (nor tract's broadcast),
/// so it is written as what it stands for: each upsampled axis split off a new axis of 1,
/// tiled along that axis by its scale, and merged back.
fn nearest_upsample_as_tile(
    _: &(),
    model: &TypedModel,
    node: &TypedNode,
    _: &str,
    op: &NearestUpsample,
) -> TractResult<Option<TypedModelPatch>> {
    let shape = model.outlet_fact(node.inputs[0])?.shape.to_tvec();
    let mut split: TVec<TDim> = tvec![];
    let mut repeats: TVec<TDim> = tvec![];
    let mut merged: TVec<TDim> = tvec![];
    for (dim, &scale) in shape.iter().zip(&op.scales) {
        split.push(dim.clone());
        repeats.push(1.into());
        merged.push(dim.clone() * scale);
        if scale > 1 {
            split.push(1.into());
            repeats.push(scale.into());
        }
    }
    let mut patch = TypedModelPatch::default();
    let mut wire = patch.tap_model(model, node.inputs[0])?;
    wire = patch.wire_node(
        format!("{}.split", node.name),
        AxisOp::Reshape(0, shape.clone(), split.clone()),
        &[wire],
    )?[0];
    wire = patch.wire_node(
        format!("{}.tile", node.name),
        Tile {
            multipliers: repeats.clone(),
        },
        &[wire],
    )?[0];
    let tiled: TVec<TDim> = split
        .iter()
        .zip(&repeats)
        .map(|(d, r)| d.clone() * r.clone())
        .collect();
    wire = patch.wire_node(
        format!("{}.merge", node.name),
        AxisOp::Reshape(0, tiled, merged),
        &[wire],
    )?[0];
    patch.shunt_outside(model, node.id.into(), wire)?;
    Ok(Some(patch))
}

fn rewrite_prelu_without_abs(model: &mut TypedModel) -> TractResult<()> {
    Rewriter::default()
        .with_rule_for("prelu-without-abs", prelu_without_abs)
        .rewrite(&(), model)
}

/// MobileFaceNet's PReLU as TensorFlow wrote it, `max(x, 0) + (x − |x|)·h` with `h` half the
/// slope, which tract runs as three passes over `x` (`|x|`, then two fused chains), becomes
/// `max(x, 0) + min(x, 0)·2h`: two passes, and the same bits (for x < 0 both are the one
/// rounded product 2x·h; for x ≥ 0 both add a zero). In wasm each pass is a memory sweep the
/// size of the layer's output.
fn prelu_without_abs(
    _: &(),
    model: &TypedModel,
    node: &TypedNode,
    _: &str,
    op: &TypedBinOp,
) -> TractResult<Option<TypedModelPatch>> {
    let binary = |outlet: OutletId| -> Option<(&TypedNode, &TypedBinOp)> {
        let node = model.node(outlet.node);
        node.op_as::<TypedBinOp>().map(|op| (node, op))
    };
    let constant = |outlet: OutletId| model.outlet_fact(outlet).ok()?.konst.clone();
    let is_zero = |outlet: OutletId| {
        constant(outlet).is_some_and(|k| {
            k.datum_type() == f32::datum_type()
                && k.to_plain_array_view::<f32>()
                    .is_ok_and(|v| v.iter().all(|x| *x == 0.0))
        })
    };
    if !op.0.is::<Add>() {
        return Ok(None);
    }
    // add(max(x, 0), mul(sub(x, abs(x)), h)), the two terms in either order.
    let terms = [node.inputs[0], node.inputs[1]];
    let Some((relu, scaled)) = [(terms[0], terms[1]), (terms[1], terms[0])]
        .into_iter()
        .find(|(a, b)| {
            binary(*a).is_some_and(|(_, op)| op.0.is::<Max>())
                && binary(*b).is_some_and(|(_, op)| op.0.is::<Mul>())
        })
    else {
        return Ok(None);
    };
    let (relu_node, _) = binary(relu).expect("found above");
    let (mul_node, _) = binary(scaled).expect("found above");
    let x = relu_node.inputs[0];
    let Some(half_slope) = constant(mul_node.inputs[1]) else {
        return Ok(None);
    };
    let Some((sub_node, sub)) = binary(mul_node.inputs[0]) else {
        return Ok(None);
    };
    let abs_node = model.node(sub_node.inputs[1].node);
    let is_abs_of_x = abs_node
        .op_as::<ElementWiseOp>()
        .is_some_and(|op| op.0.is::<Abs>())
        && abs_node.inputs[0] == x;
    if !(is_zero(relu_node.inputs[1])
        && sub.0.is::<Sub>()
        && sub_node.inputs[0] == x
        && is_abs_of_x
        && half_slope.datum_type() == f32::datum_type())
    {
        return Ok(None);
    }
    let slope: Vec<f32> = half_slope
        .to_plain_array_view::<f32>()?
        .iter()
        .map(|h| 2.0 * h)
        .collect();
    let mut patch = TypedModelPatch::new("prelu without abs");
    let x_wire = patch.tap_model(model, x)?;
    let zero = patch.tap_model(model, relu_node.inputs[1])?;
    let relu_wire = patch.tap_model(model, relu)?;
    let slope = patch.add_const(
        format!("{}.slope", mul_node.name),
        Tensor::from_shape(half_slope.shape(), &slope)?,
    )?;
    let negative = patch.wire_node(format!("{}.negative", node.name), min(), &[x_wire, zero])?[0];
    let scaled = patch.wire_node(format!("{}.scaled", node.name), mul(), &[negative, slope])?[0];
    let sum = patch.wire_node(format!("{}.prelu", node.name), add(), &[relu_wire, scaled])?[0];
    patch.shunt_outside(model, node.id.into(), sum)?;
    Ok(Some(patch))
}

/// Replaces each large float32 tensor `L` by `L.q` (int8) and `L.scale` (`crate::packed`).
fn quantize_tensors(tensors: &mut HashMap<Identifier, Arc<Tensor>>) -> TractResult<()> {
    let mut labels: Vec<Identifier> = tensors.keys().cloned().collect();
    labels.sort();
    // The loader takes every `*.q` for quantised values: no original name may look like one.
    if let Some(clash) = labels
        .iter()
        .find(|l| l.0.ends_with(".q") || l.0.ends_with(".scale"))
    {
        bail!(
            "tensor {} would read as quantised values or scales",
            clash.0
        );
    }
    for label in labels {
        let tensor = &tensors[&label];
        if tensor.datum_type() != f32::datum_type() || tensor.len() < QUANTIZE_FROM_ELEMENTS {
            continue;
        }
        let shape = tensor.shape().to_vec();
        let values: Vec<f32> = tensor
            .to_plain_array_view::<f32>()?
            .iter()
            .copied()
            .collect();
        let Some(quantized) = quantize(&values, &shape) else {
            continue;
        };
        let (q_label, scale_label) = crate::quantized_labels(&label.0);
        let scale_shape = quantized.scale_shape(&shape);
        tensors.remove(&label);
        tensors.insert(
            q_label,
            Tensor::from_shape(&shape, &quantized.values)?.into_arc_tensor(),
        );
        tensors.insert(
            scale_label,
            Tensor::from_shape(&scale_shape, &quantized.scales)?.into_arc_tensor(),
        );
    }
    Ok(())
}

/// The tar tract writes (its graph, then each tensor as `<label>.dat` in label order), with a
/// fixed timestamp so that the bytes depend on the model alone; the graph is its syntax tree
/// (`graph.bin`, `crate::graph_tree`) where tract writes NNEF text (`graph.nnef`).
fn write_tar(
    nnef: &tract_nnef::framework::Nnef,
    proto: &tract_nnef::ProtoModel,
) -> TractResult<Vec<u8>> {
    const TIMESTAMP: u64 = 315_532_800; // 1980-01-01, as tract's own deterministic writer
    let mut archive = tar::Builder::new(Vec::new());
    let mut append = |path: &str, data: &[u8]| -> TractResult<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(TIMESTAMP);
        archive.append_data(&mut header, path, data)?;
        Ok(())
    };
    // The tree as tract reads it back from its own text, which renames what NNEF does not
    // allow in a name (`420.0` becomes `_420_0`): the loader then builds the very graph it
    // built when the tar held that text.
    let mut text = vec![];
    tract_nnef::ast::dump::Dumper::new(nnef, &mut text).document(&proto.doc)?;
    let document = tract_nnef::ast::parse::parse_document(std::str::from_utf8(&text)?)?;
    append(
        crate::packed::GRAPH_TREE,
        &crate::graph_tree::write(&document),
    )?;
    let mut labels: Vec<&Identifier> = proto.tensors.keys().collect();
    labels.sort();
    for label in labels {
        if label.0.starts_with('/') || label.0.split('/').any(|part| part == "..") {
            bail!("tensor label {:?} is not a relative path", label.0);
        }
        let mut data = vec![];
        tract_nnef::tensors::write_tensor(&mut data, &proto.tensors[label])?;
        append(&format!("{}.dat", label.0), &data)?;
    }
    Ok(archive.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::math::{abs, max, sub};

    /// PReLU as TensorFlow writes it, `max(x, 0) + (x − |x|)·h`, on an NHWC input of four
    /// channels; `flipped` writes `|x| − x` instead, which is not a PReLU.
    fn tensorflow_prelu(half_slope: [f32; 4], flipped: bool) -> TypedModel {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact([1, 2, 3, 4])).unwrap();
        let zero = model
            .add_const("zero", Tensor::from_shape(&[1, 1, 1, 1], &[0f32]).unwrap())
            .unwrap();
        let h = model
            .add_const("h", Tensor::from_shape(&[1, 1, 1, 4], &half_slope).unwrap())
            .unwrap();
        let relu = model.wire_node("relu", max(), &[x, zero]).unwrap()[0];
        let magnitude = model.wire_node("abs", abs(), &[x]).unwrap()[0];
        let difference = if flipped {
            [magnitude, x]
        } else {
            [x, magnitude]
        };
        let negative = model.wire_node("sub", sub(), &difference).unwrap()[0];
        let scaled = model.wire_node("mul", mul(), &[negative, h]).unwrap()[0];
        let y = model.wire_node("add", add(), &[relu, scaled]).unwrap()[0];
        model.select_output_outlets(&[y]).unwrap();
        model
    }

    fn has_abs(model: &TypedModel) -> bool {
        model.eval_order().unwrap().iter().any(|&id| {
            model
                .node(id)
                .op_as::<ElementWiseOp>()
                .is_some_and(|op| op.0.is::<Abs>())
        })
    }

    fn run_optimised(model: TypedModel, input: &Tensor) -> Vec<u32> {
        let outputs = model
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap()
            .run(tvec![input.clone().into()])
            .unwrap();
        let view = outputs[0].to_plain_array_view::<f32>().unwrap();
        view.iter().map(|y| y.to_bits()).collect()
    }

    #[test]
    fn prelu_rewritten_without_abs_gives_the_same_bits() {
        // Slopes below zero, between zero and one, and above one (MobileFaceNet has all three).
        let half_slope = [-2.35, 0.125, 0.3337, 4.45];
        let values: Vec<f32> = [
            -3.7, -1e-30, -0.0, 0.0, 1e-30, 2.5, -1234.5, 0.1, -0.1, 7.0, -7.0, 1e20,
        ]
        .iter()
        .cycle()
        .zip(1..)
        .map(|(v, i)| v * (1.0 + i as f32 / 64.0))
        .take(24)
        .collect();
        let input = Tensor::from_shape(&[1, 2, 3, 4], &values).unwrap();
        let original = tensorflow_prelu(half_slope, false);
        let mut rewritten = original.clone();
        rewrite_prelu_without_abs(&mut rewritten).unwrap();
        assert!(has_abs(&original));
        assert!(!has_abs(&rewritten), "{rewritten}");
        assert_eq!(
            run_optimised(rewritten, &input),
            run_optimised(original, &input)
        );
    }

    #[test]
    fn what_is_not_a_prelu_is_left_as_it_is() {
        let mut model = tensorflow_prelu([0.5; 4], true);
        rewrite_prelu_without_abs(&mut model).unwrap();
        assert!(has_abs(&model));
    }
}
