//! MobileFaceNet's PReLU, `max(x, 0) + min(x, 0)·a` as packed (`crate::pack`), run as one pass
//! over the layer's output: each negative value times its channel's slope, in place. tract
//! fuses the packed form into two element-wise chains, two sweeps and a new tensor per layer:
//! 3.8 of MobileFaceNet's 34.8 ms in the page (tract's own timing of each node, in the browser).
//! The values are the same: for x < 0 both are the one rounded product x·a (plus a zero), for
//! x >= 0 both are x (plus a zero), so only the sign of a zero can differ, which no later layer
//! can tell apart. The packed models are unchanged: the pattern is swapped when a model is
//! prepared.

use std::hash::{Hash, Hasher};

use tract_nnef::internal::tract_core::ops::binary::{BinMiniOp, TypedBinOp};
use tract_nnef::internal::tract_core::ops::cast::Cast;
use tract_nnef::internal::tract_core::ops::math::{Add, Max, Min, Mul};
use tract_nnef::internal::{
    EvalContext, EvalOp, Op, OutletId, StaticName, TValue, TVec, TractResult, TypedFact,
    TypedModel, TypedModelPatch, TypedNode, TypedOp, bail, tvec,
};
use tract_nnef::prelude::{Datum, IntoTValue, IntoTensor};
use tract_nnef::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// `x` where `x` is not negative, else `x` times its channel's slope; channels last.
#[derive(Debug, Clone)]
pub struct OnePassPrelu {
    slopes: Vec<f32>,
}

impl PartialEq for OnePassPrelu {
    fn eq(&self, other: &Self) -> bool {
        self.slopes
            .iter()
            .map(|s| s.to_bits())
            .eq(other.slopes.iter().map(|s| s.to_bits()))
    }
}

impl Eq for OnePassPrelu {}

impl Hash for OnePassPrelu {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.slopes.iter().for_each(|s| s.to_bits().hash(state));
    }
}

impl Op for OnePassPrelu {
    fn name(&self) -> StaticName {
        "OnePassPrelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for OnePassPrelu {
    fn eval(&self, _: &EvalContext, mut inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        if self.slopes.is_empty() {
            bail!("OnePassPrelu has no slopes");
        }
        // In place where the input is this op's alone (it is: the layer's output).
        let mut values = inputs.remove(0).into_tensor();
        let mut plain = values.try_as_plain_ram_mut()?;
        for pixel in plain
            .as_slice_mut::<f32>()?
            .chunks_exact_mut(self.slopes.len())
        {
            scale_negatives(pixel, &self.slopes);
        }
        Ok(tvec!(values.into_tvalue()))
    }

    op_out_of_plan!();
}

impl TypedOp for OnePassPrelu {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].without_value()))
    }
}

