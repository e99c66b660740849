//! The operators swapped in when a model is prepared (`cf_face::halving_pool`,
//! `cf_face::doubling_upsample`, `cf_face::one_pass_prelu`), each beside tract's own on a graph of its own: the cases the
//! native tests (tests/swapped_ops.rs) and the browser's (tests/wasm_parity.rs, where the
//! simd128 paths run) both check.

use cf_face::doubling_upsample::{DoublingUpsample, swap_doubling_upsamples};
use cf_face::halving_pool::{HalvingMaxPool, swap_halving_max_pools};
use cf_face::one_pass_prelu::{OnePassPrelu, swap_one_pass_prelus};
use tract_nnef::internal::tract_core::ops::array::{DynTile, MultiBroadcastTo};
use tract_nnef::internal::tract_core::ops::binary::TypedBinOp;
use tract_nnef::internal::tract_core::ops::cast::Cast;
use tract_nnef::internal::tract_core::ops::change_axes::wire_with_rank_broadcast;
use tract_nnef::internal::tract_core::ops::cnn::{MaxPool, PaddingSpec, PoolSpec};
use tract_nnef::internal::tract_core::ops::math;
use tract_nnef::internal::tract_core::ops::nn::DataFormat;
use tract_nnef::internal::{AxisOp, Op, ShapeFact, TDim, TractResult};
use tract_nnef::prelude::{
    Datum, DatumExt, IntoRunnable, IntoTValue, SpecialOps, Tensor, TypedModel, tensor1, tvec,
};

/// Values of both signs, +0, tiny and huge, and ties: what a layer's output may hold.
pub fn layer_values(count: usize) -> Vec<f32> {
    (0..count)
        .map(|i| match i % 11 {
            0 => 0.0,
            1 => -1e-30,
            2 => 3e30,
            3 => -3e30,
            4 | 5 => 3.5,
            _ => ((i * 7919) % 1009) as f32 / 13.0 - 38.0,
        })
        .collect()
}

/// `model` run on `input`: its output's values.
fn run(model: TypedModel, input: &Tensor) -> Vec<f32> {
    let out = model
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap()
        .run(tvec!(input.clone().into_tvalue()))
        .unwrap();
    let view = out[0].to_plain_array_view::<f32>().unwrap();
    view.iter().copied().collect()
}

/// What tract and the swapped model give, and whether the swap happened.
pub struct Outcome {
    pub tracts: Vec<f32>,
    pub swapped: Vec<f32>,
    pub was_swapped: bool,
}

impl Outcome {
    /// `model` run on `input` by tract, then again after `swap`, which should bring in `O`.
    fn of<O: Op>(
        mut model: TypedModel,
        input: &Tensor,
        swap: fn(&mut TypedModel) -> TractResult<()>,
    ) -> Outcome {
        let tracts = run(model.clone(), input);
        swap(&mut model).unwrap();
        let was_swapped = model.nodes().iter().any(|n| n.op_is::<O>());
        Outcome {
            tracts,
            swapped: run(model, input),
            was_swapped,
        }
    }

    /// The same values, bit for bit.
    pub fn assert_same_bits(&self, case: &str) {
        let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&self.tracts), bits(&self.swapped), "{case}");
    }

    /// The same values; a zero may differ in its sign only, which no later layer tells apart.
    pub fn assert_same_values(&self, case: &str) {
        assert_eq!(self.tracts.len(), self.swapped.len(), "{case}");
        for (want, got) in self.tracts.iter().zip(&self.swapped) {
            assert!(
                want.to_bits() == got.to_bits() || (*want == 0.0 && *got == 0.0),
                "{case}: {want} against {got}"
            );
        }
    }
}

