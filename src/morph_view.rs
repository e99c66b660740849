//! The morph dialog: the frame from the visitor to a celebrity on a canvas, a slider (a range
//! input: arrows, Page Up/Down, Home/End and touch work as they do on any slider), and a button
//! that saves the animation. It only shows the state; the frames come from the morph worker.

use celebrityfaces::i18n::{Lang, fill, morph_problem};
use celebrityfaces::people::People;
use celebrityfaces::state::{MorphAction, MorphStage, MorphState};
use wasm_bindgen::Clamped;
use yew::prelude::*;

/// Steps of the slider: a frame per step when dragged.
const SLIDER_STEPS: u32 = 100;

#[derive(Properties, PartialEq)]
pub struct MorphProps {
    pub lang: Lang,
    pub morph: MorphState,
    pub people: Option<People>,
    pub on_action: Callback<MorphAction>,
}

fn paint_rgba(canvas: &web_sys::HtmlCanvasElement, rgba: &[u8], side: u32) -> Option<()> {
    let context: web_sys::CanvasRenderingContext2d =
        wasm_bindgen::JsCast::dyn_into(canvas.get_context("2d").ok()??).ok()?;
    let image =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), side, side).ok()?;
    context.put_image_data(&image, 0.0, 0.0).ok()
}

#[function_component(MorphView)]
pub fn morph_view(props: &MorphProps) -> Html {
    let text = props.lang.text();
    let morph = &props.morph;
    let canvas = use_node_ref();
    let slider = use_node_ref();
    {
        let canvas = canvas.clone();
        let frame = morph.frame.clone();
        let side = morph.side;
        use_effect_with((frame.clone(), side), move |_| {
            if let (Some(canvas), Some(frame)) =
                (canvas.cast::<web_sys::HtmlCanvasElement>(), frame)
            {
                paint_rgba(&canvas, &frame, side);
            }
        });
    }
    {
        // Focus goes to the slider once it can be used, and back to the opener when the dialog
        // closes.
        let slider = slider.clone();
        let ready = morph.stage == MorphStage::Ready;
        use_effect_with((morph.seq, ready), move |_| {
            let opener = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(input) = slider.cast::<web_sys::HtmlElement>() {
                let _ = input.focus();
            }
            move || {
                if let Some(opener) = opener {
                    let _ = opener.focus();
                }
            }
        });
    }
    let name = props
        .people
        .as_ref()
        .and_then(|p| p.name_of(morph.item))
        .unwrap_or("?")
        .to_string();
    let on_input = props.on_action.reform(|event: InputEvent| {
        let value = event
            .target_dyn_into::<web_sys::HtmlInputElement>()
            .map_or(0.0, |input| input.value_as_number());
        MorphAction::Blend((value / f64::from(SLIDER_STEPS)) as f32)
    });
    {
        // Escape closes the dialog wherever the focus is: a button that was clicked and then
        // disabled (Save as GIF while the GIF is made) hands the focus back to the document.
        let on_action = props.on_action.clone();
        use_effect_with(morph.seq, move |_| {
            let listener = web_sys::window().map(|window| {
                gloo_events::EventListener::new(&window, "keydown", move |event| {
                    let escape = wasm_bindgen::JsCast::dyn_ref::<web_sys::KeyboardEvent>(event)
                        .is_some_and(|key| key.key() == "Escape");
                    if escape {
                        on_action.emit(MorphAction::Close);
                    }
                })
            });
            move || drop(listener)
        });
    }
    let close = props.on_action.reform(|_: MouseEvent| MorphAction::Close);
    let save = props.on_action.reform(|_: MouseEvent| MorphAction::SaveGif);
    let ready = morph.stage == MorphStage::Ready;
    let value = (morph.t * SLIDER_STEPS as f32).round() as u32;
    let status = match &morph.stage {
        MorphStage::Preparing => html! { <p class="morph-status">{ text.morph_preparing }</p> },
        MorphStage::Ready => Html::default(),
        MorphStage::Failed(problem) => {
            let worded = morph_problem(props.lang, problem, &name);
            html! {
                <div class="morph-problem" role="alert">
                    <p>{ worded.message }</p>
                    if let Some(detail) = worded.detail {
                        <details><summary>{ text.details }</summary><p>{ detail }</p></details>
                    }
                </div>
            }
        }
    };
    let shown = morph.frame.is_some();
    html! {
        <div class="backdrop">
            <div id="morph" role="dialog" aria-modal="true" aria-labelledby="morph-title"
                data-stage={match morph.stage { MorphStage::Preparing => "preparing", MorphStage::Ready => "ready", MorphStage::Failed(_) => "failed" }}
                data-frame-t={shown.then(|| format!("{:.2}", morph.frame_t))}
                data-frame-ms={morph.frame_ms.map(|ms| format!("{ms:.1}")).unwrap_or_default()}
                data-prepare-ms={morph.prepare_ms.map(|ms| format!("{ms:.1}")).unwrap_or_default()}
                data-gif-ms={morph.gif_ms.map(|ms| format!("{ms:.1}")).unwrap_or_default()}>
                <header>
                    <h3 id="morph-title">{ fill(text.morph_title, &[("name", &name)]) }</h3>
                    <button type="button" id="morph-close" onclick={close}>{ text.close }</button>
                </header>
                <canvas ref={canvas} id="morph-frame" width={morph.side.max(1).to_string()}
                    height={morph.side.max(1).to_string()} class={classes!((!shown).then_some("empty"))}
                    role="img" aria-label={fill(text.morph_slider, &[("name", &name)])}></canvas>
                { status }
                <div class="morph-slider">
                    <span aria-hidden="true">{ text.morph_you }</span>
                    <input ref={slider} id="morph-t" type="range" min="0" max={SLIDER_STEPS.to_string()}
                        step="1" value={value.to_string()} disabled={!ready} oninput={on_input}
                        aria-label={fill(text.morph_slider, &[("name", &name)])}
                        aria-valuetext={format!("{value} %")} />
                    <span aria-hidden="true">{ name.clone() }</span>
                </div>
                <button type="button" id="morph-gif" onclick={save} disabled={!ready || morph.making_gif}>
                    { if morph.making_gif { text.morph_making_gif } else { text.morph_save_gif } }
                </button>
            </div>
        </div>
    }
}
