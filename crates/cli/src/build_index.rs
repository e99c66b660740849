//! `cfaces build-index`: a celebrity photo collection to the static index the page loads
//! (manifest, shards per network, catalog) and a thumbnail folder laid out for a CDN.
//!
//! Every photo goes through the face pipeline once for all selected networks, in parallel. Each
//! photo's result is cached under the SHA-256 of its bytes and of everything that shapes the
//! result (models, networks, face rule), so an interrupted build resumes where it stopped and a
//! rebuild with another thumbnail URL or forest recomputes no vector. Outputs are written beside
//! their final place and swapped in at the end: a failed build leaves the old index whole.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{
    DlibAttribute, DlibAttributeNet, FacePipeline, GenderProbe, LookNet, Network, NetworkSpec,
    Photo, central_face,
};
use cf_forest::{ForestParams, I8Vectors, Index, SearchOptions, Searcher};
use cf_metrics::lookalike::Gender;
use cf_shards::{
    AnyIndex, Catalog, CatalogInfo, FORMAT_NAME, FORMAT_VERSION, FileEntry, Gender as ShardGender,
    GenderSource, ItemSource, Manifest, NetworkIndex, NetworkInfo, THUMB_NAME_LEN, ThumbnailInfo,
    encode_network, encode_sources, file_entry,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dataset::{self, FaceRule, SourcePhoto};
use crate::index_dir::{replace_dir, write_index};
use crate::labels::{parse_celeba_genders, parse_name_list, parse_person_genders, read_lfw_labels};
use crate::thumbnails::{self, PORTRAIT_SIZE, THUMB_ENLARGE, THUMB_QUALITY, THUMB_SIZE, hex};

/// Bumped whenever a cached result would no longer be what the code computes.
const CACHE_VERSION: u32 = 5;
const CATALOG_FILE: &str = "catalog.json";
const PIPELINE_MODELS: [&str; 3] = cf_face::PIPELINE_FILES;
const GENDER_MODEL: &str = DlibAttribute::Gender.file();

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
    /// Where each item came from (its photo and thumbnail square), for `cfaces thumbnails`;
    /// kept out of the index folder, which is served as it is.
    #[arg(long, default_value = "index-sources.tsv")]
    sources: PathBuf,
    /// URL prefix of the thumbnails, written into the manifest: a path relative to the page
    /// (the dev server serves `thumbnails/`) or a CDN's address.
    #[arg(long, default_value = "thumbnails/")]
    thumb_base_url: String,
    /// Networks to index, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = ["mobilefacenet192".to_string(), "faceplugin512".to_string()])]
    networks: Vec<String>,
    /// Human labels of the people (default: the dataset's `labels` folder, when there): an LFW
    /// labels folder (male_names.txt and female_names.txt
    /// give each person's gender by the majority of their photos; well-known.tsv, who the
    /// public knows). A CelebA folder's own list_attr_celeba.txt gives its gender without this.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// The operator's gender file, for any dataset: `Person_Name<TAB>female|male` a line, the
    /// person named as their folder is. It overrides the other labels.
    #[arg(long)]
    genders: Option<PathBuf>,
    /// The operator's list of people the public knows: one person (folder name) a line,
    /// anything after a tab ignored. It replaces --labels' well-known.tsv.
    #[arg(long)]
    well_known: Option<PathBuf>,
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
    /// Candidates per query written into the manifest (default: per network, the fewest, in
    /// steps of 2,000, at which the forest finds --target-recall of each item's ten nearest
    /// others).
    #[arg(long)]
    search_k: Option<usize>,
    /// The recall@10 against the exact scan that chooses each network's search_k.
    #[arg(long, default_value_t = 0.97)]
    target_recall: f64,
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
    /// The square of the photo its thumbnail shows (left, top, side), as f32 bits.
    square: Option<[u32; 3]>,
    /// The chosen face's vector per network, in the order of the build's networks, as f32 bits.
    vectors: Vec<Vec<u32>>,
    /// The probability that the chosen face is a woman's by dlib's gender network, as f32
    /// bits: with the gender probe, what a person without a label is estimated from.
    dlib_woman: Option<u32>,
    /// The box nearer the photo's centre that lost to the chosen, less confident one
    /// (`--face-rule centre`): x1, y1, x2, y2, score as f32 bits.
    #[serde(default)]
    passed_over: Option<[u32; 5]>,
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
    let plan = Plan::new(&args)?;
    let models = Models::load(&args.models, &plan.specs)?;
    let cache_root = args.cache.clone().unwrap_or_else(default_cache);
    let cache = models.cache_dir(&cache_root, &plan)?;
    let mut log = Log::default();
    for s in &plan.data.skipped {
        log.line("skipped", &s.path, &s.reason);
    }
    let unique = hash_and_dedupe(&plan.data, &mut log);
    let outcomes = analyse_all(&unique, &cache, &models, plan.rule);
    let analysed_at = Instant::now();
    let mut items = assemble(&args, &plan, &unique, outcomes, &mut log)?;
    let people = people_facts(&args, &plan, &mut items, &mut log)?;
    let networks = build_networks(&args, &plan.specs, &models, items.rows)?;
    let manifest = manifest(&args, &plan, &models, &items.catalog, networks.entries);
    write_outputs(
        &args,
        &manifest,
        networks.files,
        &items.catalog,
        &items.thumbs,
        &items.sources,
    )?;

    let log_path = args
        .log
        .clone()
        .unwrap_or_else(|| cache_root.join("build-index.log"));
    log.write(&log_path)?;
    for line in &networks.reports {
        println!("{line}");
    }
    println!("{people}");
    let counts = &items.counts;
    println!(
        "{}: {} photos listed, {} skipped while listing, {} unreadable or not images, {} duplicates, {} without a face, {} with several faces (the {} kept; in {} a less confident box nearer the centre passed over); {} items of {} people; {} from the cache",
        plan.data.description,
        plan.data.photos.len(),
        plan.data.skipped.len(),
        counts.unreadable + log.unreadable,
        log.duplicates,
        counts.no_face,
        counts.several,
        plan.rule,
        counts.passed_over,
        items.catalog.person_of_item.len(),
        items.catalog.names.len(),
        counts.from_cache
    );
    println!(
        "wrote {} ({} bytes), {} thumbnails in {}, sources in {}; faces {:.1} s, total {:.1} s on {} threads; details in {}",
        args.out.display(),
        folder_bytes(&args.out)?,
        items.thumbs.len(),
        args.thumbnails.display(),
        args.sources.display(),
        (analysed_at - started).as_secs_f64(),
        started.elapsed().as_secs_f64(),
        rayon::current_num_threads(),
        log_path.display()
    );
    Ok(())
}

