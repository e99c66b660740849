//! Thumbnails: the square of a photo around its face, as a small JPEG for the CDN, and the same
//! square as a larger portrait (the morph's celebrity side, the cards on high-density screens).
//! The builder cuts the thumbnails while it analyses the photos and records each square in the
//! sources file; the portraits, and on a new machine both, are cut from that record alone
//! (`cfaces thumbnails`), decoding each photo but running no network: seconds, not a pipeline
//! pass.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{FaceBox, Photo};
use cf_shards::{ItemSource, THUMB_NAME_LEN, parse_sources, portrait_file};
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
/// Side of a portrait: the morph frame's, so the celebrity's side of a morph is drawn at its
/// own resolution; two device pixels per CSS pixel of a card.
pub const PORTRAIT_SIZE: u32 = cf_morph::MORPH_SIDE as u32;

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
    cut_at(photo, square, THUMB_SIZE)
}

/// The JPEG of `square` of `photo` at `size` x `size`.
fn cut_at(photo: &Photo, square: [f32; 3], size: u32) -> Result<Vec<u8>> {
    let [x, y, side] = square;
    let pixels = size as usize;
    let rgb = cf_align::resize_region_rgb(photo.view(), (x, y, side, side), pixels, pixels)
        .context("the face is too small for a thumbnail")?;
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, THUMB_QUALITY).encode(
        &rgb,
        size,
        size,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(jpeg)
}

/// The files of an item in the thumbnail folder.
fn item_files(source: &ItemSource) -> [(String, u32); 2] {
    [
        (format!("{}.jpg", source.thumb), THUMB_SIZE),
        (portrait_file(&source.thumb, PORTRAIT_SIZE), PORTRAIT_SIZE),
    ]
}

/// Cuts, for each of `sources` whose thumbnail or portrait is not in `out`, the missing ones
/// from the dataset photo, in parallel with a progress bar. Returns how many items were cut.
pub fn cut_missing(dataset: &Path, sources: &[ItemSource], out: &Path) -> Result<usize> {
    let missing: Vec<&ItemSource> = sources
        .iter()
        .filter(|s| {
            item_files(s)
                .iter()
                .any(|(name, _)| !out.join(name).is_file())
        })
        .collect();
    let progress = ProgressBar::new(missing.len() as u64).with_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} thumbnails and portraits, {per_sec}, eta {eta}",
        )
        .expect("valid template"),
    );
    let failures: Vec<String> = missing
        .par_iter()
        .filter_map(|source| {
            let outcome = cut_from_dataset(dataset, out, source);
            progress.inc(1);
            outcome.err().map(|e| format!("{}: {e:#}", source.path))
        })
        .collect();
    progress.finish_and_clear();
    if let Some(first) = failures.first() {
        bail!(
            "{} of {} items' thumbnails could not be cut from {}; the first: {first}",
            failures.len(),
            missing.len(),
            dataset.display()
        );
    }
    Ok(missing.len())
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
    let cut = cut_missing(&args.dataset, &sources, &args.out)?;
    println!(
        "thumbnails and portraits: {} items cut, {} already in {}, {:.1} s",
        cut,
        sources.len() - cut,
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
    for (name, size) in item_files(source) {
        let target = out.join(name);
        if target.is_file() {
            continue;
        }
        let jpeg = cut_at(&photo, source.square, size)?;
        let partial = target.with_extension(format!("partial-{}", std::process::id()));
        fs::write(&partial, &jpeg)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        fs::rename(&partial, &target)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
