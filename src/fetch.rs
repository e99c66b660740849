//! Downloads, in the page or in the worker: files the manifest vouches for are verified against
//! its SHA-256 and kept in the Cache API, so a second visit downloads none of them.

use cf_shards::{FileEntry, verify_digest, verify_file};
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

/// The bytes at `url`; `progress` is told the bytes received so far as they arrive.
pub async fn fetch_bytes(url: &str, progress: &mut dyn FnMut(u64)) -> Result<Vec<u8>, String> {
    let response: web_sys::Response = JsFuture::from(global_fetch(url))
        .await
        .map_err(|e| format!("cannot fetch {url}: {}", describe(&e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "cannot fetch {url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("cannot read {url}: {}", describe(&e)))?;
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

async fn cache_get(cache: &web_sys::Cache, url: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let response: web_sys::Response = hit.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// Stores a copy; the store completes in the background, nothing waits for it.
fn cache_put(cache: &web_sys::Cache, url: &str, bytes: &[u8]) {
    let body = Uint8Array::from(bytes);
    if let Ok(response) = web_sys::Response::new_with_opt_buffer_source(Some(&body)) {
        let stored = JsFuture::from(cache.put_with_str(url, &response));
        // Best effort: a full or refused cache only means downloading again next visit.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = stored.await;
        });
    }
}

/// Checks `bytes` against the manifest's length and SHA-256, hashed by the browser (WebCrypto:
/// native speed, off the wasm thread) where it offers that, else by `sha2` in wasm.
async fn verify(entry: &FileEntry, bytes: &[u8]) -> Result<(), String> {
    let global = js_sys::global();
    let subtle = Reflect::get(&global, &"crypto".into())
        .ok()
        .filter(|c| !c.is_undefined())
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok())
        .map(|c| c.subtle());
    let Some(subtle) = subtle else {
        return verify_file(entry, bytes).map_err(|e| e.to_string());
    };
    let data = Uint8Array::from(bytes);
    let digest = match subtle.digest_with_str_and_buffer_source("SHA-256", &data) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(error) => Err(error),
    };
    match digest {
        Ok(buffer) => {
            let hex: String = Uint8Array::new(&buffer)
                .to_vec()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            verify_digest(entry, bytes.len() as u64, &hex).map_err(|e| e.to_string())
        }
        Err(_) => verify_file(entry, bytes).map_err(|e| e.to_string()),
    }
}

/// The file `entry` from `base`: from the Cache API when a verified copy is there, else from the
/// network (then verified and cached). The URL carries the file's SHA-256, so a cached copy is
/// never stale and a CDN may cache it forever; a damaged cached copy is dropped and fetched
/// again, and a damaged download is never cached.
pub async fn fetch_verified(
    base: &str,
    entry: &FileEntry,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<u8>, String> {
    let url = format!("{base}/{}?v={}", entry.file, entry.sha256);
    let cache = open_cache().await;
    if let Some(cache) = &cache
        && let Some(bytes) = cache_get(cache, &url).await
    {
        if verify(entry, &bytes).await.is_ok() {
            progress(bytes.len() as u64);
            return Ok(bytes);
        }
        let _ = JsFuture::from(cache.delete_with_str(&url)).await;
    }
    let bytes = fetch_bytes(&url, progress).await?;
    verify(entry, &bytes).await?;
    if let Some(cache) = &cache {
        cache_put(cache, &url, &bytes);
    }
    Ok(bytes)
}
