//! The CelebrityFaces page: a thin Yew shell. The face pipeline and the search run in the worker
//! (src/bin/worker.rs); this program shows the photo, the boxes and the matches.

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod dev;
#[cfg(target_arch = "wasm32")]
mod embed;
#[cfg(target_arch = "wasm32")]
mod intake;
#[cfg(target_arch = "wasm32")]
mod link;
#[cfg(target_arch = "wasm32")]
mod matches;
#[cfg(target_arch = "wasm32")]
mod morph_view;
#[cfg(target_arch = "wasm32")]
mod photo_view;
#[cfg(target_arch = "wasm32")]
mod share;
#[cfg(target_arch = "wasm32")]
mod styled;
#[cfg(target_arch = "wasm32")]
mod views;

#[cfg(target_arch = "wasm32")]
fn main() {
    let worker = link::WorkerLink::spawn();
    yew::Renderer::<app::App>::with_props(app::AppProps { worker }).render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("celebrityfaces is a browser app: build it with `trunk build` (see README.md).");
}
