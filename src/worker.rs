//! The worker the page spawns (the Yew web-worker pattern, with gloo-worker): one type for both
//! sides, so that the messages stay in step. Built with the `worker` feature (the worker
//! program) it runs the [`cf_engine::Engine`] with the browser's fetch, Cache API and clock;
//! built without it (the page) it is only the handle the page spawns and talks to, and the
//! page's wasm carries no tract.
//!
//! Requests are queued as they arrive and answered one per turn of the worker's event loop
//! (after a zero-delay timeout), so that messages the page sent meanwhile are in the queue
//! first and can supersede older ones there.
//!
//! A photo is decoded by the browser before the engine sees it (src/decode.rs: a large JPEG by
//! `ImageDecoder` at a fraction of its size, anything else by `createImageBitmap`, resized on
//! decode to the pipeline's working size, upright by its EXIF orientation): natively, and much
//! faster than the image crate in wasm. What the browser cannot decode goes to the engine as
//! bytes, whose decoder then says why.

use cf_protocol::{Reply, Request};
use gloo_worker::{HandlerId, Worker, WorkerScope};

/// The worker's script, beside the page (trunk's loader shim for `src/bin/worker.rs`).
pub const WORKER_SCRIPT: &str = "worker_loader.js";

pub struct FaceWorker {
    #[cfg(feature = "worker")]
    engine: cf_engine::Engine<HandlerId, BrowserClock>,
    /// A turn is scheduled to answer the next request.
    #[cfg(feature = "worker")]
    turn_scheduled: bool,
    /// The newest photo given: an older one whose decoding ends later is not analysed.
    #[cfg(feature = "worker")]
    newest_photo_seq: u32,
    /// Whether the JPEG decoding has been warmed up ([`crate::decode::warm_up`]).
    #[cfg(feature = "worker")]
    decoder_warmed: bool,
}

#[cfg(feature = "worker")]
pub enum Message {
    /// The worker's turn to answer a queued request.
    Turn,
    Loaded(Box<cf_engine::Loaded<HandlerId>>),
    /// A morph's portrait, downloaded and decoded (or why not).
    Portrait(
        Box<cf_engine::PortraitOrder<HandlerId>>,
        Result<cf_engine::Photo, cf_protocol::MorphProblem>,
    ),
    /// A photo's `Analyse`, after the browser decoded it (or could not: `None`).
    Decoded {
        from: HandlerId,
        request: Request,
        decoded: Option<(cf_engine::Photo, f64)>,
    },
}

/// `performance.now()` in the worker.
#[cfg(feature = "worker")]
#[derive(Clone, Copy, Default)]
pub struct BrowserClock;

#[cfg(feature = "worker")]
impl cf_engine::Clock for BrowserClock {
    fn now(&self) -> f64 {
        crate::fetch::now_ms()
    }
}

impl Worker for FaceWorker {
    #[cfg(feature = "worker")]
    type Message = Message;
    #[cfg(not(feature = "worker"))]
    type Message = ();
    type Input = Request;
    type Output = Reply;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        FaceWorker {
            #[cfg(feature = "worker")]
            engine: cf_engine::Engine::new(BrowserClock),
            #[cfg(feature = "worker")]
            turn_scheduled: false,
            #[cfg(feature = "worker")]
            newest_photo_seq: 0,
            #[cfg(feature = "worker")]
            decoder_warmed: false,
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, message: Self::Message) {
        #[cfg(feature = "worker")]
        {
            let commands = match message {
                Message::Turn => {
                    self.turn_scheduled = false;
                    self.engine.step()
                }
                Message::Loaded(loaded) => {
                    // The first photo's decoding finds the browser's decoder started and the
                    // conversion compiled, unless a photo came first and did that itself.
                    if !self.decoder_warmed && self.newest_photo_seq == 0 {
                        self.decoder_warmed = true;
                        wasm_bindgen_futures::spawn_local(crate::decode::warm_up());
                    }
                    self.engine.loaded(*loaded)
                }
                Message::Portrait(order, portrait) => {
                    self.engine.portrait_arrived(*order, portrait)
                }
                Message::Decoded {
                    from,
                    request,
                    decoded,
                } => {
                    let Request::Analyse { seq, .. } = request else {
                        return;
                    };
                    if seq < self.newest_photo_seq {
                        return;
                    }
                    if let Some((photo, decode_ms)) = decoded {
                        self.engine.decoded_elsewhere(seq, photo, decode_ms);
                    }
                    self.engine.received(from, request);
                    Vec::new()
                }
            };
            self.carry_out(scope, commands);
            self.schedule_turn(scope);
        }
        #[cfg(not(feature = "worker"))]
        let _ = (scope, message);
    }

