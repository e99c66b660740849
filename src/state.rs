//! The page's state, what can happen to it ([`Action`]), and one pure reducer
//! ([`State::reduce`]) that decides both the next state and what the page must do about it
//! ([`Effect`]: the requests to send to the worker, the object URLs to let go). The time comes
//! in as an argument, so the reducer reads no clock and touches no browser: it is tested
//! natively (below), and the component in src/app.rs only carries effects out.
//!
//! The worker's replies are actions too. A reply about a photo is taken only if it answers the
//! page's latest request about the photo shown now (its `seq`), so a slow answer to an older
//! box or photo can never overwrite a newer one.

use std::rc::Rc;

use cf_protocol::{
    FaceRect, Filter, GenderChoice, Hit, LoadProblem, LoadStage, LoadTimes, PhotoProblem, Reply,
    Request, StageTimes, TurnedFace,
};
use cf_shards::{Catalog, Manifest};

use crate::i18n::Lang;
use crate::people::People;

mod morph;
pub use morph::{MORPH_START, MorphAction, MorphStage, MorphState};

/// A network being downloaded or prepared.
#[derive(Clone, Debug, PartialEq)]
pub struct Loading {
    pub network: String,
    pub stage: LoadStage,
    pub done: u64,
    pub total: u64,
    /// When the download last moved (ms): a download that stops moving is said to be stalled.
    pub moved_at: f64,
}

/// How long a download may stand still before the page says so (ms). The worker itself gives
/// up on a silent connection and starts the file again later (src/fetch.rs).
pub const STALL_NOTICE_MS: f64 = 8_000.0;

impl Loading {
    /// Seconds the download has stood still at `now`, once that is long enough to say so.
    pub fn stalled_for(&self, now: f64) -> Option<u64> {
        let still = now - self.moved_at;
        (self.stage == LoadStage::Downloading && still >= STALL_NOTICE_MS)
            .then_some((still / 1000.0) as u64)
    }
}

/// The visitor's photo and its faces.
#[derive(Clone, Debug, PartialEq)]
pub struct PhotoState {
    pub id: u32,
    /// Object URL of the visitor's file, shown as it is; let go when another photo comes.
    pub url: String,
    /// The worker has read the photo's header (or decoded it): only then is it shown.
    pub readable: bool,
    /// The `seq` of the latest request about this photo: only its answer is taken.
    pub seq: u32,
    /// When that request was made, for the time to matches.
    pub asked: f64,
    /// The photo as the worker decoded it (upright, downscaled): the boxes' coordinate space.
    pub size: Option<(u32, u32)>,
    pub faces: Vec<FaceRect>,
    /// Faces the visitor drew, counted from the end of `faces`.
    pub drawn: usize,
    pub chosen: Option<usize>,
    pub busy: bool,
    pub problem: Option<PhotoProblem>,
    /// The detector's second look has answered (or none was needed): every face is boxed.
    pub every_face_found: bool,
    /// How long the second look took (ms), when there was one.
    pub second_look_ms: Option<f64>,
}

impl PhotoState {
    /// A new request `seq` about this photo is on its way: only its answer will be taken.
    fn asked_again(&mut self, seq: u32, now: f64) {
        self.seq = seq;
        self.asked = now;
        self.busy = true;
    }
}

/// The matches shown.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchState {
    /// Counts the matches the page has shown, for the benchmark and the time to matches.
    pub shown: u32,
    pub network: String,
    pub crop: Rc<Vec<u8>>,
    pub crop_side: u32,
    pub hits: Rc<Vec<Hit>>,
    /// The filter the hits passed, its gender decided (preset or the visitor's).
    pub filter: Filter,
    pub times: StageTimes,
    pub received: f64,
}

/// The developer tools' answer about one item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemAnswer {
    pub item: u32,
    pub hits: Rc<Vec<Hit>>,
    pub exact_overlap: usize,
    pub search_ms: f64,
}

/// The developer tools' speed measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Speed {
    pub queries: usize,
    pub forest_qps: f64,
    pub exact_qps: f64,
}

