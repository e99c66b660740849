//! `cfaces bench`: the forest against the exact scan over a grid of parameters.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, ensure};
use cf_forest::{
    F32Vectors, ForestParams, I8Vectors, Index, Neighbour, SearchIndex, SearchOptions, Searcher,
    VectorStore, WalkOrder, exact_search,
};
use cf_synthetic::{ClusteredSpec, clustered};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::vectors_io::{Matrix, read_matrix, write_npy};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Item vectors (.npy or .fvecs); default: the synthetic identity-structured benchmark data.
    #[arg(long, requires = "queries")]
    vectors: Option<PathBuf>,
    /// Query vectors (.npy or .fvecs), with --vectors.
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Synthetic data: number of identities.
    #[arg(long, default_value_t = 10_000)]
    clusters: usize,
    /// Synthetic data: points per identity.
    #[arg(long, default_value_t = 20)]
    per_cluster: usize,
    /// Synthetic data: dimension.
    #[arg(long, default_value_t = 128)]
    dim: usize,
    /// Synthetic data: noise per coordinate.
    #[arg(long, default_value_t = 0.08)]
    noise: f32,
    /// Synthetic data: number of queries.
    #[arg(long, default_value_t = 1000)]
    query_count: usize,
    /// Seed of the data and of the forests.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Tree counts to try.
    #[arg(long, value_delimiter = ',', default_value = "14,15")]
    trees: Vec<usize>,
    /// Leaf sizes to try.
    #[arg(long, value_delimiter = ',', default_value = "128,160")]
    leaf_size: Vec<usize>,
    /// Candidate counts to try.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "15000,20000,30000,40000,50000,60000,80000,100000"
    )]
    search_k: Vec<usize>,
    /// Vector storage to try.
    #[arg(long, value_delimiter = ',', default_value = "f32,i8")]
    storage: Vec<Storage>,
    /// Walk orders to try: `squared` (sum of squared margins, the default), `annoy` (Annoy's
    /// minimum along the path), `margin` (the last margin alone).
    #[arg(long, value_delimiter = ',', default_value = "squared,annoy")]
    order: Vec<Order>,
    /// Neighbours per query.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Also write the items and queries as .npy into this folder (for bench/compare.py).
    #[arg(long)]
    export: Option<PathBuf>,
    /// Write every row of the table as JSON lines here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    F32,
    I8,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Squared,
    Annoy,
    Margin,
}

impl From<Order> for WalkOrder {
    fn from(order: Order) -> Self {
        match order {
            Order::Squared => WalkOrder::SquaredMargins,
            Order::Annoy => WalkOrder::AnnoyMin,
            Order::Margin => WalkOrder::Margin,
        }
    }
}

/// One line of the table.
#[derive(Serialize)]
struct Row {
    method: String,
    storage: Storage,
    order: Option<Order>,
    trees: usize,
    leaf_size: usize,
    search_k: usize,
    recall_at_1: f64,
    recall_at_10: f64,
    qps: f64,
    speedup_vs_exact_f32: f64,
    build_seconds: f64,
    forest_bytes: usize,
    forest_share_of_f32_vectors: f64,
    vector_bytes: usize,
    splits_per_query: f64,
    leaves_per_query: f64,
}

