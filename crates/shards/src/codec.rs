//! Writing a network's index into shards and reading it back, with every check on the way in.

use cf_forest::{
    ChildRef, F32Vectors, Forest, ForestParams, I8Vectors, Index, SearchIndex, Split,
    leaf_number_bits, packed_words,
};
use sha2::{Digest, Sha256};

use crate::manifest::{
    FORMAT_NAME, FORMAT_VERSION, FileEntry, ForestLayout, Manifest, NetworkIndex, Storage,
};
use crate::{SHARD_HEADER_BYTES, SHARD_MAGIC, ShardError};

/// An index with either kind of vector storage.
#[derive(Clone, Debug)]
pub enum AnyIndex {
    F32(Index<F32Vectors>),
    I8(Index<I8Vectors>),
}

impl AnyIndex {
    /// The index, whichever its storage: the one place the storage is told apart.
    pub fn as_index(&self) -> &(dyn SearchIndex + 'static) {
        match self {
            AnyIndex::F32(index) => index,
            AnyIndex::I8(index) => index,
        }
    }

    /// Vector storage.
    pub fn storage(&self) -> Storage {
        match self {
            AnyIndex::F32(_) => Storage::F32,
            AnyIndex::I8(_) => Storage::I8,
        }
    }
}

/// An `AnyIndex` is searched, measured and read as the [`SearchIndex`] it holds.
impl std::ops::Deref for AnyIndex {
    type Target = dyn SearchIndex;

    fn deref(&self) -> &Self::Target {
        self.as_index()
    }
}

/// What the manifest says about a network besides what the index itself knows.
#[derive(Clone, Debug)]
pub struct NetworkInfo {
    pub name: String,
    pub description: String,
    pub search_k: usize,
}

/// Parses and checks `manifest.json`.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, ShardError> {
    let manifest: Manifest = serde_json::from_slice(bytes)?;
    if manifest.format != FORMAT_NAME {
        return Err(ShardError::ManifestFormat(manifest.format));
    }
    if manifest.format_version != FORMAT_VERSION {
        return Err(ShardError::ManifestVersion(manifest.format_version));
    }
    Ok(manifest)
}

/// Serialises `index` into shard files of at most `max_shard_bytes` each (header included).
/// Returns the manifest entry and `(file name, bytes)` per shard.
pub fn encode_network(
    info: &NetworkInfo,
    index: &AnyIndex,
    max_shard_bytes: usize,
) -> (NetworkIndex, Vec<(String, Vec<u8>)>) {
    let blob = encode_blob(index);
    let payload_per_shard = max_shard_bytes.saturating_sub(SHARD_HEADER_BYTES).max(1);
    let chunks: Vec<&[u8]> = if blob.is_empty() {
        vec![&[]]
    } else {
        blob.chunks(payload_per_shard).collect()
    };
    let count = chunks.len() as u32;
    let mut offset = 0u64;
    let mut files = Vec::with_capacity(chunks.len());
    let mut entries = Vec::with_capacity(chunks.len());
    for (position, payload) in chunks.into_iter().enumerate() {
        let mut bytes = Vec::with_capacity(SHARD_HEADER_BYTES + payload.len());
        bytes.extend_from_slice(&SHARD_MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(position as u32).to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&offset.to_le_bytes());
        bytes.extend_from_slice(payload);
        offset += payload.len() as u64;
        let file = format!("{}-{:03}.bin", info.name, position);
        entries.push(file_entry(&file, &bytes));
        files.push((file, bytes));
    }
    let forest = index.forest();
    let params = forest.params();
    let entry = NetworkIndex {
        name: info.name.clone(),
        description: info.description.clone(),
        dimension: index.dim(),
        items: index.len(),
        storage: index.storage(),
        forest: ForestLayout {
            trees: params.trees,
            leaf_size: params.leaf_size,
            seed: params.seed,
            splits: forest.splits().len(),
            leaves: forest.leaves(),
        },
        search_k: info.search_k,
        blob_bytes: blob.len() as u64,
        shards: entries,
        models: Vec::new(),
    };
    (entry, files)
}

