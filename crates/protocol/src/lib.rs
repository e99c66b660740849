//! What the page and its worker say to each other. The worker owns the models, the photo being
//! looked at and the indexes; the page owns what is shown. Only these messages cross, so the
//! photo's bytes go from the page to the worker and never anywhere else.
//!
//! gloo-worker carries them with bincode 1, which knows only what a type declares: no
//! untagged enums, no skipped fields. The tests send every message through that codec. Byte
//! fields are `serde_bytes`: bincode writes and reads a plain `Vec<u8>` one element at a time,
//! milliseconds for a photo of a few megabytes on each side.
//!
//! Every request about a photo carries a sequence number that its replies repeat, so that the
//! page can tell the answer to its latest question from an older one still on its way; the
//! worker drops a queued request that a newer one of the same kind makes pointless
//! ([`Request::supersedes`]).

mod morph;
mod problems;
mod rect;

pub use morph::{MorphFaceData, MorphReply, MorphRequest};
pub use problems::{LoadProblem, MorphProblem, PhotoProblem};
pub use rect::{FaceRect, MIN_FACE_SIDE};
use serde::{Deserialize, Serialize};

/// Cards the page shows: the search widens until it has this many different people.
pub const CARDS: usize = 12;

/// Where the index files live, relative to the site root.
pub const INDEX_BASE: &str = "index-shards";
/// Where the model files live, relative to the site root.
pub const MODELS_BASE: &str = "models";

/// Which people the matches show, by gender.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenderChoice {
    Women,
    Men,
    Everyone,
}

impl GenderChoice {
    /// The word of the embed message and the page's markup.
    pub fn code(self) -> &'static str {
        match self {
            GenderChoice::Women => "women",
            GenderChoice::Men => "men",
            GenderChoice::Everyone => "everyone",
        }
    }
}

/// What the visitor asked to see. `gender: None` leaves it to the worker, which presets it
/// from its estimate of the face; the visitor changes it in one click. It is a filter the
/// visitor controls, never a statement about them.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filter {
    pub gender: Option<GenderChoice>,
    pub well_known_only: bool,
}

/// A request from the page.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Request {
    /// Load the detector and landmark models and the catalog, then the named network's models
    /// and index. The page sends the manifest it fetched so that both sides read the same one.
    Load {
        manifest: String,
        network: String,
    },
    /// A new photo: decode it, find every face, and match the preselected one with the current
    /// network.
    Analyse {
        seq: u32,
        photo: u32,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
        filter: Filter,
    },
    /// Match the face in this box of the current photo (a face the visitor chose, moved,
    /// resized or drew).
    Match {
        seq: u32,
        photo: u32,
        face: FaceRect,
        filter: Filter,
    },
    /// Search the last matched face of the photo again with another filter, without running
    /// any network.
    Refilter {
        seq: u32,
        photo: u32,
        filter: Filter,
    },
    /// Cut the face in this box of the current photo and the portrait of `item` (at the
    /// address `portrait`, as the page resolves the manifest's) into the morph frame, for the
    /// morph worker.
    Morph {
        seq: u32,
        photo: u32,
        face: FaceRect,
        item: u32,
        portrait: String,
    },
    /// Developer tools: the nearest neighbours of an item's own vector, and search speed.
    QueryItem {
        seq: u32,
        item: u32,
    },
    Bench,
}

impl Request {
    /// True when this request, arriving later, makes `older` (still queued) pointless: a new
    /// photo makes every queued photo request pointless; a box, the queued boxes; a network
    /// load, the queued loads; an item query, the queued item queries.
    pub fn supersedes(&self, older: &Request) -> bool {
        use Request::*;
        matches!(
            (self, older),
            (
                Analyse { .. },
                Analyse { .. } | Match { .. } | Refilter { .. } | Morph { .. }
            ) | (Match { .. }, Match { .. } | Refilter { .. })
                | (Refilter { .. }, Refilter { .. })
                | (Load { .. }, Load { .. })
                | (QueryItem { .. }, QueryItem { .. })
                | (Morph { .. }, Morph { .. })
                | (Bench, Bench)
        )
    }
}

/// How far loading has come.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub enum LoadStage {
    Downloading,
    /// Downloaded and verified; the models are being compiled for this browser.
    Preparing,
}

