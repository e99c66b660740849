//! Reading a packed model (`pack` writes them): tract NNEF whose graph is stored as its syntax
//! tree (`graph.bin`, [`crate::graph_tree`]: no NNEF text to parse) and whose large weights are
//! stored as `L.q.dat` (int8) and `L.scale.dat` (float32, one per slice along one axis). They
//! are turned back into the float32 tensor `L` here, in one plain loop, before tract builds the
//! graph: tract sees the float graph it wrote, and does not spend its own graph folding on it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use tract_nnef::ProtoModel;
use tract_nnef::ast::{Document, Identifier, Literal, RValue};
use tract_nnef::framework::Nnef;
use tract_nnef::internal::tract_core::optim::Optimizer;
use tract_nnef::internal::tract_core::optim::change_axes::ChangeAxes;
use tract_nnef::internal::{TractErrorContext, bail, format_err};
use tract_nnef::prelude::*;
use tract_nnef::resource::{DatLoader, GraphNnefLoader, ResourceLoader};

use crate::optimizer;
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
#[cfg(feature = "import")]
pub(crate) fn nnef() -> &'static Nnef {
    static NNEF: OnceLock<Nnef> = OnceLock::new();
    NNEF.get_or_init(|| Nnef {
        stdlib: tract_nnef::framework::stdlib(),
        ..nnef_for_reading_only()
    })
}

/// [`nnef`] without its copy of NNEF's standard library, which only writing a graph consults
/// (reading one resolves operators through the registry, which holds its own copy): parsing
/// that library's text cost a page's first visit about 20 ms of the worker's start.
fn nnef_for_reading() -> &'static Nnef {
    static NNEF: OnceLock<Nnef> = OnceLock::new();
    NNEF.get_or_init(nnef_for_reading_only)
}

fn nnef_for_reading_only() -> Nnef {
    Nnef {
        stdlib: Vec::new(),
        registries: vec![tract_nnef::ops::tract_nnef()],
        resource_loaders: vec![GraphNnefLoader.into_boxed(), DatLoader.into_boxed()],
        allow_extended_identifier_syntax: false,
        extern_all_constants: false,
    }
}

/// How much of tract's graph work a model gets when it is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preparation {
    /// Simplify ("declutter") the graph, then optimise it.
    Full,
    /// Take out the transposes NNEF puts around each convolution of a channels-last network
    /// (its convolutions are channels-first), then optimise. The packed graph was simplified
    /// when it was packed, and these transposes are what packing it put back: without this
    /// pass MobileFaceNet runs 40 % slower; with it, as fast as [`Preparation::Full`] makes it
    /// (9.20 against 9.26 ms natively), in half of the simplification's time.
    TransposesRemoved,
    /// Optimise the graph as written. For the detector and the landmark network this runs as
    /// fast (within 10 %, measured) and loads a third faster, which the page's first visit
    /// waits for.
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
        let mut model = typed_model(bytes)?;
        prepare(&mut model, preparation)?;
        model.into_runnable()
    };
    load().map_err(|e| failed(format!("{e:#}")))
}

/// The graph of a packed model as tract builds it, its weights dequantized, before any
/// simplification or optimisation.
///
/// Loading runs once per model, so the steps of it stay functions of their own
/// (`#[inline(never)]` here and below): inlined into [`load_packed`] they made one 53 KB wasm
/// function whose loops V8 finds hot, and optimising it kept one of a two-core machine's cores
/// busy for 180 ms of a first visit (`--trace-wasm-compilation-times`).
#[inline(never)]
fn typed_model(bytes: &[u8]) -> TractResult<TypedModel> {
    let mut proto = proto_model(bytes)?;
    if let Some(problem) = shape_problem(&proto.doc) {
        bail!("its graph {problem}");
    }
    dequantize_tensors(&mut proto.tensors)?;
    nnef_for_reading().model_for_proto_model(&proto)
}