pub fn run(args: BenchArgs) -> Result<()> {
    ensure!(args.k >= 1, "--k must be at least 1");
    let (items, queries) = load_data(&args)?;
    ensure!(
        items.dim == queries.dim,
        "items have dimension {}, queries {}",
        items.dim,
        queries.dim
    );
    if let Some(dir) = &args.export {
        std::fs::create_dir_all(dir)?;
        write_npy(&dir.join("items.npy"), &items)?;
        write_npy(&dir.join("queries.npy"), &queries)?;
        eprintln!("wrote {}/items.npy and queries.npy", dir.display());
    }
    let dim = items.dim;
    let k = args.k;
    let f32_vectors = F32Vectors::from_rows(dim, items.data.clone())?;
    let f32_bytes = f32_vectors.byte_len();
    let query_rows: Vec<&[f32]> = queries.data.chunks_exact(dim).collect();
    eprintln!(
        "{} items x {dim}, {} queries, k = {k}",
        f32_vectors.len(),
        query_rows.len()
    );

    // One untimed pass first, so that no timed run pays for page faults or cold caches.
    warm_up(&f32_vectors, &query_rows);
    let started = Instant::now();
    let truth: Vec<Vec<Neighbour>> = query_rows
        .iter()
        .map(|q| exact_search(&f32_vectors, q, k, None))
        .collect();
    let exact_qps = query_rows.len() as f64 / started.elapsed().as_secs_f64();

    let mut rows = Vec::new();
    let mut report = |row: Row| {
        let method = match row.order {
            Some(Order::Annoy) => format!("{} annoy", row.method),
            Some(Order::Margin) => format!("{} margin", row.method),
            _ => row.method.clone(),
        };
        println!(
            "{:<16} {:>4} {:>5} {:>5} {:>7} {:>8.4} {:>8.4} {:>9.1} {:>7.2}x {:>7.2} {:>11} {:>6.2}% {:>7.0} {:>6.0}",
            method,
            format!("{:?}", row.storage).to_lowercase(),
            row.trees,
            row.leaf_size,
            row.search_k,
            row.recall_at_1,
            row.recall_at_10,
            row.qps,
            row.speedup_vs_exact_f32,
            row.build_seconds,
            row.forest_bytes,
            100.0 * row.forest_share_of_f32_vectors,
            row.splits_per_query,
            row.leaves_per_query
        );
        rows.push(row);
    };
    println!(
        "{:<16} {:>4} {:>5} {:>5} {:>7} {:>8} {:>8} {:>9} {:>8} {:>7} {:>11} {:>7} {:>7} {:>6}",
        "method",
        "vec",
        "trees",
        "leaf",
        "search_k",
        "R@1",
        "R@10",
        "QPS",
        "vs exact",
        "build s",
        "forest B",
        "forest%",
        "splits",
        "leaves"
    );
    report(Row {
        method: "exact".into(),
        storage: Storage::F32,
        order: None,
        trees: 0,
        leaf_size: 0,
        search_k: f32_vectors.len(),
        recall_at_1: 1.0,
        recall_at_10: 1.0,
        qps: exact_qps,
        speedup_vs_exact_f32: 1.0,
        build_seconds: 0.0,
        forest_bytes: 0,
        forest_share_of_f32_vectors: 0.0,
        vector_bytes: f32_bytes,
        splits_per_query: 0.0,
        leaves_per_query: 0.0,
    });
    let int8_vectors = I8Vectors::quantize(&f32_vectors);
    if args.storage.contains(&Storage::I8) {
        warm_up(&int8_vectors, &query_rows);
        let started = Instant::now();
        let found: Vec<Vec<Neighbour>> = query_rows
            .iter()
            .map(|q| exact_search(&int8_vectors, q, k, None))
            .collect();
        let qps = query_rows.len() as f64 / started.elapsed().as_secs_f64();
        let (r1, r10) = recalls(&found, &truth, k);
        report(Row {
            method: "exact".into(),
            storage: Storage::I8,
            order: None,
            trees: 0,
            leaf_size: 0,
            search_k: f32_vectors.len(),
            recall_at_1: r1,
            recall_at_10: r10,
            qps,
            speedup_vs_exact_f32: qps / exact_qps,
            build_seconds: 0.0,
            forest_bytes: 0,
            forest_share_of_f32_vectors: 0.0,
            vector_bytes: int8_vectors.byte_len(),
            splits_per_query: 0.0,
            leaves_per_query: 0.0,
        });
    }

    for &storage in &args.storage {
        for &trees in &args.trees {
            for &leaf_size in &args.leaf_size {
                let params = ForestParams {
                    trees,
                    leaf_size,
                    seed: args.seed,
                };
                let (index, build_seconds): (Box<dyn SearchIndex>, f64) = match storage {
                    Storage::F32 => timed_build(f32_vectors.clone(), params)?,
                    Storage::I8 => timed_build(int8_vectors.clone(), params)?,
                };
                for &order in &args.order {
                    for &search_k in &args.search_k {
                        report(forest_row(
                            &*index,
                            storage,
                            order,
                            &query_rows,
                            &truth,
                            k,
                            search_k,
                            exact_qps,
                            build_seconds,
                            f32_bytes,
                        )?);
                    }
                }
            }
        }
    }
    if let Some(path) = &args.json {
        let lines: Vec<String> = rows
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()?;
        std::fs::write(path, lines.join("\n") + "\n")?;
    }
    Ok(())
}