/// A 2 x 2 max pooling at stride 2 over `[1, c, h, w]`, with the maxima's indices asked for and
/// unread where `with_indices` (as the packed YuNet has it), by tract and swapped.
pub fn pooling([c, h, w]: [usize; 3], with_indices: bool) -> Outcome {
    let input = tensor1(&layer_values(c * h * w))
        .into_shape(&[1, c, h, w])
        .unwrap();
    let mut model = TypedModel::default();
    let source = model.add_source("input", f32::fact([1, c, h, w])).unwrap();
    let pool = MaxPool {
        pool_spec: PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: tvec!(2, 2),
            padding: PaddingSpec::Valid,
            dilations: None,
            strides: Some(tvec!(2, 2)),
            input_channels: c,
            output_channels: c,
        },
        with_index_outputs: with_indices.then_some(i64::datum_type()),
    };
    let pooled = model.wire_node("pool", pool, &[source]).unwrap();
    model.select_output_outlets(&pooled[..1]).unwrap();
    Outcome::of::<HalvingMaxPool>(model, &input, swap_halving_max_pools)
}

/// A nearest-neighbour upsampling of `[1, c, h, w]` by `factor` as YuNet's `Resize` reaches
/// tract (a reshape to `[1, c, h, 1, w, 1]`, a broadcast to `[1, c, h, f, w, f]`, a reshape to
/// `[1, c, f·h, f·w]`), by tract and swapped; with `packed`, the broadcast is the tile by
/// constant multipliers the packed graph has (tract's optimiser makes it the broadcast).
pub fn upsampling([c, h, w]: [usize; 3], factor: usize, packed: bool) -> Outcome {
    let input = tensor1(&layer_values(c * h * w))
        .into_shape(&[1, c, h, w])
        .unwrap();
    let mut model = TypedModel::default();
    let source = model.add_source("input", f32::fact([1, c, h, w])).unwrap();
    let dims = |d: &[usize]| d.iter().map(|&d| TDim::from(d)).collect();
    let split = AxisOp::Reshape(2, dims(&[h, w]), dims(&[h, 1, w, 1]));
    let split = model.wire_node("split", split, &[source]).unwrap();
    let tiled = if packed {
        let multipliers = tensor1(&[1i64, 1, 1, factor as i64, 1, factor as i64]);
        let multipliers = model.add_const("multipliers", multipliers).unwrap();
        let tile = DynTile::new(&model.symbols, 6);
        model
            .wire_node("tile", tile, &[split[0], multipliers])
            .unwrap()
    } else {
        let tile = MultiBroadcastTo {
            shape: ShapeFact::from_dims(dims(&[1, c, h, factor, w, factor])),
        };
        model.wire_node("tile", tile, &split).unwrap()
    };
    let merge = AxisOp::Reshape(
        2,
        dims(&[h, factor, w, factor]),
        dims(&[factor * h, factor * w]),
    );
    let merged = model.wire_node("merge", merge, &tiled).unwrap();
    model.select_output_outlets(&merged).unwrap();
    Outcome::of::<DoublingUpsample>(model, &input, swap_doubling_upsamples)
}

/// `max(x, 0) + min(x, 0)·slopes` over `shape` (channels last) as packed, by tract and
/// swapped; with `casts`, each part behind a cast to f32, as the packed MobileFaceNet has them.
pub fn prelu(shape: &[usize], slopes: &[f32], casts: bool) -> Outcome {
    let input = tensor1(&layer_values(shape.iter().product()))
        .into_shape(shape)
        .unwrap();
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
        if !casts {
            return out;
        }
        let cast = Cast {
            to: f32::datum_type(),
        };
        model
            .wire_node(format!("{name}.cast"), cast, &[out])
            .unwrap()[0]
    };
    let max = wire(&mut model, "max", math::max(), x, zero);
    let min = wire(&mut model, "min", math::min(), x, zero);
    let mul = wire(&mut model, "mul", math::mul(), min, slopes);
    let add = wire(&mut model, "add", math::add(), max, mul);
    model.select_output_outlets(&[add]).unwrap();
    Outcome::of::<OnePassPrelu>(model, &input, swap_one_pass_prelus)
}

/// Slopes below 0, in (0, 1), 1, above 1 and 0, as MobileFaceNet's; seven of them, so that a
/// pixel is a vector block of four and a tail.
pub const SLOPES: [f32; 7] = [-0.8, 0.25, 1.0, 2.7, 0.0, -3.1, 0.6];