/// `preparation`, the operators swapped for the page's own, then tract's code generation: tract's
/// passes, applied by [`crate::optimizer`].
#[inline(never)]
fn prepare(model: &mut TypedModel, preparation: Preparation) -> TractResult<()> {
    match preparation {
        Preparation::Full => optimizer::declutter(model)?,
        Preparation::TransposesRemoved => optimizer::run(
            &Optimizer {
                passes: vec![Box::<ChangeAxes>::default()],
                steps: None,
            },
            model,
        )?,
        Preparation::OptimizeOnly => {}
    }
    crate::halving_pool::swap_halving_max_pools(model)?;
    crate::doubling_upsample::swap_doubling_upsamples(model)?;
    crate::one_pass_prelu::swap_one_pass_prelus(model)?;
    optimizer::optimize(model)
}

/// Where a packed tar holds its graph as a syntax tree (`crate::graph_tree`).
pub(crate) const GRAPH_TREE: &str = "graph.bin";

/// The graph and tensors of a packed tar: the graph read from [`GRAPH_TREE`], which `pack`
/// writes; a tar with NNEF text instead (`graph.nnef`, as tract writes) goes to tract's parser.
#[inline(never)]
fn proto_model(bytes: &[u8]) -> TractResult<ProtoModel> {
    let mut document = None;
    let mut tensors = HashMap::new();
    for entry in tar::Archive::new(bytes).entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_path_buf();
        let path = path.strip_prefix("./").unwrap_or(&path);
        if path.ends_with(tract_nnef::resource::GRAPH_NNEF_FILENAME) {
            return nnef_for_reading().proto_model_for_read(&mut &bytes[..]);
        }
        if path == std::path::Path::new(GRAPH_TREE) {
            let mut tree = Vec::new();
            entry.read_to_end(&mut tree)?;
            document = Some(
                crate::graph_tree::read(&tree).map_err(|e| format_err!("its {GRAPH_TREE} {e}"))?,
            );
        } else if path.extension().is_some_and(|e| e == "dat") {
            let tensor = tract_nnef::tensors::read_tensor(&mut entry)
                .with_context(|| format!("reading tensor {path:?}"))?;
            let label = tract_nnef::resource::resource_path_to_id(path)?;
            tensors.insert(Identifier(label), tensor.into_arc_tensor());
        }
    }
    let doc = document.ok_or_else(|| {
        format_err!("it holds neither {GRAPH_TREE} nor graph.nnef, so it has no graph")
    })?;
    Ok(ProtoModel {
        doc,
        tensors,
        quantization: None,
        resources: HashMap::new(),
    })
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

