//! `cfaces query`: the nearest items to one item's vector, or to the largest face of a photo, as
//! the page computes them; the browser tests compare the page's answer with this one to prove
//! wasm and native agree, search alone and the whole photo-to-matches path.

use std::path::PathBuf;

use anyhow::{Context, Result, bail, ensure};
use cf_face::{FaceError, FacePipeline, Network, NetworkSpec, Photo};
use cf_forest::{SearchOptions, Searcher};
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
    #[arg(long, required_unless_present = "photo", conflicts_with = "photo")]
    item: Option<u32>,
    /// Photo whose largest face is the query (the face the page preselects).
    #[arg(long)]
    photo: Option<PathBuf>,
    /// Folder with the fetched models, for --photo.
    #[arg(long, default_value = "models")]
    models: PathBuf,
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
    let query = match (args.item, &args.photo) {
        (Some(item), _) => {
            ensure!(
                (item as usize) < index.len(),
                "item {item} is out of range: the index holds {} items",
                index.len()
            );
            index.vector(item)
        }
        (None, Some(photo)) => photo_vector(&manifest, &network.name, photo, &args.models)?,
        (None, None) => bail!("give --item or --photo"),
    };
    let found = index.search(
        &mut Searcher::new(),
        &query,
        &SearchOptions::nearest(args.k).candidates(network.search_k),
    )?;
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

/// The vector of the largest face of `photo` in network `name`, with the models the manifest
/// names.
fn photo_vector(
    manifest: &cf_shards::Manifest,
    name: &str,
    photo: &std::path::Path,
    models: &std::path::Path,
) -> Result<Vec<f32>> {
    let read = |file: &str| {
        std::fs::read(models.join(file))
            .with_context(|| format!("cannot read model {}", models.join(file).display()))
    };
    let [detector, landmarks] = manifest.pipeline_models.as_slice() else {
        bail!("the manifest must list the detector and landmark models");
    };
    let pipeline = FacePipeline::new(&read(&detector.file)?, &read(&landmarks.file)?)?;
    let spec = NetworkSpec::named(name).with_context(|| format!("unknown network {name:?}"))?;
    let network = Network::load(spec, |file| {
        read(file).map_err(|e| FaceError::Model {
            model: file.into(),
            reason: format!("{e:#}"),
        })
    })?;
    let bytes = std::fs::read(photo).with_context(|| format!("cannot read {}", photo.display()))?;
    let decoded = Photo::decode(&bytes).with_context(|| format!("{}", photo.display()))?;
    let largest = pipeline
        .boxes(&decoded)?
        .into_iter()
        .max_by(|a, b| a.area().total_cmp(&b.area()))
        .with_context(|| format!("no face in {}", photo.display()))?;
    let face = pipeline.face_in_box(&decoded, largest)?;
    Ok(network.embed(&decoded, &face)?)
}
