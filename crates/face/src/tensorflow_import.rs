//! Reading a frozen TensorFlow graph for packing (RetinaFace's, as PyPI `retinaface` ships it).
//! tract's TensorFlow importer lacks a few of the operators Keras writes and reads two others
//! otherwise than TensorFlow; each is given here, for this import alone:
//!
//! - `FusedBatchNormV3`: the same inference as `FusedBatchNorm` (V3 adds training outputs);
//! - `LeakyRelu`: tract's own leaky ReLU, with the node's `alpha`;
//! - `ResizeNearestNeighbor` to a constant size that is a whole multiple of the input's: tract's
//!   nearest upsampling (which packing then writes as tiling, `crate::pack`);
//! - `Pad` with constant paddings of any integer type (tract's reads them only as its symbolic
//!   dimensions, which Keras' `ZeroPadding2D` does not write);
//! - `Softmax` over the last axis, as TensorFlow's is (tract's flattens every axis after the
//!   first, which is the same only for `[batch, classes]`, not RetinaFace's `[1, anchors, 2]`);
//! - `Pack` with a negative axis (Keras writes -1 for stacking scalars into a shape), counted
//!   from the end as TensorFlow counts it.
//!
//! The graph is cut at the named outputs before tract types it, so that what follows them
//! (RetinaFace's box decoding and non-maximum suppression, which the pipeline does itself) is
//! never read.

use tract_tensorflow::tfpb::tensorflow::{GraphDef, attr_value::Value};
use tract_tensorflow::tract_hir::internal::{
    DatumExt, Expansion, Framework, Hash, InferenceModelExt, InferenceResult, IntoArcTensor,
    OutletId, Solver, SpecialOps, StaticName, TVec, Tensor, TensorProxy, ToDim, TractErrorContext,
    TractResult, TypedModel, bail, check_input_arity, check_output_arity, expand, tvec,
};
use tract_tensorflow::tract_hir::ops::activations::LeakyRelu;
use tract_tensorflow::tract_hir::ops::nn::LayerSoftmax;
use tract_tensorflow::tract_hir::tract_core::ops::array::{Pad, PadMode};
use tract_tensorflow::tract_hir::tract_core::ops::nn::NearestUpsample;

/// The graph in `bytes`, its input fixed to `input` (float32), cut at `outputs`, typed and
/// simplified.
pub(crate) fn import(bytes: &[u8], input: &[usize], outputs: &[&str]) -> TractResult<TypedModel> {
    let mut tensorflow = tract_tensorflow::tensorflow();
    let register = &mut tensorflow.op_register;
    register.insert(
        "FusedBatchNormV3",
        tract_tensorflow::ops::nn::fused_batch_norm::fused_batch_norm,
    );
    register.insert("LeakyRelu", |_, node| {
        Ok(expand(LeakyRelu(node.get_attr_float::<f32>("alpha")?)))
    });
    register.insert("ResizeNearestNeighbor", |_, _| Ok(expand(NearestResize)));
    register.insert("Pad", |_, _| Ok(expand(ConstantPad)));
    register.insert("Softmax", |_, _| Ok(expand(LayerSoftmax::new(-1, false))));
    let mut graph: GraphDef = tensorflow.proto_model_for_read(&mut &bytes[..])?;
    count_negative_pack_axes_from_the_end(&mut graph);
    let mut model = tensorflow.model_for_proto_model(&graph)?;
    model.select_outputs_by_name(outputs)?;
    model.compact()?;
    model.set_input_fact(0, f32::fact(input).into())?;
    model.into_typed()?.into_decluttered()
}

/// A `Pack` of scalars along axis -1 stacks them along axis 0 (the new axis is the only one);
/// tract reads the axis unsigned. Every negative `Pack` axis in the graph is of that kind,
/// which the typing of the graph then checks: a wrong axis gives shapes that do not unify.
fn count_negative_pack_axes_from_the_end(graph: &mut GraphDef) {
    for node in graph.node.iter_mut().filter(|n| n.op == "Pack") {
        if let Some(Value::I(axis)) = node.attr.get_mut("axis").and_then(|a| a.value.as_mut())
            && *axis < 0
        {
            *axis += 1;
        }
    }
}

