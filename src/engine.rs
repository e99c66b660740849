//! The worker's engine: the face pipeline and the search. It downloads and verifies the models
//! and index shards the manifest names, keeps the photo being looked at, and answers the page's
//! requests. Built only into the worker (feature `worker`), so the page never carries tract.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use cf_face::{FaceBox, FaceError, FacePipeline, Network, NetworkSpec, Photo};
use cf_forest::Searcher;
use cf_shards::{AnyIndex, FileEntry, Manifest, decode_network, parse_manifest};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use gloo_worker::{HandlerId, WorkerScope};
use wasm_bindgen::JsCast;

use crate::fetch::fetch_verified;
use crate::protocol::{
    FaceRect, Hit, LoadStage, LoadTimes, MIN_FACE_SIDE, PhotoProblem, Reply, Request, StageTimes,
};
use crate::worker::{FaceWorker, INDEX_BASE, MODELS_BASE};

type Scope = WorkerScope<FaceWorker>;

/// Neighbours returned per face: enough for a dozen distinct people in the default view.
const HITS: usize = 120;
/// Queries of the developer speed measurement.
const BENCH_QUERIES: usize = 500;

fn now() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Milliseconds between successive laps, for the stage times.
struct Stopwatch(f64);

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch(now())
    }

    fn lap(&mut self) -> f64 {
        let t = now();
        let spent = t - self.0;
        self.0 = t;
        spent
    }
}

/// A network ready to answer: its embedding models and its index.
struct Searchable {
    network: Network,
    same_person: f32,
    index: AnyIndex,
    search_k: usize,
}

/// The outcome of one load, handed back to the worker.
pub struct Loaded {
    asker: HandlerId,
    network: String,
    outcome: Result<(Option<FacePipeline>, Searchable, LoadTimes), String>,
}

pub struct Engine {
    pipeline: Option<Rc<FacePipeline>>,
    networks: HashMap<String, Rc<Searchable>>,
    current: Option<String>,
    loading: bool,
    /// The last load failed and nothing is loaded: requests are answered with that, not kept.
    failed: bool,
    /// Requests that arrived before or while a network was loading, answered once it is in.
    queued: Vec<(HandlerId, Request)>,
    photo: Option<(u32, Photo)>,
    searcher: Searcher,
}

impl Engine {
    pub(crate) fn new() -> Self {
        Engine {
            pipeline: None,
            networks: HashMap::new(),
            current: None,
            loading: false,
            failed: false,
            queued: Vec::new(),
            photo: None,
            searcher: Searcher::new(),
        }
    }

    pub fn update(&mut self, scope: &Scope, loaded: Loaded) {
        self.loading = false;
        let network = loaded.network;
        match loaded.outcome {
            Ok((pipeline, searchable, times)) => {
                self.failed = false;
                if let Some(pipeline) = pipeline {
                    self.pipeline = Some(Rc::new(pipeline));
                }
                let ready = Reply::Ready {
                    network: network.clone(),
                    items: searchable.index.len(),
                    same_person: searchable.same_person,
                    times,
                };
                self.networks.insert(network.clone(), Rc::new(searchable));
                self.current = Some(network);
                scope.respond(loaded.asker, ready);
            }
            Err(message) => {
                self.failed = self.current.is_none();
                scope.respond(loaded.asker, Reply::LoadFailed { network, message })
            }
        }
        for (id, request) in std::mem::take(&mut self.queued) {
            self.received(scope, request, id);
        }
    }

    pub fn received(&mut self, scope: &Scope, request: Request, id: HandlerId) {
        // Until a network is in, requests wait: a photo may come before the first load starts.
        let waiting = self.loading || (self.current.is_none() && !self.failed);
        match request {
            Request::Load { manifest, network } if !self.loading => {
                self.load(scope, id, &manifest, network)
            }
            // Another network while one loads: after it.
            request @ Request::Load { .. } => self.queued.push((id, request)),
            request if waiting => self.queued.push((id, request)),
            request if self.current.is_none() => {
                // Nothing is loaded (the load failed): say why instead of waiting forever.
                let message = "the models are not loaded".to_string();
                match request {
                    Request::Analyse { photo, .. } | Request::Match { photo, .. } => {
                        scope.respond(
                            id,
                            Reply::PhotoFailed {
                                photo,
                                problem: PhotoProblem::Other,
                                detail: message,
                            },
                        );
                    }
                    _ => scope.respond(
                        id,
                        Reply::LoadFailed {
                            network: String::new(),
                            message,
                        },
                    ),
                }
            }
            Request::Analyse { photo, bytes } => self.analyse(scope, id, photo, &bytes),
            Request::Match { photo, face } => {
                self.match_face(scope, id, photo, face, StageTimes::default())
            }
            Request::QueryItem { item } => self.query_item(scope, id, item),
            Request::Bench => self.bench(scope, id),
        }
    }
}

