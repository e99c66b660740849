//! Loading a network: every file it needs downloaded at once, with progress, each verified
//! against the manifest, and each model prepared as soon as its files are in while the others
//! keep arriving, so that on a slow network preparing hides behind downloading.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use cf_face::{DlibAttribute, DlibAttributeNet, FacePipeline, Network, NetworkSpec};
use cf_protocol::{INDEX_BASE, LoadProblem, LoadStage, LoadTimes, MODELS_BASE};
use cf_shards::{
    AnyIndex, Catalog, FetchError, FileEntry, FileStore, Manifest, decode_fetched_network,
    fetch_verified,
};
use futures::StreamExt;
use futures::stream::FuturesOrdered;

/// Milliseconds from some fixed start: `performance.now()` in the browser.
pub trait Clock {
    fn now(&self) -> f64;
}

/// A network ready to answer: its embedding models and its index.
pub struct Searchable {
    pub network: Network,
    pub spec: NetworkSpec,
    pub index: AnyIndex,
    pub search_k: usize,
}

/// What the first load prepares besides a network: everything a photo needs before any network
/// looks at it.
pub struct Shared {
    /// The detector and landmark models.
    pub pipeline: FacePipeline,
    /// The gender estimator the filter is preset with, when the manifest names one.
    pub gender: Option<DlibAttributeNet>,
    /// The catalog, as its verified file and read, when the index has one.
    pub catalog: Option<(Vec<u8>, Catalog)>,
}

/// What one load made ready.
pub struct Prepared {
    /// The models and catalog every network shares, when the load had to prepare them.
    pub shared: Option<Shared>,
    pub searchable: Searchable,
    pub times: LoadTimes,
}

/// A load the engine wants done: the caller runs it ([`LoadOrder::run`]) and hands the
/// outcome back ([`crate::Engine::loaded`]).
pub struct LoadOrder<A> {
    pub asker: A,
    pub manifest: Manifest,
    pub network: String,
    /// Whether the models and catalog every network shares are still to be prepared.
    pub with_pipeline: bool,
}

/// The outcome of a load.
pub struct Loaded<A> {
    pub asker: A,
    pub network: String,
    pub outcome: Result<Prepared, LoadProblem>,
}

impl<A> LoadOrder<A> {
    /// Downloads, verifies and prepares; `report` hears the progress.
    pub async fn run<S: FileStore, C: Clock>(
        self,
        store: &S,
        clock: &C,
        report: &dyn Fn(LoadStage, u64, u64),
    ) -> Loaded<A> {
        let outcome = load_network(
            store,
            clock,
            &self.manifest,
            &self.network,
            self.with_pipeline,
            report,
        )
        .await;
        Loaded {
            asker: self.asker,
            network: self.network,
            outcome,
        }
    }
}

/// Runs `work`, adding its time to `spent`.
fn timed<T, C: Clock>(clock: &C, spent: &mut f64, work: impl FnOnce() -> T) -> T {
    let started = clock.now();
    let outcome = work();
    *spent += clock.now() - started;
    outcome
}

