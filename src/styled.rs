//! Sizes and positions computed per render (a face box's place, a similarity bar's length)
//! are set through the CSSOM, not written as `style` attributes: the site's
//! Content-Security-Policy has no `'unsafe-inline'` for styles, and a browser refuses a `style`
//! attribute set as markup (which is how Yew writes one) but not a declaration set through
//! `element.style`. Elements carry their declarations in `data-style`; [`use_data_styles`]
//! applies them after every render of the component that draws them.

use wasm_bindgen::JsCast;
use yew::prelude::*;

/// After every render, copies `data-style` into `style` for each element under `root`.
#[hook]
pub fn use_data_styles(root: NodeRef) {
    use_effect(move || {
        let Some(root) = root.cast::<web_sys::Element>() else {
            return;
        };
        let Ok(styled) = root.query_selector_all("[data-style]") else {
            return;
        };
        for i in 0..styled.length() {
            let Some(element) = styled
                .item(i)
                .and_then(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                continue;
            };
            let wanted = element.get_attribute("data-style").unwrap_or_default();
            // Compared with what was last applied: the browser rewrites `cssText` its own way.
            if element.get_attribute("data-style-applied").as_deref() != Some(wanted.as_str()) {
                element.style().set_css_text(&wanted);
                let _ = element.set_attribute("data-style-applied", &wanted);
            }
        }
    });
}
