//! Cutting an aligned crop out of a photo.

use crate::{Point, Similarity};

/// A borrowed 8-bit RGB image, rows top to bottom, 3 bytes a pixel.
#[derive(Clone, Copy, Debug)]
pub struct RgbImage<'a> {
    pub width: usize,
    pub height: usize,
    pub pixels: &'a [u8],
}

impl RgbImage<'_> {
    /// Bilinear sample at `(x, y)`, black outside the image, rounded to bytes.
    #[inline]
    fn bilinear(&self, x: f32, y: f32) -> [u8; 3] {
        if !x.is_finite() || !y.is_finite() {
            return [0; 3];
        }
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as isize, y0 as isize);
        let (c00, c10) = (self.at(x0, y0), self.at(x0 + 1, y0));
        let (c01, c11) = (self.at(x0, y0 + 1), self.at(x0 + 1, y0 + 1));
        let mut out = [0u8; 3];
        for c in 0..3 {
            let top = c00[c] + (c10[c] - c00[c]) * fx;
            let bottom = c01[c] + (c11[c] - c01[c]) * fx;
            out[c] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
        }
        out
    }

    /// The channel values at integer `(x, y)`, or black outside the image.
    #[inline]
    fn at(&self, x: isize, y: isize) -> [f32; 3] {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return [0.0; 3];
        }
        let i = 3 * (y as usize * self.width + x as usize);
        [
            f32::from(self.pixels[i]),
            f32::from(self.pixels[i + 1]),
            f32::from(self.pixels[i + 2]),
        ]
    }
}

/// Resamples the region `(x, y, w, h)` of `photo` (pixel units, may reach outside it: black
/// there) to `width x height` bilinearly, with OpenCV's `resize` convention of pixel centres at
/// half-integers. The detector's input and the landmark crop are made this way. Returns RGB
/// bytes, or `None` when `photo.pixels` has the wrong length or the region is empty.
pub fn resize_region_rgb(
    photo: RgbImage<'_>,
    region: (f32, f32, f32, f32),
    width: usize,
    height: usize,
) -> Option<Vec<u8>> {
    let (x, y, w, h) = region;
    if photo.pixels.len() != 3 * photo.width * photo.height
        || !(w > 0.0 && h > 0.0 && x.is_finite() && y.is_finite())
    {
        return None;
    }
    let (sx, sy) = (w / width as f32, h / height as f32);
    let mut out = vec![0u8; 3 * width * height];
    for v in 0..height {
        let py = y + (v as f32 + 0.5) * sy - 0.5;
        for u in 0..width {
            let px = x + (u as f32 + 0.5) * sx - 0.5;
            let i = 3 * (v * width + u);
            out[i..i + 3].copy_from_slice(&photo.bilinear(px, py));
        }
    }
    Some(out)
}

