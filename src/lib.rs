//! The parts of the CelebrityFaces page shared by its two programs, the page (src/main.rs) and
//! its workers (src/bin/worker.rs, and src/bin/morph_worker.rs for the morph). The page's state and reducer, its texts and who the items
//! are are plain Rust, tested natively; the browser's fetching and the worker program exist only
//! in the browser. The messages between the two are `cf_protocol`; the worker's work is
//! `cf_engine`. See ARCHITECTURE.md.

pub mod embedding;
pub mod i18n;
pub mod people;
pub mod state;

#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod decode;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(target_arch = "wasm32")]
pub mod morph_worker;
#[cfg(target_arch = "wasm32")]
pub mod worker;
