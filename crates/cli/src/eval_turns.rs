//! `cfaces eval-turns`: whether the pipeline finds and reads faces that lie on a side or
//! upside down. Each photo of a centred dataset (LFW: one upright face at the centre) is looked
//! at as it is and turned a quarter either way and a half turn, pixel for pixel; the face over
//! the centre is then the same face, lying the known way. Per turn: how often that face is
//! found, found lying the right way, and read as the same person (its vector's cosine to the
//! upright photo's at least the network's same-person threshold); as it is, how often the face
//! is wrongly found turned. For the tuning half of the people, the other half and everyone.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use cf_face::{Detector, DetectorKind, FaceBox, Turn, central_face};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::dataset;
use crate::eval_detect::detector_kind;
use crate::faces::{ModelArgs, read_photo};
use crate::labels::tuning_half;

#[derive(Args, Debug)]
pub struct EvalTurnsArgs {
    /// The centred dataset (LFW's layout, or one folder per person).
    #[arg(long, default_value = "../shared/data/lfw")]
    dataset: PathBuf,
    /// Every this many photos of the dataset, in its order (1: all of them).
    #[arg(long, default_value_t = 10)]
    every: usize,
    /// Detectors measured side by side.
    #[arg(long, value_delimiter = ',', default_values_t = ["yunet".to_string(), "yunet-upright".to_string()])]
    detectors: Vec<String>,
    /// The turns each photo is looked at in, in degrees clockwise (0 alone: whether any upright
    /// face is taken for a turned one).
    #[arg(long, value_delimiter = ',', default_values_t = [0, 90, 180, 270], value_parser = parse_degrees)]
    turns: Vec<u16>,
    /// The score thresholds of `yunet`'s turned looks to measure it at, side by side (default:
    /// the pipeline's).
    #[arg(long, value_delimiter = ',')]
    turned_scores: Option<Vec<f32>>,
    #[command(flatten)]
    models: ModelArgs,
}

/// What one half of the people's photos gave, for one turn.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    photos: usize,
    found: usize,
    right_way: usize,
    same_person: usize,
    cosines: usize,
    cosine_sum: f64,
    detect_seconds: f64,
}

impl Tally {
    fn share(&self, count: usize) -> f64 {
        count as f64 / self.photos.max(1) as f64
    }
}

