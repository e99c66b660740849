//! The engine's state machine: what is loaded ([`Readiness`]), the queue of requests, and the
//! photo being looked at. It does no I/O and spawns nothing: each call returns [`Command`]s for
//! the caller (the worker program, or a test) to carry out.

use std::collections::HashMap;

use cf_face::{
    DlibAttributeNet, FaceBox, FacePipeline, GenderProbe, NetworkSpec, Photo, preselect,
};
use cf_forest::{SearchOptions, Searcher};
use cf_protocol::{
    FaceRect, Filter, Hit, LoadProblem, LoadTimes, MorphFaceData, MorphProblem, PhotoProblem,
    Reply, Request, StageTimes, TurnedFace,
};
use cf_shards::parse_manifest;

use crate::load::{Clock, LoadOrder, Loaded, Searchable};
use crate::people::{People, search_filtered};
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
    /// Download and decode this portrait and hand it to [`Engine::portrait_arrived`].
    Portrait(PortraitOrder<A>),
}

/// A morph waiting for its celebrity's portrait: the visitor's face is already cut.
#[derive(Debug)]
pub struct PortraitOrder<A> {
    pub asker: A,
    pub seq: u32,
    pub photo: u32,
    pub item: u32,
    /// The portrait's address.
    pub url: String,
    from: MorphFaceData,
    started: f64,
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
            Command::Portrait(order) => f
                .debug_struct("Portrait")
                .field("asker", &order.asker)
                .field("item", &order.item)
                .field("url", &order.url)
                .finish(),
        }
    }
}

pub struct Engine<A, C> {
    clock: C,
    readiness: Readiness,
    pipeline: Option<FacePipeline>,
    /// dlib's gender network; with the gender probe on the network's vector
    /// ([`GenderProbe::reading`]) it makes the estimate the filter is preset from, their mean
    /// (docs/MODELS.md).
    gender: Option<DlibAttributeNet>,
    people: Option<People>,
    networks: HashMap<String, Searchable>,
    queue: RequestQueue<A>,
    /// The photo the page shows now, decoded, by its id.
    photo: Option<(u32, Photo)>,
    /// A photo already decoded by a faster decoder (the browser's), for the `Analyse` of this
    /// seq: then its bytes are not decoded again. With the time that decoding took (ms).
    decoded: Option<(u32, Photo, f64)>,
    /// The last face matched, for another filter without the networks.
    last: Option<LastMatch>,
    /// The detector's second look at the photo shown, still to take once nothing else waits:
    /// its first look's faces are shown, and matched.
    second_look: Option<SecondLook<A>>,
    warm_up: WarmUp,
    searcher: Searcher,
}

/// The pipeline run on a made-up photo once the models are in and nothing is asked, so that a
/// visitor's first photo runs in code the browser has optimised: wasm starts in V8's baseline
/// tier and is optimised function by function as it runs, and a first photo given a few
/// seconds after the page is ready took 250-340 ms against 120 for the next ones
/// (docs/BENCHMARKS.md). One network at a time, each a step of its own, so that a photo
/// waits for one at most; it ends for good when the first photo comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WarmUp {
    /// The models are not in yet, and no photo has come.
    NotYet,
    /// Steps taken of [`WARM_UP_STEPS`].
    Due(u8),
    Done,
}

/// Twice each of the detector's first look, the landmarks and the embedding network (the
/// first run has its code optimised, the second runs it), then the second look's network
/// prepared, which the first photo would otherwise wait for after its matches.
const WARM_UP_STEPS: u8 = 7;

/// A photo whose faces the detector's first look found: the second look finds the others.
struct SecondLook<A> {
    asker: A,
    seq: u32,
    photo: u32,
    seen: Vec<FaceBox>,
}

/// A matched face: what a new filter searches again.
struct LastMatch {
    photo: u32,
    network: String,
    face: FaceRect,
    crop: Vec<u8>,
    vector: Vec<f32>,
    woman: Option<f32>,
}

