//! The worker's engine: what the page's worker program does, without the browser. It loads the
//! models and the index a manifest names (through a [`cf_shards::FileStore`]: the browser's
//! fetch and Cache API in the worker, memory in the tests), keeps the photo being looked at,
//! and answers the page's [`cf_protocol::Request`]s in order, dropping the ones a newer request
//! has made pointless.
//!
//! The [`Engine`] is a state machine: [`Engine::received`] queues, [`Engine::step`] answers one
//! request, [`Engine::loaded`] takes in a finished load; each returns [`Command`]s (replies to
//! send, loads to run) for the caller to carry out. So the order of events that the browser
//! makes (replies, downloads finishing, new requests arriving meanwhile) can be replayed
//! natively in a test.

mod engine;
mod load;
mod people;
mod queue;

/// A photo decoded elsewhere ([`Engine::decoded_elsewhere`]) is planned and made with these.
pub use cf_face::{
    ChromaSampling, DecodePlan, FaceError, MAX_DIMENSION, Orientation, Photo, PixelOrder, Plane,
    YCbCrPlanes, plan_decode, working_size,
};
pub use cf_protocol::{INDEX_BASE, MODELS_BASE};
pub use engine::{Command, Engine, HITS, PortraitOrder, Readiness};
pub use load::{Clock, LoadOrder, Loaded, Prepared, Searchable, Shared};
pub use people::{People, preset_gender, search_filtered};
pub use queue::RequestQueue;
