//! The morph dialog's state: the face worker cuts both faces, the morph worker blends them.
//! Frames are asked one at a time: while one is being made, a slider that moves on only
//! records where it is, and that position is asked next; so dragging never queues a backlog of
//! frames nobody will see. Replies of a closed or older morph carry another `seq` and are
//! dropped.

use std::rc::Rc;

use cf_protocol::{MorphProblem, MorphReply, MorphRequest, Request};

use super::{Effect, State};

/// Where the morph dialog stands.
#[derive(Clone, Debug, PartialEq)]
pub enum MorphStage {
    /// The face worker is cutting the faces (the portrait is downloading).
    Preparing,
    /// The morph worker has both faces: frames can be asked.
    Ready,
    Failed(MorphProblem),
}

/// The open morph dialog.
#[derive(Clone, Debug, PartialEq)]
pub struct MorphState {
    /// Names this morph in both workers' replies.
    pub seq: u32,
    pub item: u32,
    pub stage: MorphStage,
    /// The slider's position, 0 (the visitor) to 1 (the celebrity).
    pub t: f32,
    /// The latest frame shown: `side x side` RGBA, and the blend it shows.
    pub frame: Option<Rc<Vec<u8>>>,
    pub frame_t: f32,
    pub side: u32,
    /// How long the last frame, and the faces, took (ms).
    pub frame_ms: Option<f64>,
    pub prepare_ms: Option<f64>,
    pub making_gif: bool,
    pub gif_ms: Option<f64>,
    /// A frame is being made; `wanted` is the position to ask for when it comes.
    in_flight: bool,
    wanted: Option<f32>,
}

/// Where the slider starts: the "average face" itself.
pub const MORPH_START: f32 = 0.5;

/// Something that happened in the morph dialog.
#[derive(Clone, Debug)]
pub enum MorphAction {
    /// The visitor asked to morph their face with `item`.
    Open(u32),
    Close,
    /// The slider moved to `t`.
    Blend(f32),
    SaveGif,
    /// The morph worker answered.
    Reply(MorphReply),
}

impl State {
    pub(super) fn morph_action(&mut self, action: MorphAction, effects: &mut Vec<Effect>) {
        match action {
            MorphAction::Open(item) => self.open_morph(item, effects),
            MorphAction::Close => self.morph = None,
            MorphAction::Blend(t) => {
                let Some(morph) = &mut self.morph else {
                    return;
                };
                morph.t = t.clamp(0.0, 1.0);
                if morph.stage == MorphStage::Ready {
                    if morph.in_flight {
                        morph.wanted = Some(morph.t);
                    } else {
                        ask_frame(morph, morph.t, effects);
                    }
                }
            }
            MorphAction::SaveGif => {
                if let Some(morph) = self
                    .morph
                    .as_mut()
                    .filter(|m| m.stage == MorphStage::Ready && !m.making_gif)
                {
                    morph.making_gif = true;
                    effects.push(Effect::Morph(MorphRequest::Gif { seq: morph.seq }));
                }
            }
            MorphAction::Reply(reply) => self.morph_worker_reply(reply, effects),
        }
    }

    fn open_morph(&mut self, item: u32, effects: &mut Vec<Effect>) {
        let (Some(face), Some(photo)) = (self.chosen_face(), self.photo.as_ref().map(|p| p.id))
        else {
            return;
        };
        let portrait = self.people.as_ref().and_then(|p| p.portrait_url(item));
        let seq = self.seq();
        let stage = match &portrait {
            Some(_) => MorphStage::Preparing,
            None => MorphStage::Failed(MorphProblem::NoPortraits),
        };
        self.morph = Some(MorphState {
            seq,
            item,
            stage,
            t: MORPH_START,
            frame: None,
            frame_t: MORPH_START,
            side: 0,
            frame_ms: None,
            prepare_ms: None,
            making_gif: false,
            gif_ms: None,
            in_flight: false,
            wanted: None,
        });
        if let Some(portrait) = portrait {
            effects.push(Effect::Send(Request::Morph {
                seq,
                photo,
                face,
                item,
                portrait,
            }));
        }
    }

    /// The face worker's answer to the morph `seq`.
    pub(super) fn morph_faces(
        &mut self,
        seq: u32,
        faces: Result<(cf_protocol::MorphFaceData, cf_protocol::MorphFaceData, f64), MorphProblem>,
        effects: &mut Vec<Effect>,
    ) {
        let Some(morph) = self.morph.as_mut().filter(|m| m.seq == seq) else {
            return;
        };
        match faces {
            Ok((from, to, ms)) => {
                morph.stage = MorphStage::Ready;
                morph.prepare_ms = Some(ms);
                effects.push(Effect::Morph(MorphRequest::Faces { seq, from, to }));
                ask_frame(morph, morph.t, effects);
            }
            Err(problem) => morph.stage = MorphStage::Failed(problem),
        }
    }

    fn morph_worker_reply(&mut self, reply: MorphReply, effects: &mut Vec<Effect>) {
        let seq = match &reply {
            MorphReply::Frame { seq, .. }
            | MorphReply::Gif { seq, .. }
            | MorphReply::Failed { seq, .. } => *seq,
        };
        let Some(morph) = self.morph.as_mut().filter(|m| m.seq == seq) else {
            return;
        };
        match reply {
            MorphReply::Frame {
                t, side, rgba, ms, ..
            } => {
                morph.frame = Some(Rc::new(rgba));
                morph.frame_t = t;
                morph.side = side;
                morph.frame_ms = Some(ms);
                morph.in_flight = false;
                if let Some(wanted) = morph.wanted.take()
                    && wanted != t
                {
                    ask_frame(morph, wanted, effects);
                }
            }
            MorphReply::Gif { bytes, ms, .. } => {
                morph.making_gif = false;
                morph.gif_ms = Some(ms);
                let name = self
                    .people
                    .as_ref()
                    .and_then(|p| p.name_of(morph.item))
                    .unwrap_or("celebrity")
                    .replace(|c: char| !c.is_alphanumeric(), "-");
                effects.push(Effect::Save {
                    name: format!("morph-{name}.gif"),
                    mime: "image/gif",
                    bytes: Rc::new(bytes),
                });
            }
            MorphReply::Failed { reason, .. } => {
                morph.stage = MorphStage::Failed(MorphProblem::Failed { detail: reason });
            }
        }
    }
}

fn ask_frame(morph: &mut MorphState, t: f32, effects: &mut Vec<Effect>) {
    morph.in_flight = true;
    effects.push(Effect::Morph(MorphRequest::Frame { seq: morph.seq, t }));
}
