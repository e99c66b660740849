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
fn global_fetch(url: &str, init: &web_sys::RequestInit) -> Promise {
    let global = js_sys::global();
    match global.dyn_ref::<web_sys::Window>() {
        Some(window) => window.fetch_with_str_and_init(url, init),
        None => global
            .unchecked_ref::<web_sys::WorkerGlobalScope>()
            .fetch_with_str_and_init(url, init),
    }
}

/// A connection that brings nothing for this long is given up and the file asked for again: a
/// stalled connection can otherwise hold a download (and the page's start) forever.
const SILENCE_MS: i32 = 15_000;
/// Times a file is asked for before its download fails for silence.
const ATTEMPTS: u32 = 3;
/// What the silence timer resolves to.
const SILENCE: &str = "celebrityfaces:silence";

/// A `setTimeout` as a promise that resolves to [`SILENCE`]; cleared when dropped.
struct Silence {
    promise: Promise,
    id: i32,
}

impl Silence {
    fn start() -> Silence {
        let global = js_sys::global();
        let mut id = 0;
        let promise = Promise::new(&mut |resolve, _| {
            let marker = js_sys::Array::of1(&SILENCE.into());
            id = match global.dyn_ref::<web_sys::Window>() {
                Some(window) => window.set_timeout_with_callback_and_timeout_and_arguments(
                    &resolve, SILENCE_MS, &marker,
                ),
                None => global
                    .unchecked_ref::<web_sys::WorkerGlobalScope>()
                    .set_timeout_with_callback_and_timeout_and_arguments(
                        &resolve, SILENCE_MS, &marker,
                    ),
            }
            .unwrap_or(0);
        });
        Silence { promise, id }
    }

    /// `waited`'s outcome, or `None` when the silence came first.
    async fn or(&self, waited: Promise) -> Option<Result<JsValue, JsValue>> {
        let race = Promise::race(&js_sys::Array::of2(&waited, &self.promise));
        match JsFuture::from(race).await {
            Ok(value) if value.as_string().as_deref() == Some(SILENCE) => None,
            outcome => Some(outcome),
        }
    }
}

impl Drop for Silence {
    fn drop(&mut self) {
        let global = js_sys::global();
        match global.dyn_ref::<web_sys::Window>() {
            Some(window) => window.clear_timeout_with_handle(self.id),
            None => global
                .unchecked_ref::<web_sys::WorkerGlobalScope>()
                .clear_timeout_with_handle(self.id),
        }
    }
}

/// How one attempt at a download ended badly.
enum Attempt {
    /// Nothing came for [`SILENCE_MS`].
    Silent,
    Failed(DownloadError),
}

/// One attempt at downloading `url`, given up after [`SILENCE_MS`] without a byte.
async fn download_once(url: &str, progress: &mut dyn FnMut(u64)) -> Result<Vec<u8>, Attempt> {
    let failed = |e: JsValue| Attempt::Failed(DownloadError::Unreachable(describe(&e)));
    let abort = web_sys::AbortController::new().map_err(failed)?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&abort.signal()));
    let silence = Silence::start();
    let Some(answer) = silence.or(global_fetch(url, &init)).await else {
        abort.abort();
        return Err(Attempt::Silent);
    };
    drop(silence);
    let response: web_sys::Response = answer.map_err(failed)?.unchecked_into();
    if !response.ok() {
        return Err(Attempt::Failed(DownloadError::Http(response.status())));
    }
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let silence = Silence::start();
        let Some(chunk) = silence.or(reader.read()).await else {
            abort.abort();
            return Err(Attempt::Silent);
        };
        let chunk = chunk.map_err(failed)?;
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
        for _ in 1..ATTEMPTS {
            match download_once(url, progress).await {
                Err(Attempt::Silent) => progress(0),
                Err(Attempt::Failed(error)) => return Err(error),
                Ok(bytes) => return Ok(bytes),
            }
        }
        match download_once(url, progress).await {
            Ok(bytes) => Ok(bytes),
            Err(Attempt::Failed(error)) => Err(error),
            Err(Attempt::Silent) => Err(DownloadError::Unreachable(format!(
                "nothing came for {} s, {ATTEMPTS} times",
                SILENCE_MS / 1000
            ))),
        }
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
