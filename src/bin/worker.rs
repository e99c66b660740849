//! The page's worker: face pipeline and search off the main thread (see `celebrityfaces::worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    celebrityfaces::worker::FaceWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser: build the page with `trunk build` (see README.md).");
}
