//! The page's state and its root component. Every change of state is an [`Action`] on one
//! reducer; the worker's replies are actions too, so what is shown follows from one place.

use std::rc::Rc;

use celebrityfaces::fetch::{fetch_bytes, fetch_verified};
use celebrityfaces::i18n::{Lang, Text, fill};
use celebrityfaces::protocol::{
    FaceRect, Hit, LoadStage, LoadTimes, PhotoProblem, Reply, Request, StageTimes,
};
use celebrityfaces::worker::INDEX_BASE;
use cf_shards::{Catalog, Manifest, parse_manifest};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::prelude::*;

use crate::dev::{DevPanel, ItemAnswer, Speed};
use crate::intake::Intake;
use crate::link::WorkerLink;
use crate::matches::{MatchesView, People};
use crate::photo_view::PhotoView;

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// `?name=1` (or any value but 0) in the page's address.
fn query_flag(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

fn browser_language() -> Lang {
    if let Some(code) = query_flag("lang") {
        return Lang::choose([code.as_str()]);
    }
    let languages: Vec<String> = web_sys::window()
        .map(|w| {
            w.navigator()
                .languages()
                .iter()
                .filter_map(|l| l.as_string())
                .collect()
        })
        .unwrap_or_default();
    Lang::choose(languages.iter().map(String::as_str))
}

#[derive(Clone, PartialEq)]
pub struct Loading {
    pub network: String,
    pub stage: LoadStage,
    pub done: u64,
    pub total: u64,
}

#[derive(Clone, PartialEq)]
pub struct PhotoState {
    pub id: u32,
    /// Object URL of the visitor's file, shown as it is; revoked when another photo comes.
    pub url: String,
    /// When the last request about this photo was made, for the time to matches.
    pub asked: f64,
    /// The photo as the worker decoded it (upright, downscaled): the boxes' coordinate space.
    pub size: Option<(u32, u32)>,
    pub faces: Vec<FaceRect>,
    /// Faces the visitor drew, counted from the end of `faces`.
    pub drawn: usize,
    pub chosen: Option<usize>,
    pub busy: bool,
    pub problem: Option<(PhotoProblem, String)>,
}

#[derive(Clone, PartialEq)]
pub struct MatchState {
    pub seq: u32,
    pub network: String,
    pub crop: Rc<Vec<u8>>,
    pub crop_side: u32,
    pub hits: Rc<Vec<Hit>>,
    pub times: StageTimes,
    pub received: f64,
}

/// A problem with what the visitor gave, worded in their language.
#[derive(Clone, PartialEq)]
pub enum Notice {
    NotAnImage,
    CameraRefused,
    CameraAbsent,
    CameraFailed(String),
}

#[derive(Clone, PartialEq)]
pub struct State {
    pub lang: Lang,
    pub manifest: Option<Rc<Manifest>>,
    pub manifest_json: Rc<String>,
    pub people: Option<People>,
    pub index_error: Option<String>,
    /// The network searched now, and its item count.
    pub network: Option<String>,
    pub items: usize,
    pub same_person: f32,
    /// How the last network load went, and when the worker first answered.
    pub load_times: LoadTimes,
    pub worker_up: Option<f64>,
    pub loading: Option<Loading>,
    pub network_error: Option<String>,
    pub photo: Option<PhotoState>,
    pub matches: Option<MatchState>,
    pub notice: Option<Notice>,
    pub distinct: bool,
    pub item_answer: Option<ItemAnswer>,
    pub speed: Option<Speed>,
    seq: u32,
}

pub enum Action {
    Manifest(Rc<Manifest>, Rc<String>),
    People(People),
    IndexFailed(String),
    Reply(Reply),
    Language(Lang),
    Distinct(bool),
    NewPhoto { id: u32, url: String },
    Choose(usize),
    SetBox(FaceRect),
    Draw(FaceRect),
    Rematch,
    Notice(Option<Notice>),
}

impl State {
    fn new(lang: Lang) -> State {
        State {
            lang,
            manifest: None,
            manifest_json: Rc::new(String::new()),
            people: None,
            index_error: None,
            network: None,
            items: 0,
            same_person: 0.5,
            load_times: LoadTimes::default(),
            worker_up: None,
            loading: None,
            network_error: None,
            photo: None,
            matches: None,
            notice: None,
            distinct: true,
            item_answer: None,
            speed: None,
            seq: 0,
        }
    }

    /// The chosen face of the current photo, to match.
    pub fn chosen_face(&self) -> Option<(u32, FaceRect)> {
        let photo = self.photo.as_ref()?;
        Some((photo.id, *photo.faces.get(photo.chosen?)?))
    }

    fn current_photo(&mut self, id: u32) -> Option<&mut PhotoState> {
        self.photo.as_mut().filter(|p| p.id == id)
    }

    fn reply(&mut self, reply: Reply) {
        self.worker_up.get_or_insert_with(now_ms);
        match reply {
            Reply::Progress {
                network,
                stage,
                done,
                total,
            } => {
                self.loading = Some(Loading {
                    network,
                    stage,
                    done,
                    total,
                })
            }
            Reply::Ready {
                network,
                items,
                same_person,
                times,
            } => {
                self.load_times = times;
                self.loading = None;
                self.network_error = None;
                self.network = Some(network);
                self.items = items;
                self.same_person = same_person;
            }
            Reply::LoadFailed { network, message } => {
                self.loading = None;
                if self.network.is_none() {
                    self.index_error = Some(message);
                } else {
                    self.network_error = Some(format!("{network}: {message}"));
                }
            }
            Reply::Faces {
                photo,
                width,
                height,
                faces,
                ..
            } => {
                if let Some(current) = self.current_photo(photo) {
                    current.size = Some((width, height));
                    current.chosen = faces
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.area().total_cmp(&b.1.area()))
                        .map(|(i, _)| i);
                    current.busy = !faces.is_empty();
                    current.faces = faces;
                    current.drawn = 0;
                    current.problem = None;
                }
            }
            Reply::Matches {
                photo,
                network,
                face,
                crop,
                crop_side,
                hits,
                times,
            } => {
                let Some(current) = self.current_photo(photo) else {
                    return;
                };
                if let Some(slot) = current.chosen.and_then(|c| current.faces.get_mut(c)) {
                    *slot = face;
                }
                current.busy = false;
                current.problem = None;
                self.seq += 1;
                self.matches = Some(MatchState {
                    seq: self.seq,
                    network,
                    crop: Rc::new(crop),
                    crop_side,
                    hits: Rc::new(hits),
                    times,
                    received: now_ms(),
                });
            }
            Reply::PhotoFailed {
                photo,
                problem,
                detail,
            } => {
                if let Some(current) = self.current_photo(photo) {
                    current.busy = false;
                    current.problem = Some((problem, detail));
                    self.matches = None;
                }
            }
            Reply::ItemHits {
                item,
                hits,
                exact_overlap,
                search_ms,
            } => {
                self.item_answer = Some(ItemAnswer {
                    item,
                    hits: Rc::new(hits),
                    exact_overlap,
                    search_ms,
                })
            }
            Reply::Speed {
                queries,
                forest_qps,
                exact_qps,
            } => {
                self.speed = Some(Speed {
                    queries,
                    forest_qps,
                    exact_qps,
                })
            }
        }
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut state = (*self).clone();
        let asked = now_ms();
        match action {
            Action::Manifest(manifest, json) => {
                state.manifest = Some(manifest);
                state.manifest_json = json;
            }
            Action::People(people) => state.people = Some(people),
            Action::IndexFailed(message) => state.index_error = Some(message),
            Action::Reply(reply) => state.reply(reply),
            Action::Language(lang) => state.lang = lang,
            Action::Distinct(on) => state.distinct = on,
            Action::NewPhoto { id, url } => {
                if let Some(old) = &state.photo {
                    let _ = web_sys::Url::revoke_object_url(&old.url);
                }
                state.photo = Some(PhotoState {
                    id,
                    url,
                    asked,
                    size: None,
                    faces: Vec::new(),
                    drawn: 0,
                    chosen: None,
                    busy: true,
                    problem: None,
                });
                state.matches = None;
                state.notice = None;
            }
            Action::Choose(face) => {
                if let Some(photo) = &mut state.photo
                    && face < photo.faces.len()
                {
                    photo.chosen = Some(face);
                    photo.busy = true;
                    photo.asked = asked;
                }
            }
            Action::SetBox(rect) => {
                if let Some(photo) = &mut state.photo
                    && let Some(slot) = photo.chosen.and_then(|c| photo.faces.get_mut(c))
                {
                    *slot = rect;
                    photo.busy = true;
                    photo.asked = asked;
                }
            }
            Action::Draw(rect) => {
                if let Some(photo) = &mut state.photo {
                    photo.faces.push(rect);
                    photo.drawn += 1;
                    photo.chosen = Some(photo.faces.len() - 1);
                    photo.busy = true;
                    photo.asked = asked;
                }
            }
            Action::Rematch => {
                if let Some(photo) = &mut state.photo
                    && photo.chosen.is_some()
                {
                    photo.busy = true;
                    photo.asked = asked;
                }
            }
            Action::Notice(notice) => state.notice = notice,
        }
        Rc::new(state)
    }
}

