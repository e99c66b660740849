//! The matches: the crop the network saw, then the most similar celebrities as cards
//! (thumbnail, name, similarity); a card opens every photo of that person in the index.

use std::rc::Rc;

use celebrityfaces::i18n::{Lang, Text, fill};
use celebrityfaces::people::{People, initials};
use cf_protocol::{Filter, GenderChoice, Hit};
use wasm_bindgen::Clamped;
use yew::prelude::*;

use crate::share::{CardContent, download_card};

/// A thumbnail: lazy; while it loads, or if the file is missing, the person's initials show.
pub fn thumbnail(people: &People, item: u32, size: u32) -> Html {
    let name = people.name_of(item).unwrap_or("?");
    // A thumbnail that cannot be had (its host down) is hidden, and the initials under it show;
    // hidden, not removed: the element is Yew's, which may reuse it for another item's image,
    // so a load shows it again.
    let hide = Callback::from(|e: Event| {
        if let Some(img) = e.target_dyn_into::<web_sys::Element>() {
            let _ = img.set_attribute("hidden", "");
        }
    });
    let show = Callback::from(|e: Event| {
        if let Some(img) = e.target_dyn_into::<web_sys::Element>() {
            let _ = img.remove_attribute("hidden");
        }
    });
    html! {
        <span class="thumb" aria-hidden="true">
            <span class="initials">{ initials(name) }</span>
            if let Some(url) = people.thumb_url(item) {
                <img src={url.clone()} srcset={srcset(people, item, &url)} alt="" loading="lazy"
                    width={size.to_string()} height={size.to_string()} onerror={hide} onload={show} />
            }
        </span>
    }
}

/// The thumbnail, and the portrait for screens of two device pixels per CSS pixel or more.
fn srcset(people: &People, item: u32, thumb: &str) -> Option<AttrValue> {
    let portrait = people.portrait_url(item)?;
    Some(format!("{thumb} 1x, {portrait} 2x").into())
}

/// The button that opens the morph of the visitor's face with `item`.
fn morph_button(people: &People, item: u32, lang: Lang, on_morph: &Callback<u32>) -> Html {
    let text = lang.text();
    if people.portrait_url(item).is_none() {
        return Html::default();
    }
    let name = people.name_of(item).unwrap_or("?");
    let open = on_morph.reform(move |_: MouseEvent| item);
    html! {
        <button type="button" class="morph-open" onclick={open}
            aria-label={fill(text.morph_with, &[("name", name)])}>{ text.morph }</button>
    }
}

#[derive(Properties, PartialEq)]
pub struct MatchesProps {
    pub lang: Lang,
    pub people: Option<People>,
    pub crop: Rc<Vec<u8>>,
    pub crop_side: u32,
    pub hits: Rc<Vec<Hit>>,
    pub distinct: bool,
    /// The network's same-person similarity, for the explanation.
    pub threshold: f32,
    pub on_distinct: Callback<bool>,
    /// The filter the hits passed, and the one the visitor asked for (its gender `None` while
    /// the preset stands): the controls show what was asked at once, the hits follow.
    pub filter: Filter,
    pub asked: Filter,
    pub on_gender: Callback<GenderChoice>,
    pub on_well_known: Callback<bool>,
    /// The visitor asked to morph their face with this item.
    pub on_morph: Callback<u32>,
    pub timing: Html,
}

/// "Show: women / men / everyone" and "well-known people only": radio buttons and a checkbox,
/// so the keyboard and screen readers know them.
fn filters(props: &MatchesProps, text: &Text) -> Html {
    let applied = props.filter.gender.unwrap_or(GenderChoice::Everyone);
    let shown = props.asked.gender.unwrap_or(applied);
    let chip = |choice: GenderChoice, label: &'static str| {
        let on_gender = props.on_gender.clone();
        html! {
            <label class={classes!("chip", (choice == shown).then_some("on"))}>
                <input type="radio" name="gender" value={choice.code()} checked={choice == shown}
                    onchange={Callback::from(move |_: Event| on_gender.emit(choice))} />
                { label }
            </label>
        }
    };
    let on_well_known = {
        let on_well_known = props.on_well_known.clone();
        Callback::from(move |event: Event| {
            if let Some(input) = event.target_dyn_into::<web_sys::HtmlInputElement>() {
                on_well_known.emit(input.checked());
            }
        })
    };
    html! {
        <div id="filters" class="filters" data-gender={applied.code()}
            data-well-known={props.filter.well_known_only.to_string()}>
            <fieldset id="gender-filter" class="chips" data-gender={applied.code()}>
                <legend>{ text.show }</legend>
                { chip(GenderChoice::Women, text.show_women) }
                { chip(GenderChoice::Men, text.show_men) }
                { chip(GenderChoice::Everyone, text.show_everyone) }
            </fieldset>
            <label class="toggle">
                <input type="checkbox" id="well-known" checked={props.asked.well_known_only}
                    onchange={on_well_known} />
                { text.well_known_only }
            </label>
            if props.asked.gender.is_none() {
                <p class="hint preset">{ text.show_preset }</p>
            }
        </div>
    }
}

