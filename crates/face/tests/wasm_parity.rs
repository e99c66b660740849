//! The browser path proven: in headless Chromium (wasm-bindgen-test), decode, detect, landmarks,
//! alignment and embedding of a real photo give the vectors the native pipeline gives, within
//! 1e-4 cosine, for every network; the time of each stage is printed beside native's by
//! scripts/test.sh (a figure to read, not a timed assertion).
//!
//! A browser test has no file system, so the models, the photo and the native vectors are
//! compiled in: scripts/test.sh fetches the models (CF_MODELS), the photos (CF_TEST_PHOTOS) and
//! writes `cfaces embed` output per network into CF_PARITY before building this test.
#![cfg(target_arch = "wasm32")]

use cf_face::{Face, FaceError, FacePipeline, Network, NetworkSpec, Photo};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const PHOTO: &[u8] = include_bytes!(concat!(env!("CF_TEST_PHOTOS"), "/obama.jpg"));

fn model(file: &str) -> Result<Vec<u8>, FaceError> {
    let bytes: &[u8] = match file {
        "yunet-320.nnef.tar" => include_bytes!(concat!(env!("CF_MODELS"), "/yunet-320.nnef.tar")),
        "yunet-640.nnef.tar" => include_bytes!(concat!(env!("CF_MODELS"), "/yunet-640.nnef.tar")),
        "fr_landmark.nnef.tar" => {
            include_bytes!(concat!(env!("CF_MODELS"), "/fr_landmark.nnef.tar"))
        }
        "fr_feature.nnef.tar" => include_bytes!(concat!(env!("CF_MODELS"), "/fr_feature.nnef.tar")),
        "fr_age.nnef.tar" => include_bytes!(concat!(env!("CF_MODELS"), "/fr_age.nnef.tar")),
        "fr_gender.nnef.tar" => include_bytes!(concat!(env!("CF_MODELS"), "/fr_gender.nnef.tar")),
        "mobilefacenet.nnef.tar" => {
            include_bytes!(concat!(env!("CF_MODELS"), "/mobilefacenet.nnef.tar"))
        }
        other => {
            return Err(FaceError::Model {
                model: other.into(),
                reason: "not compiled into this test".into(),
            });
        }
    };
    Ok(bytes.to_vec())
}

fn native_vectors(network: &str) -> Vec<Vec<f32>> {
    let json = match network {
        "mobilefacenet192" => include_str!(concat!(env!("CF_PARITY"), "/mobilefacenet192.json")),
        "look" => include_str!(concat!(env!("CF_PARITY"), "/look.json")),
        "faceplugin512" => include_str!(concat!(env!("CF_PARITY"), "/faceplugin512.json")),
        other => panic!("no native vectors for {other}"),
    };
    let faces: Vec<serde_json::Value> = serde_json::from_str(json).expect("cfaces embed JSON");
    faces
        .iter()
        .map(|f| serde_json::from_value(f["vector"].clone()).expect("a vector"))
        .collect()
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .expect("performance.now in a browser test")
        .now()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[wasm_bindgen_test]
fn browser_vectors_equal_native_vectors_for_every_network() {
    let pipeline = FacePipeline::load(model).unwrap();
    for spec in NetworkSpec::ALL {
        let network = Network::load(spec, model).unwrap();
        let expected = native_vectors(spec.name);
        const RUNS: usize = 5;
        let mut times = vec![Vec::new(); 5];
        let mut vectors = Vec::new();
        for _ in 0..RUNS {
            let mut clock = now();
            let mut lap = |stage: usize| {
                let t = now();
                times[stage].push(t - clock);
                clock = t;
            };
            let photo = Photo::decode(PHOTO).unwrap();
            lap(0);
            let boxes = pipeline.boxes(&photo).unwrap();
            lap(1);
            let faces: Vec<Face> = boxes
                .into_iter()
                .map(|b| pipeline.face_in_box(&photo, b).unwrap())
                .collect();
            lap(2);
            let crops: Vec<Vec<u8>> = faces
                .iter()
                .map(|f| network.aligned_crop(&photo, f).unwrap())
                .collect();
            lap(3);
            vectors = faces
                .iter()
                .zip(&crops)
                .map(|(f, c)| network.embed_aligned(&photo, f, c).unwrap())
                .collect();
            lap(4);
        }
        assert_eq!(vectors.len(), expected.len(), "{}: faces found", spec.name);
        assert!(!vectors.is_empty(), "{}: no face in obama.jpg", spec.name);
        for (wasm, native) in vectors.iter().zip(&expected) {
            assert_eq!(wasm.len(), native.len());
            let cosine: f32 = wasm.iter().zip(native).map(|(a, b)| a * b).sum();
            assert!(
                1.0 - cosine <= 1e-4,
                "{}: browser vs native cosine {cosine}",
                spec.name
            );
            console_log!("{}: browser vs native cosine {cosine:.7}", spec.name);
        }
        let stages = ["decode", "detect", "landmarks", "align", "embed"];
        let summary: Vec<String> = stages
            .iter()
            .zip(times)
            .map(|(stage, t)| format!("{stage} {:.1} ms", median(t)))
            .collect();
        console_log!(
            "wasm {}: median of {RUNS} runs: {}",
            spec.name,
            summary.join(", ")
        );
    }
}

/// YuNet's poolings run in the page by the halving operator's vector path (simd128), which the
/// native tests cannot reach: on a graph of its own, it gives tract's own maxima bit for bit.
#[wasm_bindgen_test]
fn the_halving_max_pool_gives_tracts_maxima_in_the_browser() {
    use tract_nnef::internal::tract_core::ops::cnn::{MaxPool, PaddingSpec, PoolSpec};
    use tract_nnef::internal::tract_core::ops::nn::DataFormat;
    use tract_nnef::prelude::{
        Datum, DatumExt, IntoRunnable, IntoTValue, SpecialOps, TypedModel, tensor1, tvec,
    };
    for [c, h, w] in [[3, 4, 8], [2, 6, 22], [16, 10, 160]] {
        let values: Vec<f32> = (0..c * h * w)
            .map(|i| match i % 11 {
                0 => 0.0,
                1 => -3.5,
                2 => 3.5,
                _ => ((i * 7919) % 1009) as f32 / 17.0 - 29.0,
            })
            .collect();
        let input = tensor1(&values).into_shape(&[1, c, h, w]).unwrap();
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
            with_index_outputs: Some(i64::datum_type()),
        };
        let pooled = model.wire_node("pool", pool, &[source]).unwrap();
        model.select_output_outlets(&pooled[..1]).unwrap();
        let run = |model: TypedModel| -> Vec<u32> {
            let out = model
                .into_optimized()
                .unwrap()
                .into_runnable()
                .unwrap()
                .run(tvec!(input.clone().into_tvalue()))
                .unwrap();
            let view = out[0].to_plain_array_view::<f32>().unwrap();
            view.iter().map(|v| v.to_bits()).collect()
        };
        let tracts = run(model.clone());
        cf_face::halving_pool::swap_halving_max_pools(&mut model).unwrap();
        assert!(
            model
                .nodes()
                .iter()
                .any(|n| n.op_is::<cf_face::halving_pool::HalvingMaxPool>())
        );
        assert_eq!(run(model), tracts, "{c} x {h} x {w}");
    }
}

