//! YuNet's 2 x 2 max pooling at stride 2 (channels first), as one operator that halves each
//! channel's plane row pair by row pair. The packed YuNet's poolings also ask for the maxima's
//! indices, which nothing reads (tract's decluttering would drop them; the packed graph is
//! prepared without it), and tract 0.23.9 then pools one output at a time (bounds-checked
//! taps, `f32::max`, which WebAssembly has no single instruction for): the four poolings were a
//! fifth of YuNet's time natively (1.3 of 7.0 ms at 320), more in the page. Here a row pair's
//! vertical maxima come four at a time, then each neighbouring pair's (`pmax`, "the second
//! where the first is less", tract's own comparison, so the same values). The packed models
//! are unchanged: the pooling is swapped in when a model is prepared.

use tract_nnef::internal::tract_core::ops::cnn::{MaxPool, PaddingSpec};
use tract_nnef::internal::tract_core::ops::nn::DataFormat;
use tract_nnef::internal::{
    DatumExt, EvalContext, EvalOp, IntoTValue, Op, OutletId, StaticName, TValue, TVec, TractResult,
    TypedFact, TypedModel, TypedModelPatch, TypedOp, bail, tvec,
};
use tract_nnef::prelude::{Datum, Tensor};
use tract_nnef::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// `max` over each 2 x 2 block of a `[1, C, H, W]` f32 tensor of even `H` and `W`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HalvingMaxPool;

impl Op for HalvingMaxPool {
    fn name(&self) -> StaticName {
        "HalvingMaxPool".into()
    }

    op_as_typed_op!();
}

impl EvalOp for HalvingMaxPool {
    fn eval(&self, _: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = &inputs[0];
        let &[1, channels, height, width] = input.shape() else {
            bail!("HalvingMaxPool takes [1, C, H, W], not {:?}", input.shape());
        };
        if width == 0 || width % 2 == 1 || height % 2 == 1 {
            bail!("HalvingMaxPool takes even sides, not {height} x {width}");
        }
        let mut output = Tensor::zero::<f32>(&[1, channels, height / 2, width / 2])?;
        halve(
            input.try_as_plain_ram()?.as_slice::<f32>()?,
            output.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?,
            width,
        );
        Ok(tvec!(output.into_tvalue()))
    }

    op_out_of_plan!();
}

impl TypedOp for HalvingMaxPool {
    as_op!();

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let Some(&[1, channels, height, width]) = inputs[0].shape.as_concrete() else {
            bail!(
                "HalvingMaxPool takes [1, C, H, W], not {:?}",
                inputs[0].shape
            );
        };
        Ok(tvec!(f32::fact([1, channels, height / 2, width / 2])))
    }
}

/// Every plane of `input` (rows of `width`) halved into `output`: a row pair at a time.
fn halve(input: &[f32], output: &mut [f32], width: usize) {
    for (pair, out) in input
        .chunks_exact(2 * width)
        .zip(output.chunks_exact_mut(width / 2))
    {
        let (top, bottom) = pair.split_at(width);
        halve_row_pair(top, bottom, out);
    }
}

/// `a` where `a` is not less than `b`, else `b`: tract's comparison in its max pooling.
#[inline]
fn pmax(a: f32, b: f32) -> f32 {
    if a < b { b } else { a }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn halve_row_pair(top: &[f32], bottom: &[f32], out: &mut [f32]) {
    for ((out, top), bottom) in out
        .iter_mut()
        .zip(top.chunks_exact(2))
        .zip(bottom.chunks_exact(2))
    {
        *out = pmax(pmax(top[0], top[1]), pmax(bottom[0], bottom[1]));
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn halve_row_pair(top: &[f32], bottom: &[f32], out: &mut [f32]) {
    use core::arch::wasm32::{f32x4_pmax, i32x4_shuffle, v128, v128_load, v128_store};
    let blocks = out.len() / 4;
    for block in 0..blocks {
        // SAFETY: block < out.len() / 4, and top and bottom hold 2 · out.len() values.
        unsafe {
            let at = |row: &[f32], half: usize| {
                v128_load(row.as_ptr().add(8 * block + 4 * half).cast::<v128>())
            };
            let first = f32x4_pmax(at(top, 0), at(bottom, 0));
            let second = f32x4_pmax(at(top, 1), at(bottom, 1));
            let even = i32x4_shuffle::<0, 2, 4, 6>(first, second);
            let odd = i32x4_shuffle::<1, 3, 5, 7>(first, second);
            v128_store(
                out.as_mut_ptr().add(4 * block).cast::<v128>(),
                f32x4_pmax(even, odd),
            );
        }
    }
    for x in 4 * blocks..out.len() {
        out[x] = pmax(
            pmax(top[2 * x], bottom[2 * x]),
            pmax(top[2 * x + 1], bottom[2 * x + 1]),
        );
    }
}

/// Swaps each 2 x 2 max pooling at stride 2 over `[1, C, H, W]` f32 of even sides, none empty
/// (no padding, no indices read) for [`HalvingMaxPool`]; any other pooling is left to tract.
pub fn swap_halving_max_pools(model: &mut TypedModel) -> TractResult<()> {
    let halving: Vec<usize> = model
        .nodes()
        .iter()
        .filter(|node| {
            let Some(pool) = node.op_as::<MaxPool>() else {
                return false;
            };
            let spec = &pool.pool_spec;
            let no_padding = match &spec.padding {
                PaddingSpec::Valid => true,
                PaddingSpec::Explicit(before, after)
                | PaddingSpec::ExplicitOnnxPool(before, after, _) => {
                    before.iter().chain(after).all(|&p| p == 0)
                }
                _ => false,
            };
            let input = model.outlet_fact(node.inputs[0]).ok();
            let even_nchw = input.is_some_and(|fact| {
                fact.datum_type == f32::datum_type()
                    && matches!(
                        fact.shape.as_concrete(),
                        Some(&[1, _, h, w]) if h > 0 && w > 0 && h % 2 == 0 && w % 2 == 0
                    )
            });
            // The packed YuNet's poolings give the maxima's indices too, which nothing reads
            // (tract's decluttering, which the packed graph skips, would drop them).
            let indices_unread = pool.with_index_outputs.is_none()
                || node.outputs.get(1).is_some_and(|indices| {
                    indices.successors.is_empty()
                        && !model
                            .output_outlets()
                            .is_ok_and(|outputs| outputs.contains(&OutletId::new(node.id, 1)))
                });
            indices_unread
                && spec.data_format == DataFormat::NCHW
                && spec.kernel_shape[..] == [2, 2]
                && spec.strides.as_deref() == Some(&[2, 2][..])
                && spec
                    .dilations
                    .as_deref()
                    .is_none_or(|d| d.iter().all(|&d| d == 1))
                && no_padding
                && even_nchw
        })
        .map(|node| node.id)
        .collect();
    for id in halving {
        let node = &model.nodes()[id];
        let mut patch = TypedModelPatch::default();
        let input = patch.tap_model(model, node.inputs[0])?;
        let halved = patch.wire_node(&node.name, HalvingMaxPool, &[input])?[0];
        patch.shunt_outside(model, OutletId::new(id, 0), halved)?;
        crate::optimizer::apply(patch, model)?;
    }
    Ok(())
}
