//! A JPEG's decoded colour planes to RGB, converted as JPEG decoders convert them: JFIF's
//! BT.601 at full range, subsampled colour brought to full size by a triangle filter. The page
//! gets the planes from the browser's decoder (native, and faster than decoding in wasm) and
//! converts them here, so that its pixels are the image crate's (zune-jpeg's
//! fixed-point arithmetic and rounding) and not the browser's own video conversion, whose
//! colours differ enough to reorder near matches.

/// How a JPEG's two colour planes are sampled against its brightness plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChromaSampling {
    /// 4:4:4: one colour sample per pixel.
    Full,
    /// 4:2:2: one colour sample per two pixels of a row.
    HalfWidth,
    /// 4:2:0: one colour sample per two by two pixels (what most cameras store).
    HalfWidthHalfHeight,
}

impl ChromaSampling {
    /// The size of a colour plane of a `width` x `height` image.
    pub fn plane_size(self, width: usize, height: usize) -> (usize, usize) {
        match self {
            ChromaSampling::Full => (width, height),
            ChromaSampling::HalfWidth => (width.div_ceil(2), height),
            ChromaSampling::HalfWidthHalfHeight => (width.div_ceil(2), height.div_ceil(2)),
        }
    }
}

/// One plane of samples, `stride` bytes from a row to the next.
#[derive(Clone, Copy, Debug)]
pub struct Plane<'a> {
    pub samples: &'a [u8],
    pub stride: usize,
}

impl Plane<'_> {
    /// Row `row`, `width` samples; `None` where the plane is too short for it.
    fn row(&self, row: usize, width: usize) -> Option<&[u8]> {
        let start = row.checked_mul(self.stride)?;
        self.samples.get(start..start.checked_add(width)?)
    }
}

/// A decoded JPEG's planes before colour conversion.
#[derive(Clone, Copy, Debug)]
pub struct YCbCrPlanes<'a> {
    pub width: usize,
    pub height: usize,
    pub chroma: ChromaSampling,
    pub luma: Plane<'a>,
    pub blue_difference: Plane<'a>,
    pub red_difference: Plane<'a>,
}

// BT.601 at full range, inverse, in 14-bit fixed point: the arithmetic (and so the rounding)
// of zune-jpeg, the image crate's JPEG decoder.
const PRECISION: u32 = 14;
const ROUNDING: i32 = (1 << (PRECISION - 1)) - 1;
const LUMA: i32 = 16384; // 1.0
const RED_FROM_CR: i32 = 22970; // 1.402
const BLUE_FROM_CB: i32 = 29032; // 1.772
const GREEN_FROM_CR: i32 = -11700; // -0.714136
const GREEN_FROM_CB: i32 = -5638; // -0.344136

impl YCbCrPlanes<'_> {
    /// The image as RGB, 3 bytes a pixel, rows top to bottom; `None` where a plane is smaller
    /// than the size and sampling say, or the image is empty.
    pub fn to_rgb(&self) -> Option<Vec<u8>> {
        let (width, height) = (self.width, self.height);
        if width == 0 || height == 0 {
            return None;
        }
        let (chroma_width, chroma_height) = self.chroma.plane_size(width, height);
        // Every row the conversion reads, checked once before it starts.
        self.luma.row(height - 1, width)?;
        self.blue_difference.row(chroma_height - 1, chroma_width)?;
        self.red_difference.row(chroma_height - 1, chroma_width)?;

        let mut rgb = vec![0u8; 3 * width * height];
        let mut blue = vec![0u8; width];
        let mut red = vec![0u8; width];
        let mut blue_rows = vec![0u8; chroma_width];
        let mut red_rows = vec![0u8; chroma_width];
        for (row, out) in rgb.chunks_exact_mut(3 * width).enumerate() {
            let luma = self.luma.row(row, width)?;
            match self.chroma {
                ChromaSampling::Full => {
                    blue.copy_from_slice(self.blue_difference.row(row, width)?);
                    red.copy_from_slice(self.red_difference.row(row, width)?);
                }
                ChromaSampling::HalfWidth => {
                    widen(self.blue_difference.row(row, chroma_width)?, &mut blue);
                    widen(self.red_difference.row(row, chroma_width)?, &mut red);
                }
                ChromaSampling::HalfWidthHalfHeight => {
                    let (near, far) = chroma_rows(row, chroma_height);
                    blend_rows(&self.blue_difference, near, far, &mut blue_rows)?;
                    blend_rows(&self.red_difference, near, far, &mut red_rows)?;
                    widen(&blue_rows, &mut blue);
                    widen(&red_rows, &mut red);
                }
            }
            convert_row(luma, &blue, &red, out);
        }
        Some(rgb)
    }
}

