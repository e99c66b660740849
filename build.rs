//! Stamps the app with the identity of the index it ships with, so that a changed index is
//! fetched anew instead of served from a stale HTTP cache.

use std::path::Path;

use sha2::{Digest, Sha256};

fn main() {
    let manifest = Path::new("index-shards/manifest.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let id = match std::fs::read(manifest) {
        Ok(bytes) => Sha256::digest(&bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        Err(error) => {
            println!(
                "cargo:warning=no index at {} ({error}); build one with `cfaces build-demo`",
                manifest.display()
            );
            "none".to_string()
        }
    };
    println!("cargo:rustc-env=CF_INDEX_ID={id}");
}
