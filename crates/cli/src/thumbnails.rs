//! Thumbnails: the square of a photo around its face, as a small JPEG for the CDN. The builder
//! cuts them while it analyses the photos and records each square in the sources file;
//! `cfaces thumbnails` cuts them again from that record alone, decoding each photo but running
//! no network, so a new machine gets its thumbnails in seconds instead of a pipeline pass.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{FaceBox, Photo};
use cf_shards::{ItemSource, THUMB_NAME_LEN, parse_sources};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::index_dir::read_index_folder;

/// Side of a thumbnail.
pub const THUMB_SIZE: u32 = 112;
/// The face box is grown this much about its centre for the thumbnail, to show hair and chin.
pub const THUMB_ENLARGE: f32 = 1.6;
pub const THUMB_QUALITY: u8 = 82;

/// The square (left, top, side) of a `width` x `height` photo that a thumbnail of `face` shows:
/// the face box grown by [`THUMB_ENLARGE`] about its centre, kept inside the photo.
pub fn square_around(face: &FaceBox, width: usize, height: usize) -> [f32; 3] {
    let (cx, cy) = face.centre();
    let (pw, ph) = (width as f32, height as f32);
    let side = (face.width().max(face.height()) * THUMB_ENLARGE)
        .min(pw - 1.0)
        .min(ph - 1.0)
        .max(1.0);
    let x = (cx - side / 2.0).clamp(0.0, (pw - 1.0 - side).max(0.0));
    let y = (cy - side / 2.0).clamp(0.0, (ph - 1.0 - side).max(0.0));
    [x, y, side]
}

/// The JPEG of `square` of `photo` at [`THUMB_SIZE`].
pub fn cut(photo: &Photo, square: [f32; 3]) -> Result<Vec<u8>> {
    let [x, y, side] = square;
    let size = THUMB_SIZE as usize;
    let rgb = cf_align::resize_region_rgb(photo.view(), (x, y, side, side), size, size)
        .context("the face is too small for a thumbnail")?;
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, THUMB_QUALITY).encode(
        &rgb,
        THUMB_SIZE,
        THUMB_SIZE,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(jpeg)
}

#[derive(Args, Debug)]
pub struct ThumbnailsArgs {
    /// The dataset folder the index was built from.
    #[arg(long, default_value = "../shared/data/lfw")]
    dataset: PathBuf,
    /// The index folder: its catalog names the thumbnails.
    #[arg(long, default_value = "index-shards")]
    index: PathBuf,
    /// The sources file `cfaces build-index` wrote beside the index.
    #[arg(long, default_value = "index-sources.tsv")]
    sources: PathBuf,
    /// Thumbnail folder; thumbnails already there are kept.
    #[arg(long, default_value = "thumbnails")]
    out: PathBuf,
}

pub fn run(args: ThumbnailsArgs) -> Result<()> {
    let started = Instant::now();
    let folder = read_index_folder(&args.index)?;
    let Some(catalog) = &folder.catalog else {
        bail!(
            "{} has no catalog: a synthetic index has no thumbnails",
            args.index.display()
        );
    };
    let text = fs::read_to_string(&args.sources).with_context(|| {
        format!(
            "cannot read the sources file {} (cfaces build-index writes it beside the index)",
            args.sources.display()
        )
    })?;
    let sources = parse_sources(&text).with_context(|| args.sources.display().to_string())?;
    if sources.len() != catalog.thumbs.len()
        || sources
            .iter()
            .zip(&catalog.thumbs)
            .any(|(s, t)| &s.thumb != t)
    {
        bail!(
            "{} does not belong to {}: its {} items are not the catalog's {} (rebuild both with cfaces build-index)",
            args.sources.display(),
            args.index.display(),
            sources.len(),
            catalog.thumbs.len()
        );
    }
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let missing: Vec<&ItemSource> = sources
        .iter()
        .filter(|s| !args.out.join(format!("{}.jpg", s.thumb)).is_file())
        .collect();
    let progress = ProgressBar::new(missing.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} thumbnails, {per_sec}, eta {eta}")
            .expect("valid template"),
    );
    let failures: Vec<String> = missing
        .par_iter()
        .filter_map(|source| {
            let outcome = cut_from_dataset(&args.dataset, &args.out, source);
            progress.inc(1);
            outcome.err().map(|e| format!("{}: {e:#}", source.path))
        })
        .collect();
    progress.finish_and_clear();
    if let Some(first) = failures.first() {
        bail!(
            "{} of {} thumbnails could not be cut from {}; the first: {first}",
            failures.len(),
            missing.len(),
            args.dataset.display()
        );
    }
    println!(
        "thumbnails: {} cut, {} already in {}, {:.1} s",
        missing.len(),
        sources.len() - missing.len(),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn cut_from_dataset(dataset: &Path, out: &Path, source: &ItemSource) -> Result<()> {
    let path = dataset.join(&source.path);
    let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let digest = hex(&Sha256::digest(&bytes)[..THUMB_NAME_LEN / 2]);
    if digest != source.thumb {
        bail!(
            "{} is not the photo the index was built from (its SHA-256 starts {digest}, the index says {})",
            path.display(),
            source.thumb
        );
    }
    let photo = Photo::decode(&bytes)?;
    let jpeg = cut(&photo, source.square)?;
    let target = out.join(format!("{}.jpg", source.thumb));
    let partial = target.with_extension(format!("partial-{}", std::process::id()));
    fs::write(&partial, &jpeg).with_context(|| format!("cannot write {}", partial.display()))?;
    fs::rename(&partial, &target).with_context(|| format!("cannot write {}", target.display()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