/// A problem with what the visitor gave, before any photo reaches the worker.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    NotAnImage,
    CameraRefused,
    CameraAbsent,
    CameraFailed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub lang: Lang,
    pub manifest: Option<Rc<Manifest>>,
    pub manifest_json: Rc<String>,
    pub people: Option<People>,
    /// The index could not be loaded at all: nothing can be matched.
    pub index_problem: Option<LoadProblem>,
    /// How many times the visitor asked to try a failed load again.
    pub load_attempts: u32,
    /// The network searched now, and its item count.
    pub network: Option<String>,
    pub items: usize,
    pub same_person: f32,
    /// How the last network load went, and when the worker first answered.
    pub load_times: LoadTimes,
    pub worker_up: Option<f64>,
    pub loading: Option<Loading>,
    /// Another network could not be loaded; the one before is still searched.
    pub network_problem: Option<(String, LoadProblem)>,
    pub photo: Option<PhotoState>,
    pub matches: Option<MatchState>,
    pub notice: Option<Notice>,
    pub distinct: bool,
    /// What the visitor asked to see; a gender of `None` is preset by the worker per face.
    pub filter: Filter,
    pub item_answer: Option<ItemAnswer>,
    /// The `seq` of the latest item query.
    item_seq: u32,
    pub speed: Option<Speed>,
    /// The morph dialog, while open.
    pub morph: Option<MorphState>,
    next_photo: u32,
    next_seq: u32,
    shown: u32,
}

/// Something that happened: the visitor did something, or the worker answered.
#[derive(Clone, Debug)]
pub enum Action {
    /// The manifest is in: the first network is loaded.
    IndexFound {
        manifest: Rc<Manifest>,
        json: Rc<String>,
    },
    IndexFailed(LoadProblem),
    Reply(Reply),
    Language(Lang),
    Distinct(bool),
    /// The visitor gave a photo, shown from `url`; its bytes follow in [`Action::PhotoRead`].
    /// Taken at once, so that no answer about the older photo is shown while the file is read.
    NewPhoto {
        url: String,
    },
    /// The bytes of the photo given as `url`, read: analysed if it is still the photo shown.
    PhotoRead {
        url: String,
        bytes: Vec<u8>,
    },
    Choose(usize),
    /// The chosen box, moved or resized.
    SetBox(FaceRect),
    /// A box the visitor drew.
    Draw(FaceRect),
    ChooseNetwork(String),
    /// The visitor chose which gender to see.
    ChooseGender(GenderChoice),
    /// The visitor chose to see only well-known people, or everyone.
    WellKnownOnly(bool),
    QueryItem(u32),
    Bench,
    Notice(Option<Notice>),
    Morph(MorphAction),
    /// The visitor asked to try a failed load again.
    Retry,
}

/// What the page must do after an action.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Send(Request),
    /// To the morph worker (spawned by the first of these).
    Morph(cf_protocol::MorphRequest),
    /// This object URL shows nothing any more.
    Revoke(String),
    /// Offer these bytes to the visitor as a file to save.
    Save {
        name: String,
        mime: &'static str,
        bytes: Rc<Vec<u8>>,
    },
    /// Fetch the index's manifest (again) and hand it over as [`Action::IndexFound`] or
    /// [`Action::IndexFailed`].
    FetchIndex,
}

impl State {
    pub fn new(lang: Lang) -> State {
        State {
            lang,
            manifest: None,
            manifest_json: Rc::new(String::new()),
            people: None,
            index_problem: None,
            load_attempts: 0,
            network: None,
            items: 0,
            same_person: 0.5,
            load_times: LoadTimes::default(),
            worker_up: None,
            loading: None,
            network_problem: None,
            photo: None,
            matches: None,
            notice: None,
            distinct: true,
            filter: Filter::default(),
            item_answer: None,
            item_seq: 0,
            speed: None,
            morph: None,
            next_photo: 0,
            next_seq: 0,
            shown: 0,
        }
    }

    /// Nothing the visitor waits for is on its way: a network is ready and no photo waits for
    /// its answer. The page leaves what can wait (the service worker's install) until then.
    pub fn settled(&self) -> bool {
        self.network.is_some() && self.photo.as_ref().is_none_or(|photo| !photo.busy)
    }

    /// The chosen face of the current photo.
    pub fn chosen_face(&self) -> Option<FaceRect> {
        let photo = self.photo.as_ref()?;
        photo.faces.get(photo.chosen?).copied()
    }

    /// The failed load the visitor may try again, if trying again may help.
    pub fn retryable(&self) -> Option<&LoadProblem> {
        let problem = self
            .index_problem
            .as_ref()
            .or(self.network_problem.as_ref().map(|(_, p)| p))?;
        problem.worth_retrying().then_some(problem)
    }