/// The colour rows an image row is made of in 4:2:0: the one it lies in, weighted 3, and the
/// nearer neighbour, weighted 1 (the row itself at the plane's edges).
fn chroma_rows(row: usize, chroma_height: usize) -> (usize, usize) {
    let near = row / 2;
    let far = if row.is_multiple_of(2) {
        near.saturating_sub(1)
    } else {
        (near + 1).min(chroma_height - 1)
    };
    (near, far)
}

/// `(3 near + far + 2) / 4`, sample by sample: the triangle filter down a column.
fn blend_rows(plane: &Plane, near: usize, far: usize, out: &mut [u8]) -> Option<()> {
    let near = plane.row(near, out.len())?;
    let far = plane.row(far, out.len())?;
    for ((out, &near), &far) in out.iter_mut().zip(near).zip(far) {
        *out = ((3 * u16::from(near) + u16::from(far) + 2) >> 2) as u8;
    }
    Some(())
}

/// Each sample of `half` made two of `out` by the triangle filter along the row: weighted 3,
/// with the neighbour on that side weighted 1 (the sample itself at the row's ends). `out` is
/// twice `half` long, or one shorter (an odd width).
fn widen(half: &[u8], out: &mut [u8]) {
    out[0] = half[0];
    // Between two neighbouring samples lie two pixels, each nearer one of them.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd::widen_sixteens(half, &mut out[1..]);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    let pairs = out[1 + 2 * done..].chunks_exact_mut(2);
    for (pair, neighbours) in pairs.zip(half[done..].windows(2)) {
        let (left, right) = (u16::from(neighbours[0]), u16::from(neighbours[1]));
        pair[0] = ((3 * left + right + 2) >> 2) as u8;
        pair[1] = ((left + 3 * right + 2) >> 2) as u8;
    }
    if out.len() == 2 * half.len() {
        out[out.len() - 1] = half[half.len() - 1];
    }
}

fn convert_row(luma: &[u8], blue: &[u8], red: &[u8], out: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd::convert_sixteens(luma, blue, red, out);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    let samples = luma[done..].iter().zip(&blue[done..]).zip(&red[done..]);
    for (pixel, ((&y, &cb), &cr)) in out[3 * done..].chunks_exact_mut(3).zip(samples) {
        let y = i32::from(y) * LUMA + ROUNDING;
        let cb = i32::from(cb) - 128;
        let cr = i32::from(cr) - 128;
        pixel[0] = to_byte((y + RED_FROM_CR * cr) >> PRECISION);
        pixel[1] = to_byte((y + GREEN_FROM_CR * cr + GREEN_FROM_CB * cb) >> PRECISION);
        pixel[2] = to_byte((y + BLUE_FROM_CB * cb) >> PRECISION);
    }
}

fn to_byte(value: i32) -> u8 {
    value.clamp(0, 255) as u8
}