/// The person's Wikipedia search, in the page's language: a link, so nothing is fetched until
/// the visitor follows it.
pub fn wikipedia_link(people: &People, item: u32, lang: Lang) -> Html {
    let text = lang.text();
    let Some(url) = people.wikipedia_url(item, lang.code()) else {
        return Html::default();
    };
    let name = people.name_of(item).unwrap_or("?");
    html! {
        <a class="wikipedia" href={url} target="_blank" rel="noopener noreferrer"
            aria-label={fill(text.wikipedia_name, &[("name", name)])}>{ text.wikipedia }</a>
    }
}

/// Draws RGB pixels on a canvas.
fn paint_rgb(canvas: &web_sys::HtmlCanvasElement, rgb: &[u8], side: u32) -> Option<()> {
    let context: web_sys::CanvasRenderingContext2d =
        wasm_bindgen::JsCast::dyn_into(canvas.get_context("2d").ok()??).ok()?;
    let mut rgba = Vec::with_capacity(rgb.len() / 3 * 4);
    for pixel in rgb.chunks_exact(3) {
        rgba.extend_from_slice(&[pixel[0], pixel[1], pixel[2], 255]);
    }
    let image =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side, side).ok()?;
    context.put_image_data(&image, 0.0, 0.0).ok()
}

