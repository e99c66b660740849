//! A network's shards, as the page decodes them after the download checked their checksums:
//! the fuzzer's bytes are the blob (forest and vectors) behind valid shard headers, with the
//! sizes the manifest declares chosen by the fuzzer too; an index that decodes is searched.
#![no_main]

use arbitrary::Arbitrary;
use cf_forest::{SearchOptions, Searcher};
use cf_shards::{
    FORMAT_VERSION, FileEntry, ForestLayout, NetworkIndex, SHARD_HEADER_BYTES, SHARD_MAGIC,
    Storage, decode_fetched_network, decode_network, file_entry,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Declared {
    dimension: u8,
    items: u16,
    int8: bool,
    trees: u8,
    leaf_size: u8,
    splits: u16,
    leaves: u16,
    /// Where the blob is cut into shards.
    cuts: Vec<u16>,
    search_k: u16,
    k: u8,
    blob: Vec<u8>,
}

/// A shard file as the builder writes it (docs/FORMAT.md).
fn shard(position: usize, count: usize, offset: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SHARD_HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&SHARD_MAGIC);
    for value in [
        FORMAT_VERSION,
        position as u32,
        count as u32,
        payload.len() as u32,
    ] {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes.extend_from_slice(&offset.to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fuzz_target!(|declared: Declared| {
    let blob = &declared.blob;
    let mut cuts: Vec<usize> = declared
        .cuts
        .iter()
        .take(4)
        .map(|&c| usize::from(c).min(blob.len()))
        .collect();
    cuts.push(0);
    cuts.push(blob.len());
    cuts.sort_unstable();
    cuts.dedup();
    let pieces: Vec<&[u8]> = cuts.windows(2).map(|w| &blob[w[0]..w[1]]).collect();
    let count = pieces.len();
    let mut offset = 0u64;
    let files: Vec<Vec<u8>> = pieces
        .iter()
        .enumerate()
        .map(|(position, piece)| {
            let file = shard(position, count, offset, piece);
            offset += piece.len() as u64;
            file
        })
        .collect();
    let entries: Vec<FileEntry> = files
        .iter()
        .enumerate()
        .map(|(i, bytes)| file_entry(&format!("fuzz-{i:03}.bin"), bytes))
        .collect();
    let network = NetworkIndex {
        name: "fuzz".into(),
        description: String::new(),
        dimension: usize::from(declared.dimension),
        items: usize::from(declared.items),
        storage: if declared.int8 {
            Storage::I8
        } else {
            Storage::F32
        },
        forest: ForestLayout {
            trees: usize::from(declared.trees),
            leaf_size: usize::from(declared.leaf_size),
            seed: 0,
            splits: usize::from(declared.splits),
            leaves: usize::from(declared.leaves),
        },
        search_k: usize::from(declared.search_k),
        blob_bytes: blob.len() as u64,
        shards: entries,
        models: Vec::new(),
    };
    let shards: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    // The shards' checksums match their entries, so the page's way (checksums already
    // verified by the fetch) must come to the same outcome.
    let fetched = decode_fetched_network(&network, &shards);
    let Ok(index) = decode_network(&network, &shards) else {
        assert!(
            fetched.is_err(),
            "the fetched shards decoded where the files did not"
        );
        return;
    };
    assert!(
        fetched.is_ok(),
        "the files decoded where the fetched shards did not"
    );
    let index = index.as_index();
    let query: Vec<f32> = (0..index.dim())
        .map(|i| ((i * 7) % 5) as f32 - 2.0)
        .collect();
    let options = SearchOptions::nearest(usize::from(declared.k).max(1))
        .candidates(usize::from(declared.search_k).max(1));
    let _ = index.search(&mut Searcher::new(), &query, &options);
});