fn encode_blob(index: &AnyIndex) -> Vec<u8> {
    let forest = index.forest();
    let mut blob = Vec::new();
    let put_u32s = |blob: &mut Vec<u8>, values: &mut dyn Iterator<Item = u32>| {
        for v in values {
            blob.extend_from_slice(&v.to_le_bytes());
        }
    };
    put_u32s(&mut blob, &mut forest.roots().iter().map(|r| r.0));
    put_u32s(
        &mut blob,
        &mut forest
            .splits()
            .iter()
            .flat_map(|s| [s.a, s.b, s.near_a.0, s.near_b.0]),
    );
    put_u32s(&mut blob, &mut forest.tree_leaves().iter().copied());
    for (tree, &leaves) in forest.tree_leaves().iter().enumerate() {
        let words = pack_bits(&forest.leaf_numbers(tree), leaf_number_bits(leaves));
        put_u32s(&mut blob, &mut words.into_iter());
    }
    match index {
        AnyIndex::F32(index) => {
            for v in index.vectors().as_slice() {
                blob.extend_from_slice(&v.to_le_bytes());
            }
        }
        AnyIndex::I8(index) => {
            for s in index.vectors().scales() {
                blob.extend_from_slice(&s.to_le_bytes());
            }
            blob.extend(index.vectors().codes().iter().map(|&c| c as u8));
        }
    }
    blob
}

/// Packs `values` of `bits` bits each into little-endian 32-bit words, lowest bits first.
fn pack_bits(values: &[u32], bits: u32) -> Vec<u32> {
    let mut words = vec![0u32; packed_words(values.len(), bits)];
    if bits == 0 {
        return words;
    }
    for (index, &value) in values.iter().enumerate() {
        let bit = index * bits as usize;
        let (word, shift) = (bit / 32, (bit % 32) as u32);
        words[word] |= value << shift;
        if shift + bits > 32 {
            words[word + 1] |= value >> (32 - shift);
        }
    }
    words
}

/// Reads value `index` of `bits` bits from words written by [`pack_bits`].
fn unpack_bits(words: &[u32], bits: u32, index: usize) -> u32 {
    if bits == 0 {
        return 0;
    }
    let bit = index * bits as usize;
    let (word, shift) = (bit / 32, (bit % 32) as u32);
    let mut value = words[word] >> shift;
    if shift + bits > 32 {
        value |= words[word + 1] << (32 - shift);
    }
    if bits < 32 {
        value & ((1 << bits) - 1)
    } else {
        value
    }
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks any file the manifest vouches for (shard, catalog, model): length, then SHA-256.
pub fn verify_file(entry: &FileEntry, bytes: &[u8]) -> Result<(), ShardError> {
    verify_digest(entry, bytes.len() as u64, &sha256_hex(bytes))
}

/// [`verify_file`] for a file whose length and SHA-256 (hex) were taken elsewhere, such as by
/// the browser's own hashing.
pub fn verify_digest(entry: &FileEntry, length: u64, digest: &str) -> Result<(), ShardError> {
    let file = || entry.file.clone();
    if length < entry.bytes {
        return Err(ShardError::Truncated {
            file: file(),
            expected: entry.bytes,
            got: length,
        });
    }
    if length > entry.bytes {
        return Err(ShardError::TooLong {
            file: file(),
            expected: entry.bytes,
            got: length,
        });
    }
    if !digest.eq_ignore_ascii_case(&entry.sha256) {
        return Err(ShardError::Checksum {
            file: file(),
            expected: entry.sha256.clone(),
            got: digest.to_string(),
        });
    }
    Ok(())
}

/// The manifest entry of a file: its name, length and SHA-256.
pub fn file_entry(file: &str, bytes: &[u8]) -> FileEntry {
    FileEntry {
        file: file.to_string(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
    }
}

/// Checks one shard file against its manifest entry (unless `checksums` says the fetch did)
/// and its place in the sequence, returning its payload.
fn shard_payload<'a>(
    entry: &FileEntry,
    position: usize,
    count: usize,
    expected_offset: u64,
    bytes: &'a [u8],
    checksums: Checksums,
) -> Result<&'a [u8], ShardError> {
    if checksums == Checksums::Verify {
        verify_file(entry, bytes)?;
    }
    let file = || entry.file.clone();
    if bytes.len() < SHARD_HEADER_BYTES || bytes[..8] != SHARD_MAGIC {
        return Err(ShardError::BadMagic { file: file() });
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(ShardError::ShardVersion {
            file: file(),
            got: version,
        });
    }
    let (index, total) = (u32_at(12), u32_at(16));
    if index as usize != position || total as usize != count {
        return Err(ShardError::ShardPosition {
            file: file(),
            expected_index: position as u32,
            expected_count: count as u32,
            got_index: index,
            got_count: total,
        });
    }
    let declared = u64::from(u32_at(20));
    let payload = &bytes[SHARD_HEADER_BYTES..];
    if declared != payload.len() as u64 {
        return Err(ShardError::PayloadLength {
            file: file(),
            declared,
            actual: payload.len() as u64,
        });
    }
    let offset = u64::from_le_bytes(bytes[24..32].try_into().expect("8 bytes"));
    if offset != expected_offset {
        return Err(ShardError::ShardOffset {
            file: file(),
            expected: expected_offset,
            got: offset,
        });
    }
    Ok(payload)
}

