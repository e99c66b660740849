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