/// An input or weight of the graph declared with a shape other than whole numbers, which
/// tract does not refuse but stops on (a negative side asserts; fuzzing found `[1, 3- 4, t]`).
/// The packed graphs declare every shape with whole numbers.
fn shape_problem(doc: &Document) -> Option<String> {
    let whole = |value: &RValue| match value {
        RValue::Literal(Literal::Numeric(number)) => number.parse::<u64>().is_ok(),
        _ => false,
    };
    for assignment in &doc.graph_def.body {
        let RValue::Invocation(invocation) = &assignment.right else {
            continue;
        };
        if !matches!(invocation.id.0.as_str(), "external" | "variable") {
            continue;
        }
        let shape = invocation
            .arguments
            .iter()
            .find(|argument| argument.id.as_ref().is_some_and(|id| id.0 == "shape"))
            .map(|argument| &argument.rvalue);
        let declared = match shape {
            Some(RValue::Array(sides)) => sides.iter().all(whole),
            Some(RValue::Literal(Literal::Array(sides))) => sides
                .iter()
                .all(|side| whole(&RValue::Literal(side.clone()))),
            _ => false,
        };
        if !declared {
            return Some(format!(
                "declares `{}` with a shape that is not a list of whole numbers",
                invocation.id.0
            ));
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
#[inline(never)]
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
        let floats = tract_ndarray::ArrayD::from_shape_vec(values.shape(), floats)?;
        tensors.insert(Identifier(label), floats.into_arc_tensor());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packed model `file`, or `None` where the models were not fetched (a failure with
    /// CF_REQUIRE_MODELS=1).
    fn packed(file: &str) -> Option<Vec<u8>> {
        let folder = std::env::var_os("CF_MODELS").map(std::path::PathBuf::from);
        let bytes = folder.and_then(|f| std::fs::read(f.join(file)).ok());
        assert!(
            bytes.is_some() || std::env::var("CF_REQUIRE_MODELS").as_deref() != Ok("1"),
            "{file} missing: run scripts/fetch-models.sh"
        );
        bytes
    }

    /// The shape of `model`'s input and a face-like spread of values for it, the same every
    /// run.
    fn face_like_input(model: &TypedModel) -> (Vec<usize>, Vec<f32>) {
        let shape = model
            .input_fact(0)
            .unwrap()
            .shape
            .as_concrete()
            .unwrap()
            .to_vec();
        let values = (0..shape.iter().product::<usize>())
            .map(|i| ((i * 7919 % 256) as f32 - 127.5) / 128.0)
            .collect();
        (shape, values)
    }

    #[test]
    fn each_lighter_preparation_computes_what_the_full_one_does() {
        for (file, lighter) in [
            ("mobilefacenet.nnef.tar", Preparation::TransposesRemoved),
            ("fr_feature.nnef.tar", Preparation::TransposesRemoved),
            ("dlib_gender.nnef.tar", Preparation::OptimizeOnly),
            ("dlib_age.nnef.tar", Preparation::OptimizeOnly),
            ("yunet-320.nnef.tar", Preparation::OptimizeOnly),
            ("fr_landmark.nnef.tar", Preparation::OptimizeOnly),
        ] {
            let Some(bytes) = packed(file) else { continue };
            let full = load_packed(file, &bytes, Preparation::Full).unwrap();
            let light = load_packed(file, &bytes, lighter).unwrap();
            let (shape, values) = face_like_input(full.model());
            let outputs = |model: &Runnable| -> Vec<f32> {
                crate::run(model, file, &shape, values.clone())
                    .unwrap()
                    .remove(0)
            };
            let (expected, got) = (outputs(&full), outputs(&light));
            assert_eq!(expected.len(), got.len(), "{file}");
            let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (e, g) in expected.iter().zip(&got) {
                assert!((e - g).abs() <= 1e-5 * scale, "{file}: {e} against {g}");
            }
        }
    }

    /// What [`prepare`] did before it ran tract's passes through [`optimizer`]: tract's own
    /// `declutter`, `Optimizer::optimize` and `optimize`, which apply each patch with
    /// `ModelPatch::apply`.
    fn prepare_as_tract_does(model: &mut TypedModel, preparation: Preparation) -> TractResult<()> {
        match preparation {
            Preparation::Full => model.declutter()?,
            Preparation::TransposesRemoved => Optimizer {
                passes: vec![Box::<ChangeAxes>::default()],
                steps: None,
            }
            .optimize(model)?,
            Preparation::OptimizeOnly => {}
        }
        crate::halving_pool::swap_halving_max_pools(model)?;
        crate::doubling_upsample::swap_doubling_upsamples(model)?;
        crate::one_pass_prelu::swap_one_pass_prelus(model)?;
        model.optimize()
    }

    /// Where two prepared graphs differ: the count of nodes, a node's name, operator (its name
    /// and tract's description of its settings: two preparations of one graph by tract itself
    /// give matrix products that are not `==`), inputs or output types and shapes, or the
    /// model's inputs, outputs, labels or properties.
    fn graph_difference(ours: &TypedModel, tracts: &TypedModel) -> Option<String> {
        if ours.nodes.len() != tracts.nodes.len() {
            return Some(format!(
                "{} nodes against {}",
                ours.nodes.len(),
                tracts.nodes.len()
            ));
        }
        for (a, b) in ours.nodes.iter().zip(&tracts.nodes) {
            // Type and shape: a constant's packed weights are an opaque fact, equal only to
            // itself.
            let facts = |node: &TypedNode| -> Vec<String> {
                let fact = |outlet: &Outlet<TypedFact>| {
                    format!("{:?} {:?}", outlet.fact.datum_type, outlet.fact.shape)
                };
                node.outputs.iter().map(fact).collect()
            };
            if a.name != b.name
                || a.inputs != b.inputs
                || a.op().name() != b.op().name()
                || a.op().info().ok() != b.op().info().ok()
                || facts(a) != facts(b)
            {
                return Some(format!(
                    "node {}: {a} {:?} against {b} {:?}",
                    a.id,
                    a.op().info().ok(),
                    b.op().info().ok()
                ));
            }
        }
        let keys = |model: &TypedModel| -> Vec<String> {
            let mut keys: Vec<String> = model.properties.keys().cloned().collect();
            keys.sort();
            keys
        };
        (ours.inputs != tracts.inputs
            || ours.outputs != tracts.outputs
            || ours.outlet_labels != tracts.outlet_labels
            || keys(ours) != keys(tracts))
        .then(|| "other inputs, outputs, labels or properties".to_string())
    }

    #[test]
    fn models_prepared_through_our_patch_application_are_tracts() {
        let preparations = [
            Preparation::Full,
            Preparation::TransposesRemoved,
            Preparation::OptimizeOnly,
        ];
        for file in [
            "yunet-320.nnef.tar",
            "yunet-640.nnef.tar",
            "fr_landmark.nnef.tar",
            "mobilefacenet.nnef.tar",
            "fr_feature.nnef.tar",
            "fr_age.nnef.tar",
            "fr_gender.nnef.tar",
            "dlib_gender.nnef.tar",
            "dlib_age.nnef.tar",
            "fr_detect.nnef.tar",
            "retinaface-640.nnef.tar",
        ] {
            let Some(bytes) = packed(file) else { continue };
            for preparation in preparations {
                let built = typed_model(&bytes).unwrap();
                let (mut ours, mut tracts) = (built.clone(), built);
                prepare(&mut ours, preparation).unwrap();
                prepare_as_tract_does(&mut tracts, preparation).unwrap();
                if let Some(difference) = graph_difference(&ours, &tracts) {
                    panic!("{file}, {preparation:?}: {difference}");
                }
                let (shape, values) = face_like_input(&ours);
                let outputs = |model: TypedModel| -> Vec<Vec<f32>> {
                    let runnable = model.into_runnable().unwrap();
                    crate::run(&runnable, file, &shape, values.clone()).unwrap()
                };
                let (ours, tracts) = (outputs(ours), outputs(tracts));
                let bits = |outputs: &[Vec<f32>]| -> Vec<Vec<u32>> {
                    outputs
                        .iter()
                        .map(|o| o.iter().map(|v| v.to_bits()).collect())
                        .collect()
                };
                assert_eq!(bits(&ours), bits(&tracts), "{file}, {preparation:?}");
            }
        }
    }

    #[test]
    fn the_transposes_are_gone_where_the_full_preparation_takes_them_out() {
        let Some(bytes) = packed("mobilefacenet.nnef.tar") else {
            return;
        };
        let transposes = |preparation| {
            let model = load_packed("mobilefacenet", &bytes, preparation).unwrap();
            model
                .model()
                .nodes
                .iter()
                .filter(|n| n.op.name() == "MoveAxis")
                .count()
        };
        assert!(transposes(Preparation::OptimizeOnly) > 30);
        assert_eq!(
            transposes(Preparation::TransposesRemoved),
            transposes(Preparation::Full)
        );
    }
}
