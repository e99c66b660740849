//! `cfaces verify`: checks an index folder against its manifest, and optionally times the same
//! queries the page's "Measure speed" button runs, for a native-against-wasm comparison.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_forest::{SearchOptions, Searcher};
use cf_shards::verify_file;
use clap::Args;

use crate::index_dir::{read_index_folder, shard_path};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Index folder holding manifest.json.
    #[arg(default_value = "index-shards")]
    dir: PathBuf,
    /// Also time this many queries (the vectors of items `i * 7919 mod n`, as the page does).
    #[arg(long, default_value_t = 0)]
    queries: usize,
    /// Also check that every item's thumbnail is in this folder.
    #[arg(long)]
    thumbnails: Option<PathBuf>,
    /// Also check the model files the manifest names against this folder.
    #[arg(long)]
    models: Option<PathBuf>,
}

/// Query items of the speed measurement; the page (src/app.rs) uses the same sequence.
fn bench_items(count: usize, items: usize) -> impl Iterator<Item = u32> {
    (0..count).map(move |i| ((i as u64 * 7919) % items.max(1) as u64) as u32)
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let folder = read_index_folder(&args.dir)?;
    let (manifest, indexes) = (&folder.manifest, &folder.indexes);
    if let (Some(catalog), Some(info)) = (&folder.catalog, &manifest.catalog) {
        println!(
            "catalog: ok, {} items of {} people ({}); thumbnails at {}",
            catalog.person_of_item.len(),
            catalog.names.len(),
            info.dataset,
            info.thumbnails.base_url
        );
        if let Some(dir) = &args.thumbnails {
            // Each item's thumbnail, and its portrait where the index has portraits.
            let files_of = |thumb: &String| {
                let mut files = vec![format!("{thumb}.jpg")];
                files.extend(info.thumbnails.portrait_file(thumb));
                files
            };
            let missing: Vec<String> = catalog
                .thumbs
                .iter()
                .flat_map(files_of)
                .filter(|file| !dir.join(file).is_file())
                .collect();
            if let Some(first) = missing.first() {
                bail!(
                    "{} of the {} items' thumbnails and portraits are missing from {}, the first {first} (cfaces thumbnails cuts them)",
                    missing.len(),
                    catalog.thumbs.len(),
                    dir.display()
                );
            }
            let portraits = match info.thumbnails.portrait_size {
                Some(side) => format!(", with their {side} px portraits"),
                None => String::new(),
            };
            println!(
                "thumbnails: ok, all {} in {}{portraits}",
                catalog.thumbs.len(),
                dir.display()
            );
        }
    }
    if let Some(dir) = &args.models {
        let entries = manifest
            .pipeline_models
            .iter()
            .chain(&manifest.gender_models)
            .chain(manifest.networks.iter().flat_map(|n| &n.models));
        let mut checked = 0;
        for entry in entries {
            let path = shard_path(dir, &entry.file)?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            verify_file(entry, &bytes).with_context(|| format!("model {}", path.display()))?;
            checked += 1;
        }
        println!("models: ok, {checked} files match the manifest");
    }
    for (network, index) in manifest.networks.iter().zip(indexes) {
        println!(
            "{}: ok, {} items x {} ({:?}), {} trees, {} shards, {} bytes",
            network.name,
            index.len(),
            index.dim(),
            network.storage,
            index.forest().trees(),
            network.shards.len(),
            network.shard_bytes()
        );
        if args.queries == 0 || index.is_empty() {
            continue;
        }
        let queries: Vec<Vec<f32>> = bench_items(args.queries, index.len())
            .map(|item| index.vector(item))
            .collect();
        let mut searcher = Searcher::new();
        let started = Instant::now();
        for q in &queries {
            std::hint::black_box(index.search(
                &mut searcher,
                q,
                &SearchOptions::nearest(10).candidates(network.search_k),
            )?);
        }
        let forest_qps = queries.len() as f64 / started.elapsed().as_secs_f64();
        let exact_queries = &queries[..queries.len().min(50)];
        let started = Instant::now();
        for q in exact_queries {
            std::hint::black_box(index.search(
                &mut searcher,
                q,
                &SearchOptions::nearest(10).exact(),
            )?);
        }
        let exact_qps = exact_queries.len() as f64 / started.elapsed().as_secs_f64();
        println!(
            "{}: native, {} queries: forest {:.0} queries/s ({:.3} ms each), exact scan {:.0} queries/s",
            network.name,
            queries.len(),
            forest_qps,
            1000.0 / forest_qps,
            exact_qps
        );
    }
    Ok(())
}
