//! The page: loads the index, answers a nearest-neighbour query, and measures search speed.

use std::cell::RefCell;
use std::rc::Rc;

use cf_forest::{Neighbour, Searcher};
use cf_shards::{Manifest, Storage};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::loader::{LoadedNetwork, People, load_manifest, load_network, load_people};

/// The index as far as it is loaded: the manifest, the catalog, and the default (first)
/// network; the others load when the visitor switches to them.
struct Loaded {
    manifest: Manifest,
    people: Option<People>,
    default: Rc<LoadedNetwork>,
}

/// The networks loaded so far, by their position in the manifest.
type Networks = Rc<Vec<Option<Rc<LoadedNetwork>>>>;

enum Phase {
    Loading(String),
    Ready(Rc<Loaded>),
    Failed(String),
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

#[function_component(App)]
pub fn app() -> Html {
    let phase = use_state(|| Phase::Loading("Loading the index…".into()));
    {
        let phase = phase.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = async {
                    let manifest = load_manifest().await?;
                    let people = load_people(&manifest).await?;
                    let entry = manifest
                        .networks
                        .first()
                        .ok_or("the index has no network")?
                        .clone();
                    let progress_phase = phase.clone();
                    let name = entry.name.clone();
                    let default = load_network(&entry, people.clone(), move |done, total| {
                        progress_phase.set(Phase::Loading(format!(
                            "Loading index “{name}”: shard {done} of {total}…"
                        )));
                    })
                    .await?;
                    Ok(Rc::new(Loaded {
                        manifest,
                        people,
                        default: Rc::new(default),
                    }))
                }
                .await;
                phase.set(match outcome {
                    Ok(loaded) => Phase::Ready(loaded),
                    Err(message) => Phase::Failed(message),
                });
            });
        });
    }
    let body = match &*phase {
        Phase::Loading(message) => html! { <p id="status" role="status">{ message }</p> },
        Phase::Failed(message) => html! {
            <p id="status" class="error" role="alert">{ format!("The index could not be loaded: {message}") }</p>
        },
        Phase::Ready(loaded) => html! { <SearchPanel loaded={loaded.clone()} /> },
    };
    html! {
        <main>
            <h1>{ "CelebrityFaces" }</h1>
            <p class="lede">{ "Nearest-neighbour search running entirely in your browser." }</p>
            { body }
        </main>
    }
}

#[derive(Properties)]
struct PanelProps {
    loaded: Rc<Loaded>,
}

impl PartialEq for PanelProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.loaded, &other.loaded)
    }
}

struct Answer {
    item: u32,
    found: Vec<Neighbour>,
    exact_overlap: usize,
    search_ms: f64,
}

struct Speed {
    queries: usize,
    forest_qps: f64,
    exact_qps: f64,
}

/// Queries the benchmark uses: item vectors spread over the index, the same set the native
/// `cfaces verify --queries` times.
fn bench_items(count: usize, items: usize) -> impl Iterator<Item = u32> {
    (0..count).map(move |i| ((i as u64 * 7919) % items.max(1) as u64) as u32)
}