/// Each negative value of `pixel` times its channel's slope. Without a branch: the signs of a
/// layer's outputs are as good as random, and a branch per value cost more than the multiply.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn scale_negatives(pixel: &mut [f32], slopes: &[f32]) {
    for (value, slope) in pixel.iter_mut().zip(slopes) {
        *value = if *value < 0.0 { *value * slope } else { *value };
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn scale_negatives(pixel: &mut [f32], slopes: &[f32]) {
    use core::arch::wasm32::{f32x4_lt, f32x4_mul, f32x4_splat, v128, v128_bitselect};
    let blocks = pixel.len().min(slopes.len()) / 4;
    for block in 0..blocks {
        // SAFETY: 4 · block + 4 <= both lengths; unaligned loads and stores are allowed.
        unsafe {
            let at = pixel.as_mut_ptr().add(4 * block).cast::<v128>();
            let value = at.read_unaligned();
            let slope = slopes
                .as_ptr()
                .add(4 * block)
                .cast::<v128>()
                .read_unaligned();
            let negative = f32x4_lt(value, f32x4_splat(0.0));
            at.write_unaligned(v128_bitselect(f32x4_mul(value, slope), value, negative));
        }
    }
    for (value, slope) in pixel[4 * blocks..].iter_mut().zip(&slopes[4 * blocks..]) {
        *value = if *value < 0.0 { *value * slope } else { *value };
    }
}

/// The binary operator of `node`, if it is one of kind `B`.
fn binary<B: BinMiniOp>(node: &TypedNode) -> Option<&TypedBinOp> {
    node.op_as::<TypedBinOp>().filter(|op| op.0.is::<B>())
}

/// The values of a constant outlet.
fn constant(model: &TypedModel, outlet: OutletId) -> Option<Vec<f32>> {
    let fact = model.outlet_fact(outlet).ok()?;
    let tensor = fact.konst.as_ref()?;
    let view = tensor.to_plain_array_view::<f32>().ok()?;
    Some(view.iter().copied().collect())
}

/// The outlet `outlet` stands for once casts to the type it already has are skipped (the
/// packed graph, not decluttered, keeps TensorFlow Lite's), and whether every node skipped, and
/// the one reached, is read by one node alone.
fn through_casts(model: &TypedModel, mut outlet: OutletId) -> Option<(OutletId, bool)> {
    let mut read_once = true;
    loop {
        let node = &model.nodes()[outlet.node];
        read_once &= outlet.slot == 0 && node.outputs[0].successors.len() == 1;
        let Some(cast) = node.op_as::<Cast>() else {
            return Some((outlet, read_once));
        };
        let input = *node.inputs.first()?;
        if model.outlet_fact(input).ok()?.datum_type != cast.to {
            return Some((outlet, read_once));
        }
        outlet = input;
    }
}

/// The PReLU `add(max(x, 0), mul(min(x, 0), a))` ending at `add`: its `x` and slopes, where
/// `a` holds one slope per channel of `x` (its last axis) and nothing else reads the parts.
fn prelu_at(model: &TypedModel, add: &TypedNode) -> Option<(OutletId, Vec<f32>)> {
    binary::<Add>(add)?;
    let [first, second] = &add.inputs[..] else {
        return None;
    };
    let (first, first_once) = through_casts(model, *first)?;
    let (second, second_once) = through_casts(model, *second)?;
    let node = |outlet: OutletId| &model.nodes()[outlet.node];
    let (max, mul) = if binary::<Max>(node(first)).is_some() {
        (node(first), node(second))
    } else {
        (node(second), node(first))
    };
    binary::<Max>(max)?;
    binary::<Mul>(mul)?;
    let zero = |outlet: OutletId| {
        through_casts(model, outlet)
            .and_then(|(outlet, _)| constant(model, outlet))
            .is_some_and(|values| values.iter().all(|&v| v == 0.0))
    };
    let [x, max_zero] = &max.inputs[..] else {
        return None;
    };
    let [min, slopes] = &mul.inputs[..] else {
        return None;
    };
    let (min, min_once) = through_casts(model, *min)?;
    let min = node(min);
    binary::<Min>(min)?;
    let [min_x, min_zero] = &min.inputs[..] else {
        return None;
    };
    let x = through_casts(model, *x)?.0;
    let (slopes, _) = through_casts(model, *slopes)?;
    let x_fact = model.outlet_fact(x).ok()?;
    let channels = *x_fact.shape.as_concrete()?.last().filter(|&&c| c > 0)?;
    let slopes_fact = model.outlet_fact(slopes).ok()?;
    let per_channel = slopes_fact.shape.as_concrete().is_some_and(|shape| {
        shape.len() <= x_fact.rank()
            && shape.last() == Some(&channels)
            && shape[..shape.len() - 1].iter().all(|&d| d == 1)
    });
    (through_casts(model, *min_x)?.0 == x
        && x_fact.datum_type == f32::datum_type()
        && zero(*max_zero)
        && zero(*min_zero)
        && per_channel
        && first_once
        && second_once
        && min_once)
        .then_some(())?;
    Some((x, constant(model, slopes)?))
}

/// Swaps each PReLU written as `max(x, 0) + min(x, 0)·a`, with one slope per channel (the last
/// axis), for [`OnePassPrelu`]; anything else is left to tract.
pub fn swap_one_pass_prelus(model: &mut TypedModel) -> TractResult<()> {
    let found: Vec<(usize, OutletId, Vec<f32>)> = model
        .nodes()
        .iter()
        .filter_map(|node| prelu_at(model, node).map(|(x, slopes)| (node.id, x, slopes)))
        .collect();
    for (add, x, slopes) in found {
        let mut patch = TypedModelPatch::default();
        let input = patch.tap_model(model, x)?;
        let name = &model.nodes()[add].name;
        let fused = patch.wire_node(name, OnePassPrelu { slopes }, &[input])?[0];
        patch.shunt_outside(model, OutletId::new(add, 0), fused)?;
        patch.apply(model)?;
    }
    Ok(())
}
