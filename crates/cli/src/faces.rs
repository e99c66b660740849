//! Face commands on real files: `detect`, `compare`, and `eval` (LFW verification).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{
    Attribute, AttributeNet, Face, FaceError, FacePipeline, LookWeights, Network, NetworkSpec,
    Photo, look_vector, nearest_centre,
};
use cf_metrics::lfw::{k_fold_verification, parse_pairs};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

/// Where the models are, and which embedding network to use.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Folder with the fetched models (scripts/fetch-models.sh).
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Embedding network: mobilefacenet192 (identity, default), look (identity + gender + age)
    /// or faceplugin512 (identity).
    #[arg(long, default_value = NetworkSpec::IDENTITY.name)]
    network: String,
}

impl ModelArgs {
    fn read(&self, file: &str) -> Result<Vec<u8>> {
        let path = self.models.join(file);
        std::fs::read(&path).with_context(|| {
            format!(
                "cannot read model {} (run scripts/fetch-models.sh, which also packs them)",
                path.display()
            )
        })
    }

    fn pipeline(&self) -> Result<FacePipeline> {
        Ok(FacePipeline::new(
            &self.read(cf_face::detect::FILE)?,
            &self.read(cf_face::landmarks::FILE)?,
        )?)
    }

    fn spec(&self) -> Result<NetworkSpec> {
        NetworkSpec::named(&self.network).with_context(|| {
            format!(
                "unknown network {:?}; known: {}",
                self.network,
                NetworkSpec::names().join(", ")
            )
        })
    }

    fn network(&self) -> Result<Network> {
        let spec = self.spec()?;
        Ok(Network::load(spec, |file| {
            self.read(file).map_err(|e| FaceError::Model {
                model: file.into(),
                reason: format!("{e:#}"),
            })
        })?)
    }

    /// Bytes of the models `network` loads, detector and landmarks excluded.
    fn network_bytes(&self) -> Result<u64> {
        let mut total = 0;
        for file in self.spec()?.files {
            let path = self.models.join(file);
            total += std::fs::metadata(&path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .len();
        }
        Ok(total)
    }
}

fn read_photo(path: &Path) -> Result<Photo> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Photo::decode(&bytes).with_context(|| format!("{}", path.display()))
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Photo to look at.
    image: PathBuf,
    #[command(flatten)]
    models: ModelArgs,
    /// Also write the photo with boxes and landmarks drawn, as PNG.
    #[arg(long)]
    annotated: Option<PathBuf>,
}

#[derive(Serialize)]
struct FaceJson {
    bbox: [f32; 4],
    score: f32,
    five_points: Vec<[f32; 2]>,
    landmarks: Vec<[f32; 2]>,
}

