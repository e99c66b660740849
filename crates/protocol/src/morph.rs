//! What the page says to the morph worker, which blends two faces into the frames of the
//! "average face" and writes the animation. The face worker cuts both faces into the morph
//! frame ([`crate::Reply::MorphFaces`]); the page hands them to the morph worker, which it
//! spawns only when a visitor first opens a morph, so that its code costs a first visit nothing.

use serde::{Deserialize, Serialize};

/// A face cut into the morph frame: `side x side` RGB and its 68 landmarks there, `(x, y)`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct MorphFaceData {
    pub side: u32,
    #[serde(with = "serde_bytes")]
    pub rgb: Vec<u8>,
    pub landmarks: Vec<(f32, f32)>,
}

/// A request to the morph worker. `seq` names the pair of faces; frames of an older pair are
/// never shown.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum MorphRequest {
    /// The two faces to blend, the visitor's first.
    Faces {
        seq: u32,
        from: MorphFaceData,
        to: MorphFaceData,
    },
    /// The frame at `t` in `0..=1` (0: the visitor, 1: the celebrity).
    Frame { seq: u32, t: f32 },
    /// The animation there and back, as a GIF file.
    Gif { seq: u32 },
}

impl MorphRequest {
    /// True when this request, arriving later, makes `older` (still queued) pointless: a new
    /// pair makes everything queued about the old one pointless; a frame, the queued frames
    /// (the slider has moved on).
    pub fn supersedes(&self, older: &MorphRequest) -> bool {
        use MorphRequest::*;
        matches!(
            (self, older),
            (Faces { .. }, _) | (Frame { .. }, Frame { .. })
        )
    }
}

/// A reply of the morph worker.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum MorphReply {
    /// The frame at `t`, `side x side` RGBA (ready for an `ImageData`), made in `ms`.
    Frame {
        seq: u32,
        t: f32,
        side: u32,
        #[serde(with = "serde_bytes")]
        rgba: Vec<u8>,
        ms: f64,
    },
    /// The animation, made in `ms`.
    Gif {
        seq: u32,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
        ms: f64,
    },
    /// The faces could not be blended (a programming fault: the face worker checks them).
    Failed { seq: u32, reason: String },
}
