//! The forest against the exact scan, on random and clustered data, plus the edge cases.

use cf_forest::{
    F32Vectors, ForestError, ForestParams, I8Vectors, Index, Neighbour, SearchIndex, SearchOptions,
    Searcher, VectorStore, WalkOrder, exact_search,
};
use cf_synthetic::{ClusteredSpec, clustered, uniform_sphere};
use proptest::prelude::*;

fn recall(found: &[Neighbour], truth: &[Neighbour]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let hits = truth
        .iter()
        .filter(|t| found.iter().any(|f| f.item == t.item))
        .count();
    hits as f64 / truth.len() as f64
}

fn mean_recall<S: VectorStore>(
    index: &Index<S>,
    queries: &[f32],
    k: usize,
    search_k: usize,
) -> f64 {
    let dim = index.vectors().dim();
    let mut searcher = Searcher::new();
    let rows: Vec<&[f32]> = queries.chunks_exact(dim).collect();
    rows.iter()
        .map(|q| {
            let found = index
                .search(
                    &mut searcher,
                    q,
                    &SearchOptions::nearest(k).candidates(search_k),
                )
                .unwrap();
            let truth = index
                .search(&mut Searcher::new(), q, &SearchOptions::nearest(k).exact())
                .unwrap();
            recall(&found, &truth)
        })
        .sum::<f64>()
        / rows.len() as f64
}

#[test]
fn clustered_data_reaches_high_recall_and_more_candidates_never_hurt() {
    let spec = ClusteredSpec {
        dim: 64,
        clusters: 500,
        per_cluster: 10,
        noise: 0.08,
        seed: 1,
    };
    let data = clustered(spec, 100);
    let vectors = F32Vectors::from_rows(64, data.items).unwrap();
    let params = ForestParams {
        trees: 8,
        leaf_size: 32,
        seed: 3,
    };
    let index = Index::build(vectors, params).unwrap();
    let low = mean_recall(&index, &data.queries, 10, 200);
    let high = mean_recall(&index, &data.queries, 10, 2000);
    assert!(high >= 0.97, "recall@10 with search_k 2000 is {high}");
    assert!(
        high >= low,
        "recall fell from {low} to {high} with more candidates"
    );
    // Checking every item is the exact scan.
    let all = mean_recall(&index, &data.queries, 10, 5000);
    assert_eq!(all, 1.0);
}

#[test]
fn int8_vectors_lose_little_recall() {
    let spec = ClusteredSpec {
        dim: 128,
        clusters: 300,
        per_cluster: 10,
        noise: 0.08,
        seed: 5,
    };
    let data = clustered(spec, 100);
    let f32s = F32Vectors::from_rows(128, data.items.clone()).unwrap();
    let int8 = I8Vectors::quantize(&f32s);
    // Quantisation changes scores, not membership: compare int8 search with f32 truth.
    let params = ForestParams::default();
    let index = Index::build(int8, params).unwrap();
    let mut searcher = Searcher::new();
    let mut total = 0.0;
    for q in data.queries.chunks_exact(128) {
        let found = index
            .search(
                &mut searcher,
                q,
                &SearchOptions::nearest(10).candidates(3000),
            )
            .unwrap();
        total += recall(&found, &exact_search(&f32s, q, 10, None));
    }
    let mean = total / 100.0;
    assert!(mean >= 0.9, "int8 recall@10 against f32 truth is {mean}");
}

#[test]
fn build_is_deterministic_for_a_seed_and_differs_across_seeds() {
    let rows = uniform_sphere(2000, 16, 9);
    let params = ForestParams {
        trees: 4,
        leaf_size: 10,
        seed: 11,
    };
    let a = Index::build(F32Vectors::from_rows(16, rows.clone()).unwrap(), params).unwrap();
    let b = Index::build(F32Vectors::from_rows(16, rows.clone()).unwrap(), params).unwrap();
    assert_eq!(a.forest(), b.forest());
    let other = ForestParams { seed: 12, ..params };
    let c = Index::build(F32Vectors::from_rows(16, rows).unwrap(), other).unwrap();
    assert_ne!(a.forest(), c.forest());
}

