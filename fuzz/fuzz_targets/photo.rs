//! A photo's bytes, as the page's worker and the CLI read them: the decoding plan (format,
//! size, EXIF orientation) and the decode itself, limits included.
#![no_main]

use cf_face::{Photo, plan_decode, working_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(plan) = plan_decode(bytes) {
        let _ = working_size(plan.width, plan.height);
    }
    if let Ok(photo) = Photo::decode(bytes) {
        let view = photo.view();
        assert_eq!(view.pixels.len(), 3 * view.width * view.height);
    }
});
