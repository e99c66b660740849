//! The page's smaller views: the status line, the network switch, the photo's message, the
//! notice, the timing. Each reads the state and draws; none changes anything.

use celebrityfaces::i18n::{Lang, Text, Worded, fill, load_problem, photo_problem, stage_times};
use celebrityfaces::state::{MatchState, Notice, PhotoState, State};
use cf_protocol::LoadStage;
use yew::prelude::*;

pub fn network_label(text: &Text, name: &str, description: &str) -> String {
    match name {
        "mobilefacenet192" => text.network_identity.to_string(),
        "faceplugin512" => text.network_second.to_string(),
        _ => description.to_string(),
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

/// A problem's sentence, "Try again" where that may help, and the detail folded away behind
/// "Details".
fn problem(
    id: &'static str,
    worded: Worded,
    text: &Text,
    retry: Option<(&Callback<MouseEvent>, u32)>,
) -> Html {
    // `data-attempt` counts the tries, so that a test (or a visitor's tools) can tell this
    // problem from the one before "Try again".
    html! {
        <div id={id} class="error" role="alert" data-attempt={retry.map(|(_, n)| n.to_string())}>
            <p class="message">{ worded.message }</p>
            if let Some((retry, _)) = retry {
                <button type="button" id="retry" onclick={retry.clone()}>{ text.retry }</button>
            }
            if let Some(detail) = worded.detail {
                <details class="detail"><summary>{ text.details }</summary><p>{ detail }</p></details>
            }
        </div>
    }
}

/// The loading line or the load's problem; `now` tells a stalled download.
pub fn status(state: &State, now: f64, on_retry: &Callback<MouseEvent>) -> Html {
    let text = state.lang.text();
    let retry = state
        .retryable()
        .is_some()
        .then_some((on_retry, state.load_attempts));
    if let Some(index_problem) = &state.index_problem {
        let worded = load_problem(state.lang, index_problem);
        let worded = Worded {
            message: fill(text.index_failed, &[("message", &worded.message)]),
            ..worded
        };
        return problem("status", worded, text, retry);
    }
    let network_problem = state.network_problem.as_ref().map(|(_, p)| {
        let worded = load_problem(state.lang, p);
        let worded = Worded {
            message: fill(text.network_failed, &[("message", &worded.message)]),
            ..worded
        };
        problem("network-problem", worded, text, retry)
    });
    let line = if let Some(loading) = &state.loading {
        let percent = (100 * loading.done)
            .checked_div(loading.total)
            .unwrap_or(100);
        let words = match loading.stage {
            LoadStage::Downloading => fill(
                text.downloading,
                &[
                    ("done", &megabytes(loading.done)),
                    ("total", &megabytes(loading.total)),
                    ("percent", &percent.to_string()),
                ],
            ),
            LoadStage::Preparing => text.preparing.to_string(),
        };
        let stalled = loading.stalled_for(now).map(|seconds| {
            html! {
                <p id="stalled" role="alert">
                    { fill(text.download_stalled, &[("seconds", &seconds.to_string())]) }
                </p>
            }
        });
        html! {
            <div class="loading">
                <progress id="load-progress" max={loading.total.to_string()} value={loading.done.to_string()}
                    aria-label={words.clone()}></progress>
                <p id="status" role="status" data-network={loading.network.clone()}>{ words }</p>
                { for stalled }
            </div>
        }
    } else if let (Some(network), Some(manifest)) = (&state.network, &state.manifest) {
        let people = manifest.catalog.as_ref().map(|c| c.people).unwrap_or(0);
        let label = manifest
            .networks
            .iter()
            .find(|n| &n.name == network)
            .map(|n| network_label(text, &n.name, &n.description))
            .unwrap_or_default();
        let times = state.load_times;
        html! {
            <p id="status" role="status" data-ready={network.clone()}
                data-worker-up={format!("{:.0}", state.worker_up.unwrap_or(0.0))}
                data-download={format!("{:.0}", times.download)}
                data-prepare-pipeline={format!("{:.0}", times.pipeline)}
                data-prepare-network={format!("{:.0}", times.network)}
                data-prepare-index={format!("{:.0}", times.index)}>{ fill(text.ready, &[
                ("items", &state.items.to_string()),
                ("people", &people.to_string()),
                ("network", &label),
            ]) }</p>
        }
    } else {
        html! { <p id="status" role="status">{ text.loading_index }</p> }
    };
    html! { <>{ line }{ for network_problem }</> }
}

pub fn network_switch(state: &State, on_network: Callback<String>) -> Html {
    let text = state.lang.text();
    let (Some(manifest), Some(current)) = (&state.manifest, &state.network) else {
        return Html::default();
    };
    if manifest.networks.len() < 2 {
        return Html::default();
    }
    let on_change = Callback::from(move |event: Event| {
        if let Some(select) = event.target_dyn_into::<web_sys::HtmlSelectElement>() {
            on_network.emit(select.value());
        }
    });
    html! {
        <p class="network">
            <label for="network">{ text.network_label }</label>
            <select id="network" onchange={on_change} disabled={state.loading.is_some()}>
                { for manifest.networks.iter().map(|n| html! {
                    <option value={n.name.clone()} selected={&n.name == current}>
                        { network_label(text, &n.name, &n.description) }
                    </option>
                }) }
            </select>
        </p>
    }
}

pub fn notice(state: &State) -> Html {
    let text = state.lang.text();
    let Some(notice) = &state.notice else {
        return Html::default();
    };
    let message = match notice {
        Notice::NotAnImage => text.not_an_image.to_string(),
        Notice::CameraRefused => text.camera_refused.to_string(),
        Notice::CameraAbsent => text.camera_absent.to_string(),
        Notice::CameraFailed(detail) => fill(text.camera_failed, &[("message", detail)]),
    };
    html! { <p id="notice" class="error" role="alert">{ message }</p> }
}

pub fn photo_message(photo: &PhotoState, lang: Lang) -> Html {
    let text = lang.text();
    if let Some(photo_problem_found) = &photo.problem {
        return problem(
            "photo-message",
            photo_problem(lang, photo_problem_found),
            text,
            None,
        );
    }
    if photo.size.is_none() {
        if !photo.busy {
            return Html::default();
        }
        return html! { <p id="photo-message" role="status" class="busy">{ text.analysing }</p> };
    }
    let detected = photo.faces.len() - photo.drawn;
    let message = match (photo.faces.len(), detected) {
        (0, _) => text.no_face_found.to_string(),
        (_, 1) => text.one_face_found.to_string(),
        (_, 0) => text.drawn_face.to_string(),
        (_, n) => fill(text.faces_found, &[("n", &n.to_string())]),
    };
    html! {
        <p id="photo-message" role="status" data-faces={detected.to_string()}
            data-every-face={photo.every_face_found.to_string()}
            data-second-look={photo.second_look_ms.map(|ms| format!("{ms:.1}")).unwrap_or_default()}>
            { message }
            if !photo.every_face_found { <small class="hint looking">{ format!(" {}", text.looking_for_more) }</small> }
            if !photo.faces.is_empty() { <small class="hint">{ format!(" {}", text.edit_hint) }</small> }
        </p>
    }
}

/// How long the matches took: `shown` is (matches shown, ms since asked, ms to render).
pub fn timing(matches: &MatchState, shown: Option<(u32, f64, f64)>, lang: Lang) -> Html {
    let t = matches.times;
    let Some((_, total, render)) = shown.filter(|s| s.0 == matches.shown) else {
        return Html::default();
    };
    html! {
        <p id="timing" class="timing" data-seq={matches.shown.to_string()} data-total={format!("{total:.1}")} data-decode={format!("{:.2}", t.decode)}
            data-detect={format!("{:.2}", t.detect)} data-landmarks={format!("{:.2}", t.landmarks)}
            data-align={format!("{:.2}", t.align)} data-embed={format!("{:.2}", t.embed)}
            data-estimate={format!("{:.2}", t.estimate)} data-search={format!("{:.2}", t.search)}
            data-render={format!("{render:.2}")}>
            { fill(lang.text().timing, &[("total", &format!("{total:.0}"))]) }
            { format!(" ({})", stage_times(lang, &t, render)) }
        </p>
    }
}
