//! A packed model (a tar of the graph, as its syntax tree or as NNEF text, and int8 weights),
//! as the pipeline loads one: read, dequantised and prepared to run.
#![no_main]

use cf_face::{Detector, DetectorKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = Detector::load(DetectorKind::RfbStretch, |_| Ok(bytes.to_vec()));
});
