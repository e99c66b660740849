//! The browser's side of fetching, in the page or in the worker: [`BrowserStore`] is the
//! [`FileStore`] that downloads with `fetch` (with progress, from the response's stream), keeps
//! verified copies in the Cache API and hashes with WebCrypto. What to fetch, verify and keep
//! is decided in `cf_shards::fetch_verified`, tested natively with a store in memory.

use cf_shards::{DownloadError, FileStore};
use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Name of the Cache API store holding verified index and model files.
const CACHE_NAME: &str = "celebrityfaces-files-v1";

fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// `fetch(url)` on whatever global this runs in: the window or a worker.
fn global_fetch(url: &str) -> Promise {
    let global = js_sys::global();
    match global.dyn_ref::<web_sys::Window>() {
        Some(window) => window.fetch_with_str(url),
        None => global
            .unchecked_ref::<web_sys::WorkerGlobalScope>()
            .fetch_with_str(url),
    }
}

/// The Cache API store, where the browser offers one (secure contexts: https and 127.0.0.1).
async fn open_cache() -> Option<web_sys::Cache> {
    let global = js_sys::global();
    let caches = match global.dyn_ref::<web_sys::Window>() {
        Some(window) => window.caches().ok()?,
        None => global
            .unchecked_ref::<web_sys::WorkerGlobalScope>()
            .caches()
            .ok()?,
    };
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// `performance.now()` on whatever global this runs in.
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    let performance = match global.dyn_ref::<web_sys::Window>() {
        Some(window) => window.performance(),
        None => global
            .unchecked_ref::<web_sys::WorkerGlobalScope>()
            .performance(),
    };
    performance.map(|p| p.now()).unwrap_or(0.0)
}

/// The browser's fetch, Cache API and WebCrypto.
#[derive(Clone, Copy, Default)]
pub struct BrowserStore;

impl FileStore for BrowserStore {
    async fn cached(&self, url: &str) -> Option<Vec<u8>> {
        let cache = open_cache().await?;
        let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
        let response: web_sys::Response = hit.dyn_into().ok()?;
        let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
        Some(Uint8Array::new(&buffer).to_vec())
    }

    fn keep(&self, url: &str, bytes: &[u8]) {
        let (url, body) = (url.to_string(), Uint8Array::from(bytes));
        // In the background: nothing waits for the store to complete.
        wasm_bindgen_futures::spawn_local(async move {
            if let (Some(cache), Ok(response)) = (
                open_cache().await,
                web_sys::Response::new_with_opt_buffer_source(Some(&body)),
            ) {
                let _ = JsFuture::from(cache.put_with_str(&url, &response)).await;
            }
        });
    }

    async fn forget(&self, url: &str) {
        if let Some(cache) = open_cache().await {
            let _ = JsFuture::from(cache.delete_with_str(url)).await;
        }
    }

    async fn download(
        &self,
        url: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<u8>, DownloadError> {
        let unreachable = |e: JsValue| DownloadError::Unreachable(describe(&e));
        let response: web_sys::Response = JsFuture::from(global_fetch(url))
            .await
            .map_err(unreachable)?
            .unchecked_into();
        if !response.ok() {
            return Err(DownloadError::Http(response.status()));
        }
        let Some(body) = response.body() else {
            return Ok(Vec::new());
        };
        let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        let mut bytes = Vec::new();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(unreachable)?;
            let done = Reflect::get(&chunk, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            if let Ok(value) = Reflect::get(&chunk, &"value".into()) {
                let part: Uint8Array = value.unchecked_into();
                let start = bytes.len();
                bytes.resize(start + part.length() as usize, 0);
                part.copy_to(&mut bytes[start..]);
                progress(bytes.len() as u64);
            }
        }
        Ok(bytes)
    }

    /// WebCrypto where the browser offers it (native speed, off the wasm thread), else `sha2`.
    async fn sha256(&self, bytes: &[u8]) -> String {
        let subtle = Reflect::get(&js_sys::global(), &"crypto".into())
            .ok()
            .filter(|c| !c.is_undefined())
            .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok())
            .map(|c| c.subtle());
        let digest = match subtle
            .map(|s| s.digest_with_str_and_buffer_source("SHA-256", &Uint8Array::from(bytes)))
        {
            Some(Ok(promise)) => JsFuture::from(promise).await.ok(),
            _ => None,
        };
        let digest = match digest {
            Some(buffer) => Uint8Array::new(&buffer).to_vec(),
            None => {
                use sha2::Digest;
                sha2::Sha256::digest(bytes).to_vec()
            }
        };
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}
