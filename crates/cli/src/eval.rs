//! `cfaces eval`: how good an embedding network is, for the two kinds of visitor.
//!
//! - People in the index: LFW's 10-fold verification accuracy, and identity retrieval (each
//!   photo of a person with two or more queries all the others).
//! - Strangers, who see look-alikes: each person's first photo queries the index with all of
//!   that person's photos left out, and the nearest other people are judged by human labels
//!   (`--labels`): same gender at 1 and at 5, for women and men apart; same race at 5; and the
//!   mean age gap at 5, by an age estimator no ranking here uses (dlib's age network).
//!
//! Every figure is reported for everyone and for each half of the people: whatever is tuned on
//! the labels (the gender probe, a threshold) is tuned on the tuning half (the even lines of
//! lfw-names.txt) and read on the other.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cf_face::{
    Attribute, AttributeNet, DlibAttribute, DlibAttributeNet, FacePipeline, GenderProbe,
    LookWeights, Network, NetworkSpec, central_face, look_vector,
};
use cf_forest::{F32Vectors, Neighbour, VectorStore, exact_search, until_groups};
use cf_metrics::lfw::{LfwPair, k_fold_verification, parse_pairs};
use cf_metrics::lookalike::{Gender, Judged, Labels, gender_accuracy, judge};
use cf_metrics::ranking::{hit_at_k, mean, ndcg_at_k};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::dataset::{self, Dataset};
use crate::faces::{ModelArgs, read_photo};
use crate::labels::{HumanLabels, read_lfw_labels, tuning_half};
use crate::probe_training::{Sample, fit_cross_validated};

/// People judged per look-alike query.
const TOP: usize = 5;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The dataset: LFW (any of its layouts), or any folder the index builder reads.
    #[arg(long, default_value = "../shared/data/lfw")]
    dataset: PathBuf,
    /// Pair file (default: pairs.txt in the dataset folder, when there).
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Also embed every image and measure identity retrieval: each image of a person with two
    /// or more images queries all the others (nDCG@10, recall@1, recall@5); with --labels, also
    /// with the gender filter preset as the page presets it.
    #[arg(long)]
    retrieval: bool,
    /// Also judge look-alikes for people left out of the index by human labels (needs --labels):
    /// without a filter and with the gender filter preset from each estimator.
    #[arg(long)]
    lookalike: bool,
    /// Human labels: an LFW labels folder (male_names.txt, female_names.txt, race.json).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Also measure every gender estimator against the labels on every image (needs --labels).
    #[arg(long)]
    estimators: bool,
    /// Train the gender probe on the tuning half's labelled images (on the network's vectors,
    /// or MobileFaceNet's inside the look blend) and write it here.
    #[arg(long)]
    train_probe: Option<PathBuf>,
    /// Write the embeddings as .npy for `cfaces bench`: every 13th image (in path order) to
    /// queries.npy, the others to items.npy.
    #[arg(long)]
    export: Option<PathBuf>,
    /// Also evaluate the identity network blended with gender and age as the look network does,
    /// with these shares `identity,gender,age` (repeatable).
    #[arg(long, value_parser = parse_weights)]
    blend: Vec<LookWeights>,
    #[command(flatten)]
    models: ModelArgs,
}

/// What one image gave.
#[derive(Clone, Debug, Default)]
struct Analysed {
    /// The evaluated network's vector.
    vector: Vec<f32>,
    /// The vector the gender probe reads: an identity network's own, MobileFaceNet's inside
    /// the look blend.
    probe_input: Vec<f32>,
    /// Probability of a woman by SSR-Net (faceplugin fr_gender), by dlib's gender network.
    ssr_woman: Option<f32>,
    dlib_woman: Option<f32>,
    /// Age by SSR-Net (which the look network blends in), by dlib's age network (the judge).
    ssr_age: Option<f32>,
    dlib_age: Option<f32>,
}

/// The models an evaluation runs besides the network.
struct Estimators {
    /// MobileFaceNet, for an identity network without a gender probe of its own: the probe
    /// reads MobileFaceNet's vector of the face, as the page does.
    identity: Option<Network>,
    ssr: Option<(AttributeNet, AttributeNet)>,
    dlib: Option<(DlibAttributeNet, DlibAttributeNet)>,
}

