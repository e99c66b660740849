//! The morph worker: the "average face" of the visitor and a celebrity, off the main thread
//! (see `celebrityfaces::morph_worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    celebrityfaces::morph_worker::MorphWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "the morph worker runs in a browser: build the page with `trunk build` (see README.md)."
    );
}