#[function_component(SearchPanel)]
fn search_panel(props: &PanelProps) -> Html {
    let loaded = props.loaded.clone();
    let networks: UseStateHandle<Networks> = use_state(|| {
        let mut all = vec![None; loaded.manifest.networks.len()];
        all[0] = Some(loaded.default.clone());
        Rc::new(all)
    });
    let selected = use_state(|| 0usize);
    let switching = use_state(|| None::<String>);
    let switch_error = use_state(|| None::<String>);
    let network = networks[*selected]
        .clone()
        .unwrap_or(loaded.default.clone());
    let searcher = use_mut_ref(Searcher::new);
    let answer = use_state(|| None::<Answer>);
    let speed = use_state(|| None::<Speed>);
    let input_error = use_state(|| None::<String>);
    let query_text = use_state(|| "0".to_string());
    let input = use_node_ref();
    let items = network.index.len();
    let k = 10;

    let on_search = {
        let (network, searcher, answer, input_error, input) = (
            network.clone(),
            searcher.clone(),
            answer.clone(),
            input_error.clone(),
            input.clone(),
        );
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let text = input
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            let item = match text.trim().parse::<u32>() {
                Ok(item) if (item as usize) < items => item,
                _ => {
                    input_error.set(Some(format!(
                        "Enter a whole number from 0 to {}.",
                        items.saturating_sub(1)
                    )));
                    return;
                }
            };
            input_error.set(None);
            answer.set(Some(run_query(&network, &searcher, item, k)));
        })
    };

    let on_input = {
        let query_text = query_text.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
                query_text.set(input.value());
            }
        })
    };

    // Another network: the same item's vector in that network's index, searched again. A
    // network is downloaded the first time it is chosen, with its progress in the status line.
    let on_network = {
        let (loaded, networks, selected, searcher, answer, speed, switching, switch_error) = (
            loaded.clone(),
            networks.clone(),
            selected.clone(),
            searcher.clone(),
            answer.clone(),
            speed.clone(),
            switching.clone(),
            switch_error.clone(),
        );
        Callback::from(move |event: Event| {
            let Some(select) = event.target_dyn_into::<web_sys::HtmlSelectElement>() else {
                return;
            };
            let name = select.value();
            let Some(position) = loaded.manifest.networks.iter().position(|n| n.name == name)
            else {
                return;
            };
            speed.set(None);
            switch_error.set(None);
            let item = answer.as_ref().map(|a| a.item);
            let show = {
                let (selected, searcher, answer) =
                    (selected.clone(), searcher.clone(), answer.clone());
                move |network: &LoadedNetwork| {
                    selected.set(position);
                    if let Some(item) = item {
                        answer.set(Some(run_query(network, &searcher, item, k)));
                    }
                }
            };
            if let Some(network) = &networks[position] {
                show(network);
                return;
            }
            let (loaded, networks, switching, switch_error) = (
                loaded.clone(),
                networks.clone(),
                switching.clone(),
                switch_error.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let entry = &loaded.manifest.networks[position];
                let progress = switching.clone();
                let label = entry.name.clone();
                let outcome = load_network(entry, loaded.people.clone(), move |done, total| {
                    progress.set(Some(format!(
                        "Loading index “{label}”: shard {done} of {total}…"
                    )));
                })
                .await;
                switching.set(None);
                match outcome {
                    Ok(network) => {
                        let network = Rc::new(network);
                        let mut all = (**networks).clone();
                        all[position] = Some(network.clone());
                        networks.set(Rc::new(all));
                        show(&network);
                    }
                    Err(message) => switch_error.set(Some(format!(
                        "The index “{}” could not be loaded: {message}",
                        entry.name
                    ))),
                }
            });
        })
    };

    let on_bench = {
        let (network, searcher, speed) = (network.clone(), searcher.clone(), speed.clone());
        Callback::from(move |_: MouseEvent| {
            speed.set(Some(measure_speed(&network, &searcher, k)));
        })
    };

    let entry = &network.entry;
    html! {
        <section aria-labelledby="search-title">
            <h2 id="search-title">{ "Search the index" }</h2>
            <p id="status" role="status">{ format!(
                "Index “{}” loaded: {} items, {}-d {} vectors, {} trees, search_k {}. {}",
                entry.name, items, entry.dimension, storage_name(entry.storage), entry.forest.trees,
                entry.search_k, entry.description
            ) }</p>
            if loaded.manifest.networks.len() > 1 {
                <p>
                    <label for="network">{ "Network" }</label>
                    <select id="network" onchange={on_network} disabled={switching.is_some()}>
                        { for loaded.manifest.networks.iter().map(|n| html! {
                            <option value={n.name.clone()} selected={n.name == entry.name}>
                                { format!("{} — {}", n.name, n.description) }
                            </option>
                        }) }
                    </select>
                </p>
                if let Some(message) = &*switching {
                    <p id="switching" role="status">{ message }</p>
                }
                if let Some(message) = &*switch_error {
                    <p class="error" role="alert">{ message }</p>
                }
            }
            <form onsubmit={on_search} novalidate=true>
                <label for="item">{ "Query with the vector of item" }</label>
                <input id="item" ref={input} type="number" min="0" max={(items.saturating_sub(1)).to_string()}
                    value={(*query_text).clone()} oninput={on_input} inputmode="numeric" />
                <button id="search" type="submit">{ "Find nearest" }</button>
                <button id="bench" type="button" onclick={on_bench}>{ "Measure speed" }</button>
            </form>
            if let Some(message) = &*input_error {
                <p class="error" role="alert">{ message }</p>
            }
            if let Some(answer) = &*answer {
                { render_answer(answer, k, network.people.as_ref()) }
            }
            if let Some(speed) = &*speed {
                <p id="speed">{ format!(
                    "{} queries: forest {:.0} queries/s ({:.3} ms each), exact scan {:.0} queries/s: {:.1}x faster.",
                    speed.queries, speed.forest_qps, 1000.0 / speed.forest_qps, speed.exact_qps,
                    speed.forest_qps / speed.exact_qps
                ) }</p>
            }
        </section>
    }
}

