//! `cfaces eval-detect`: the detector on annotated group photos (../shared/data/faces-detection,
//! WIDER FACE validation): recall by face height and false boxes per photo, for the detector's
//! own boxes and for the faces the pipeline keeps (boxes whose landmarks are laid out as a face);
//! beside them, another detector's boxes on the same photos (`--peer-boxes`), by the same rule.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use cf_face::{Detector, DetectorKind, Turn};
use cf_metrics::detection::{BANDS, DetectionTally, Rect, parse_boxes, parse_scored_boxes};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::faces::{ModelArgs, read_photo};

#[derive(Args, Debug)]
pub struct EvalDetectArgs {
    /// The annotated set: a folder with boxes.tsv, ignore_invalid.tsv and the photos they name.
    #[arg(long, default_value = "../shared/data/faces-detection")]
    dataset: PathBuf,
    /// Detectors to measure, side by side (default: all: yunet, yunet-one-look, rfb-stretch,
    /// rfb-letterbox, rfb-tiles, retinaface, yunet-then-retinaface; `none`: only the peers'
    /// boxes, without models or photos).
    #[arg(long, value_delimiter = ',')]
    detectors: Option<Vec<String>>,
    /// YuNet's score thresholds to measure it at, side by side (default: the pipeline's).
    #[arg(long, value_delimiter = ',')]
    yunet_scores: Option<Vec<f32>>,
    /// The score thresholds of `yunet`'s turned looks (faces lying on a side or upside down)
    /// to measure it at, side by side (default: the pipeline's).
    #[arg(long, value_delimiter = ',')]
    turned_scores: Option<Vec<f32>>,
    /// RetinaFace's score thresholds to measure it at (in `retinaface` and
    /// `yunet-then-retinaface`), side by side (default: its own).
    #[arg(long, value_delimiter = ',')]
    retinaface_scores: Option<Vec<f32>>,
    /// Faces shorter than this (pixels) are not scored: a detection on one is neither a hit nor
    /// a false box.
    #[arg(long, default_value_t = 16.0)]
    scored_from: f32,
    /// Another detector's boxes on the same photos, scored beside ours by the same rule:
    /// `NAME=FILE`, FILE laid out as boxes.tsv with a score after each box
    /// (`path<TAB>x1,y1,x2,y2,score;…`, in the photo file's pixels), a line for every photo.
    /// Repeatable.
    #[arg(long = "peer-boxes", value_parser = parse_peer)]
    peer_boxes: Vec<(String, PathBuf)>,
    /// The score thresholds the peers' boxes are scored at, side by side.
    #[arg(long, value_delimiter = ',', default_values_t = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95])]
    peer_scores: Vec<f32>,
    #[command(flatten)]
    models: ModelArgs,
}

/// The detector of this name (`yunet`, `yunet-upright`, …), or an error that names them all.
pub fn detector_kind(name: &str) -> Result<DetectorKind> {
    DetectorKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .with_context(|| {
            let known: Vec<&str> = DetectorKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown detector {name:?}; known: {}", known.join(", "))
        })
}

fn parse_peer(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_string(), PathBuf::from(file)))
        }
        _ => Err(format!(
            "{text:?} is not NAME=FILE (for example retinaface=boxes.tsv)"
        )),
    }
}

/// A peer's boxes scored at each threshold: (threshold, tally).
fn score_peer(
    file: &std::path::Path,
    photos: &[(String, Vec<Rect>)],
    ignore: &BTreeMap<String, Vec<Rect>>,
    thresholds: &[f32],
    scored_from: f32,
) -> Result<Vec<(f32, DetectionTally)>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let boxes: BTreeMap<String, Vec<(Rect, f32)>> = parse_scored_boxes(&text)
        .with_context(|| format!("{}", file.display()))?
        .into_iter()
        .collect();
    let mut tallies: Vec<(f32, DetectionTally)> = thresholds
        .iter()
        .map(|&t| (t, DetectionTally::default()))
        .collect();
    for (path, faces) in photos {
        let mut found = boxes
            .get(path)
            .with_context(|| {
                format!(
                    "{} has no line for {path}: a peer's file must cover every annotated photo",
                    file.display()
                )
            })?
            .clone();
        // Most confident first, as the matching rule takes them.
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        let ignored = ignore.get(path).map_or(&[][..], Vec::as_slice);
        for (threshold, tally) in &mut tallies {
            let kept: Vec<Rect> = found
                .iter()
                .filter(|(_, score)| score >= threshold)
                .map(|(rect, _)| *rect)
                .collect();
            tally.add(faces, ignored, &kept, scored_from);
        }
    }
    Ok(tallies)
}

fn read_annotations(path: &std::path::Path) -> Result<Vec<(String, Vec<Rect>)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_boxes(&text).with_context(|| format!("{}", path.display()))
}

