//! The CelebrityFaces page: a thin Yew shell over the pure search crates.

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod loader;

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("celebrityfaces is a browser app: build it with `trunk build` (see README.md).");
}