/// What the arguments ask for, checked: the networks, the dataset listed, the face rule.
struct Plan {
    specs: Vec<NetworkSpec>,
    data: dataset::Dataset,
    rule: FaceRule,
}

impl Plan {
    fn new(args: &BuildArgs) -> Result<Plan> {
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
        Ok(Plan { specs, data, rule })
    }
}

/// The loaded models and the manifest entries of their files.
struct Models {
    pipeline: FacePipeline,
    networks: Vec<Network>,
    /// dlib's gender network: the page presets its filter with it, and the builder estimates
    /// the people without a label with it.
    gender: DlibAttributeNet,
    entries: HashMap<String, FileEntry>,
}

impl Models {
    fn load(folder: &Path, specs: &[NetworkSpec]) -> Result<Models> {
        let mut entries: HashMap<String, FileEntry> = HashMap::new();
        let mut read = |file: &str| -> Result<Vec<u8>> {
            let path = folder.join(file);
            let bytes = fs::read(&path).with_context(|| {
                format!(
                    "cannot read model {} (run scripts/fetch-models.sh)",
                    path.display()
                )
            })?;
            entries.insert(file.to_string(), file_entry(file, &bytes));
            Ok(bytes)
        };
        let mut pipeline_files = HashMap::new();
        for file in PIPELINE_MODELS {
            pipeline_files.insert(file, read(file)?);
        }
        let pipeline = FacePipeline::load(|file| {
            Ok(pipeline_files
                .remove(file)
                .expect("every pipeline file was read"))
        })?;
        let gender = DlibAttributeNet::new(DlibAttribute::Gender, &read(GENDER_MODEL)?)?;
        let mut networks = Vec::new();
        for spec in specs {
            let mut files = HashMap::new();
            for file in spec.files {
                files.insert(*file, read(file)?);
            }
            networks.push(Network::load(*spec, |file| {
                Ok(files.remove(file).expect("every file of the spec was read"))
            })?);
        }
        Ok(Models {
            pipeline,
            networks,
            gender,
            entries,
        })
    }