/// One detector's pass over the set.
struct Pass {
    /// The first look's boxes alone: what the page has found when it shows the first matches.
    first_look: DetectionTally,
    first_look_seconds: f64,
    boxes: DetectionTally,
    kept: DetectionTally,
    kept_by_event: BTreeMap<String, DetectionTally>,
    detect_seconds: f64,
    faces_seconds: f64,
    /// Kept faces that a turned look found lying on a side or upside down.
    turned_kept: usize,
}

pub fn run(args: EvalDetectArgs) -> Result<()> {
    let photos = read_annotations(&args.dataset.join("boxes.tsv"))?;
    let ignore_file = args.dataset.join("ignore_invalid.tsv");
    let ignore: BTreeMap<String, Vec<Rect>> = if ignore_file.exists() {
        read_annotations(&ignore_file)?.into_iter().collect()
    } else {
        BTreeMap::new()
    };
    let kinds: Vec<DetectorKind> = match args.detectors.as_deref() {
        // Only the peers' boxes: no model is loaded and no photo decoded.
        Some([none]) if none == "none" => Vec::new(),
        Some(names) => names
            .iter()
            .map(|name| detector_kind(name))
            .collect::<Result<_>>()?,
        None => DetectorKind::ALL.to_vec(),
    };
    // Each detector once, or once per threshold asked for.
    let mut runs: Vec<Run> = Vec::new();
    for &kind in &kinds {
        let scores = match kind {
            DetectorKind::YuNet | DetectorKind::YuNetUpright | DetectorKind::YuNetOneLook => {
                &args.yunet_scores
            }
            DetectorKind::RetinaFace | DetectorKind::YuNetThenRetinaFace => &args.retinaface_scores,
            DetectorKind::RfbStretch | DetectorKind::RfbLetterbox | DetectorKind::RfbTiles => &None,
        };
        let scores: Vec<Option<f32>> = match scores {
            Some(scores) => scores.iter().copied().map(Some).collect(),
            None => vec![None],
        };
        let turned_scores: Vec<Option<f32>> = match (&args.turned_scores, kind) {
            (Some(scores), DetectorKind::YuNet) => scores.iter().copied().map(Some).collect(),
            _ => vec![None],
        };
        for &score in &scores {
            runs.extend(turned_scores.iter().map(|&turned_score| Run {
                kind,
                score,
                turned_score,
            }));
        }
    }
    let passes = if runs.is_empty() {
        Vec::new()
    } else {
        own_passes(&args, &photos, &ignore, &runs)?
    };
    let mut peers = Vec::new();
    for (name, file) in &args.peer_boxes {
        let tallies = score_peer(file, &photos, &ignore, &args.peer_scores, args.scored_from)?;
        peers.push((name, tallies));
    }
    report(&args, &photos, &passes, &peers);
    Ok(())
}

/// One pass of one of our detectors: its kind, and its thresholds where not its own.
struct Run {
    kind: DetectorKind,
    score: Option<f32>,
    turned_score: Option<f32>,
}

/// Our detectors' passes over the set, one photo at a time on one core.
fn own_passes(
    args: &EvalDetectArgs,
    photos: &[(String, Vec<Rect>)],
    ignore: &BTreeMap<String, Vec<Rect>>,
    runs: &[Run],
) -> Result<Vec<(String, Pass)>> {
    let mut pipeline = args.models.pipeline()?;
    // Decoded once; the annotation is in the file's pixels, which the pipeline may have shrunk.
    let progress = ProgressBar::new(photos.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} photos decoded, eta {eta}")
            .expect("valid template"),
    );
    let mut decoded = Vec::with_capacity(photos.len());
    for (path, _) in photos {
        let file = args.dataset.join(path);
        let photo = read_photo(&file)?;
        let file_width = image::image_dimensions(&file)
            .with_context(|| format!("{}", file.display()))?
            .0;
        decoded.push((file_width as f32 / photo.width as f32, photo));
        progress.inc(1);
    }
    progress.finish_and_clear();

    let mut passes = Vec::new();
    for run in runs {
        let mut detector = Detector::load(run.kind, |file| args.models.read_model(file))?;
        let mut name = run.kind.name().to_string();
        if let Some(threshold) = run.score {
            detector.set_score_threshold(threshold);
            name += &format!(" at {threshold}");
        }
        if let Some(threshold) = run.turned_score {
            detector.set_turned_score_threshold(threshold);
            name += &format!(", turned at {threshold}");
        }
        pipeline.set_detector(detector);
        let mut pass = Pass {
            first_look: DetectionTally::default(),
            first_look_seconds: 0.0,
            boxes: DetectionTally::default(),
            kept: DetectionTally::default(),
            kept_by_event: BTreeMap::new(),
            detect_seconds: 0.0,
            faces_seconds: 0.0,
            turned_kept: 0,
        };
        let progress = ProgressBar::new(photos.len() as u64).with_style(
            ProgressStyle::with_template(&format!(
                "{{bar:40}} {name} {{pos}}/{{len}}, eta {{eta}}"
            ))
            .expect("valid template"),
        );
        // One photo at a time, so that the times are of one photo on one core. Each look runs
        // once: the detector's boxes are the first look's and then the second's, as
        // `FacePipeline::boxes` puts them together, and the kept faces are theirs.
        for ((path, faces), (scale, photo)) in photos.iter().zip(&decoded) {
            let started = Instant::now();
            let first = pipeline.first_boxes(photo)?;
            let first_look = started.elapsed().as_secs_f64();
            let boxes = pipeline
                .more_boxes(photo, &first)?
                .applied_to(first.clone());
            let detect = started.elapsed().as_secs_f64();
            let kept = pipeline.faces_in_boxes(photo, boxes.iter().copied())?;
            pass.turned_kept += kept.iter().filter(|f| f.bbox.turn != Turn::Upright).count();
            pass.first_look_seconds += first_look;
            pass.detect_seconds += detect;
            pass.faces_seconds += started.elapsed().as_secs_f64();
            let rect = |b: &cf_face::FaceBox| [b.x1, b.y1, b.x2, b.y2].map(|v| v * scale);
            let ignored = ignore.get(path).map_or(&[][..], Vec::as_slice);
            let detected: Vec<Rect> = boxes.iter().map(rect).collect();
            let kept: Vec<Rect> = kept.iter().map(|f| rect(&f.bbox)).collect();
            let first: Vec<Rect> = first.iter().map(rect).collect();
            pass.first_look
                .add(faces, ignored, &first, args.scored_from);
            pass.boxes.add(faces, ignored, &detected, args.scored_from);
            pass.kept.add(faces, ignored, &kept, args.scored_from);
            let event = path.split('/').rev().nth(1).unwrap_or("").to_string();
            pass.kept_by_event.entry(event).or_default().add(
                faces,
                ignored,
                &kept,
                args.scored_from,
            );
            progress.inc(1);
        }
        progress.finish_and_clear();
        passes.push((name, pass));
    }
    Ok(passes)
}