pub fn eval(args: EvalArgs) -> Result<()> {
    let data = dataset::open(&args.dataset)?;
    let labels = match &args.labels {
        Some(dir) => Some(read_lfw_labels(dir)?),
        None => None,
    };
    if (args.lookalike || args.estimators || args.train_probe.is_some()) && labels.is_none() {
        bail!("--lookalike, --estimators and --train-probe judge by human labels: give --labels");
    }
    let pairs = read_pairs(&args, &data)?;
    let pipeline = args.models.pipeline()?;
    let network = args.models.network()?;
    let with_estimates = labels.is_some();
    let estimators = load_estimators(&args.models, &network, with_estimates)?;

    let every_image = args.retrieval || with_estimates || args.export.is_some();
    let wanted: Vec<usize> = if every_image {
        (0..data.photos.len()).collect()
    } else {
        let in_pairs: HashSet<String> = pairs
            .iter()
            .flatten()
            .flat_map(|p| [p.first.path(), p.second.path()])
            .collect();
        (0..data.photos.len())
            .filter(|&i| in_pairs.contains(&data.relative(&data.photos[i])))
            .collect()
    };
    let started = Instant::now();
    let timings = EstimatorTimings::default();
    let analysed = analyse(&data, &wanted, &pipeline, &network, &estimators, &timings);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}: {} images of {} in {:.1} s, {:.1} ms per image on {} threads (detect, landmarks, embed{}); models {:.2} MB besides detector and landmarks",
        network.name(),
        wanted.len(),
        data.description,
        seconds,
        1e3 * seconds * rayon::current_num_threads() as f64 / wanted.len().max(1) as f64,
        rayon::current_num_threads(),
        if with_estimates {
            ", and the gender and age estimators"
        } else {
            ""
        },
        args.models.network_bytes()? as f64 / 1e6
    );
    if let Some(dir) = &args.export {
        export_vectors(dir, &data, &analysed)?;
    }
    let mut variants = vec![(network.name().to_string(), analysed.clone())];
    for weights in &args.blend {
        let blended = analysed
            .iter()
            .map(|a| {
                let a = a.as_ref()?;
                let (age, woman) = (a.ssr_age?, a.ssr_woman?);
                Some(Analysed {
                    vector: look_vector(&a.probe_input, age, 1.0 - woman, weights),
                    ..a.clone()
                })
            })
            .collect();
        variants.push((
            format!(
                "blend identity {:.2} / gender {:.2} / age {:.2}",
                weights.identity, weights.gender, weights.age
            ),
            blended,
        ));
    }
    let spec = args.models.spec()?;
    let study = labels.as_ref().map(|l| Study::new(&data, l, &args.dataset));
    // The probe reads a network's own vector where it has a probe (or one is being trained
    // on it), else MobileFaceNet's: inside the blend, or computed beside the network.
    let probe_network = match (&network, &estimators.identity) {
        (Network::Identity(_), None) => network.name(),
        _ => NetworkSpec::IDENTITY.name,
    };
    let probe = match (&args.train_probe, &study) {
        (Some(path), Some(study)) => Some(train_probe(path, study, &analysed)?),
        _ => GenderProbe::for_network(probe_network).cloned(),
    };
    if args.estimators
        && let Some(study) = &study
    {
        report_estimators(study, &analysed, probe.as_ref(), &args.models, &timings)?;
    }
    for (name, analysed) in &variants {
        if let Some(pairs) = &pairs {
            report_verification(name, &data, pairs, analysed)?;
        }
        if args.retrieval {
            report_retrieval(name, &data, analysed, study.as_ref(), None)?;
        }
        if let Some(study) = &study
            && (args.lookalike || args.retrieval)
        {
            let filters = GenderFilters::new(study, analysed, probe.as_ref());
            let configurations = preset_configurations(
                &filters,
                spec.same_person_similarity,
                spec.preset_same_person,
            );
            if args.retrieval {
                for (configuration, preset) in configurations.iter().skip(1) {
                    report_retrieval(
                        name,
                        &data,
                        analysed,
                        Some(study),
                        Some((configuration, preset)),
                    )?;
                }
            }
            if args.lookalike {
                report_lookalikes(name, study, analysed, &configurations)?;
            }
        }
    }
    Ok(())
}