    fn received(&mut self, scope: &WorkerScope<Self>, request: Request, id: HandlerId) {
        #[cfg(feature = "worker")]
        {
            if let Request::Analyse {
                seq, photo, bytes, ..
            } = &request
            {
                self.newest_photo_seq = self.newest_photo_seq.max(*seq);
                // The engine's warm-up ends now, not once the photo is decoded.
                self.engine.photo_coming();
                // Said before decoding, so that the page shows the photo at once.
                if cf_engine::plan_decode(bytes).is_ok() {
                    scope.respond(
                        id,
                        Reply::Readable {
                            seq: *seq,
                            photo: *photo,
                        },
                    );
                }
                scope.send_future(async move {
                    let decoded = match &request {
                        Request::Analyse { bytes, .. } => crate::decode::photo(bytes).await,
                        _ => None,
                    };
                    Message::Decoded {
                        from: id,
                        request,
                        decoded,
                    }
                });
                return;
            }
            self.engine.received(id, request);
            self.schedule_turn(scope);
        }
        #[cfg(not(feature = "worker"))]
        let _ = (scope, request, id);
    }
}

#[cfg(feature = "worker")]
impl FaceWorker {
    fn schedule_turn(&mut self, scope: &WorkerScope<Self>) {
        if self.turn_scheduled || !self.engine.has_work() {
            return;
        }
        self.turn_scheduled = true;
        scope.send_future(async {
            next_turn().await;
            Message::Turn
        });
    }

    fn carry_out(
        &mut self,
        scope: &WorkerScope<Self>,
        commands: Vec<cf_engine::Command<HandlerId>>,
    ) {
        for command in commands {
            match command {
                cf_engine::Command::Reply(to, reply) => scope.respond(to, reply),
                cf_engine::Command::Portrait(order) => {
                    scope.send_future(async move {
                        let portrait = portrait(&order.url).await;
                        Message::Portrait(Box::new(order), portrait)
                    });
                }
                cf_engine::Command::Load(order) => {
                    let reporter = scope.clone();
                    let (asker, network) = (order.asker, order.network.clone());
                    scope.send_future(async move {
                        let report = move |stage, done, total| {
                            reporter.respond(
                                asker,
                                Reply::Progress {
                                    network: network.clone(),
                                    stage,
                                    done,
                                    total,
                                },
                            )
                        };
                        let loaded = order
                            .run(&crate::fetch::BrowserStore, &BrowserClock, &report)
                            .await;
                        Message::Loaded(Box::new(loaded))
                    });
                }
            }
        }
    }
}

/// A celebrity's portrait for a morph, decoded as a visitor's photo is.
#[cfg(feature = "worker")]
async fn portrait(url: &str) -> Result<cf_engine::Photo, cf_protocol::MorphProblem> {
    use cf_protocol::MorphProblem;
    use cf_shards::{DownloadError, FileStore};
    let bytes = crate::fetch::BrowserStore
        .download(url, &mut |_| {})
        .await
        .map_err(|error| MorphProblem::PortraitUnreachable {
            detail: match error {
                DownloadError::Unreachable(words) => words,
                DownloadError::Http(status) => format!("HTTP {status} for {url}"),
            },
        })?;
    match crate::decode::photo(&bytes).await {
        Some((photo, _)) => Ok(photo),
        None => cf_engine::Photo::decode(&bytes).map_err(|error| MorphProblem::NoFaceInPortrait {
            detail: error.to_string(),
        }),
    }
}

/// Resolves on a later turn of the event loop, after the messages already queued.
#[cfg(feature = "worker")]
async fn next_turn() {
    use wasm_bindgen::JsCast;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>();
        let _ = global.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