fn report(
    args: &EvalDetectArgs,
    photos: &[(String, Vec<Rect>)],
    passes: &[(String, Pass)],
    peers: &[(&String, Vec<(f32, DetectionTally)>)],
) {
    let mut every_face = DetectionTally::default();
    for (_, faces) in photos {
        every_face.add(faces, &[], &[], args.scored_from);
    }
    println!(
        "{}: {} photos, {} faces; a hit is IoU >= 0.5; faces under {} px not scored",
        args.dataset.display(),
        every_face.photos,
        every_face.bands.iter().map(|b| b.0).sum::<usize>(),
        args.scored_from
    );
    let band_name = |&(low, high): &(f32, f32)| {
        if high.is_finite() {
            format!("{low:.0}-{high:.0} px")
        } else {
            format!(">= {low:.0} px")
        }
    };
    println!(
        "{:<56}{}  >= 32 px  false boxes/photo",
        "recall by face height",
        BANDS
            .iter()
            .map(|b| format!("{:>10}", band_name(b)))
            .collect::<String>()
    );
    println!(
        "{:<56}{}",
        "faces",
        every_face
            .bands
            .iter()
            .map(|b| format!("{:>10}", b.0))
            .collect::<String>()
    );
    let n = photos.len().max(1) as f64;
    for (name, pass) in passes {
        let two_looks = pass.first_look.detections != pass.boxes.detections;
        let first_look = two_looks.then_some(("first look's boxes", &pass.first_look));
        for (what, tally) in first_look.into_iter().chain([
            ("detector's boxes", &pass.boxes),
            ("kept (landmarks a face)", &pass.kept),
        ]) {
            print_row(&format!("{name}, {what}"), tally);
        }
        println!(
            "  {name}: time per photo on one core: first look {:.1} ms; detect {:.1} ms; detect + landmarks of every box {:.1} ms",
            1e3 * pass.first_look_seconds / n,
            1e3 * pass.detect_seconds / n,
            1e3 * pass.faces_seconds / n
        );
        println!(
            "  {name}: kept faces lying turned (on a side or upside down): {}",
            pass.turned_kept
        );
        for (event, tally) in &pass.kept_by_event {
            println!(
                "    {event:<24} kept: recall >= 32 px {:.3}, false boxes/photo {:.2} ({} photos)",
                tally.recall_from(32.0),
                tally.false_boxes_per_photo(),
                tally.photos
            );
        }
    }
    for (name, tallies) in peers {
        for (threshold, tally) in tallies {
            print_row(&format!("{name}, score >= {threshold}"), tally);
        }
        println!(
            "  {name}: its boxes as given (no landmarks run on them; timed by whoever made them)"
        );
    }
}

fn print_row(name: &str, tally: &DetectionTally) {
    let recalls: String = tally
        .bands
        .iter()
        .map(|&(faces, hits)| format!("{:>10.3}", hits as f64 / faces.max(1) as f64))
        .collect();
    println!(
        "{name:<56}{recalls}  {:>8.3}  {:>8.2} ({} of {})",
        tally.recall_from(32.0),
        tally.false_boxes_per_photo(),
        tally.false_boxes,
        tally.detections
    );
}
