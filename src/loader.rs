//! Fetches the manifest and shards of the static index and decodes them with `cf-shards`.

use std::rc::Rc;

use cf_shards::{
    AnyIndex, Catalog, FileEntry, Manifest, NetworkIndex, decode_network, parse_manifest,
    verify_file,
};
use gloo_net::http::Request;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where the index lives, relative to the page.
pub const INDEX_BASE: &str = "index-shards";

/// One network's index, ready to search, with who its items are.
pub struct LoadedNetwork {
    pub entry: NetworkIndex,
    pub index: AnyIndex,
    pub people: Option<People>,
}

/// The catalog and where the thumbnails are.
#[derive(Clone)]
pub struct People {
    pub catalog: Rc<Catalog>,
    pub thumb_base_url: String,
}

impl People {
    /// Display name of the person in `item`.
    pub fn name_of(&self, item: u32) -> Option<&str> {
        let person = *self.catalog.person_of_item.get(item as usize)?;
        self.catalog.names.get(person as usize).map(String::as_str)
    }

    /// Address of `item`'s thumbnail.
    pub fn thumb_url(&self, item: u32) -> Option<String> {
        let name = self.catalog.thumbs.get(item as usize)?;
        Some(format!("{}{name}.jpg", self.thumb_base_url))
    }
}

/// Fetches and verifies the catalog the manifest names, if any.
pub async fn load_people(manifest: &Manifest) -> Result<Option<People>, String> {
    let Some(info) = &manifest.catalog else {
        return Ok(None);
    };
    let file = &info.file.file;
    let url = format!("{INDEX_BASE}/{file}?v={}", info.file.sha256);
    let bytes = fetch_verified(&url, &info.file).await?;
    let catalog = Catalog::decode(info, &bytes).map_err(|e| format!("{file}: {e}"))?;
    Ok(Some(People {
        catalog: Rc::new(catalog),
        thumb_base_url: info.thumbnails.base_url.clone(),
    }))
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let response = Request::get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    if !response.ok() {
        return Err(format!(
            "cannot fetch {url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    response
        .binary()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))
}

/// Name of the Cache API store holding verified index files.
const CACHE_NAME: &str = "celebrityfaces-index-v1";

/// The Cache API store, where the browser offers one (secure contexts: https and 127.0.0.1).
async fn open_cache() -> Option<web_sys::Cache> {
    let caches = web_sys::window()?.caches().ok()?;
    let cache = JsFuture::from(caches.open(CACHE_NAME)).await.ok()?;
    cache.dyn_into().ok()
}

async fn cache_get(cache: &web_sys::Cache, url: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let response: web_sys::Response = hit.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn cache_put(cache: &web_sys::Cache, url: &str, bytes: &[u8]) {
    let mut copy = bytes.to_vec();
    if let Ok(response) = web_sys::Response::new_with_opt_u8_array(Some(&mut copy)) {
        // Best effort: a full or refused cache only means downloading again next visit.
        let _ = JsFuture::from(cache.put_with_str(url, &response)).await;
    }
}

/// A file the manifest vouches for, from the Cache API when a verified copy is there, else from
/// the network (then verified and cached). URLs carry the file's SHA-256, so a cached copy is
/// never stale; a damaged cached copy is dropped and fetched again, and a damaged download is
/// never cached.
async fn fetch_verified(url: &str, entry: &FileEntry) -> Result<Vec<u8>, String> {
    let cache = open_cache().await;
    if let Some(cache) = &cache
        && let Some(bytes) = cache_get(cache, url).await
    {
        if verify_file(entry, &bytes).is_ok() {
            return Ok(bytes);
        }
        let _ = JsFuture::from(cache.delete_with_str(url)).await;
    }
    let bytes = fetch_bytes(url).await?;
    verify_file(entry, &bytes).map_err(|e| e.to_string())?;
    if let Some(cache) = &cache {
        cache_put(cache, url, &bytes).await;
    }
    Ok(bytes)
}

/// Fetches and parses the manifest.
pub async fn load_manifest() -> Result<Manifest, String> {
    // The build's index id changes whenever the shipped manifest does.
    let url = format!("{INDEX_BASE}/manifest.json?v={}", env!("CF_INDEX_ID"));
    let bytes = fetch_bytes(&url).await?;
    parse_manifest(&bytes).map_err(|e| format!("{INDEX_BASE}/manifest.json: {e}"))
}

/// Fetches every shard of `entry`, calling `progress(done, total)` after each, then verifies and
/// decodes them.
pub async fn load_network(
    entry: &NetworkIndex,
    people: Option<People>,
    mut progress: impl FnMut(usize, usize),
) -> Result<LoadedNetwork, String> {
    let mut shards = Vec::with_capacity(entry.shards.len());
    progress(0, entry.shards.len());
    for (done, shard) in entry.shards.iter().enumerate() {
        let url = format!("{INDEX_BASE}/{}?v={}", shard.file, shard.sha256);
        shards.push(fetch_verified(&url, shard).await?);
        progress(done + 1, entry.shards.len());
    }
    let slices: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
    let index = decode_network(entry, &slices).map_err(|e| e.to_string())?;
    if let Some(p) = &people
        && p.catalog.person_of_item.len() != index.len()
    {
        return Err(format!(
            "network {:?} has {} vectors but the catalog lists {} items",
            entry.name,
            index.len(),
            p.catalog.person_of_item.len()
        ));
    }
    Ok(LoadedNetwork {
        entry: entry.clone(),
        index,
        people,
    })
}
