//! The worker's photos decoded. A JPEG (but a small one) goes to WebCodecs' `ImageDecoder` where
//! the browser has it (libjpeg-turbo, native, faster than decoding in wasm), asked for the size
//! the pipeline works at (what [`cf_engine::plan_decode`] reads from the header): one larger
//! than that (what cameras and phones give) is decoded at a fraction of its stored size (3/8 of
//! a 12 MP photo's sides to fit 1600), skipping most of the work, and comes as RGB; one within
//! it comes as its colour planes, which the engine converts as the image crate does. Either
//! way the pixels are as stored, turned upright here by the file's EXIF orientation. A small
//! JPEG, or one the browser cannot decode so, goes to the image crate, here in the worker,
//! where it is within the working size; any other photo, or a browser without `ImageDecoder`,
//! to `createImageBitmap`, upright and resized on decode to the working size, its pixels read
//! through an `OffscreenCanvas`. Colours are kept as stored (no colour-space conversion), as
//! the image crate keeps them and as the index's photos were read.

use cf_engine::{
    ChromaSampling, DecodePlan, FaceError, MAX_DIMENSION, Photo, PixelOrder, Plane, YCbCrPlanes,
    plan_decode, working_size,
};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, ColorSpaceConversion, ImageBitmap, ImageBitmapOptions, ImageOrientation, OffscreenCanvas,
    OffscreenCanvasRenderingContext2d, PremultiplyAlpha, ResizeQuality, WorkerGlobalScope,
};

/// The photo in `bytes` and the milliseconds its decoding took, or `None` where neither the
/// browser nor the image crate (for a JPEG within the working size) decoded it: the engine's
/// image crate decoding then gives the reason (empty, unknown format, too large, damaged) in
/// its own words.
pub async fn photo(bytes: &[u8]) -> Option<(Photo, f64)> {
    let started = crate::fetch::now_ms();
    let plan = match plan_decode(bytes) {
        Ok(plan) => Some(plan),
        // Formats the image crate does not read that a browser may (Safari reads HEIC,
        // Chromium AVIF): their size is known once decoded.
        Err(FaceError::UnsupportedFormat("HEIC" | "AVIF")) => None,
        Err(_) => return None,
    };
    let data = Uint8Array::from(bytes);
    if let Some(plan) = plan
        && bytes.starts_with(&[0xff, 0xd8, 0xff])
    {
        let small = u64::from(plan.width) * u64::from(plan.height) <= SMALL_JPEG_PIXELS;
        if !small && let Some(photo) = decode_jpeg(&data, plan).await {
            return Some((photo, crate::fetch::now_ms() - started));
        }
        // A small JPEG, and what the browser did not decode (a CMYK JPEG, a damaged one, a
        // browser without `ImageDecoder`), the image crate decodes where the pipeline takes
        // the photo at its own size; the browser's other way round comes after that.
        if (plan.target_width, plan.target_height) == (plan.width, plan.height)
            && let Ok(photo) = Photo::decode(bytes)
        {
            return Some((photo, crate::fetch::now_ms() - started));
        }
    }
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let blob = Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&data)).ok()?;
    let photo = match plan {
        Some(plan) => decode_planned(&global, &blob, plan).await,
        None => decode_unplanned(&global, &blob).await,
    }?;
    Some((photo, crate::fetch::now_ms() - started))
}

/// One JPEG decoded while the visitor chooses a photo: a first decoding took about twice a
/// warm one's time, starting the browser's decoder and compiling the worker's conversion. The
/// JPEG is drawn and encoded here (by the browser's canvas, 4:2:0 as cameras store), larger than
/// [`SMALL_JPEG_PIXELS`] so that it takes the visitor's photos' way.
pub async fn warm_up() {
    if let Some(bytes) = sample_jpeg().await {
        drop(photo(&bytes).await);
    }
}