fn constant_of(model: &TypedModel, wire: OutletId, what: &str) -> TractResult<Vec<i64>> {
    let value = model
        .outlet_fact(wire)?
        .konst
        .clone()
        .with_context(|| format!("{what} is not constant"))?;
    integers(&value)
}

fn integers(tensor: &Tensor) -> TractResult<Vec<i64>> {
    let cast = tensor.cast_to::<i64>()?;
    Ok(cast.to_plain_array_view::<i64>()?.iter().copied().collect())
}

/// TensorFlow's `Pad` (zeros) with constant paddings, `[rank, 2]` of any integer type.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct ConstantPad;

impl Expansion for ConstantPad {
    fn name(&self) -> StaticName {
        "ConstantPad".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, &inputs[0].datum_type)?;
        s.equals(&outputs[0].rank, &inputs[0].rank)?;
        s.given_2(
            &inputs[0].shape,
            &inputs[1].value,
            move |s, shape, paddings| {
                let paddings = integers(&paddings)?;
                for (axis, dim) in shape.iter().enumerate() {
                    let padded = dim.clone() + paddings[2 * axis] + paddings[2 * axis + 1];
                    s.equals(&outputs[0].shape[axis], padded)?;
                }
                Ok(())
            },
        )
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let paddings = constant_of(model, inputs[1], "a Pad's paddings")?;
        let pads = paddings
            .chunks_exact(2)
            .map(|p| Ok((usize::try_from(p[0])?, usize::try_from(p[1])?)))
            .collect::<TractResult<Vec<_>>>()?;
        let datum_type = model.outlet_fact(inputs[0])?.datum_type;
        let zero = Tensor::zero_scalar_dt(datum_type)?.into_arc_tensor();
        model.wire_node(
            prefix,
            Pad {
                pads,
                mode: PadMode::Constant(zero),
            },
            &[inputs[0]],
        )
    }
}

/// TensorFlow's `ResizeNearestNeighbor` of an NHWC tensor to a constant size that is a whole
/// multiple of its own (a feature pyramid's upsampling by two). For a whole scale every output
/// pixel takes the input pixel it falls in, with or without half-pixel centres.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct NearestResize;

impl Expansion for NearestResize {
    fn name(&self) -> StaticName {
        "NearestResize".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, &inputs[0].datum_type)?;
        s.equals(&inputs[0].rank, 4)?;
        s.equals(&outputs[0].rank, 4)?;
        s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
        s.equals(&outputs[0].shape[3], &inputs[0].shape[3])?;
        s.given(&inputs[1].value, move |s, size| {
            let size = integers(&size)?;
            s.equals(&outputs[0].shape[1], size[0].to_dim())?;
            s.equals(&outputs[0].shape[2], size[1].to_dim())?;
            Ok(())
        })
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let size = constant_of(model, inputs[1], "a resize's size")?;
        let shape = model
            .outlet_fact(inputs[0])?
            .shape
            .as_concrete()
            .map(<[usize]>::to_vec);
        let shape = shape.context("a resize's input has no fixed shape")?;
        let mut scales = tvec![1usize; 4];
        for (axis, &wanted) in [1, 2].iter().zip(&size) {
            let from = shape[*axis];
            let wanted = usize::try_from(wanted)?;
            if from == 0 || wanted % from != 0 {
                bail!("resizing {from} to {wanted} is not by a whole scale");
            }
            scales[*axis] = wanted / from;
        }
        model.wire_node(prefix, NearestUpsample { scales }, &[inputs[0]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_tensorflow::tfpb::tensorflow::{AttrValue, NodeDef};

    fn pack(name: &str, axis: i64) -> NodeDef {
        let mut node = NodeDef {
            name: name.into(),
            op: "Pack".into(),
            ..NodeDef::default()
        };
        let value = AttrValue {
            value: Some(Value::I(axis)),
        };
        node.attr.insert("axis".into(), value);
        node
    }

    #[test]
    fn a_pack_of_scalars_along_the_last_axis_packs_along_the_first() {
        let mut graph = GraphDef {
            node: vec![pack("shape", -1), pack("kept", 1)],
            ..GraphDef::default()
        };
        count_negative_pack_axes_from_the_end(&mut graph);
        let axis = |i: usize| graph.node[i].attr["axis"].value.clone();
        assert_eq!(axis(0), Some(Value::I(0)));
        assert_eq!(axis(1), Some(Value::I(1)));
    }
}