impl Engine {
    fn load(&mut self, scope: &Scope, id: HandlerId, manifest: &str, name: String) {
        if let Some(searchable) = self.networks.get(&name) {
            let ready = Reply::Ready {
                network: name.clone(),
                items: searchable.index.len(),
                same_person: searchable.same_person,
                times: LoadTimes::default(),
            };
            self.current = Some(name);
            scope.respond(id, ready);
            return;
        }
        let manifest = match parse_manifest(manifest.as_bytes()) {
            Ok(manifest) => manifest,
            Err(e) => {
                scope.respond(
                    id,
                    Reply::LoadFailed {
                        network: name,
                        message: format!("manifest: {e}"),
                    },
                );
                return;
            }
        };
        self.loading = true;
        let need_pipeline = self.pipeline.is_none();
        let reporter = scope.clone();
        scope.send_future(async move {
            let report = {
                let name = name.clone();
                move |stage, done, total| {
                    reporter.respond(
                        id,
                        Reply::Progress {
                            network: name.clone(),
                            stage,
                            done,
                            total,
                        },
                    )
                }
            };
            let outcome = load_network(&manifest, &name, need_pipeline, &report).await;
            Loaded {
                asker: id,
                network: name,
                outcome,
            }
        });
    }

    fn analyse(&mut self, scope: &Scope, id: HandlerId, photo_id: u32, bytes: &[u8]) {
        let Some(pipeline) = self.pipeline.clone() else {
            return;
        };
        let mut times = StageTimes::default();
        let mut clock = Stopwatch::start();
        let photo = match Photo::decode(bytes) {
            Ok(photo) => photo,
            Err(error) => {
                self.photo = None;
                scope.respond(id, photo_failed(photo_id, &error));
                return;
            }
        };
        times.decode = clock.lap();
        let boxes = match pipeline.boxes(&photo) {
            Ok(boxes) => boxes,
            Err(error) => {
                scope.respond(id, photo_failed(photo_id, &error));
                return;
            }
        };
        times.detect = clock.lap();
        let faces: Vec<FaceRect> = boxes
            .iter()
            .map(|b| FaceRect {
                x1: b.x1,
                y1: b.y1,
                x2: b.x2,
                y2: b.y2,
            })
            .collect();
        scope.respond(
            id,
            Reply::Faces {
                photo: photo_id,
                width: photo.width as u32,
                height: photo.height as u32,
                faces: faces.clone(),
                times,
            },
        );
        self.photo = Some((photo_id, photo));
        if let Some(largest) = faces.iter().max_by(|a, b| a.area().total_cmp(&b.area())) {
            self.match_face(scope, id, photo_id, *largest, times);
        }
    }