pub fn detect(args: DetectArgs) -> Result<()> {
    let pipeline = args.models.pipeline()?;
    let photo = read_photo(&args.image)?;
    let started = Instant::now();
    let faces = pipeline.faces(&photo)?;
    let elapsed = started.elapsed();
    let json: Vec<FaceJson> = faces
        .iter()
        .map(|f| FaceJson {
            bbox: [f.bbox.x1, f.bbox.y1, f.bbox.x2, f.bbox.y2],
            score: f.bbox.score,
            five_points: f.five.iter().map(|p| [p.x, p.y]).collect(),
            landmarks: f.landmarks.iter().map(|p| [p.x, p.y]).collect(),
        })
        .collect();
    println!("{}", serde_json::to_string(&json)?);
    eprintln!(
        "{} face(s) in {}x{} in {:.1} ms",
        faces.len(),
        photo.width,
        photo.height,
        elapsed.as_secs_f64() * 1e3
    );
    if let Some(path) = &args.annotated {
        annotate(&photo, &faces)
            .save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The photo with each box drawn in orange and each landmark as a green dot.
fn annotate(photo: &Photo, faces: &[Face]) -> image::RgbImage {
    let mut image =
        image::RgbImage::from_raw(photo.width as u32, photo.height as u32, photo.rgb.clone())
            .expect("a photo's buffer matches its size");
    let (w, h) = (photo.width as i64, photo.height as i64);
    let mut put = |x: i64, y: i64, colour: [u8; 3]| {
        if (0..w).contains(&x) && (0..h).contains(&y) {
            image.put_pixel(x as u32, y as u32, image::Rgb(colour));
        }
    };
    for face in faces {
        let b = face.bbox;
        let (x1, y1, x2, y2) = (b.x1 as i64, b.y1 as i64, b.x2 as i64, b.y2 as i64);
        for t in 0..2 {
            for x in x1..=x2 {
                put(x, y1 + t, [234, 88, 12]);
                put(x, y2 - t, [234, 88, 12]);
            }
            for y in y1..=y2 {
                put(x1 + t, y, [234, 88, 12]);
                put(x2 - t, y, [234, 88, 12]);
            }
        }
        for p in &face.landmarks {
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1)] {
                put(p.x as i64 + dx, p.y as i64 + dy, [34, 197, 94]);
            }
        }
    }
    image
}

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Photo.
    image: PathBuf,
    #[command(flatten)]
    models: ModelArgs,
    /// Time each stage over this many runs and print the medians.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

#[derive(Serialize)]
struct EmbeddedFace {
    bbox: [f32; 4],
    vector: Vec<f32>,
}

/// Prints every face's embedding as JSON, and the time of each stage on stderr.
pub fn embed(args: EmbedArgs) -> Result<()> {
    let pipeline = args.models.pipeline()?;
    let network = args.models.network()?;
    let bytes = std::fs::read(&args.image)
        .with_context(|| format!("cannot read {}", args.image.display()))?;
    let stages = ["decode", "detect", "landmarks", "align", "embed"];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); stages.len()];
    let mut faces_out = Vec::new();
    for _ in 0..args.repeat.max(1) {
        let mut clock = Instant::now();
        let mut lap = |stage: usize, times: &mut Vec<Vec<f64>>| {
            times[stage].push(clock.elapsed().as_secs_f64() * 1e3);
            clock = Instant::now();
        };
        let photo = Photo::decode(&bytes).with_context(|| format!("{}", args.image.display()))?;
        lap(0, &mut times);
        let boxes = pipeline.boxes(&photo)?;
        lap(1, &mut times);
        let faces: Vec<Face> = boxes
            .into_iter()
            .map(|b| pipeline.face_in_box(&photo, b))
            .collect::<Result<_, _>>()?;
        lap(2, &mut times);
        let crops: Vec<Vec<u8>> = faces
            .iter()
            .map(|f| network.aligned_crop(&photo, f))
            .collect::<Result<_, _>>()?;
        lap(3, &mut times);
        faces_out = faces
            .iter()
            .zip(&crops)
            .map(|(f, crop)| {
                Ok(EmbeddedFace {
                    bbox: [f.bbox.x1, f.bbox.y1, f.bbox.x2, f.bbox.y2],
                    vector: network.embed_aligned(&photo, f, crop)?,
                })
            })
            .collect::<Result<_>>()?;
        lap(4, &mut times);
    }
    println!("{}", serde_json::to_string(&faces_out)?);
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let summary: Vec<String> = stages
        .iter()
        .zip(times.iter_mut())
        .map(|(stage, values)| format!("{stage} {:.1} ms", median(values)))
        .collect();
    eprintln!(
        "{} face(s), {}; median of {} run(s): {}",
        faces_out.len(),
        network.name(),
        args.repeat.max(1),
        summary.join(", ")
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    first: PathBuf,
    second: PathBuf,
    #[command(flatten)]
    models: ModelArgs,
}

