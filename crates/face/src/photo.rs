//! Photo bytes to upright, bounded RGB pixels.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage, imageops::FilterType};

use crate::FaceError;
use crate::ycbcr::YCbCrPlanes;

/// Photos are downscaled so that their longer side is at most this: faces stay far larger than
/// the detector needs (it sees 320 x 240), and work stays bounded.
pub const MAX_SIDE: u32 = 1600;

/// Decoding limits: 200 megapixels declared, 512 MiB allocated. A decompression bomb stops here.
pub const MAX_DIMENSION: u32 = 20_000;
const MAX_ALLOC: u64 = 512 << 20;

/// An upright 8-bit RGB photo.
#[derive(Clone, Debug, PartialEq)]
pub struct Photo {
    pub width: usize,
    pub height: usize,
    /// `3 · width · height` bytes, rows top to bottom.
    pub rgb: Vec<u8>,
}

impl Photo {
    /// Decodes JPEG, PNG, WebP, GIF or BMP bytes; applies the EXIF orientation; converts
    /// grayscale, alpha, 16-bit and CMYK to 8-bit RGB; downscales to [`MAX_SIDE`].
    pub fn decode(bytes: &[u8]) -> Result<Photo, FaceError> {
        let mut decoder = image_decoder(bytes)?;
        let orientation = decoder.orientation().map_err(classify)?;
        let mut image = DynamicImage::from_decoder(decoder).map_err(classify)?;
        image.apply_orientation(orientation);
        if image.width().max(image.height()) > MAX_SIDE {
            image = image.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
        }
        Ok(Self::from_image(image))
    }

    /// An upright photo from RGBA pixels (a browser's decoding); the alpha is dropped, as
    /// [`Photo::decode`] drops it. `None` unless there are `4 · width · height` bytes.
    pub fn from_rgba(width: usize, height: usize, rgba: &[u8]) -> Option<Photo> {
        Self::from_stored(
            width,
            height,
            rgba,
            PixelOrder::Rgbx,
            Orientation::NoTransforms,
        )
    }

    /// A photo from a decoder's pixels as the file stores them (4 bytes each, in `order`; the
    /// fourth dropped), turned upright by the file's `orientation` (which that decoder read but
    /// did not apply: WebCodecs' `ImageDecoder` gives it beside the pixels). `None` unless there
    /// are `4 · width · height` bytes.
    pub fn from_stored(
        width: usize,
        height: usize,
        pixels: &[u8],
        order: PixelOrder,
        orientation: Orientation,
    ) -> Option<Photo> {
        if width == 0 || height == 0 || pixels.len() != 4 * width * height {
            return None;
        }
        let mut rgb = vec![0u8; 3 * width * height];
        let pairs = rgb.chunks_exact_mut(3).zip(pixels.chunks_exact(4));
        match order {
            PixelOrder::Rgbx => pairs.for_each(|(rgb, x)| rgb.copy_from_slice(&x[..3])),
            PixelOrder::Bgrx => pairs.for_each(|(rgb, x)| {
                rgb.copy_from_slice(&[x[2], x[1], x[0]]);
            }),
        }
        Self::upright(width, height, rgb, orientation)
    }

    /// A photo from a JPEG decoder's planes before colour conversion (the browser's
    /// `ImageDecoder` gives a JPEG so at its stored size), converted as the image crate
    /// converts them and turned upright by the file's `orientation`. `None` where the planes
    /// are smaller than their size says.
    pub fn from_ycbcr(planes: &YCbCrPlanes, orientation: Orientation) -> Option<Photo> {
        let rgb = planes.to_rgb()?;
        Self::upright(planes.width, planes.height, rgb, orientation)
    }

    fn upright(
        width: usize,
        height: usize,
        rgb: Vec<u8>,
        orientation: Orientation,
    ) -> Option<Photo> {
        if orientation == Orientation::NoTransforms {
            return Some(Photo { width, height, rgb });
        }
        let mut image =
            DynamicImage::ImageRgb8(RgbImage::from_raw(width as u32, height as u32, rgb)?);
        image.apply_orientation(orientation);
        Some(Self::from_image(image))
    }

    /// Wraps an already decoded image.
    pub fn from_image(image: DynamicImage) -> Photo {
        let rgb = image.into_rgb8();
        Photo {
            width: rgb.width() as usize,
            height: rgb.height() as usize,
            rgb: rgb.into_raw(),
        }
    }

    /// The photo turned by `turn`, pixel for pixel.
    pub fn turned(&self, turn: cf_align::Turn) -> Photo {
        let (width, height) = turn.turned_size((self.width, self.height));
        let rgb = turn
            .turn_pixels(&self.rgb, (self.width, self.height), 3)
            .expect("a photo's pixels fill it");
        Photo { width, height, rgb }
    }

