//! `cfaces query`: the nearest items to one item's vector, or the page's matches for a photo,
//! computed natively by the page's own engine; the browser tests compare the page's answer with
//! this one to prove wasm and native agree, search alone and the whole photo-to-matches path.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use cf_engine::{Clock, Command, Engine};
use cf_forest::{SearchOptions, Searcher};
use cf_protocol::{
    FaceRect, Filter, GenderChoice, INDEX_BASE, MODELS_BASE, Reply, Request, TurnedFace,
};
use cf_shards::MemoryStore;
use clap::{Args, ValueEnum};
use image::RgbImage;
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
    /// as the page answers it (asked again where the second look finds the face lying turned):
    /// the filter, the gender estimate and the matches, as JSON.
    #[arg(long)]
    photo: Option<PathBuf>,
    /// With --photo: the gender filter (auto: preset as the page presets it).
    #[arg(long, value_enum, default_value = "auto")]
    gender: GenderArg,
    /// With --photo: only people in a public list of celebrities.
    #[arg(long)]
    well_known_only: bool,
    /// With --photo: answer for every face the detector finds, as the page answers when the
    /// visitor picks each in turn (the preselected one first), as a JSON array.
    #[arg(long, requires = "photo")]
    every_face: bool,
    /// With --photo: write the aligned crop each answer's network saw, face-N.png in the
    /// answers' order, into this folder (to look at what the estimate was made from).
    #[arg(long, requires = "photo")]
    crops: Option<PathBuf>,
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
    /// The face box, in the pixels of the photo as the engine decoded it.
    face: FaceRect,
    gender: &'static str,
    well_known_only: bool,
    woman: Option<f32>,
    hits: Vec<Found>,
}

pub fn run(args: QueryArgs) -> Result<()> {
    if let Some(photo) = &args.photo {
        let answers = photo_matches(&args, photo)?;
        if let Some(folder) = &args.crops {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
            for (i, (_, crop)) in answers.iter().enumerate() {
                let path = folder.join(format!("face-{i}.png"));
                crop.save(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        let answers: Vec<PhotoAnswer> = answers.into_iter().map(|(answer, _)| answer).collect();
        match (args.every_face, answers.first()) {
            (true, _) => println!("{}", serde_json::to_string(&answers)?),
            (false, Some(answer)) => println!("{}", serde_json::to_string(answer)?),
            (false, None) => bail!("no face was found in {}", photo.display()),
        }
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

/// The page's answers for `photo` (its preselected face, or with `--every-face` each face in
/// turn) and the crops they were made from, computed by the page's own engine (cf-engine)
/// natively: the index and models read into memory and served to it as the site serves them to
/// the worker.
fn photo_matches(args: &QueryArgs, photo: &Path) -> Result<Vec<(PhotoAnswer, RgbImage)>> {
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
    let mut answers = Vec::new();
    // With --every-face: the faces still to ask for, in the page's order (the first look's,
    // then the second's), one at a time (a newer box supersedes queued ones, as in the page).
    let mut others: std::collections::VecDeque<FaceRect> = Default::default();
    // The preselected face as the second look saw it lying turned: the page asks for it
    // again, and that answer (`again`, its seq) replaces the first.
    let mut preselected = None;
    let mut turned_preselected = None;
    let mut again = None;
    let mut asking = true;
    let mut seq = 1;
    loop {
        if commands.is_empty() {
            if !engine.has_work() {
                if answers.is_empty() {
                    bail!("no face was found in {}", photo.display());
                }
                return Ok(answers);
            }
            commands = engine.step();
        }
        for command in std::mem::take(&mut commands) {
            let mut ask_next = false;
            match command {
                Command::Load(order) => {
                    let loaded = futures::executor::block_on(order.run(
                        &store,
                        &WallClock(Instant::now()),
                        &|_, _, _| {},
                    ));
                    commands.extend(engine.loaded(loaded));
                }
                Command::Portrait(order) => {
                    bail!(
                        "the engine fetches a portrait ({}) no query asked for",
                        order.url
                    )
                }
                Command::Reply(_, Reply::LoadFailed { network, problem }) => {
                    bail!("network {network} could not be loaded: {problem:?}")
                }
                Command::Reply(_, Reply::PhotoFailed { problem, .. }) => {
                    bail!("{}: {problem:?}", photo.display())
                }
                Command::Reply(_, Reply::Faces { faces, chosen, .. }) => {
                    preselected = chosen;
                    if args.every_face {
                        others.extend(
                            faces
                                .iter()
                                .enumerate()
                                .filter(|&(i, _)| Some(i) != chosen)
                                .map(|(_, face)| *face),
                        );
                    }
                }
                Command::Reply(_, Reply::MoreFaces { faces, turned, .. }) => {
                    for TurnedFace { index, was, now } in turned {
                        if Some(index as usize) == preselected {
                            turned_preselected = Some(now);
                        } else if let Some(slot) = others.iter_mut().find(|face| **face == was) {
                            *slot = now;
                        }
                    }
                    if args.every_face {
                        others.extend(faces);
                    }
                    ask_next = !asking;
                }
                Command::Reply(
                    _,
                    Reply::Matches {
                        seq: answered,
                        face,
                        crop,
                        crop_side,
                        hits,
                        filter: found_with,
                        woman,
                        ..
                    },
                ) => {
                    let crop = RgbImage::from_raw(crop_side, crop_side, crop)
                        .context("the engine's crop is not crop_side x crop_side RGB")?;
                    let answer = PhotoAnswer {
                        face,
                        gender: found_with.gender.unwrap_or(GenderChoice::Everyone).code(),
                        well_known_only: found_with.well_known_only,
                        woman,
                        hits: hits
                            .iter()
                            .take(args.k)
                            .map(|h| Found {
                                item: h.item,
                                distance: 1.0 - h.similarity,
                            })
                            .collect(),
                    };
                    match answers.first_mut() {
                        Some(first) if again == Some(answered) => *first = (answer, crop),
                        _ => answers.push((answer, crop)),
                    }
                    asking = false;
                    ask_next = true;
                }
                Command::Reply(..) => {}
            }
            if !ask_next {
                continue;
            }
            let next = match turned_preselected.take() {
                Some(face) => {
                    again = Some(seq + 1);
                    Some(face)
                }
                None => others.pop_front(),
            };
            if let Some(face) = next {
                seq += 1;
                asking = true;
                engine.received(
                    0,
                    Request::Match {
                        seq,
                        photo: 1,
                        face,
                        filter,
                    },
                );
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
