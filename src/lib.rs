//! The parts of the CelebrityFaces page shared by its two programs, the page (src/main.rs) and
//! its worker (src/bin/worker.rs): the messages between them, the page's texts, verified and
//! cached downloads, and the worker itself. The protocol and the texts are plain Rust, tested
//! natively; the rest exists only in the browser.

pub mod i18n;
pub mod protocol;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod engine;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(target_arch = "wasm32")]
pub mod worker;
