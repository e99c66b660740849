//! Developer tools, folded away: the nearest neighbours of an index item's own vector (the
//! browser tests compare them with the native `cfaces query`), and the search speed.

use celebrityfaces::i18n::Lang;
use celebrityfaces::people::People;
use celebrityfaces::state::{ItemAnswer, Speed};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::matches::thumbnail;

#[derive(Properties, PartialEq)]
pub struct DevProps {
    pub lang: Lang,
    pub items: usize,
    pub people: Option<People>,
    pub answer: Option<ItemAnswer>,
    pub speed: Option<Speed>,
    pub on_query: Callback<u32>,
    pub on_bench: Callback<()>,
}

#[function_component(DevPanel)]
pub fn dev_panel(props: &DevProps) -> Html {
    let input = use_node_ref();
    let error = use_state(|| None::<String>);
    let items = props.items;
    let on_search = {
        let (input, error, on_query) = (input.clone(), error.clone(), props.on_query.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let text = input
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            match text.trim().parse::<u32>() {
                Ok(item) if (item as usize) < items => {
                    error.set(None);
                    on_query.emit(item);
                }
                _ => error.set(Some(format!(
                    "Enter a whole number from 0 to {}.",
                    items.saturating_sub(1)
                ))),
            }
        })
    };
    let on_bench = props.on_bench.reform(|_: MouseEvent| ());
    html! {
        <details id="dev" class="dev">
            <summary>{ props.lang.text().developer_tools }</summary>
            <form onsubmit={on_search} novalidate=true>
                <label for="item">{ "Item" }</label>
                <input id="item" ref={input} type="number" min="0" max={items.saturating_sub(1).to_string()}
                    value="0" inputmode="numeric" />
                <button id="search" type="submit">{ "Find nearest" }</button>
                <button id="bench" type="button" onclick={on_bench}>{ "Measure speed" }</button>
            </form>
            if let Some(message) = &*error {
                <p class="error" role="alert">{ message }</p>
            }
            if let Some(answer) = &props.answer {
                { render_answer(answer, props.people.as_ref()) }
            }
            if let Some(speed) = &props.speed {
                <p id="speed">{ format!(
                    "{} queries: forest {:.0} queries/s ({:.3} ms each), exact scan {:.0} queries/s: {:.1}x faster.",
                    speed.queries, speed.forest_qps, 1000.0 / speed.forest_qps, speed.exact_qps,
                    speed.forest_qps / speed.exact_qps
                ) }</p>
            }
        </details>
    }
}

fn render_answer(answer: &ItemAnswer, people: Option<&People>) -> Html {
    html! {
        <>
            <p id="item-timing">{ format!(
                "Nearest {} to item {} in {:.2} ms; {} of the exact top {} found.",
                answer.hits.len(), answer.item, answer.search_ms, answer.exact_overlap, answer.hits.len()
            ) }</p>
            <table id="results">
                <caption>{ "Nearest items by cosine distance" }</caption>
                <thead><tr><th scope="col">{ "Rank" }</th><th scope="col">{ "Item" }</th>
                    if people.is_some() { <th scope="col">{ "Person" }</th> }
                    <th scope="col">{ "Distance" }</th></tr></thead>
                <tbody>
                    { for answer.hits.iter().enumerate().map(|(rank, hit)| html! {
                        <tr data-item={hit.item.to_string()}>
                            <td>{ rank + 1 }</td>
                            <td>{ hit.item }</td>
                            if let Some(people) = people {
                                <td><span class="person">{ thumbnail(people, hit.item, 56) }
                                    <span class="name">{ people.name_of(hit.item).unwrap_or("?") }</span></span></td>
                            }
                            <td class="distance">{ format!("{:.4}", 1.0 - hit.similarity) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </>
    }
}
