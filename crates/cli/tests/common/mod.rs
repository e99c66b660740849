//! What the `cfaces` end-to-end tests share: running the binary, its outcome, and the real
//! models and test photos that scripts/test.sh fetches and names (CF_MODELS, CF_TEST_PHOTOS).

// Each test binary takes the helpers it needs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn cfaces(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cfaces"))
        .args(args)
        .output()
        .expect("cfaces runs")
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Models and photos, or `None` (a skip, unless CF_REQUIRE_MODELS=1).
pub fn fixture() -> Option<(PathBuf, PathBuf)> {
    // Read when the test runs, not baked in by env!(): the build cache outside the clone is
    // shared by every checkout, so a test binary built in another one may be reused.
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("../..");
    let models = std::env::var_os("CF_MODELS").map_or(root.join("models"), PathBuf::from);
    let photos = std::env::var_os("CF_TEST_PHOTOS").map(PathBuf::from);
    let ready = models.join(cf_face::detect::FILES[1]).exists()
        && photos
            .as_ref()
            .is_some_and(|p| p.join("obama.jpg").exists());
    if !ready {
        assert!(
            std::env::var("CF_REQUIRE_MODELS").as_deref() != Ok("1"),
            "models or test photos missing"
        );
        eprintln!("models or test photos not fetched; skipping");
        return None;
    }
    Some((models, photos?))
}
