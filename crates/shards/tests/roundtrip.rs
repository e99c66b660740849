//! Round trips, and every kind of damage rejected with its own error.

use cf_forest::{
    F32Vectors, ForestParams, I8Vectors, Index, SearchOptions, Searcher, leaf_number_bits,
    packed_words,
};
use cf_shards::{
    AnyIndex, FORMAT_VERSION, Manifest, NetworkIndex, NetworkInfo, SHARD_HEADER_BYTES, ShardError,
    decode_fetched_network, decode_network, encode_network, parse_manifest,
};
use cf_synthetic::{ClusteredSpec, clustered};

const DIM: usize = 32;

fn sample_index(storage: &str) -> (AnyIndex, Vec<f32>) {
    let spec = ClusteredSpec {
        dim: DIM,
        clusters: 200,
        per_cluster: 5,
        noise: 0.08,
        seed: 4,
    };
    let data = clustered(spec, 20);
    let params = ForestParams {
        trees: 3,
        leaf_size: 16,
        seed: 9,
    };
    let index = match storage {
        "f32" => AnyIndex::F32(
            Index::build(F32Vectors::from_rows(DIM, data.items).unwrap(), params).unwrap(),
        ),
        _ => AnyIndex::I8(
            Index::build(I8Vectors::from_rows(DIM, data.items).unwrap(), params).unwrap(),
        ),
    };
    (index, data.queries)
}

fn info() -> NetworkInfo {
    NetworkInfo {
        name: "test".into(),
        description: "synthetic".into(),
        search_k: 100,
    }
}

/// Small shards so that the index spans several files.
fn encoded(storage: &str) -> (AnyIndex, Vec<f32>, NetworkIndex, Vec<Vec<u8>>) {
    let (index, queries) = sample_index(storage);
    let (entry, files) = encode_network(&info(), &index, 8 * 1024);
    assert!(
        files.len() > 3,
        "expected several shards, got {}",
        files.len()
    );
    let bytes = files.into_iter().map(|(_, b)| b).collect();
    (index, queries, entry, bytes)
}

fn decode(entry: &NetworkIndex, shards: &[Vec<u8>]) -> Result<AnyIndex, ShardError> {
    let slices: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
    decode_network(entry, &slices)
}

#[test]
fn round_trip_gives_the_same_forest_vectors_and_results() {
    for storage in ["f32", "i8"] {
        let (index, queries, entry, shards) = encoded(storage);
        assert!(entry.shards.iter().all(|s| s.bytes <= 8 * 1024));
        let back = decode(&entry, &shards).unwrap();
        assert_eq!(back.forest(), index.forest());
        assert_eq!(back.storage(), index.storage());
        let mut searcher = Searcher::new();
        for q in queries.chunks_exact(DIM) {
            assert_eq!(
                back.search(
                    &mut searcher,
                    q,
                    &SearchOptions::nearest(10).candidates(100)
                )
                .unwrap(),
                index
                    .search(
                        &mut searcher,
                        q,
                        &SearchOptions::nearest(10).candidates(100)
                    )
                    .unwrap()
            );
        }
        for item in [0u32, 17, 999] {
            assert_eq!(back.vector(item), index.vector(item));
        }
        // Encoding is deterministic: same index, same bytes.
        let (again, files) = encode_network(&info(), &back, 8 * 1024);
        assert_eq!(again, entry);
        assert_eq!(
            files.into_iter().map(|(_, b)| b).collect::<Vec<_>>(),
            shards
        );
    }
}