fn read_pairs(args: &EvalArgs, data: &Dataset) -> Result<Option<Vec<LfwPair>>> {
    let path = match &args.pairs {
        Some(path) => path.clone(),
        None => {
            let default = args.dataset.join("pairs.txt");
            if !default.is_file() {
                return Ok(None);
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let pairs = parse_pairs(&text).with_context(|| path.display().to_string())?;
    let known: HashSet<String> = data.photos.iter().map(|p| data.relative(p)).collect();
    if let Some(missing) = pairs
        .iter()
        .flat_map(|p| [p.first.path(), p.second.path()])
        .find(|image| !known.contains(image))
    {
        bail!(
            "{} names {missing}, which is not in {}",
            path.display(),
            data.root.display()
        );
    }
    Ok(Some(pairs))
}

fn load_estimators(models: &ModelArgs, network: &Network, all: bool) -> Result<Estimators> {
    if !all {
        return Ok(Estimators {
            identity: None,
            ssr: None,
            dlib: None,
        });
    }
    let own_probe =
        matches!(network, Network::Look(_)) || GenderProbe::for_network(network.name()).is_some();
    let identity = if own_probe {
        None
    } else {
        let mobilefacenet = ModelArgs {
            network: NetworkSpec::IDENTITY.name.into(),
            ..models.clone()
        };
        Some(mobilefacenet.network()?)
    };
    Ok(Estimators {
        identity,
        ssr: Some((
            AttributeNet::new(Attribute::Age, &models.read(Attribute::Age.file())?)?,
            AttributeNet::new(Attribute::Gender, &models.read(Attribute::Gender.file())?)?,
        )),
        dlib: Some((
            DlibAttributeNet::new(DlibAttribute::Age, &models.read(DlibAttribute::Age.file())?)?,
            DlibAttributeNet::new(
                DlibAttribute::Gender,
                &models.read(DlibAttribute::Gender.file())?,
            )?,
        )),
    })
}

/// Time spent in each gender estimator over all faces, summed over the threads, so that each
/// is reported in ms per face beside its accuracy.
#[derive(Default)]
struct EstimatorTimings {
    faces: AtomicU64,
    /// MobileFaceNet's embedding for the probe, when the evaluated network is another one
    /// (otherwise the probe reads the vector already made, a dot product).
    probe_embedding_ns: AtomicU64,
    dlib_gender_ns: AtomicU64,
    ssr_gender_ns: AtomicU64,
}

impl EstimatorTimings {
    fn time<T>(counter: &AtomicU64, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = work();
        counter.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        result
    }

    fn ms_per_face(&self, counter: &AtomicU64) -> f64 {
        let faces = self.faces.load(Ordering::Relaxed).max(1);
        counter.load(Ordering::Relaxed) as f64 / 1e6 / faces as f64
    }
}

/// Every wanted photo's central face through the pipeline, in parallel; `None` where no face.
fn analyse(
    data: &Dataset,
    wanted: &[usize],
    pipeline: &FacePipeline,
    network: &Network,
    estimators: &Estimators,
    timings: &EstimatorTimings,
) -> Vec<Option<Analysed>> {
    let progress = ProgressBar::new(wanted.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {per_sec}, eta {eta}")
            .expect("valid template"),
    );
    let mut analysed: Vec<Option<Analysed>> = vec![None; data.photos.len()];
    let results: Vec<(usize, Option<Analysed>)> = wanted
        .par_iter()
        .map(|&index| {
            let result = (|| {
                let photo = read_photo(&data.photos[index].path).ok()?;
                let faces = pipeline.faces(&photo).ok()?;
                let face = central_face(&faces, &photo)?.face;
                let crop = network.aligned_crop(&photo, face).ok()?;
                let (vector, identity) = network
                    .embed_aligned_with_identity(&photo, face, &crop)
                    .ok()?;
                let probe_input = match (network, &estimators.identity) {
                    (Network::Look(_), _) => identity?,
                    (Network::Identity(_), Some(mobilefacenet)) => {
                        EstimatorTimings::time(&timings.probe_embedding_ns, || {
                            mobilefacenet.embed(&photo, face)
                        })
                        .ok()?
                    }
                    (Network::Identity(_), None) => vector.clone(),
                };
                let mut one = Analysed {
                    vector,
                    probe_input,
                    ..Analysed::default()
                };
                if let Some((age, gender)) = &estimators.ssr {
                    one.ssr_age = age.estimate(&photo, face).ok();
                    // SSR-Net's score reads above 0.5 as male.
                    one.ssr_woman = EstimatorTimings::time(&timings.ssr_gender_ns, || {
                        gender.estimate(&photo, face)
                    })
                    .ok()
                    .map(|m| 1.0 - m);
                }
                if let Some((age, gender)) = &estimators.dlib {
                    one.dlib_age = age.estimate(&photo, face).ok();
                    one.dlib_woman = EstimatorTimings::time(&timings.dlib_gender_ns, || {
                        gender.estimate(&photo, face)
                    })
                    .ok();
                }
                timings.faces.fetch_add(1, Ordering::Relaxed);
                Some(one)
            })();
            progress.inc(1);
            (index, result)
        })
        .collect();
    progress.finish_and_clear();
    for (index, result) in results {
        analysed[index] = result;
    }
    analysed
}

/// The labels of the dataset's people, and which half each person is in.
struct Study {
    /// Person number of each photo.
    person_of: Vec<u32>,
    /// Each photo's own gender label, where it has one.
    image_gender: Vec<Option<Gender>>,
    /// Each person's labels (gender by majority, race); the age is per photo.
    person_labels: Vec<Labels>,
    /// Whether each person is in a public list of celebrities.
    well_known: Vec<bool>,
    tuning: Vec<bool>,
}

impl Study {
    fn new(data: &Dataset, labels: &HumanLabels, dataset: &std::path::Path) -> Study {
        let names = std::fs::read_to_string(dataset.join("lfw-names.txt")).ok();
        let half = tuning_half(&data.keys, names.as_deref());
        let person_labels = data
            .keys
            .iter()
            .map(|key| Labels {
                gender: labels.person_gender.get(key).copied(),
                race: labels.race.get(key).copied(),
                age: None,
            })
            .collect();
        Study {
            person_of: data.photos.iter().map(|p| p.person as u32).collect(),
            image_gender: data
                .photos
                .iter()
                .map(|p| {
                    let file = p.path.file_name()?.to_str()?;
                    labels.image_gender.get(file).copied()
                })
                .collect(),
            person_labels,
            well_known: data
                .keys
                .iter()
                .map(|k| labels.well_known.contains(k))
                .collect(),
            tuning: data.keys.iter().map(|k| half.contains(k)).collect(),
        }
    }

    /// The people of a half: `Some(true)` tuning, `Some(false)` the other, `None` everyone.
    fn in_half(&self, person: u32, half: Option<bool>) -> bool {
        half.is_none_or(|tuning| self.tuning[person as usize] == tuning)
    }
}

const HALVES: [(Option<bool>, &str); 3] = [
    (None, "everyone"),
    (Some(true), "tuning half"),
    (Some(false), "other half"),
];

fn train_probe(
    path: &PathBuf,
    study: &Study,
    analysed: &[Option<Analysed>],
) -> Result<GenderProbe> {
    let samples: Vec<Sample> = analysed
        .iter()
        .enumerate()
        .filter(|(i, _)| study.tuning[study.person_of[*i] as usize])
        .filter_map(|(i, a)| {
            Some(Sample {
                vector: a.as_ref()?.probe_input.as_slice(),
                woman: study.image_gender[i]? == Gender::Female,
                person: study.person_of[i],
            })
        })
        .collect();
    if samples.is_empty() {
        bail!("no labelled image of the tuning half had a face");
    }
    let started = Instant::now();
    let (probe, l2, accuracy) = fit_cross_validated(&samples);
    std::fs::write(path, probe.to_text())
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "gender probe: trained on {} labelled images of the tuning half in {:.1} s (L2 {l2:e}, chosen by two-fold cross-validation over its people: balanced accuracy {accuracy:.4}); written to {}",
        samples.len(),
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(probe)
}

/// One estimate read off what an image gave.
type Reading<'a> = dyn Fn(&Analysed) -> Option<f32> + 'a;

/// Each gender estimator against each photo's own label, by half.
fn report_estimators(
    study: &Study,
    analysed: &[Option<Analysed>],
    probe: Option<&GenderProbe>,
    models: &ModelArgs,
    timings: &EstimatorTimings,
) -> Result<()> {
    let bytes = |file: &str| -> Result<u64> {
        let path = models.models.join(file);
        Ok(std::fs::metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len())
    };
    let probe_bytes = probe.map_or(0, |p| 4 * (p.weights.len() + 1));
    let probe_ms = timings.ms_per_face(&timings.probe_embedding_ns);
    let dlib_ms = timings.ms_per_face(&timings.dlib_gender_ns);
    let ssr_ms = timings.ms_per_face(&timings.ssr_gender_ns);
    let dlib_bytes = bytes(DlibAttribute::Gender.file())?;
    let read: [(String, &Reading); 4] = [
        (
            format!(
                "gender probe ({probe_bytes} bytes of weights; {probe_ms:.2} ms per face natively besides the evaluated network: a MobileFaceNet embedding unless that is the network)"
            ),
            &|a| probe.map(|p| p.woman(&a.probe_input)),
        ),
        (
            format!(
                "mean of the probe and the dlib gender network ({} bytes; {:.2} ms per face natively)",
                probe_bytes as u64 + dlib_bytes,
                probe_ms + dlib_ms
            ),
            &|a| Some((probe?.woman(&a.probe_input) + a.dlib_woman?) / 2.0),
        ),
        (
            format!(
                "dlib gender network ({dlib_bytes} bytes packed; {dlib_ms:.2} ms per face natively)"
            ),
            &|a| a.dlib_woman,
        ),
        (
            format!(
                "SSR-Net fr_gender ({} bytes packed; {ssr_ms:.2} ms per face natively)",
                bytes(Attribute::Gender.file())?
            ),
            &|a| a.ssr_woman,
        ),
    ];
    for (name, estimate) in read {
        for (half, half_name) in HALVES {
            let pairs = analysed.iter().enumerate().filter_map(|(i, a)| {
                if !study.in_half(study.person_of[i], half) {
                    return None;
                }
                Some((study.image_gender[i]?, estimate(a.as_ref()?)?))
            });
            println!(
                "gender estimate, {name}, {half_name}: accuracy {}",
                gender_accuracy(pairs)
            );
        }
    }
    Ok(())
}

/// How the page presets its gender filter for a face: by an estimate of the face, except that
/// a neighbour above the network's same-person similarity is taken for the same person, whose
/// catalog gender then decides.
struct GenderFilters<'a> {
    study: &'a Study,
    estimates: Vec<(&'static str, Vec<Option<f32>>)>,
}

impl<'a> GenderFilters<'a> {
    fn new(study: &'a Study, analysed: &[Option<Analysed>], probe: Option<&GenderProbe>) -> Self {
        let of = |read: &Reading| -> Vec<Option<f32>> {
            analysed.iter().map(|a| read(a.as_ref()?)).collect()
        };
        let mut estimates = Vec::new();
        if let Some(probe) = probe {
            estimates.push(("probe", of(&|a| Some(probe.woman(&a.probe_input)))));
            estimates.push((
                "probe and dlib",
                of(&|a| Some((probe.woman(&a.probe_input) + a.dlib_woman?) / 2.0)),
            ));
        }
        estimates.push(("dlib", of(&|a| a.dlib_woman)));
        estimates.push(("ssr", of(&|a| a.ssr_woman)));
        GenderFilters { study, estimates }
    }

    /// The preset for every photo by estimator `name`, with the same-person rule at
    /// `same_person` if given.
    fn preset(&self, name: &str, same_person: Option<f32>) -> Option<Preset<'_>> {
        let (_, estimates) = self.estimates.iter().find(|(n, _)| *n == name)?;
        Some(Preset {
            study: self.study,
            estimates,
            same_person,
            well_known_only: false,
        })
    }
}

/// The gender filter one estimator presets.
struct Preset<'a> {
    study: &'a Study,
    estimates: &'a [Option<f32>],
    /// Above this similarity the nearest item decides; `None`: the estimate alone.
    same_person: Option<f32>,
    /// Only people in a public list of celebrities.
    well_known_only: bool,
}

impl Preset<'_> {
    /// The gender shown to photo `query`, whose nearest items (unfiltered) are `nearest`.
    fn gender(&self, query: usize, nearest: &[Neighbour]) -> Option<Gender> {
        if let (Some(threshold), Some(first)) = (self.same_person, nearest.first())
            && first.similarity() >= threshold
        {
            let person = self.study.person_of[first.item as usize];
            if let Some(gender) = self.study.person_labels[person as usize].gender {
                return Some(gender);
            }
        }
        let woman = self.estimates[query]?;
        Some(if woman >= 0.5 {
            Gender::Female
        } else {
            Gender::Male
        })
    }

    /// Whether photo `item` passes the filter for `gender`: its person has that gender, or no
    /// label (such a person is shown to everyone).
    fn passes(&self, item: u32, gender: Gender) -> bool {
        let person = self.study.person_of[item as usize] as usize;
        self.study.person_labels[person]
            .gender
            .is_none_or(|g| g == gender)
            && (!self.well_known_only || self.study.well_known[person])
    }
}