pub fn compare(args: CompareArgs) -> Result<()> {
    let pipeline = args.models.pipeline()?;
    let network = args.models.network()?;
    let mut vectors = Vec::new();
    for path in [&args.first, &args.second] {
        let photo = read_photo(path)?;
        let faces = pipeline.faces(&photo)?;
        let Some(face) = faces
            .iter()
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
        else {
            bail!("no face found in {}", path.display());
        };
        vectors.push(network.embed(&photo, face)?);
    }
    let similarity: f32 = vectors[0].iter().zip(&vectors[1]).map(|(a, b)| a * b).sum();
    println!("cosine similarity {similarity:.4} ({})", network.name());
    Ok(())
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// LFW folder: holds lfw-deepfunneled/ (or lfw/, or the person folders) and pairs.txt.
    #[arg(long, default_value = "../shared/data/lfw")]
    dataset: PathBuf,
    /// Pair file (default: pairs.txt in the dataset folder).
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Also embed every image and measure identity retrieval: each image of a person with two
    /// or more images queries all the others (nDCG@10, recall@1, recall@5).
    #[arg(long)]
    retrieval: bool,
    /// Also estimate every face's age and gender (fr_age, fr_gender) and measure look-alikes for
    /// people not in the index: each person's first photo queries the index without that person;
    /// report the share of the top 5 with the same gender and their mean age gap. Implies
    /// --retrieval's embedding of every image.
    #[arg(long)]
    lookalike: bool,
    /// Write the embeddings as .npy for `cfaces bench`: every 13th image (in path order) to
    /// queries.npy, the others to items.npy.
    #[arg(long)]
    export: Option<PathBuf>,
    /// Also evaluate the identity network blended with gender and age as the look network does,
    /// with these shares `identity,gender,age` (repeatable; implies --lookalike). `look` is
    /// mobilefacenet192 with --blend 0.5,0.3,0.2.
    #[arg(long, value_parser = parse_weights)]
    blend: Vec<LookWeights>,
    #[command(flatten)]
    models: ModelArgs,
}

/// The folder holding `Person_Name/` folders: the dataset folder itself, or its `lfw-deepfunneled`
/// or `lfw` subfolder (the layouts of the official archives).
fn images_root(dataset: &Path) -> Result<PathBuf> {
    for candidate in [dataset.join("lfw-deepfunneled"), dataset.join("lfw")] {
        if candidate.is_dir() {
            return Ok(candidate);
        }
    }
    if dataset.is_dir() {
        return Ok(dataset.to_path_buf());
    }
    bail!("dataset folder {} does not exist", dataset.display())
}

