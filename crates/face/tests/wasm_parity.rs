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

#[path = "swapped_ops/cases.rs"]
mod cases;

/// YuNet's poolings and MobileFaceNet's PReLUs run in the page by the swapped operators' vector
/// paths (simd128), which the native tests cannot reach: the same cases, in the browser (and
/// the upsampling, the same code in both).
#[wasm_bindgen_test]
fn the_swapped_operators_give_tracts_values_in_the_browser() {
    for sides in [[3, 4, 8], [2, 6, 22], [16, 10, 160]] {
        let outcome = cases::pooling(sides, true);
        assert!(outcome.was_swapped, "{sides:?}");
        outcome.assert_same_bits(&format!("{sides:?}"));
    }
    let outcome = cases::prelu(&[1, 5, 7, 7], &cases::SLOPES, true);
    assert!(outcome.was_swapped);
    outcome.assert_same_values("1 x 5 x 7 x 7");
    let outcome = cases::upsampling([64, 10, 10], 2, true);
    assert!(outcome.was_swapped);
    outcome.assert_same_bits("64 x 10 x 10, doubled");
}

/// The page's matrix-product kernel (`cf_face::wasm_matmul`) gives tract's 8 x 8 kernel's
/// values bit for bit (both sum each output along k, a multiply then an add), with every fused
/// operation a convolution can hand it, on tiles that fill its 4 x 8 and on ragged ones, into
/// outputs with either axis contiguous; and tract's dispatch picks it for f32 products of more
/// than one column.
#[wasm_bindgen_test]
fn the_pages_matrix_kernel_gives_tracts_values() {
    use cf_face::wasm_matmul::{KERNEL_NAME, kernel};
    use tract_nnef::prelude::{DatumType, Tensor};
    use tract_nnef::tract_core::tract_linalg::BinOp;
    use tract_nnef::tract_core::tract_linalg::mmm::{
        AsInputValue, FusedSpec, MatMatMul, MmmDispatch, Query,
    };

    let dispatch = MmmDispatch::native();
    let picked = |n| {
        let query = Query::plain(DatumType::F32, Some(64), Some(64), n);
        dispatch
            .pick(&query)
            .map(|(mmm, _, _)| mmm.name().to_string())
    };
    assert_eq!(picked(Some(100)).as_deref(), Some(KERNEL_NAME));
    assert_eq!(picked(None).as_deref(), Some(KERNEL_NAME));
    assert_ne!(picked(Some(1)).as_deref(), Some(KERNEL_NAME));
    let tracts = dispatch
        .runnable()
        .iter()
        .find(|mmm| mmm.name() == "wasm_f32_8x8")
        .expect("tract's 8 x 8 wasm kernel")
        .clone();
    let ours: Box<dyn MatMatMul> = kernel().mmm();

    // Values of both signs and many magnitudes, so that a sum in another order would show.
    let values = |seed: usize, shape: &[usize]| {
        let len = shape.iter().product::<usize>();
        let data: Vec<f32> = (0..len)
            .map(|i| {
                let x = ((i * 7919 + seed * 104_729) % 2003) as f32 - 1001.0;
                x / 97.0 * if i % 5 == 0 { 1e-3 } else { 1.0 }
            })
            .collect();
        Tensor::from_shape(shape, &data).unwrap()
    };
    // `columns_together`: the output laid out with m along its rows' contiguous axis (n x m in
    // memory), as YuNet's products and tract's scratch for border tiles have it.
    let run = |mmm: &dyn MatMatMul, m: usize, k: usize, n: usize, epilogue: usize| {
        let columns_together = epilogue >= 5;
        let epilogue = epilogue % 5;
        let (packing_a, packing_b) = &mmm.packings()[0];
        let a = packing_a.prepare_one(&values(1, &[m, k]), 1, 0).unwrap();
        let b = packing_b.prepare_one(&values(2, &[k, n]), 0, 1).unwrap();
        let (rows, cols) = (values(3, &[m]), values(4, &[n]));
        let shape = if columns_together { [n, m] } else { [m, n] };
        let (scalar, earlier) = (Tensor::from(0.25f32), values(5, &shape));
        let mut c = Tensor::zero::<f32>(&shape).unwrap();
        let (m_axis, n_axis) = if columns_together { (1, 0) } else { (0, 1) };
        // SAFETY: both tensors seen through it are f32 of `shape`, m along `m_axis`, and
        // outlive the run.
        let (earlier_tile, c_tile) = unsafe {
            let store = mmm.c_view(Some(m_axis), Some(n_axis));
            (store.wrap(&earlier.view()), store.wrap(&c.view_mut()))
        };
        let mut specs = vec![FusedSpec::AddMatMul {
            a: AsInputValue::Borrowed(&*a),
            b: AsInputValue::Borrowed(&*b),
            packing: 0,
        }];
        specs.extend(match epilogue {
            0 => vec![],
            1 => vec![
                FusedSpec::BinPerRow(rows.view(), BinOp::Add),
                FusedSpec::BinScalar(&scalar, BinOp::Max),
            ],
            2 => vec![
                FusedSpec::BinPerCol(cols.view(), BinOp::Mul),
                FusedSpec::BinPerRow(rows.view(), BinOp::SubF),
                FusedSpec::LeakyRelu(&scalar),
            ],
            3 => vec![
                FusedSpec::AddUnicast(earlier_tile),
                FusedSpec::BinPerCol(cols.view(), BinOp::Sub),
                FusedSpec::BinScalar(&scalar, BinOp::Min),
            ],
            _ => vec![
                FusedSpec::AddRowColProducts(&rows, &cols),
                FusedSpec::BinPerRow(rows.view(), BinOp::Max),
                FusedSpec::BinPerCol(cols.view(), BinOp::SubF),
                FusedSpec::BinScalar(&scalar, BinOp::Mul),
            ],
        });
        specs.push(FusedSpec::Store(c_tile));
        // SAFETY: every operand above has the shape (m, k), (k, n), m or n it is given as.
        unsafe { mmm.run(m, n, &specs) }.unwrap();
        c.try_as_plain_ram()
            .unwrap()
            .as_slice::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    for (m, k, n) in [
        (1, 1, 2),
        (3, 5, 7),
        (4, 8, 8),
        (9, 16, 17),
        (64, 27, 130),
        (128, 64, 49),
    ] {
        for epilogue in 0..10 {
            assert_eq!(
                run(&*tracts, m, k, n, epilogue),
                run(&*ours, m, k, n, epilogue),
                "m {m}, k {k}, n {n}, epilogue {epilogue}"
            );
        }
    }
}

/// The page's matrix kernel writes its tile into every layout tract gives it: rows together
/// (whole vectors), columns together (4 x 4 blocks transposed) and neither (value by value), and
/// adds a tile read from that layout; as tract's own kernel tests do it, a tile loaded whole.
#[wasm_bindgen_test]
fn the_pages_matrix_kernel_stores_every_layout() {
    use cf_face::wasm_matmul::kernel;
    use tract_nnef::tract_core::tract_linalg::mmm::{FusedKerSpec, MatMatMulKer, OutputStoreKer};

    let (mr, nr) = (4, 8);
    let pattern: Vec<f32> = (0..mr * nr).map(|i| i as f32 + 0.5).collect();
    let column_major: Vec<f32> = (0..mr * nr)
        .map(|i| pattern[(i % mr) * nr + i / mr])
        .collect();
    // (row stride, column stride) in values, and the values the output spans.
    for (rows, cols, len) in [(nr, 1, mr * nr), (1, mr, mr * nr), (3 * nr, 3, 3 * mr * nr)] {
        let mut output = vec![f32::NAN; len];
        let earlier: Vec<f32> = (0..len).map(|i| 1000.0 * i as f32).collect();
        let tile = |ptr: *mut f32| OutputStoreKer {
            ptr: ptr.cast(),
            row_byte_stride: 4 * rows as isize,
            col_byte_stride: 4 * cols as isize,
            item_size: 4,
        };
        let operations = [
            FusedKerSpec::LoadTile(column_major.as_ptr(), pattern.as_ptr()),
            FusedKerSpec::AddUnicast(tile(earlier.as_ptr().cast_mut())),
            FusedKerSpec::Store(tile(output.as_mut_ptr())),
            FusedKerSpec::Done,
        ];
        assert_eq!(kernel().kernel(&operations), 0);
        for r in 0..mr {
            for c in 0..nr {
                let at = r * rows + c * cols;
                assert_eq!(
                    output[at],
                    pattern[r * nr + c] + earlier[at],
                    "row stride {rows}, column stride {cols}: ({r}, {c})"
                );
            }
        }
    }
}

/// The page's colour conversion of a JPEG's planes (`YCbCrPlanes::to_rgb`, simd128 in the
/// browser) gives, byte for byte, each pixel as JPEG decoders define it: the colour samples
/// spread by the triangle filter (weights 3 and 1, down a column and then along the row, each
/// rounded), then BT.601 at full range in 14-bit fixed point. Every sampling, on widths that
/// end a row within a block of sixteen and outside, on samples that push the colours past
/// 0 and 255.
#[wasm_bindgen_test]
fn the_pages_colour_conversion_is_jpegs_per_pixel() {
    use cf_face::{ChromaSampling, Plane, YCbCrPlanes};
    let mut state = 0x2545_f491_u32;
    let mut byte = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 24) as u8
    };
    for chroma in [
        ChromaSampling::Full,
        ChromaSampling::HalfWidth,
        ChromaSampling::HalfWidthHalfHeight,
    ] {
        for (width, height) in [(1, 1), (17, 3), (35, 4), (64, 5), (97, 6)] {
            let (chroma_width, chroma_height) = chroma.plane_size(width, height);
            // Rows padded past their samples, as a decoder's planes may be.
            let (stride, chroma_stride) = (width + 3, chroma_width + 5);
            let mut plane = |stride: usize, rows: usize| -> Vec<u8> {
                (0..stride * rows).map(|_| byte()).collect()
            };
            let luma = plane(stride, height);
            let blue = plane(chroma_stride, chroma_height);
            let red = plane(chroma_stride, chroma_height);
            let planes = YCbCrPlanes {
                width,
                height,
                chroma,
                luma: Plane {
                    samples: &luma,
                    stride,
                },
                blue_difference: Plane {
                    samples: &blue,
                    stride: chroma_stride,
                },
                red_difference: Plane {
                    samples: &red,
                    stride: chroma_stride,
                },
            };
            let rgb = planes.to_rgb().expect("planes of their size");
            let (across, down) = match chroma {
                ChromaSampling::Full => (1, 1),
                ChromaSampling::HalfWidth => (2, 1),
                ChromaSampling::HalfWidthHalfHeight => (2, 2),
            };
            // The sample a pixel lies in, and its nearer neighbour (itself at an edge).
            let near_far = |at: usize, step: usize, samples: usize| {
                let near = at / step;
                let far = match (step, at % 2) {
                    (1, _) => near,
                    (_, 0) => near.saturating_sub(1),
                    _ => (near + 1).min(samples - 1),
                };
                (near, far)
            };
            let spread = |samples: &[u8], x: usize, y: usize| -> i32 {
                let (x_near, x_far) = near_far(x, across, chroma_width);
                let (y_near, y_far) = near_far(y, down, chroma_height);
                let at = |cx: usize, cy: usize| i32::from(samples[cy * chroma_stride + cx]);
                let column = |cx| (3 * at(cx, y_near) + at(cx, y_far) + 2) >> 2;
                (3 * column(x_near) + column(x_far) + 2) >> 2
            };
            for y in 0..height {
                for x in 0..width {
                    let luma = i32::from(luma[y * stride + x]) * 16384 + 8191;
                    let (cb, cr) = (spread(&blue, x, y) - 128, spread(&red, x, y) - 128);
                    let want = [
                        luma + 22970 * cr,
                        luma - 11700 * cr - 5638 * cb,
                        luma + 29032 * cb,
                    ]
                    .map(|v| (v >> 14).clamp(0, 255) as u8);
                    let got = &rgb[3 * (y * width + x)..][..3];
                    assert_eq!(got, want, "{chroma:?} {width} x {height}, pixel ({x}, {y})");
                }
            }
        }
    }
}
