//! `cfaces pack-models`: the fetched originals in the models folder become the packed files the
//! pipeline loads (cf_face::pack), written beside them.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use cf_face::pack::{MODEL_PACKINGS, pack};
use clap::Args;

#[derive(Args, Debug)]
pub struct PackArgs {
    /// Folder with the fetched originals (scripts/fetch-models.sh); packed files go beside them.
    #[arg(long, default_value = "models")]
    models: PathBuf,
}

pub fn run(args: PackArgs) -> Result<()> {
    let mut packed_any = false;
    for packing in &MODEL_PACKINGS {
        let source = args.models.join(packing.source);
        if !source.exists() {
            eprintln!(
                "skipped {}: {} is not there",
                packing.packed,
                source.display()
            );
            continue;
        }
        let bytes =
            std::fs::read(&source).with_context(|| format!("cannot read {}", source.display()))?;
        let packed = pack(packing, &bytes)?;
        let target = args.models.join(packing.packed);
        std::fs::write(&target, &packed)
            .with_context(|| format!("cannot write {}", target.display()))?;
        eprintln!(
            "{} ({} bytes) -> {} ({} bytes)",
            packing.source,
            bytes.len(),
            packing.packed,
            packed.len()
        );
        packed_any = true;
    }
    if !packed_any {
        bail!(
            "no model to pack in {} (run scripts/fetch-models.sh)",
            args.models.display()
        );
    }
    Ok(())
}
