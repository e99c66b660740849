//! Quarter turns of an image: how a face lies in a photo (its top pointing up, right, down or
//! left), the pixels turned exactly (no resampling), and where a point of the turned image was
//! before the turn. The detector looks at a photo turned so that a face lying on its side or
//! upside down stands upright, and the landmark network reads such a face from its box turned
//! the same way; both then carry their points back into the photo with
//! [`Turn::point_before`].

/// A turn by a whole number of quarter turns, clockwise. As a face's `turn`: how the face lies
/// in the photo ([`Turn::Clockwise`]: its top points right); turning the photo by
/// [`Turn::undone`] stands it upright.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Turn {
    #[default]
    Upright,
    /// A quarter turn clockwise: a face so turned has its top to the right.
    Clockwise,
    /// A half turn: upside down.
    Half,
    /// A quarter turn anticlockwise: a face so turned has its top to the left.
    Anticlockwise,
}

impl Turn {
    /// Every turn, [`Turn::Upright`] first.
    pub const ALL: [Turn; 4] = [
        Turn::Upright,
        Turn::Clockwise,
        Turn::Half,
        Turn::Anticlockwise,
    ];

    /// Quarter turns clockwise, 0 to 3.
    pub fn quarters(self) -> u8 {
        match self {
            Turn::Upright => 0,
            Turn::Clockwise => 1,
            Turn::Half => 2,
            Turn::Anticlockwise => 3,
        }
    }

    /// The turn of `quarters` quarter turns clockwise (any number: taken modulo 4).
    pub fn from_quarters(quarters: u8) -> Turn {
        Turn::ALL[usize::from(quarters % 4)]
    }

    /// Degrees clockwise.
    pub fn degrees(self) -> u16 {
        90 * u16::from(self.quarters())
    }

    /// The turn that undoes this one.
    pub fn undone(self) -> Turn {
        Turn::from_quarters(4 - self.quarters())
    }

    /// The size of a `width` x `height` image once turned.
    pub fn turned_size(self, (width, height): (usize, usize)) -> (usize, usize) {
        match self {
            Turn::Upright | Turn::Half => (width, height),
            Turn::Clockwise | Turn::Anticlockwise => (height, width),
        }
    }

    /// The pixels of a `width` x `height` image of `channels` bytes a pixel, turned; `None`
    /// when `pixels` has another length. Exact: each pixel is moved, none is resampled.
    pub fn turn_pixels(
        self,
        pixels: &[u8],
        (width, height): (usize, usize),
        channels: usize,
    ) -> Option<Vec<u8>> {
        if pixels.len() != width * height * channels {
            return None;
        }
        if self == Turn::Upright {
            return Some(pixels.to_vec());
        }
        let (turned_width, _) = self.turned_size((width, height));
        let mut turned = vec![0u8; pixels.len()];
        for (index, pixel) in pixels.chunks_exact(channels).enumerate() {
            let (x, y) = (index % width, index / width);
            let (u, v) = match self {
                Turn::Upright => (x, y),
                Turn::Clockwise => (height - 1 - y, x),
                Turn::Half => (width - 1 - x, height - 1 - y),
                Turn::Anticlockwise => (y, width - 1 - x),
            };
            let at = (v * turned_width + u) * channels;
            turned[at..at + channels].copy_from_slice(pixel);
        }
        Some(turned)
    }

    /// The point (`u`, `v`) of a `width` x `height` image turned by this turn, where it was in
    /// the image before the turn (continuous coordinates: the image spans [0, width] x [0,
    /// height], as in [`Turn::turn_pixels`] with pixel centres at half-integers).
    pub fn point_before(self, (u, v): (f32, f32), (width, height): (f32, f32)) -> (f32, f32) {
        match self {
            Turn::Upright => (u, v),
            Turn::Clockwise => (v, height - u),
            Turn::Half => (width - u, height - v),
            Turn::Anticlockwise => (width - v, u),
        }
    }

    /// The box (`x1`, `y1`, `x2`, `y2`) of a `width` x `height` image turned by this turn, as
    /// the box it was before the turn, its corners ordered.
    pub fn box_before(self, [x1, y1, x2, y2]: [f32; 4], size: (f32, f32)) -> [f32; 4] {
        let (ax, ay) = self.point_before((x1, y1), size);
        let (bx, by) = self.point_before((x2, y2), size);
        [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 x 2 image whose pixel (x, y) holds 10 y + x, one byte a pixel.
    const IMAGE: [u8; 6] = [0, 1, 2, 10, 11, 12];

    #[test]
    fn a_quarter_turn_clockwise_puts_the_left_column_on_top() {
        let turned = Turn::Clockwise.turn_pixels(&IMAGE, (3, 2), 1).unwrap();
        // 2 x 3: the bottom-left pixel (10) now top left, the top-left (0) top right.
        assert_eq!(turned, [10, 0, 11, 1, 12, 2]);
        let back = Turn::Anticlockwise.turn_pixels(&turned, (2, 3), 1).unwrap();
        assert_eq!(back, IMAGE);
        assert_eq!(
            Turn::Half.turn_pixels(&IMAGE, (3, 2), 1).unwrap(),
            [12, 11, 10, 2, 1, 0]
        );
    }

    #[test]
    fn each_pixel_centre_maps_back_where_it_came_from() {
        let (width, height) = (5usize, 3usize);
        let image: Vec<u8> = (0..(width * height) as u8)
            .flat_map(|i| [i, 255 - i])
            .collect();
        for turn in Turn::ALL {
            let turned = turn.turn_pixels(&image, (width, height), 2).unwrap();
            let (turned_width, turned_height) = turn.turned_size((width, height));
            for v in 0..turned_height {
                for u in 0..turned_width {
                    let centre = (u as f32 + 0.5, v as f32 + 0.5);
                    let (x, y) = turn.point_before(centre, (width as f32, height as f32));
                    let before = (y as usize) * width + x as usize;
                    let at = 2 * (v * turned_width + u);
                    assert_eq!(
                        &turned[at..at + 2],
                        &image[2 * before..2 * before + 2],
                        "{turn:?} at ({u}, {v})"
                    );
                    assert_eq!((x.fract(), y.fract()), (0.5, 0.5));
                }
            }
        }
    }

    #[test]
    fn turns_compose_and_undo() {
        for turn in Turn::ALL {
            assert_eq!(Turn::from_quarters(turn.quarters()), turn);
            assert_eq!(
                Turn::from_quarters(turn.quarters() + turn.undone().quarters()),
                Turn::Upright
            );
        }
        assert_eq!(Turn::Clockwise.degrees(), 90);
        assert_eq!(Turn::Anticlockwise.undone(), Turn::Clockwise);
        assert_eq!(Turn::Half.undone(), Turn::Half);
        assert_eq!(
            Turn::Clockwise.box_before([0.0, 0.0, 1.0, 2.0], (4.0, 3.0)),
            [0.0, 2.0, 2.0, 3.0]
        );
        assert_eq!(Turn::Clockwise.turn_pixels(&IMAGE, (2, 2), 1), None);
    }
}