/// The `width x height` crop whose pixel `(u, v)` shows the photo at `to_crop⁻¹(u, v)`, sampled
/// bilinearly, black outside the photo (OpenCV's `warpAffine` with a constant border, the
/// convention the networks' reference pipelines used). Returns RGB bytes, or `None` when
/// `to_crop` cannot be inverted or `photo.pixels` is not `3 · width · height` long.
pub fn warp_rgb(
    photo: RgbImage<'_>,
    to_crop: &Similarity,
    width: usize,
    height: usize,
) -> Option<Vec<u8>> {
    if photo.pixels.len() != 3 * photo.width * photo.height {
        return None;
    }
    let to_photo = to_crop.inverse()?;
    let mut out = vec![0u8; 3 * width * height];
    for v in 0..height {
        for u in 0..width {
            let p = to_photo.apply(Point::new(u as f32, v as f32));
            let i = 3 * (v * width + u);
            out[i..i + 3].copy_from_slice(&photo.bilinear(p.x, p.y));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: usize, height: usize) -> Vec<u8> {
        let mut pixels = Vec::with_capacity(3 * width * height);
        for y in 0..height {
            for x in 0..width {
                pixels.extend([(x * 10) as u8, (y * 10) as u8, 128]);
            }
        }
        pixels
    }

    #[test]
    fn identity_copies_and_a_shift_moves_with_black_borders() {
        let pixels = gradient(8, 6);
        let photo = RgbImage {
            width: 8,
            height: 6,
            pixels: &pixels,
        };
        assert_eq!(
            warp_rgb(photo, &Similarity::IDENTITY, 8, 6).unwrap(),
            pixels
        );

        // Crop = photo shifted right by 2: crop (u, v) shows photo (u - 2, v).
        let shift = Similarity {
            tx: 2.0,
            ..Similarity::IDENTITY
        };
        let out = warp_rgb(photo, &shift, 8, 6).unwrap();
        assert_eq!(
            &out[..6],
            &[0; 6],
            "columns 0 and 1 come from outside the photo"
        );
        assert_eq!(&out[6..9], &pixels[..3]);
    }

    #[test]
    fn half_pixel_positions_are_interpolated() {
        let pixels = gradient(8, 6);
        let photo = RgbImage {
            width: 8,
            height: 6,
            pixels: &pixels,
        };
        // Crop (u, v) shows photo (u + 0.5, v): red halfway between neighbours.
        let half = Similarity {
            tx: -0.5,
            ..Similarity::IDENTITY
        };
        let out = warp_rgb(photo, &half, 4, 1).unwrap();
        assert_eq!(out[0], 5);
        assert_eq!(out[3], 15);
        assert_eq!(out[2], 128);
    }

    #[test]
    fn a_scaled_rotated_crop_lands_the_template_points() {
        // A photo with a bright dot; the crop transform must carry the dot to the target spot.
        let (w, h) = (200, 160);
        let mut pixels = vec![0u8; 3 * w * h];
        let dot = Point::new(123.0, 77.0);
        for c in 0..3 {
            pixels[3 * (77 * w + 123) + c] = 255;
        }
        let angle = 0.3f32;
        let to_crop = Similarity {
            a: 0.5 * angle.cos(),
            b: 0.5 * angle.sin(),
            tx: 10.0,
            ty: -20.0,
        };
        let target = to_crop.apply(dot);
        let out = warp_rgb(
            RgbImage {
                width: w,
                height: h,
                pixels: &pixels,
            },
            &to_crop,
            112,
            112,
        )
        .unwrap();
        // Downscaling by 2 spreads the dot over neighbouring crop pixels; the brightest one is
        // next to where the transform puts it.
        let brightest = (0..112 * 112).max_by_key(|&i| out[3 * i]).unwrap();
        let (u, v) = ((brightest % 112) as f32, (brightest / 112) as f32);
        assert!((u - target.x).abs() <= 1.0 && (v - target.y).abs() <= 1.0);
    }

    #[test]
    fn region_resizing_follows_opencv_centres() {
        let pixels = gradient(8, 6);
        let photo = RgbImage {
            width: 8,
            height: 6,
            pixels: &pixels,
        };
        // The whole image at its own size is a copy.
        assert_eq!(
            resize_region_rgb(photo, (0.0, 0.0, 8.0, 6.0), 8, 6).unwrap(),
            pixels
        );
        // Halving: output pixel 0 samples at source x = 0.5, between red 0 and 10.
        let half = resize_region_rgb(photo, (0.0, 0.0, 8.0, 6.0), 4, 3).unwrap();
        assert_eq!(half[0], 5);
        assert_eq!(half[3], 25);
        // A region partly outside the photo is black there.
        let outside = resize_region_rgb(photo, (-4.0, 0.0, 4.0, 1.0), 4, 1).unwrap();
        assert_eq!(&outside[..9], &[0; 9]);
        assert!(resize_region_rgb(photo, (0.0, 0.0, 0.0, 1.0), 4, 1).is_none());
    }

    #[test]
    fn bad_inputs_give_none() {
        let photo = RgbImage {
            width: 4,
            height: 4,
            pixels: &[0; 10],
        };
        assert!(warp_rgb(photo, &Similarity::IDENTITY, 2, 2).is_none());
        let degenerate = Similarity {
            a: 0.0,
            b: 0.0,
            tx: 0.0,
            ty: 0.0,
        };
        let ok = RgbImage {
            width: 1,
            height: 1,
            pixels: &[1, 2, 3],
        };
        assert!(warp_rgb(ok, &degenerate, 2, 2).is_none());
    }
}