pub fn run(args: EvalTurnsArgs) -> Result<()> {
    let every = args.every.max(1);
    let turns: Vec<Turn> = Turn::ALL
        .into_iter()
        .filter(|turn| args.turns.contains(&turn.degrees()))
        .collect();
    let data = dataset::open(&args.dataset)?;
    let names = std::fs::read_to_string(args.dataset.join("lfw-names.txt")).ok();
    let tuning = tuning_half(&data.keys, names.as_deref());
    let kinds: Vec<DetectorKind> = args
        .detectors
        .iter()
        .map(|name| detector_kind(name))
        .collect::<Result<_>>()?;
    let network = args.models.network()?;
    let threshold = args.models.spec()?.same_person_similarity;
    let mut pipeline = args.models.pipeline()?;
    let photos: Vec<_> = data.photos.iter().step_by(every).collect();
    println!(
        "{}: {} photos (every {every}), each as it is and turned; the face over the centre, {} (same person: cosine >= {threshold})",
        args.dataset.display(),
        photos.len(),
        args.models.spec()?.name,
    );
    let mut runs = Vec::new();
    for kind in kinds {
        match (&args.turned_scores, kind) {
            (Some(scores), DetectorKind::YuNet) => {
                runs.extend(scores.iter().map(|&score| (kind, Some(score))))
            }
            _ => runs.push((kind, None)),
        }
    }
    for (kind, turned_score) in runs {
        let mut detector = Detector::load(kind, |file| args.models.read_model(file))?;
        let mut name = kind.name().to_string();
        if let Some(threshold) = turned_score {
            detector.set_turned_score_threshold(threshold);
            name += &format!(", turned at {threshold}");
        }
        pipeline.set_detector(detector);
        // [tuning half, other half][turn]
        let mut tallies = [[Tally::default(); 4]; 2];
        let progress = ProgressBar::new(photos.len() as u64).with_style(
            ProgressStyle::with_template(&format!("{{bar:40}} {name} {{pos}}/{{len}}"))
                .expect("valid template"),
        );
        // Upright photos whose face over the centre was taken for a turned one.
        let mut taken_turned = Vec::new();
        for source in &photos {
            let upright = read_photo(&source.path)?;
            let half = usize::from(!tuning.contains(&data.keys[source.person]));
            let started = Instant::now();
            let upright_faces = pipeline.faces(&upright)?;
            let upright_seconds = started.elapsed().as_secs_f64();
            // The face over the centre read upright, as a centred dataset's faces are: what
            // every turn's reading is compared with.
            let reference = central_face(&upright_faces, &upright)
                .and_then(|chosen| {
                    let bbox = FaceBox {
                        turn: Turn::Upright,
                        ..chosen.face.bbox
                    };
                    pipeline.face_in_box(&upright, bbox).ok()
                })
                .map(|face| network.embed(&upright, &face))
                .transpose()?;
            for &turn in &turns {
                let turned_photo;
                let (photo, faces, seconds) = if turn == Turn::Upright {
                    (&upright, upright_faces.clone(), upright_seconds)
                } else {
                    turned_photo = upright.turned(turn);
                    let started = Instant::now();
                    let faces = pipeline.faces(&turned_photo)?;
                    (&turned_photo, faces, started.elapsed().as_secs_f64())
                };
                let tally = &mut tallies[half][usize::from(turn.quarters())];
                tally.photos += 1;
                tally.detect_seconds += seconds;
                let Some(chosen) = central_face(&faces, photo) else {
                    continue;
                };
                tally.found += 1;
                tally.right_way += usize::from(chosen.face.bbox.turn == turn);
                if turn == Turn::Upright && chosen.face.bbox.turn != Turn::Upright {
                    taken_turned.push(format!(
                        "{} (as lying {} degrees, score {:.3})",
                        data.relative(source),
                        chosen.face.bbox.turn.degrees(),
                        chosen.face.bbox.score
                    ));
                }
                if let Some(reference) = &reference {
                    let vector = network.embed(photo, chosen.face)?;
                    let cosine: f32 = vector.iter().zip(reference).map(|(a, b)| a * b).sum();
                    tally.cosines += 1;
                    tally.cosine_sum += f64::from(cosine);
                    tally.same_person += usize::from(cosine >= threshold);
                }
            }
            progress.inc(1);
        }
        progress.finish_and_clear();
        if !taken_turned.is_empty() {
            println!(
                "{name}: photos as they are whose face was taken for a turned one: {}",
                taken_turned.join(", ")
            );
        }
        for (half_name, halves) in [
            ("tuning half", &[0][..]),
            ("other half", &[1][..]),
            ("everyone", &[0, 1][..]),
        ] {
            println!("{name}, {half_name}:");
            for &turn in &turns {
                let mut tally = Tally::default();
                for &half in halves {
                    let part = tallies[half][usize::from(turn.quarters())];
                    tally.photos += part.photos;
                    tally.found += part.found;
                    tally.right_way += part.right_way;
                    tally.same_person += part.same_person;
                    tally.cosines += part.cosines;
                    tally.cosine_sum += part.cosine_sum;
                    tally.detect_seconds += part.detect_seconds;
                }
                println!(
                    "  turned {:>3} degrees: {} photos; face found {:.4}, lying the right way {:.4}, the same person {:.4} (mean cosine {:.3}); detect + landmarks {:.1} ms a photo",
                    turn.degrees(),
                    tally.photos,
                    tally.share(tally.found),
                    tally.share(tally.right_way),
                    tally.share(tally.same_person),
                    tally.cosine_sum / tally.cosines.max(1) as f64,
                    1e3 * tally.detect_seconds / tally.photos.max(1) as f64,
                );
            }
        }
    }
    Ok(())
}

fn parse_degrees(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(degrees @ (0 | 90 | 180 | 270)) => Ok(degrees),
        _ => Err(format!("{text:?} is not a quarter turn: 0, 90, 180 or 270")),
    }
}
