//! Face commands on real files: `detect`, `embed`, `compare`; and the model arguments they share
//! with `eval`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{Face, FaceError, FacePipeline, Network, NetworkSpec, Photo};
use clap::Args;
use serde::Serialize;

/// Where the models are, and which embedding network to use.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Folder with the fetched models (scripts/fetch-models.sh).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Embedding network: mobilefacenet192 (identity, default), look (identity + gender + age)
    /// or faceplugin512 (identity).
    #[arg(long, default_value = NetworkSpec::IDENTITY.name)]
    pub network: String,
}

impl ModelArgs {
    pub fn read(&self, file: &str) -> Result<Vec<u8>> {
        let path = self.models.join(file);
        std::fs::read(&path).with_context(|| {
            format!(
                "cannot read model {} (run scripts/fetch-models.sh, which also packs them)",
                path.display()
            )
        })
    }

    /// [`Self::read`] for the pipeline's own loaders.
    pub fn read_model(&self, file: &str) -> Result<Vec<u8>, FaceError> {
        self.read(file).map_err(|e| FaceError::Model {
            model: file.into(),
            reason: format!("{e:#}"),
        })
    }

    pub fn pipeline(&self) -> Result<FacePipeline> {
        Ok(FacePipeline::load(|file| self.read_model(file))?)
    }

    pub fn spec(&self) -> Result<NetworkSpec> {
        NetworkSpec::named(&self.network).with_context(|| {
            format!(
                "unknown network {:?}; known: {}",
                self.network,
                NetworkSpec::names().join(", ")
            )
        })
    }

    pub fn network(&self) -> Result<Network> {
        let spec = self.spec()?;
        Ok(Network::load(spec, |file| self.read_model(file))?)
    }

    /// Bytes of the models `network` loads, detector and landmarks excluded.
    pub fn network_bytes(&self) -> Result<u64> {
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

pub fn read_photo(path: &Path) -> Result<Photo> {
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
    /// How the face lies, in degrees clockwise (0 upright, 180 upside down).
    turned_degrees: u16,
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
            turned_degrees: f.bbox.turn.degrees(),
            five_points: f.five.iter().map(|p| [p.x, p.y]).collect(),
            landmarks: f.landmarks.iter().map(|p| [p.x, p.y]).collect(),
        })
        .collect();
    println!("{}", serde_json::to_string(&json)?);
    // The detector's other boxes: refused, and why.
    for bbox in pipeline.boxes(&photo)? {
        if faces.iter().all(|f| f.bbox != bbox)
            && let Err(why) = pipeline.face_in_box(&photo, bbox)
        {
            eprintln!(
                "refused box ({:.0}, {:.0})-({:.0}, {:.0}), score {:.3}: {why}",
                bbox.x1, bbox.y1, bbox.x2, bbox.y2, bbox.score
            );
        }
    }
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