    /// The cache folder for this build: named by everything that shapes a photo's result.
    fn cache_dir(&self, root: &Path, plan: &Plan) -> Result<PathBuf> {
        let mut salt = Sha256::new();
        salt.update(format!(
            "cache {CACHE_VERSION} rule {:?} thumb {THUMB_SIZE} {THUMB_ENLARGE} {THUMB_QUALITY}\n",
            plan.rule
        ));
        for file in PIPELINE_MODELS
            .iter()
            .chain([&GENDER_MODEL])
            .chain(plan.specs.iter().flat_map(|s| s.files))
        {
            salt.update(format!("{file} {}\n", self.entries[*file].sha256));
        }
        let names: Vec<&str> = plan.specs.iter().map(|s| s.name).collect();
        salt.update(names.join(","));
        let cache = root.join(hex(&salt.finalize()[..8]));
        fs::create_dir_all(&cache)
            .with_context(|| format!("cannot create the cache {}", cache.display()))?;
        Ok(cache)
    }
}

/// `build-index.log`: one line per photo that did not become an item as it was, and why.
#[derive(Default)]
struct Log {
    text: String,
    unreadable: usize,
    duplicates: usize,
}

impl Log {
    fn line(&mut self, kind: &str, path: &Path, reason: &str) {
        let _ = writeln!(self.text, "{kind}\t{}\t{reason}", path.display());
    }

    fn write(&self, path: &Path) -> Result<()> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, &self.text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Hashes every photo, so that duplicates are skipped before any inference.
fn hash_and_dedupe<'a>(data: &'a dataset::Dataset, log: &mut Log) -> Vec<Hashed<'a>> {
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
    for (photo, h) in data.photos.iter().zip(hashed) {
        match h {
            Err(reason) => {
                log.unreadable += 1;
                log.line("unreadable", &photo.path, &reason);
            }
            Ok(h) => match first_of.get(&h.sha256) {
                Some(first) => {
                    log.duplicates += 1;
                    let reason = format!("same bytes as {}", first.display());
                    log.line("duplicate", &photo.path, &reason);
                }
                None => {
                    first_of.insert(h.sha256, &photo.path);
                    unique.push(h);
                }
            },
        }
    }
    unique
}

/// Every unique photo through the pipeline (or the cache), in parallel, with a progress bar.
fn analyse_all(unique: &[Hashed], cache: &Path, models: &Models, rule: FaceRule) -> Vec<Outcome> {
    let progress = ProgressBar::new(unique.len() as u64).with_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} photos, {per_sec}, {elapsed} elapsed, eta {eta}",
        )
        .expect("valid template"),
    );
    let outcomes = unique
        .par_iter()
        .map(|h| {
            let outcome = analyse_cached(h, cache, models, rule);
            progress.inc(1);
            outcome
        })
        .collect();
    progress.finish_and_clear();
    outcomes
}

/// How many photos went which way while assembling.
#[derive(Default)]
struct Counts {
    unreadable: usize,
    no_face: usize,
    several: usize,
    /// Photos where a less confident box nearer the centre lost to the kept face.
    passed_over: usize,
    from_cache: usize,
}

/// The items, in dataset order: who they are, their vectors per network, their thumbnails and
/// where they came from.
struct Items {
    catalog: Catalog,
    /// Each item's dlib gender reading (probability of a woman).
    dlib_woman: Vec<Option<f32>>,
    /// The dataset's person number of each catalog person.
    dataset_person: Vec<usize>,
    rows: Vec<Vec<f32>>,
    thumbs: Vec<(String, Vec<u8>)>,
    sources: Vec<ItemSource>,
    counts: Counts,
}

