//! `cfaces build-index`: a celebrity photo collection to the static index the page loads
//! (manifest, shards per network, catalog) and a thumbnail folder laid out for a CDN.
//!
//! Every photo goes through the face pipeline once for all selected networks, in parallel. Each
//! photo's result is cached under the SHA-256 of its bytes and of everything that shapes the
//! result (models, networks, face rule), so an interrupted build resumes where it stopped and a
//! rebuild with another thumbnail URL or forest recomputes no vector. Outputs are written beside
//! their final place and swapped in at the end: a failed build leaves the old index whole.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{Face, FacePipeline, LookNet, Network, NetworkSpec, Photo, nearest_centre};
use cf_forest::{ForestParams, I8Vectors, Index, Searcher};
use cf_shards::{
    AnyIndex, Catalog, CatalogInfo, FORMAT_NAME, FORMAT_VERSION, FileEntry, Manifest, NetworkInfo,
    THUMB_NAME_LEN, ThumbnailInfo, encode_network, file_entry,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dataset::{self, FaceRule, SourcePhoto};
use crate::index_dir::{replace_dir, write_index};

/// Bumped whenever a cached result would no longer be what the code computes.
const CACHE_VERSION: u32 = 1;
/// Side of a thumbnail.
const THUMB_SIZE: u32 = 112;
/// The face box is grown this much about its centre for the thumbnail, to show hair and chin.
const THUMB_ENLARGE: f32 = 1.6;
const THUMB_QUALITY: u8 = 82;
const CATALOG_FILE: &str = "catalog.json";
const PIPELINE_MODELS: [&str; 2] = [cf_face::detect::FILE, cf_face::landmarks::FILE];

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The collection: an LFW folder (or the official archive unpacked), a CelebA folder, or a
    /// folder of `Person_Name/` folders.
    #[arg(long, default_value = "../shared/data/lfw")]
    dataset: PathBuf,
    /// Index folder to write (replaced as a whole at the end).
    #[arg(long, default_value = "index-shards")]
    out: PathBuf,
    /// Thumbnail folder to write (replaced as a whole at the end); upload it to the CDN.
    #[arg(long, default_value = "thumbnails")]
    thumbnails: PathBuf,
    /// URL prefix of the thumbnails, written into the manifest: a path relative to the page
    /// (the dev server serves `thumbnails/`) or a CDN's address.
    #[arg(long, default_value = "thumbnails/")]
    thumb_base_url: String,
    /// Networks to index, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = ["mobilefacenet192".to_string(), "look".to_string()])]
    networks: Vec<String>,
    /// Which face of a photo with several is the person: LFW's default is `centre`, any other
    /// collection's `largest`.
    #[arg(long, value_enum)]
    face_rule: Option<FaceRule>,
    /// Folder with the fetched models.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Per-photo result cache (default ~/.cache/celebrityfaces/build-cache).
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Where the list of skipped photos goes (default: build-index.log in the cache folder).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Trees per forest. The defaults reach recall@1 >= 0.99 against the exact scan on LFW
    /// (docs/BENCHMARKS.md).
    #[arg(long, default_value_t = 20)]
    trees: usize,
    /// Most items per leaf.
    #[arg(long, default_value_t = 24)]
    leaf_size: usize,
    /// Candidates per query written into the manifest.
    #[arg(long, default_value_t = 4000)]
    search_k: usize,
    /// Seed of the forests.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Largest shard file in bytes.
    #[arg(long, default_value_t = cf_shards::DEFAULT_SHARD_BYTES)]
    shard_bytes: usize,
}

/// What the pipeline found in one photo, as cached.
#[derive(Debug, Serialize, Deserialize)]
struct Analysis {
    /// Faces detected.
    faces: usize,
    /// The chosen face's box, as f32 bits (so a cached result is bit-exact).
    bbox: Option<[u32; 4]>,
    /// The chosen face's vector per network, in the order of the build's networks, as f32 bits.
    vectors: Vec<Vec<u32>>,
}

/// One photo after hashing.
struct Hashed<'a> {
    photo: &'a SourcePhoto,
    sha256: [u8; 32],
}

