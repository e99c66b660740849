//! The page's root component: it holds the [`State`], turns what happens into [`Action`]s,
//! carries out the [`Effect`]s the reducer returns (requests to the worker, object URLs let
//! go), and lays out the views. What the page does is decided in `celebrityfaces::state`.

use std::cell::RefCell;
use std::rc::Rc;

use celebrityfaces::fetch::{BrowserStore, now_ms};
use celebrityfaces::i18n::Lang;
use celebrityfaces::state::{Action, Effect, MorphAction, Notice, State};
use cf_protocol::{FaceRect, INDEX_BASE, LoadProblem};
use cf_shards::{DownloadError, FileStore, Manifest, parse_manifest};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::prelude::*;

use crate::dev::DevPanel;
use crate::intake::Intake;
use crate::link::{MorphLink, WorkerLink};
use crate::matches::MatchesView;
use crate::morph_view::MorphView;
use crate::photo_view::PhotoView;
use crate::views::{network_switch, photo_message, status, timing};

/// `?name=value` in the page's address.
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

/// The state and what carries out its effects: actions go in through [`Store::dispatch`].
#[derive(Clone)]
pub struct Store {
    state: Rc<RefCell<State>>,
    worker: Rc<WorkerLink>,
    morph: Rc<MorphLink>,
    rerender: UseForceUpdateHandle,
}

impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
    }
}

impl Store {
    pub fn dispatch(&self, action: Action) {
        let effects = self.state.borrow_mut().reduce(action, now_ms());
        for effect in effects {
            match effect {
                Effect::Send(request) => self.worker.send(request),
                Effect::Morph(request) => {
                    let store = self.clone();
                    self.morph.send(request, move |reply| {
                        store.dispatch(Action::Morph(MorphAction::Reply(reply)))
                    });
                }
                Effect::Revoke(url) => {
                    let _ = web_sys::Url::revoke_object_url(&url);
                }
                Effect::Save { name, mime, bytes } => crate::share::save_bytes(&bytes, &name, mime),
                Effect::FetchIndex => fetch_index(self.clone()),
            }
        }
        self.rerender.force_update();
    }

    pub fn callback<T: 'static>(&self, action: impl Fn(T) -> Action + 'static) -> Callback<T> {
        let store = self.clone();
        Callback::from(move |value| store.dispatch(action(value)))
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

/// What a failed download of a file the page fetches itself says.
fn download_problem(file: &str, error: DownloadError) -> LoadProblem {
    match error {
        DownloadError::Unreachable(detail) => LoadProblem::Unreachable {
            file: file.into(),
            detail,
        },
        DownloadError::Http(status) => LoadProblem::Http {
            file: file.into(),
            status,
        },
    }
}

async fn load_manifest() -> Result<(Manifest, String), LoadProblem> {
    // The build's index id changes whenever the shipped manifest does.
    let url = format!("{INDEX_BASE}/manifest.json?v={}", env!("CF_INDEX_ID"));
    let bytes = BrowserStore
        .download(&url, &mut |_| {})
        .await
        .map_err(|e| download_problem("manifest.json", e))?;
    let manifest = parse_manifest(&bytes).map_err(|e| LoadProblem::Manifest {
        detail: e.to_string(),
    })?;
    let json = String::from_utf8(bytes).map_err(|e| LoadProblem::Manifest {
        detail: e.to_string(),
    })?;
    Ok((manifest, json))
}

/// Fetches the manifest and hands it to the state, which loads the first network.
fn fetch_index(store: Store) {
    spawn_local(async move {
        match load_manifest().await {
            Ok((manifest, json)) => store.dispatch(Action::IndexFound {
                manifest: Rc::new(manifest),
                json: Rc::new(json),
            }),
            Err(problem) => store.dispatch(Action::IndexFailed(problem)),
        }
    });
}

/// The service worker that keeps the page usable offline; the page works without one.
fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let registration = window.navigator().service_worker().register("sw.js");
    spawn_local(async move {
        if let Err(error) = JsFuture::from(registration).await {
            web_sys::console::warn_1(&error);
        }
    });
}

