//! Every kind of bad or unusual photo gives a typed error or a correct result, never a panic.

use std::io::Cursor;

use cf_face::{DecodePlan, FaceError, MAX_SIDE, Photo, plan_decode};
use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb, Rgba};

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

fn gradient() -> DynamicImage {
    DynamicImage::ImageRgb8(ImageBuffer::from_fn(40, 30, |x, y| {
        Rgb([(x * 6) as u8, (y * 8) as u8, 100])
    }))
}

#[test]
fn empty_and_non_image_bytes_are_typed_errors() {
    assert!(matches!(Photo::decode(&[]), Err(FaceError::Empty)));
    let text = b"this is a text file, not a photo at all";
    assert!(matches!(
        Photo::decode(text),
        Err(FaceError::UnknownFormat(_))
    ));
}

#[test]
fn corrupt_and_truncated_files_are_decode_errors() {
    let jpeg = encode(gradient(), ImageFormat::Jpeg);
    let truncated = &jpeg[..jpeg.len() / 3];
    assert!(Photo::decode(truncated).is_err());
    let png = encode(gradient(), ImageFormat::Png);
    let mut corrupt = png.clone();
    for byte in corrupt.iter_mut().skip(60).take(200) {
        *byte = 0x5a;
    }
    assert!(matches!(Photo::decode(&corrupt), Err(FaceError::Decode(_))));
    assert!(Photo::decode(&png[..20]).is_err());
}

#[test]
fn a_decompression_bomb_is_refused_before_allocating() {
    // A valid PNG header that declares 100,000 x 100,000 pixels (30 GB of RGB).
    let mut png = Vec::new();
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend_from_slice(&(ihdr.len() as u32).to_be_bytes());
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&ihdr);
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    let error = Photo::decode(&png).unwrap_err();
    assert!(matches!(error, FaceError::TooLarge(_)), "{error}");
}

/// The PNG chunk checksum (CRC-32, IEEE), so the bomb's header is otherwise valid.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn grayscale_alpha_and_16_bit_photos_become_rgb() {
    let gray = DynamicImage::ImageLuma8(ImageBuffer::from_fn(20, 10, |x, _| Luma([x as u8 * 10])));
    let photo = Photo::decode(&encode(gray, ImageFormat::Png)).unwrap();
    assert_eq!((photo.width, photo.height, photo.rgb.len()), (20, 10, 600));
    assert_eq!(&photo.rgb[3 * 5..3 * 5 + 3], &[50, 50, 50]);

    let alpha = DynamicImage::ImageLumaA8(ImageBuffer::from_fn(4, 4, |_, _| LumaA([200, 128])));
    let photo = Photo::decode(&encode(alpha, ImageFormat::Png)).unwrap();
    assert_eq!(&photo.rgb[..3], &[200, 200, 200]);

    let rgba = DynamicImage::ImageRgba8(ImageBuffer::from_fn(4, 4, |_, _| Rgba([10, 20, 30, 0])));
    let photo = Photo::decode(&encode(rgba, ImageFormat::Png)).unwrap();
    assert_eq!(&photo.rgb[..3], &[10, 20, 30]);

    let deep = DynamicImage::ImageRgb16(ImageBuffer::from_fn(4, 4, |_, _| Rgb([65535, 0, 32896])));
    let photo = Photo::decode(&encode(deep, ImageFormat::Png)).unwrap();
    assert_eq!(&photo.rgb[..3], &[255, 0, 128]);
}

#[test]
fn large_photos_are_downscaled_keeping_their_shape() {
    let big = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(3200, 1000, Rgb([1, 2, 3])));
    let photo = Photo::decode(&encode(big, ImageFormat::Png)).unwrap();
    assert_eq!(photo.width, MAX_SIDE as usize);
    assert_eq!(photo.height, 500);
}

