//! The worker the page spawns (the Yew web-worker pattern, with gloo-worker): one type for both
//! sides, so that the messages stay in step. Built with the `worker` feature (the worker
//! program) it carries the [`Engine`](crate::engine::Engine) with the face pipeline and the
//! search; built without it (the page) it is only the handle the page spawns and talks to, and
//! the page's wasm carries no tract.

use gloo_worker::{HandlerId, Worker, WorkerScope};

use crate::protocol::{Reply, Request};

/// Where the index files live, relative to the site root.
pub const INDEX_BASE: &str = "index-shards";
/// Where the model files live, relative to the site root.
pub const MODELS_BASE: &str = "models";
/// The worker's script, beside the page (trunk's loader shim for `src/bin/worker.rs`).
pub const WORKER_SCRIPT: &str = "worker_loader.js";

pub struct FaceWorker {
    #[cfg(feature = "worker")]
    engine: crate::engine::Engine,
}

impl Worker for FaceWorker {
    #[cfg(feature = "worker")]
    type Message = crate::engine::Loaded;
    #[cfg(not(feature = "worker"))]
    type Message = ();
    type Input = Request;
    type Output = Reply;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        FaceWorker {
            #[cfg(feature = "worker")]
            engine: crate::engine::Engine::new(),
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, message: Self::Message) {
        #[cfg(feature = "worker")]
        self.engine.update(scope, message);
        #[cfg(not(feature = "worker"))]
        let _ = (scope, message);
    }

    fn received(&mut self, scope: &WorkerScope<Self>, request: Request, id: HandlerId) {
        #[cfg(feature = "worker")]
        self.engine.received(scope, request, id);
        #[cfg(not(feature = "worker"))]
        let _ = (scope, request, id);
    }
}
