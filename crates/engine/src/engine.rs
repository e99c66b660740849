//! The engine's state machine: what is loaded ([`Readiness`]), the queue of requests, and the
//! photo being looked at. It does no I/O and spawns nothing: each call returns [`Command`]s for
//! the caller (the worker program, or a test) to carry out.

use std::collections::HashMap;

use cf_face::{FaceBox, FacePipeline, Photo, preselect};
use cf_forest::{SearchOptions, Searcher};
use cf_protocol::{
    FaceRect, Hit, LoadProblem, LoadTimes, PhotoProblem, Reply, Request, StageTimes,
};
use cf_shards::parse_manifest;

use crate::load::{Clock, LoadOrder, Loaded, Searchable};
use crate::queue::RequestQueue;

/// Neighbours returned per face: enough for a dozen distinct people in the default view.
pub const HITS: usize = 120;
/// Queries of the developer speed measurement.
const BENCH_QUERIES: usize = 500;

/// What the engine can answer now.
#[derive(Clone, Debug, PartialEq)]
pub enum Readiness {
    /// Nothing loaded, nothing loading: requests wait for the page's first load.
    Waiting,
    /// `network` is loading; requests wait for it. `before` was searched until then.
    Loading {
        network: String,
        before: Option<String>,
    },
    /// `network` is searched.
    Ready { network: String },
    /// Nothing is loaded and the last load failed: photo requests are refused with that.
    Failed { problem: LoadProblem },
}

/// What the caller is to do.
pub enum Command<A> {
    /// Send this reply to that asker.
    Reply(A, Reply),
    /// Run this load and hand its outcome to [`Engine::loaded`].
    Load(LoadOrder<A>),
}

impl<A: std::fmt::Debug> std::fmt::Debug for Command<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Reply(to, reply) => f.debug_tuple("Reply").field(to).field(reply).finish(),
            Command::Load(order) => f
                .debug_struct("Load")
                .field("asker", &order.asker)
                .field("network", &order.network)
                .field("with_pipeline", &order.with_pipeline)
                .finish(),
        }
    }
}

pub struct Engine<A, C> {
    clock: C,
    readiness: Readiness,
    pipeline: Option<FacePipeline>,
    networks: HashMap<String, Searchable>,
    queue: RequestQueue<A>,
    /// The photo the page shows now, decoded, by its id.
    photo: Option<(u32, Photo)>,
    searcher: Searcher,
}

impl<A: Copy + PartialEq, C: Clock> Engine<A, C> {
    pub fn new(clock: C) -> Self {
        Engine {
            clock,
            readiness: Readiness::Waiting,
            pipeline: None,
            networks: HashMap::new(),
            queue: RequestQueue::default(),
            photo: None,
            searcher: Searcher::new(),
        }
    }

    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Queues a request; [`Engine::step`] answers it when it can run.
    pub fn received(&mut self, from: A, request: Request) {
        self.queue.push(from, request);
    }

    /// True when a queued request can run now.
    pub fn has_work(&self) -> bool {
        self.queue.any(|r| runnable(&self.readiness, r))
    }

