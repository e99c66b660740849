#![doc = include_str!("../../../docs/FORMAT.md")]

mod catalog;
mod codec;
mod fetch;
mod manifest;
mod sources;

pub use catalog::{Catalog, Gender, GenderSource, THUMB_NAME_LEN};

pub use codec::{
    AnyIndex, NetworkInfo, decode_fetched_network, decode_network, encode_network, file_entry,
    parse_manifest, verify_digest, verify_file,
};
pub use fetch::{DownloadError, FetchError, FileStore, MemoryStore, fetch_verified, file_url};
pub use manifest::{
    CatalogInfo, FORMAT_NAME, FORMAT_VERSION, FileEntry, ForestLayout, MANIFEST_FILE, Manifest,
    NetworkIndex, Storage, ThumbnailInfo, portrait_file,
};
pub use sources::{ItemSource, SOURCES_HEADER, encode_sources, parse_sources};

/// Bytes of the header at the start of every shard file.
pub const SHARD_HEADER_BYTES: usize = 32;
/// The first eight bytes of every shard file.
pub const SHARD_MAGIC: [u8; 8] = *b"CFSHARD\0";
/// Default upper bound of one shard file: small enough for any CDN and for quick retries.
pub const DEFAULT_SHARD_BYTES: usize = 4 << 20;

/// Why an index could not be read. Every kind of damage has its own variant and message.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("manifest is not valid: {0}")]
    ManifestJson(#[from] serde_json::Error),
    #[error("manifest is of format {0:?}, expected {FORMAT_NAME:?}")]
    ManifestFormat(String),
    #[error("manifest has format version {0}; this reader knows version {FORMAT_VERSION}")]
    ManifestVersion(u32),
    #[error("manifest has no network named {0:?}")]
    UnknownNetwork(String),
    #[error("network {network:?} lists {listed} shards but {given} were supplied")]
    ShardCount {
        network: String,
        listed: usize,
        given: usize,
    },
    // Also for the catalog and the models the manifest lists, so the file name alone says which.
    #[error("{file} is truncated: {got} bytes of {expected}")]
    Truncated {
        file: String,
        expected: u64,
        got: u64,
    },
    #[error("{file} is too long: {got} bytes, expected {expected}")]
    TooLong {
        file: String,
        expected: u64,
        got: u64,
    },
    #[error("{file} fails its checksum: sha256 {got}, manifest says {expected}")]
    Checksum {
        file: String,
        expected: String,
        got: String,
    },
    #[error("{file} is not a CelebrityFaces shard (bad magic bytes)")]
    BadMagic { file: String },
    #[error("shard {file} has format version {got}; this reader knows version {FORMAT_VERSION}")]
    ShardVersion { file: String, got: u32 },
    #[error(
        "shard {file} says it is shard {got_index} of {got_count}, expected {expected_index} of {expected_count}"
    )]
    ShardPosition {
        file: String,
        expected_index: u32,
        expected_count: u32,
        got_index: u32,
        got_count: u32,
    },
    #[error("shard {file} carries blob bytes from {got}, expected from {expected}")]
    ShardOffset {
        file: String,
        expected: u64,
        got: u64,
    },
    #[error("shard {file} header declares {declared} payload bytes but holds {actual}")]
    PayloadLength {
        file: String,
        declared: u64,
        actual: u64,
    },
    #[error(
        "network {network:?}: its sizes need a blob of {expected} bytes, the manifest says {declared}"
    )]
    BlobSize {
        network: String,
        expected: u64,
        declared: u64,
    },
    #[error("network {network:?}: {reason}")]
    Sizes { network: String, reason: String },
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("sources file: {0}")]
    Sources(String),
    #[error("network {network:?}: {source}")]
    Forest {
        network: String,
        #[source]
        source: cf_forest::ForestError,
    },
}
