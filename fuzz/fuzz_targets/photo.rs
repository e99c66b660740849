//! A photo's bytes, as the page's worker and the CLI read them: the decoding plan (format,
//! size, EXIF orientation) and the decode itself, limits included.
#![no_main]

use cf_face::{Photo, plan_decode, working_size};
use libfuzzer_sys::fuzz_target;

/// Declared sizes past this are planned but not decoded here. A few hundred bytes can declare a
/// 20,000 x 8,000 JPEG that decodes as noise within the limits (`MAX_DIMENSION`, the allocation
/// cap; tested in crates/face): under AddressSanitizer that takes tens of seconds, which says
/// something of ASan's speed and nothing of the parser (a 2,048 x 15,632 one found this way:
/// `cfaces query --photo` answers it, models loaded, decoded and searched, in 0.6 s).
const DECODED_PIXELS: u64 = 16_000_000;

fuzz_target!(|bytes: &[u8]| {
    let declared = match plan_decode(bytes) {
        Ok(plan) => {
            let _ = working_size(plan.width, plan.height);
            u64::from(plan.width) * u64::from(plan.height)
        }
        Err(_) => 0,
    };
    if declared > DECODED_PIXELS {
        return;
    }
    if let Ok(photo) = Photo::decode(bytes) {
        let view = photo.view();
        assert_eq!(view.pixels.len(), 3 * view.width * view.height);
    }
});