    /// Tries a failed load again: the manifest too when nothing was ever loaded (it may be the
    /// file that failed, or a new build may have replaced it), else the network that failed.
    /// Files that came whole are in the browser's cache and are not downloaded again.
    fn retry(&mut self, effects: &mut Vec<Effect>) {
        if self.retryable().is_none() {
            return;
        }
        self.load_attempts += 1;
        if self.index_problem.take().is_some() {
            effects.push(Effect::FetchIndex);
        } else if let Some((network, _)) = self.network_problem.take() {
            effects.push(Effect::Send(Request::Load {
                manifest: (*self.manifest_json).clone(),
                network,
            }));
        }
    }

    fn seq(&mut self) -> u32 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Applies `action` at time `now` (milliseconds); returns what the page must do.
    pub fn reduce(&mut self, action: Action, now: f64) -> Vec<Effect> {
        let mut effects = Vec::new();
        match action {
            Action::IndexFound { manifest, json } => {
                match manifest.networks.first() {
                    Some(first) => effects.push(Effect::Send(Request::Load {
                        manifest: (*json).clone(),
                        network: first.name.clone(),
                    })),
                    None => {
                        self.index_problem = Some(LoadProblem::Index {
                            detail: "the manifest lists no network".into(),
                        })
                    }
                }
                self.manifest = Some(manifest);
                self.manifest_json = json;
            }
            Action::IndexFailed(problem) => self.index_problem = Some(problem),
            Action::Retry => self.retry(&mut effects),
            Action::Reply(reply) => self.reply(reply, now, &mut effects),
            Action::Language(lang) => self.lang = lang,
            Action::Distinct(on) => self.distinct = on,
            Action::NewPhoto { url } => {
                if let Some(old) = self.photo.take() {
                    effects.push(Effect::Revoke(old.url));
                }
                self.next_photo += 1;
                let (id, seq) = (self.next_photo, self.seq());
                self.photo = Some(PhotoState {
                    id,
                    url,
                    readable: false,
                    seq,
                    asked: now,
                    size: None,
                    faces: Vec::new(),
                    drawn: 0,
                    chosen: None,
                    busy: true,
                    problem: None,
                    every_face_found: false,
                    second_look_ms: None,
                });
                self.matches = None;
                self.notice = None;
                self.morph = None;
                // Each new photo's face gets its own preset.
                self.filter.gender = None;
            }
            Action::PhotoRead { url, bytes } => {
                // A file read after another photo was given is let go.
                if let Some(photo) = self.photo.as_ref().filter(|p| p.url == url) {
                    effects.push(Effect::Send(Request::Analyse {
                        seq: photo.seq,
                        photo: photo.id,
                        bytes,
                        filter: self.filter,
                    }));
                }
            }
            Action::Choose(face) => {
                if self.photo.as_ref().is_some_and(|p| face < p.faces.len()) {
                    // Another face, another preset.
                    self.filter.gender = None;
                    self.match_chosen(Some(face), None, now, &mut effects);
                }
            }
            Action::SetBox(rect) => {
                if self.chosen_face().is_some() {
                    self.match_chosen(None, Some(rect), now, &mut effects);
                }
            }
            Action::Draw(rect) => {
                if let Some(photo) = &mut self.photo
                    && photo.size.is_some()
                {
                    photo.faces.push(rect);
                    photo.drawn += 1;
                    let drawn = photo.faces.len() - 1;
                    self.filter.gender = None;
                    self.match_chosen(Some(drawn), None, now, &mut effects);
                }
            }
            Action::ChooseNetwork(network) => {
                if self.network.as_deref() != Some(network.as_str()) && self.loading.is_none() {
                    effects.push(Effect::Send(Request::Load {
                        manifest: (*self.manifest_json).clone(),
                        network,
                    }));
                }
            }
            Action::ChooseGender(gender) => {
                self.filter.gender = Some(gender);
                self.refilter(now, &mut effects);
            }
            Action::WellKnownOnly(on) => {
                // The gender shown stays as it is, preset or chosen.
                self.filter.gender = self
                    .filter
                    .gender
                    .or(self.matches.as_ref().and_then(|m| m.filter.gender));
                self.filter.well_known_only = on;
                self.refilter(now, &mut effects);
            }
            Action::QueryItem(item) => self.query_item(item, &mut effects),
            Action::Bench => effects.push(Effect::Send(Request::Bench)),
            Action::Notice(notice) => self.notice = notice,
            Action::Morph(action) => self.morph_action(action, &mut effects),
        }
        effects
    }