impl<A: Copy + PartialEq, C: Clock> Engine<A, C> {
    pub fn new(clock: C) -> Self {
        Engine {
            clock,
            readiness: Readiness::Waiting,
            pipeline: None,
            gender: None,
            people: None,
            networks: HashMap::new(),
            queue: RequestQueue::default(),
            photo: None,
            decoded: None,
            last: None,
            second_look: None,
            warm_up: WarmUp::NotYet,
            searcher: Searcher::new(),
        }
    }

    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// The pixels of the photo of `Analyse` `seq`, decoded elsewhere in `decode_ms` (the
    /// browser's decoder, as [`cf_face::plan_decode`] planned it); given before that request.
    /// Where none is given, the request's bytes are decoded here.
    pub fn decoded_elsewhere(&mut self, seq: u32, photo: Photo, decode_ms: f64) {
        self.decoded = Some((seq, photo, decode_ms));
    }

    /// Queues a request; [`Engine::step`] answers it when it can run.
    pub fn received(&mut self, from: A, request: Request) {
        if matches!(request, Request::Analyse { .. } | Request::Match { .. }) {
            self.photo_coming();
        }
        self.queue.push(from, request);
    }

    /// A photo is on its way (being decoded before its `Analyse`): the warm-up ends, so that
    /// the photo does not wait for it.
    pub fn photo_coming(&mut self) {
        self.warm_up = WarmUp::Done;
    }

    /// True when a queued request can run now, or a second look at the photo, or a step of
    /// the warm-up.
    pub fn has_work(&self) -> bool {
        self.queue.any(|r| runnable(&self.readiness, r))
            || self.second_look.is_some()
            || (matches!(self.warm_up, WarmUp::Due(_)) && self.current().is_some())
    }