    /// A borrowed view for the alignment functions.
    pub fn view(&self) -> cf_align::RgbImage<'_> {
        cf_align::RgbImage {
            width: self.width,
            height: self.height,
            pixels: &self.rgb,
        }
    }
}

/// The order of a decoder's four bytes per pixel (the fourth is alpha or padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelOrder {
    Rgbx,
    Bgrx,
}

/// A photo's size once upright, and the size [`Photo::decode`] brings it to, read from its
/// header alone: what a faster decoder (the browser's) needs to decode it as `decode` would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodePlan {
    pub width: u32,
    pub height: u32,
    pub target_width: u32,
    pub target_height: u32,
    /// How the stored pixels are turned upright (the EXIF orientation).
    pub orientation: Orientation,
}

impl DecodePlan {
    /// True where the file stores its pixels turned a quarter: stored width is upright height.
    pub fn stored_turned(&self) -> bool {
        use Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
        matches!(
            self.orientation,
            Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH
        )
    }
}

/// The [`DecodePlan`] of a photo, or the error [`Photo::decode`] would give before decoding
/// (empty, unknown or unread format, too large by its header). A damaged body is only found by
/// decoding it.
pub fn plan_decode(bytes: &[u8]) -> Result<DecodePlan, FaceError> {
    let mut decoder = image_decoder(bytes)?;
    let orientation = decoder.orientation().map_err(classify)?;
    let (w, h) = decoder.dimensions();
    let mut plan = DecodePlan {
        width: w,
        height: h,
        target_width: 0,
        target_height: 0,
        orientation,
    };
    if plan.stored_turned() {
        (plan.width, plan.height) = (h, w);
    }
    (plan.target_width, plan.target_height) = working_size(plan.width, plan.height);
    Ok(plan)
}

/// The size [`Photo::decode`] brings an upright photo of `width` x `height` to: within
/// [`MAX_SIDE`], rounded as the image crate's `resize` rounds.
pub fn working_size(width: u32, height: u32) -> (u32, u32) {
    if width.max(height) <= MAX_SIDE {
        return (width, height);
    }
    let ratio = f64::min(
        f64::from(MAX_SIDE) / f64::from(width),
        f64::from(MAX_SIDE) / f64::from(height),
    );
    let fit = |side: u32| ((f64::from(side) * ratio).round() as u32).max(1);
    (fit(width), fit(height))
}

/// The image crate's decoder for `bytes`, within the limits, after the checks both decoding
/// and planning make.
fn image_decoder(bytes: &[u8]) -> Result<Box<dyn ImageDecoder + '_>, FaceError> {
    if bytes.is_empty() {
        return Err(FaceError::Empty);
    }
    // Before the image crate guesses: it knows AVIF and TIFF by name but is built without
    // their decoders (and knows HEIC and SVG not at all).
    if let Some(format) = unread_format(bytes) {
        return Err(FaceError::UnsupportedFormat(format));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FaceError::Decode(e.to_string()))?;
    if reader.format().is_none() {
        return Err(FaceError::UnknownFormat(
            "the first bytes match no known image format".into(),
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(classify)?;
    // The image crate holds its decoders' own buffers to the limit, not the decoded image:
    // a 20,000 x 20,000 RGB PNG would take 1.2 GB before anything could say no.
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(FaceError::TooLarge(format!(
            "{} bytes once decoded, over the limit of {MAX_ALLOC}",
            decoder.total_bytes()
        )));
    }
    Ok(Box::new(decoder))
}

/// Image formats a visitor may well give that this app does not decode, named by their first
/// bytes, so that the page can say what the file is and what to do: HEIC is what iPhones shoot.
pub fn unread_format(bytes: &[u8]) -> Option<&'static str> {
    // ISO base media files (HEIF, AVIF): a box size, then "ftyp" and the major brand.
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return match &bytes[8..12] {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                Some("HEIC")
            }
            b"avif" | b"avis" => Some("AVIF"),
            _ => None,
        };
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Some("TIFF");
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<svg") || (head.starts_with("<?xml") && head.contains("<svg")) {
        return Some("SVG");
    }
    None
}

fn classify(error: image::ImageError) -> FaceError {
    match error {
        image::ImageError::Limits(e) => FaceError::TooLarge(e.to_string()),
        image::ImageError::Unsupported(e) => FaceError::UnknownFormat(e.to_string()),
        other => FaceError::Decode(other.to_string()),
    }
}