/// The filters judged: none, each estimator's preset, and the best estimator's with the
/// same-person rule at the network's verification threshold and above it.
fn preset_configurations<'a>(
    filters: &'a GenderFilters,
    same_person: f32,
    shipped: f32,
) -> Vec<(String, Option<Preset<'a>>)> {
    let mut configurations: Vec<(String, Option<Preset>)> = vec![("no filter".into(), None)];
    for (estimator, _) in &filters.estimates {
        configurations.push((
            format!("gender filter preset by the {estimator} estimate"),
            filters.preset(estimator, None),
        ));
    }
    for threshold in [same_person, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8] {
        configurations.push((
            format!(
                "gender filter preset by the probe and dlib estimate, a neighbour above {threshold:.3} deciding"
            ),
            filters.preset("probe and dlib", Some(threshold)),
        ));
    }
    configurations.push((
        format!("the page's default (preset as above at {shipped:.3}), well-known people only"),
        filters
            .preset("probe and dlib", Some(shipped))
            .map(|p| Preset {
                well_known_only: true,
                ..p
            }),
    ));
    configurations
}

/// The photos that had a face, as an exact-search store, and the photo number of each row.
fn store_of(analysed: &[Option<Analysed>]) -> Result<(F32Vectors, Vec<usize>)> {
    let rows: Vec<usize> = (0..analysed.len())
        .filter(|&i| analysed[i].is_some())
        .collect();
    let Some(dim) = rows
        .first()
        .map(|&i| analysed[i].as_ref().map_or(0, |a| a.vector.len()))
    else {
        bail!("no image had a face");
    };
    let data = rows
        .iter()
        .flat_map(|&i| {
            analysed[i]
                .as_ref()
                .map_or(&[][..], |a| &a.vector[..])
                .iter()
                .copied()
        })
        .collect();
    Ok((F32Vectors::from_rows(dim, data)?, rows))
}

