//! `cfaces query`: the nearest items to one item's vector, or the page's matches for a photo,
//! computed natively by the page's own engine; the browser tests compare the page's answer with
//! this one to prove wasm and native agree, search alone and the whole photo-to-matches path.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use cf_engine::{Clock, Command, Engine};
use cf_forest::{SearchOptions, Searcher};
use cf_protocol::{Filter, GenderChoice, INDEX_BASE, MODELS_BASE, Reply, Request};
use cf_shards::MemoryStore;
use clap::{Args, ValueEnum};
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
    /// Photo whose face the page preselects is the query, answered by the page's own engine
    /// as the page answers it: the filter, the gender estimate and the matches, as JSON.
    #[arg(long)]
    photo: Option<PathBuf>,
    /// With --photo: the gender filter (auto: preset as the page presets it).
    #[arg(long, value_enum, default_value = "auto")]
    gender: GenderArg,
    /// With --photo: only people in a public list of celebrities.
    #[arg(long)]
    well_known_only: bool,
    /// Folder with the fetched models, for --photo.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Neighbours to return.
    #[arg(long, default_value_t = 10)]
    k: usize,
}

/// The gender filter of `--gender`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum GenderArg {
    Auto,
    Women,
    Men,
    Everyone,
}

impl GenderArg {
    fn choice(self) -> Option<GenderChoice> {
        match self {
            GenderArg::Auto => None,
            GenderArg::Women => Some(GenderChoice::Women),
            GenderArg::Men => Some(GenderChoice::Men),
            GenderArg::Everyone => Some(GenderChoice::Everyone),
        }
    }
}

#[derive(Serialize)]
struct Found {
    item: u32,
    distance: f32,
}

/// What `--photo` prints: the filter the matches passed, the gender estimate it was preset
/// from, and the matches.
#[derive(Serialize)]
struct PhotoAnswer {
    gender: &'static str,
    well_known_only: bool,
    woman: Option<f32>,
    hits: Vec<Found>,
}

pub fn run(args: QueryArgs) -> Result<()> {
    if let Some(photo) = &args.photo {
        let answer = photo_matches(&args, photo)?;
        println!("{}", serde_json::to_string(&answer)?);
        return Ok(());
    }
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
    let Some(item) = args.item else {
        bail!("give --item or --photo");
    };
    ensure!(
        (item as usize) < index.len(),
        "item {item} is out of range: the index holds {} items",
        index.len()
    );
    let found = index.search(
        &mut Searcher::new(),
        &index.vector(item),
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

/// The page's answer for `photo`, computed by the page's own engine (cf-engine) natively: the
/// index and models read into memory and served to it as the site serves them to the worker.
fn photo_matches(args: &QueryArgs, photo: &Path) -> Result<PhotoAnswer> {
    let store = MemoryStore::default();
    let serve = |folder: &Path, base: &str| -> Result<()> {
        for entry in std::fs::read_dir(folder)
            .with_context(|| format!("cannot list {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_file() {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                store.serve(&format!("{base}/{name}"), std::fs::read(&path)?);
            }
        }
        Ok(())
    };
    serve(&args.dir, INDEX_BASE)?;
    serve(&args.models, MODELS_BASE)?;
    let manifest = std::fs::read_to_string(args.dir.join("manifest.json"))
        .with_context(|| format!("cannot read {}", args.dir.join("manifest.json").display()))?;
    let network = match &args.network {
        Some(name) => name.clone(),
        None => cf_shards::parse_manifest(manifest.as_bytes())?
            .networks
            .first()
            .map(|n| n.name.clone())
            .context("the index has no network")?,
    };
    let bytes = std::fs::read(photo).with_context(|| format!("cannot read {}", photo.display()))?;
    let filter = Filter {
        gender: args.gender.choice(),
        well_known_only: args.well_known_only,
    };
    let mut engine: Engine<u32, WallClock> = Engine::new(WallClock(Instant::now()));
    engine.received(0, Request::Load { manifest, network });
    engine.received(
        0,
        Request::Analyse {
            seq: 1,
            photo: 1,
            bytes,
            filter,
        },
    );
    let mut commands = Vec::new();
    loop {
        if commands.is_empty() {
            if !engine.has_work() {
                bail!("no face was found in {}", photo.display());
            }
            commands = engine.step();
        }
        for command in std::mem::take(&mut commands) {
            match command {
                Command::Load(order) => {
                    let loaded = futures::executor::block_on(order.run(
                        &store,
                        &WallClock(Instant::now()),
                        &|_, _, _| {},
                    ));
                    commands.extend(engine.loaded(loaded));
                }
                Command::Reply(_, Reply::LoadFailed { network, problem }) => {
                    bail!("network {network} could not be loaded: {problem:?}")
                }
                Command::Reply(_, Reply::PhotoFailed { problem, .. }) => {
                    bail!("{}: {problem:?}", photo.display())
                }
                Command::Reply(
                    _,
                    Reply::Matches {
                        hits,
                        filter,
                        woman,
                        ..
                    },
                ) => {
                    return Ok(PhotoAnswer {
                        gender: filter.gender.unwrap_or(GenderChoice::Everyone).code(),
                        well_known_only: filter.well_known_only,
                        woman,
                        hits: hits
                            .iter()
                            .take(args.k)
                            .map(|h| Found {
                                item: h.item,
                                distance: 1.0 - h.similarity,
                            })
                            .collect(),
                    });
                }
                Command::Reply(..) => {}
            }
        }
    }
}

/// Milliseconds since the query started.
struct WallClock(Instant);

impl Clock for WallClock {
    fn now(&self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1e3
    }
}
