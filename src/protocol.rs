//! What the page and its worker say to each other. The worker owns the models, the photo being
//! looked at and the indexes; the page owns what is shown. Only these messages cross, so the
//! photo's bytes go from the page to the worker and never anywhere else.

use serde::{Deserialize, Serialize};

/// A face box in the pixels of the photo as the worker decoded it (upright, downscaled).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct FaceRect {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl FaceRect {
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }
    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    /// The same box with its corners ordered (a box drawn up or leftwards is still a box).
    pub fn ordered(&self) -> FaceRect {
        FaceRect {
            x1: self.x1.min(self.x2),
            y1: self.y1.min(self.y2),
            x2: self.x1.max(self.x2),
            y2: self.y1.max(self.y2),
        }
    }

    /// The same box with its corners ordered and kept inside a `width` x `height` photo.
    pub fn normalised(&self, width: f32, height: f32) -> FaceRect {
        let (x1, x2) = (self.x1.min(self.x2), self.x1.max(self.x2));
        let (y1, y2) = (self.y1.min(self.y2), self.y1.max(self.y2));
        FaceRect {
            x1: x1.clamp(0.0, width),
            y1: y1.clamp(0.0, height),
            x2: x2.clamp(0.0, width),
            y2: y2.clamp(0.0, height),
        }
    }

    /// Moved by (`dx`, `dy`) without leaving a `width` x `height` photo; the size is kept.
    pub fn moved(&self, dx: f32, dy: f32, width: f32, height: f32) -> FaceRect {
        let dx = dx.clamp(-self.x1, width - self.x2);
        let dy = dy.clamp(-self.y1, height - self.y2);
        FaceRect {
            x1: self.x1 + dx,
            y1: self.y1 + dy,
            x2: self.x2 + dx,
            y2: self.y2 + dy,
        }
    }

    /// With one corner dragged by (`dx`, `dy`): the left or right side, the top or bottom one.
    pub fn resized(
        &self,
        left: bool,
        top: bool,
        dx: f32,
        dy: f32,
        width: f32,
        height: f32,
    ) -> FaceRect {
        let mut rect = *self;
        if left {
            rect.x1 += dx;
        } else {
            rect.x2 += dx;
        }
        if top {
            rect.y1 += dy;
        } else {
            rect.y2 += dy;
        }
        rect.normalised(width, height)
    }
}

/// The smallest box side, in photo pixels, that the landmark network can still read.
pub const MIN_FACE_SIDE: f32 = 16.0;

/// A request from the page.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub enum Request {
    /// Load the detector and landmark models, then the named network's models and index. The
    /// page sends the manifest it fetched so that both sides read the same one.
    Load {
        manifest: String,
        network: String,
    },
    /// A new photo: decode it, find every face, and match the largest with the current network.
    Analyse {
        photo: u32,
        bytes: Vec<u8>,
    },
    /// Match the face in this box of the current photo (a face the visitor chose, moved,
    /// resized or drew).
    Match {
        photo: u32,
        face: FaceRect,
    },
    /// Developer tools: the nearest neighbours of an item's own vector, and search speed.
    QueryItem {
        item: u32,
    },
    Bench,
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

/// Why a photo could not be used; the page words it in the visitor's language.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub enum PhotoProblem {
    Empty,
    UnknownFormat,
    TooLarge,
    Damaged,
    /// The box holds nothing the landmark network can read as a face.
    NoFaceInBox,
    Other,
}

/// A reply from the worker.
#[derive(Serialize, Deserialize, Debug, Clone)]
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
        message: String,
    },
    /// The faces of a photo, most confident first. The match of the largest follows.
    Faces {
        photo: u32,
        width: u32,
        height: u32,
        faces: Vec<FaceRect>,
        times: StageTimes,
    },
    Matches {
        photo: u32,
        network: String,
        face: FaceRect,
        /// The aligned crop the network sees, `crop_side` x `crop_side` RGB.
        crop: Vec<u8>,
        crop_side: u32,
        hits: Vec<Hit>,
        times: StageTimes,
    },
    PhotoFailed {
        photo: u32,
        problem: PhotoProblem,
        detail: String,
    },
    ItemHits {
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
    fn boxes_are_ordered_and_kept_inside_the_photo() {
        let drawn = FaceRect {
            x1: 120.0,
            y1: -5.0,
            x2: 20.0,
            y2: 80.0,
        };
        let inside = drawn.normalised(100.0, 60.0);
        assert_eq!(
            inside,
            FaceRect {
                x1: 20.0,
                y1: 0.0,
                x2: 100.0,
                y2: 60.0
            }
        );
        let moved = inside.moved(50.0, -10.0, 100.0, 60.0);
        assert_eq!((moved.x1, moved.x2, moved.y1), (20.0, 100.0, 0.0));
        let left = inside.moved(-30.0, 0.0, 100.0, 60.0);
        assert_eq!((left.x1, left.x2), (0.0, 80.0));
        assert_eq!(left.area(), 80.0 * 60.0);
    }

    #[test]
    fn a_dragged_corner_resizes_and_may_cross_the_opposite_side() {
        let rect = FaceRect {
            x1: 10.0,
            y1: 10.0,
            x2: 50.0,
            y2: 40.0,
        };
        let bigger = rect.resized(false, false, 20.0, 5.0, 100.0, 100.0);
        assert_eq!((bigger.x2, bigger.y2), (70.0, 45.0));
        let crossed = rect.resized(true, true, 60.0, 0.0, 100.0, 100.0);
        assert_eq!((crossed.x1, crossed.x2), (50.0, 70.0));
        let outside = rect.resized(true, true, -30.0, -30.0, 100.0, 100.0);
        assert_eq!((outside.x1, outside.y1), (0.0, 0.0));
    }

    #[test]
    fn messages_survive_the_trip() {
        let ready = Reply::Ready {
            network: "look".into(),
            items: 7,
            same_person: 0.61,
            times: LoadTimes::default(),
        };
        let json = serde_json::to_string(&ready).unwrap();
        assert_eq!(
            format!("{ready:?}"),
            format!("{:?}", serde_json::from_str::<Reply>(&json).unwrap())
        );
        let reply = Reply::Matches {
            photo: 3,
            network: "look".into(),
            face: FaceRect {
                x1: 1.0,
                y1: 2.0,
                x2: 3.0,
                y2: 4.0,
            },
            crop: vec![1, 2, 3],
            crop_side: 1,
            hits: vec![hit(4, 0.5)],
            times: StageTimes::default(),
        };
        let json = serde_json::to_string(&reply).unwrap();
        let back: Reply = serde_json::from_str(&json).unwrap();
        assert_eq!(format!("{back:?}"), format!("{reply:?}"));
    }
}