/// What became of one photo.
enum Outcome {
    Item {
        analysis: Analysis,
        thumb: Vec<u8>,
        cached: bool,
    },
    NoFace {
        cached: bool,
    },
    Failed(String),
}

pub fn run(args: BuildArgs) -> Result<()> {
    let started = Instant::now();
    if !args.thumb_base_url.ends_with('/') {
        bail!(
            "--thumb-base-url {:?} must end with `/`: thumbnail names are appended to it",
            args.thumb_base_url
        );
    }
    let specs: Vec<NetworkSpec> = args
        .networks
        .iter()
        .map(|name| {
            NetworkSpec::named(name).with_context(|| {
                format!(
                    "unknown network {name:?}; known: {}",
                    NetworkSpec::names().join(", ")
                )
            })
        })
        .collect::<Result<_>>()?;
    if specs.is_empty() {
        bail!("--networks names no network");
    }
    let data = dataset::open(&args.dataset)?;
    if data.photos.is_empty() {
        bail!(
            "{} holds no photo ({} entries skipped; see the list with --log)",
            args.dataset.display(),
            data.skipped.len()
        );
    }
    let rule = args.face_rule.unwrap_or(data.layout.default_rule());
    eprintln!(
        "{}: {} photos of {} people; networks {}; of several faces, the {} is kept",
        data.description,
        data.photos.len(),
        data.people.len(),
        args.networks.join(", "),
        rule
    );

    let read_model = |file: &str| -> Result<Vec<u8>> {
        let path = args.models.join(file);
        fs::read(&path).with_context(|| {
            format!(
                "cannot read model {} (run scripts/fetch-models.sh)",
                path.display()
            )
        })
    };
    let mut model_entries: HashMap<String, FileEntry> = HashMap::new();
    let mut model_bytes = |file: &str| -> Result<Vec<u8>> {
        let bytes = read_model(file)?;
        model_entries.insert(file.to_string(), file_entry(file, &bytes));
        Ok(bytes)
    };
    let pipeline = FacePipeline::new(
        &model_bytes(PIPELINE_MODELS[0])?,
        &model_bytes(PIPELINE_MODELS[1])?,
    )?;
    let mut networks = Vec::new();
    for spec in &specs {
        let mut files = HashMap::new();
        for file in spec.files {
            files.insert(*file, model_bytes(file)?);
        }
        networks.push(Network::load(*spec, |file| {
            Ok(files.remove(file).expect("every file of the spec was read"))
        })?);
    }

    let cache_root = args.cache.clone().unwrap_or_else(default_cache);
    let mut salt = Sha256::new();
    salt.update(format!(
        "cache {CACHE_VERSION} rule {rule:?} thumb {THUMB_SIZE} {THUMB_ENLARGE} {THUMB_QUALITY}\n"
    ));
    for file in PIPELINE_MODELS
        .iter()
        .chain(specs.iter().flat_map(|s| s.files))
    {
        salt.update(format!("{file} {}\n", model_entries[*file].sha256));
    }
    salt.update(args.networks.join(","));
    let cache = cache_root.join(hex(&salt.finalize()[..8]));
    fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache {}", cache.display()))?;

    // Hash every photo first: duplicates are skipped before any inference.
    let mut log = String::new();
    for s in &data.skipped {
        writeln!(log, "skipped\t{}\t{}", s.path.display(), s.reason)?;
    }
    let hashed: Vec<Result<Hashed, String>> = data
        .photos
        .par_iter()
        .map(|photo| {
            let bytes = fs::read(&photo.path).map_err(|e| format!("cannot read: {e}"))?;
            Ok(Hashed {
                photo,
                sha256: Sha256::digest(&bytes).into(),
            })
        })
        .collect();
    let mut first_of: HashMap<[u8; 32], &Path> = HashMap::new();
    let mut unique: Vec<Hashed> = Vec::new();
    let (mut unreadable, mut duplicates) = (0usize, 0usize);
    for (photo, h) in data.photos.iter().zip(hashed) {
        match h {
            Err(reason) => {
                unreadable += 1;
                writeln!(log, "unreadable\t{}\t{reason}", photo.path.display())?;
            }
            Ok(h) => match first_of.get(&h.sha256) {
                Some(first) => {
                    duplicates += 1;
                    writeln!(
                        log,
                        "duplicate\t{}\tsame bytes as {}",
                        photo.path.display(),
                        first.display()
                    )?;
                }
                None => {
                    first_of.insert(h.sha256, &photo.path);
                    unique.push(h);
                }
            },
        }
    }

    let progress = ProgressBar::new(unique.len() as u64).with_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} photos, {per_sec}, {elapsed} elapsed, eta {eta}",
        )
        .expect("valid template"),
    );
    let outcomes: Vec<Outcome> = unique
        .par_iter()
        .map(|h| {
            let outcome = analyse_cached(h, &cache, &pipeline, &networks, rule);
            progress.inc(1);
            outcome
        })
        .collect();
    progress.finish_and_clear();
    let analysed_at = Instant::now();

    // Items, people and vectors, in dataset order.
    let mut person_number: HashMap<usize, u32> = HashMap::new();
    let mut catalog = Catalog {
        names: Vec::new(),
        person_of_item: Vec::new(),
        thumbs: Vec::new(),
    };
    let mut rows: Vec<Vec<f32>> = vec![Vec::new(); specs.len()];
    let mut thumbs: Vec<(String, Vec<u8>)> = Vec::new();
    let (mut no_face, mut several, mut from_cache) = (0usize, 0usize, 0usize);
    for (h, outcome) in unique.iter().zip(outcomes) {
        match outcome {
            Outcome::Failed(reason) => {
                unreadable += 1;
                writeln!(log, "unreadable\t{}\t{reason}", h.photo.path.display())?;
            }
            Outcome::NoFace { cached } => {
                no_face += 1;
                from_cache += usize::from(cached);
                writeln!(log, "no face\t{}\t", h.photo.path.display())?;
            }
            Outcome::Item {
                analysis,
                thumb,
                cached,
            } => {
                from_cache += usize::from(cached);
                if analysis.faces > 1 {
                    several += 1;
                    writeln!(
                        log,
                        "several faces\t{}\t{} faces; kept the {}",
                        h.photo.path.display(),
                        analysis.faces,
                        rule
                    )?;
                }
                let next = catalog.names.len() as u32;
                let person = *person_number.entry(h.photo.person).or_insert_with(|| {
                    catalog.names.push(data.people[h.photo.person].clone());
                    next
                });
                catalog.person_of_item.push(person);
                let name = hex(&h.sha256[..THUMB_NAME_LEN / 2]);
                catalog.thumbs.push(name.clone());
                thumbs.push((name, thumb));
                for (row, vector) in rows.iter_mut().zip(&analysis.vectors) {
                    row.extend(vector.iter().map(|bits| f32::from_bits(*bits)));
                }
            }
        }
    }
    if catalog.person_of_item.is_empty() {
        bail!("no photo of {} had a face", args.dataset.display());
    }
    catalog.validate()?;

    // One forest per network.
    let params = ForestParams {
        trees: args.trees,
        leaf_size: args.leaf_size,
        seed: args.seed,
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut entries = Vec::new();
    let mut reports = Vec::new();
    for (spec, row) in specs.iter().zip(rows) {
        let vectors = I8Vectors::from_rows(spec.dimension, row)?;
        let index = AnyIndex::I8(Index::build(vectors, params)?);
        let (queries, r1, r10) = self_excluded_recall(&index, args.search_k)?;
        let info = NetworkInfo {
            name: spec.name.into(),
            description: spec.description.into(),
            search_k: args.search_k,
        };
        let (mut entry, shard_files) = encode_network(&info, &index, args.shard_bytes);
        entry.models = spec
            .files
            .iter()
            .map(|f| model_entries[*f].clone())
            .collect();
        reports.push(format!(
            "{}: {} items, {}-d int8, {} bytes in {} shards (forest {} bytes); forest vs exact, {queries} items each querying the others: recall@1 {r1:.4}, recall@10 {r10:.4} at search_k {}",
            spec.name,
            index.len(),
            spec.dimension,
            entry.shard_bytes(),
            shard_files.len(),
            index.forest().stored_bytes(),
            args.search_k
        ));
        entries.push(entry);
        files.extend(shard_files);
    }
    let catalog_bytes = catalog.encode();
    let manifest = Manifest {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        generator: format!("cfaces {}", env!("CARGO_PKG_VERSION")),
        catalog: Some(CatalogInfo {
            dataset: data.description.clone(),
            people: catalog.names.len(),
            items: catalog.person_of_item.len(),
            file: file_entry(CATALOG_FILE, &catalog_bytes),
            thumbnails: ThumbnailInfo {
                base_url: args.thumb_base_url.clone(),
                size: THUMB_SIZE,
            },
        }),
        pipeline_models: PIPELINE_MODELS
            .iter()
            .map(|f| model_entries[*f].clone())
            .collect(),
        networks: entries,
    };
    files.push((CATALOG_FILE.into(), catalog_bytes));
    replace_dir(&args.thumbnails, |staging| {
        for (name, bytes) in &thumbs {
            fs::write(staging.join(format!("{name}.jpg")), bytes)
                .with_context(|| format!("cannot write a thumbnail into {}", staging.display()))?;
        }
        Ok(())
    })?;
    write_index(&args.out, &manifest, &files)?;

    let log_path = args
        .log
        .clone()
        .unwrap_or_else(|| cache_root.join("build-index.log"));
    if let Some(parent) = log_path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(&log_path, &log).with_context(|| format!("cannot write {}", log_path.display()))?;
    let index_bytes: u64 = fs::read_dir(&args.out)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    for line in &reports {
        println!("{line}");
    }
    println!(
        "{}: {} photos listed, {} skipped while listing, {} unreadable or not images, {} duplicates, {} without a face, {} with several faces (the {} kept); {} items of {} people; {} from the cache",
        data.description,
        data.photos.len(),
        data.skipped.len(),
        unreadable,
        duplicates,
        no_face,
        several,
        rule,
        catalog.person_of_item.len(),
        catalog.names.len(),
        from_cache
    );
    println!(
        "wrote {} ({} bytes), {} thumbnails in {}; faces {:.1} s, total {:.1} s on {} threads; details in {}",
        args.out.display(),
        index_bytes,
        thumbs.len(),
        args.thumbnails.display(),
        (analysed_at - started).as_secs_f64(),
        started.elapsed().as_secs_f64(),
        rayon::current_num_threads(),
        log_path.display()
    );
    Ok(())
}