/// Bytes of the sections whose sizes the manifest alone determines, computed with overflow
/// checks. The leaf numbers' size depends on the leaf counts stored in the blob itself.
struct Sections {
    roots: usize,
    splits: usize,
    tree_leaves: usize,
    scales: usize,
    vectors: usize,
}

impl Sections {
    fn of(entry: &NetworkIndex) -> Option<Self> {
        let f = &entry.forest;
        let value_bytes = match entry.storage {
            Storage::F32 => 4,
            Storage::I8 => 1,
        };
        Some(Sections {
            roots: f.trees.checked_mul(4)?,
            splits: f.splits.checked_mul(16)?,
            tree_leaves: f.trees.checked_mul(4)?,
            scales: match entry.storage {
                Storage::F32 => 0,
                Storage::I8 => entry.items.checked_mul(4)?,
            },
            vectors: entry
                .items
                .checked_mul(entry.dimension)?
                .checked_mul(value_bytes)?,
        })
    }

    fn fixed_total(&self) -> Option<usize> {
        [
            self.roots,
            self.splits,
            self.tree_leaves,
            self.scales,
            self.vectors,
        ]
        .iter()
        .try_fold(0usize, |sum, &x| sum.checked_add(x))
    }
}

/// Reads a network's index back from its shard files (in manifest order), verifying lengths,
/// checksums, headers, sizes and the forest's structure. Never panics on bad input.
pub fn decode_network(entry: &NetworkIndex, shards: &[&[u8]]) -> Result<AnyIndex, ShardError> {
    decode_shards(entry, shards, Checksums::Verify)
}

/// [`decode_network`] for shards as [`crate::fetch_verified`] returns them, whose length and
/// SHA-256 it checked against these same manifest entries: they are not hashed a second time
/// (in the page, in wasm, that was half of the index's 40 ms on a first visit). Everything
/// else is verified as [`decode_network`] verifies it.
pub fn decode_fetched_network(
    entry: &NetworkIndex,
    fetched: &[&[u8]],
) -> Result<AnyIndex, ShardError> {
    decode_shards(entry, fetched, Checksums::AlreadyVerified)
}

/// Whether [`decode_shards`] checks each shard's length and SHA-256 against the manifest.
#[derive(Clone, Copy, PartialEq)]
enum Checksums {
    Verify,
    AlreadyVerified,
}

