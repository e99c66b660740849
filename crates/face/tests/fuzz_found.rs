//! What fuzzing the packed-model reader found (fuzz/fuzz_targets/packed_model.rs), kept as
//! tests: graph.nnef files of deeply nested brackets or of a hundred unary operators in a row,
//! which tract's NNEF parser never finished (its time about doubles with each level), and an
//! input declared with a negative side, on which tract stopped with an assertion. Each must be
//! refused at once, saying why.

use std::time::{Duration, Instant};

use cf_face::{Detector, DetectorKind};

/// A packed model's tar holding only `graph.nnef` with `text`.
fn tar_with_graph(text: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "graph.nnef", text.as_bytes())
        .expect("in memory");
    builder.into_inner().expect("in memory")
}

/// The graph the fuzzer found, its 130 parentheses kept (133 brackets deep in all).
fn nested_graph(depth: usize) -> String {
    format!(
        "version 1.0;\n\ngraph network(input) -> (output)\n{{\n  input = external<{}scalar>(shape = [max3, t, 4]);\n  output = relu(ynput);\n}}\n",
        "(".repeat(depth)
    )
}

#[test]
fn a_graph_nested_130_deep_is_refused_at_once() {
    let error = refusal(&nested_graph(130));
    assert!(
        error.contains("nests brackets 133 deep"),
        "the reason is given: {error}"
    );
}

fn refusal(graph: &str) -> String {
    let bytes = tar_with_graph(graph);
    let started = Instant::now();
    let error = match Detector::load(DetectorKind::RfbStretch, |_| Ok(bytes.clone())) {
        Ok(_) => panic!("loaded: {graph}"),
        Err(error) => error.to_string(),
    };
    assert!(started.elapsed() < Duration::from_secs(1));
    error
}

#[test]
fn a_hundred_unary_operators_in_a_row_are_refused_at_once() {
    // The fuzzer's second find, as it wrote it.
    let graph = format!(
        "version 0.0;\n\ngraph network(input) -> (output)\n{{\n  input = exte{}rnlaas<calr>(shape = [1, 3, 4, 4])?\n  output = relu(input);\n}}\n",
        "+".repeat(102)
    );
    let error = refusal(&graph);
    assert!(
        error.contains("puts an operator before `+`"),
        "the reason is given: {error}"
    );
    // A sign before a bracket, or before another sign with space between: the same; a sign
    // before a number, or a minus between two values, is what packed graphs hold.
    let with = |value: &str| {
        format!(
            "version 1.0;\ngraph network(input) -> (output)\n{{\n  output = add(input, {value});\n}}\n"
        )
    };
    assert!(refusal(&with("-(1)")).contains("before `(`"));
    assert!(refusal(&with("- -1")).contains("before `-`"));
    for fine in ["-1", "[-1, 2]", "2 - -1", "1e-5"] {
        assert!(!refusal(&with(fine)).contains("puts an operator"), "{fine}");
    }
}

#[test]
fn nesting_in_comments_and_strings_does_not_count() {
    let padding = "(".repeat(40);
    let graph = format!(
        "version 1.0;\n# {padding}\ngraph network(input) -> (output)\n{{\n  input = external<scalar>(shape = [1, 3], label = \"{padding}\");\n  output = relu(input);\n}}\n"
    );
    let error = match Detector::load(DetectorKind::RfbStretch, |_| Ok(tar_with_graph(&graph))) {
        Ok(_) => String::new(),
        Err(error) => error.to_string(),
    };
    assert!(!error.contains("nests brackets"), "{error}");
}

#[test]
fn an_input_of_a_negative_side_is_refused() {
    // The fuzzer's third find, as it wrote it: `3- 4` is a side of -1.
    let graph = "version 1.0;\n\ngraph network(input) -> (output)\n{\n  input = external<scalar>(shape = [1, 3- 4, t]);\n  output = reAlu(input);\n}";
    let error = refusal(graph);
    assert!(
        error.contains("declares `external` with a shape that is not a list of whole numbers"),
        "the reason is given: {error}"
    );
    // A weight likewise; whole numbers are read on.
    let with = |shape: &str| {
        format!(
            "version 1.0;\ngraph network(input) -> (output)\n{{\n  input = external<scalar>(shape = [1, 3]);\n  w = variable<scalar>(label = \"w\", shape = {shape});\n  output = add(input, w);\n}}\n"
        )
    };
    assert!(refusal(&with("[1, -3]")).contains("declares `variable`"));
    assert!(!refusal(&with("[1, 3]")).contains("declares"));
}