#[test]
fn exif_orientation_is_applied() {
    // A 64 x 32 JPEG (left half red, right half blue) whose EXIF says "rotate 90° clockwise"
    // (6): the upright photo is 32 wide, 64 tall, red on top.
    let wide = DynamicImage::ImageRgb8(ImageBuffer::from_fn(64, 32, |x, _| {
        if x < 32 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    }));
    let jpeg = encode(wide, ImageFormat::Jpeg);
    let with_exif = insert_exif_orientation(&jpeg, 6);
    let photo = Photo::decode(&with_exif).unwrap();
    assert_eq!((photo.width, photo.height), (32, 64));
    let top = &photo.rgb[3 * (2 * 32 + 16)..3 * (2 * 32 + 16) + 3];
    let bottom = &photo.rgb[3 * (60 * 32 + 16)..3 * (60 * 32 + 16) + 3];
    assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
}

/// Inserts an APP1 Exif segment holding only the orientation tag right after the JPEG's SOI.
fn insert_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\x00\x2a\x00\x00\x00\x08"); // big-endian TIFF, IFD at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn heic_avif_tiff_and_svg_are_named() {
    let iso = |brand: &[u8]| [&[0, 0, 0, 24][..], b"ftyp", brand, &[0; 12]].concat();
    let cases: [(Vec<u8>, &str); 6] = [
        (iso(b"heic"), "HEIC"),
        (iso(b"mif1"), "HEIC"),
        (iso(b"avif"), "AVIF"),
        (b"II*\0\x08\0\0\0".to_vec(), "TIFF"),
        (b"MM\0*\0\0\0\x08".to_vec(), "TIFF"),
        (
            b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            "SVG",
        ),
    ];
    for (bytes, name) in cases {
        match Photo::decode(&bytes) {
            Err(FaceError::UnsupportedFormat(format)) => assert_eq!(format, name),
            other => panic!("{name}: {:?}", other.map(|p| (p.width, p.height))),
        }
    }
    // An MP4 video is an ISO base media file too, but no image format: not named.
    assert!(matches!(
        Photo::decode(&iso(b"isom")),
        Err(FaceError::UnknownFormat(_))
    ));
}

