//! The visitor's photo with a box on every face: click a box to choose that face; drag the
//! chosen box to move it, its corners to resize it, or the photo to draw a new box (mouse, pen
//! and touch through pointer events); arrow keys move the focused box, Shift+arrows resize it.

use celebrityfaces::i18n::{Lang, fill};
use cf_protocol::{FaceRect, MIN_FACE_SIDE};
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PhotoProps {
    pub url: String,
    /// The decoded photo's size: the boxes' coordinate space. None until the worker answers.
    pub size: Option<(u32, u32)>,
    pub faces: Vec<FaceRect>,
    /// How many of `faces`, at the end, the visitor drew.
    pub drawn: usize,
    pub chosen: Option<usize>,
    pub lang: Lang,
    pub on_choose: Callback<usize>,
    /// The chosen box, moved or resized.
    pub on_box: Callback<FaceRect>,
    /// A box the visitor drew.
    pub on_draw: Callback<FaceRect>,
}

#[derive(Clone, Copy, PartialEq)]
enum Grip {
    Move,
    Corner { left: bool, top: bool },
    Draw,
}

#[derive(Clone, Copy, PartialEq)]
struct Drag {
    grip: Grip,
    start: (f32, f32),
    original: FaceRect,
    current: FaceRect,
}

impl Drag {
    fn to(self, at: (f32, f32), width: f32, height: f32) -> FaceRect {
        let (dx, dy) = (at.0 - self.start.0, at.1 - self.start.1);
        match self.grip {
            Grip::Move => self.original.moved(dx, dy, width, height),
            Grip::Corner { left, top } => self.original.resized(left, top, dx, dy, width, height),
            Grip::Draw => FaceRect {
                x1: self.start.0,
                y1: self.start.1,
                x2: at.0,
                y2: at.1,
                quarter_turns: 0,
            }
            .normalised(width, height),
        }
    }
}

fn placement(rect: &FaceRect, width: f32, height: f32) -> String {
    format!(
        "left:{:.3}%;top:{:.3}%;width:{:.3}%;height:{:.3}%",
        100.0 * rect.x1 / width,
        100.0 * rect.y1 / height,
        100.0 * rect.width() / width,
        100.0 * rect.height() / height
    )
}

