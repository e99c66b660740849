//! The page inside another page's iframe (`?embed=1`): its results go to the parent, to the
//! parent's origin only and only when the operator allows it (`celebrityfaces::embedding`).
//! The one message the page takes from outside is the parent's [`HELLO`]; any other message,
//! or one from another window or a refused origin, is ignored.

use std::cell::RefCell;
use std::rc::Rc;

use celebrityfaces::embedding::{HELLO, ParentOrigins};
use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};

/// The operator's list of allowed parents, beside index.html (scripts/site-headers.mjs).
const EMBEDDING_FILE: &str = "embedding.json";

#[derive(Default)]
struct Known {
    /// `None` until `embedding.json` has been read.
    policy: Option<ParentOrigins>,
    hello: Option<String>,
    /// The latest results, posted as soon as the parent's origin is known.
    latest: Option<serde_json::Value>,
}

/// The line to the embedding page.
pub struct Parent {
    known: Rc<RefCell<Known>>,
    _hello: EventListener,
}

impl Parent {
    /// The line to this frame's parent; `None` when the page is not in a frame.
    pub fn connect() -> Option<Parent> {
        let window = web_sys::window()?;
        let parent = window.parent().ok()??;
        if parent == window {
            return None;
        }
        let known: Rc<RefCell<Known>> = Rc::default();
        let hello = {
            let known = Rc::clone(&known);
            let parent: JsValue = parent.into();
            EventListener::new(&window, "message", move |event| {
                let Some(event) = event.dyn_ref::<web_sys::MessageEvent>() else {
                    return;
                };
                let from_parent = event.source().is_some_and(|s| JsValue::from(s) == parent);
                let kind = js_sys::Reflect::get(&event.data(), &"type".into())
                    .ok()
                    .and_then(|t| t.as_string());
                if from_parent && kind.as_deref() == Some(HELLO) {
                    known.borrow_mut().hello = Some(event.origin());
                    post_latest(&known);
                }
            })
        };
        let reading = Rc::clone(&known);
        spawn_local(async move {
            let policy = read_policy().await;
            reading.borrow_mut().policy = Some(policy);
            post_latest(&reading);
        });
        Some(Parent {
            known,
            _hello: hello,
        })
    }

    /// Tells the parent `message` (now, or once it is known where to).
    pub fn post(&self, message: serde_json::Value) {
        self.known.borrow_mut().latest = Some(message);
        post_latest(&self.known);
    }
}

/// The operator's list: no file means the default, any parent; a file that cannot be read as
/// one refuses every parent (a typo must not open what the operator meant to close).
async fn read_policy() -> ParentOrigins {
    let refused = |why: &str| {
        web_sys::console::warn_1(
            &format!("{EMBEDDING_FILE}: {why}; results go to no parent").into(),
        );
        ParentOrigins::Only(Vec::new())
    };
    let Some(window) = web_sys::window() else {
        return ParentOrigins::Any;
    };
    let response = match JsFuture::from(window.fetch_with_str(EMBEDDING_FILE)).await {
        Ok(response) => response.unchecked_into::<web_sys::Response>(),
        Err(_) => return refused("cannot be fetched"),
    };
    if response.status() == 404 {
        return ParentOrigins::Any;
    }
    if !response.ok() {
        return refused(&format!("HTTP {}", response.status()));
    }
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string()),
        Err(_) => None,
    };
    match text.as_deref().map(ParentOrigins::parse) {
        Some(Ok(policy)) => policy,
        Some(Err(error)) => refused(&error.to_string()),
        None => refused("unreadable"),
    }
}

/// Posts the latest results to the parent's origin, if it is known and allowed.
fn post_latest(known: &Rc<RefCell<Known>>) {
    let known = known.borrow();
    let (Some(policy), Some(message)) = (&known.policy, &known.latest) else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    // `location.ancestorOrigins` is absent in Firefox: read without assuming it.
    let ancestor = js_sys::Reflect::get(&window.location(), &"ancestorOrigins".into())
        .ok()
        .filter(|list| !list.is_undefined() && !list.is_null())
        .and_then(|list| js_sys::Reflect::get(&list, &0.into()).ok())
        .and_then(|first| first.as_string());
    let referrer = window.document().map(|d| d.referrer());
    let Some(origin) = policy.parent_origin(
        known.hello.as_deref(),
        ancestor.as_deref(),
        referrer.as_deref(),
    ) else {
        return;
    };
    let (Ok(Some(parent)), Ok(value)) =
        (window.parent(), js_sys::JSON::parse(&message.to_string()))
    else {
        return;
    };
    let _ = parent.post_message(&value, &origin);
}