pub fn eval(args: EvalArgs) -> Result<()> {
    let root = images_root(&args.dataset)?;
    let pairs_path = args
        .pairs
        .clone()
        .unwrap_or_else(|| args.dataset.join("pairs.txt"));
    let text = std::fs::read_to_string(&pairs_path)
        .with_context(|| format!("cannot read {}", pairs_path.display()))?;
    let pairs = parse_pairs(&text).with_context(|| pairs_path.display().to_string())?;
    let pipeline = args.models.pipeline()?;
    let network = args.models.network()?;
    let lookalike = args.lookalike || !args.blend.is_empty();
    if !args.blend.is_empty() && !matches!(network, Network::Identity(_)) {
        bail!(
            "--blend mixes gender and age into an identity network; {} is not one",
            network.name()
        );
    }

    let mut images: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.first.path(), p.second.path()])
        .collect();
    if args.retrieval || lookalike {
        images.extend(all_images(&root)?);
    }
    let attributes = if lookalike {
        Some((
            AttributeNet::new(Attribute::Age, &args.models.read(Attribute::Age.file())?)?,
            AttributeNet::new(
                Attribute::Gender,
                &args.models.read(Attribute::Gender.file())?,
            )?,
        ))
    } else {
        None
    };
    images.sort();
    images.dedup();
    let progress = ProgressBar::new(images.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {per_sec}, eta {eta}")
            .expect("valid template"),
    );
    let started = Instant::now();
    let analysed: Vec<(String, Option<Analysed>)> = images
        .par_iter()
        .map(|name| {
            let result = read_photo(&root.join(name)).ok().and_then(|photo| {
                let faces = pipeline.faces(&photo).ok()?;
                let face = nearest_centre(&faces, &photo)?;
                let vector = network.embed(&photo, face).ok()?;
                let age_gender = attributes.as_ref().and_then(|(age, gender)| {
                    Some((
                        age.estimate(&photo, face).ok()?,
                        gender.estimate(&photo, face).ok()?,
                    ))
                });
                Some(Analysed { vector, age_gender })
            });
            progress.inc(1);
            (name.clone(), result)
        })
        .collect();
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let traits: HashMap<String, (f32, f32)> = analysed
        .iter()
        .filter_map(|(name, r)| Some((name.clone(), r.as_ref()?.age_gender?)))
        .collect();
    let vectors: HashMap<String, Option<Vec<f32>>> = analysed
        .into_iter()
        .map(|(name, r)| (name, r.map(|a| a.vector)))
        .collect();
    println!(
        "{}: {} images in {:.1} s, {:.1} ms per image (detect, landmarks, embed{}) on {} threads; models {:.2} MB besides detector and landmarks",
        network.name(),
        images.len(),
        seconds,
        1e3 * seconds * rayon::current_num_threads() as f64 / images.len() as f64,
        if lookalike { ", age, gender" } else { "" },
        rayon::current_num_threads(),
        args.models.network_bytes()? as f64 / 1e6
    );
    if let Some(dir) = &args.export {
        export_vectors(dir, &vectors)?;
    }

    let mut variants = vec![(network.name().to_string(), vectors)];
    for weights in &args.blend {
        let identity = &variants[0].1;
        let blended = identity
            .iter()
            .map(|(name, v)| {
                let look = v
                    .as_ref()
                    .zip(traits.get(name))
                    .map(|(v, (age, gender))| look_vector(v, *age, *gender, weights));
                (name.clone(), look)
            })
            .collect();
        variants.push((
            format!(
                "{} blended identity {:.2} / gender {:.2} / age {:.2}",
                network.name(),
                weights.identity,
                weights.gender,
                weights.age
            ),
            blended,
        ));
    }
    for (name, vectors) in &variants {
        let dim = vectors.values().flatten().next().map_or(0, Vec::len);
        let missed = vectors.values().filter(|v| v.is_none()).count();
        let scores: Vec<Option<f32>> = pairs
            .iter()
            .map(|p| {
                let a = vectors.get(&p.first.path())?.as_ref()?;
                let b = vectors.get(&p.second.path())?.as_ref()?;
                Some(a.iter().zip(b).map(|(x, y)| x * y).sum())
            })
            .collect();
        let Some(result) = k_fold_verification(&pairs, &scores) else {
            bail!("{} needs at least two folds", pairs_path.display());
        };
        println!(
            "{name} ({dim}-d): LFW {}-fold accuracy {:.2} % ± {:.2}; {} images without a face, {} pairs unscored (counted wrong)",
            result.fold_accuracies.len(),
            100.0 * result.mean,
            100.0 * result.std,
            missed,
            result.unscored,
        );
        let threshold = result.thresholds.iter().sum::<f32>() / result.thresholds.len() as f32;
        println!("{name}: same-person cosine threshold {threshold:.3} (mean over the folds)");
        if args.retrieval {
            report_retrieval(name, vectors)?;
        }
        if lookalike {
            report_lookalike(name, vectors, &traits)?;
        }
    }
    Ok(())
}

/// Parses `--blend identity,gender,age`.
fn parse_weights(text: &str) -> Result<LookWeights, String> {
    let parts: Vec<f32> = text
        .split(',')
        .map(|p| p.trim().parse::<f32>().map_err(|e| format!("{p:?}: {e}")))
        .collect::<Result<_, _>>()?;
    let [identity, gender, age] = parts[..] else {
        return Err(format!(
            "expected three weights identity,gender,age; got {}",
            parts.len()
        ));
    };
    LookWeights {
        identity,
        gender,
        age,
    }
    .normalised()
    .ok_or_else(|| "weights must be non-negative and not all zero".to_string())
}