async fn sample_jpeg() -> Option<Vec<u8>> {
    let canvas = OffscreenCanvas::new(400, 400).ok()?;
    let context: OffscreenCanvasRenderingContext2d =
        canvas.get_context("2d").ok()??.dyn_into().ok()?;
    for (index, colour) in ["#c98", "#456", "#ea5", "#2a7"].iter().enumerate() {
        context.set_fill_style_str(colour);
        let at = f64::from(100 * index as u32);
        context.fill_rect(at, at, 400.0 - at, 400.0 - at);
    }
    let options = object(&[("type", "image/jpeg".into())])?;
    let encoding: &EncodingCanvas = canvas.unchecked_ref();
    let blob: Blob = JsFuture::from(encoding.convert_to_blob(&options).ok()?)
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    let buffer = JsFuture::from(blob.array_buffer()).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// Up to this many pixels (320 x 320) a JPEG is decoded here by the image crate: the
/// browser's decoder, on its own thread, costs more in the hand-over than it saves (LFW's
/// 250 x 250 photos: 0.9 ms here against 2.7 ms, and 2 against 10 ms on half a CPU; from
/// 455 x 568 on the browser's is faster, 3.3 against 4.5 ms).
const SMALL_JPEG_PIXELS: u64 = 320 * 320;

// WebCodecs' image decoding, bound by hand for the few members used: web-sys has these types
// only behind the `web_sys_unstable_apis` cfg, which would rebuild every crate of the page.
#[wasm_bindgen]
extern "C" {
    type ImageDecoder;
    #[wasm_bindgen(constructor, catch)]
    fn new(init: &Object) -> Result<ImageDecoder, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn decode(this: &ImageDecoder) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method)]
    fn close(this: &ImageDecoder);

    type VideoFrame;
    #[wasm_bindgen(method, getter)]
    fn format(this: &VideoFrame) -> Option<String>;
    #[wasm_bindgen(method, getter, js_name = visibleRect)]
    fn visible_rect(this: &VideoFrame) -> Option<FrameRect>;
    #[wasm_bindgen(method, catch, js_name = allocationSize)]
    fn allocation_size(this: &VideoFrame, options: &Object) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, catch, js_name = copyTo)]
    fn copy_to(
        this: &VideoFrame,
        destination: &Uint8Array,
        options: &Object,
    ) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method)]
    fn close(this: &VideoFrame);
    #[wasm_bindgen(method, getter, js_name = colorSpace)]
    fn color_space(this: &VideoFrame) -> Option<VideoColorSpace>;

    type VideoColorSpace;
    #[wasm_bindgen(method, getter, js_name = fullRange)]
    fn full_range(this: &VideoColorSpace) -> Option<bool>;
    #[wasm_bindgen(method, getter)]
    fn matrix(this: &VideoColorSpace) -> Option<String>;

    // An `OffscreenCanvas`'s `convertToBlob`: web-sys has it behind a feature of its own
    // (`ImageEncodeOptions`).
    type EncodingCanvas;
    #[wasm_bindgen(method, catch, js_name = convertToBlob)]
    fn convert_to_blob(this: &EncodingCanvas, options: &Object)
    -> Result<js_sys::Promise, JsValue>;

    type FrameRect;
    #[wasm_bindgen(method, getter)]
    fn width(this: &FrameRect) -> f64;
    #[wasm_bindgen(method, getter)]
    fn height(this: &FrameRect) -> f64;
}

fn object(entries: &[(&str, JsValue)]) -> Option<Object> {
    let object = Object::new();
    for (key, value) in entries {
        Reflect::set(&object, &JsValue::from_str(key), value).ok()?;
    }
    Some(object)
}

/// A JPEG decoded by `ImageDecoder` at the working size: where that is smaller than the
/// stored size, at the largest of libjpeg-turbo's eighths within it. `None` where the browser
/// has no `ImageDecoder` or gives something else than asked (the caller then decodes it
/// otherwise).
async fn decode_jpeg(data: &Uint8Array, plan: DecodePlan) -> Option<Photo> {
    if !BROWSER_JPEG_DECODING.get()
        || !Reflect::has(&js_sys::global(), &JsValue::from_str("ImageDecoder")).ok()?
    {
        return None;
    }
    // The decoder is asked in the file's stored orientation, and keeps to it.
    let (mut wanted_width, mut wanted_height) = (plan.target_width, plan.target_height);
    if plan.stored_turned() {
        (wanted_width, wanted_height) = (wanted_height, wanted_width);
    }
    let init = object(&[
        ("data", data.into()),
        ("type", "image/jpeg".into()),
        ("desiredWidth", wanted_width.into()),
        ("desiredHeight", wanted_height.into()),
        ("colorSpaceConversion", "none".into()),
    ])?;
    let decoder = ImageDecoder::new(&init).ok()?;
    let decoded = match decoder.decode() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    decoder.close();
    let decoded = decoded?;
    let frame: VideoFrame = Reflect::get(&decoded, &JsValue::from_str("image"))
        .ok()?
        .unchecked_into();
    // A file cut short decodes to its top part: that is the damaged photo the image crate
    // names, not one to analyse.
    if Reflect::get(&decoded, &JsValue::from_str("complete"))
        .ok()?
        .as_bool()
        != Some(true)
    {
        frame.close();
        return None;
    }
    let photo = frame_pixels(&frame, plan, (wanted_width, wanted_height)).await;
    frame.close();
    photo
}