#[test]
fn manifest_round_trips_through_json_and_rejects_bad_ones() {
    let (_, _, entry, _) = encoded("i8");
    let manifest = Manifest {
        format: cf_shards::FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        generator: "test".into(),
        catalog: Some(cf_shards::CatalogInfo {
            dataset: "test".into(),
            people: 2,
            items: 3,
            file: cf_shards::file_entry("catalog.json", b"{}"),
            thumbnails: cf_shards::ThumbnailInfo {
                base_url: "https://cdn.example/faces/".into(),
                size: 112,
                portrait_size: Some(256),
            },
        }),
        pipeline_models: vec![cf_shards::file_entry("fr_detect.onnx", b"model")],
        gender_models: vec![cf_shards::file_entry("dlib_gender.nnef.tar", b"gender")],
        networks: vec![entry],
    };
    let json = serde_json::to_vec_pretty(&manifest).unwrap();
    assert_eq!(parse_manifest(&json).unwrap(), manifest);
    let thumbnails = &manifest.catalog.as_ref().unwrap().thumbnails;
    assert_eq!(
        thumbnails.portrait_file("00aa11bb22cc33dd").as_deref(),
        Some("00aa11bb22cc33dd-256.jpg")
    );
    // An index built before portraits reads as one without them.
    let older = String::from_utf8(json.clone())
        .unwrap()
        .replace(",\n      \"portrait_size\": 256", "");
    assert!(!older.contains("portrait_size"), "{older}");
    let older = parse_manifest(older.as_bytes()).unwrap();
    let older_thumbnails = &older.catalog.as_ref().unwrap().thumbnails;
    assert_eq!(older_thumbnails.portrait_size, None);
    assert_eq!(older_thumbnails.portrait_file("00aa11bb22cc33dd"), None);

    assert!(matches!(
        parse_manifest(b"{not json"),
        Err(ShardError::ManifestJson(_))
    ));
    assert!(matches!(
        parse_manifest(&json[..json.len() / 2]),
        Err(ShardError::ManifestJson(_))
    ));
    let mut other = manifest.clone();
    other.format = "something-else".into();
    let err = parse_manifest(&serde_json::to_vec(&other).unwrap()).unwrap_err();
    assert!(matches!(err, ShardError::ManifestFormat(_)), "{err}");
    let mut newer = manifest.clone();
    newer.format_version = FORMAT_VERSION + 1;
    let err = parse_manifest(&serde_json::to_vec(&newer).unwrap()).unwrap_err();
    assert!(matches!(err, ShardError::ManifestVersion(v) if v == FORMAT_VERSION + 1));
    assert!(err.to_string().contains("format version"));
    let unknown = String::from_utf8(json.clone())
        .unwrap()
        .replacen('{', "{\"extra\": 1,", 1);
    assert!(matches!(
        parse_manifest(unknown.as_bytes()),
        Err(ShardError::ManifestJson(_))
    ));
}

/// The error of a decode that must fail; the index itself is too large to print.
fn refused(result: Result<AnyIndex, ShardError>) -> ShardError {
    match result {
        Ok(_) => panic!("a damaged index was accepted"),
        Err(error) => error,
    }
}

/// Recomputes the checksum after a deliberate edit, so the check after it is reached.
fn reseal(entry: &mut NetworkIndex, shards: &[Vec<u8>], position: usize) {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(&shards[position]);
    entry.shards[position].sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
    entry.shards[position].bytes = shards[position].len() as u64;
}