fn load_data(args: &BenchArgs) -> Result<(Matrix, Matrix)> {
    if let (Some(items), Some(queries)) = (&args.vectors, &args.queries) {
        return Ok((read_matrix(items)?, read_matrix(queries)?));
    }
    let spec = ClusteredSpec {
        dim: args.dim,
        clusters: args.clusters,
        per_cluster: args.per_cluster,
        noise: args.noise,
        seed: args.seed,
    };
    let data = clustered(spec, args.query_count);
    Ok((
        Matrix {
            dim: args.dim,
            data: data.items,
        },
        Matrix {
            dim: args.dim,
            data: data.queries,
        },
    ))
}

/// Queries run untimed before each timed run.
const WARM_UP_QUERIES: usize = 20;

fn warm_up<S: VectorStore>(vectors: &S, queries: &[&[f32]]) {
    for q in queries.iter().take(WARM_UP_QUERIES) {
        std::hint::black_box(exact_search(vectors, q, 10, None));
    }
}

fn timed_build<S: VectorStore + 'static>(
    vectors: S,
    params: ForestParams,
) -> Result<(Box<dyn SearchIndex>, f64)> {
    let started = Instant::now();
    let index = Index::build(vectors, params)?;
    Ok((Box::new(index), started.elapsed().as_secs_f64()))
}

#[allow(clippy::too_many_arguments)]
fn forest_row(
    index: &dyn SearchIndex,
    storage: Storage,
    order: Order,
    queries: &[&[f32]],
    truth: &[Vec<Neighbour>],
    k: usize,
    search_k: usize,
    exact_qps: f64,
    build_seconds: f64,
    f32_bytes: usize,
) -> Result<Row> {
    let mut searcher = Searcher::with_order(order.into());
    for q in queries.iter().take(WARM_UP_QUERIES) {
        index.search(
            &mut searcher,
            q,
            &SearchOptions::nearest(k).candidates(search_k),
        )?;
    }
    let mut walked = (0, 0);
    let started = Instant::now();
    let found: Vec<Vec<Neighbour>> = queries
        .iter()
        .map(|q| {
            let found = index.search(
                &mut searcher,
                q,
                &SearchOptions::nearest(k).candidates(search_k),
            );
            let stats = searcher.last_stats();
            walked.0 += stats.splits;
            walked.1 += stats.leaves;
            found
        })
        .collect::<Result<_, _>>()?;
    let qps = queries.len() as f64 / started.elapsed().as_secs_f64();
    let per_query = |total: usize| total as f64 / queries.len().max(1) as f64;

    let (recall_at_1, recall_at_10) = recalls(&found, truth, k);
    let params = index.forest().params();
    Ok(Row {
        method: "cf-forest".into(),
        storage,
        order: Some(order),
        trees: params.trees,
        leaf_size: params.leaf_size,
        search_k,
        recall_at_1,
        recall_at_10,
        qps,
        speedup_vs_exact_f32: qps / exact_qps,
        build_seconds,
        forest_bytes: index.forest().stored_bytes(),
        forest_share_of_f32_vectors: index.forest().stored_bytes() as f64 / f32_bytes as f64,
        vector_bytes: index.vector_bytes(),
        splits_per_query: per_query(walked.0),
        leaves_per_query: per_query(walked.1),
    })
}

/// Mean recall@1 (the true nearest is returned first) and recall@k (share of the true k found).
fn recalls(found: &[Vec<Neighbour>], truth: &[Vec<Neighbour>], k: usize) -> (f64, f64) {
    let n = truth.len().max(1) as f64;
    let at_1 = found
        .iter()
        .zip(truth)
        .filter(|(f, t)| f.first().map(|x| x.item) == t.first().map(|x| x.item))
        .count() as f64
        / n;
    let at_k = found
        .iter()
        .zip(truth)
        .map(|(f, t)| {
            t.iter()
                .filter(|x| f.iter().any(|y| y.item == x.item))
                .count() as f64
                / t.len().clamp(1, k) as f64
        })
        .sum::<f64>()
        / n;
    (at_1, at_k)
}