/// Time spent per stage, in milliseconds.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    pub decode: f64,
    pub detect: f64,
    pub landmarks: f64,
    pub align: f64,
    pub embed: f64,
    /// The gender estimate the filter is preset from.
    pub estimate: f64,
    pub search: f64,
}

/// Where the time of loading a network went, in milliseconds: downloading (or reading from the
/// Cache API) and verifying the files, then preparing the detector and landmark models, the
/// network's models, and its index.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadTimes {
    pub download: f64,
    pub pipeline: f64,
    pub network: f64,
    pub index: f64,
}

/// One neighbour: an item of the index and its cosine similarity to the query.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub item: u32,
    pub similarity: f32,
}

impl From<cf_forest::Neighbour> for Hit {
    fn from(neighbour: cf_forest::Neighbour) -> Hit {
        Hit {
            item: neighbour.item,
            similarity: neighbour.similarity(),
        }
    }
}

/// A face of [`Reply::Faces`] that the second look saw lying turned (upside down, say): the
/// first look saw it upright, so its landmarks, and any matches of it, were wrong.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct TurnedFace {
    /// Its place in [`Reply::Faces`]' list.
    pub index: u32,
    /// The box [`Reply::Faces`] gave.
    pub was: FaceRect,
    /// Its box and turn as the turned look saw it.
    pub now: FaceRect,
}

/// A reply from the worker. Replies about a photo repeat the `seq` of the request they answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Reply {
    Progress {
        network: String,
        stage: LoadStage,
        done: u64,
        total: u64,
    },
    /// The network is loaded and is now the one searched. Above `same_person` similarity two
    /// faces are judged the same person (LFW's verification threshold for this network).
    Ready {
        network: String,
        items: usize,
        same_person: f32,
        times: LoadTimes,
    },
    LoadFailed {
        network: String,
        problem: LoadProblem,
    },
    /// The catalog (`catalog.json` as the manifest lists it, verified): who the items are. The
    /// worker loads it with the first network and hands it on, so it is downloaded once.
    Catalog {
        #[serde(with = "serde_bytes")]
        json: Vec<u8>,
    },
    /// The photo's header was read and its size is one the worker decodes: the page shows it
    /// from now on. A photo its header refuses (too large, not an image) is never shown, so that
    /// the page does not decode what the worker refused: a 20000 x 20000 PNG is 1.6 GB decoded.
    Readable { seq: u32, photo: u32 },
    /// The faces of a photo the detector's first look found, most confident first, and the
    /// one preselected for the visitor ([`cf_face`'s `preselect`]); the match of that one
    /// follows, then [`Reply::MoreFaces`].
    Faces {
        seq: u32,
        photo: u32,
        width: u32,
        height: u32,
        faces: Vec<FaceRect>,
        chosen: Option<usize>,
        /// A [`Reply::MoreFaces`] follows: the detector takes a second look for small faces
        /// and for faces lying on a side or upside down.
        second_look: bool,
        times: StageTimes,
    },
    /// The faces the detector's second look found in the photo besides those of
    /// [`Reply::Faces`], most confident first (often none), and those of its faces that lie
    /// turned: every face is now found. It repeats the `seq` of the photo's `Analyse`, and is
    /// taken whatever was asked since about the same photo.
    MoreFaces {
        seq: u32,
        photo: u32,
        faces: Vec<FaceRect>,
        turned: Vec<TurnedFace>,
        /// The second look's time.
        detect_ms: f64,
    },
    Matches {
        seq: u32,
        photo: u32,
        network: String,
        face: FaceRect,
        /// The aligned crop the network sees, `crop_side` x `crop_side` RGB.
        #[serde(with = "serde_bytes")]
        crop: Vec<u8>,
        crop_side: u32,
        hits: Vec<Hit>,
        /// The filter the hits passed: the gender as preset or as asked (never `None`).
        filter: Filter,
        /// The probability that the face is a woman's, as the worker estimates it (what it
        /// presets the filter from); `None` without an estimator.
        woman: Option<f32>,
        times: StageTimes,
    },
    PhotoFailed {
        seq: u32,
        photo: u32,
        problem: PhotoProblem,
    },
    /// The two faces of a morph, the visitor's first, for the morph worker; made in `ms`
    /// (portrait download, decode and landmarks included).
    MorphFaces {
        seq: u32,
        photo: u32,
        item: u32,
        from: MorphFaceData,
        to: MorphFaceData,
        ms: f64,
    },
    MorphFailed {
        seq: u32,
        item: u32,
        problem: MorphProblem,
    },
    ItemHits {
        seq: u32,
        item: u32,
        hits: Vec<Hit>,
        /// How many of the exact top hits the forest found.
        exact_overlap: usize,
        search_ms: f64,
    },
    Speed {
        queries: usize,
        forest_qps: f64,
        exact_qps: f64,
    },
}