fn assemble(
    args: &BuildArgs,
    plan: &Plan,
    unique: &[Hashed],
    outcomes: Vec<Outcome>,
    log: &mut Log,
) -> Result<Items> {
    let mut person_number: HashMap<usize, u32> = HashMap::new();
    let mut items = Items {
        catalog: Catalog {
            names: Vec::new(),
            person_of_item: Vec::new(),
            thumbs: Vec::new(),
            genders: String::new(),
            well_known: Vec::new(),
        },
        dataset_person: Vec::new(),
        dlib_woman: Vec::new(),
        rows: vec![Vec::new(); plan.specs.len()],
        thumbs: Vec::new(),
        sources: Vec::new(),
        counts: Counts::default(),
    };
    let counts = &mut items.counts;
    let catalog = &mut items.catalog;
    let dataset_person = &mut items.dataset_person;
    for (h, outcome) in unique.iter().zip(outcomes) {
        let path = &h.photo.path;
        let (analysis, thumb, cached) = match outcome {
            Outcome::Failed(reason) => {
                counts.unreadable += 1;
                log.line("unreadable", path, &reason);
                continue;
            }
            Outcome::NoFace { cached } => {
                counts.no_face += 1;
                counts.from_cache += usize::from(cached);
                log.line("no face", path, "");
                continue;
            }
            Outcome::Item {
                analysis,
                thumb,
                cached,
            } => (analysis, thumb, cached),
        };
        counts.from_cache += usize::from(cached);
        if analysis.faces > 1 {
            counts.several += 1;
            let mut reason = format!("{} faces; kept the {}", analysis.faces, plan.rule);
            if let (Some(kept), Some(lost)) = (analysis.bbox, analysis.passed_over) {
                let [x1, y1, x2, y2] = kept.map(f32::from_bits);
                let [lx1, ly1, lx2, ly2, lost_score] = lost.map(f32::from_bits);
                let _ = write!(
                    reason,
                    " ({:.0} x {:.0} px); passed over a less confident box nearer the centre, {:.0} x {:.0} px at ({lx1:.0}, {ly1:.0}), score {lost_score:.3}",
                    x2 - x1,
                    y2 - y1,
                    lx2 - lx1,
                    ly2 - ly1,
                );
                counts.passed_over += 1;
            }
            log.line("several faces", path, &reason);
        }
        let next = catalog.names.len() as u32;
        let person = *person_number.entry(h.photo.person).or_insert_with(|| {
            catalog.names.push(plan.data.people[h.photo.person].clone());
            dataset_person.push(h.photo.person);
            next
        });
        catalog.person_of_item.push(person);
        items
            .dlib_woman
            .push(analysis.dlib_woman.map(f32::from_bits));
        let name = hex(&h.sha256[..THUMB_NAME_LEN / 2]);
        catalog.thumbs.push(name.clone());
        items.sources.push(ItemSource {
            thumb: name.clone(),
            path: relative_path(&args.dataset, path),
            square: analysis.square.unwrap_or_default().map(f32::from_bits),
        });
        items.thumbs.push((name, thumb));
        for (row, vector) in items.rows.iter_mut().zip(&analysis.vectors) {
            row.extend(vector.iter().map(|bits| f32::from_bits(*bits)));
        }
    }
    if catalog.person_of_item.is_empty() {
        bail!("no photo of {} had a face", args.dataset.display());
    }
    catalog.validate()?;
    Ok(items)
}