/// Reads a photo the visitor gave and hands it to the page's state.
fn take_photo(store: &Store, blob: web_sys::Blob) {
    let kind = blob.type_();
    if !kind.is_empty() && !kind.starts_with("image/") {
        store.dispatch(Action::Notice(Some(Notice::NotAnImage)));
        return;
    }
    let url = web_sys::Url::create_object_url_with_blob(&blob).unwrap_or_default();
    store.dispatch(Action::NewPhoto { url: url.clone() });
    let store = store.clone();
    spawn_local(async move {
        // An unreadable file is sent as no bytes: the worker says it is empty.
        let bytes = match JsFuture::from(blob.array_buffer()).await {
            Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
            Err(_) => Vec::new(),
        };
        store.dispatch(Action::PhotoRead { url, bytes });
    });
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let cell = use_mut_ref(|| State::new(browser_language()));
    let morph = use_memo((), |_| MorphLink::default());
    let store = Store {
        state: cell,
        worker: props.worker.clone(),
        morph: Rc::clone(&morph),
        rerender: use_force_update(),
    };
    let embed = use_memo((), |_| query_flag("embed").is_some_and(|v| v != "0"));
    // The embedding page, told the results when the operator allows it (crate::embed).
    let parent = use_memo((), |_| {
        if *embed {
            crate::embed::Parent::connect()
        } else {
            None
        }
    });
    let dropping = use_state(|| false);

    {
        let store = store.clone();
        use_effect_with((), move |_| {
            let replies = store.clone();
            store.worker.listen(Callback::from(move |reply| {
                replies.dispatch(Action::Reply(reply))
            }));
            fetch_index(store);
        });
    }
    // While a network loads, the page looks again each second: a download that stands still
    // is said to be stalled (`Loading::stalled_for`).
    {
        let rerender = store.rerender.clone();
        use_effect_with(store.state.borrow().loading.is_some(), move |&loading| {
            let ticking = loading.then(|| {
                gloo_timers::callback::Interval::new(1_000, move || rerender.force_update())
            });
            move || drop(ticking)
        });
    }

    let state = store.state.borrow().clone();
    let text = state.lang.text();

    // The service worker's install reads the page's files again and stores them: only once the
    // models are ready and no photo waits for its matches, so that on a first visit it competes
    // with neither (measured: docs/BENCHMARKS.md).
    let service_worker_asked = use_mut_ref(|| false);
    use_effect_with(state.settled(), move |&settled| {
        if settled && !service_worker_asked.replace(true) {
            register_service_worker();
        }
    });

    use_effect_with(state.lang, move |lang| {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", lang.code());
        }
    });

    // Time to matches, measured when they are on the page; and the embedding page told.
    let shown = use_state(|| None::<(u32, f64, f64)>);
    {
        let (shown, parent, state) = (shown.clone(), parent.clone(), state.clone());
        let key = state.matches.as_ref().map(|m| (m.shown, state.distinct));
        use_effect_with(key, move |key| {
            if let (Some((seq, _)), Some(matches), Some(photo)) =
                (key, &state.matches, &state.photo)
            {
                let t = now_ms();
                if shown.as_ref().is_none_or(|s| s.0 != *seq) {
                    shown.set(Some((*seq, t - photo.asked, t - matches.received)));
                }
                if let (Some(parent), Some(message)) = (parent.as_ref(), state.embed_message()) {
                    parent.post(message);
                }
            }
        });
    }

    let on_photo = {
        let store = store.clone();
        Callback::from(move |blob: web_sys::Blob| take_photo(&store, blob))
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
    let other_lang = state.lang.other();

    html! {
        <main class={classes!("page", embed.then_some("embed"), dropping.then_some("dropping"))}
            ondragover={on_dragover} ondragleave={on_dragleave} ondrop={on_drop}>
            <header class="top">
                <h1>{ text.title }</h1>
                <button id="lang" type="button" lang={other_lang.code()}
                    aria-label={text.switch_language_name}
                    onclick={store.callback(move |_: MouseEvent| Action::Language(other_lang))}>
                    { text.switch_language }
                </button>
            </header>
            if !*embed { <p class="lede">{ text.lede }</p> }
            { status(&state, now_ms(), &store.callback(|_: MouseEvent| Action::Retry)) }
            { network_switch(&state, store.callback(Action::ChooseNetwork)) }
            <Intake lang={state.lang} on_photo={on_photo}
                on_notice={store.callback(Action::Notice)} />
            { crate::views::notice(&state) }
            if let Some(photo) = &state.photo {
                <section class="analysis" aria-label={text.what_network_sees}>
                    if photo.readable {
                        <PhotoView url={photo.url.clone()} size={photo.size} faces={photo.faces.clone()}
                            drawn={photo.drawn} chosen={photo.chosen} lang={state.lang}
                            on_choose={store.callback(Action::Choose)}
                            on_box={store.callback(|rect: FaceRect| Action::SetBox(rect))}
                            on_draw={store.callback(|rect: FaceRect| Action::Draw(rect))} />
                    }
                    { photo_message(photo, state.lang) }
                    if let Some(matches) = &state.matches {
                        <MatchesView lang={state.lang} people={state.people.clone()}
                            crop={matches.crop.clone()} crop_side={matches.crop_side}
                            hits={matches.hits.clone()} distinct={state.distinct}
                            threshold={state.same_person} on_distinct={store.callback(Action::Distinct)}
                            filter={matches.filter} asked={state.filter}
                            on_gender={store.callback(Action::ChooseGender)}
                            on_well_known={store.callback(Action::WellKnownOnly)}
                            on_morph={store.callback(|item| Action::Morph(MorphAction::Open(item)))}
                            timing={timing(matches, *shown, state.lang)} />
                    }
                </section>
            }
            if let Some(morph) = &state.morph {
                <MorphView lang={state.lang} morph={morph.clone()} people={state.people.clone()}
                    on_action={store.callback(Action::Morph)} />
            }
            if !*embed {
                <DevPanel lang={state.lang} items={state.items} people={state.people.clone()}
                    answer={state.item_answer.clone()} speed={state.speed.clone()}
                    on_query={store.callback(Action::QueryItem)}
                    on_bench={store.callback(|()| Action::Bench)} />
                <footer><p>{ text.privacy }</p></footer>
            }
        </main>
    }
}