/// MobileFaceNet's PReLUs run in the page by the one-pass operator's vector path (simd128): on a
/// graph of their own, as packed (`max(x, 0) + min(x, 0)·a`), it gives tract's values (a zero
/// may differ in its sign only).
#[wasm_bindgen_test]
fn the_one_pass_prelu_gives_the_packed_forms_values_in_the_browser() {
    use tract_nnef::internal::tract_core::ops::change_axes::wire_with_rank_broadcast;
    use tract_nnef::internal::tract_core::ops::math;
    use tract_nnef::prelude::{
        DatumExt, IntoRunnable, IntoTValue, SpecialOps, Tensor, TypedModel, tensor1, tvec,
    };
    // Six channels: a vector block of four and two more, slopes of every kind.
    let slopes = [-0.8f32, 0.25, 1.0, 2.7, 0.0, -3.1];
    let shape = [1, 5, 7, 6];
    let values: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|i| match i % 9 {
            0 => 0.0,
            1 => -1e-30,
            2 => 3e30,
            3 => -3e30,
            _ => ((i * 7919) % 1009) as f32 / 13.0 - 38.0,
        })
        .collect();
    let input = tensor1(&values).into_shape(&shape).unwrap();
    let mut model = TypedModel::default();
    let x = model.add_source("x", f32::fact(shape)).unwrap();
    let zero = model
        .add_const("zero", Tensor::zero::<f32>(&[1, 1, 1, 1]).unwrap())
        .unwrap();
    let a = model
        .add_const("a", tensor1(&slopes).into_shape(&[1, 1, 1, 6]).unwrap())
        .unwrap();
    let mut wire = |name: &str, op, inputs: [_; 2]| {
        wire_with_rank_broadcast(name, &mut model, op, &inputs).unwrap()[0]
    };
    let max = wire("max", math::max(), [x, zero]);
    let min = wire("min", math::min(), [x, zero]);
    let mul = wire("mul", math::mul(), [min, a]);
    let add = wire("add", math::add(), [max, mul]);
    model.select_output_outlets(&[add]).unwrap();
    let run = |model: TypedModel| -> Vec<f32> {
        let out = model
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap()
            .run(tvec!(input.clone().into_tvalue()))
            .unwrap();
        out[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect()
    };
    let packed = run(model.clone());
    cf_face::one_pass_prelu::swap_one_pass_prelus(&mut model).unwrap();
    assert!(
        model
            .nodes()
            .iter()
            .any(|n| n.op_is::<cf_face::one_pass_prelu::OnePassPrelu>())
    );
    let fused = run(model);
    for (want, got) in packed.iter().zip(&fused) {
        assert!(
            want.to_bits() == got.to_bits() || (*want == 0.0 && *got == 0.0),
            "{want} against {got}"
        );
    }
}