#[derive(Properties)]
pub struct AppProps {
    pub worker: Rc<WorkerLink>,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.worker, &other.worker)
    }
}

async fn load_manifest() -> Result<(Manifest, String), String> {
    // The build's index id changes whenever the shipped manifest does.
    let url = format!("{INDEX_BASE}/manifest.json?v={}", env!("CF_INDEX_ID"));
    let bytes = fetch_bytes(&url, &mut |_| {}).await?;
    let manifest =
        parse_manifest(&bytes).map_err(|e| format!("{INDEX_BASE}/manifest.json: {e}"))?;
    let json = String::from_utf8(bytes).map_err(|e| e.to_string())?;
    Ok((manifest, json))
}

async fn load_people(manifest: &Manifest) -> Result<Option<People>, String> {
    let Some(info) = &manifest.catalog else {
        return Ok(None);
    };
    let bytes = fetch_verified(INDEX_BASE, &info.file, &mut |_| {}).await?;
    let catalog = Catalog::decode(info, &bytes).map_err(|e| format!("{}: {e}", info.file.file))?;
    Ok(Some(People::new(catalog, &info.thumbnails.base_url)))
}

/// The service worker that keeps the page usable offline; the page works without one.
fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let container = window.navigator().service_worker();
    let registration = container.register("sw.js");
    spawn_local(async move {
        if let Err(error) = JsFuture::from(registration).await {
            web_sys::console::warn_1(&error);
        }
    });
}