    /// Requests waiting, runnable or not.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// Answers the oldest runnable request.
    pub fn step(&mut self) -> Vec<Command<A>> {
        let readiness = &self.readiness;
        let Some((from, request)) = self.queue.take_first(|r| runnable(readiness, r)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Readiness::Failed { .. } = self.readiness
            && !matches!(request, Request::Load { .. })
        {
            // Nothing is loaded: say so rather than leave the page waiting.
            if let Request::Analyse { seq, photo, .. } | Request::Match { seq, photo, .. } = request
            {
                out.push(photo_failed(from, seq, photo, PhotoProblem::NotReady));
            }
            return out;
        }
        match request {
            Request::Load { manifest, network } => self.load(from, &manifest, network, &mut out),
            Request::Analyse { seq, photo, bytes } => {
                self.analyse(from, seq, photo, &bytes, &mut out)
            }
            Request::Match { seq, photo, face } => {
                self.match_face(from, seq, photo, face, StageTimes::default(), &mut out)
            }
            Request::QueryItem { seq, item } => self.query_item(from, seq, item, &mut out),
            Request::Bench => self.bench(from, &mut out),
        }
        out
    }

    /// Takes in a finished load.
    pub fn loaded(&mut self, loaded: Loaded<A>) -> Vec<Command<A>> {
        let before = match std::mem::replace(&mut self.readiness, Readiness::Waiting) {
            Readiness::Loading { before, .. } => before,
            Readiness::Ready { network } => Some(network),
            Readiness::Waiting | Readiness::Failed { .. } => None,
        };
        let reply = match loaded.outcome {
            Ok(prepared) => {
                if let Some(pipeline) = prepared.pipeline {
                    self.pipeline = Some(pipeline);
                }
                let ready = Reply::Ready {
                    network: loaded.network.clone(),
                    items: prepared.searchable.index.len(),
                    same_person: prepared.searchable.same_person,
                    times: prepared.times,
                };
                self.networks
                    .insert(loaded.network.clone(), prepared.searchable);
                self.readiness = Readiness::Ready {
                    network: loaded.network,
                };
                ready
            }
            Err(problem) => {
                self.readiness = match before {
                    Some(network) => Readiness::Ready { network },
                    None => Readiness::Failed {
                        problem: problem.clone(),
                    },
                };
                Reply::LoadFailed {
                    network: loaded.network,
                    problem,
                }
            }
        };
        vec![Command::Reply(loaded.asker, reply)]
    }

    /// The network searched now.
    fn current(&self) -> Option<(&str, &Searchable)> {
        let Readiness::Ready { network } = &self.readiness else {
            return None;
        };
        Some((network, self.networks.get(network)?))
    }

    fn load(&mut self, from: A, manifest: &str, network: String, out: &mut Vec<Command<A>>) {
        if let Some(searchable) = self.networks.get(&network) {
            out.push(Command::Reply(
                from,
                Reply::Ready {
                    network: network.clone(),
                    items: searchable.index.len(),
                    same_person: searchable.same_person,
                    times: LoadTimes::default(),
                },
            ));
            self.readiness = Readiness::Ready { network };
            return;
        }
        let manifest = match parse_manifest(manifest.as_bytes()) {
            Ok(manifest) => manifest,
            Err(error) => {
                let problem = LoadProblem::Manifest {
                    detail: error.to_string(),
                };
                if self.current().is_none() {
                    self.readiness = Readiness::Failed {
                        problem: problem.clone(),
                    };
                }
                out.push(Command::Reply(from, Reply::LoadFailed { network, problem }));
                return;
            }
        };
        let before = self.current().map(|(name, _)| name.to_string());
        self.readiness = Readiness::Loading {
            network: network.clone(),
            before,
        };
        out.push(Command::Load(LoadOrder {
            asker: from,
            manifest,
            network,
            with_pipeline: self.pipeline.is_none(),
        }));
    }

    fn analyse(
        &mut self,
        from: A,
        seq: u32,
        photo_id: u32,
        bytes: &[u8],
        out: &mut Vec<Command<A>>,
    ) {
        let Some(pipeline) = &self.pipeline else {
            return;
        };
        let failed = |problem| photo_failed(from, seq, photo_id, problem);
        let mut times = StageTimes::default();
        let mut lap = Lap::start(&self.clock);
        self.photo = None;
        let photo = match Photo::decode(bytes) {
            Ok(photo) => photo,
            Err(error) => return out.push(failed(error.into())),
        };
        times.decode = lap.next(&self.clock);
        let boxes = match pipeline.boxes(&photo) {
            Ok(boxes) => boxes,
            Err(error) => return out.push(failed(error.into())),
        };
        times.detect = lap.next(&self.clock);
        let chosen = preselect(&boxes);
        let faces: Vec<FaceRect> = boxes.iter().copied().map(FaceRect::from).collect();
        out.push(Command::Reply(
            from,
            Reply::Faces {
                seq,
                photo: photo_id,
                width: photo.width as u32,
                height: photo.height as u32,
                faces: faces.clone(),
                chosen,
                times,
            },
        ));
        self.photo = Some((photo_id, photo));
        if let Some(chosen) = chosen {
            self.match_face(from, seq, photo_id, faces[chosen], times, out);
        }
    }

    fn match_face(
        &mut self,
        from: A,
        seq: u32,
        photo_id: u32,
        face: FaceRect,
        mut times: StageTimes,
        out: &mut Vec<Command<A>>,
    ) {
        let Readiness::Ready { network } = &self.readiness else {
            return;
        };
        let (Some(pipeline), Some(searchable)) = (&self.pipeline, self.networks.get(network))
        else {
            return;
        };
        // A box for an older photo is stale: the page has moved on.
        let Some((_, photo)) = self.photo.as_ref().filter(|(id, _)| *id == photo_id) else {
            return;
        };
        let failed = |problem| photo_failed(from, seq, photo_id, problem);
        // Not clamped: a detected box may reach past the photo's edge, and the landmarks must see
        // the same box the native pipeline gives them.
        let face = face.ordered();
        if !face.readable() {
            return out.push(failed(PhotoProblem::BoxTooSmall {
                min_side: cf_protocol::MIN_FACE_SIDE as u32,
            }));
        }
        let mut lap = Lap::start(&self.clock);
        let outcome = (|| {
            let found = pipeline.face_in_box(photo, FaceBox::from(face))?;
            times.landmarks = lap.next(&self.clock);
            let crop = searchable.network.aligned_crop(photo, &found)?;
            times.align = lap.next(&self.clock);
            let vector = searchable.network.embed_aligned(photo, &found, &crop)?;
            times.embed = lap.next(&self.clock);
            Ok::<_, cf_face::FaceError>((crop, vector))
        })();
        let (crop, vector) = match outcome {
            Ok(done) => done,
            Err(error) => return out.push(failed(error.into())),
        };
        let options = SearchOptions::nearest(HITS).candidates(searchable.search_k);
        let hits = match searchable
            .index
            .search(&mut self.searcher, &vector, &options)
        {
            Ok(hits) => hits,
            Err(error) => {
                return out.push(failed(PhotoProblem::Failed {
                    detail: error.to_string(),
                }));
            }
        };
        times.search = lap.next(&self.clock);
        let crop_side = ((crop.len() / 3) as f64).sqrt() as u32;
        out.push(Command::Reply(
            from,
            Reply::Matches {
                seq,
                photo: photo_id,
                network: network.clone(),
                face,
                crop,
                crop_side,
                hits: hits.into_iter().map(Hit::from).collect(),
                times,
            },
        ));
    }

    fn query_item(&mut self, from: A, seq: u32, item: u32, out: &mut Vec<Command<A>>) {
        let Some(searchable) = searched(&self.readiness, &self.networks) else {
            return;
        };
        let index = &searchable.index;
        if item as usize >= index.len() {
            return;
        }
        let query = index.vector(item);
        let options = SearchOptions::nearest(10).candidates(searchable.search_k);
        let started = self.clock.now();
        let found = index.search(&mut self.searcher, &query, &options);
        let search_ms = self.clock.now() - started;
        let exact = index.search(&mut self.searcher, &query, &options.exact());
        let (Ok(found), Ok(exact)) = (found, exact) else {
            return;
        };
        let exact_overlap = exact
            .iter()
            .filter(|e| found.iter().any(|f| f.item == e.item))
            .count();
        out.push(Command::Reply(
            from,
            Reply::ItemHits {
                seq,
                item,
                hits: found.into_iter().map(Hit::from).collect(),
                exact_overlap,
                search_ms,
            },
        ));
    }

    fn bench(&mut self, from: A, out: &mut Vec<Command<A>>) {
        let Some(searchable) = searched(&self.readiness, &self.networks) else {
            return;
        };
        let index = &searchable.index;
        let items = index.len().max(1) as u64;
        // The same spread of item vectors the native `cfaces verify --queries` times.
        let queries: Vec<Vec<f32>> = (0..BENCH_QUERIES as u64)
            .map(|i| index.vector(((i * 7919) % items) as u32))
            .collect();
        let options = SearchOptions::nearest(10).candidates(searchable.search_k);
        let started = self.clock.now();
        for q in &queries {
            let _ = index.search(&mut self.searcher, q, &options);
        }
        let forest_ms = self.clock.now() - started;
        let exact_queries = &queries[..queries.len().min(50)];
        let started = self.clock.now();
        for q in exact_queries {
            let _ = index.search(&mut self.searcher, q, &options.exact());
        }
        let exact_ms = self.clock.now() - started;
        out.push(Command::Reply(
            from,
            Reply::Speed {
                queries: queries.len(),
                forest_qps: queries.len() as f64 * 1000.0 / forest_ms.max(1e-3),
                exact_qps: exact_queries.len() as f64 * 1000.0 / exact_ms.max(1e-3),
            },
        ));
    }
}

/// The network searched now, from the engine's fields (so that its other fields stay free).
fn searched<'a>(
    readiness: &Readiness,
    networks: &'a HashMap<String, Searchable>,
) -> Option<&'a Searchable> {
    let Readiness::Ready { network } = readiness else {
        return None;
    };
    networks.get(network)
}

fn photo_failed<A>(to: A, seq: u32, photo: u32, problem: PhotoProblem) -> Command<A> {
    Command::Reply(
        to,
        Reply::PhotoFailed {
            seq,
            photo,
            problem,
        },
    )
}

/// A network load runs when no other is running; everything else once something is loaded or
/// loading has failed for good.
fn runnable(readiness: &Readiness, request: &Request) -> bool {
    match (request, readiness) {
        (_, Readiness::Loading { .. }) => false,
        (Request::Load { .. }, _) => true,
        (_, Readiness::Waiting) => false,
        (_, Readiness::Ready { .. } | Readiness::Failed { .. }) => true,
    }
}

/// Milliseconds between successive laps, for the stage times.
struct Lap(f64);

impl Lap {
    fn start(clock: &impl Clock) -> Lap {
        Lap(clock.now())
    }

    fn next(&mut self, clock: &impl Clock) -> f64 {
        let now = clock.now();
        let spent = now - self.0;
        self.0 = now;
        spent
    }
}
