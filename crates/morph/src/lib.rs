//! The "average face": a morph from a visitor's face to a celebrity's.
//!
//! Both faces are first cut into one square frame, their eyes, nose and mouth where a template
//! puts them ([`cut_morph_face`]). Their 68 landmarks are completed with points on the forehead
//! (which the 68 lack) and on the frame's border, so that the mesh covers every pixel
//! ([`control_points`]). For a blend `t`, the two point sets are interpolated, the blended
//! shape is triangulated (Delaunay, with the `delaunator` crate), each face is warped
//! piecewise-affinely onto it, and the two warps are cross-dissolved ([`Morph::frame`]).
//! Warping shapes before mixing colours is what keeps a single pair of eyes and one mouth in
//! the middle frames, where a plain cross-dissolve shows two ghosted ones.
//!
//! Pure maths on plain buffers, tested natively; the browser's morph worker and `cfaces
//! eval-morph` run the same code.

mod animation;
mod frame;
mod mesh;
#[cfg(test)]
mod test_faces;
mod warp;

pub use cf_align::Point;

pub use animation::{GIF_FRAME_DELAY_CS, GIF_FRAMES, encode_gif, there_and_back};
pub use frame::{FRAME_TEMPLATE, MORPH_SIDE, MorphFace, control_points, cut_morph_face};
pub use mesh::triangulate;
pub use warp::Morph;

/// Why a morph cannot be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MorphError {
    #[error("a face needs its 68 landmarks, not {0}")]
    Landmarks(usize),
    #[error("the landmarks do not place the eyes, nose and mouth apart")]
    Degenerate,
    #[error("the picture is {got} bytes, not {expected} ({side} x {side} RGB)")]
    PictureSize {
        got: usize,
        expected: usize,
        side: usize,
    },
    #[error("the photo is {got} bytes, not {width} x {height} RGB")]
    PhotoBytes {
        got: usize,
        width: usize,
        height: usize,
    },
    #[error("the animation could not be written: {0}")]
    Gif(String),
}
