//! `cfaces verify`: checks an index folder against its manifest.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::index_dir::read_index;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Index folder holding manifest.json.
    #[arg(default_value = "index-shards")]
    dir: PathBuf,
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let (manifest, indexes) = read_index(&args.dir)?;
    for (network, index) in manifest.networks.iter().zip(&indexes) {
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
    }
    Ok(())
}
