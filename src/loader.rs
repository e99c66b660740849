//! Fetches the manifest and shards of the static index and decodes them with `cf-shards`.

use cf_shards::{AnyIndex, Manifest, NetworkIndex, decode_network, parse_manifest};
use gloo_net::http::Request;

/// Where the index lives, relative to the page.
pub const INDEX_BASE: &str = "index-shards";

/// One network's index, ready to search.
pub struct LoadedNetwork {
    pub entry: NetworkIndex,
    pub index: AnyIndex,
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
    mut progress: impl FnMut(usize, usize),
) -> Result<LoadedNetwork, String> {
    let mut shards = Vec::with_capacity(entry.shards.len());
    progress(0, entry.shards.len());
    for (done, shard) in entry.shards.iter().enumerate() {
        shards.push(fetch_bytes(&format!("{INDEX_BASE}/{}", shard.file)).await?);
        progress(done + 1, entry.shards.len());
    }
    let slices: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
    let index = decode_network(entry, &slices).map_err(|e| e.to_string())?;
    Ok(LoadedNetwork {
        entry: entry.clone(),
        index,
    })
}