    /// Requests waiting, runnable or not.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// Answers the oldest runnable request; with none, takes the second look at the photo, or
    /// else a step of the warm-up.
    pub fn step(&mut self) -> Vec<Command<A>> {
        let readiness = &self.readiness;
        let Some((from, request)) = self.queue.take_first(|r| runnable(readiness, r)) else {
            if self.second_look.is_some() {
                return self.take_second_look().into_iter().collect();
            }
            self.warm_up_step();
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Readiness::Failed { .. } = self.readiness
            && !matches!(request, Request::Load { .. })
        {
            // Nothing is loaded: say so rather than leave the page waiting.
            match request {
                Request::Analyse { seq, photo, .. }
                | Request::Match { seq, photo, .. }
                | Request::Refilter { seq, photo, .. } => {
                    out.push(photo_failed(from, seq, photo, PhotoProblem::NotReady));
                }
                Request::Morph { seq, item, .. } => out.push(Command::Reply(
                    from,
                    Reply::MorphFailed {
                        seq,
                        item,
                        problem: MorphProblem::NotReady,
                    },
                )),
                _ => {}
            }
            return out;
        }
        match request {
            Request::Load { manifest, network } => self.load(from, &manifest, network, &mut out),
            Request::Analyse {
                seq,
                photo,
                bytes,
                filter,
            } => self.analyse(from, (seq, photo), &bytes, filter, &mut out),
            Request::Match {
                seq,
                photo,
                face,
                filter,
            } => self.match_face(
                from,
                (seq, photo),
                face,
                filter,
                StageTimes::default(),
                &mut out,
            ),
            Request::Refilter { seq, photo, filter } => {
                self.refilter(from, (seq, photo), filter, &mut out)
            }
            Request::Morph {
                seq,
                photo,
                face,
                item,
                portrait,
            } => self.morph(from, (seq, photo), face, item, portrait, &mut out),
            Request::QueryItem { seq, item } => self.query_item(from, seq, item, &mut out),
            Request::Bench => self.bench(from, &mut out),
        }
        out
    }

    /// Takes in the portrait of a morph, decoded (or why it could not be had), and answers
    /// the morph with both faces cut into its frame.
    pub fn portrait_arrived(
        &mut self,
        order: PortraitOrder<A>,
        portrait: Result<Photo, MorphProblem>,
    ) -> Vec<Command<A>> {
        let to = portrait.and_then(|photo| {
            let pipeline = self.pipeline.as_ref().ok_or(MorphProblem::NotReady)?;
            let no_face = |detail: String| MorphProblem::NoFaceInPortrait { detail };
            let faces = pipeline
                .faces(&photo)
                .map_err(|error| no_face(error.to_string()))?;
            let central = cf_face::central_face(&faces, &photo)
                .ok_or_else(|| no_face("the detector finds no face in it".into()))?;
            cut_for_morph(&photo, &central.face.landmarks).map_err(no_face)
        });
        let reply = match to {
            Ok(to) => Reply::MorphFaces {
                seq: order.seq,
                photo: order.photo,
                item: order.item,
                from: order.from,
                to,
                ms: self.clock.now() - order.started,
            },
            Err(problem) => Reply::MorphFailed {
                seq: order.seq,
                item: order.item,
                problem,
            },
        };
        vec![Command::Reply(order.asker, reply)]
    }

    /// Cuts the visitor's face into the morph frame and orders the celebrity's portrait.
    fn morph(
        &mut self,
        from: A,
        (seq, photo_id): (u32, u32),
        face: FaceRect,
        item: u32,
        portrait: String,
        out: &mut Vec<Command<A>>,
    ) {
        let started = self.clock.now();
        let failed = |problem| Command::Reply(from, Reply::MorphFailed { seq, item, problem });
        let Some(pipeline) = &self.pipeline else {
            return out.push(failed(MorphProblem::NotReady));
        };
        let no_face = |detail: String| MorphProblem::NoFace { detail };
        let Some((_, photo)) = self.photo.as_ref().filter(|(id, _)| *id == photo_id) else {
            return out.push(failed(no_face("another photo came since".into())));
        };
        let face = face.ordered();
        let cut = pipeline
            .face_in_box(photo, FaceBox::from(face))
            .map_err(|error| error.to_string())
            .and_then(|found| cut_for_morph(photo, &found.landmarks));
        match cut {
            Ok(cut) => out.push(Command::Portrait(PortraitOrder {
                asker: from,
                seq,
                photo: photo_id,
                item,
                url: portrait,
                from: cut,
                started,
            })),
            Err(detail) => out.push(failed(no_face(detail))),
        }
    }

    /// Takes in a finished load.
    pub fn loaded(&mut self, loaded: Loaded<A>) -> Vec<Command<A>> {
        let before = match std::mem::replace(&mut self.readiness, Readiness::Waiting) {
            Readiness::Loading { before, .. } => before,
            Readiness::Ready { network } => Some(network),
            Readiness::Waiting | Readiness::Failed { .. } => None,
        };
        let mut out = Vec::new();
        let reply = match loaded.outcome {
            Ok(prepared) => {
                if let Some(shared) = prepared.shared {
                    self.pipeline = Some(shared.pipeline);
                    self.gender = shared.gender;
                    if let Some((json, catalog)) = shared.catalog {
                        self.people = Some(People::new(&catalog));
                        out.push(Command::Reply(loaded.asker, Reply::Catalog { json }));
                    }
                }
                if self.warm_up == WarmUp::NotYet {
                    self.warm_up = WarmUp::Due(0);
                }
                let ready = Reply::Ready {
                    network: loaded.network.clone(),
                    items: prepared.searchable.index.len(),
                    same_person: prepared.searchable.spec.same_person_similarity,
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
        out.push(Command::Reply(loaded.asker, reply));
        out
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
                    same_person: searchable.spec.same_person_similarity,
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
        (seq, photo_id): (u32, u32),
        bytes: &[u8],
        filter: Filter,
        out: &mut Vec<Command<A>>,
    ) {
        let Some(pipeline) = &self.pipeline else {
            return;
        };
        let failed = |problem| photo_failed(from, seq, photo_id, problem);
        let mut times = StageTimes::default();
        let mut lap = Lap::start(&self.clock);
        self.photo = None;
        self.second_look = None;
        let photo = match self.decoded.take() {
            Some((decoded_seq, photo, decode_ms)) if decoded_seq == seq => {
                lap.next(&self.clock);
                times.decode = decode_ms;
                photo
            }
            _ => match Photo::decode(bytes) {
                Ok(photo) => {
                    times.decode = lap.next(&self.clock);
                    photo
                }
                Err(error) => return out.push(failed(error.into())),
            },
        };
        // The first look finds all but small faces quickly: its faces are shown and matched
        // at once, and the second look's are added after. A photo where the first finds none
        // waits for the second (a visitor is not told "no face" and then shown one).
        let mut second_look = pipeline.needs_second_look(&photo);
        let looked = pipeline.first_boxes(&photo).and_then(|boxes| {
            if boxes.is_empty() && second_look {
                second_look = false;
                Ok(pipeline.more_boxes(&photo, &[])?.applied_to(boxes))
            } else {
                Ok(boxes)
            }
        });
        let boxes = match looked {
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
                second_look,
                times,
            },
        ));
        self.photo = Some((photo_id, photo));
        self.last = None;
        if second_look {
            self.second_look = Some(SecondLook {
                asker: from,
                seq,
                photo: photo_id,
                seen: boxes,
            });
        }
        if let Some(chosen) = chosen {
            self.match_face(from, (seq, photo_id), faces[chosen], filter, times, out);
        }
    }

    /// One step of the warm-up; what the networks find in the made-up photo is not used.
    fn warm_up_step(&mut self) {
        let WarmUp::Due(taken) = self.warm_up else {
            return;
        };
        self.warm_up = if taken + 1 >= WARM_UP_STEPS {
            WarmUp::Done
        } else {
            WarmUp::Due(taken + 1)
        };
        let (Some(pipeline), Some((_, searchable))) = (&self.pipeline, self.current()) else {
            return;
        };
        if taken + 1 == WARM_UP_STEPS {
            // A network that cannot be prepared fails the second looks too, which leave the
            // first look's faces as they are: nothing for the visitor to act on here.
            drop(pipeline.prepare_second_look());
            return;
        }
        // A grey ramp of the first look's size: nothing in it is a face, and the networks
        // cost the same whatever they are shown.
        let side = 320;
        let photo = Photo {
            width: side,
            height: side,
            rgb: (0..3 * side * side)
                .map(|i| (i / (3 * side)) as u8)
                .collect(),
        };
        match taken % 3 {
            0 => drop(pipeline.first_boxes(&photo)),
            1 => drop(pipeline.face_in_box(&photo, FaceBox::new([80.0, 60.0, 240.0, 260.0], 1.0))),
            _ => {
                let embedder = searchable.network.crop_embedder();
                let crop_side = embedder.card().input_size;
                drop(embedder.embed_crop(&vec![128; 3 * crop_side * crop_side]));
            }
        }
    }

    /// The faces the second look at the photo shown finds besides the first's.
    fn take_second_look(&mut self) -> Option<Command<A>> {
        let look = self.second_look.take()?;
        let pipeline = self.pipeline.as_ref()?;
        let (_, photo) = self.photo.as_ref().filter(|(id, _)| *id == look.photo)?;
        let started = self.clock.now();
        // A failure here is not the visitor's: the first look's faces stand.
        let more = pipeline.more_boxes(photo, &look.seen).unwrap_or_default();
        let turned = more
            .turned
            .into_iter()
            .filter_map(|(index, face)| {
                Some(TurnedFace {
                    index: u32::try_from(index).ok()?,
                    was: FaceRect::from(*look.seen.get(index)?),
                    now: FaceRect::from(face),
                })
            })
            .collect();
        Some(Command::Reply(
            look.asker,
            Reply::MoreFaces {
                seq: look.seq,
                photo: look.photo,
                faces: more.new.into_iter().map(FaceRect::from).collect(),
                turned,
                detect_ms: self.clock.now() - started,
            },
        ))
    }

    fn match_face(
        &mut self,
        from: A,
        (seq, photo_id): (u32, u32),
        face: FaceRect,
        filter: Filter,
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
            let (vector, identity) = searchable
                .network
                .embed_aligned_with_identity(photo, &found, &crop)?;
            times.embed = lap.next(&self.clock);
            // A network without a probe of its own is read through MobileFaceNet's vector,
            // which is loaded: it is the default network.
            let identity = match (identity, self.networks.get(NetworkSpec::IDENTITY.name)) {
                (Some(identity), _) => Some(identity),
                (None, Some(mobilefacenet)) if GenderProbe::for_network(network).is_none() => {
                    let crop = mobilefacenet.network.aligned_crop(photo, &found)?;
                    Some(mobilefacenet.network.embed_aligned(photo, &found, &crop)?)
                }
                (None, _) => None,
            };
            let readings = [
                GenderProbe::reading(network, &vector, identity.as_deref()),
                self.gender
                    .as_ref()
                    .and_then(|g| g.estimate(photo, &found).ok()),
            ];
            let known: Vec<f32> = readings.into_iter().flatten().collect();
            let woman = (!known.is_empty()).then(|| known.iter().sum::<f32>() / known.len() as f32);
            times.estimate = lap.next(&self.clock);
            Ok::<_, cf_face::FaceError>((crop, vector, woman))
        })();
        let (crop, vector, woman) = match outcome {
            Ok(done) => done,
            Err(error) => return out.push(failed(error.into())),
        };
        self.last = Some(LastMatch {
            photo: photo_id,
            network: network.clone(),
            face,
            crop,
            vector,
            woman,
        });
        self.answer_last(from, seq, filter, times, out);
    }

