//! The page's lines to its workers. The worker is spawned before the page's first render, so that
//! its wasm downloads and compiles while the page draws; replies that come before the page
//! listens are kept and handed over when it does.

use std::cell::RefCell;
use std::rc::Rc;

use celebrityfaces::morph_worker::{MORPH_WORKER_SCRIPT, MorphWorker};
use celebrityfaces::worker::{FaceWorker, WORKER_SCRIPT};
use cf_protocol::{MorphReply, MorphRequest, Reply, Request};
use gloo_worker::{Spawnable, WorkerBridge};
use yew::Callback;

type Listener = Rc<RefCell<Option<Callback<Reply>>>>;

pub struct WorkerLink {
    bridge: WorkerBridge<FaceWorker>,
    listener: Listener,
    early: Rc<RefCell<Vec<Reply>>>,
}

impl WorkerLink {
    pub fn spawn() -> Rc<WorkerLink> {
        let listener: Listener = Rc::default();
        let early: Rc<RefCell<Vec<Reply>>> = Rc::default();
        let bridge = {
            let (listener, early) = (listener.clone(), early.clone());
            FaceWorker::spawner()
                .callback(move |reply| match listener.borrow().as_ref() {
                    Some(listen) => listen.emit(reply),
                    None => early.borrow_mut().push(reply),
                })
                .spawn_with_loader(WORKER_SCRIPT)
        };
        Rc::new(WorkerLink {
            bridge,
            listener,
            early,
        })
    }

    /// From now on every reply goes to `listen`, starting with those that came before.
    pub fn listen(&self, listen: Callback<Reply>) {
        for reply in self.early.borrow_mut().drain(..) {
            listen.emit(reply);
        }
        *self.listener.borrow_mut() = Some(listen);
    }

    pub fn send(&self, request: Request) {
        self.bridge.send(request);
    }
}

/// The page's line to the morph worker, spawned when a visitor first opens a morph: its wasm
/// is downloaded then, never on a visit that does not morph.
#[derive(Default)]
pub struct MorphLink {
    bridge: RefCell<Option<WorkerBridge<MorphWorker>>>,
}

impl MorphLink {
    /// Sends `request`, spawning the worker first if this is the first; its replies go to
    /// `listen`.
    pub fn send(&self, request: MorphRequest, listen: impl Fn(MorphReply) + 'static) {
        let mut bridge = self.bridge.borrow_mut();
        bridge
            .get_or_insert_with(|| {
                MorphWorker::spawner()
                    .callback(listen)
                    .spawn_with_loader(MORPH_WORKER_SCRIPT)
            })
            .send(request);
    }
}
