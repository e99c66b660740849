//! The manifest: the JSON file that names every shard with its length and checksum.

use serde::{Deserialize, Serialize};

/// The only value of [`Manifest::format`].
pub const FORMAT_NAME: &str = "celebrityfaces-index";
/// The version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 2;
/// File name of the manifest inside an index folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// `manifest.json`: everything a reader needs before it fetches a single shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Always [`FORMAT_VERSION`] for this reader.
    pub format_version: u32,
    /// Program and version that wrote the index.
    pub generator: String,
    /// Who the items are: absent for a synthetic index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogInfo>,
    /// Models every network needs before its own (detector, landmarks), in the order the
    /// pipeline loads them; empty for a synthetic index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipeline_models: Vec<FileEntry>,
    /// The gender estimator the page presets its filter with (dlib's gender network), loaded
    /// with the pipeline models; empty when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gender_models: Vec<FileEntry>,
    /// One index per embedding network.
    pub networks: Vec<NetworkIndex>,
}

/// The catalog file: display names, the person of each item, each item's thumbnail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogInfo {
    /// What the items were built from, for people (e.g. "LFW deep-funneled").
    pub dataset: String,
    /// Number of people.
    pub people: usize,
    /// Number of items; every network has this many vectors, item for item.
    pub items: usize,
    /// The catalog JSON file (see [`crate::Catalog`]).
    pub file: FileEntry,
    /// Where the thumbnails are.
    pub thumbnails: ThumbnailInfo,
}

/// Thumbnails live outside the index, on a CDN or beside the page: item `i`'s is
/// `{base_url}{catalog.thumbs[i]}.jpg`, and its portrait (the same square, larger: the morph's
/// celebrity side and the cards of high-density screens) `{base_url}{catalog.thumbs[i]}-{portrait_size}.jpg`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailInfo {
    /// Prefix of every thumbnail URL: absolute (`https://cdn.example/faces/`) or relative to the
    /// page (`thumbnails/`); ends with `/`.
    pub base_url: String,
    /// Side of the square JPEG, in pixels.
    pub size: u32,
    /// Side of the portraits, in pixels; absent from an index built before them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portrait_size: Option<u32>,
}

impl ThumbnailInfo {
    /// The file name of the portrait of the item whose thumbnail is named `thumb`.
    pub fn portrait_file(&self, thumb: &str) -> Option<String> {
        self.portrait_size.map(|side| portrait_file(thumb, side))
    }
}

/// The file name of a `side` px portrait of the item whose thumbnail is named `thumb`.
pub fn portrait_file(thumb: &str, side: u32) -> String {
    format!("{thumb}-{side}.jpg")
}

/// How a network's vectors are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// Four bytes per value.
    F32,
    /// One byte per value plus one f32 scale per vector.
    I8,
}

/// The forest's parameters and sizes, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestLayout {
    /// Number of trees.
    pub trees: usize,
    /// Most ids per leaf.
    pub leaf_size: usize,
    /// Seed the forest was built with.
    pub seed: u64,
    /// Split nodes in all trees.
    pub splits: usize,
    /// Leaves in all trees.
    pub leaves: usize,
}

/// One file the manifest vouches for: a shard, the catalog or a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name, relative to the manifest (models: relative to the models folder).
    pub file: String,
    /// Length of the file in bytes.
    pub bytes: u64,
    /// SHA-256 of the whole file, lower-case hex.
    pub sha256: String,
}

/// The index of one embedding network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkIndex {
    /// Short name used in URLs and the UI switch, such as `arcface`.
    pub name: String,
    /// What the network is, for people.
    pub description: String,
    /// Vector length.
    pub dimension: usize,
    /// Number of items (vectors).
    pub items: usize,
    /// Vector storage.
    pub storage: Storage,
    /// Forest parameters and sizes.
    pub forest: ForestLayout,
    /// Candidates to gather per query: the value the benchmark chose for this index.
    pub search_k: usize,
    /// Length of the blob the shards carry, headers excluded.
    pub blob_bytes: u64,
    /// The shards, in order.
    pub shards: Vec<FileEntry>,
    /// The network's own model files, after [`Manifest::pipeline_models`]; empty for a
    /// synthetic index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<FileEntry>,
}

impl NetworkIndex {
    /// Total bytes of all shard files.
    pub fn shard_bytes(&self) -> u64 {
        self.shards.iter().map(|s| s.bytes).sum()
    }
}