fn report_verification(
    name: &str,
    data: &Dataset,
    pairs: &[LfwPair],
    analysed: &[Option<Analysed>],
) -> Result<()> {
    let by_path: HashMap<String, &Analysed> = data
        .photos
        .iter()
        .zip(analysed)
        .filter_map(|(p, a)| Some((data.relative(p), a.as_ref()?)))
        .collect();
    let scores: Vec<Option<f32>> = pairs
        .iter()
        .map(|p| {
            let a = by_path.get(&p.first.path())?;
            let b = by_path.get(&p.second.path())?;
            Some(a.vector.iter().zip(&b.vector).map(|(x, y)| x * y).sum())
        })
        .collect();
    // Only the pair files' images were analysed; of those, the ones without a face.
    let faceless = pairs
        .iter()
        .flat_map(|p| [p.first.path(), p.second.path()])
        .collect::<std::collections::HashSet<_>>()
        .iter()
        .filter(|path| !by_path.contains_key(*path))
        .count();
    let Some(result) = k_fold_verification(pairs, &scores) else {
        bail!("the pair file needs at least two folds");
    };
    let dim = by_path.values().next().map_or(0, |a| a.vector.len());
    println!(
        "{name} ({dim}-d): LFW {}-fold accuracy {:.2} % ± {:.2}; {} of its images without a face, {} pairs unscored (counted wrong)",
        result.fold_accuracies.len(),
        100.0 * result.mean,
        100.0 * result.std,
        faceless,
        result.unscored,
    );
    let threshold = result.thresholds.iter().sum::<f32>() / result.thresholds.len() as f32;
    println!("{name}: same-person cosine threshold {threshold:.3} (mean over the folds)");
    Ok(())
}

