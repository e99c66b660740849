//! Fetches the manifest and shards of the static index and decodes them with `cf-shards`.

use std::rc::Rc;

use cf_shards::{AnyIndex, Catalog, Manifest, NetworkIndex, decode_network, parse_manifest};
use gloo_net::http::Request;

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
    let bytes = fetch_bytes(&format!("{INDEX_BASE}/{file}?v={}", info.file.sha256)).await?;
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
        shards.push(fetch_bytes(&format!("{INDEX_BASE}/{}", shard.file)).await?);
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
