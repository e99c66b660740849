//! Packing the fetched originals gives, byte for byte, the packed files the pipeline loads
//! (scripts/packed.pins pins them; the index is built with them), and their weights are int8.

use std::path::PathBuf;

use cf_face::pack::{MODEL_PACKINGS, pack};

#[test]
fn packing_is_deterministic_and_matches_the_pinned_files() {
    // Read when the test runs, not baked in by env!(): the build cache outside the clone is
    // shared by every checkout, so a test binary built in another one may be reused.
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("../..");
    let models = std::env::var_os("CF_MODELS").map_or(root.join("models"), PathBuf::from);
    let pins = std::fs::read_to_string(root.join("scripts/packed.pins")).unwrap();
    let mut checked = 0;
    for packing in &MODEL_PACKINGS {
        let Ok(original) = std::fs::read(models.join(packing.source)) else {
            assert!(
                std::env::var("CF_REQUIRE_MODELS").as_deref() != Ok("1"),
                "{} missing: run scripts/fetch-models.sh",
                packing.source
            );
            continue;
        };
        let packed = pack(packing, &original).unwrap();
        assert_eq!(
            packed,
            pack(packing, &original).unwrap(),
            "{}",
            packing.packed
        );
        let digest = sha256_hex(&packed);
        let pinned = pins
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{}\t", packing.packed)))
            .unwrap_or_else(|| panic!("{} is not in scripts/packed.pins", packing.packed));
        assert_eq!(digest, pinned, "{} differs from its pin", packing.packed);
        assert!(
            packed.len() < original.len(),
            "{}: {} bytes packed from {}",
            packing.packed,
            packed.len(),
            original.len()
        );
        checked += 1;
    }
    if std::env::var("CF_REQUIRE_MODELS").as_deref() == Ok("1") {
        assert_eq!(checked, MODEL_PACKINGS.len());
    }
}

#[test]
fn an_original_file_is_refused_with_a_reason() {
    let onnx = |_: &str| Ok(b"\x08\x07onnx protobuf bytes".to_vec());
    let error = match cf_face::Detector::load(cf_face::DetectorKind::YuNet, onnx) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an ONNX file was taken for a packed model"),
    };
    assert!(error.contains("not a packed model"), "{error}");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The entry `name` of tar `bytes`.
fn tar_entry(bytes: &[u8], name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        if entry.path().ok()?.to_str() == Some(name) {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).ok()?;
            return Some(data);
        }
    }
    None
}

#[test]
fn each_packed_graph_is_a_syntax_tree_that_tract_writes_and_parses_back_the_same() {
    let models = std::env::var_os("CF_MODELS").map(PathBuf::from);
    let nnef = tract_nnef::framework::Nnef::default();
    let mut checked = 0;
    for packing in &MODEL_PACKINGS {
        let Some(bytes) = models
            .as_ref()
            .and_then(|m| std::fs::read(m.join(packing.packed)).ok())
        else {
            continue;
        };
        assert!(
            tar_entry(&bytes, "graph.nnef").is_none(),
            "{}",
            packing.packed
        );
        let tree = tar_entry(&bytes, "graph.bin").expect("a packed graph");
        let document = cf_face::graph_tree::read(&tree).unwrap();
        let mut text = Vec::new();
        tract_nnef::ast::dump::Dumper::new(&nnef, &mut text)
            .document(&document)
            .unwrap();
        let parsed =
            tract_nnef::ast::parse::parse_document(std::str::from_utf8(&text).unwrap()).unwrap();
        assert_eq!(parsed, document, "{}", packing.packed);
        assert_eq!(cf_face::graph_tree::write(&document), tree);
        checked += 1;
    }
    if std::env::var("CF_REQUIRE_MODELS").as_deref() == Ok("1") {
        assert_eq!(checked, MODEL_PACKINGS.len());
    }
}

#[test]
fn a_damaged_graph_is_refused_with_the_reason() {
    let relu = tract_nnef::ast::parse::parse_document(
        "version 1.0;\ngraph network(input) -> (output)\n{\n  input = external<scalar>(shape = [1, 3, 4, 4]);\n  output = relu(input);\n}\n",
    )
    .unwrap();
    let tar_with_tree = |tree: &[u8]| {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(tree.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, "graph.bin", tree).unwrap();
        builder.into_inner().unwrap()
    };
    let load = |bytes: Vec<u8>| {
        cf_face::Detector::load(
            cf_face::DetectorKind::RfbStretch,
            move |_| Ok(bytes.clone()),
        )
    };
    let tree = cf_face::graph_tree::write(&relu);
    // The whole tree loads (a detector of the wrong shape is refused later, for its outputs).
    let whole = load(tar_with_tree(&tree)).err().map(|e| e.to_string());
    assert!(
        whole.as_deref().is_none_or(|e| !e.contains("graph.bin")),
        "{whole:?}"
    );
    let cut = load(tar_with_tree(&tree[..tree.len() - 3]))
        .err()
        .unwrap()
        .to_string();
    assert!(cut.contains("its graph.bin ends early"), "{cut}");
}