/// Identity retrieval: each photo of a person with two or more queries the others; with a
/// preset, among those of the gender the page would preset.
fn report_retrieval(
    name: &str,
    data: &Dataset,
    analysed: &[Option<Analysed>],
    study: Option<&Study>,
    preset: Option<(&String, &Option<Preset>)>,
) -> Result<()> {
    let (configuration, preset) = match preset {
        Some((configuration, Some(preset))) => (format!(", {configuration}"), Some(preset)),
        _ => (String::new(), None),
    };
    let (store, rows) = store_of(analysed)?;
    let person = |row: u32| data.photos[rows[row as usize]].person;
    let mut photos_of = vec![0usize; data.people.len()];
    for &i in &rows {
        photos_of[data.photos[i].person] += 1;
    }
    let queries: Vec<u32> = (0..rows.len() as u32)
        .filter(|&row| photos_of[person(row)] >= 2)
        .collect();
    let outcomes: Vec<(usize, f64, bool, bool)> = queries
        .par_iter()
        .map(|&row| {
            let vector = &analysed[rows[row as usize]]
                .as_ref()
                .expect("a row has a face")
                .vector;
            let me = person(row);
            let not_me = |item: u32| item != row;
            let mut found = exact_search(&store, vector, 11, Some(&not_me));
            if let Some(preset) = preset {
                let nearest: Vec<Neighbour> = found
                    .iter()
                    .map(|n| Neighbour {
                        item: rows[n.item as usize] as u32,
                        ..*n
                    })
                    .collect();
                if let Some(gender) = preset.gender(rows[row as usize], &nearest) {
                    let keep = |item: u32| {
                        item != row && preset.passes(rows[item as usize] as u32, gender)
                    };
                    found = exact_search(&store, vector, 10, Some(&keep));
                }
            }
            let ranked: Vec<bool> = found
                .iter()
                .take(10)
                .map(|n| person(n.item) == me)
                .collect();
            (
                me,
                ndcg_at_k(&ranked, photos_of[me] - 1, 10).unwrap_or(0.0),
                hit_at_k(&ranked, 1),
                hit_at_k(&ranked, 5),
            )
        })
        .collect();
    for (half, half_name) in HALVES {
        if half.is_some() && study.is_none() {
            continue;
        }
        let of_half: Vec<&(usize, f64, bool, bool)> = outcomes
            .iter()
            .filter(|o| study.is_none_or(|s| s.in_half(o.0 as u32, half)))
            .collect();
        let share = |pick: fn(&(usize, f64, bool, bool)) -> f64| {
            mean(of_half.iter().map(|o| pick(o))).unwrap_or(0.0)
        };
        println!(
            "{name}: identity retrieval{configuration}, {half_name}: {} queries (photos of people with >= 2 of {} images, {}-d); nDCG@10 {:.4}, recall@1 {:.4}, recall@5 {:.4}",
            of_half.len(),
            rows.len(),
            store.dim(),
            share(|o| o.1),
            share(|o| f64::from(u8::from(o.2))),
            share(|o| f64::from(u8::from(o.3)))
        );
    }
    Ok(())
}