#[test]
fn every_kind_of_damage_has_its_own_error() {
    let (_, _, entry, shards) = encoded("i8");

    let mut short = shards.clone();
    short[1].truncate(100);
    let err = refused(decode(&entry, &short));
    assert!(
        matches!(err, ShardError::Truncated { got: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("truncated"));

    let mut long = shards.clone();
    long[0].push(0);
    assert!(matches!(
        decode(&entry, &long),
        Err(ShardError::TooLong { .. })
    ));

    let mut flipped = shards.clone();
    flipped[2][SHARD_HEADER_BYTES + 5] ^= 0x40;
    let err = refused(decode(&entry, &flipped));
    assert!(matches!(err, ShardError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("checksum"));

    assert!(matches!(
        decode(&entry, &shards[..2]),
        Err(ShardError::ShardCount { given: 2, .. })
    ));

    let mut entry_magic = entry.clone();
    let mut magic = shards.clone();
    magic[0][0] = b'X';
    reseal(&mut entry_magic, &magic, 0);
    assert!(matches!(
        decode(&entry_magic, &magic),
        Err(ShardError::BadMagic { .. })
    ));

    let mut entry_version = entry.clone();
    let mut version = shards.clone();
    version[0][8] = 9;
    reseal(&mut entry_version, &version, 0);
    assert!(matches!(
        decode(&entry_version, &version),
        Err(ShardError::ShardVersion { got: 9, .. })
    ));

    // Two shards swapped, manifest entries swapped too: the headers still catch it.
    let mut entry_swapped = entry.clone();
    entry_swapped.shards.swap(1, 2);
    let mut swapped = shards.clone();
    swapped.swap(1, 2);
    assert!(matches!(
        decode(&entry_swapped, &swapped),
        Err(ShardError::ShardPosition {
            expected_index: 1,
            got_index: 2,
            ..
        })
    ));

    let mut entry_len = entry.clone();
    let mut declared = shards.clone();
    declared[1][20] ^= 1;
    reseal(&mut entry_len, &declared, 1);
    assert!(matches!(
        decode(&entry_len, &declared),
        Err(ShardError::PayloadLength { .. })
    ));

    let mut entry_offset = entry.clone();
    let mut offset = shards.clone();
    offset[1][24] ^= 1;
    reseal(&mut entry_offset, &offset, 1);
    assert!(matches!(
        decode(&entry_offset, &offset),
        Err(ShardError::ShardOffset { .. })
    ));

    let mut wrong_count = entry.clone();
    wrong_count.items += 1;
    assert!(matches!(
        decode(&wrong_count, &shards),
        Err(ShardError::BlobSize { .. })
    ));

    let mut huge = entry.clone();
    huge.items = usize::MAX / 2;
    assert!(matches!(
        decode(&huge, &shards),
        Err(ShardError::Sizes { .. })
    ));
}

#[test]
fn fetched_shards_decode_to_the_same_index_and_their_headers_are_still_checked() {
    let (_, queries, entry, shards) = encoded("i8");
    let slices: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
    let read = decode_network(&entry, &slices).unwrap();
    let fetched = decode_fetched_network(&entry, &slices).unwrap();
    assert_eq!(fetched.forest(), read.forest());
    let mut searcher = Searcher::new();
    let options = SearchOptions::nearest(10).candidates(100);
    for q in queries.chunks_exact(DIM) {
        assert_eq!(
            fetched.search(&mut searcher, q, &options),
            read.search(&mut searcher, q, &options)
        );
    }
    // Whatever the checksums say (the fetch checked them), the headers and the sizes are
    // read as strictly: the same damage as above, the manifest not resealed.
    let fetched_decode = |entry: &NetworkIndex, shards: &[Vec<u8>]| {
        let slices: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
        decode_fetched_network(entry, &slices)
    };
    let mut magic = shards.clone();
    magic[0][0] = b'X';
    assert!(matches!(
        fetched_decode(&entry, &magic),
        Err(ShardError::BadMagic { .. })
    ));
    let mut swapped = shards.clone();
    swapped.swap(1, 2);
    assert!(matches!(
        fetched_decode(&entry, &swapped),
        Err(ShardError::ShardPosition { .. })
    ));
    let mut offset = shards.clone();
    offset[1][24] ^= 1;
    assert!(matches!(
        fetched_decode(&entry, &offset),
        Err(ShardError::ShardOffset { .. })
    ));
    assert!(matches!(
        fetched_decode(&entry, &shards[..2]),
        Err(ShardError::ShardCount { given: 2, .. })
    ));
    let mut wrong_count = entry.clone();
    wrong_count.items += 1;
    assert!(matches!(
        fetched_decode(&wrong_count, &shards),
        Err(ShardError::BlobSize { .. })
    ));
}

#[test]
fn a_well_sealed_shard_with_a_broken_forest_is_rejected_not_searched() {
    let (_, _, entry, shards) = encoded("i8");
    // The first root of the blob is at payload offset 0 of shard 0: point it at a missing split.
    let mut bad_root = shards.clone();
    bad_root[0][SHARD_HEADER_BYTES..SHARD_HEADER_BYTES + 4]
        .copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let mut sealed = entry.clone();
    reseal(&mut sealed, &bad_root, 0);
    let err = refused(decode(&sealed, &bad_root));
    assert!(matches!(err, ShardError::Forest { .. }), "{err}");
    assert!(err.to_string().contains("out of range"), "{err}");

    // Make the second root equal to the first: a shared tree, which would be searched twice.
    let mut shared = shards.clone();
    let first: [u8; 4] = shared[0][SHARD_HEADER_BYTES..SHARD_HEADER_BYTES + 4]
        .try_into()
        .unwrap();
    shared[0][SHARD_HEADER_BYTES + 4..SHARD_HEADER_BYTES + 8].copy_from_slice(&first);
    let mut sealed = entry.clone();
    reseal(&mut sealed, &shared, 0);
    let err = refused(decode(&sealed, &shared));
    assert!(err.to_string().contains("reached twice"), "{err}");

    // A NaN scale in the vectors: the scales follow the roots, splits, leaf counts and the
    // packed leaf numbers.
    let (index, _, _, _) = encoded("i8");
    let leaf_bytes: usize = index
        .forest()
        .tree_leaves()
        .iter()
        .map(|&count| 4 * packed_words(entry.items, leaf_number_bits(count)))
        .sum();
    let scale_at =
        4 * entry.forest.trees + 16 * entry.forest.splits + 4 * entry.forest.trees + leaf_bytes;
    let payload = 8 * 1024 - SHARD_HEADER_BYTES;
    let (shard, within) = (scale_at / payload, scale_at % payload);
    assert!(
        within + 4 <= payload,
        "the scale straddles two shards; pick another item"
    );
    let mut nan = shards.clone();
    nan[shard][SHARD_HEADER_BYTES + within..SHARD_HEADER_BYTES + within + 4]
        .copy_from_slice(&f32::NAN.to_le_bytes());
    let mut sealed = entry.clone();
    reseal(&mut sealed, &nan, shard);
    let err = refused(decode(&sealed, &nan));
    assert!(err.to_string().contains("NaN"), "{err}");

    // A leaf number beyond its tree's leaves: the first packed word of tree 0 set to all ones.
    let leaf_at = 4 * entry.forest.trees + 16 * entry.forest.splits + 4 * entry.forest.trees;
    let (shard, within) = (leaf_at / payload, leaf_at % payload);
    let mut beyond = shards.clone();
    beyond[shard][SHARD_HEADER_BYTES + within..SHARD_HEADER_BYTES + within + 4]
        .copy_from_slice(&u32::MAX.to_le_bytes());
    let mut sealed = entry.clone();
    reseal(&mut sealed, &beyond, shard);
    let err = refused(decode(&sealed, &beyond));
    assert!(err.to_string().contains("which has"), "{err}");
}

#[test]
fn an_empty_index_round_trips() {
    let index = AnyIndex::I8(
        Index::build(
            I8Vectors::from_rows(4, vec![]).unwrap(),
            ForestParams::default(),
        )
        .unwrap(),
    );
    let (entry, files) = encode_network(&info(), &index, 1024);
    let bytes: Vec<Vec<u8>> = files.into_iter().map(|(_, b)| b).collect();
    let back = decode(&entry, &bytes).unwrap();
    assert!(back.is_empty());
    let mut searcher = Searcher::new();
    assert!(
        back.search(
            &mut searcher,
            &[1.0, 0.0, 0.0, 0.0],
            &SearchOptions::nearest(3)
        )
        .unwrap()
        .is_empty()
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn build(
        n: usize,
        dim: usize,
        trees: usize,
        leaf_size: usize,
        seed: u64,
        int8: bool,
    ) -> AnyIndex {
        let rows = cf_synthetic::uniform_sphere(n, dim, seed);
        let params = ForestParams {
            trees,
            leaf_size,
            seed,
        };
        if int8 {
            AnyIndex::I8(Index::build(I8Vectors::from_rows(dim, rows).unwrap(), params).unwrap())
        } else {
            AnyIndex::F32(Index::build(F32Vectors::from_rows(dim, rows).unwrap(), params).unwrap())
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Any index, cut into shards of any size, reads back as the same forest and vectors.
        #[test]
        fn any_index_round_trips(
            n in 0usize..400,
            dim in 1usize..24,
            trees in 1usize..6,
            leaf_size in 1usize..40,
            seed in any::<u64>(),
            int8 in any::<bool>(),
            shard_bytes in 40usize..5000,
        ) {
            let index = build(n, dim, trees, leaf_size, seed, int8);
            let (entry, files) = encode_network(&info(), &index, shard_bytes);
            let bytes: Vec<Vec<u8>> = files.into_iter().map(|(_, b)| b).collect();
            let back = decode(&entry, &bytes).unwrap();
            prop_assert_eq!(back.forest(), index.forest());
            for item in 0..n as u32 {
                prop_assert_eq!(back.vector(item), index.vector(item));
            }
        }

        /// Damage that gets past the checksum (a writer's bug, or a forged manifest) is refused
        /// or harmless: decoding never panics, and whatever loads can be searched.
        #[test]
        fn damaged_payloads_never_panic(
            seed in any::<u64>(),
            flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..8),
        ) {
            let index = build(300, 8, 3, 8, seed, seed % 2 == 0);
            let (mut entry, files) = encode_network(&info(), &index, 1 << 20);
            let mut bytes: Vec<Vec<u8>> = files.into_iter().map(|(_, b)| b).collect();
            let len = bytes[0].len();
            for (at, mask) in flips {
                let at = SHARD_HEADER_BYTES + at % (len - SHARD_HEADER_BYTES);
                bytes[0][at] ^= mask;
            }
            reseal(&mut entry, &bytes, 0);
            if let Ok(loaded) = decode(&entry, &bytes) {
                let mut searcher = Searcher::new();
                let found = loaded.search(&mut searcher, &[0.5; 8], &SearchOptions::nearest(5).candidates(50)).unwrap();
                prop_assert!(found.len() <= 5);
            }
        }
    }
}