    fn match_face(
        &mut self,
        scope: &Scope,
        id: HandlerId,
        photo_id: u32,
        face: FaceRect,
        mut times: StageTimes,
    ) {
        let (Some(pipeline), Some(searchable)) = (self.pipeline.clone(), self.searchable()) else {
            return;
        };
        // A box for an older photo is stale: the page has moved on.
        let Some((_, photo)) = self.photo.as_ref().filter(|(id, _)| *id == photo_id) else {
            return;
        };
        // Not clamped: a detected box may reach past the photo's edge, and the landmarks must see
        // the same box the native pipeline gives them.
        let face = face.ordered();
        let no_face = |detail: String| Reply::PhotoFailed {
            photo: photo_id,
            problem: PhotoProblem::NoFaceInBox,
            detail,
        };
        if face.width() < MIN_FACE_SIDE || face.height() < MIN_FACE_SIDE {
            scope.respond(
                id,
                no_face(format!("the box is smaller than {MIN_FACE_SIDE} pixels")),
            );
            return;
        }
        let mut clock = Stopwatch::start();
        let bbox = FaceBox {
            x1: face.x1,
            y1: face.y1,
            x2: face.x2,
            y2: face.y2,
            score: 1.0,
        };
        let outcome = (|| {
            let found = pipeline.face_in_box(photo, bbox)?;
            times.landmarks = clock.lap();
            let crop = searchable.network.aligned_crop(photo, &found)?;
            times.align = clock.lap();
            let vector = searchable.network.embed_aligned(photo, &found, &crop)?;
            times.embed = clock.lap();
            Ok::<_, FaceError>((crop, vector))
        })();
        let (crop, vector) = match outcome {
            Ok(done) => done,
            Err(error) => {
                scope.respond(id, no_face(error.to_string()));
                return;
            }
        };
        let hits = searchable
            .index
            .search(&mut self.searcher, &vector, HITS, Some(searchable.search_k))
            .unwrap_or_default();
        times.search = clock.lap();
        let crop_side = ((crop.len() / 3) as f64).sqrt() as u32;
        scope.respond(
            id,
            Reply::Matches {
                photo: photo_id,
                network: self.current.clone().unwrap_or_default(),
                face,
                crop,
                crop_side,
                hits: hits
                    .iter()
                    .map(|n| Hit {
                        item: n.item,
                        similarity: n.similarity(),
                    })
                    .collect(),
                times,
            },
        );
    }

    fn searchable(&self) -> Option<Rc<Searchable>> {
        self.networks.get(self.current.as_ref()?).cloned()
    }

    fn query_item(&mut self, scope: &Scope, id: HandlerId, item: u32) {
        let Some(searchable) = self.searchable() else {
            return;
        };
        let index = &searchable.index;
        if item as usize >= index.len() {
            return;
        }
        let query = index.vector(item);
        let k = 10;
        let started = now();
        let found = index
            .search(&mut self.searcher, &query, k, Some(searchable.search_k))
            .unwrap_or_default();
        let search_ms = now() - started;
        let exact = index.exact(&query, k).unwrap_or_default();
        let exact_overlap = exact
            .iter()
            .filter(|e| found.iter().any(|f| f.item == e.item))
            .count();
        scope.respond(
            id,
            Reply::ItemHits {
                item,
                hits: found
                    .iter()
                    .map(|n| Hit {
                        item: n.item,
                        similarity: n.similarity(),
                    })
                    .collect(),
                exact_overlap,
                search_ms,
            },
        );
    }

    fn bench(&mut self, scope: &Scope, id: HandlerId) {
        let Some(searchable) = self.searchable() else {
            return;
        };
        let index = &searchable.index;
        let items = index.len().max(1) as u64;
        // The same spread of item vectors the native `cfaces verify --queries` times.
        let queries: Vec<Vec<f32>> = (0..BENCH_QUERIES as u64)
            .map(|i| index.vector(((i * 7919) % items) as u32))
            .collect();
        let started = now();
        for q in &queries {
            let _ = index.search(&mut self.searcher, q, 10, Some(searchable.search_k));
        }
        let forest_ms = now() - started;
        let exact_queries = &queries[..queries.len().min(50)];
        let started = now();
        for q in exact_queries {
            let _ = index.exact(q, 10);
        }
        let exact_ms = now() - started;
        scope.respond(
            id,
            Reply::Speed {
                queries: queries.len(),
                forest_qps: queries.len() as f64 * 1000.0 / forest_ms.max(1e-3),
                exact_qps: exact_queries.len() as f64 * 1000.0 / exact_ms.max(1e-3),
            },
        );
    }
}

fn photo_failed(photo: u32, error: &FaceError) -> Reply {
    let problem = match error {
        FaceError::Empty => PhotoProblem::Empty,
        FaceError::UnknownFormat(_) => PhotoProblem::UnknownFormat,
        FaceError::TooLarge(_) => PhotoProblem::TooLarge,
        FaceError::Decode(_) => PhotoProblem::Damaged,
        _ => PhotoProblem::Other,
    };
    Reply::PhotoFailed {
        photo,
        problem,
        detail: error.to_string(),
    }
}

