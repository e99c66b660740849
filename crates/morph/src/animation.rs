//! The morph as an animated GIF: there and back, looping.

use crate::{MORPH_SIDE, MorphError};

/// Frames of the animation, and each frame's time in hundredths of a second: two seconds
/// from the first face to the second and back.
pub const GIF_FRAMES: usize = 20;
pub const GIF_FRAME_DELAY_CS: u16 = 10;
/// NeuQuant's sampling (1 is the best and slowest, 30 the fastest): at 10 a frame's palette
/// takes a few milliseconds and keeps skin tones smooth.
const QUANTIZER_SPEED: i32 = 10;

/// The blends of an animation of `frames` frames that goes from 0 to 1 and back, ending one
/// step short of 0 so that the loop does not show the first face twice.
pub fn there_and_back(frames: usize) -> Vec<f32> {
    let half = (frames / 2).max(1) as f32;
    (0..frames)
        .map(|i| {
            let i = i as f32;
            if i <= half {
                i / half
            } else {
                (2.0 * half - i) / half
            }
        })
        .collect()
}

/// An endlessly looping GIF of `MORPH_SIDE`-square RGB frames, each shown `delay_cs`
/// hundredths of a second, each with its own 256-colour palette.
pub fn encode_gif(frames: &[Vec<u8>], delay_cs: u16) -> Result<Vec<u8>, MorphError> {
    let side = MORPH_SIDE as u16;
    let expected = 3 * MORPH_SIDE * MORPH_SIDE;
    let mut bytes = Vec::new();
    {
        let gif_error = |e: gif::EncodingError| MorphError::Gif(e.to_string());
        let mut encoder = gif::Encoder::new(&mut bytes, side, side, &[]).map_err(gif_error)?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(gif_error)?;
        for rgb in frames {
            if rgb.len() != expected {
                return Err(MorphError::PictureSize {
                    got: rgb.len(),
                    expected,
                    side: MORPH_SIDE,
                });
            }
            let mut frame = gif::Frame::from_rgb_speed(side, side, rgb, QUANTIZER_SPEED);
            frame.delay = delay_cs;
            encoder.write_frame(&frame).map_err(gif_error)?;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blends_go_there_and_back_without_repeating_an_end() {
        let blends = there_and_back(GIF_FRAMES);
        assert_eq!(blends.len(), 20);
        assert_eq!(blends[0], 0.0);
        assert_eq!(blends[10], 1.0);
        assert!((blends[19] - 0.1).abs() < 1e-6);
        assert!(blends.windows(2).take(10).all(|w| w[1] > w[0]));
        assert!(blends.windows(2).skip(10).all(|w| w[1] < w[0]));
    }

    #[test]
    fn the_gif_holds_every_frame_and_loops() {
        let frames: Vec<Vec<u8>> = (0..4u8)
            .map(|k| vec![k * 60; 3 * MORPH_SIDE * MORPH_SIDE])
            .collect();
        let bytes = encode_gif(&frames, GIF_FRAME_DELAY_CS).unwrap();
        assert!(bytes.starts_with(b"GIF89a"));
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(bytes.as_slice()).unwrap();
        assert_eq!((decoder.width(), decoder.height()), (256, 256));
        let mut count = 0;
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            assert_eq!(frame.delay, GIF_FRAME_DELAY_CS);
            let grey = 60 * count;
            assert!(
                (i32::from(frame.buffer[0]) - grey).abs() <= 2,
                "frame {count}"
            );
            count += 1;
        }
        assert_eq!(count, 4);
        assert_eq!(decoder.repeat(), gif::Repeat::Infinite);
        assert!(matches!(
            encode_gif(&[vec![0; 5]], 10),
            Err(MorphError::PictureSize { got: 5, .. })
        ));
    }
}