/// What `eval` learns from one image's central face.
struct Analysed {
    vector: Vec<f32>,
    /// Estimated age and gender score, with --lookalike.
    age_gender: Option<(f32, f32)>,
}

/// Every `Person/image` path under `root`, sorted.
fn all_images(root: &Path) -> Result<Vec<String>> {
    let mut images = Vec::new();
    for person in std::fs::read_dir(root).with_context(|| root.display().to_string())? {
        let person = person?;
        if !person.file_type()?.is_dir() {
            continue;
        }
        for image in std::fs::read_dir(person.path())? {
            let image = image?;
            let name = image.file_name().to_string_lossy().into_owned();
            if name.to_ascii_lowercase().ends_with(".jpg") {
                images.push(format!("{}/{name}", person.file_name().to_string_lossy()));
            }
        }
    }
    images.sort();
    Ok(images)
}

/// The person of an LFW image path: its folder.
fn person_of(path: &str) -> String {
    path.split('/').next().unwrap_or_default().to_string()
}

/// The embeddings of `indexed`, in order, as an exact-search store.
fn store_of(indexed: &[(&String, &Vec<f32>)]) -> Result<cf_forest::F32Vectors> {
    let Some(dim) = indexed.first().map(|(_, v)| v.len()) else {
        bail!("no image had a face");
    };
    let rows = indexed
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    Ok(cf_forest::F32Vectors::from_rows(dim, rows)?)
}

/// Identity retrieval over every embedded image: the person is the folder name.
fn report_retrieval(network: &str, vectors: &HashMap<String, Option<Vec<f32>>>) -> Result<()> {
    use cf_forest::{VectorStore, exact_search};
    use cf_metrics::ranking::{hit_at_k, mean, ndcg_at_k};

    let mut images: Vec<&String> = vectors.keys().collect();
    images.sort();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for image in &images {
        *counts.entry(person_of(image)).or_default() += 1;
    }
    let indexed: Vec<(&String, &Vec<f32>)> = images
        .iter()
        .filter_map(|&name| vectors[name].as_ref().map(|v| (name, v)))
        .collect();
    let store = store_of(&indexed)?;
    let labels: Vec<String> = indexed.iter().map(|(name, _)| person_of(name)).collect();
    let queries: Vec<&String> = images
        .iter()
        .copied()
        .filter(|name| counts[&person_of(name)] >= 2)
        .collect();
    let outcomes: Vec<(f64, bool, bool)> = queries
        .par_iter()
        .map(|name| {
            let Some(vector) = vectors[*name].as_ref() else {
                return (0.0, false, false);
            };
            let me = person_of(name);
            let relevant_total = counts[&me] - 1;
            let ranked: Vec<bool> = exact_search(&store, vector, 11, None)
                .into_iter()
                .filter(|n| indexed[n.item as usize].0 != *name)
                .take(10)
                .map(|n| labels[n.item as usize] == me)
                .collect();
            (
                ndcg_at_k(&ranked, relevant_total, 10).unwrap_or(0.0),
                hit_at_k(&ranked, 1),
                hit_at_k(&ranked, 5),
            )
        })
        .collect();
    let ndcg = mean(outcomes.iter().map(|o| o.0)).unwrap_or(0.0);
    let r1 = mean(outcomes.iter().map(|o| f64::from(u8::from(o.1)))).unwrap_or(0.0);
    let r5 = mean(outcomes.iter().map(|o| f64::from(u8::from(o.2)))).unwrap_or(0.0);
    println!(
        "{network}: identity retrieval over {} images ({} indexed, {}-d): {} queries (people with >= 2 images); nDCG@10 {:.4}, recall@1 {:.4}, recall@5 {:.4}",
        images.len(),
        store.len(),
        store.dim(),
        queries.len(),
        ndcg,
        r1,
        r5
    );
    Ok(())
}