fn decode_shards(
    entry: &NetworkIndex,
    shards: &[&[u8]],
    checksums: Checksums,
) -> Result<AnyIndex, ShardError> {
    let network = || entry.name.clone();
    if shards.len() != entry.shards.len() {
        return Err(ShardError::ShardCount {
            network: network(),
            listed: entry.shards.len(),
            given: shards.len(),
        });
    }
    let sections = Sections::of(entry).ok_or_else(|| ShardError::Sizes {
        network: network(),
        reason: "sizes overflow".into(),
    })?;
    let overflow = || ShardError::Sizes {
        network: network(),
        reason: "sizes overflow".into(),
    };
    let fixed = sections.fixed_total().ok_or_else(overflow)? as u64;
    if fixed > entry.blob_bytes {
        return Err(ShardError::BlobSize {
            network: network(),
            expected: fixed,
            declared: entry.blob_bytes,
        });
    }
    let expected = entry.blob_bytes;
    if entry.dimension == 0 {
        return Err(ShardError::Sizes {
            network: network(),
            reason: "dimension is 0".into(),
        });
    }
    // Reserved for what the files hold, not for what the manifest claims (a manifest could
    // claim any size: found by fuzzing).
    let held = shards.iter().map(|s| s.len() as u64).sum::<u64>();
    let mut blob = Vec::with_capacity(expected.min(held) as usize);
    for (position, (shard, bytes)) in entry.shards.iter().zip(shards).enumerate() {
        let offset = blob.len() as u64;
        let payload = shard_payload(shard, position, shards.len(), offset, bytes, checksums)?;
        if blob.len() as u64 + payload.len() as u64 > expected {
            return Err(ShardError::BlobSize {
                network: network(),
                expected,
                declared: blob.len() as u64 + payload.len() as u64,
            });
        }
        blob.extend_from_slice(payload);
    }
    if blob.len() as u64 != expected {
        return Err(ShardError::BlobSize {
            network: network(),
            expected,
            declared: blob.len() as u64,
        });
    }
    let forest_error = |source| ShardError::Forest {
        network: network(),
        source,
    };

    let mut rest = blob.as_slice();
    let mut take = |len: usize| {
        let (head, tail) = rest.split_at(len);
        rest = tail;
        head
    };
    let u32s = |bytes: &[u8]| -> Vec<u32> {
        bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let f32s = |bytes: &[u8]| -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let roots = u32s(take(sections.roots))
        .into_iter()
        .map(ChildRef)
        .collect();
    let splits = u32s(take(sections.splits))
        .chunks_exact(4)
        .map(|s| Split {
            a: s[0],
            b: s[1],
            near_a: ChildRef(s[2]),
            near_b: ChildRef(s[3]),
        })
        .collect();
    let tree_leaves = u32s(take(sections.tree_leaves));
    // The leaf-number section is whatever the leaf counts say it is; it must leave exactly the
    // vector sections behind.
    let leaf_words: Vec<usize> = tree_leaves
        .iter()
        .map(|&count| packed_words(entry.items, leaf_number_bits(count)))
        .collect();
    let leaf_bytes = leaf_words
        .iter()
        .try_fold(0usize, |sum, &w| sum.checked_add(w.checked_mul(4)?))
        .ok_or_else(overflow)?;
    if Some(leaf_bytes) != (expected as usize).checked_sub(fixed as usize) {
        return Err(ShardError::BlobSize {
            network: network(),
            expected: fixed + leaf_bytes as u64,
            declared: expected,
        });
    }
    let mut packed = Vec::with_capacity(tree_leaves.len());
    for &words in &leaf_words {
        packed.push(u32s(take(words * 4)));
    }
    // Every tree stores a leaf number per item, in one bit at least unless the tree is a single
    // leaf: leaf entries the blob does not back (many one-leaf trees over many items) would let
    // a few bytes ask for gigabytes when the leaves are rebuilt (found by fuzzing).
    let leaf_entries = entry
        .items
        .checked_mul(entry.forest.trees)
        .ok_or_else(overflow)?;
    if leaf_entries as u64 > expected.saturating_mul(8) {
        return Err(ShardError::Sizes {
            network: network(),
            reason: format!(
                "{} items in {} trees make {leaf_entries} leaf entries, more than 8 per byte of \
                 the {expected}-byte blob",
                entry.items, entry.forest.trees
            ),
        });
    }
    let params = ForestParams {
        trees: entry.forest.trees,
        leaf_size: entry.forest.leaf_size,
        seed: entry.forest.seed,
    };
    let forest = Forest::from_leaf_numbers(
        params,
        entry.items,
        roots,
        splits,
        tree_leaves.clone(),
        |tree, item| unpack_bits(&packed[tree], leaf_number_bits(tree_leaves[tree]), item),
    )
    .map_err(forest_error)?;
    let index = match entry.storage {
        Storage::F32 => {
            let values = f32s(take(sections.vectors));
            let vectors =
                F32Vectors::from_unit_rows(entry.dimension, values).map_err(forest_error)?;
            AnyIndex::F32(Index::from_parts(forest, vectors).map_err(forest_error)?)
        }
        Storage::I8 => {
            let scales = f32s(take(sections.scales));
            let codes = take(sections.vectors).iter().map(|&b| b as i8).collect();
            let vectors =
                I8Vectors::from_parts(entry.dimension, codes, scales).map_err(forest_error)?;
            AnyIndex::I8(Index::from_parts(forest, vectors).map_err(forest_error)?)
        }
    };
    Ok(index)
}