/// Posts the matches to the page that embeds this one in an iframe. Only names and
/// similarities leave: never the photo.
fn post_to_parent(state: &State) {
    let (Some(window), Some(matches), Some(people)) =
        (web_sys::window(), &state.matches, &state.people)
    else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    if parent == window {
        return;
    }
    let shown = people.shown_hits(&matches.hits, state.distinct);
    let message = serde_json::json!({
        "type": "celebrityfaces:matches",
        "network": matches.network,
        "matches": shown.iter().take(5).map(|hit| serde_json::json!({
            "name": people.name_of(hit.item).unwrap_or("?"),
            "similarity": (f64::from(hit.similarity) * 1000.0).round() / 1000.0,
        })).collect::<Vec<_>>(),
    });
    if let Ok(value) = js_sys::JSON::parse(&message.to_string()) {
        let _ = parent.post_message(&value, "*");
    }
}

pub fn network_label(text: &Text, name: &str, description: &str) -> String {
    match name {
        "mobilefacenet192" => text.network_identity.to_string(),
        "look" => text.network_look.to_string(),
        _ => description.to_string(),
    }
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let state = use_reducer(|| State::new(browser_language()));
    let bridge = props.worker.clone();
    let next_photo = use_mut_ref(|| 0u32);
    let embed = use_memo((), |_| query_flag("embed").is_some_and(|v| v != "0"));
    let dropping = use_state(|| false);
    let text = state.lang.text();

    {
        let (dispatcher, bridge) = (state.dispatcher(), bridge.clone());
        use_effect_with((), move |_| {
            let replies = dispatcher.clone();
            bridge.listen(Callback::from(move |reply| {
                replies.dispatch(Action::Reply(reply))
            }));
            spawn_local(async move {
                let (manifest, json) = match load_manifest().await {
                    Ok(loaded) => loaded,
                    Err(message) => return dispatcher.dispatch(Action::IndexFailed(message)),
                };
                let Some(first) = manifest.networks.first().map(|n| n.name.clone()) else {
                    return dispatcher
                        .dispatch(Action::IndexFailed("the index has no network".into()));
                };
                bridge.send(Request::Load {
                    manifest: json.clone(),
                    network: first,
                });
                let manifest = Rc::new(manifest);
                dispatcher.dispatch(Action::Manifest(manifest.clone(), Rc::new(json)));
                match load_people(&manifest).await {
                    Ok(Some(people)) => dispatcher.dispatch(Action::People(people)),
                    Ok(None) => {}
                    Err(message) => dispatcher.dispatch(Action::IndexFailed(message)),
                }
            });
        });
    }

    // The service worker's install downloads the page's files again to keep them: only once the
    // models are ready, so that on a first visit it does not compete with them (measured).
    use_effect_with(state.network.is_some(), |&ready| {
        if ready {
            register_service_worker();
        }
    });

    // Another network searched now: the chosen face and any developer query again, in it.
    {
        let (state, bridge) = (state.clone(), bridge.clone());
        use_effect_with(state.network.clone(), move |_| {
            if let Some((photo, face)) = state.chosen_face() {
                state.dispatch(Action::Rematch);
                bridge.send(Request::Match { photo, face });
            }
            if let Some(answer) = &state.item_answer {
                bridge.send(Request::QueryItem { item: answer.item });
            }
        });
    }

    {
        let lang = state.lang;
        use_effect_with(lang, move |lang| {
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("lang", lang.code());
            }
        });
    }

    // Time to matches, measured when they are on the page; and the embedding page told.
    let shown = use_state(|| None::<(u32, f64, f64)>);
    {
        let (state, shown, embed) = (state.clone(), shown.clone(), *embed);
        let seq = state.matches.as_ref().map(|m| (m.seq, state.distinct));
        use_effect_with(seq, move |seq| {
            if let (Some((seq, _)), Some(matches), Some(photo)) =
                (seq, &state.matches, &state.photo)
            {
                let t = now_ms();
                if shown.as_ref().is_none_or(|s| s.0 != *seq) {
                    shown.set(Some((*seq, t - photo.asked, t - matches.received)));
                }
                if embed {
                    post_to_parent(&state);
                }
            }
        });
    }

    let on_photo = {
        let (state, bridge, next_photo) = (state.clone(), bridge.clone(), next_photo.clone());
        Callback::from(move |blob: web_sys::Blob| {
            let kind = blob.type_();
            if !kind.is_empty() && !kind.starts_with("image/") {
                state.dispatch(Action::Notice(Some(Notice::NotAnImage)));
                return;
            }
            let id = {
                let mut next = next_photo.borrow_mut();
                *next += 1;
                *next
            };
            let url = web_sys::Url::create_object_url_with_blob(&blob).unwrap_or_default();
            state.dispatch(Action::NewPhoto { id, url });
            let bridge = bridge.clone();
            spawn_local(async move {
                let bytes = match JsFuture::from(blob.array_buffer()).await {
                    Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
                    Err(_) => Vec::new(),
                };
                bridge.send(Request::Analyse { photo: id, bytes });
            });
        })
    };
    let on_notice = {
        let state = state.clone();
        Callback::from(move |notice| state.dispatch(Action::Notice(notice)))
    };
    let on_choose = {
        let (state, bridge) = (state.clone(), bridge.clone());
        Callback::from(move |face: usize| {
            if let Some(photo) = &state.photo
                && let Some(rect) = photo.faces.get(face)
            {
                state.dispatch(Action::Choose(face));
                bridge.send(Request::Match {
                    photo: photo.id,
                    face: *rect,
                });
            }
        })
    };
    let on_box = {
        let (state, bridge) = (state.clone(), bridge.clone());
        Callback::from(move |rect: FaceRect| {
            if let Some(photo) = &state.photo {
                state.dispatch(Action::SetBox(rect));
                bridge.send(Request::Match {
                    photo: photo.id,
                    face: rect,
                });
            }
        })
    };
    let on_draw = {
        let (state, bridge) = (state.clone(), bridge.clone());
        Callback::from(move |rect: FaceRect| {
            if let Some(photo) = &state.photo {
                state.dispatch(Action::Draw(rect));
                bridge.send(Request::Match {
                    photo: photo.id,
                    face: rect,
                });
            }
        })
    };
    let on_network = {
        let (state, bridge) = (state.clone(), bridge.clone());
        Callback::from(move |event: Event| {
            let Some(select) = event.target_dyn_into::<web_sys::HtmlSelectElement>() else {
                return;
            };
            let network = select.value();
            if state.network.as_deref() != Some(network.as_str()) {
                bridge.send(Request::Load {
                    manifest: (*state.manifest_json).clone(),
                    network,
                });
            }
        })
    };
    let on_language = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::Language(state.lang.other())))
    };
    let on_distinct = {
        let state = state.clone();
        Callback::from(move |on: bool| state.dispatch(Action::Distinct(on)))
    };
    let on_query = {
        let bridge = bridge.clone();
        Callback::from(move |item: u32| bridge.send(Request::QueryItem { item }))
    };
    let on_bench = {
        let bridge = bridge.clone();
        Callback::from(move |()| bridge.send(Request::Bench))
    };
    let on_dragover = {
        let dropping = dropping.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            if !*dropping {
                dropping.set(true);
            }
        })
    };
    let on_dragleave = {
        let dropping = dropping.clone();
        Callback::from(move |_: DragEvent| dropping.set(false))
    };
    let on_drop = {
        let (dropping, on_photo) = (dropping.clone(), on_photo.clone());
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            dropping.set(false);
            if let Some(file) = event
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|files| files.get(0))
            {
                on_photo.emit(file.into());
            }
        })
    };

    let status = render_status(&state, text);
    let network_switch = match (&state.manifest, &state.network) {
        (Some(manifest), Some(current)) if manifest.networks.len() > 1 => html! {
            <p class="network">
                <label for="network">{ text.network_label }</label>
                <select id="network" onchange={on_network} disabled={state.loading.is_some()}>
                    { for manifest.networks.iter().map(|n| html! {
                        <option value={n.name.clone()} selected={&n.name == current}>
                            { network_label(text, &n.name, &n.description) }
                        </option>
                    }) }
                </select>
            </p>
        },
        _ => Html::default(),
    };
    let notice = state.notice.as_ref().map(|notice| {
        let message = match notice {
            Notice::NotAnImage => text.not_an_image.to_string(),
            Notice::CameraRefused => text.camera_refused.to_string(),
            Notice::CameraAbsent => text.camera_absent.to_string(),
            Notice::CameraFailed(detail) => fill(text.camera_failed, &[("message", detail)]),
        };
        html! { <p id="notice" class="error" role="alert">{ message }</p> }
    });
    let threshold = state.same_person;

    html! {
        <main class={classes!("page", embed.then_some("embed"), dropping.then_some("dropping"))}
            ondragover={on_dragover} ondragleave={on_dragleave} ondrop={on_drop}>
            <header class="top">
                <h1>{ text.title }</h1>
                <button id="lang" type="button" lang={state.lang.other().code()}
                    aria-label={text.switch_language_name} onclick={on_language}>
                    { text.switch_language }
                </button>
            </header>
            if !*embed { <p class="lede">{ text.lede }</p> }
            { status }
            { network_switch }
            <Intake lang={state.lang} on_photo={on_photo} on_notice={on_notice} />
            { for notice }
            if let Some(photo) = &state.photo {
                <section class="analysis" aria-label={text.what_network_sees}>
                    <PhotoView url={photo.url.clone()} size={photo.size} faces={photo.faces.clone()}
                        drawn={photo.drawn} chosen={photo.chosen} lang={state.lang}
                        on_choose={on_choose} on_box={on_box} on_draw={on_draw} />
                    { render_photo_message(photo, text) }
                    if let Some(matches) = &state.matches {
                        <MatchesView lang={state.lang} people={state.people.clone()}
                            crop={matches.crop.clone()} crop_side={matches.crop_side}
                            hits={matches.hits.clone()} distinct={state.distinct}
                            threshold={threshold} on_distinct={on_distinct}
                            timing={render_timing(matches, *shown, text)} />
                    }
                </section>
            }
            if !*embed {
                <DevPanel lang={state.lang} items={state.items} people={state.people.clone()}
                    answer={state.item_answer.clone()} speed={state.speed.clone()}
                    on_query={on_query} on_bench={on_bench} />
                <footer><p>{ text.privacy }</p></footer>
            }
        </main>
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

fn render_status(state: &State, text: &Text) -> Html {
    if let Some(message) = &state.index_error {
        return html! {
            <p id="status" class="error" role="alert">{ fill(text.index_failed, &[("message", message)]) }</p>
        };
    }
    let error = state.network_error.as_ref().map(|message| {
        html! { <p class="error" role="alert">{ fill(text.network_failed, &[("message", message)]) }</p> }
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
        html! {
            <div class="loading">
                <progress id="load-progress" max={loading.total.to_string()} value={loading.done.to_string()}
                    aria-label={words.clone()}></progress>
                <p id="status" role="status" data-network={loading.network.clone()}>{ words }</p>
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
        html! {
            <p id="status" role="status" data-ready={network.clone()}
                data-worker-up={format!("{:.0}", state.worker_up.unwrap_or(0.0))}
                data-download={format!("{:.0}", state.load_times.download)}
                data-prepare-pipeline={format!("{:.0}", state.load_times.pipeline)}
                data-prepare-network={format!("{:.0}", state.load_times.network)}
                data-prepare-index={format!("{:.0}", state.load_times.index)}>{ fill(text.ready, &[
                ("items", &state.items.to_string()),
                ("people", &people.to_string()),
                ("network", &label),
            ]) }</p>
        }
    } else {
        html! { <p id="status" role="status">{ text.loading_index }</p> }
    };
    html! { <>{ line }{ for error }</> }
}

fn render_photo_message(photo: &PhotoState, text: &Text) -> Html {
    if let Some((problem, detail)) = &photo.problem {
        let headline = match problem {
            PhotoProblem::Empty => text.photo_empty,
            PhotoProblem::UnknownFormat => text.photo_unknown_format,
            PhotoProblem::TooLarge => text.photo_too_large,
            PhotoProblem::Damaged => text.photo_damaged,
            PhotoProblem::NoFaceInBox => text.no_face_in_box,
            PhotoProblem::Other => text.photo_failed,
        };
        return html! {
            <p id="photo-message" class="error" role="alert">{ headline }
                <small class="detail">{ format!(" ({detail})") }</small></p>
        };
    }
    if photo.size.is_none() {
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
        <p id="photo-message" role="status" data-faces={detected.to_string()}>
            { message }
            if !photo.faces.is_empty() { <small class="hint">{ format!(" {}", text.edit_hint) }</small> }
        </p>
    }
}

fn render_timing(matches: &MatchState, shown: Option<(u32, f64, f64)>, text: &Text) -> Html {
    let t = matches.times;
    let Some((_, total, render)) = shown.filter(|s| s.0 == matches.seq) else {
        return Html::default();
    };
    let stages = format!(
        "decode {:.1}, detect {:.1}, landmarks {:.1}, align {:.1}, embed {:.1}, search {:.1}, render {:.1} ms",
        t.decode, t.detect, t.landmarks, t.align, t.embed, t.search, render
    );
    html! {
        <p id="timing" class="timing" data-seq={matches.seq.to_string()} data-total={format!("{total:.1}")} data-decode={format!("{:.2}", t.decode)}
            data-detect={format!("{:.2}", t.detect)} data-landmarks={format!("{:.2}", t.landmarks)}
            data-align={format!("{:.2}", t.align)} data-embed={format!("{:.2}", t.embed)}
            data-search={format!("{:.2}", t.search)} data-render={format!("{render:.2}")}>
            { fill(text.timing, &[("total", &format!("{total:.0}"))]) }{ format!(" ({stages})") }
        </p>
    }
}
