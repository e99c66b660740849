//! A face box as the page draws it and the worker reads it.

use serde::{Deserialize, Serialize};

/// The smallest box side, in photo pixels, that the landmark network can still read.
pub const MIN_FACE_SIDE: f32 = 16.0;

/// A face box in the pixels of the photo as the worker decoded it (upright, downscaled).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct FaceRect {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    /// How the face lies in the box, in quarter turns clockwise (0 upright, 1 its top to the
    /// right, 2 upside down, 3 its top to the left: cf-face's `Turn`), as the detector found
    /// it; a box the visitor draws is taken as upright, one moved or resized keeps its turn.
    pub quarter_turns: u8,
}

impl FaceRect {
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }
    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    /// The same box with its corners ordered (a box drawn up or leftwards is still a box).
    pub fn ordered(&self) -> FaceRect {
        FaceRect {
            x1: self.x1.min(self.x2),
            y1: self.y1.min(self.y2),
            x2: self.x1.max(self.x2),
            y2: self.y1.max(self.y2),
            quarter_turns: self.quarter_turns,
        }
    }

    /// True when both sides are at least [`MIN_FACE_SIDE`].
    pub fn readable(&self) -> bool {
        let rect = self.ordered();
        rect.width() >= MIN_FACE_SIDE && rect.height() >= MIN_FACE_SIDE
    }

    /// The same box with its corners ordered and kept inside a `width` x `height` photo.
    pub fn normalised(&self, width: f32, height: f32) -> FaceRect {
        let rect = self.ordered();
        FaceRect {
            x1: rect.x1.clamp(0.0, width),
            y1: rect.y1.clamp(0.0, height),
            x2: rect.x2.clamp(0.0, width),
            y2: rect.y2.clamp(0.0, height),
            quarter_turns: rect.quarter_turns,
        }
    }

    /// Moved by (`dx`, `dy`) without leaving a `width` x `height` photo; the size is kept.
    pub fn moved(&self, dx: f32, dy: f32, width: f32, height: f32) -> FaceRect {
        let dx = dx.clamp(-self.x1, width - self.x2);
        let dy = dy.clamp(-self.y1, height - self.y2);
        FaceRect {
            x1: self.x1 + dx,
            y1: self.y1 + dy,
            x2: self.x2 + dx,
            y2: self.y2 + dy,
            quarter_turns: self.quarter_turns,
        }
    }

    /// With one corner dragged by (`dx`, `dy`): the left or right side, the top or bottom one.
    pub fn resized(
        &self,
        left: bool,
        top: bool,
        dx: f32,
        dy: f32,
        width: f32,
        height: f32,
    ) -> FaceRect {
        let mut rect = *self;
        if left {
            rect.x1 += dx;
        } else {
            rect.x2 += dx;
        }
        if top {
            rect.y1 += dy;
        } else {
            rect.y2 += dy;
        }
        rect.normalised(width, height)
    }
}

#[cfg(feature = "face")]
impl From<cf_face::FaceBox> for FaceRect {
    fn from(face: cf_face::FaceBox) -> FaceRect {
        FaceRect {
            x1: face.x1,
            y1: face.y1,
            x2: face.x2,
            y2: face.y2,
            quarter_turns: face.turn.quarters(),
        }
    }
}

/// A box from the page is the visitor's own: as sure as a face can be.
#[cfg(feature = "face")]
impl From<FaceRect> for cf_face::FaceBox {
    fn from(rect: FaceRect) -> cf_face::FaceBox {
        cf_face::FaceBox {
            turn: cf_face::Turn::from_quarters(rect.quarter_turns),
            ..cf_face::FaceBox::new([rect.x1, rect.y1, rect.x2, rect.y2], 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_ordered_and_kept_inside_the_photo() {
        let drawn = FaceRect {
            x1: 120.0,
            y1: -5.0,
            x2: 20.0,
            y2: 80.0,
            quarter_turns: 0,
        };
        let inside = drawn.normalised(100.0, 60.0);
        assert_eq!(
            inside,
            FaceRect {
                x1: 20.0,
                y1: 0.0,
                x2: 100.0,
                y2: 60.0,
                quarter_turns: 0,
            }
        );
        let moved = inside.moved(50.0, -10.0, 100.0, 60.0);
        assert_eq!((moved.x1, moved.x2, moved.y1), (20.0, 100.0, 0.0));
        let left = inside.moved(-30.0, 0.0, 100.0, 60.0);
        assert_eq!((left.x1, left.x2), (0.0, 80.0));
        assert_eq!(left.area(), 80.0 * 60.0);
    }

    #[test]
    fn a_dragged_corner_resizes_and_may_cross_the_opposite_side_keeping_the_turn() {
        let rect = FaceRect {
            x1: 10.0,
            y1: 10.0,
            x2: 50.0,
            y2: 40.0,
            quarter_turns: 2,
        };
        let bigger = rect.resized(false, false, 20.0, 5.0, 100.0, 100.0);
        assert_eq!((bigger.x2, bigger.y2), (70.0, 45.0));
        // An upside-down face stays upside down in its resized or moved box.
        assert_eq!(bigger.quarter_turns, 2);
        assert_eq!(rect.moved(5.0, 5.0, 100.0, 100.0).quarter_turns, 2);
        let crossed = rect.resized(true, true, 60.0, 0.0, 100.0, 100.0);
        assert_eq!((crossed.x1, crossed.x2), (50.0, 70.0));
        let outside = rect.resized(true, true, -30.0, -30.0, 100.0, 100.0);
        assert_eq!((outside.x1, outside.y1), (0.0, 0.0));
    }

    #[test]
    fn a_box_is_readable_from_the_smallest_side_the_landmarks_need() {
        let square = |side| FaceRect {
            x1: 0.0,
            y1: side,
            x2: side,
            y2: 0.0,
            quarter_turns: 0,
        };
        assert!(square(MIN_FACE_SIDE).readable());
        assert!(!square(MIN_FACE_SIDE - 0.5).readable());
    }
}