thread_local! {
    /// False once this browser's `ImageDecoder` has decoded a JPEG at another size than asked
    /// (the size is a hint in the standard) or in a pixel format or colour space the worker
    /// does not convert: each photo would be decoded twice.
    static BROWSER_JPEG_DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// How a decoded frame's bytes are laid out.
enum FrameLayout {
    /// Four bytes a pixel (libjpeg-turbo's output when it decodes at a fraction of the size).
    Packed(PixelOrder),
    /// Brightness and two colour planes, as the JPEG stores them (its output at full size).
    Planes(ChromaSampling),
}

fn frame_layout(frame: &VideoFrame) -> Option<FrameLayout> {
    let layout = match frame.format()?.as_str() {
        "BGRX" | "BGRA" => FrameLayout::Packed(PixelOrder::Bgrx),
        "RGBX" | "RGBA" => FrameLayout::Packed(PixelOrder::Rgbx),
        "I444" => FrameLayout::Planes(ChromaSampling::Full),
        "I422" => FrameLayout::Planes(ChromaSampling::HalfWidth),
        "I420" => FrameLayout::Planes(ChromaSampling::HalfWidthHalfHeight),
        _ => return None,
    };
    // Planes are converted as JPEG's own colour space (BT.601 at full range); a frame that
    // says it holds another is not what the file stored.
    if let FrameLayout::Planes(_) = layout {
        let space = frame.color_space();
        let full_range = space.as_ref().and_then(VideoColorSpace::full_range);
        let matrix = space.as_ref().and_then(VideoColorSpace::matrix);
        if full_range == Some(false)
            || matrix.is_some_and(|m| !matches!(m.as_str(), "smpte170m" | "bt470bg"))
        {
            return None;
        }
    }
    Some(layout)
}

async fn frame_pixels(frame: &VideoFrame, plan: DecodePlan, wanted: (u32, u32)) -> Option<Photo> {
    let rect = frame.visible_rect()?;
    let (width, height) = (rect.width() as usize, rect.height() as usize);
    // A scaled decode is within the size asked and at least half of it (the eighths step
    // so); anything else is not what was planned.
    let fits = |got: usize, asked: u32| got <= asked as usize && 2 * got >= asked as usize;
    let Some(layout) =
        frame_layout(frame).filter(|_| fits(width, wanted.0) && fits(height, wanted.1))
    else {
        BROWSER_JPEG_DECODING.set(false);
        return None;
    };
    let options = Object::new();
    let size = frame.allocation_size(&options).ok()? as usize;
    // Copied straight into the worker's memory, not into a JavaScript array copied again (the
    // 7 MB a 12 MP photo decodes to at 3/8). Should the memory grow before the copy is done
    // (another message handled meanwhile), the view is detached and `copyTo` fails: the photo
    // is then decoded the other way.
    let mut pixels = vec![0u8; size];
    // SAFETY: the view covers `pixels` alone, which outlives it and is not touched from Rust
    // until the copy has ended.
    let view = unsafe { Uint8Array::view_mut_raw(pixels.as_mut_ptr(), size) };
    let copied = JsFuture::from(frame.copy_to(&view, &options).ok()?).await;
    drop(view);
    let planes = copied.ok()?;
    match layout {
        FrameLayout::Packed(order) => {
            Photo::from_stored(width, height, &pixels, order, plan.orientation)
        }
        FrameLayout::Planes(chroma) => {
            // `copyTo` answers where it put each plane: an offset and a row stride.
            let plane = |index: u32| -> Option<Plane> {
                let layout = js_sys::Array::from(&planes).get(index);
                let number = |key: &str| {
                    Reflect::get(&layout, &JsValue::from_str(key))
                        .ok()?
                        .as_f64()
                        .map(|n| n as usize)
                };
                Some(Plane {
                    samples: pixels.get(number("offset")?..)?,
                    stride: number("stride")?,
                })
            };
            let planes = YCbCrPlanes {
                width,
                height,
                chroma,
                luma: plane(0)?,
                blue_difference: plane(1)?,
                red_difference: plane(2)?,
            };
            Photo::from_ycbcr(&planes, plan.orientation)
        }
    }
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