/// Each person's gender and whether the public knows them, into the catalog; returns a line
/// that says where the genders came from.
fn people_facts(args: &BuildArgs, plan: &Plan, items: &mut Items, log: &mut Log) -> Result<String> {
    let data = &plan.data;
    let keys: HashSet<&str> = data.keys.iter().map(String::as_str).collect();
    let mut labelled: HashMap<String, Gender> = HashMap::new();
    let mut well_known: HashSet<String> = HashSet::new();
    let mut notes = Vec::new();
    let labels_dir = args.labels.clone().or_else(|| {
        let beside = args.dataset.join("labels");
        beside.join("male_names.txt").is_file().then_some(beside)
    });
    if let Some(dir) = &labels_dir {
        let labels = read_lfw_labels(dir)?;
        let strangers = labels
            .person_gender
            .keys()
            .filter(|k| !keys.contains(k.as_str()))
            .count();
        if strangers > 0 {
            notes.push(format!(
                "{strangers} people of {} are not in this dataset",
                dir.display()
            ));
        }
        labelled.extend(labels.person_gender);
        well_known = labels.well_known;
    }
    let celeba_attributes = args.dataset.join("list_attr_celeba.txt");
    if data.layout == dataset::Layout::CelebA && celeba_attributes.is_file() {
        let read = |path: &Path| {
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        };
        let genders = parse_celeba_genders(
            &read(&celeba_attributes)?,
            &read(&args.dataset.join("identity_CelebA.txt"))?,
        )?;
        labelled.extend(genders);
    }
    let operator_names = |path: &Path, names: &mut dyn Iterator<Item = &String>| -> Result<()> {
        let unknown: Vec<&String> = names.filter(|n| !keys.contains(n.as_str())).collect();
        if let Some(first) = unknown.first() {
            bail!(
                "{}: {} names are not people of {} (people are named by their folder), the first {first:?}",
                path.display(),
                unknown.len(),
                args.dataset.display()
            );
        }
        Ok(())
    };
    if let Some(path) = &args.genders {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let genders = parse_person_genders(&text).with_context(|| path.display().to_string())?;
        operator_names(path, &mut genders.keys())?;
        labelled.extend(genders);
    }
    if let Some(path) = &args.well_known {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        well_known = parse_name_list(&text)?;
        operator_names(path, &mut well_known.iter())?;
    }

    // The people without a label: estimated from their photos as the page estimates a face,
    // the mean of the probe's and dlib's readings, averaged over the photos.
    let probe = plan
        .specs
        .iter()
        .position(|s| GenderProbe::for_network(s.name).is_some())
        .map(|n| {
            (
                n,
                GenderProbe::for_network(plan.specs[n].name).expect("found above"),
            )
        });
    let mut readings: Vec<(f32, usize)> = vec![(0.0, 0); items.catalog.names.len()];
    if let Some((network, probe)) = &probe {
        let dim = plan.specs[*network].dimension;
        for (item, &person) in items.catalog.person_of_item.iter().enumerate() {
            let vector = &items.rows[*network][item * dim..(item + 1) * dim];
            let woman = match items.dlib_woman[item] {
                Some(dlib) => (probe.woman(vector) + dlib) / 2.0,
                None => probe.woman(vector),
            };
            let reading = &mut readings[person as usize];
            reading.0 += woman;
            reading.1 += 1;
        }
    }
    let (mut from_labels, mut estimated, mut unknown) = (0, 0, 0);
    let mut genders = String::with_capacity(items.catalog.names.len());
    for (person, &dataset_person) in items.dataset_person.iter().enumerate() {
        let key = &data.keys[dataset_person];
        let gender = if let Some(&gender) = labelled.get(key) {
            from_labels += 1;
            Some((shard_gender(gender), GenderSource::Labelled))
        } else if let (true, (sum, count)) = (probe.is_some(), readings[person])
            && count > 0
        {
            estimated += 1;
            let woman = sum / count as f32;
            let gender = if woman >= 0.5 {
                ShardGender::Female
            } else {
                ShardGender::Male
            };
            log.line(
                "gender estimated",
                &data.root.join(key),
                &format!("no label; {count} photos read as a woman with probability {woman:.2}"),
            );
            Some((gender, GenderSource::Estimated))
        } else {
            unknown += 1;
            None
        };
        genders.push(Catalog::gender_code(gender));
    }
    items.catalog.genders = genders;
    items.catalog.well_known = items
        .dataset_person
        .iter()
        .enumerate()
        .filter(|(_, p)| well_known.contains(&data.keys[**p]))
        .map(|(person, _)| person as u32)
        .collect();
    items.catalog.validate()?;
    let mut line = format!(
        "people: gender from human labels for {from_labels}, estimated from their photos for {estimated} (listed in the log), unknown for {unknown}; {} well known",
        items.catalog.well_known.len()
    );
    for note in notes {
        line.push_str(&format!("; {note}"));
    }
    Ok(line)
}

fn shard_gender(gender: Gender) -> ShardGender {
    match gender {
        Gender::Female => ShardGender::Female,
        Gender::Male => ShardGender::Male,
    }
}