#[test]
fn every_tree_holds_every_item_once_in_leaves_no_larger_than_k() {
    let rows = uniform_sphere(3000, 8, 2);
    let params = ForestParams {
        trees: 3,
        leaf_size: 7,
        seed: 1,
    };
    let index = Index::build(F32Vectors::from_rows(8, rows).unwrap(), params).unwrap();
    let forest = index.forest();
    for leaf in 0..forest.leaves() {
        assert!(forest.leaf(leaf).len() <= 7);
    }
    for tree in forest.leaf_items().chunks_exact(3000) {
        let mut ids = tree.to_vec();
        ids.sort_unstable();
        assert!(ids.iter().enumerate().all(|(i, &id)| i as u32 == id));
    }
    // A compact forest: two ids per split, far below the vectors' bytes at this leaf size.
    assert!(forest.stored_bytes() < index.vectors().byte_len());
}

#[test]
fn empty_single_duplicate_and_all_equal_inputs() {
    let params = ForestParams {
        trees: 2,
        leaf_size: 2,
        seed: 0,
    };
    let mut searcher = Searcher::new();

    let empty = Index::build(F32Vectors::from_rows(4, vec![]).unwrap(), params).unwrap();
    assert!(
        empty
            .search(
                &mut searcher,
                &[1.0, 0.0, 0.0, 0.0],
                &SearchOptions::nearest(5)
            )
            .unwrap()
            .is_empty()
    );
    assert!(
        empty
            .search(
                &mut Searcher::new(),
                &[1.0, 0.0, 0.0, 0.0],
                &SearchOptions::nearest(5).exact()
            )
            .unwrap()
            .is_empty()
    );

    let single = Index::build(F32Vectors::from_rows(2, vec![0.0, 2.0]).unwrap(), params).unwrap();
    let found = single
        .search(&mut searcher, &[0.0, 1.0], &SearchOptions::nearest(3))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].item, 0);
    assert!(found[0].distance.abs() < 1e-6);

    // 500 copies of one vector and one different vector: every copy is found, k > n works.
    let mut rows: Vec<f32> = [1.0, 1.0, 0.0].repeat(500);
    rows.extend([0.0, 0.0, 1.0]);
    let dupes = Index::build(F32Vectors::from_rows(3, rows).unwrap(), params).unwrap();
    let found = dupes
        .search(
            &mut searcher,
            &[0.0, 0.0, 1.0],
            &SearchOptions::nearest(1000).candidates(1000),
        )
        .unwrap();
    assert_eq!(found.len(), 501);
    assert_eq!(found[0].item, 500);
    let found = dupes
        .search(
            &mut searcher,
            &[1.0, 1.0, 0.0],
            &SearchOptions::nearest(10).candidates(10),
        )
        .unwrap();
    assert_eq!(found.len(), 10);
    assert!(
        found
            .iter()
            .all(|n| n.item < 500 && n.distance.abs() < 1e-6)
    );

    // All vectors equal, including all zero: the build finishes and search returns k items.
    let zeros = Index::build(
        F32Vectors::from_rows(3, vec![0.0; 3 * 100]).unwrap(),
        params,
    )
    .unwrap();
    let found = zeros
        .search(&mut searcher, &[1.0, 0.0, 0.0], &SearchOptions::nearest(5))
        .unwrap();
    assert_eq!(found.len(), 5);
    assert!(
        found.iter().all(|n| n.distance == 1.0),
        "zero vectors have similarity 0"
    );
    assert!(
        found.windows(2).all(|w| w[0].item < w[1].item),
        "ties go to the smaller item"
    );
    let exact: Vec<u32> = zeros
        .search(
            &mut Searcher::new(),
            &[1.0, 0.0, 0.0],
            &SearchOptions::nearest(5).exact(),
        )
        .unwrap()
        .iter()
        .map(|n| n.item)
        .collect();
    assert_eq!(exact, vec![0, 1, 2, 3, 4]);

    // k = 0 asks for nothing.
    assert!(
        dupes
            .search(&mut searcher, &[1.0, 1.0, 0.0], &SearchOptions::nearest(0))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn wrong_query_dimension_and_bad_params_are_errors() {
    let index = Index::build(
        F32Vectors::from_rows(2, vec![1.0, 0.0]).unwrap(),
        ForestParams::default(),
    )
    .unwrap();
    let mut searcher = Searcher::new();
    assert_eq!(
        index
            .search(&mut searcher, &[1.0], &SearchOptions::nearest(1))
            .unwrap_err(),
        ForestError::QueryDimension {
            got: 1,
            expected: 2
        }
    );
    let vectors = F32Vectors::from_rows(2, vec![1.0, 0.0]).unwrap();
    let no_trees = ForestParams {
        trees: 0,
        ..ForestParams::default()
    };
    assert!(matches!(
        Index::build(vectors.clone(), no_trees),
        Err(ForestError::InvalidParams(_))
    ));
    let no_leaf = ForestParams {
        leaf_size: 0,
        ..ForestParams::default()
    };
    assert!(matches!(
        Index::build(vectors, no_leaf),
        Err(ForestError::InvalidParams(_))
    ));
}

#[test]
fn a_filter_is_applied_while_gathering_and_never_leaves_fewer_than_k() {
    let spec = ClusteredSpec {
        dim: 32,
        clusters: 300,
        per_cluster: 10,
        noise: 0.08,
        seed: 9,
    };
    let data = clustered(spec, 100);
    let index = Index::build(
        I8Vectors::from_rows(32, data.items.clone()).unwrap(),
        ForestParams {
            trees: 10,
            leaf_size: 16,
            seed: 3,
        },
    )
    .unwrap();
    let mut searcher = Searcher::new();
    let (mut total, mut queries) = (0.0, 0);
    // One item in seven passes: a small share, as one gender of a small index can be.
    let rare = |item: u32| item % 7 == 3;
    for q in data.queries.chunks_exact(32).take(100) {
        let options = SearchOptions::nearest(10).candidates(200).only(&rare);
        let found = index.search(&mut searcher, q, &options).unwrap();
        assert_eq!(found.len(), 10, "k results while at least k items pass");
        assert!(found.iter().all(|n| rare(n.item)));
        assert!(searcher.last_candidates().iter().all(|&item| rare(item)));
        assert!(searcher.last_candidates().len() >= 200);
        let truth = index.search(&mut searcher, q, &options.exact()).unwrap();
        assert!(truth.iter().all(|n| rare(n.item)));
        total += recall(&found, &truth);
        queries += 1;
    }
    let recall_at_10 = total / f64::from(queries);
    assert!(recall_at_10 > 0.8, "filtered recall@10 {recall_at_10}");

    // Fewer items pass than asked for: all of them, and the walk ends.
    let three = |item: u32| item < 3;
    let found = index
        .search(
            &mut searcher,
            &data.queries[..32],
            &SearchOptions::nearest(10).only(&three),
        )
        .unwrap();
    let mut items: Vec<u32> = found.iter().map(|n| n.item).collect();
    items.sort();
    assert_eq!(items, [0, 1, 2]);
    let nothing = |_| false;
    assert!(
        index
            .search(
                &mut searcher,
                &data.queries[..32],
                &SearchOptions::nearest(5).only(&nothing)
            )
            .unwrap()
            .is_empty()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// With search_k = n the forest must return exactly what the scan returns, whatever the data.
    #[test]
    fn full_search_equals_exact_scan(
        n in 1usize..300,
        dim in 1usize..20,
        trees in 1usize..5,
        leaf_size in 1usize..20,
        seed in any::<u64>(),
        k in 1usize..15,
    ) {
        let rows = uniform_sphere(n, dim, seed);
        let query = uniform_sphere(1, dim, seed ^ 1);
        let params = ForestParams { trees, leaf_size, seed };
        let index = Index::build(F32Vectors::from_rows(dim, rows).unwrap(), params).unwrap();
        let truth = index.search(&mut Searcher::new(), &query, &SearchOptions::nearest(k).exact()).unwrap();
        for order in [WalkOrder::SquaredMargins, WalkOrder::AnnoyMin, WalkOrder::Margin] {
            let mut searcher = Searcher::with_order(order);
            let found = index.search(&mut searcher, &query, &SearchOptions::nearest(k).candidates(n)).unwrap();
            prop_assert_eq!(&found, &truth);
        }
    }

    /// On random data with a reasonable budget, recall stays high and results are sorted.
    #[test]
    fn random_data_recall_and_order(seed in any::<u64>()) {
        let (n, dim) = (2000, 16);
        let rows = uniform_sphere(n, dim, seed);
        let queries = uniform_sphere(20, dim, seed ^ 0xfeed);
        let params = ForestParams { trees: 10, leaf_size: 16, seed };
        let index = Index::build(F32Vectors::from_rows(dim, rows).unwrap(), params).unwrap();
        let mut searcher = Searcher::new();
        let mut total = 0.0;
        for q in queries.chunks_exact(dim) {
            let found = index.search(&mut searcher, q, &SearchOptions::nearest(10).candidates(400)).unwrap();
            prop_assert!(found.windows(2).all(|w| w[0].distance <= w[1].distance));
            total += recall(&found, &index.search(&mut Searcher::new(), q, &SearchOptions::nearest(10).exact()).unwrap());
        }
        prop_assert!(total / 20.0 >= 0.85, "recall@10 {}", total / 20.0);
    }
}