    /// Chooses face `face` (or keeps the chosen one), puts `rect` in its place if given, and
    /// asks for its matches.
    fn match_chosen(
        &mut self,
        face: Option<usize>,
        rect: Option<FaceRect>,
        now: f64,
        effects: &mut Vec<Effect>,
    ) {
        let seq = self.seq();
        let Some(photo) = &mut self.photo else {
            return;
        };
        if face.is_some() {
            photo.chosen = face;
        }
        let Some(slot) = photo.chosen.and_then(|c| photo.faces.get_mut(c)) else {
            return;
        };
        if let Some(rect) = rect {
            *slot = rect;
        }
        let face = *slot;
        photo.asked_again(seq, now);
        effects.push(Effect::Send(Request::Match {
            seq,
            photo: photo.id,
            face,
            filter: self.filter,
        }));
    }

    /// Asks for the shown face's matches again under the current filter: a search only.
    fn refilter(&mut self, now: f64, effects: &mut Vec<Effect>) {
        if self.matches.is_none() {
            return;
        }
        let seq = self.seq();
        let Some(photo) = &mut self.photo else {
            return;
        };
        photo.asked_again(seq, now);
        effects.push(Effect::Send(Request::Refilter {
            seq,
            photo: photo.id,
            filter: self.filter,
        }));
    }

    fn query_item(&mut self, item: u32, effects: &mut Vec<Effect>) {
        self.item_seq = self.seq();
        effects.push(Effect::Send(Request::QueryItem {
            seq: self.item_seq,
            item,
        }));
    }

    /// The current photo, if `seq` answers its latest request.
    fn answered(&mut self, photo: u32, seq: u32) -> Option<&mut PhotoState> {
        self.photo
            .as_mut()
            .filter(|p| p.id == photo && p.seq == seq)
    }