#[function_component(MatchesView)]
pub fn matches_view(props: &MatchesProps) -> Html {
    let text = props.lang.text();
    let canvas = use_node_ref();
    let section = use_node_ref();
    crate::styled::use_data_styles(section.clone());
    let gallery = use_state(|| None::<u32>);
    {
        let (canvas, crop, side) = (canvas.clone(), props.crop.clone(), props.crop_side);
        use_effect_with((crop.clone(), side), move |_| {
            if let Some(canvas) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                paint_rgb(&canvas, &crop, side);
            }
        });
    }
    let Some(people) = &props.people else {
        return Html::default();
    };
    let shown = people.shown_hits(&props.hits, props.distinct);

    let on_distinct = {
        let on_distinct = props.on_distinct.clone();
        Callback::from(move |event: Event| {
            if let Some(input) = event.target_dyn_into::<web_sys::HtmlInputElement>() {
                on_distinct.emit(input.checked());
            }
        })
    };
    let on_download = {
        let (people, crop, side, best) = (
            people.clone(),
            props.crop.clone(),
            props.crop_side,
            shown.first().copied(),
        );
        let caption = text.card_caption;
        let similarity_label = text.similarity_label;
        Callback::from(move |_: MouseEvent| {
            let Some(best) = best else {
                return;
            };
            let content = CardContent {
                crop: crop.clone(),
                crop_side: side,
                thumb_url: people.thumb_url(best.item),
                name: people.name_of(best.item).unwrap_or("?").to_string(),
                similarity: best.similarity,
                caption,
                similarity_label,
            };
            wasm_bindgen_futures::spawn_local(download_card(content));
        })
    };

    let cards = shown.iter().enumerate().map(|(rank, hit)| {
        let name = people.name_of(hit.item).unwrap_or("?").to_string();
        let person = people.person_of(hit.item).unwrap_or(0);
        let count = people.photo_count(person);
        let percent = format!("{:.0} %", (100.0 * hit.similarity).max(0.0));
        let photos = match count {
            1 => text.one_photo.to_string(),
            n => fill(text.photos_of_person, &[("n", &n.to_string())]),
        };
        let open = {
            let gallery = gallery.clone();
            Callback::from(move |_: MouseEvent| gallery.set(Some(person)))
        };
        html! {
            <li class="card" data-item={hit.item.to_string()}
                data-person={person.to_string()} data-similarity={format!("{:.4}", hit.similarity)}>
                <button type="button" class="card-open" onclick={open}
                    aria-label={format!("{}. {name}, {} {percent}; {photos}", rank + 1, text.similarity_label)}>
                    { thumbnail(people, hit.item, 112) }
                    <span class="name">{ name.clone() }</span>
                    <span class="similarity">{ percent.clone() }</span>
                    <span class="bar" aria-hidden="true">
                        <span data-style={format!("width:{:.1}%", (100.0 * hit.similarity).clamp(0.0, 100.0))}></span>
                    </span>
                    <span class="count">{ photos }</span>
                </button>
                { wikipedia_link(people, hit.item, props.lang) }
                { morph_button(people, hit.item, props.lang, &props.on_morph) }
            </li>
        }
    });

    html! {
        <section class="matches" ref={section} aria-labelledby="matches-title">
            <div class="matches-head">
                <figure class="crop">
                    <canvas ref={canvas} id="crop" width={props.crop_side.to_string()}
                        height={props.crop_side.to_string()} role="img" aria-label={text.what_network_sees}></canvas>
                    <figcaption>{ text.what_network_sees }</figcaption>
                </figure>
                <div class="matches-intro">
                    <h2 id="matches-title">{ text.matches_title }</h2>
                    <p class="explain">{ fill(text.similarity_explained, &[("threshold", &format!("{:.0}", 100.0 * props.threshold))]) }</p>
                    <div class="controls">
                        <label class="toggle">
                            <input type="checkbox" id="distinct" checked={props.distinct} onchange={on_distinct} />
                            { text.distinct_toggle }
                        </label>
                        <button type="button" id="download-card" onclick={on_download}>{ text.download_card }</button>
                    </div>
                    { filters(props, text) }
                    { props.timing.clone() }
                </div>
            </div>
            <ol class="cards" id="matches">{ for cards }</ol>
            if let Some(person) = *gallery {
                <Gallery people={people.clone()} person={person} lang={props.lang}
                    on_morph={props.on_morph.clone()}
                    on_close={let gallery = gallery.clone(); Callback::from(move |()| gallery.set(None))} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct GalleryProps {
    people: People,
    person: u32,
    lang: Lang,
    on_morph: Callback<u32>,
    on_close: Callback<()>,
}

/// Every photo of one person, as a modal dialog: focus moves to its Close button, Escape closes.
#[function_component(Gallery)]
fn gallery(props: &GalleryProps) -> Html {
    let text = props.lang.text();
    let close_button = use_node_ref();
    {
        // Focus moves into the dialog, and back to what opened it when it closes.
        let close_button = close_button.clone();
        use_effect_with(props.person, move |_| {
            let opener = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(button) = close_button.cast::<web_sys::HtmlElement>() {
                let _ = button.focus();
            }
            move || {
                if let Some(opener) = opener {
                    let _ = opener.focus();
                }
            }
        });
    }
    let people = &props.people;
    let items = people.catalog.items_of(props.person);
    let name = people
        .catalog
        .names
        .get(props.person as usize)
        .cloned()
        .unwrap_or_default();
    let close = props.on_close.reform(|_: MouseEvent| ());
    let on_key = {
        let (on_close, close_button) = (props.on_close.clone(), close_button.clone());
        Callback::from(move |event: KeyboardEvent| match event.key().as_str() {
            "Escape" => on_close.emit(()),
            // Tab goes round the dialog's controls (the Wikipedia link, Close) and never leaves it.
            "Tab" => {
                event.prevent_default();
                let Some(dialog) = close_button
                    .cast::<web_sys::Element>()
                    .and_then(|b| b.closest("#gallery").ok().flatten())
                else {
                    return;
                };
                let Ok(controls) = dialog.query_selector_all("a[href], button") else {
                    return;
                };
                let count = controls.length();
                let active = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element());
                let current = (0..count).find(|&i| {
                    controls
                        .get(i)
                        .zip(active.as_ref())
                        .is_some_and(|(c, a)| c.is_same_node(Some(a)))
                });
                let step = if event.shift_key() { count - 1 } else { 1 };
                let next = current.map_or(0, |i| (i + step) % count.max(1));
                if let Some(control) = controls
                    .get(next)
                    .and_then(|c| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(c).ok())
                {
                    let _ = control.focus();
                }
            }
            _ => {}
        })
    };
    let title = fill(
        text.all_photos_title,
        &[("n", &items.len().to_string()), ("name", &name)],
    );
    html! {
        <div class="backdrop" onkeydown={on_key}>
            <div id="gallery" role="dialog" aria-modal="true" aria-labelledby="gallery-title">
                <header>
                    <h3 id="gallery-title">{ title }</h3>
                    if let Some(&first) = items.first() {
                        { wikipedia_link(people, first, props.lang) }
                    }
                    <button type="button" id="gallery-close" ref={close_button} onclick={close}>{ text.close }</button>
                </header>
                <ul class="gallery-grid">
                    { for items.iter().map(|&item| html! {
                        <li data-item={item.to_string()}>
                            { thumbnail(people, item, 112) }
                            { morph_button(people, item, props.lang, &props.on_morph) }
                        </li>
                    }) }
                </ul>
            </div>
        </div>
    }
}
