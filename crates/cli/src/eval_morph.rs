//! `cfaces eval-morph`: whether the morph's middle frame means something. For random pairs of
//! photos of two different people, both faces are cut into the morph frame and blended as the
//! page blends them; the embedding network then reads the frames as it reads a visitor's photo
//! (detector, landmarks, alignment). A morph that means something puts its middle frame
//! nearer to each end than the two ends are to each other. A plain cross-dissolve of the two
//! frames (no warp) is measured beside it, for contrast.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{FacePipeline, Network, Photo, central_face};
use cf_morph::{MORPH_SIDE, Morph, MorphFace, cut_morph_face};
use clap::Args;
use sha2::{Digest, Sha256};

use crate::dataset;
use crate::faces::{ModelArgs, read_photo};

#[derive(Args, Debug)]
pub struct EvalMorphArgs {
    /// The dataset folder (LFW by default).
    #[arg(long, default_value = "../shared/data/lfw")]
    dataset: PathBuf,
    #[command(flatten)]
    models: ModelArgs,
    /// Pairs of photos of two different people.
    #[arg(long, default_value_t = 100)]
    pairs: usize,
    /// Chooses the pairs; the same seed, the same pairs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write, for the first `--strip-pairs` pairs, a PNG strip of the frames at t = 0, 0.25,
    /// 0.5, 0.75 and 1 into this folder, to look at.
    #[arg(long)]
    strips: Option<PathBuf>,
    #[arg(long, default_value_t = 3)]
    strip_pairs: usize,
}

/// Blends of a strip: the page's slider at its quarters.
const STRIP_BLENDS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

