//! `cfaces build-demo`: a small index of synthetic identity-structured vectors, for the page to
//! search until the real face index exists.

use std::path::PathBuf;

use anyhow::Result;
use cf_forest::{ForestParams, I8Vectors, Index, SearchOptions, Searcher};
use cf_shards::{AnyIndex, FORMAT_NAME, FORMAT_VERSION, Manifest, NetworkInfo, encode_network};
use cf_synthetic::{ClusteredSpec, clustered};
use clap::Args;

use crate::index_dir::write_index;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Index folder to write (replaced as a whole).
    #[arg(long, default_value = "index-shards")]
    out: PathBuf,
    /// Identities.
    #[arg(long, default_value_t = 1000)]
    clusters: usize,
    /// Vectors per identity.
    #[arg(long, default_value_t = 20)]
    per_cluster: usize,
    /// Dimension.
    #[arg(long, default_value_t = 128)]
    dim: usize,
    /// Trees.
    #[arg(long, default_value_t = 14)]
    trees: usize,
    /// Most ids per leaf.
    #[arg(long, default_value_t = 64)]
    leaf_size: usize,
    /// Candidates per query recorded in the manifest.
    #[arg(long, default_value_t = 3000)]
    search_k: usize,
    /// Largest shard file in bytes; smaller than usual so that the page loads several.
    #[arg(long, default_value_t = 1 << 20)]
    shard_bytes: usize,
    /// Seed of the data and the forest.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub fn run(args: DemoArgs) -> Result<()> {
    let spec = ClusteredSpec {
        dim: args.dim,
        clusters: args.clusters,
        per_cluster: args.per_cluster,
        noise: 0.08,
        seed: args.seed,
    };
    let data = clustered(spec, 200);
    let vectors = I8Vectors::from_rows(args.dim, data.items)?;
    let params = ForestParams {
        trees: args.trees,
        leaf_size: args.leaf_size,
        seed: args.seed,
    };
    let index = AnyIndex::I8(Index::build(vectors, params)?);

    let mut searcher = Searcher::new();
    let mut hits = 0;
    let queries: Vec<&[f32]> = data.queries.chunks_exact(args.dim).collect();
    for q in &queries {
        let found = index.search(
            &mut searcher,
            q,
            &SearchOptions::nearest(1).candidates(args.search_k),
        )?;
        let truth = index.search(&mut searcher, q, &SearchOptions::nearest(1).exact())?;
        hits += usize::from(found.first().map(|n| n.item) == truth.first().map(|n| n.item));
    }
    let info = NetworkInfo {
        name: "demo".into(),
        description: format!(
            "Synthetic vectors: {} identities x {} each, {}-d.",
            args.clusters, args.per_cluster, args.dim
        ),
        search_k: args.search_k,
    };
    let (entry, files) = encode_network(&info, &index, args.shard_bytes);
    let manifest = Manifest {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        generator: format!("cfaces {}", env!("CARGO_PKG_VERSION")),
        catalog: None,
        pipeline_models: Vec::new(),
        gender_models: Vec::new(),
        networks: vec![entry],
    };
    write_index(&args.out, &manifest, &files)?;
    let shard_bytes: u64 = manifest.networks[0].shard_bytes();
    println!(
        "wrote {}: {} items, {} shards, {} bytes (forest {} bytes); recall@1 at search_k {} = {:.3}",
        args.out.display(),
        index.len(),
        files.len(),
        shard_bytes,
        index.forest().stored_bytes(),
        args.search_k,
        hits as f64 / queries.len() as f64
    );
    Ok(())
}
