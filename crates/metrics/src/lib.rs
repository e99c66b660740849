//! How good is a face embedding? The measures the CLI's `eval` reports, written once and tested
//! against hand-computed cases:
//!
//! - [`lfw`]: the LFW pair files and the standard 10-fold verification protocol (threshold chosen
//!   on nine folds, accuracy on the tenth), where a face the detector missed counts as a wrong
//!   answer rather than disappearing from the count;
//! - [`detection`]: faces found by size and false boxes per photo, on an annotated set of
//!   group photos (WIDER FACE's boxes);
//! - [`ranking`]: nDCG over identity labels (rank = position in the sorted list) and identity
//!   recall@k.

pub mod detection;
pub mod lfw;
pub mod lookalike;
pub mod ranking;