    fn reply(&mut self, reply: Reply, now: f64, effects: &mut Vec<Effect>) {
        self.worker_up.get_or_insert(now);
        match reply {
            Reply::Progress {
                network,
                stage,
                done,
                total,
            } => {
                let moved_at = match &self.loading {
                    Some(before)
                        if before.network == network
                            && before.stage == stage
                            && before.done == done =>
                    {
                        before.moved_at
                    }
                    _ => now,
                };
                self.loading = Some(Loading {
                    network,
                    stage,
                    done,
                    total,
                    moved_at,
                })
            }
            Reply::Ready {
                network,
                items,
                same_person,
                times,
            } => {
                let changed = self.network.as_deref() != Some(network.as_str());
                self.load_times = times;
                self.loading = None;
                self.network_problem = None;
                self.network = Some(network);
                self.items = items;
                self.same_person = same_person;
                // Another network searched now: the chosen face and the developer query again.
                if changed && self.chosen_face().is_some() {
                    self.match_chosen(None, None, now, effects);
                }
                if changed && let Some(answer) = &self.item_answer {
                    let item = answer.item;
                    self.query_item(item, effects);
                }
            }
            Reply::LoadFailed { network, problem } => {
                self.loading = None;
                if self.network.is_none() {
                    self.index_problem = Some(problem);
                    if let Some(photo) = &mut self.photo {
                        photo.busy = false;
                    }
                } else {
                    self.network_problem = Some((network, problem));
                }
            }
            Reply::Faces {
                seq,
                photo,
                width,
                height,
                faces,
                chosen,
                second_look,
                ..
            } => {
                if let Some(current) = self.answered(photo, seq) {
                    current.readable = true;
                    current.size = Some((width, height));
                    current.chosen = chosen;
                    current.busy = chosen.is_some();
                    current.faces = faces;
                    current.drawn = 0;
                    current.problem = None;
                    current.every_face_found = !second_look;
                }
            }
            Reply::Readable { seq, photo } => {
                if let Some(current) = self.answered(photo, seq) {
                    current.readable = true;
                }
            }
            Reply::MoreFaces {
                photo,
                faces,
                turned,
                detect_ms,
                ..
            } => {
                // Taken for the photo shown whatever was asked about it since: these faces
                // are added, and the boxes chosen or drawn stay as they are. A detected face
                // seen turned takes its turned box unless the visitor moved it; if it is the
                // one whose matches are shown, they were of a face read upside down or
                // sideways, and are asked again.
                let Some(current) = self.photo.as_mut().filter(|p| p.id == photo) else {
                    return;
                };
                let detected = current.faces.len() - current.drawn;
                let mut chosen_turned = false;
                for TurnedFace { index, was, now } in turned {
                    let index = index as usize;
                    if let Some(slot) = current.faces[..detected]
                        .get_mut(index)
                        .filter(|slot| **slot == was)
                    {
                        *slot = now;
                        chosen_turned |= current.chosen == Some(index);
                    }
                }
                let added = faces.len();
                current.faces.splice(detected..detected, faces);
                if let Some(chosen) = current.chosen.as_mut().filter(|c| **c >= detected) {
                    *chosen += added;
                }
                current.every_face_found = true;
                current.second_look_ms = Some(detect_ms);
                if chosen_turned {
                    self.match_chosen(None, None, now, effects);
                }
            }
            Reply::Catalog { json } => {
                let info = self.manifest.as_ref().and_then(|m| m.catalog.clone());
                // The worker sends the catalog as it fetched and verified it.
                match info.map(|info| (Catalog::decode_fetched(&info, &json), info)) {
                    Some((Ok(catalog), info)) => {
                        self.people = Some(People::new(catalog, &info.thumbnails))
                    }
                    Some((Err(error), _)) => {
                        self.index_problem = Some(LoadProblem::Index {
                            detail: error.to_string(),
                        })
                    }
                    None => {}
                }
            }
            Reply::Matches {
                seq,
                photo,
                network,
                face,
                crop,
                crop_side,
                hits,
                filter,
                times,
                ..
            } => {
                let Some(current) = self.answered(photo, seq) else {
                    return;
                };
                if let Some(slot) = current.chosen.and_then(|c| current.faces.get_mut(c)) {
                    *slot = face;
                }
                current.busy = false;
                current.problem = None;
                self.shown += 1;
                self.matches = Some(MatchState {
                    shown: self.shown,
                    network,
                    crop: Rc::new(crop),
                    crop_side,
                    hits: Rc::new(hits),
                    filter,
                    times,
                    received: now,
                });
            }
            Reply::PhotoFailed {
                seq,
                photo,
                problem,
            } => {
                if let Some(current) = self.answered(photo, seq) {
                    current.busy = false;
                    current.problem = Some(problem);
                    self.matches = None;
                }
            }
            Reply::MorphFaces {
                seq, from, to, ms, ..
            } => self.morph_faces(seq, Ok((from, to, ms)), effects),
            Reply::MorphFailed { seq, problem, .. } => self.morph_faces(seq, Err(problem), effects),
            Reply::ItemHits {
                seq,
                item,
                hits,
                exact_overlap,
                search_ms,
            } => {
                if seq == self.item_seq {
                    self.item_answer = Some(ItemAnswer {
                        item,
                        hits: Rc::new(hits),
                        exact_overlap,
                        search_ms,
                    })
                }
            }
            Reply::Speed {
                queries,
                forest_qps,
                exact_qps,
            } => {
                self.speed = Some(Speed {
                    queries,
                    forest_qps,
                    exact_qps,
                })
            }
        }
    }

    /// What the page posts to the page that embeds it after each search: the network, the
    /// filter in force, and the names and similarities of the top five shown, never the photo.
    pub fn embed_message(&self) -> Option<serde_json::Value> {
        let (matches, people) = (self.matches.as_ref()?, self.people.as_ref()?);
        let shown = people.shown_hits(&matches.hits, self.distinct);
        Some(serde_json::json!({
            "type": "celebrityfaces:matches",
            "network": matches.network,
            "filter": {
                "gender": matches.filter.gender.unwrap_or(GenderChoice::Everyone).code(),
                "well_known_only": matches.filter.well_known_only,
            },
            "matches": shown.iter().take(5).map(|hit| serde_json::json!({
                "name": people.name_of(hit.item).unwrap_or("?"),
                "similarity": (f64::from(hit.similarity) * 1000.0).round() / 1000.0,
            })).collect::<Vec<_>>(),
        }))
    }
}

#[cfg(test)]
mod tests;