fn default_cache() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/celebrityfaces/build-cache")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cached outcome of a photo, or a fresh one (then cached).
fn analyse_cached(
    h: &Hashed,
    cache: &Path,
    pipeline: &FacePipeline,
    networks: &[Network],
    rule: FaceRule,
) -> Outcome {
    let key = hex(&h.sha256);
    let dir = cache.join(&key[..2]);
    let (json_path, thumb_path) = (
        dir.join(format!("{key}.json")),
        dir.join(format!("{key}.jpg")),
    );
    if let Ok(json) = fs::read(&json_path)
        && let Ok(analysis) = serde_json::from_slice::<Analysis>(&json)
    {
        if analysis.bbox.is_none() {
            return Outcome::NoFace { cached: true };
        }
        if let Ok(thumb) = fs::read(&thumb_path) {
            return Outcome::Item {
                analysis,
                thumb,
                cached: true,
            };
        }
    }
    let fresh = match analyse(&h.photo.path, pipeline, networks, rule) {
        Ok(fresh) => fresh,
        Err(e) => return Outcome::Failed(format!("{e:#}")),
    };
    // A cache that cannot be written only costs speed on the next run.
    let _ = fs::create_dir_all(&dir);
    if let Some(thumb) = &fresh.1 {
        let _ = write_atomically(&thumb_path, thumb);
    }
    if let Ok(json) = serde_json::to_vec(&fresh.0) {
        let _ = write_atomically(&json_path, &json);
    }
    match fresh {
        (analysis, Some(thumb)) => Outcome::Item {
            analysis,
            thumb,
            cached: false,
        },
        (_, None) => Outcome::NoFace { cached: false },
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    fs::write(&partial, bytes)?;
    fs::rename(&partial, path)
}

/// Detects, chooses a face by `rule`, embeds it with every network and cuts its thumbnail.
fn analyse(
    path: &Path,
    pipeline: &FacePipeline,
    networks: &[Network],
    rule: FaceRule,
) -> Result<(Analysis, Option<Vec<u8>>)> {
    let bytes = fs::read(path).context("cannot read")?;
    let photo = Photo::decode(&bytes)?;
    let faces = pipeline.faces(&photo)?;
    let chosen = match rule {
        FaceRule::Centre => nearest_centre(&faces, &photo),
        FaceRule::Largest => faces
            .iter()
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())),
    };
    let Some(face) = chosen else {
        let none = Analysis {
            faces: 0,
            bbox: None,
            vectors: Vec::new(),
        };
        return Ok((none, None));
    };
    let mut vectors: Vec<Vec<f32>> = Vec::with_capacity(networks.len());
    for network in networks {
        let identity_done = vectors
            .iter()
            .zip(networks)
            .find(|(_, n)| n.name() == LookNet::IDENTITY.name)
            .map(|(v, _)| v.clone());
        let vector = match (network, identity_done) {
            (Network::Look(look), Some(identity)) => {
                look.embed_with_identity(&photo, face, &identity)?
            }
            _ => network.embed(&photo, face)?,
        };
        vectors.push(vector);
    }
    let b = &face.bbox;
    let analysis = Analysis {
        faces: faces.len(),
        bbox: Some([b.x1, b.y1, b.x2, b.y2].map(f32::to_bits)),
        vectors: vectors
            .into_iter()
            .map(|v| v.into_iter().map(f32::to_bits).collect())
            .collect(),
    };
    Ok((analysis, Some(thumbnail(&photo, face)?)))
}

