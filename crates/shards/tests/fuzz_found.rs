//! What fuzzing the index files found (fuzz/fuzz_targets), kept as tests: shards whose
//! checksums are right but whose declared sizes nothing backs, which asked for gigabytes
//! before they were refused. Each must now be refused at once, with its reason.

use cf_shards::{
    FORMAT_VERSION, FileEntry, ForestLayout, NetworkIndex, SHARD_HEADER_BYTES, SHARD_MAGIC,
    ShardError, Storage, decode_network, file_entry,
};

/// One shard file holding `payload`, as the builder writes it (docs/FORMAT.md).
fn shard(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SHARD_HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&SHARD_MAGIC);
    for value in [FORMAT_VERSION, 0, 1, payload.len() as u32] {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn network(
    items: usize,
    trees: usize,
    splits: usize,
    blob_bytes: u64,
    file: FileEntry,
) -> NetworkIndex {
    NetworkIndex {
        name: "found".into(),
        description: String::new(),
        dimension: 1,
        items,
        storage: Storage::F32,
        forest: ForestLayout {
            trees,
            leaf_size: 16,
            seed: 0,
            splits,
            leaves: trees,
        },
        search_k: 10,
        blob_bytes,
        shards: vec![file],
        models: Vec::new(),
    }
}

fn u32s(values: impl IntoIterator<Item = u32>) -> Vec<u8> {
    values.into_iter().flat_map(u32::to_le_bytes).collect()
}

#[test]
fn leaf_counts_that_no_split_backs_are_refused_before_anything_is_allocated() {
    // One tree over no items, no split, and a leaf count of 600 million: 2.4 GB of leaf
    // offsets before the fix.
    let blob = [u32s([0x8000_0000]), u32s([600_000_000])].concat();
    let file = shard(&blob);
    let entry = network(
        0,
        1,
        0,
        blob.len() as u64,
        file_entry("found-000.bin", &file),
    );
    let Err(error) = decode_network(&entry, &[&file]) else {
        panic!("decoded a shard that should be refused");
    };
    assert!(matches!(error, ShardError::Forest { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("one leaf more than it has splits"),
        "{error}"
    );
}

#[test]
fn leaf_entries_the_blob_does_not_back_are_refused() {
    // 60,000 one-dimensional items in 20,000 one-leaf trees: 1.2 billion leaf entries (4.8 GB)
    // from a 400 KB blob before the fix.
    let (items, trees) = (60_000usize, 20_000usize);
    let blob = [
        u32s((0..trees).map(|_| 0x8000_0000)),
        u32s((0..trees).map(|_| 1)),
        vec![0; 4 * items],
    ]
    .concat();
    let file = shard(&blob);
    let entry = network(
        items,
        trees,
        0,
        blob.len() as u64,
        file_entry("found-000.bin", &file),
    );
    let Err(error) = decode_network(&entry, &[&file]) else {
        panic!("decoded a shard that should be refused");
    };
    assert!(matches!(error, ShardError::Sizes { .. }), "{error}");
    assert!(
        error.to_string().contains("more than 8 per byte"),
        "{error}"
    );
}

#[test]
fn a_blob_size_the_files_do_not_hold_is_refused_without_reserving_it() {
    // The manifest claims a blob of a petabyte; the one shard holds 8 bytes.
    let blob = [u32s([0x8000_0000]), u32s([1])].concat();
    let file = shard(&blob);
    let entry = network(0, 1, 0, 1 << 50, file_entry("found-000.bin", &file));
    let Err(error) = decode_network(&entry, &[&file]) else {
        panic!("decoded a shard that should be refused");
    };
    assert!(matches!(error, ShardError::BlobSize { .. }), "{error}");
}