/// A row of the dataset found for a query, and its similarity to the query.
type RowSimilarity = (u32, f32);

/// Look-alikes for people left out of the index, without a filter and with each preset.
fn report_lookalikes(
    name: &str,
    study: &Study,
    analysed: &[Option<Analysed>],
    configurations: &[(String, Option<Preset>)],
) -> Result<()> {
    let (store, rows) = store_of(analysed)?;
    // Each person's first photo that had a face.
    let mut first_row: HashMap<u32, u32> = HashMap::new();
    for (row, &photo) in rows.iter().enumerate() {
        first_row
            .entry(study.person_of[photo])
            .or_insert(row as u32);
    }
    let mut queries: Vec<(u32, u32)> = first_row.into_iter().collect();
    queries.sort();
    let person_of_row = |row: u32| study.person_of[rows[row as usize]];
    let age_of_row = |row: u32| {
        analysed[rows[row as usize]]
            .as_ref()
            .and_then(|a| a.dlib_age)
    };

    for (configuration, preset) in configurations {
        // For each query: the query photo, and the rows of the people found, nearest first,
        // with their similarities.
        let found: Vec<(u32, u32, Vec<RowSimilarity>)> = queries
            .par_iter()
            .map(|&(person, row)| {
                let vector = &analysed[rows[row as usize]]
                    .as_ref()
                    .expect("a face")
                    .vector;
                let others = |item: u32| person_of_row(item) != person;
                let gender = preset.as_ref().and_then(|p| {
                    let nearest: Vec<Neighbour> = exact_search(&store, vector, 1, Some(&others))
                        .into_iter()
                        .map(|n| Neighbour {
                            item: rows[n.item as usize] as u32,
                            ..n
                        })
                        .collect();
                    p.gender(rows[row as usize], &nearest)
                });
                let keep = |item: u32| {
                    others(item)
                        && gender.is_none_or(|g| {
                            preset
                                .as_ref()
                                .is_none_or(|p| p.passes(rows[item as usize] as u32, g))
                        })
                };
                let hits = until_groups(
                    |k| Ok(exact_search(&store, vector, k, Some(&keep))),
                    person_of_row,
                    TOP,
                    8 * TOP,
                    store.len(),
                )
                .unwrap_or_default();
                let mut seen = HashSet::new();
                let people: Vec<RowSimilarity> = hits
                    .iter()
                    .filter(|n| seen.insert(person_of_row(n.item)))
                    .take(TOP)
                    .map(|n| (n.item, n.similarity()))
                    .collect();
                (person, row, people)
            })
            .collect();
        for (half, half_name) in HALVES {
            let query_labels: Vec<(Labels, Vec<Labels>)> = found
                .iter()
                .filter(|(person, _, _)| study.in_half(*person, half))
                .map(|(person, row, people)| {
                    let labels_of = |person: u32, row: u32| Labels {
                        age: age_of_row(row),
                        ..study.person_labels[person as usize].clone()
                    };
                    (
                        labels_of(*person, *row),
                        people
                            .iter()
                            .map(|&(r, _)| labels_of(person_of_row(r), r))
                            .collect(),
                    )
                })
                .collect();
            let report = judge(
                query_labels.iter().map(|(query, found)| Judged {
                    query,
                    found: found.iter().collect(),
                }),
                TOP,
            );
            let in_half: Vec<&Vec<RowSimilarity>> = found
                .iter()
                .filter(|(person, _, _)| study.in_half(*person, half))
                .map(|(_, _, people)| people)
                .collect();
            let first = mean(
                in_half
                    .iter()
                    .filter_map(|p| p.first())
                    .map(|(_, s)| f64::from(*s)),
            );
            let all = mean(
                in_half
                    .iter()
                    .flat_map(|p| p.iter())
                    .map(|(_, s)| f64::from(*s)),
            );
            println!(
                "{name}, look-alikes, {configuration}, {half_name}: {report}; mean similarity at 1 {:.3}, at {TOP} {:.3}",
                first.unwrap_or(0.0),
                all.unwrap_or(0.0)
            );
        }
    }
    Ok(())
}

/// Splits the embeddings into items and held-out queries and writes both as .npy.
fn export_vectors(
    dir: &std::path::Path,
    data: &Dataset,
    analysed: &[Option<Analysed>],
) -> Result<()> {
    use crate::vectors_io::{Matrix, write_npy};
    let mut named: Vec<(String, &Vec<f32>)> = data
        .photos
        .iter()
        .zip(analysed)
        .filter_map(|(p, a)| Some((data.relative(p), &a.as_ref()?.vector)))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let Some(dim) = named.first().map(|(_, v)| v.len()) else {
        bail!("no embeddings to export");
    };
    let (mut items, mut queries) = (Vec::new(), Vec::new());
    for (position, (_, vector)) in named.iter().enumerate() {
        let target = if position % 13 == 0 {
            &mut queries
        } else {
            &mut items
        };
        target.extend_from_slice(vector);
    }
    std::fs::create_dir_all(dir)?;
    write_npy(&dir.join("items.npy"), &Matrix { dim, data: items })?;
    write_npy(&dir.join("queries.npy"), &Matrix { dim, data: queries })?;
    eprintln!("wrote {}/items.npy and queries.npy", dir.display());
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
