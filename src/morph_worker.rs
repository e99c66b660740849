//! The morph worker the page spawns when a visitor first opens a morph: one type for both sides,
//! as the face worker (src/worker.rs). Built with the `morph` feature (the morph worker program)
//! it blends the two faces the face worker cut ([`cf_morph::Morph`]) and writes the animation;
//! built without it (the page) it is only the handle the page spawns. Frames are answered in
//! the order asked; the page asks for the next only when the last has come, so that a slider
//! dragged faster than frames are made always gets the newest position next.

use cf_protocol::{MorphReply, MorphRequest};
use gloo_worker::{HandlerId, Worker, WorkerScope};

/// The morph worker's script, beside the page (trunk's loader shim for
/// `src/bin/morph_worker.rs`).
pub const MORPH_WORKER_SCRIPT: &str = "morph-worker_loader.js";

pub struct MorphWorker {
    /// The pair being blended, and its `seq`.
    #[cfg(feature = "morph")]
    morph: Option<(u32, cf_morph::Morph)>,
}

impl Worker for MorphWorker {
    type Message = ();
    type Input = MorphRequest;
    type Output = MorphReply;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        MorphWorker {
            #[cfg(feature = "morph")]
            morph: None,
        }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _message: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, request: MorphRequest, id: HandlerId) {
        #[cfg(feature = "morph")]
        if let Some(reply) = self.answer(request) {
            scope.respond(id, reply);
        }
        #[cfg(not(feature = "morph"))]
        let _ = (scope, request, id);
    }
}

#[cfg(feature = "morph")]
impl MorphWorker {
    fn answer(&mut self, request: MorphRequest) -> Option<MorphReply> {
        let started = crate::fetch::now_ms();
        match request {
            MorphRequest::Faces { seq, from, to } => match blend(from, to) {
                Ok(morph) => {
                    self.morph = Some((seq, morph));
                    None
                }
                Err(error) => {
                    self.morph = None;
                    Some(MorphReply::Failed {
                        seq,
                        reason: error.to_string(),
                    })
                }
            },
            MorphRequest::Frame { seq, t } => {
                let morph = self.pair(seq)?;
                let rgba = with_alpha(&morph.frame(t));
                Some(MorphReply::Frame {
                    seq,
                    t,
                    side: cf_morph::MORPH_SIDE as u32,
                    rgba,
                    ms: crate::fetch::now_ms() - started,
                })
            }
            MorphRequest::Gif { seq } => {
                let morph = self.pair(seq)?;
                let frames: Vec<Vec<u8>> = cf_morph::there_and_back(cf_morph::GIF_FRAMES)
                    .into_iter()
                    .map(|t| morph.frame(t))
                    .collect();
                Some(
                    match cf_morph::encode_gif(&frames, cf_morph::GIF_FRAME_DELAY_CS) {
                        Ok(bytes) => MorphReply::Gif {
                            seq,
                            bytes,
                            ms: crate::fetch::now_ms() - started,
                        },
                        Err(error) => MorphReply::Failed {
                            seq,
                            reason: error.to_string(),
                        },
                    },
                )
            }
        }
    }

    /// The morph of pair `seq`; `None` for an older pair (its frames would not be shown).
    fn pair(&self, seq: u32) -> Option<&cf_morph::Morph> {
        self.morph
            .as_ref()
            .filter(|(current, _)| *current == seq)
            .map(|(_, morph)| morph)
    }
}

#[cfg(feature = "morph")]
fn blend(
    from: cf_protocol::MorphFaceData,
    to: cf_protocol::MorphFaceData,
) -> Result<cf_morph::Morph, cf_morph::MorphError> {
    let face = |data: cf_protocol::MorphFaceData| {
        let landmarks = data
            .landmarks
            .iter()
            .map(|&(x, y)| cf_morph::Point::new(x, y))
            .collect();
        cf_morph::MorphFace::new(data.rgb, landmarks)
    };
    cf_morph::Morph::new(face(from)?, face(to)?)
}

/// RGB to the RGBA of an `ImageData`, opaque.
#[cfg(feature = "morph")]
fn with_alpha(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect()
}