/// The best hit of each person, best first, at most `limit`: what the visitor sees by default.
pub fn distinct_people(hits: &[Hit], person_of_item: &[u32], limit: usize) -> Vec<Hit> {
    let mut seen = std::collections::HashSet::new();
    hits.iter()
        .filter(|hit| {
            person_of_item
                .get(hit.item as usize)
                .is_some_and(|person| seen.insert(*person))
        })
        .take(limit)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(item: u32, similarity: f32) -> Hit {
        Hit { item, similarity }
    }

    /// Through the codec gloo-worker sends with (bincode 1, default options) and back.
    fn trip<T: Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
        bincode::deserialize(&bincode::serialize(value).expect("encodes")).expect("decodes")
    }

    #[test]
    fn distinct_people_keeps_each_persons_best_photo_in_order() {
        // Items 0, 1, 4 are person 7; 2 is person 3; 3 is person 9.
        let person_of_item = [7, 7, 3, 9, 7];
        let hits = [
            hit(1, 0.9),
            hit(0, 0.8),
            hit(2, 0.7),
            hit(4, 0.6),
            hit(3, 0.5),
        ];
        assert_eq!(
            distinct_people(&hits, &person_of_item, 10),
            vec![hit(1, 0.9), hit(2, 0.7), hit(3, 0.5)]
        );
        assert_eq!(distinct_people(&hits, &person_of_item, 2).len(), 2);
    }

    #[test]
    fn distinct_people_skips_items_the_catalog_does_not_know() {
        assert_eq!(distinct_people(&[hit(5, 0.9)], &[0, 1], 10), vec![]);
    }

    #[test]
    fn every_message_survives_the_codec_that_ships() {
        let face = FaceRect {
            x1: 1.0,
            y1: 2.0,
            x2: 3.5,
            y2: 4.0,
            quarter_turns: 2,
        };
        let requests = [
            Request::Load {
                manifest: "{}".into(),
                network: "look".into(),
            },
            Request::Analyse {
                seq: 1,
                photo: 2,
                bytes: vec![0xff, 0xd8, 0],
                filter: Filter::default(),
            },
            Request::Match {
                seq: 3,
                photo: 2,
                face,
                filter: Filter {
                    gender: Some(GenderChoice::Women),
                    well_known_only: true,
                },
            },
            Request::Refilter {
                seq: 4,
                photo: 2,
                filter: Filter {
                    gender: Some(GenderChoice::Everyone),
                    well_known_only: false,
                },
            },
            Request::Morph {
                seq: 5,
                photo: 2,
                face,
                item: 77,
                portrait: "https://cdn.example/t/0011223344556677-256.jpg".into(),
            },
            Request::QueryItem { seq: 4, item: 9 },
            Request::Bench,
        ];
        for request in &requests {
            assert_eq!(&trip(request), request);
        }
        let replies = [
            Reply::Progress {
                network: "look".into(),
                stage: LoadStage::Downloading,
                done: 1,
                total: 2,
            },
            Reply::Ready {
                network: "look".into(),
                items: 7,
                same_person: 0.61,
                times: LoadTimes {
                    download: 1.5,
                    ..LoadTimes::default()
                },
            },
            Reply::LoadFailed {
                network: "look".into(),
                problem: LoadProblem::Http {
                    file: "look-000.bin".into(),
                    status: 404,
                },
            },
            Reply::Faces {
                seq: 1,
                photo: 2,
                width: 640,
                height: 480,
                faces: vec![face, face],
                chosen: Some(1),
                second_look: true,
                times: StageTimes::default(),
            },
            Reply::MoreFaces {
                seq: 1,
                photo: 2,
                faces: vec![face],
                turned: vec![TurnedFace {
                    index: 1,
                    was: FaceRect {
                        quarter_turns: 0,
                        ..face
                    },
                    now: face,
                }],
                detect_ms: 80.5,
            },
            Reply::Matches {
                seq: 3,
                photo: 2,
                network: "look".into(),
                face,
                crop: vec![1, 2, 3],
                crop_side: 1,
                hits: vec![hit(4, 0.5)],
                filter: Filter {
                    gender: Some(GenderChoice::Men),
                    well_known_only: false,
                },
                woman: Some(0.03),
                times: StageTimes {
                    embed: 25.0,
                    ..StageTimes::default()
                },
            },
            Reply::Catalog {
                json: b"{\"names\":[]}".to_vec(),
            },
            Reply::PhotoFailed {
                seq: 5,
                photo: 2,
                problem: PhotoProblem::Damaged {
                    detail: "bad Huffman code".into(),
                },
            },
            Reply::MorphFaces {
                seq: 5,
                photo: 2,
                item: 77,
                from: morph_face(),
                to: morph_face(),
                ms: 31.0,
            },
            Reply::MorphFailed {
                seq: 6,
                item: 78,
                problem: MorphProblem::PortraitUnreachable {
                    detail: "Failed to fetch".into(),
                },
            },
            Reply::ItemHits {
                seq: 4,
                item: 9,
                hits: vec![hit(9, 1.0)],
                exact_overlap: 1,
                search_ms: 0.4,
            },
            Reply::Speed {
                queries: 500,
                forest_qps: 9000.0,
                exact_qps: 400.0,
            },
        ];
        for reply in &replies {
            assert_eq!(&trip(reply), reply);
        }
        for problem in LoadProblem::examples() {
            assert_eq!(trip(&problem), problem);
        }
        for problem in PhotoProblem::examples() {
            assert_eq!(trip(&problem), problem);
        }
        for problem in MorphProblem::examples() {
            assert_eq!(trip(&problem), problem);
        }
        let morph_requests = [
            MorphRequest::Faces {
                seq: 1,
                from: morph_face(),
                to: morph_face(),
            },
            MorphRequest::Frame { seq: 1, t: 0.25 },
            MorphRequest::Gif { seq: 1 },
        ];
        for request in &morph_requests {
            assert_eq!(&trip(request), request);
        }
        let morph_replies = [
            MorphReply::Frame {
                seq: 1,
                t: 0.5,
                side: 2,
                rgba: vec![9; 16],
                ms: 4.0,
            },
            MorphReply::Gif {
                seq: 1,
                bytes: b"GIF89a".to_vec(),
                ms: 700.0,
            },
            MorphReply::Failed {
                seq: 1,
                reason: "a face needs its 68 landmarks, not 5".into(),
            },
        ];
        for reply in &morph_replies {
            assert_eq!(&trip(reply), reply);
        }
    }

    /// What bincode writes for `value`, and in how many writes: one per element for a
    /// sequence, one for a block of bytes.
    fn written<T: Serialize>(value: &T) -> (usize, Vec<u8>) {
        struct Counting(usize, Vec<u8>);
        impl std::io::Write for Counting {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0 += 1;
                self.1.extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut counting = Counting(0, Vec::new());
        bincode::serialize_into(&mut counting, value).expect("encodes");
        (counting.0, counting.1)
    }

    #[test]
    fn bytes_cross_to_and_from_the_workers_as_one_block_in_the_same_wire_form() {
        // A photo is megabytes: a write per byte was milliseconds on each side.
        let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let face = FaceRect {
            x1: 1.0,
            y1: 2.0,
            x2: 30.0,
            y2: 40.0,
            quarter_turns: 0,
        };
        let morph_face = MorphFaceData {
            side: 2,
            rgb: payload.clone(),
            landmarks: vec![],
        };
        let encodings = [
            written(&Request::Analyse {
                seq: 1,
                photo: 1,
                bytes: payload.clone(),
                filter: Filter::default(),
            }),
            written(&Reply::Catalog {
                json: payload.clone(),
            }),
            written(&Reply::Matches {
                seq: 1,
                photo: 1,
                network: "look".into(),
                face,
                crop: payload.clone(),
                crop_side: 1,
                hits: vec![],
                filter: Filter::default(),
                woman: None,
                times: StageTimes::default(),
            }),
            written(&MorphRequest::Faces {
                seq: 1,
                from: morph_face.clone(),
                to: morph_face,
            }),
            written(&MorphReply::Frame {
                seq: 1,
                t: 0.5,
                side: 2,
                rgba: payload.clone(),
                ms: 1.0,
            }),
            written(&MorphReply::Gif {
                seq: 1,
                bytes: payload.clone(),
                ms: 1.0,
            }),
        ];
        // The wire form a `Vec<u8>` always had: its length as a u64, then the bytes.
        let mut field = (payload.len() as u64).to_le_bytes().to_vec();
        field.extend_from_slice(&payload);
        for (writes, wire) in encodings {
            assert!(
                writes < 64,
                "{writes} writes for a message of {} bytes",
                wire.len()
            );
            assert!(wire.windows(field.len()).any(|w| w == field));
        }
    }

    fn morph_face() -> MorphFaceData {
        MorphFaceData {
            side: 2,
            rgb: vec![7; 12],
            landmarks: vec![(0.5, 1.5); 68],
        }
    }

    #[test]
    fn a_new_pair_supersedes_everything_queued_a_frame_only_frames() {
        let faces = |seq| MorphRequest::Faces {
            seq,
            from: morph_face(),
            to: morph_face(),
        };
        let frame = |seq| MorphRequest::Frame { seq, t: 0.5 };
        let gif = MorphRequest::Gif { seq: 1 };
        assert!(faces(2).supersedes(&frame(1)) && faces(2).supersedes(&gif));
        assert!(frame(2).supersedes(&frame(1)));
        assert!(!frame(2).supersedes(&gif) && !gif.supersedes(&frame(1)));
    }

    #[test]
    fn a_newer_request_supersedes_only_what_it_makes_pointless() {
        let analyse = |seq| Request::Analyse {
            seq,
            photo: seq,
            bytes: Vec::new(),
            filter: Filter::default(),
        };
        let face = FaceRect {
            x1: 0.0,
            y1: 0.0,
            x2: 20.0,
            y2: 20.0,
            quarter_turns: 0,
        };
        let match_box = |seq| Request::Match {
            seq,
            photo: 1,
            face,
            filter: Filter::default(),
        };
        let refilter = |seq| Request::Refilter {
            seq,
            photo: 1,
            filter: Filter::default(),
        };
        let load = |network: &str| Request::Load {
            manifest: String::new(),
            network: network.into(),
        };
        assert!(analyse(2).supersedes(&analyse(1)));
        assert!(analyse(2).supersedes(&match_box(1)));
        assert!(match_box(2).supersedes(&match_box(1)));
        // A box cannot be matched before its photo is analysed.
        assert!(!match_box(2).supersedes(&analyse(1)));
        assert!(load("look").supersedes(&load("mobilefacenet192")));
        assert!(!load("look").supersedes(&analyse(1)));
        assert!(!analyse(1).supersedes(&load("look")));
        assert!(!Request::QueryItem { seq: 1, item: 0 }.supersedes(&match_box(1)));
        // Another filter for a face still being matched waits for that match.
        assert!(!refilter(2).supersedes(&match_box(1)));
        assert!(match_box(2).supersedes(&refilter(1)) && refilter(2).supersedes(&refilter(1)));
        let morph = |seq| Request::Morph {
            seq,
            photo: 1,
            face,
            item: 3,
            portrait: String::new(),
        };
        // A new photo's analysis makes a morph of the old one pointless; a box does not.
        assert!(analyse(2).supersedes(&morph(1)) && morph(2).supersedes(&morph(1)));
        assert!(!match_box(2).supersedes(&morph(1)) && !morph(2).supersedes(&match_box(1)));
    }

    #[test]
    fn a_hit_is_the_neighbours_similarity() {
        let neighbour = cf_forest::Neighbour {
            item: 3,
            distance: 0.25,
        };
        assert_eq!(Hit::from(neighbour), hit(3, 0.75));
    }
}