#[function_component(PhotoView)]
pub fn photo_view(props: &PhotoProps) -> Html {
    let text = props.lang.text();
    let overlay = use_node_ref();
    let drag = use_state(|| None::<Drag>);
    // The box as arrow keys move it; matched when the key is released, so that a held key
    // moves the box smoothly instead of queueing a match per repeat.
    let nudged = use_state(|| None::<FaceRect>);
    crate::styled::use_data_styles(overlay.clone());
    let Some((width, height)) = props.size.map(|(w, h)| (w as f32, h as f32)) else {
        return html! {
            <div class="photo-frame">
                <img id="photo" src={props.url.clone()} alt="" draggable="false" decoding="async" />
            </div>
        };
    };

    // Pointer position in photo pixels.
    let point = {
        let overlay = overlay.clone();
        move |event: &PointerEvent| -> Option<(f32, f32)> {
            let element = overlay.cast::<web_sys::Element>()?;
            let frame = element.get_bounding_client_rect();
            if frame.width() <= 0.0 || frame.height() <= 0.0 {
                return None;
            }
            Some((
                ((event.client_x() as f64 - frame.left()) / frame.width()) as f32 * width,
                ((event.client_y() as f64 - frame.top()) / frame.height()) as f32 * height,
            ))
        }
    };
    let chosen_rect = props.chosen.and_then(|c| props.faces.get(c)).copied();

    let on_pointer_down = {
        let (drag, overlay, point) = (drag.clone(), overlay.clone(), point.clone());
        Callback::from(move |event: PointerEvent| {
            if event.button() != 0 {
                return;
            }
            let grip = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|e| e.closest("[data-grip]").ok().flatten())
                .and_then(|e| e.get_attribute("data-grip"));
            let grip = match grip.as_deref() {
                Some("move") => Grip::Move,
                Some("nw") => Grip::Corner {
                    left: true,
                    top: true,
                },
                Some("ne") => Grip::Corner {
                    left: false,
                    top: true,
                },
                Some("sw") => Grip::Corner {
                    left: true,
                    top: false,
                },
                Some("se") => Grip::Corner {
                    left: false,
                    top: false,
                },
                // Another face's box: its click chooses it.
                Some(_) => return,
                None => Grip::Draw,
            };
            let Some(at) = point(&event) else {
                return;
            };
            let original = match grip {
                Grip::Draw => FaceRect {
                    x1: at.0,
                    y1: at.1,
                    x2: at.0,
                    y2: at.1,
                    quarter_turns: 0,
                },
                _ => match chosen_rect {
                    Some(rect) => rect,
                    None => return,
                },
            };
            if let Some(element) = overlay.cast::<web_sys::Element>() {
                let _ = element.set_pointer_capture(event.pointer_id());
            }
            event.prevent_default();
            drag.set(Some(Drag {
                grip,
                start: at,
                original,
                current: original,
            }));
        })
    };
    let on_pointer_move = {
        let (drag, point) = (drag.clone(), point.clone());
        Callback::from(move |event: PointerEvent| {
            if let (Some(active), Some(at)) = (*drag, point(&event)) {
                drag.set(Some(Drag {
                    current: active.to(at, width, height),
                    ..active
                }));
            }
        })
    };
    let on_pointer_up = {
        let (drag, on_box, on_draw) = (drag.clone(), props.on_box.clone(), props.on_draw.clone());
        Callback::from(move |_: PointerEvent| {
            let Some(done) = *drag else {
                return;
            };
            drag.set(None);
            let rect = done.current;
            match done.grip {
                Grip::Draw if rect.width() >= MIN_FACE_SIDE && rect.height() >= MIN_FACE_SIDE => {
                    on_draw.emit(rect)
                }
                Grip::Move | Grip::Corner { .. } if rect != done.original => on_box.emit(rect),
                _ => {}
            }
        })
    };
    let on_pointer_cancel = {
        let drag = drag.clone();
        Callback::from(move |_: PointerEvent| drag.set(None))
    };
    let on_key = {
        let nudged = nudged.clone();
        Callback::from(move |event: KeyboardEvent| {
            let Some(rect) = (*nudged).or(chosen_rect) else {
                return;
            };
            let step = (width.min(height) * 0.02).max(2.0);
            let (dx, dy) = match event.key().as_str() {
                "ArrowLeft" => (-step, 0.0),
                "ArrowRight" => (step, 0.0),
                "ArrowUp" => (0.0, -step),
                "ArrowDown" => (0.0, step),
                _ => return,
            };
            event.prevent_default();
            let changed = if event.shift_key() {
                rect.resized(false, false, dx, dy, width, height)
            } else {
                rect.moved(dx, dy, width, height)
            };
            if changed.width() >= MIN_FACE_SIDE && changed.height() >= MIN_FACE_SIDE {
                nudged.set(Some(changed));
            }
        })
    };
    let on_key_done = {
        let (nudged, on_box) = (nudged.clone(), props.on_box.clone());
        Callback::from(move |()| {
            if let Some(rect) = *nudged {
                nudged.set(None);
                if Some(rect) != chosen_rect {
                    on_box.emit(rect);
                }
            }
        })
    };

    let count = props.faces.len();
    let detected = count - props.drawn;
    let boxes = props.faces.iter().enumerate().map(|(i, face)| {
        let chosen = props.chosen == Some(i);
        let rect = match (*drag, *nudged, chosen) {
            (Some(active), _, true) if active.grip != Grip::Draw => active.current,
            (_, Some(moved), true) => moved,
            _ => *face,
        };
        let label = if i < detected {
            let lying = match face.quarter_turns % 4 {
                0 => "",
                2 => text.face_upside_down,
                _ => text.face_on_its_side,
            };
            fill(
                text.face_label,
                &[("n", &(i + 1).to_string()), ("count", &detected.to_string())],
            ) + lying
        } else {
            text.drawn_face.to_string()
        };
        let quarter_turns = face.quarter_turns.to_string();
        if chosen {
            html! {
                <button type="button" class="face-box chosen" data-grip="move" data-face={i.to_string()}
                    data-quarter-turns={quarter_turns}
                    aria-label={label} aria-pressed="true" data-style={placement(&rect, width, height)}
                    onkeydown={on_key.clone()} onkeyup={on_key_done.reform(|_: KeyboardEvent| ())}
                    onblur={on_key_done.reform(|_: FocusEvent| ())}>
                    <span class="handle nw" data-grip="nw"></span>
                    <span class="handle ne" data-grip="ne"></span>
                    <span class="handle sw" data-grip="sw"></span>
                    <span class="handle se" data-grip="se"></span>
                </button>
            }
        } else {
            let on_choose = props.on_choose.clone();
            html! {
                <button type="button" class="face-box" data-grip="other" data-face={i.to_string()}
                    data-quarter-turns={quarter_turns}
                    aria-label={label} aria-pressed="false" data-style={placement(&rect, width, height)}
                    onclick={Callback::from(move |_: MouseEvent| on_choose.emit(i))}>
                </button>
            }
        }
    });
    let drawing = drag
        .filter(|d| d.grip == Grip::Draw)
        .map(|d| html! { <div class="face-box drawing" data-style={placement(&d.current, width, height)}></div> });

    html! {
        <div class="photo-frame">
            <img id="photo" src={props.url.clone()} alt="" draggable="false" decoding="async" />
            <div class="overlay" ref={overlay} data-width={width.to_string()} data-height={height.to_string()}
                onpointerdown={on_pointer_down} onpointermove={on_pointer_move}
                onpointerup={on_pointer_up} onpointercancel={on_pointer_cancel}>
                { for boxes }
                { for drawing }
            </div>
        </div>
    }
}