pub fn run(args: EvalMorphArgs) -> Result<()> {
    let pipeline = args.models.pipeline()?;
    let network = args.models.network()?;
    let data = dataset::open(&args.dataset)?;
    if data.people.len() < 2 {
        bail!("{} has fewer than two people", args.dataset.display());
    }
    if let Some(folder) = &args.strips {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let pick = |i: u64| {
        let digest = Sha256::digest(format!("{}:{i}", args.seed));
        let value = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
        (value % data.photos.len() as u64) as usize
    };
    let started = Instant::now();
    let (mut sums, mut measured, mut skipped) = (Sums::default(), 0usize, Vec::new());
    let mut frame_ms = Vec::new();
    let mut draw = 0u64;
    while measured < args.pairs {
        let (a, b) = (&data.photos[pick(draw)], &data.photos[pick(draw + 1)]);
        draw += 2;
        if a.person == b.person {
            continue;
        }
        if draw > 20 * args.pairs as u64 + 20 {
            bail!("too few usable pairs: {} measured", measured);
        }
        let outcome = (|| {
            let from = morph_face(&pipeline, &read_photo(&a.path)?)?;
            let to = morph_face(&pipeline, &read_photo(&b.path)?)?;
            let morph = Morph::new(from.clone(), to.clone())?;
            let timed = Instant::now();
            let middle = morph.frame(0.5);
            let ms = timed.elapsed().as_secs_f64() * 1e3;
            let dissolve: Vec<u8> = from
                .rgb
                .iter()
                .zip(&to.rgb)
                .map(|(x, y)| (u16::from(*x) + u16::from(*y)).div_ceil(2) as u8)
                .collect();
            let read = |rgb: Vec<u8>| read_frame(&pipeline, &network, rgb);
            let (va, vb) = (read(morph.frame(0.0))?, read(morph.frame(1.0))?);
            let (vm, vd) = (read(middle)?, read(dissolve)?);
            if let Some(folder) = args.strips.as_ref().filter(|_| measured < args.strip_pairs) {
                let frames: Vec<Vec<u8>> = STRIP_BLENDS.iter().map(|&t| morph.frame(t)).collect();
                let name = format!(
                    "morph-{}-{}.png",
                    data.keys[a.person].replace('/', "_"),
                    data.keys[b.person].replace('/', "_")
                );
                write_strip(&folder.join(name), &frames)?;
            }
            anyhow::Ok((
                [
                    cosine(&vm, &va),
                    cosine(&vm, &vb),
                    cosine(&va, &vb),
                    cosine(&vd, &va),
                    cosine(&vd, &vb),
                ],
                ms,
            ))
        })();
        match outcome {
            Ok((cosines, ms)) => {
                sums.add(cosines);
                frame_ms.push(ms);
                measured += 1;
            }
            Err(error) => skipped.push(format!(
                "{} / {}: {error:#}",
                data.relative(a),
                data.relative(b)
            )),
        }
    }
    frame_ms.sort_by(f64::total_cmp);
    let n = measured as f64;
    let mean = |i: usize| sums.total[i] / n;
    println!(
        "morph of {measured} random pairs of different people from {} (seed {}), network {}:",
        args.dataset.display(),
        args.seed,
        args.models.network
    );
    println!(
        "  mean cosine, middle frame (t = 0.5) to the first face   {:.3}",
        mean(0)
    );
    println!(
        "  mean cosine, middle frame (t = 0.5) to the second face  {:.3}",
        mean(1)
    );
    println!(
        "  mean cosine, the two faces to each other                {:.3}",
        mean(2)
    );
    println!(
        "  pairs whose middle frame is nearer to both faces than they are to each other: {} of {measured}",
        sums.nearer_both
    );
    println!(
        "  plain cross-dissolve (no warp) at 0.5, for contrast: {:.3} to the first, {:.3} to the second",
        mean(3),
        mean(4)
    );
    println!(
        "  one {MORPH_SIDE} x {MORPH_SIDE} frame natively: median {:.1} ms; {} pairs skipped (no face found); {:.0} s in all",
        frame_ms[frame_ms.len() / 2],
        skipped.len(),
        started.elapsed().as_secs_f64()
    );
    for why in &skipped {
        eprintln!("skipped {why}");
    }
    Ok(())
}

#[derive(Default)]
struct Sums {
    total: [f64; 5],
    nearer_both: usize,
}

impl Sums {
    fn add(&mut self, cosines: [f32; 5]) {
        for (total, c) in self.total.iter_mut().zip(cosines) {
            *total += f64::from(c);
        }
        if cosines[0] > cosines[2] && cosines[1] > cosines[2] {
            self.nearer_both += 1;
        }
    }
}

/// The photo's face (the labelled one of a centred dataset) cut into the morph frame.
fn morph_face(pipeline: &FacePipeline, photo: &Photo) -> Result<MorphFace> {
    let faces = pipeline.faces(photo)?;
    let face = central_face(&faces, photo).context("no face found in the photo")?;
    Ok(cut_morph_face(photo.view(), &face.face.landmarks)?)
}

/// A frame's embedding, read as the page reads a visitor's photo.
fn read_frame(pipeline: &FacePipeline, network: &Network, rgb: Vec<u8>) -> Result<Vec<f32>> {
    let frame = Photo {
        width: MORPH_SIDE,
        height: MORPH_SIDE,
        rgb,
    };
    let faces = pipeline.faces(&frame)?;
    let face = central_face(&faces, &frame).context("no face found in a morph frame")?;
    Ok(network.embed(&frame, face.face)?)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(f32::MIN_POSITIVE)
}

/// The frames side by side, as one PNG.
fn write_strip(path: &std::path::Path, frames: &[Vec<u8>]) -> Result<()> {
    let mut strip = image::RgbImage::new((MORPH_SIDE * frames.len()) as u32, MORPH_SIDE as u32);
    for (k, frame) in frames.iter().enumerate() {
        for y in 0..MORPH_SIDE {
            for x in 0..MORPH_SIDE {
                let i = 3 * (y * MORPH_SIDE + x);
                let pixel = image::Rgb([frame[i], frame[i + 1], frame[i + 2]]);
                strip.put_pixel((k * MORPH_SIDE + x) as u32, y as u32, pixel);
            }
        }
    }
    strip
        .save(path)
        .with_context(|| format!("cannot write {}", path.display()))
}
