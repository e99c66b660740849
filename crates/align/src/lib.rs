//! Face alignment: the similarity transform (rotation, uniform scale, translation) that best maps
//! a face's five landmarks onto the template an embedding network was trained with, and the
//! bilinear warp that cuts the aligned crop out of the photo.
//!
//! Pure maths on plain slices: the same code aligns faces natively (index builder) and in the
//! browser (visitor's photo), so both sides of a comparison see identical crops.

mod template;
mod transform;
mod turn;
mod warp;

pub use template::{ARCFACE_112, FivePoints, LayoutFault, face_layout_fault, five_from_68};
pub use transform::{Point, Similarity};
pub use turn::Turn;
pub use warp::{RgbImage, resize_region_rgb, warp_rgb};