fn storage_name(storage: Storage) -> &'static str {
    match storage {
        Storage::F32 => "float32",
        Storage::I8 => "int8",
    }
}

fn run_query(network: &LoadedNetwork, searcher: &RefCell<Searcher>, item: u32, k: usize) -> Answer {
    let query = network.index.vector(item);
    let started = now_ms();
    let found = network
        .index
        .search(
            &mut searcher.borrow_mut(),
            &query,
            k,
            Some(network.entry.search_k),
        )
        .unwrap_or_default();
    let search_ms = now_ms() - started;
    let exact = network.index.exact(&query, k).unwrap_or_default();
    let exact_overlap = exact
        .iter()
        .filter(|e| found.iter().any(|f| f.item == e.item))
        .count();
    Answer {
        item,
        found,
        exact_overlap,
        search_ms,
    }
}

fn measure_speed(network: &LoadedNetwork, searcher: &RefCell<Searcher>, k: usize) -> Speed {
    let queries: Vec<Vec<f32>> = bench_items(500, network.index.len())
        .map(|item| network.index.vector(item))
        .collect();
    let mut searcher = searcher.borrow_mut();
    let started = now_ms();
    for q in &queries {
        let _ = network
            .index
            .search(&mut searcher, q, k, Some(network.entry.search_k));
    }
    let forest_ms = now_ms() - started;
    let exact_queries = &queries[..queries.len().min(50)];
    let started = now_ms();
    for q in exact_queries {
        let _ = network.index.exact(q, k);
    }
    let exact_ms = now_ms() - started;
    Speed {
        queries: queries.len(),
        forest_qps: queries.len() as f64 * 1000.0 / forest_ms.max(1e-3),
        exact_qps: exact_queries.len() as f64 * 1000.0 / exact_ms.max(1e-3),
    }
}

/// The person of a result: thumbnail (lazy; on a missing file the name's initials stay) and name.
fn render_person(people: &People, item: u32) -> Html {
    let name = people.name_of(item).unwrap_or("?").to_string();
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(3)
        .collect();
    let drop_image = Callback::from(|e: Event| {
        if let Some(img) = e.target_dyn_into::<web_sys::Element>() {
            img.remove();
        }
    });
    html! {
        <span class="person">
            <span class="thumb" aria-hidden="true">
                <span class="initials">{ initials }</span>
                if let Some(url) = people.thumb_url(item) {
                    <img src={url} alt="" loading="lazy" width="56" height="56" onerror={drop_image} />
                }
            </span>
            <span class="name">{ name }</span>
        </span>
    }
}

fn render_answer(answer: &Answer, k: usize, people: Option<&People>) -> Html {
    html! {
        <>
            <p id="timing">{ format!(
                "Nearest {} to item {} in {:.2} ms; {} of the exact top {} found.",
                answer.found.len(), answer.item, answer.search_ms, answer.exact_overlap, k
            ) }</p>
            <table id="results">
                <caption>{ "Nearest items by cosine distance" }</caption>
                <thead><tr><th scope="col">{ "Rank" }</th><th scope="col">{ "Item" }</th>
                    if people.is_some() { <th scope="col">{ "Person" }</th> }
                    <th scope="col">{ "Distance" }</th><th scope="col">{ "Similarity" }</th></tr></thead>
                <tbody>
                    { for answer.found.iter().enumerate().map(|(rank, n)| html! {
                        <tr data-item={n.item.to_string()}>
                            <td>{ rank + 1 }</td>
                            <td>{ n.item }</td>
                            if let Some(people) = people { <td>{ render_person(people, n.item) }</td> }
                            <td class="distance">{ format!("{:.4}", n.distance) }</td>
                            <td>{ format!("{:.1} %", 100.0 * n.similarity()) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </>
    }
}
