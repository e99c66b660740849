//! The browser decodes the worker's photos: `createImageBitmap` on the file's bytes, upright by
//! its EXIF orientation and resized on decode to the size the pipeline works at (what
//! [`cf_engine::plan_decode`] reads from the header, as the image crate would make it), then the
//! pixels through an `OffscreenCanvas`. Colours are kept as stored (no colour-space
//! conversion), as the image crate keeps them and as the index's photos were read.

use cf_engine::{DecodePlan, FaceError, MAX_DIMENSION, Photo, plan_decode, working_size};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, ColorSpaceConversion, ImageBitmap, ImageBitmapOptions, ImageOrientation, OffscreenCanvas,
    OffscreenCanvasRenderingContext2d, PremultiplyAlpha, ResizeQuality, WorkerGlobalScope,
};

/// The photo in `bytes` and the milliseconds its decoding took, or `None` where the browser
/// should not or could not decode it: the image crate's decoder then gives the reason (empty,
/// unknown format, too large, damaged) in its own words.
pub async fn in_browser(bytes: &[u8]) -> Option<(Photo, f64)> {
    let started = crate::fetch::now_ms();
    let plan = match plan_decode(bytes) {
        Ok(plan) => Some(plan),
        // Formats the image crate does not read that a browser may (Safari reads HEIC,
        // Chromium AVIF): their size is known once decoded.
        Err(FaceError::UnsupportedFormat("HEIC" | "AVIF")) => None,
        Err(_) => return None,
    };
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = Blob::new_with_u8_array_sequence(&parts).ok()?;
    let photo = match plan {
        Some(plan) => decode_planned(&global, &blob, plan).await,
        None => decode_unplanned(&global, &blob).await,
    }?;
    Some((photo, crate::fetch::now_ms() - started))
}

fn options(resize: Option<(u32, u32)>) -> ImageBitmapOptions {
    let options = ImageBitmapOptions::new();
    options.set_image_orientation(ImageOrientation::FromImage);
    options.set_color_space_conversion(ColorSpaceConversion::None);
    options.set_premultiply_alpha(PremultiplyAlpha::None);
    if let Some((width, height)) = resize {
        options.set_resize_width(width);
        options.set_resize_height(height);
        options.set_resize_quality(ResizeQuality::High);
    }
    options
}

async fn bitmap(promise: Result<js_sys::Promise, wasm_bindgen::JsValue>) -> Option<ImageBitmap> {
    JsFuture::from(promise.ok()?).await.ok()?.dyn_into().ok()
}

async fn decode_planned(
    global: &WorkerGlobalScope,
    blob: &Blob,
    plan: DecodePlan,
) -> Option<Photo> {
    let target = (plan.target_width, plan.target_height);
    let resize = (target != (plan.width, plan.height)).then_some(target);
    let decoded = bitmap(
        global.create_image_bitmap_with_blob_and_image_bitmap_options(blob, &options(resize)),
    )
    .await?;
    // A browser that read the file otherwise than its header says is not trusted with it.
    if (decoded.width(), decoded.height()) != target {
        decoded.close();
        return None;
    }
    pixels(&decoded)
}

async fn decode_unplanned(global: &WorkerGlobalScope, blob: &Blob) -> Option<Photo> {
    let decoded =
        bitmap(global.create_image_bitmap_with_blob_and_image_bitmap_options(blob, &options(None)))
            .await?;
    let (width, height) = (decoded.width(), decoded.height());
    if width.max(height) > MAX_DIMENSION || width == 0 || height == 0 {
        decoded.close();
        return None;
    }
    let target = working_size(width, height);
    if target == (width, height) {
        return pixels(&decoded);
    }
    let resized = bitmap(
        global.create_image_bitmap_with_image_bitmap_and_image_bitmap_options(
            &decoded,
            &options(Some(target)),
        ),
    )
    .await;
    decoded.close();
    pixels(&resized?)
}

/// The bitmap's pixels, as RGB; the bitmap is closed (its memory given back at once).
fn pixels(decoded: &ImageBitmap) -> Option<Photo> {
    let (width, height) = (decoded.width(), decoded.height());
    let read = || {
        let canvas = OffscreenCanvas::new(width, height).ok()?;
        let context: OffscreenCanvasRenderingContext2d =
            canvas.get_context("2d").ok()??.dyn_into().ok()?;
        context
            .draw_image_with_image_bitmap(decoded, 0.0, 0.0)
            .ok()?;
        let data = context
            .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
            .ok()?
            .data();
        Photo::from_rgba(width as usize, height as usize, &data)
    };
    let photo = read();
    decoded.close();
    photo
}
