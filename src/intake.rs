//! Where photos come in: the file picker, paste from the clipboard anywhere on the page, and the
//! camera. Dropping a file on the page is handled by the page itself. Each gives a Blob.

use celebrityfaces::i18n::Lang;
use gloo_events::EventListener;
use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::prelude::*;

use celebrityfaces::state::Notice;

#[derive(Properties, PartialEq)]
pub struct IntakeProps {
    pub lang: Lang,
    pub on_photo: Callback<web_sys::Blob>,
    pub on_notice: Callback<Option<Notice>>,
}

/// The first image among a paste's files.
fn pasted_image(event: &web_sys::ClipboardEvent) -> Option<web_sys::File> {
    let files = event.clipboard_data()?.files()?;
    (0..files.length())
        .filter_map(|i| files.get(i))
        .find(|f| f.type_().starts_with("image/"))
}

fn stop(stream: &web_sys::MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Why the camera could not start, from the DOMException's name.
fn camera_notice(error: &JsValue) -> Notice {
    let name = error
        .dyn_ref::<web_sys::DomException>()
        .map(|e| e.name())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => Notice::CameraRefused,
        "NotFoundError" | "OverconstrainedError" | "DevicesNotFoundError" => Notice::CameraAbsent,
        _ => Notice::CameraFailed(
            error
                .dyn_ref::<web_sys::DomException>()
                .map(|e| e.message())
                .or_else(|| error.as_string())
                .unwrap_or(name),
        ),
    }
}

/// One frame of the video as a JPEG.
async fn capture(video: &web_sys::HtmlVideoElement) -> Option<web_sys::Blob> {
    let (width, height) = (video.video_width(), video.video_height());
    if width == 0 || height == 0 {
        return None;
    }
    let document = web_sys::window()?.document()?;
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context
        .draw_image_with_html_video_element(video, 0.0, 0.0)
        .ok()?;
    let blob = Promise::new(&mut |resolve, _reject| {
        if canvas
            .to_blob_with_type_and_encoder_options(&resolve, "image/jpeg", &JsValue::from(0.92))
            .is_err()
        {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::NULL);
        }
    });
    JsFuture::from(blob).await.ok()?.dyn_into().ok()
}

#[function_component(Intake)]
pub fn intake(props: &IntakeProps) -> Html {
    let text = props.lang.text();
    let stream = use_state(|| None::<web_sys::MediaStream>);
    let video = use_node_ref();

    // Paste anywhere on the page.
    {
        let on_photo = props.on_photo.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window()
                .and_then(|w| w.document())
                .map(|document| {
                    EventListener::new(&document, "paste", move |event| {
                        if let Some(file) = event
                            .dyn_ref::<web_sys::ClipboardEvent>()
                            .and_then(pasted_image)
                        {
                            on_photo.emit(file.into());
                        }
                    })
                });
            move || drop(listener)
        });
    }
    // The live camera picture, once there is a stream; the camera is released when it goes.
    {
        let (video, stream) = (video.clone(), stream.clone());
        use_effect_with(stream.clone(), move |stream| {
            if let (Some(video), Some(stream)) =
                (video.cast::<web_sys::HtmlVideoElement>(), stream.as_ref())
            {
                video.set_src_object(Some(stream));
                let _ = video.play();
            }
        });
    }

    let on_file = {
        let on_photo = props.on_photo.clone();
        Callback::from(move |event: Event| {
            let Some(input) = event.target_dyn_into::<web_sys::HtmlInputElement>() else {
                return;
            };
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                on_photo.emit(file.into());
            }
            // The same file chosen again is a new choice.
            input.set_value("");
        })
    };
    let on_camera = {
        let (stream, on_notice) = (stream.clone(), props.on_notice.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok())
            else {
                on_notice.emit(Some(Notice::CameraAbsent));
                return;
            };
            let constraints = web_sys::MediaStreamConstraints::new();
            constraints.set_video(&JsValue::TRUE);
            let request = match devices.get_user_media_with_constraints(&constraints) {
                Ok(request) => request,
                Err(error) => {
                    on_notice.emit(Some(camera_notice(&error)));
                    return;
                }
            };
            let (stream, on_notice) = (stream.clone(), on_notice.clone());
            spawn_local(async move {
                match JsFuture::from(request).await {
                    Ok(granted) => {
                        on_notice.emit(None);
                        stream.set(granted.dyn_into().ok());
                    }
                    Err(error) => on_notice.emit(Some(camera_notice(&error))),
                }
            });
        })
    };
    let on_capture = {
        let (stream, video, on_photo) = (stream.clone(), video.clone(), props.on_photo.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(element) = video.cast::<web_sys::HtmlVideoElement>() else {
                return;
            };
            let (stream, on_photo) = (stream.clone(), on_photo.clone());
            spawn_local(async move {
                if let Some(blob) = capture(&element).await {
                    on_photo.emit(blob);
                }
                if let Some(live) = stream.as_ref() {
                    stop(live);
                }
                stream.set(None);
            });
        })
    };
    let on_cancel = {
        let stream = stream.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(live) = stream.as_ref() {
                stop(live);
            }
            stream.set(None);
        })
    };

    html! {
        <section class="intake">
            <div class="pick">
                <label class="button primary" for="photo-input">{ text.choose_photo }</label>
                <input id="photo-input" class="visually-hidden" type="file" accept="image/*" onchange={on_file} />
                <button type="button" id="camera" onclick={on_camera}>{ text.take_photo }</button>
                <span class="drop-hint">{ text.drop_hint }</span>
            </div>
            if stream.is_some() {
                <div class="camera">
                    <video ref={video} autoplay=true muted=true playsinline=true aria-label={text.take_photo}></video>
                    <div class="camera-buttons">
                        <button type="button" id="capture" class="primary" onclick={on_capture}>{ text.capture }</button>
                        <button type="button" id="camera-cancel" onclick={on_cancel}>{ text.cancel }</button>
                    </div>
                </div>
            }
        </section>
    }
}