/// Downloads (all at once, with progress), verifies and prepares what network `name` needs,
/// and the detector and landmark models when `need_pipeline`. Each model is prepared as soon as
/// its files are in while the others keep arriving, so that on a slow network preparing hides
/// behind downloading.
async fn load_network(
    manifest: &Manifest,
    name: &str,
    need_pipeline: bool,
    report: &dyn Fn(LoadStage, u64, u64),
) -> Result<(Option<FacePipeline>, Searchable, LoadTimes), String> {
    let started = now();
    let entry = manifest
        .networks
        .iter()
        .find(|n| n.name == name)
        .ok_or_else(|| format!("the index has no network {name:?}"))?;
    let spec = NetworkSpec::named(name)
        .ok_or_else(|| format!("this page cannot compute vectors for network {name:?}"))?;
    let pipeline_files: &[FileEntry] = if need_pipeline {
        &manifest.pipeline_models
    } else {
        &[]
    };
    // In the order they are needed: detector and landmarks, the network's models, its shards.
    let files: Vec<(&str, &FileEntry)> = (pipeline_files.iter().map(|m| (MODELS_BASE, m)))
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
                fetch_verified(base, file, &mut progress).await
            }
        })
        .collect();
    let mut arrived: Vec<(String, Vec<u8>)> = Vec::new();
    let bytes_of = |arrived: &[(String, Vec<u8>)], file: &str| {
        arrived
            .iter()
            .find(|(name, _)| name == file)
            .map(|(_, bytes)| bytes.clone())
    };
    let mut times = LoadTimes::default();
    let timed = |spent: &mut f64, work: &mut dyn FnMut() -> Result<(), String>| {
        let t = now();
        let outcome = work();
        *spent = now() - t;
        outcome
    };

    arrive(&mut arriving, &files, &mut arrived, pipeline_files.len()).await?;
    let mut pipeline = None;
    if need_pipeline {
        let [detector, landmarks] = pipeline_files else {
            return Err("the manifest must list the detector and landmark models".into());
        };
        timed(&mut times.pipeline, &mut || {
            pipeline = Some(
                FacePipeline::new(
                    &bytes_of(&arrived, &detector.file).unwrap_or_default(),
                    &bytes_of(&arrived, &landmarks.file).unwrap_or_default(),
                )
                .map_err(|e| e.to_string())?,
            );
            Ok(())
        })?;
    }
    arrive(&mut arriving, &files, &mut arrived, entry.models.len()).await?;
    let mut network = None;
    timed(&mut times.network, &mut || {
        let model = |file: &str| {
            bytes_of(&arrived, file).ok_or_else(|| FaceError::Model {
                model: file.into(),
                reason: "the manifest does not list this model".into(),
            })
        };
        network = Some(Network::load(spec, model).map_err(|e| e.to_string())?);
        Ok(())
    })?;
    arrive(&mut arriving, &files, &mut arrived, entry.shards.len()).await?;
    report(LoadStage::Preparing, total, total);
    let mut index = None;
    timed(&mut times.index, &mut || {
        let shards: Vec<&[u8]> = entry
            .shards
            .iter()
            .map(|s| {
                arrived
                    .iter()
                    .find(|(name, _)| *name == s.file)
                    .map(|(_, bytes)| bytes.as_slice())
                    .unwrap_or_default()
            })
            .collect();
        index = Some(decode_network(entry, &shards).map_err(|e| e.to_string())?);
        Ok(())
    })?;
    times.download = now() - started - times.pipeline - times.network - times.index;
    let (Some(network), Some(index)) = (network, index) else {
        unreachable!("both are set above or the function has returned")
    };
    Ok((
        pipeline,
        Searchable {
            same_person: spec.same_person_similarity,
            network,
            index,
            search_k: entry.search_k,
        },
        times,
    ))
}

/// The next `count` downloads, in order, into `arrived` by file name.
async fn arrive<F: Future<Output = Result<Vec<u8>, String>>>(
    arriving: &mut FuturesOrdered<F>,
    files: &[(&str, &FileEntry)],
    arrived: &mut Vec<(String, Vec<u8>)>,
    count: usize,
) -> Result<(), String> {
    for _ in 0..count {
        let bytes = arriving
            .next()
            .await
            .ok_or_else(|| "a download went missing".to_string())??;
        let (_, file) = files[arrived.len()];
        arrived.push((file.file.clone(), bytes));
    }
    Ok(())
}