/// Splits the embeddings into items and held-out queries and writes both as .npy.
fn export_vectors(dir: &Path, vectors: &HashMap<String, Option<Vec<f32>>>) -> Result<()> {
    use crate::vectors_io::{Matrix, write_npy};
    let mut names: Vec<&String> = vectors.keys().filter(|n| vectors[*n].is_some()).collect();
    names.sort();
    let Some(dim) = names
        .first()
        .and_then(|n| vectors[*n].as_ref())
        .map(Vec::len)
    else {
        bail!("no embeddings to export");
    };
    let (mut items, mut queries) = (Vec::new(), Vec::new());
    for (position, name) in names.iter().enumerate() {
        let target = if position % 13 == 0 {
            &mut queries
        } else {
            &mut items
        };
        target.extend_from_slice(vectors[*name].as_ref().expect("filtered above"));
    }
    std::fs::create_dir_all(dir)?;
    write_npy(&dir.join("items.npy"), &Matrix { dim, data: items })?;
    write_npy(&dir.join("queries.npy"), &Matrix { dim, data: queries })?;
    eprintln!("wrote {}/items.npy and queries.npy", dir.display());
    Ok(())
}

/// Look-alikes for people outside the index: each person's first embedded photo queries all the
/// other people's photos; the top 5 are judged by the age and gender networks.
fn report_lookalike(
    network: &str,
    vectors: &HashMap<String, Option<Vec<f32>>>,
    traits: &HashMap<String, (f32, f32)>,
) -> Result<()> {
    use cf_forest::exact_search;

    const TOP: usize = 5;
    let mut indexed: Vec<(&String, &Vec<f32>)> = vectors
        .iter()
        .filter_map(|(name, v)| Some((name, v.as_ref()?)))
        .filter(|(name, _)| traits.contains_key(*name))
        .collect();
    indexed.sort_by(|a, b| a.0.cmp(b.0));
    let store = store_of(&indexed)?;
    let mut people_images: HashMap<String, usize> = HashMap::new();
    let mut queries: Vec<usize> = Vec::new();
    for (position, (name, _)) in indexed.iter().enumerate() {
        let count = people_images.entry(person_of(name)).or_default();
        if *count == 0 {
            queries.push(position);
        }
        *count += 1;
    }
    let outcomes: Vec<(f64, f64)> = queries
        .par_iter()
        .map(|&position| {
            let (name, vector) = indexed[position];
            let me = person_of(name);
            let (age, gender) = traits[name];
            let found: Vec<(f32, f32)> =
                exact_search(&store, vector, TOP + people_images[&me], None)
                    .into_iter()
                    .map(|n| indexed[n.item as usize].0)
                    .filter(|other| person_of(other) != me)
                    .take(TOP)
                    .map(|other| traits[other])
                    .collect();
            let same_gender = found
                .iter()
                .filter(|(_, g)| (*g > 0.5) == (gender > 0.5))
                .count() as f64
                / found.len().max(1) as f64;
            let age_gap = found
                .iter()
                .map(|(a, _)| f64::from((a - age).abs()))
                .sum::<f64>()
                / found.len().max(1) as f64;
            (same_gender, age_gap)
        })
        .collect();
    let n = outcomes.len().max(1) as f64;
    let agreement = outcomes.iter().map(|o| o.0).sum::<f64>() / n;
    let gap = outcomes.iter().map(|o| o.1).sum::<f64>() / n;
    println!(
        "{network}: look-alikes for {} people left out of the index: same gender in the top {TOP} {:.4}, mean age gap {:.1} years",
        outcomes.len(),
        agreement,
        gap
    );
    Ok(())
}
