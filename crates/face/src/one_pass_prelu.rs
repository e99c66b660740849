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
    TypedModel, TypedModelPatch, TypedNode, TypedOp, tvec,
};
use tract_nnef::prelude::{Datum, IntoTValue, IntoTensor};

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

    fn as_typed(&self) -> Option<&dyn TypedOp> {
        Some(self)
    }
}

impl EvalOp for OnePassPrelu {
    fn eval(&self, _: &EvalContext, mut inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
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

    fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
        Ok(Some(self.eval(&EvalContext::out_of_plan(), inputs)?))
    }
}

impl TypedOp for OnePassPrelu {
    fn as_op(&self) -> &dyn Op {
        self
    }

    fn as_op_mut(&mut self) -> &mut dyn Op {
        self
    }

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
    let channels = *x_fact.shape.as_concrete()?.last()?;
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

#[cfg(test)]
mod tests {
    use tract_nnef::internal::tract_core::ops::change_axes::wire_with_rank_broadcast;
    use tract_nnef::internal::tract_core::ops::math;
    use tract_nnef::prelude::{DatumExt, IntoRunnable, SpecialOps, Tensor, tensor1};

    use super::*;

    /// `max(x, 0) + min(x, 0)·slopes` over `shape` (channels last), as packed; with `casts`,
    /// each part behind a cast to f32, as the packed MobileFaceNet has them.
    fn prelu_graph(shape: &[usize], slopes: &[f32], casts: bool) -> TypedModel {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let rank = shape.len();
        let zero = model
            .add_const("zero", Tensor::zero::<f32>(&vec![1; rank]).unwrap())
            .unwrap();
        let mut slope_shape = vec![1; rank];
        slope_shape[rank - 1] = slopes.len();
        let slopes = model
            .add_const("slopes", tensor1(slopes).into_shape(&slope_shape).unwrap())
            .unwrap();
        let wire = |model: &mut TypedModel, name: &str, op: TypedBinOp, a, b| {
            let out = wire_with_rank_broadcast(name, model, op, &[a, b]).unwrap()[0];
            if casts {
                let cast = Cast {
                    to: f32::datum_type(),
                };
                model
                    .wire_node(format!("{name}.cast"), cast, &[out])
                    .unwrap()[0]
            } else {
                out
            }
        };
        let max = wire(&mut model, "max", math::max(), x, zero);
        let min = wire(&mut model, "min", math::min(), x, zero);
        let mul = wire(&mut model, "mul", math::mul(), min, slopes);
        let add = wire(&mut model, "add", math::add(), max, mul);
        model.select_output_outlets(&[add]).unwrap();
        model
    }

    fn run(model: TypedModel, input: &Tensor) -> Vec<u32> {
        let out = model
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap()
            .run(tvec!(input.clone().into_tvalue()))
            .unwrap();
        let view = out[0].to_plain_array_view::<f32>().unwrap();
        view.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn one_pass_gives_the_packed_forms_values() {
        // Slopes below 0, in (0, 1), above 1 and 0, as MobileFaceNet's; values of both
        // signs, +0, tiny and huge; NHWC and HWC layouts, as in the network.
        let slopes = [-0.8, 0.25, 1.0, 2.7, 0.0, -3.1, 0.6];
        for (shape, casts) in [(vec![1, 3, 5, 7], true), (vec![4, 6, 7], false)] {
            let count: usize = shape.iter().product();
            let values: Vec<f32> = (0..count)
                .map(|i| match i % 9 {
                    0 => 0.0,
                    1 => -1e-30,
                    2 => 3e30,
                    3 => -3e30,
                    _ => ((i * 7919) % 1009) as f32 / 13.0 - 38.0,
                })
                .collect();
            let input = tensor1(&values).into_shape(&shape).unwrap();
            let packed = prelu_graph(&shape, &slopes, casts);
            let mut swapped = packed.clone();
            swap_one_pass_prelus(&mut swapped).unwrap();
            assert!(swapped.nodes().iter().any(|n| n.op_is::<OnePassPrelu>()));
            let (want, got) = (run(packed, &input), run(swapped, &input));
            // The same values; a zero may differ only in its sign.
            for (want, got) in want.iter().zip(&got) {
                let (w, g) = (f32::from_bits(*want), f32::from_bits(*got));
                assert!(want == got || (w == 0.0 && g == 0.0), "{w} against {g}");
            }
        }
    }

    #[test]
    fn what_is_not_a_prelu_is_left_to_tract() {
        // One slope for every channel of a wider tensor is not per channel of the last axis.
        let mut model = prelu_graph(&[2, 3, 4], &[0.5], false);
        swap_one_pass_prelus(&mut model).unwrap();
        assert!(!model.nodes().iter().any(|n| n.op_is::<OnePassPrelu>()));
        // `max(x, 1)`: not the zero a PReLU compares with.
        let mut model = prelu_graph(&[2, 3], &[0.5, 0.5, 0.5], false);
        let one = model
            .add_const("one", Tensor::from(1f32).broadcast_into_rank(2).unwrap())
            .unwrap();
        let max = model.node_by_name("max").unwrap().id;
        model
            .add_edge(one, tract_nnef::internal::InletId::new(max, 1))
            .unwrap();
        swap_one_pass_prelus(&mut model).unwrap();
        assert!(!model.nodes().iter().any(|n| n.op_is::<OnePassPrelu>()));
    }
}
