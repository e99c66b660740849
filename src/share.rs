//! "Download result card": the visitor's crop beside the top match, drawn on a canvas and saved
//! as a PNG, all on the device.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{Clamped, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 630;
const FACE: f64 = 400.0;

pub struct CardContent {
    pub crop: Rc<Vec<u8>>,
    pub crop_side: u32,
    pub thumb_url: Option<String>,
    pub name: String,
    pub similarity: f32,
    pub caption: &'static str,
    pub similarity_label: &'static str,
}

fn canvas(width: u32, height: u32) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
    let document = web_sys::window()?.document()?;
    let canvas: HtmlCanvasElement = document.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    Some((canvas, context))
}

/// The crop as a canvas of its own size, to be scaled onto the card.
fn crop_canvas(rgb: &[u8], side: u32) -> Option<HtmlCanvasElement> {
    let (canvas, context) = canvas(side, side)?;
    let rgba: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let image =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side, side).ok()?;
    context.put_image_data(&image, 0.0, 0.0).ok()?;
    Some(canvas)
}

/// The thumbnail, loaded for drawing (CORS-clean, so the canvas can still be exported).
async fn load_image(url: &str) -> Option<web_sys::HtmlImageElement> {
    let image = web_sys::HtmlImageElement::new().ok()?;
    image.set_cross_origin(Some("anonymous"));
    image.set_src(url);
    JsFuture::from(image.decode()).await.ok()?;
    Some(image)
}

async fn draw(content: &CardContent) -> Option<HtmlCanvasElement> {
    let (card, context) = canvas(WIDTH, HEIGHT)?;
    context.set_fill_style_str("#1f2430");
    context.fill_rect(0.0, 0.0, WIDTH as f64, HEIGHT as f64);
    let top = 150.0;
    let left = 120.0;
    let right = WIDTH as f64 - 120.0 - FACE;
    context.set_image_smoothing_enabled(true);
    if let Some(crop) = crop_canvas(&content.crop, content.crop_side) {
        context
            .draw_image_with_html_canvas_element_and_dw_and_dh(&crop, left, top, FACE, FACE)
            .ok()?;
    }
    let thumbnail = match &content.thumb_url {
        Some(url) => load_image(url).await,
        None => None,
    };
    match thumbnail {
        Some(image) => context
            .draw_image_with_html_image_element_and_dw_and_dh(&image, right, top, FACE, FACE)
            .ok()?,
        None => {
            context.set_fill_style_str("#3b4252");
            context.fill_rect(right, top, FACE, FACE);
        }
    }
    context.set_fill_style_str("#ffffff");
    context.set_text_align("center");
    context.set_font("600 44px system-ui, sans-serif");
    context
        .fill_text(content.caption, WIDTH as f64 / 2.0, 90.0)
        .ok()?;
    context.set_font("600 72px system-ui, sans-serif");
    context.set_fill_style_str("#fb923c");
    context
        .fill_text(
            &format!("{:.0} %", 100.0 * content.similarity.max(0.0)),
            WIDTH as f64 / 2.0,
            top + FACE / 2.0 + 20.0,
        )
        .ok()?;
    context.set_font("28px system-ui, sans-serif");
    context
        .fill_text(
            content.similarity_label,
            WIDTH as f64 / 2.0,
            top + FACE / 2.0 + 60.0,
        )
        .ok()?;
    context.set_fill_style_str("#ffffff");
    context.set_font("600 36px system-ui, sans-serif");
    context
        .fill_text(&content.name, right + FACE / 2.0, top + FACE + 55.0)
        .ok()?;
    context.set_font("24px system-ui, sans-serif");
    context
        .fill_text("CelebrityFaces", left + FACE / 2.0, top + FACE + 55.0)
        .ok()?;
    Some(card)
}

/// Draws the card and hands it to the browser as a download.
pub async fn download_card(content: CardContent) {
    let Some(card) = draw(&content).await else {
        return;
    };
    let blob = Promise::new(&mut |resolve, _reject| {
        if card.to_blob(&resolve).is_err() {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::NULL);
        }
    });
    let Some(blob) = JsFuture::from(blob)
        .await
        .ok()
        .and_then(|b| b.dyn_into::<web_sys::Blob>().ok())
    else {
        return;
    };
    save_blob(&blob, "celebrityfaces-match.png");
}

/// Hands `blob` to the browser as a download named `name`.
pub fn save_blob(blob: &web_sys::Blob, name: &str) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(link) = window
        .document()
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        link.set_href(&url);
        link.set_download(name);
        link.click();
    }
    // Freed once the browser has surely read it.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
}

/// Hands `bytes` to the browser as a download named `name`, of type `mime`.
pub fn save_bytes(bytes: &[u8], name: &str, mime: &str) {
    let data = js_sys::Uint8Array::from(bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    if let Ok(blob) =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&data), &options)
    {
        save_blob(&blob, name);
    }
}