async fn load_network<S: FileStore, C: Clock>(
    store: &S,
    clock: &C,
    manifest: &Manifest,
    name: &str,
    with_pipeline: bool,
    report: &dyn Fn(LoadStage, u64, u64),
) -> Result<Prepared, LoadProblem> {
    let started = clock.now();
    let entry = manifest
        .networks
        .iter()
        .find(|n| n.name == name)
        .ok_or_else(|| LoadProblem::UnknownNetwork {
            network: name.into(),
        })?;
    let spec = NetworkSpec::named(name).ok_or_else(|| LoadProblem::UnsupportedNetwork {
        network: name.into(),
    })?;
    let none: &[FileEntry] = &[];
    let catalog_file = manifest.catalog.as_ref().map(|c| &c.file);
    let (pipeline_files, gender_files, catalog_files) = if with_pipeline {
        (
            &manifest.pipeline_models[..],
            &manifest.gender_models[..],
            catalog_file.map(std::slice::from_ref).unwrap_or(none),
        )
    } else {
        (none, none, none)
    };
    // In the order they are needed: detector and landmarks, the gender estimator, the
    // catalog, the network's models, its shards.
    let files: Vec<(&str, &FileEntry)> = (pipeline_files.iter().map(|m| (MODELS_BASE, m)))
        .chain(gender_files.iter().map(|m| (MODELS_BASE, m)))
        .chain(catalog_files.iter().map(|c| (INDEX_BASE, c)))
        .chain(entry.models.iter().map(|m| (MODELS_BASE, m)))
        .chain(entry.shards.iter().map(|s| (INDEX_BASE, s)))
        .collect();
    let total: u64 = files.iter().map(|(_, f)| f.bytes).sum();
    let received = RefCell::new(vec![0u64; files.len()]);
    let reported = Cell::new(0u64);
    report(LoadStage::Downloading, 0, total);
    let mut arriving: FuturesOrdered<_> = files
        .iter()
        .enumerate()
        .map(|(slot, (base, file))| {
            let (received, reported) = (&received, &reported);
            async move {
                let mut progress = |bytes: u64| {
                    received.borrow_mut()[slot] = bytes;
                    let done: u64 = received.borrow().iter().sum();
                    // About a hundred updates for the whole download.
                    if done.saturating_sub(reported.get()) * 100 >= total || done == total {
                        reported.set(done);
                        report(LoadStage::Downloading, done, total);
                    }
                };
                fetch_verified(store, base, file, &mut progress).await
            }
        })
        .collect();
    let mut next_files = async |count: usize| -> Result<Vec<Vec<u8>>, LoadProblem> {
        let mut arrived = Vec::with_capacity(count);
        for _ in 0..count {
            let bytes: Result<Vec<u8>, FetchError> =
                arriving.next().await.expect("one download per file");
            arrived.push(bytes?);
        }
        Ok(arrived)
    };
    let mut times = LoadTimes::default();

    let pipeline_bytes = next_files(pipeline_files.len()).await?;
    let listed: Vec<&str> = pipeline_files.iter().map(|f| f.file.as_str()).collect();
    let pipeline = if listed.is_empty() {
        None
    } else if listed == cf_face::PIPELINE_FILES {
        let mut by_name: HashMap<&str, Vec<u8>> = listed.into_iter().zip(pipeline_bytes).collect();
        Some(timed(clock, &mut times.pipeline, || {
            FacePipeline::load(|file| {
                by_name
                    .remove(file)
                    .ok_or_else(|| cf_face::FaceError::Model {
                        model: file.into(),
                        reason: "asked for twice".into(),
                    })
            })
            .map_err(|e| model_problem(e, cf_face::PIPELINE_FILES[0]))
        })?)
    } else {
        return Err(LoadProblem::Index {
            detail: format!(
                "the manifest lists the face models {listed:?}; this page's pipeline loads {:?} \
                 (an index built by an older cfaces: build it again)",
                cf_face::PIPELINE_FILES
            ),
        });
    };
    let gender_bytes = next_files(gender_files.len()).await?;
    let gender = match (gender_files.first(), gender_bytes.first()) {
        (Some(file), Some(bytes)) => Some(timed(clock, &mut times.pipeline, || {
            DlibAttributeNet::new(DlibAttribute::Gender, bytes)
                .map_err(|e| model_problem(e, &file.file))
        })?),
        _ => None,
    };
    let catalog_bytes = next_files(catalog_files.len()).await?;
    let catalog = match (&manifest.catalog, catalog_bytes.into_iter().next()) {
        (Some(info), Some(bytes)) => {
            let catalog =
                Catalog::decode_fetched(info, &bytes).map_err(|e| LoadProblem::Index {
                    detail: e.to_string(),
                })?;
            Some((bytes, catalog))
        }
        _ => None,
    };
    let shared = pipeline.map(|pipeline| Shared {
        pipeline,
        gender,
        catalog,
    });
    let model_bytes = next_files(entry.models.len()).await?;
    let network = timed(clock, &mut times.network, || {
        let mut models: Vec<(&FileEntry, Vec<u8>)> = entry.models.iter().zip(model_bytes).collect();
        Network::load(spec, |file| {
            let position = models
                .iter()
                .position(|(m, _)| m.file == file)
                .ok_or_else(|| cf_face::FaceError::Model {
                    model: file.into(),
                    reason: "the manifest does not list this model".into(),
                })?;
            Ok(models.swap_remove(position).1)
        })
        .map_err(|e| model_problem(e, spec.files.first().copied().unwrap_or_default()))
    })?;
    let shard_bytes = next_files(entry.shards.len()).await?;
    report(LoadStage::Preparing, total, total);
    let index = timed(clock, &mut times.index, || {
        let shards: Vec<&[u8]> = shard_bytes.iter().map(Vec::as_slice).collect();
        decode_fetched_network(entry, &shards).map_err(|e| LoadProblem::Index {
            detail: e.to_string(),
        })
    })?;
    times.download = clock.now() - started - times.pipeline - times.network - times.index;
    Ok(Prepared {
        shared,
        searchable: Searchable {
            spec,
            network,
            index,
            search_k: entry.search_k,
        },
        times,
    })
}

/// A model that would not load, named by the file it came from.
fn model_problem(error: cf_face::FaceError, file: &str) -> LoadProblem {
    match error {
        cf_face::FaceError::Model { model, reason } => LoadProblem::Model {
            file: if model.contains('.') {
                model
            } else {
                file.to_string()
            },
            detail: reason,
        },
        other => LoadProblem::Model {
            file: file.to_string(),
            detail: other.to_string(),
        },
    }
}
