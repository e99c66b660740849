//! YuNet's feature-pyramid upsampling (nearest neighbour, twice the sides) as one operator that
//! writes each input row twice over, each value twice. The ONNX `Resize` reaches tract as a
//! reshape of `[1, C, H, W]` to `[1, C, H, 1, W, 1]`, a tile (a broadcast, once optimised) to
//! `[1, C, H, 2, W, 2]` and a reshape to `[1, C, 2H, 2W]`; tract 0.23.9 broadcasts through a
//! six-axis strided walk, an element at a time: 1.6 ms of YuNet's 14.5 at 320 in the page, for
//! two upsamplings that write 128,000 values, 6.2 of 53 at 640. Copies only, so the same values. The packed models are unchanged: the
//! upsampling is swapped in when a model is prepared.

use tract_nnef::internal::tract_core::ops::array::{DynTile, MultiBroadcastTo, Tile};
use tract_nnef::internal::{
    AxisOp, DatumExt, EvalContext, EvalOp, IntoTValue, Op, OutletId, StaticName, TValue, TVec,
    TractResult, TypedFact, TypedModel, TypedModelPatch, TypedOp, bail, tvec,
};
use tract_nnef::prelude::{Datum, Tensor};
use tract_nnef::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// Each value of a `[1, C, H, W]` f32 tensor repeated over a 2 x 2 block: `[1, C, 2H, 2W]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DoublingUpsample;

impl Op for DoublingUpsample {
    fn name(&self) -> StaticName {
        "DoublingUpsample".into()
    }

    op_as_typed_op!();
}

impl EvalOp for DoublingUpsample {
    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let &[1, channels, height, width] = input.shape() else {
            bail!(
                "DoublingUpsample takes [1, C, H, W], not {:?}",
                input.shape()
            );
        };
        if width == 0 {
            bail!("DoublingUpsample takes rows of at least one value");
        }
        let mut output = Tensor::zero::<f32>(&[1, channels, 2 * height, 2 * width])?;
        double(
            input.try_as_plain_ram()?.as_slice::<f32>()?,
            output.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?,
            width,
        );
        Ok(tvec!(output.into_tvalue()))
    }

    op_out_of_plan!();
}

impl TypedOp for DoublingUpsample {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let Some(&[1, channels, height, width]) = inputs[0].shape.as_concrete() else {
            bail!(
                "DoublingUpsample takes [1, C, H, W], not {:?}",
                inputs[0].shape
            );
        };
        Ok(tvec!(f32::fact([1, channels, 2 * height, 2 * width])))
    }
}

/// Every row of `input` (rows of `width`) written into `output` as two rows of twice its width.
fn double(input: &[f32], output: &mut [f32], width: usize) {
    for (row, pair) in input
        .chunks_exact(width)
        .zip(output.chunks_exact_mut(4 * width))
    {
        let (top, bottom) = pair.split_at_mut(2 * width);
        for (value, out) in row.iter().zip(top.chunks_exact_mut(2)) {
            out[0] = *value;
            out[1] = *value;
        }
        bottom.copy_from_slice(top);
    }
}

/// Whether `op` keeps its input's values in order, changing only the shape they are read in.
fn reshapes(op: &AxisOp) -> bool {
    matches!(op, AxisOp::Reshape(..) | AxisOp::Add(_) | AxisOp::Rm(_))
}

/// Swaps each nearest-neighbour doubling written as reshape, tile or broadcast, reshape over a
/// `[1, C, H, W]` f32 tensor with rows (none empty) for [`DoublingUpsample`]; any other
/// broadcast is left to tract.
pub fn swap_doubling_upsamples(model: &mut TypedModel) -> TractResult<()> {
    let mut doublings = Vec::new();
    for node in model.nodes() {
        // A tile of axes of one value is the broadcast of them: the packed graph has the
        // tile, with its multipliers as a constant, which tract's optimiser makes a broadcast.
        if !(node.op_is::<MultiBroadcastTo>() || node.op_is::<DynTile>() || node.op_is::<Tile>()) {
            continue;
        }
        let concrete = |outlet: OutletId| {
            model
                .outlet_fact(outlet)
                .ok()
                .filter(|fact| fact.datum_type == f32::datum_type())
                .and_then(|fact| fact.shape.as_concrete().map(|shape| shape.to_vec()))
        };
        let split = model.node(node.inputs[0].node);
        let [merge_input] = &node.outputs[0].successors[..] else {
            continue;
        };
        let merge = model.node(merge_input.node);
        let (Some(source), Some(before), Some(after), Some(merged)) = (
            split.inputs.first().and_then(|&input| concrete(input)),
            concrete(node.inputs[0]),
            concrete(OutletId::new(node.id, 0)),
            concrete(OutletId::new(merge.id, 0)),
        ) else {
            continue;
        };
        let &[1, c, h, w] = &source[..] else {
            continue;
        };
        let is_reshape = |n: &tract_nnef::internal::TypedNode| {
            n.inputs.len() == 1 && n.op_as::<AxisOp>().is_some_and(reshapes)
        };
        let is_output = model
            .output_outlets()
            .is_ok_and(|outputs| outputs.contains(&OutletId::new(node.id, 0)));
        if w > 0
            && is_reshape(split)
            && is_reshape(merge)
            && !is_output
            && before == [1, c, h, 1, w, 1]
            && after == [1, c, h, 2, w, 2]
            && merged == [1, c, 2 * h, 2 * w]
        {
            doublings.push((split.inputs[0], merge.id));
        }
    }
    for (source, merge) in doublings {
        let mut patch = TypedModelPatch::default();
        let input = patch.tap_model(model, source)?;
        let name = &model.node(merge).name;
        let doubled = patch.wire_node(name, DoublingUpsample, &[input])?[0];
        patch.shunt_outside(model, OutletId::new(merge, 0), doubled)?;
        crate::optimizer::apply(patch, model)?;
    }
    Ok(())
}