/// What a faster decoder is told to do gives the photo `decode` gives: the same upright size,
/// within the same bound, and the same refusals before any pixel is decoded.
#[test]
fn the_decode_plan_is_what_decode_does() {
    let cases = [
        encode(
            DynamicImage::ImageRgb8(ImageBuffer::from_pixel(3200, 1001, Rgb([1, 2, 3]))),
            ImageFormat::Png,
        ),
        encode(gradient(), ImageFormat::Jpeg),
        insert_exif_orientation(
            &encode(
                DynamicImage::ImageRgb8(ImageBuffer::from_pixel(2400, 1800, Rgb([9, 9, 9]))),
                ImageFormat::Jpeg,
            ),
            6,
        ),
    ];
    for bytes in &cases {
        let plan = plan_decode(bytes).unwrap();
        let photo = Photo::decode(bytes).unwrap();
        assert_eq!(
            (plan.target_width as usize, plan.target_height as usize),
            (photo.width, photo.height),
            "{plan:?}"
        );
    }
    assert_eq!(
        plan_decode(&cases[2]).unwrap(),
        DecodePlan {
            width: 1800,
            height: 2400,
            target_width: 1200,
            target_height: 1600,
            orientation: cf_face::Orientation::Rotate90,
        },
        "the EXIF rotation swaps the sides before the fit"
    );
    assert!(matches!(plan_decode(&[]), Err(FaceError::Empty)));
    assert!(matches!(
        plan_decode(b"II*\0 a tiff"),
        Err(FaceError::UnsupportedFormat("TIFF"))
    ));
    // 20,000 x 20,000 RGB passes the side limit but not the memory one.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&20_000u32.to_be_bytes());
    chunk.extend_from_slice(&20_000u32.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    // Its (empty) data and end, so that the header reads as complete.
    for empty in [b"IDAT", b"IEND"] {
        png.extend_from_slice(&0u32.to_be_bytes());
        png.extend_from_slice(empty);
        png.extend_from_slice(&crc32(empty).to_be_bytes());
    }
    assert!(matches!(plan_decode(&png), Err(FaceError::TooLarge(_))));
    let error = Photo::decode(&png).unwrap_err();
    assert!(matches!(error, FaceError::TooLarge(_)), "{error}");
}

#[test]
fn browser_pixels_become_the_same_photo() {
    let rgba = [10, 20, 30, 255, 40, 50, 60, 0];
    let photo = Photo::from_rgba(2, 1, &rgba).unwrap();
    assert_eq!(photo.rgb, vec![10, 20, 30, 40, 50, 60]);
    assert!(Photo::from_rgba(2, 2, &rgba).is_none());
    assert!(Photo::from_rgba(0, 0, &[]).is_none());
}

#[test]
fn stored_pixels_are_turned_upright_as_decode_turns_them() {
    use cf_face::{Orientation, PixelOrder};
    // Stored pixels (as WebCodecs gives them, BGRX or RGBX) turned by each orientation land
    // where the image crate's turn, which `Photo::decode` applies, puts them.
    let stored = ImageBuffer::from_fn(3, 2, |x, y| Rgb([(10 * x + y) as u8, 7, 200]));
    let bgrx: Vec<u8> = stored
        .pixels()
        .flat_map(|p| [p[2], p[1], p[0], 0])
        .collect();
    let rgbx: Vec<u8> = stored
        .pixels()
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let as_is =
        Photo::from_stored(3, 2, &bgrx, PixelOrder::Bgrx, Orientation::NoTransforms).unwrap();
    assert_eq!(as_is.rgb, stored.clone().into_raw());
    assert_eq!(
        Photo::from_stored(3, 2, &rgbx, PixelOrder::Rgbx, Orientation::NoTransforms).unwrap(),
        as_is
    );
    for orientation in [
        Orientation::Rotate90,
        Orientation::Rotate180,
        Orientation::Rotate270,
        Orientation::FlipHorizontal,
        Orientation::Rotate90FlipH,
    ] {
        let mut expected = DynamicImage::ImageRgb8(stored.clone());
        expected.apply_orientation(orientation);
        let upright = Photo::from_stored(3, 2, &bgrx, PixelOrder::Bgrx, orientation).unwrap();
        assert_eq!(upright, Photo::from_image(expected), "{orientation:?}");
    }
    // Its size once turned: the plan's.
    let turned = Photo::from_stored(3, 2, &bgrx, PixelOrder::Bgrx, Orientation::Rotate90).unwrap();
    assert_eq!((turned.width, turned.height), (2, 3));
    assert!(Photo::from_stored(3, 3, &bgrx, PixelOrder::Bgrx, Orientation::Rotate90).is_none());
}

#[test]
fn a_jpegs_planes_are_turned_upright_as_decode_turns_them() {
    use cf_face::{ChromaSampling, Orientation, Plane, YCbCrPlanes};
    // Grey planes (no colour difference) convert to those greys, so where each pixel lands
    // once turned is plain to see.
    let luma: Vec<u8> = (0..6).map(|i| 40 * i as u8).collect();
    let neutral = vec![128u8; 6];
    let planes = YCbCrPlanes {
        width: 3,
        height: 2,
        chroma: ChromaSampling::Full,
        luma: Plane {
            samples: &luma,
            stride: 3,
        },
        blue_difference: Plane {
            samples: &neutral,
            stride: 3,
        },
        red_difference: Plane {
            samples: &neutral,
            stride: 3,
        },
    };
    let stored = ImageBuffer::from_fn(3, 2, |x, y| {
        let grey = luma[(3 * y + x) as usize];
        Rgb([grey, grey, grey])
    });
    for orientation in [
        Orientation::NoTransforms,
        Orientation::Rotate90,
        Orientation::Rotate180,
        Orientation::Rotate270FlipH,
    ] {
        let mut expected = DynamicImage::ImageRgb8(stored.clone());
        expected.apply_orientation(orientation);
        let upright = Photo::from_ycbcr(&planes, orientation).unwrap();
        assert_eq!(upright, Photo::from_image(expected), "{orientation:?}");
    }
    // Planes shorter than their size: no photo.
    let short = YCbCrPlanes {
        height: 3,
        ..planes
    };
    assert!(Photo::from_ycbcr(&short, Orientation::NoTransforms).is_none());
}