/// A square JPEG of the face and a little around it.
fn thumbnail(photo: &Photo, face: &Face) -> Result<Vec<u8>> {
    let (cx, cy) = face.bbox.centre();
    let (pw, ph) = (photo.width as f32, photo.height as f32);
    let side = (face.bbox.width().max(face.bbox.height()) * THUMB_ENLARGE)
        .min(pw - 1.0)
        .min(ph - 1.0)
        .max(1.0);
    let x = (cx - side / 2.0).clamp(0.0, (pw - 1.0 - side).max(0.0));
    let y = (cy - side / 2.0).clamp(0.0, (ph - 1.0 - side).max(0.0));
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

/// How often the forest finds an item's exact nearest other item (recall@1) and its ten nearest
/// others (recall@10), for up to 1,000 items spread over the index, each querying with its own vector
/// and its own hit removed: the situation of a visitor who resembles someone in the index.
fn self_excluded_recall(index: &AnyIndex, search_k: usize) -> Result<(usize, f64, f64)> {
    let n = index.len();
    let step = (n / 1000).max(1);
    let mut searcher = Searcher::new();
    let (mut hits1, mut hits10, mut total10, mut queries) = (0usize, 0usize, 0usize, 0usize);
    for item in (0..n).step_by(step).take(1000) {
        let query = index.vector(item as u32);
        let others = |found: Vec<cf_forest::Neighbour>| -> Vec<u32> {
            found
                .into_iter()
                .map(|f| f.item)
                .filter(|&i| i != item as u32)
                .take(10)
                .collect()
        };
        let found = others(index.search(&mut searcher, &query, 11, Some(search_k))?);
        let truth = others(index.exact(&query, 11)?);
        hits1 += usize::from(found.first() == truth.first());
        hits10 += truth.iter().filter(|t| found.contains(t)).count();
        total10 += truth.len();
        queries += 1;
    }
    Ok((
        queries,
        hits1 as f64 / queries.max(1) as f64,
        hits10 as f64 / total10.max(1) as f64,
    ))
}