    /// The last matched face searched again with `filter`.
    fn refilter(
        &mut self,
        from: A,
        (seq, photo_id): (u32, u32),
        filter: Filter,
        out: &mut Vec<Command<A>>,
    ) {
        let current = self.current().map(|(name, _)| name.to_string());
        if self
            .last
            .as_ref()
            .is_some_and(|last| last.photo == photo_id && Some(&last.network) == current.as_ref())
        {
            self.answer_last(from, seq, filter, StageTimes::default(), out);
        }
    }

    /// Searches the last matched face with `filter` and replies with its matches.
    fn answer_last(
        &mut self,
        from: A,
        seq: u32,
        filter: Filter,
        mut times: StageTimes,
        out: &mut Vec<Command<A>>,
    ) {
        let (Some(last), Some(searchable)) = (
            self.last.as_ref(),
            searched(&self.readiness, &self.networks),
        ) else {
            return;
        };
        let started = self.clock.now();
        let outcome = search_filtered(
            &*searchable.index,
            &mut self.searcher,
            &last.vector,
            HITS,
            searchable.search_k,
            self.people.as_ref(),
            filter,
            last.woman,
            searchable.spec.preset_same_person,
        );
        let (hits, applied) = match outcome {
            Ok(done) => done,
            Err(error) => {
                return out.push(photo_failed(
                    from,
                    seq,
                    last.photo,
                    PhotoProblem::Failed {
                        detail: error.to_string(),
                    },
                ));
            }
        };
        times.search = self.clock.now() - started;
        let crop_side = ((last.crop.len() / 3) as f64).sqrt() as u32;
        out.push(Command::Reply(
            from,
            Reply::Matches {
                seq,
                photo: last.photo,
                network: last.network.clone(),
                face: last.face,
                crop: last.crop.clone(),
                crop_side,
                hits: hits.into_iter().map(Hit::from).collect(),
                filter: applied,
                woman: last.woman,
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

/// The face with these landmarks cut into the morph frame, as the morph worker takes it.
fn cut_for_morph(photo: &Photo, landmarks: &[cf_morph::Point]) -> Result<MorphFaceData, String> {
    let face = cf_morph::cut_morph_face(photo.view(), landmarks).map_err(|e| e.to_string())?;
    Ok(MorphFaceData {
        side: cf_morph::MORPH_SIDE as u32,
        rgb: face.rgb,
        landmarks: face.landmarks.iter().map(|p| (p.x, p.y)).collect(),
    })
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