/// One forest per network, encoded into shards, with a line of figures each.
struct Networks {
    entries: Vec<NetworkIndex>,
    files: Vec<(String, Vec<u8>)>,
    reports: Vec<String>,
}

fn build_networks(
    args: &BuildArgs,
    specs: &[NetworkSpec],
    models: &Models,
    rows: Vec<Vec<f32>>,
) -> Result<Networks> {
    let params = ForestParams {
        trees: args.trees,
        leaf_size: args.leaf_size,
        seed: args.seed,
    };
    let mut built = Networks {
        entries: Vec::new(),
        files: Vec::new(),
        reports: Vec::new(),
    };
    for (spec, row) in specs.iter().zip(rows) {
        let vectors = I8Vectors::from_rows(spec.dimension, row)?;
        let index = AnyIndex::I8(Index::build(vectors, params)?);
        let (search_k, (queries, r1, r10)) = match args.search_k {
            Some(k) => (k, self_excluded_recall(&index, k)?),
            None => search_k_for(&index, args.target_recall)?,
        };
        let info = NetworkInfo {
            name: spec.name.into(),
            description: spec.description.into(),
            search_k,
        };
        let (mut entry, shard_files) = encode_network(&info, &index, args.shard_bytes);
        entry.models = spec
            .files
            .iter()
            .map(|f| models.entries[*f].clone())
            .collect();
        built.reports.push(format!(
            "{}: {} items, {}-d int8, {} bytes in {} shards (forest {} bytes); forest vs exact, {queries} items each querying the others: recall@1 {r1:.4}, recall@10 {r10:.4} at search_k {}",
            spec.name,
            index.len(),
            spec.dimension,
            entry.shard_bytes(),
            shard_files.len(),
            index.forest().stored_bytes(),
            search_k
        ));
        built.entries.push(entry);
        built.files.extend(shard_files);
    }
    Ok(built)
}

fn manifest(
    args: &BuildArgs,
    plan: &Plan,
    models: &Models,
    catalog: &Catalog,
    networks: Vec<NetworkIndex>,
) -> Manifest {
    Manifest {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        generator: format!("cfaces {}", env!("CARGO_PKG_VERSION")),
        catalog: Some(CatalogInfo {
            dataset: plan.data.description.clone(),
            people: catalog.names.len(),
            items: catalog.person_of_item.len(),
            file: file_entry(CATALOG_FILE, &catalog.encode()),
            thumbnails: ThumbnailInfo {
                base_url: args.thumb_base_url.clone(),
                size: THUMB_SIZE,
                portrait_size: Some(PORTRAIT_SIZE),
            },
        }),
        pipeline_models: PIPELINE_MODELS
            .iter()
            .map(|f| models.entries[*f].clone())
            .collect(),
        gender_models: vec![models.entries[GENDER_MODEL].clone()],
        networks,
    }
}

/// The thumbnails, the index and the sources file, each swapped into place whole.
fn write_outputs(
    args: &BuildArgs,
    manifest: &Manifest,
    mut files: Vec<(String, Vec<u8>)>,
    catalog: &Catalog,
    thumbs: &[(String, Vec<u8>)],
    sources: &[ItemSource],
) -> Result<()> {
    files.push((CATALOG_FILE.into(), catalog.encode()));
    replace_dir(&args.thumbnails, |staging| {
        for (name, bytes) in thumbs {
            fs::write(staging.join(format!("{name}.jpg")), bytes)
                .with_context(|| format!("cannot write a thumbnail into {}", staging.display()))?;
        }
        // The portraits from the squares just recorded: each photo decoded once more, which
        // is seconds, where keeping them in the analysis cache would be 15 KB an item.
        thumbnails::cut_missing(&args.dataset, sources, staging)?;
        Ok(())
    })?;
    write_index(&args.out, manifest, &files)?;
    write_atomically(&args.sources, encode_sources(sources).as_bytes())
        .with_context(|| format!("cannot write {}", args.sources.display()))
}

fn folder_bytes(folder: &Path) -> Result<u64> {
    Ok(fs::read_dir(folder)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum())
}

fn default_cache() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/celebrityfaces/build-cache")
}

