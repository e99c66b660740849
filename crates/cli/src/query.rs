//! `cfaces query`: the nearest items to one item's vector, as the page computes them; the browser
//! tests compare the page's answer with this one to prove wasm and native search agree.

use std::path::PathBuf;

use anyhow::{Result, bail, ensure};
use cf_forest::Searcher;
use clap::Args;
use serde::Serialize;

use crate::index_dir::read_index;

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Index folder holding manifest.json.
    #[arg(default_value = "index-shards")]
    dir: PathBuf,
    /// Network to search (default: the first in the manifest).
    #[arg(long)]
    network: Option<String>,
    /// Item whose stored vector is the query.
    #[arg(long)]
    item: u32,
    /// Neighbours to return.
    #[arg(long, default_value_t = 10)]
    k: usize,
}

#[derive(Serialize)]
struct Found {
    item: u32,
    distance: f32,
}

pub fn run(args: QueryArgs) -> Result<()> {
    let (manifest, indexes) = read_index(&args.dir)?;
    let position = match &args.network {
        None => 0,
        Some(name) => match manifest.networks.iter().position(|n| &n.name == name) {
            Some(position) => position,
            None => bail!("the index has no network named {name:?}"),
        },
    };
    let (Some(network), Some(index)) = (manifest.networks.get(position), indexes.get(position))
    else {
        bail!("the index has no network");
    };
    ensure!(
        (args.item as usize) < index.len(),
        "item {} is out of range: the index holds {} items",
        args.item,
        index.len()
    );
    let query = index.vector(args.item);
    let found = index.search(&mut Searcher::new(), &query, args.k, Some(network.search_k))?;
    let rows: Vec<Found> = found
        .iter()
        .map(|n| Found {
            item: n.item,
            distance: n.distance,
        })
        .collect();
    println!("{}", serde_json::to_string(&rows)?);
    Ok(())
}