/// The page's conversion sixteen pixels at a time (wasm's simd128; LLVM leaves these loops
/// scalar there, at ten times native's time): the same arithmetic, so the same bytes, as the
/// scalar loops, which finish each row (the browser's parity test holds both to JPEG's
/// per-pixel definition).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::{
        i8x16_shuffle, i16x8_narrow_i32x4, i16x8_splat, i16x8_sub, i32x4_add,
        i32x4_extend_high_i16x8, i32x4_extend_low_i16x8, i32x4_extmul_high_i16x8,
        i32x4_extmul_low_i16x8, i32x4_shl, i32x4_shr, i32x4_splat, u8x16_narrow_i16x8, u16x8_add,
        u16x8_extend_high_u8x16, u16x8_extend_low_u8x16, u16x8_mul, u16x8_shr, u16x8_splat, v128,
        v128_load, v128_store,
    };

    use super::{
        BLUE_FROM_CB, GREEN_FROM_CB, GREEN_FROM_CR, LUMA, PRECISION, RED_FROM_CR, ROUNDING,
    };

    fn load(bytes: &[u8]) -> v128 {
        assert!(bytes.len() >= 16);
        // SAFETY: 16 bytes are there (checked above); wasm's loads need no alignment.
        unsafe { v128_load(bytes.as_ptr().cast()) }
    }

    fn store(bytes: &mut [u8], value: v128) {
        assert!(bytes.len() >= 16);
        // SAFETY: as in `load`.
        unsafe { v128_store(bytes.as_mut_ptr().cast(), value) }
    }

    /// Where each byte of block `block` (0, 1 or 2) of sixteen interleaved RGB pixels comes
    /// from, in two shuffles: the first (`second` false) takes red from its first operand and
    /// green from its second and leaves blue's places; the second keeps those (its first
    /// operand) and takes blue from its second.
    const fn interleave(block: usize, second: bool) -> [usize; 16] {
        let mut indices = [0; 16];
        let mut byte = 0;
        while byte < 16 {
            let at = 16 * block + byte;
            let (pixel, channel) = (at / 3, at % 3);
            indices[byte] = match (second, channel) {
                (false, 0) => pixel,
                (false, 1) => 16 + pixel,
                (false, _) => 0,
                (true, 2) => 16 + pixel,
                (true, _) => byte,
            };
            byte += 1;
        }
        indices
    }

    macro_rules! shuffle {
        ($indices:expr, $a:expr, $b:expr) => {{
            const I: [usize; 16] = $indices;
            i8x16_shuffle::<
                { I[0] },
                { I[1] },
                { I[2] },
                { I[3] },
                { I[4] },
                { I[5] },
                { I[6] },
                { I[7] },
                { I[8] },
                { I[9] },
                { I[10] },
                { I[11] },
                { I[12] },
                { I[13] },
                { I[14] },
                { I[15] },
            >($a, $b)
        }};
    }

    /// Sixteen pixels of three channels (16 bytes each) as 48 bytes of RGB.
    fn store_interleaved(out: &mut [u8], r: v128, g: v128, b: v128) {
        let first = shuffle!(interleave(0, false), r, g);
        store(&mut out[0..16], shuffle!(interleave(0, true), first, b));
        let second = shuffle!(interleave(1, false), r, g);
        store(&mut out[16..32], shuffle!(interleave(1, true), second, b));
        let third = shuffle!(interleave(2, false), r, g);
        store(&mut out[32..48], shuffle!(interleave(2, true), third, b));
    }

    /// Red, green and blue of four pixels in 32-bit lanes, from the low or the high four of
    /// eight pixels' 16-bit lanes (the colour differences already centred on 0).
    fn four_pixels(y: v128, cb: v128, cr: v128, high: bool) -> [v128; 3] {
        let coefficient = |c: i32| i16x8_splat(c as i16);
        let times = |a, c| match high {
            false => i32x4_extmul_low_i16x8(a, coefficient(c)),
            true => i32x4_extmul_high_i16x8(a, coefficient(c)),
        };
        let y = match high {
            false => i32x4_extend_low_i16x8(y),
            true => i32x4_extend_high_i16x8(y),
        };
        debug_assert_eq!(LUMA, 1 << PRECISION);
        let y = i32x4_add(i32x4_shl(y, PRECISION), i32x4_splat(ROUNDING));
        let green = i32x4_add(times(cr, GREEN_FROM_CR), times(cb, GREEN_FROM_CB));
        [times(cr, RED_FROM_CR), green, times(cb, BLUE_FROM_CB)]
            .map(|products| i32x4_shr(i32x4_add(y, products), PRECISION))
    }

    /// Red, green and blue of eight pixels in 16-bit lanes, from the low or the high eight of
    /// sixteen pixels' bytes.
    fn eight_pixels(y: v128, cb: v128, cr: v128, high: bool) -> [v128; 3] {
        let widen = |v| match high {
            false => u16x8_extend_low_u8x16(v),
            true => u16x8_extend_high_u8x16(v),
        };
        let centre = i16x8_splat(128);
        let (y, cb, cr) = (
            widen(y),
            i16x8_sub(widen(cb), centre),
            i16x8_sub(widen(cr), centre),
        );
        let low = four_pixels(y, cb, cr, false);
        let high = four_pixels(y, cb, cr, true);
        [0, 1, 2].map(|channel| i16x8_narrow_i32x4(low[channel], high[channel]))
    }

    /// [`super::convert_row`] for the row's first whole sixteens of pixels; returns how many
    /// pixels it converted.
    pub(super) fn convert_sixteens(luma: &[u8], blue: &[u8], red: &[u8], out: &mut [u8]) -> usize {
        let sixteens = luma
            .chunks_exact(16)
            .zip(blue.chunks_exact(16))
            .zip(red.chunks_exact(16))
            .zip(out.chunks_exact_mut(48));
        let mut done = 0;
        for (((y, cb), cr), rgb) in sixteens {
            let (y, cb, cr) = (load(y), load(cb), load(cr));
            let low = eight_pixels(y, cb, cr, false);
            let high = eight_pixels(y, cb, cr, true);
            // Narrowing to bytes saturates: the clamp to 0..=255.
            let [r, g, b] =
                [0, 1, 2].map(|channel| u8x16_narrow_i16x8(low[channel], high[channel]));
            store_interleaved(rgb, r, g, b);
            done += 16;
        }
        done
    }

    /// [`super::widen`]'s pairs between neighbouring samples, sixteen samples at a time: the
    /// pairs of samples `0..16` (each with its right neighbour) into `out[..32]`, and so on
    /// while a neighbour is there; returns how many samples' pairs it wrote.
    pub(super) fn widen_sixteens(half: &[u8], out: &mut [u8]) -> usize {
        let mut done = 0;
        let (three, two) = (u16x8_splat(3), u16x8_splat(2));
        while done + 17 <= half.len() && 2 * done + 32 <= out.len() {
            let left = load(&half[done..]);
            let right = load(&half[done + 1..]);
            let mut nearer_left = [u16x8_splat(0); 2];
            let mut nearer_right = [u16x8_splat(0); 2];
            for part in 0..2 {
                let widen = |v| match part {
                    0 => u16x8_extend_low_u8x16(v),
                    _ => u16x8_extend_high_u8x16(v),
                };
                let (left, right) = (widen(left), widen(right));
                let weigh = |near, far| {
                    u16x8_shr(u16x8_add(u16x8_add(u16x8_mul(near, three), far), two), 2)
                };
                nearer_left[part] = weigh(left, right);
                nearer_right[part] = weigh(right, left);
            }
            // A pair's first pixel is nearer its left sample, its second nearer its right.
            let firsts = u8x16_narrow_i16x8(nearer_left[0], nearer_left[1]);
            let seconds = u8x16_narrow_i16x8(nearer_right[0], nearer_right[1]);
            let low = shuffle!(PAIRS_LOW, firsts, seconds);
            let high = shuffle!(PAIRS_HIGH, firsts, seconds);
            store(&mut out[2 * done..], low);
            store(&mut out[2 * done + 16..], high);
            done += 16;
        }
        done
    }

    /// The first eight pairs, and the last eight, each pair's first pixel then its second.
    const PAIRS_LOW: [usize; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
    const PAIRS_HIGH: [usize; 16] = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JFIF's forward conversion, in floating point, rounded.
    fn ycbcr_of(rgb: [u8; 3]) -> [u8; 3] {
        let [r, g, b] = rgb.map(f64::from);
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        let cb = 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
        let cr = 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
        [y, cb, cr].map(|v| v.round().clamp(0.0, 255.0) as u8)
    }

    fn planes_of<'a>(
        width: usize,
        height: usize,
        chroma: ChromaSampling,
        planes: &'a [Vec<u8>; 3],
    ) -> YCbCrPlanes<'a> {
        let chroma_width = chroma.plane_size(width, height).0;
        YCbCrPlanes {
            width,
            height,
            chroma,
            luma: Plane {
                samples: &planes[0],
                stride: width,
            },
            blue_difference: Plane {
                samples: &planes[1],
                stride: chroma_width,
            },
            red_difference: Plane {
                samples: &planes[2],
                stride: chroma_width,
            },
        }
    }

    #[test]
    fn full_colour_planes_give_back_the_colours_they_were_made_from() {
        let colours = [
            [0, 0, 0],
            [255, 255, 255],
            [128, 128, 128],
            [255, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
            [224, 172, 140],
            [61, 40, 33],
        ];
        let mut planes = [vec![], vec![], vec![]];
        for colour in colours {
            for (plane, value) in planes.iter_mut().zip(ycbcr_of(colour)) {
                plane.push(value);
            }
        }
        let rgb = planes_of(colours.len(), 1, ChromaSampling::Full, &planes)
            .to_rgb()
            .unwrap();
        for (got, want) in rgb.chunks_exact(3).zip(colours) {
            for (got, want) in got.iter().zip(want) {
                // The forward conversion's rounding of each plane, carried through.
                assert!(got.abs_diff(want) <= 2, "{got} against {want}");
            }
        }
        // Grey stays exactly grey: the rounding constant is JPEG decoders' 0.5 - 1/2^14.
        let grey = [vec![100, 101], vec![128, 128], vec![128, 128]];
        assert_eq!(
            planes_of(2, 1, ChromaSampling::Full, &grey).to_rgb(),
            Some(vec![100, 100, 100, 101, 101, 101])
        );
    }

    #[test]
    fn subsampled_colour_is_spread_by_the_triangle_filter() {
        // 3 x 3 in 4:2:0: colour planes of 2 x 2. Brightness 128, red difference 128 + d
        // gives red 128 + 1.402 d, so the red channel shows the spread colour sample.
        let luma = vec![128; 9];
        let blue = vec![128; 4];
        let red = vec![128 + 40, 128, 128, 128];
        let planes = [luma, blue, red];
        let rgb = planes_of(3, 3, ChromaSampling::HalfWidthHalfHeight, &planes)
            .to_rgb()
            .unwrap();
        let red_of = |x: usize, y: usize| rgb[3 * (3 * y + x)];
        // Row 0 takes colour row 0 alone (the edge), row 1 three parts row 0 and one row 1,
        // row 2 three parts row 1 and one row 0; across, pixel 0 the first sample alone, pixel
        // 1 three parts it and one the next, pixel 2 three parts the next and one it.
        let spread = |weight: f64| (128.0 + 1.402 * 40.0 * weight).round() as u8;
        let near = |got: u8, want: u8| got.abs_diff(want) <= 1;
        assert!(near(red_of(0, 0), spread(1.0)), "{}", red_of(0, 0));
        assert!(near(red_of(1, 0), spread(0.75)), "{}", red_of(1, 0));
        assert!(near(red_of(0, 1), spread(0.75)), "{}", red_of(0, 1));
        assert!(near(red_of(1, 1), spread(0.5625)), "{}", red_of(1, 1));
        assert!(near(red_of(2, 2), spread(0.0625)), "{}", red_of(2, 2));
        // 4:2:2 spreads along rows only.
        let planes = [vec![128; 3], vec![128; 2], vec![128 + 40, 128]];
        let rgb = planes_of(3, 1, ChromaSampling::HalfWidth, &planes)
            .to_rgb()
            .unwrap();
        assert!(near(rgb[0], spread(1.0)) && near(rgb[3], spread(0.75)));
        assert!(near(rgb[6], spread(0.25)), "{}", rgb[6]);
    }

    #[test]
    fn a_smooth_photo_survives_subsampling_and_back() {
        // What a camera does (colour averaged over 2 x 2) and a decoder undoes.
        let (width, height) = (37, 23);
        let pixel =
            |x: usize, y: usize| [(60 + 2 * x) as u8, (200 - 2 * y) as u8, (90 + x + y) as u8];
        let mut planes = [vec![], vec![], vec![]];
        let full: Vec<Vec<[u8; 3]>> = (0..height)
            .map(|y| (0..width).map(|x| ycbcr_of(pixel(x, y))).collect())
            .collect();
        planes[0] = full.iter().flatten().map(|p| p[0]).collect();
        let (chroma_width, chroma_height) =
            ChromaSampling::HalfWidthHalfHeight.plane_size(width, height);
        for channel in 1..3 {
            for cy in 0..chroma_height {
                for cx in 0..chroma_width {
                    let block: Vec<f64> = [(0, 0), (1, 0), (0, 1), (1, 1)]
                        .iter()
                        .map(|(dx, dy)| {
                            ((2 * cx + dx).min(width - 1), (2 * cy + dy).min(height - 1))
                        })
                        .map(|(x, y)| f64::from(full[y][x][channel]))
                        .collect();
                    planes[channel].push((block.iter().sum::<f64>() / 4.0).round() as u8);
                }
            }
        }
        let rgb = planes_of(width, height, ChromaSampling::HalfWidthHalfHeight, &planes)
            .to_rgb()
            .unwrap();
        for y in 0..height {
            for x in 0..width {
                let got = &rgb[3 * (y * width + x)..][..3];
                for (got, want) in got.iter().zip(pixel(x, y)) {
                    assert!(got.abs_diff(want) <= 4, "({x}, {y}): {got} against {want}");
                }
            }
        }
    }

    #[test]
    fn planes_too_short_for_their_size_are_refused() {
        let planes = [vec![128; 8], vec![128; 2], vec![128; 2]];
        // 3 x 3 needs 9 brightness samples and 2 x 2 colour ones.
        assert_eq!(
            planes_of(3, 3, ChromaSampling::HalfWidthHalfHeight, &planes).to_rgb(),
            None
        );
        let planes = [vec![128; 9], vec![128; 4], vec![128; 3]];
        assert_eq!(
            planes_of(3, 3, ChromaSampling::HalfWidthHalfHeight, &planes).to_rgb(),
            None
        );
        assert_eq!(
            planes_of(0, 3, ChromaSampling::Full, &[vec![], vec![], vec![]]).to_rgb(),
            None
        );
    }
}