/// `path` relative to the dataset folder, `/`-separated, as the sources file records it.
fn relative_path(dataset: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dataset).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The cached outcome of a photo, or a fresh one (then cached).
fn analyse_cached(h: &Hashed, cache: &Path, models: &Models, rule: FaceRule) -> Outcome {
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
    let fresh = match analyse(&h.photo.path, models, rule) {
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
fn analyse(path: &Path, models: &Models, rule: FaceRule) -> Result<(Analysis, Option<Vec<u8>>)> {
    let (pipeline, networks) = (&models.pipeline, &models.networks);
    let bytes = fs::read(path).context("cannot read")?;
    let photo = Photo::decode(&bytes)?;
    let faces = pipeline.faces(&photo)?;
    let (chosen, passed_over) = match rule {
        FaceRule::Centre => match central_face(&faces, &photo) {
            Some(central) => (Some(central.face), central.passed_over),
            None => (None, None),
        },
        FaceRule::Largest => (
            faces
                .iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())),
            None,
        ),
    };
    let Some(face) = chosen else {
        let none = Analysis {
            faces: 0,
            bbox: None,
            square: None,
            vectors: Vec::new(),
            dlib_woman: None,
            passed_over: None,
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
    let square = thumbnails::square_around(b, photo.width, photo.height);
    let analysis = Analysis {
        faces: faces.len(),
        bbox: Some([b.x1, b.y1, b.x2, b.y2].map(f32::to_bits)),
        square: Some(square.map(f32::to_bits)),
        vectors: vectors
            .into_iter()
            .map(|v| v.into_iter().map(f32::to_bits).collect())
            .collect(),
        dlib_woman: models.gender.estimate(&photo, face).ok().map(f32::to_bits),
        passed_over: passed_over.map(|f| {
            let b = &f.bbox;
            [b.x1, b.y1, b.x2, b.y2, b.score].map(f32::to_bits)
        }),
    };
    Ok((analysis, Some(thumbnails::cut(&photo, square)?)))
}

/// The fewest candidates, in steps of 2,000, at which the forest finds `target` of each item's
/// ten nearest others (all items, the exact answer, where no step does), and the recall there.
fn search_k_for(index: &AnyIndex, target: f64) -> Result<(usize, (usize, f64, f64))> {
    const STEP: usize = 2000;
    let mut search_k = STEP;
    loop {
        let recall = self_excluded_recall(index, search_k)?;
        if recall.2 >= target || search_k >= index.len() {
            return Ok((search_k, recall));
        }
        search_k = (search_k + STEP).min(index.len());
    }
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
        let found = others(index.search(
            &mut searcher,
            &query,
            &SearchOptions::nearest(11).candidates(search_k),
        )?);
        let truth =
            others(index.search(&mut searcher, &query, &SearchOptions::nearest(11).exact())?);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(items: usize) -> AnyIndex {
        let rows = cf_synthetic::uniform_sphere(items, 16, 7);
        let vectors = I8Vectors::from_rows(16, rows).unwrap();
        let params = ForestParams {
            trees: 4,
            leaf_size: 16,
            seed: 1,
        };
        AnyIndex::I8(Index::build(vectors, params).unwrap())
    }

    #[test]
    fn search_k_is_the_first_step_that_reaches_the_target_and_at_most_every_item() {
        let index = index_of(2500);
        // Any recall will do: the first step.
        let (search_k, _) = search_k_for(&index, 0.0).unwrap();
        assert_eq!(search_k, 2000);
        // Out of reach: every item, where the walk is the exact scan.
        let (search_k, (_, r1, r10)) = search_k_for(&index, 1.01).unwrap();
        assert_eq!(search_k, 2500);
        assert_eq!((r1, r10), (1.0, 1.0));
        // In between: the recall there reaches the target, the step before does not.
        let (search_k, (_, _, r10)) = search_k_for(&index, 0.9).unwrap();
        assert!(r10 >= 0.9, "{r10}");
        if search_k > 2000 {
            let (_, _, before) = self_excluded_recall(&index, search_k - 2000).unwrap();
            assert!(before < 0.9, "{before} at {}", search_k - 2000);
        }
    }
}
