//! The engine natively, through the same calls the worker program makes, with its files served
//! from memory. Without the models only loading and the queue are exercised; with them
//! (scripts/test.sh fetches them and sets CF_MODELS, CF_TEST_PHOTOS and CF_REQUIRE_MODELS=1)
//! real photos go through the whole pipeline and search of the shipped index.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use cf_engine::{Clock, Command, Engine, INDEX_BASE, MODELS_BASE, Readiness};
use cf_forest::Searcher;
use cf_protocol::{
    FaceRect, Filter, GenderChoice, LoadProblem, MorphProblem, PhotoProblem, Reply, Request,
    TurnedFace,
};
use cf_shards::{FileStore, MemoryStore, parse_manifest};

/// A clock that moves a millisecond each time it is read.
#[derive(Default)]
struct TickingClock(Cell<f64>);

impl Clock for &TickingClock {
    fn now(&self) -> f64 {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

type TestEngine<'a> = Engine<u32, &'a TickingClock>;

const PAGE: u32 = 7;

fn root() -> PathBuf {
    // Read when the test runs, not baked in by env!(): the build cache outside the clone is
    // shared by every checkout, so a test binary built in another one may be reused.
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("../..")
}

fn shipped_manifest() -> String {
    std::fs::read_to_string(root().join("index-shards/manifest.json")).unwrap()
}

fn load_request(manifest: &str, network: &str) -> Request {
    Request::Load {
        manifest: manifest.to_string(),
        network: network.to_string(),
    }
}

/// Steps until nothing is runnable, running every load against `store`; returns the replies.
fn settle(engine: &mut TestEngine, store: &MemoryStore, clock: &TickingClock) -> Vec<Reply> {
    let mut replies = Vec::new();
    let mut commands = Vec::new();
    loop {
        if commands.is_empty() {
            if !engine.has_work() {
                return replies;
            }
            commands = engine.step();
            continue;
        }
        for command in std::mem::take(&mut commands) {
            match command {
                Command::Reply(to, reply) => {
                    assert_eq!(to, PAGE);
                    replies.push(reply);
                }
                Command::Load(order) => {
                    let progress = std::cell::RefCell::new(Vec::new());
                    let report = |_, done, total| progress.borrow_mut().push((done, total));
                    let loaded = futures::executor::block_on(order.run(store, &clock, &report));
                    let progress = progress.into_inner();
                    assert!(
                        progress.windows(2).all(|w| w[0].0 <= w[1].0),
                        "progress only grows: {progress:?}"
                    );
                    commands.extend(engine.loaded(loaded));
                }
                Command::Portrait(order) => {
                    // As the worker program does: download, decode, hand over.
                    let downloaded =
                        futures::executor::block_on(store.download(&order.url, &mut |_| {}));
                    let portrait = match downloaded {
                        Ok(bytes) => cf_face::Photo::decode(&bytes).map_err(|e| {
                            MorphProblem::NoFaceInPortrait {
                                detail: e.to_string(),
                            }
                        }),
                        Err(error) => Err(MorphProblem::PortraitUnreachable {
                            detail: format!("{error:?}"),
                        }),
                    };
                    commands.extend(engine.portrait_arrived(order, portrait));
                }
            }
        }
    }
}

#[test]
fn a_photo_given_before_the_load_waits_for_it_and_a_failed_load_answers_it() {
    let clock = TickingClock::default();
    let store = MemoryStore::default();
    let mut engine: TestEngine = Engine::new(&clock);
    engine.received(
        PAGE,
        Request::Analyse {
            seq: 1,
            photo: 1,
            bytes: vec![0xff, 0xd8],
            filter: Filter::default(),
        },
    );
    assert!(!engine.has_work(), "nothing to analyse with yet");
    assert!(engine.step().is_empty());
    engine.received(PAGE, load_request(&shipped_manifest(), "mobilefacenet192"));
    // The server has none of the files: the first one the load needs is missing.
    let replies = settle(&mut engine, &store, &clock);
    let [
        Reply::LoadFailed { network, problem },
        Reply::PhotoFailed {
            seq,
            problem: photo_problem,
            ..
        },
    ] = &replies[..]
    else {
        panic!("{replies:?}");
    };
    assert_eq!(network, "mobilefacenet192");
    assert!(
        matches!(problem, LoadProblem::Http { status: 404, file } if file == cf_face::detect::FILES[0]),
        "{problem:?}"
    );
    assert_eq!((*seq, photo_problem), (1, &PhotoProblem::NotReady));
    assert!(matches!(engine.readiness(), Readiness::Failed { .. }));
}

#[test]
fn a_manifest_that_does_not_parse_and_an_unknown_network_are_their_own_problems() {
    let clock = TickingClock::default();
    let store = MemoryStore::default();
    let mut engine: TestEngine = Engine::new(&clock);
    engine.received(PAGE, load_request("{not json", "mobilefacenet192"));
    let replies = settle(&mut engine, &store, &clock);
    assert!(
        matches!(
            &replies[..],
            [Reply::LoadFailed {
                problem: LoadProblem::Manifest { .. },
                ..
            }]
        ),
        "{replies:?}"
    );
    engine.received(PAGE, load_request(&shipped_manifest(), "no-such-network"));
    let replies = settle(&mut engine, &store, &clock);
    assert!(
        matches!(&replies[..], [Reply::LoadFailed { problem: LoadProblem::UnknownNetwork { network }, .. }] if network == "no-such-network"),
        "{replies:?}"
    );
}

/// The shipped index and the fetched models, served from memory; None when the models are not
/// here (a failure under CF_REQUIRE_MODELS=1).
fn served_site() -> Option<(MemoryStore, Option<PathBuf>)> {
    let models = std::env::var_os("CF_MODELS").map_or(root().join("models"), PathBuf::from);
    if !models.join(cf_face::detect::FILES[1]).exists() {
        assert!(
            std::env::var("CF_REQUIRE_MODELS").as_deref() != Ok("1"),
            "models missing: run scripts/fetch-models.sh"
        );
        eprintln!("models not fetched; skipping");
        return None;
    }
    let store = MemoryStore::default();
    let serve_folder = |folder: &Path, base: &str| {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            store.serve(&format!("{base}/{name}"), std::fs::read(&path).unwrap());
        }
    };
    serve_folder(&root().join("index-shards"), INDEX_BASE);
    serve_folder(&models, MODELS_BASE);
    let photos = std::env::var_os("CF_TEST_PHOTOS").map(PathBuf::from);
    Some((store, photos))
}

fn obama(photos: &Option<PathBuf>) -> Option<Vec<u8>> {
    let path = photos.as_ref()?.join("obama.jpg");
    std::fs::read(path).ok()
}

/// The served site and obama.jpg's bytes; None when either is not here (a failure under
/// CF_REQUIRE_MODELS=1).
fn site_and_obama() -> Option<(MemoryStore, Vec<u8>)> {
    let (store, photos) = served_site()?;
    let Some(bytes) = obama(&photos) else {
        assert!(std::env::var("CF_REQUIRE_MODELS").as_deref() != Ok("1"));
        return None;
    };
    Some((store, bytes))
}

/// Loads `network` alone (no settling): the replies to the load.
fn load_only(
    engine: &mut TestEngine,
    store: &MemoryStore,
    clock: &TickingClock,
    network: &str,
) -> Vec<Reply> {
    engine.received(PAGE, load_request(&shipped_manifest(), network));
    let mut commands = engine.step().into_iter();
    let (Some(Command::Load(order)), None) = (commands.next(), commands.next()) else {
        panic!("a load gives one order");
    };
    let loaded = futures::executor::block_on(order.run(store, &clock, &|_, _, _| {}));
    engine
        .loaded(loaded)
        .into_iter()
        .map(|command| match command {
            Command::Reply(_, reply) => reply,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Once the models are in and nothing is asked, the engine runs its networks on a made-up
/// photo, a network a step and silently, so that the visitor's first photo runs in optimised
/// code; a photo on its way ends that at once, and it never comes back.
#[test]
fn once_ready_and_idle_the_engine_warms_up_until_a_photo_comes() {
    let Some((store, bytes)) = site_and_obama() else {
        return;
    };
    let clock = TickingClock::default();
    let mut engine: TestEngine = Engine::new(&clock);
    let replies = load_only(&mut engine, &store, &clock, "mobilefacenet192");
    assert!(
        matches!(&replies[..], [Reply::Catalog { .. }, Reply::Ready { .. }]),
        "{replies:?}"
    );
    let mut steps = 0;
    while engine.has_work() {
        assert!(engine.step().is_empty(), "the warm-up answers nothing");
        steps += 1;
    }
    // The first look, the landmarks and the embedding network, twice each; then the second
    // look's network prepared.
    assert_eq!(steps, 7);

    let mut engine: TestEngine = Engine::new(&clock);
    load_only(&mut engine, &store, &clock, "mobilefacenet192");
    assert!(engine.has_work());
    assert!(engine.step().is_empty());
    engine.photo_coming();
    assert!(!engine.has_work(), "a photo on its way ends the warm-up");
    engine.received(
        PAGE,
        Request::Analyse {
            seq: 1,
            photo: 1,
            bytes,
            filter: Filter::default(),
        },
    );
    let replies = settle(&mut engine, &store, &clock);
    assert!(
        matches!(
            &replies[..],
            [
                Reply::Faces { .. },
                Reply::Matches { .. },
                Reply::MoreFaces { .. }
            ]
        ),
        "{replies:?}"
    );
    assert!(!engine.has_work());

    // A photo given before the models are in: no warm-up after them either.
    let mut engine: TestEngine = Engine::new(&clock);
    engine.photo_coming();
    load_only(&mut engine, &store, &clock, "mobilefacenet192");
    assert!(!engine.has_work());
}

#[test]
fn a_photo_is_boxed_and_matched_as_the_index_itself_answers() {
    let Some((store, bytes)) = site_and_obama() else {
        return;
    };
    let clock = TickingClock::default();
    let mut engine: TestEngine = Engine::new(&clock);
    engine.received(PAGE, load_request(&shipped_manifest(), "mobilefacenet192"));
    engine.received(
        PAGE,
        Request::Analyse {
            seq: 1,
            photo: 1,
            bytes: bytes.clone(),
            filter: Filter::default(),
        },
    );
    let replies = settle(&mut engine, &store, &clock);
    let [
        Reply::Catalog { json },
        Reply::Ready { network, items, .. },
        Reply::Faces { faces, chosen, .. },
        Reply::Matches {
            seq,
            hits,
            face,
            filter,
            woman,
            ..
        },
        Reply::MoreFaces {
            seq: 1,
            faces: more,
            ..
        },
    ] = &replies[..]
    else {
        panic!(
            "{:?}",
            replies
                .iter()
                .map(std::mem::discriminant)
                .collect::<Vec<_>>()
        );
    };
    assert_eq!((network.as_str(), *items), ("mobilefacenet192", 13233));
    assert_eq!(
        json,
        &std::fs::read(root().join("index-shards/catalog.json")).unwrap(),
        "the catalog goes to the page as it was verified"
    );
    // The estimate presets the filter, and says so.
    assert!(
        woman.is_some_and(|w| w < 0.2),
        "obama.jpg read as a man: {woman:?}"
    );
    assert_eq!(filter.gender, Some(GenderChoice::Men));
    assert_eq!((faces.len(), *chosen, *seq), (1, Some(0), 1));
    assert!(
        more.is_empty(),
        "the second look finds no other face: {more:?}"
    );
    assert_eq!(*face, faces[0]);
    assert!(hits.len() >= cf_engine::HITS);

    // The same vector searched directly in the decoded index, with the same filter, gives the
    // same hits.
    let manifest = parse_manifest(shipped_manifest().as_bytes()).unwrap();
    let network = &manifest.networks[0];
    let shards: Vec<Vec<u8>> = network
        .shards
        .iter()
        .map(|s| std::fs::read(root().join("index-shards").join(&s.file)).unwrap())
        .collect();
    let index = cf_shards::decode_network(
        network,
        &shards.iter().map(Vec::as_slice).collect::<Vec<_>>(),
    )
    .unwrap();
    let models = std::env::var_os("CF_MODELS").map_or(root().join("models"), PathBuf::from);
    let read = |file: &str| std::fs::read(models.join(file)).unwrap();
    let pipeline = cf_face::FacePipeline::load(|file| Ok(read(file))).unwrap();
    let embedder = cf_face::Network::load(cf_face::NetworkSpec::IDENTITY, |f| Ok(read(f))).unwrap();
    let photo = cf_face::Photo::decode(&bytes).unwrap();
    let found = pipeline.faces(&photo).unwrap();
    let vector = embedder.embed(&photo, &found[0]).unwrap();
    let catalog: cf_shards::Catalog =
        serde_json::from_slice(&std::fs::read(root().join("index-shards/catalog.json")).unwrap())
            .unwrap();
    let people = cf_engine::People::new(&catalog);
    let (direct, applied) = cf_engine::search_filtered(
        &*index,
        &mut Searcher::new(),
        &vector,
        cf_engine::HITS,
        network.search_k,
        Some(&people),
        *filter,
        *woman,
        cf_face::NetworkSpec::IDENTITY.preset_same_person,
    )
    .unwrap();
    assert_eq!(applied, *filter);
    assert!(direct.iter().all(|n| people.passes(n.item, filter)));
    let direct: Vec<u32> = direct.iter().map(|n| n.item).collect();
    let answered: Vec<u32> = hits.iter().map(|h| h.item).collect();
    assert_eq!(answered, direct);

    // A run of box drags, queued while the engine was busy, costs one match: the last one.
    for seq in 2..=6 {
        let grow = seq as f32;
        let rect = FaceRect {
            x1: faces[0].x1 - grow,
            y1: faces[0].y1 - grow,
            x2: faces[0].x2 + grow,
            y2: faces[0].y2 + grow,
            quarter_turns: 0,
        };
        engine.received(
            PAGE,
            Request::Match {
                seq,
                photo: 1,
                face: rect,
                filter: Filter::default(),
            },
        );
    }
    let replies = settle(&mut engine, &store, &clock);
    assert!(
        matches!(&replies[..], [Reply::Matches { seq: 6, .. }]),
        "{replies:?}"
    );

    // A box too small to read is refused with the smallest side that reads.
    engine.received(
        PAGE,
        Request::Match {
            seq: 7,
            photo: 1,
            face: FaceRect {
                x1: 10.0,
                y1: 10.0,
                x2: 20.0,
                y2: 20.0,
                quarter_turns: 0,
            },
            filter: Filter::default(),
        },
    );
    let replies = settle(&mut engine, &store, &clock);
    assert!(
        matches!(
            &replies[..],
            [Reply::PhotoFailed {
                seq: 7,
                problem: PhotoProblem::BoxTooSmall { min_side: 16 },
                ..
            }]
        ),
        "{replies:?}"
    );
    // A box on an older photo is stale and gets no answer; an item query does.
    engine.received(
        PAGE,
        Request::Match {
            seq: 8,
            photo: 0,
            face: faces[0],
            filter: Filter::default(),
        },
    );
    engine.received(PAGE, Request::QueryItem { seq: 9, item: 5 });
    let replies = settle(&mut engine, &store, &clock);
    let [
        Reply::ItemHits {
            seq: 9,
            item: 5,
            hits,
            exact_overlap,
            ..
        },
    ] = &replies[..]
    else {
        panic!("{replies:?}");
    };
    assert_eq!(hits[0].item, 5);
    assert!(*exact_overlap >= 9);

    // Another filter for the same face: no network runs, only the search, and only women.
    let women = Filter {
        gender: Some(GenderChoice::Women),
        well_known_only: false,
    };
    engine.received(
        PAGE,
        Request::Refilter {
            seq: 10,
            photo: 1,
            filter: women,
        },
    );
    let replies = settle(&mut engine, &store, &clock);
    let [
        Reply::Matches {
            seq: 10,
            hits,
            filter,
            times,
            ..
        },
    ] = &replies[..]
    else {
        panic!("{replies:?}");
    };
    assert_eq!(*filter, women);
    assert_eq!((times.embed, times.landmarks), (0.0, 0.0));
    assert!(hits.iter().all(|h| people.passes(h.item, &women)));
    let mut seen = std::collections::HashSet::new();
    assert!(
        hits.iter()
            .filter(|h| seen.insert(people.person_of(h.item)))
            .count()
            >= cf_protocol::CARDS
    );
}

#[test]
fn a_damaged_second_network_leaves_the_first_one_searched() {
    let Some((store, _)) = served_site() else {
        return;
    };
    let manifest = shipped_manifest();
    let look = parse_manifest(manifest.as_bytes())
        .unwrap()
        .networks
        .into_iter()
        .find(|n| n.name != "mobilefacenet192")
        .expect("a second network");
    let shard = format!("{INDEX_BASE}/{}", look.shards[0].file);
    let mut damaged = store.served.borrow()[&shard].clone().unwrap();
    damaged[40] ^= 1;
    store.serve(&shard, damaged);

    let clock = TickingClock::default();
    let mut engine: TestEngine = Engine::new(&clock);
    engine.received(PAGE, load_request(&manifest, "mobilefacenet192"));
    settle(&mut engine, &store, &clock);
    engine.received(PAGE, load_request(&manifest, &look.name));
    let replies = settle(&mut engine, &store, &clock);
    let Some(Reply::LoadFailed { network, problem }) = replies.last() else {
        panic!("{replies:?}");
    };
    assert_eq!(network, &look.name);
    assert!(
        matches!(problem, LoadProblem::Damaged { file, detail } if *file == look.shards[0].file && detail.contains("checksum")),
        "{problem:?}"
    );
    assert_eq!(
        engine.readiness(),
        &Readiness::Ready {
            network: "mobilefacenet192".into()
        }
    );
    // Loading the first network again is immediate: it is kept.
    engine.received(PAGE, load_request(&manifest, "mobilefacenet192"));
    let downloads = store.downloads.borrow().len();
    let replies = settle(&mut engine, &store, &clock);
    assert!(matches!(&replies[..], [Reply::Ready { .. }]), "{replies:?}");
    assert_eq!(store.downloads.borrow().len(), downloads);
}

#[test]
fn a_photo_decoded_by_the_browser_is_analysed_without_decoding_its_bytes_again() {
    let Some((store, bytes)) = site_and_obama() else {
        return;
    };
    let clock = TickingClock::default();
    let mut engine: TestEngine = Engine::new(&clock);
    engine.received(PAGE, load_request(&shipped_manifest(), "mobilefacenet192"));
    let decoded = cf_face::Photo::decode(&bytes).unwrap();
    let analyse = |seq, bytes: Vec<u8>| Request::Analyse {
        seq,
        photo: seq,
        bytes,
        filter: Filter::default(),
    };
    // Bytes no decoder reads: only the pixels given beside them can be analysed.
    engine.decoded_elsewhere(1, decoded.clone(), 12.5);
    engine.received(PAGE, analyse(1, b"not decoded here".to_vec()));
    let replies = settle(&mut engine, &store, &clock);
    let Some(Reply::Faces { faces, times, .. }) =
        replies.iter().find(|r| matches!(r, Reply::Faces { .. }))
    else {
        panic!("{replies:?}");
    };
    assert_eq!(faces.len(), 1);
    assert_eq!(times.decode, 12.5, "the decoder's own time is reported");
    assert!(
        replies
            .iter()
            .any(|r| matches!(r, Reply::Matches { seq: 1, .. }))
    );

    // Pixels given for another photo are not used for this one: its bytes are decoded.
    engine.decoded_elsewhere(5, decoded, 1.0);
    engine.received(PAGE, analyse(2, b"not a photo".to_vec()));
    let replies = settle(&mut engine, &store, &clock);
    assert!(
        matches!(
            replies[..],
            [Reply::PhotoFailed {
                seq: 2,
                problem: PhotoProblem::UnknownFormat { .. },
                ..
            }]
        ),
        "{replies:?}"
    );
}

/// `photo` made `factor` times smaller, each pixel the mean of a `factor` x `factor` block.
fn shrunk(photo: &cf_face::Photo, factor: usize) -> cf_face::Photo {
    let (width, height) = (photo.width / factor, photo.height / factor);
    let mut rgb = Vec::with_capacity(3 * width * height);
    for y in 0..height {
        for x in 0..width {
            for channel in 0..3 {
                let mut sum = 0usize;
                for dy in 0..factor {
                    for dx in 0..factor {
                        let at = 3 * ((y * factor + dy) * photo.width + x * factor + dx);
                        sum += usize::from(photo.rgb[at + channel]);
                    }
                }
                rgb.push((sum / (factor * factor)) as u8);
            }
        }
    }
    cf_face::Photo { width, height, rgb }
}

/// A 1600 x 1000 group photo: `big` at the left, half its size, and `small` ones in a row at
/// the right, an eighth of theirs (portraits about 150 px tall, faces of about 60 px: 12 px in
/// the first look's 320 input).
fn group_photo(big: &cf_face::Photo, small: &[cf_face::Photo]) -> cf_face::Photo {
    let (width, height) = (1600, 1000);
    let mut rgb = vec![200u8; 3 * width * height];
    let mut paste = |part: &cf_face::Photo, left: usize, top: usize| {
        for y in 0..part.height {
            let row = &part.rgb[3 * y * part.width..3 * (y + 1) * part.width];
            let at = 3 * ((top + y) * width + left);
            rgb[at..at + row.len()].copy_from_slice(row);
        }
    };
    paste(&shrunk(big, 2), 20, 150);
    let mut left = 800;
    for part in small {
        let part = shrunk(part, 8);
        paste(&part, left, 400);
        left += part.width + 40;
    }
    cf_face::Photo { width, height, rgb }
}

/// The served site and a reader of the test photos, or `None` (a skip, unless required).
fn site_and_photos() -> Option<(MemoryStore, impl Fn(&str) -> cf_face::Photo)> {
    let (store, photos) = served_site()?;
    let Some(dir) = photos.filter(|p| p.join("obama2.jpg").exists()) else {
        assert!(std::env::var("CF_REQUIRE_MODELS").as_deref() != Ok("1"));
        return None;
    };
    let read =
        move |name: &str| cf_face::Photo::decode(&std::fs::read(dir.join(name)).unwrap()).unwrap();
    Some((store, read))
}

/// An engine with the shipped index's default network loaded.
fn loaded_engine<'a>(store: &MemoryStore, clock: &'a TickingClock) -> TestEngine<'a> {
    let mut engine: TestEngine = Engine::new(clock);
    engine.received(PAGE, load_request(&shipped_manifest(), "mobilefacenet192"));
    settle(&mut engine, store, clock);
    engine
}

/// Analyse the photo handed over as decoded (`decoded_elsewhere`) for `seq`.
fn analyse_decoded(seq: u32) -> Request {
    Request::Analyse {
        seq,
        photo: seq,
        bytes: Vec::new(),
        filter: Filter::default(),
    }
}

#[test]
fn small_faces_come_from_the_second_look_after_the_first_looks_match_unless_a_photo_follows() {
    let Some((store, read)) = site_and_photos() else {
        return;
    };
    // Portraits, where the face is much of the photo.
    let small = [read("obama.jpg"), read("obama2.jpg"), read("obama.jpg")];
    let group = group_photo(&read("obama.jpg"), &small);
    let clock = TickingClock::default();
    let mut engine = loaded_engine(&store, &clock);
    let analyse = analyse_decoded;

    // The first look's faces and the preselected one's matches, at once; the small faces
    // after, not overlapping the first look's; a box the visitor chose meanwhile goes first.
    engine.decoded_elsewhere(1, group.clone(), 20.0);
    engine.received(PAGE, analyse(1));
    let first: Vec<Reply> = commands_to_replies(engine.step());
    let [
        Reply::Faces {
            faces,
            chosen: Some(chosen),
            ..
        },
        Reply::Matches { seq: 1, .. },
    ] = &first[..]
    else {
        panic!("{first:?}");
    };
    assert_eq!(
        faces.len(),
        1,
        "the first look sees the big face alone: {faces:?}"
    );
    engine.received(
        PAGE,
        Request::Match {
            seq: 2,
            photo: 1,
            face: faces[*chosen],
            filter: Filter::default(),
        },
    );
    let rest = settle(&mut engine, &store, &clock);
    let [
        Reply::Matches { seq: 2, .. },
        Reply::MoreFaces {
            seq: 1,
            photo: 1,
            faces: more,
            ..
        },
    ] = &rest[..]
    else {
        panic!("{rest:?}");
    };
    assert_eq!(more.len(), small.len(), "every small face: {more:?}");
    assert!(
        more.iter().all(|f| f.x1 >= 780.0),
        "they are the small ones: {more:?}"
    );

    // A photo given before the second look ran: no faces of the older photo come after.
    engine.decoded_elsewhere(3, group.clone(), 20.0);
    engine.received(PAGE, analyse(3));
    let first = commands_to_replies(engine.step());
    assert!(matches!(
        first[..],
        [Reply::Faces { seq: 3, .. }, Reply::Matches { seq: 3, .. }]
    ));
    engine.decoded_elsewhere(4, group, 20.0);
    engine.received(PAGE, analyse(4));
    let replies = settle(&mut engine, &store, &clock);
    assert!(
        replies
            .iter()
            .all(|r| !matches!(r, Reply::MoreFaces { photo: 3, .. })),
        "{replies:?}"
    );
    assert!(matches!(
        replies.last(),
        Some(Reply::MoreFaces { photo: 4, .. })
    ));
}

fn commands_to_replies(commands: Vec<Command<u32>>) -> Vec<Reply> {
    commands
        .into_iter()
        .map(|command| match command {
            Command::Reply(_, reply) => reply,
            Command::Load(_) => panic!("no load was asked for"),
            Command::Portrait(_) => panic!("no portrait was asked for"),
        })
        .collect()
}

#[test]
fn a_morph_cuts_both_faces_into_its_frame_and_says_why_when_it_cannot() {
    let Some((store, photos)) = served_site() else {
        return;
    };
    let Some(dir) = photos.filter(|p| p.join("obama2.jpg").exists()) else {
        assert!(std::env::var("CF_REQUIRE_MODELS").as_deref() != Ok("1"));
        return;
    };
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    // The celebrity's portrait: another photo of a face; and a photo of none.
    store.serve("thumbnails/aa-256.jpg", read("obama2.jpg"));
    store.serve("thumbnails/bb-256.jpg", grey_bmp());
    let clock = TickingClock::default();
    let mut engine: TestEngine = Engine::new(&clock);
    engine.received(PAGE, load_request(&shipped_manifest(), "mobilefacenet192"));
    engine.received(
        PAGE,
        Request::Analyse {
            seq: 1,
            photo: 1,
            bytes: read("obama.jpg"),
            filter: Filter::default(),
        },
    );
    let face = settle(&mut engine, &store, &clock)
        .iter()
        .find_map(|r| match r {
            Reply::Faces { faces, chosen, .. } => Some(faces[chosen.unwrap()]),
            _ => None,
        })
        .expect("obama.jpg has a face");
    let morph = |seq, photo, portrait: &str| Request::Morph {
        seq,
        photo,
        face,
        item: 5,
        portrait: portrait.into(),
    };
    engine.received(PAGE, morph(2, 1, "thumbnails/aa-256.jpg"));
    let replies = settle(&mut engine, &store, &clock);
    let [
        Reply::MorphFaces {
            seq: 2,
            photo: 1,
            item: 5,
            from,
            to,
            ms,
        },
    ] = &replies[..]
    else {
        panic!("{replies:?}");
    };
    assert!(*ms > 0.0);
    let side = cf_morph::MORPH_SIDE;
    for face in [from, to] {
        assert_eq!(
            (face.side as usize, face.rgb.len()),
            (side, 3 * side * side)
        );
        assert_eq!(face.landmarks.len(), 68);
        // Both faces' eyes where the frame's template puts them, give or take a face's shape.
        let eye = |range: std::ops::Range<usize>| {
            let n = range.len() as f32;
            let (x, y) = face.landmarks[range]
                .iter()
                .fold((0.0, 0.0), |(x, y), p| (x + p.0, y + p.1));
            (x / n, y / n)
        };
        let (left, right) = (eye(36..42), eye(42..48));
        let template = cf_morph::FRAME_TEMPLATE;
        assert!((left.0 - template[0].x).abs() < 8.0 && (right.0 - template[1].x).abs() < 8.0);
        assert!((left.1 - template[0].y).abs() < 8.0, "{left:?}");
    }
    assert_ne!(from.rgb, to.rgb);

    let mut problems = Vec::new();
    for request in [
        morph(3, 1, "thumbnails/missing-256.jpg"),
        morph(4, 1, "thumbnails/bb-256.jpg"),
        morph(5, 9, "thumbnails/aa-256.jpg"),
    ] {
        engine.received(PAGE, request);
        problems.extend(settle(&mut engine, &store, &clock));
    }
    match &problems[..] {
        [
            Reply::MorphFailed {
                seq: 3,
                problem: MorphProblem::PortraitUnreachable { .. },
                ..
            },
            Reply::MorphFailed {
                seq: 4,
                problem: MorphProblem::NoFaceInPortrait { .. },
                ..
            },
            Reply::MorphFailed {
                seq: 5,
                problem: MorphProblem::NoFace { .. },
                ..
            },
        ] => {}
        other => panic!("{other:?}"),
    }
}

/// A flat grey 64 x 64 BMP (24-bit, rows bottom-up): a photo without a face.
fn grey_bmp() -> Vec<u8> {
    let (width, height) = (64u32, 64u32);
    let row = (3 * width + 3) & !3;
    let size = 54 + row * height;
    let mut bytes = b"BM".to_vec();
    for word in [size, 0, 54, 40, width, height] {
        bytes.extend(word.to_le_bytes());
    }
    bytes.extend(1u16.to_le_bytes());
    bytes.extend(24u16.to_le_bytes());
    for word in [0, row * height, 2835, 2835, 0, 0] {
        bytes.extend(word.to_le_bytes());
    }
    bytes.resize(size as usize, 128);
    bytes
}

#[test]
fn a_face_the_first_look_reads_upside_down_is_turned_by_the_second_and_matched_as_upright() {
    let Some((store, read)) = site_and_photos() else {
        return;
    };
    let upright = read("obama2.jpg");
    let clock = TickingClock::default();
    let mut engine = loaded_engine(&store, &clock);
    let analyse = analyse_decoded;
    let matches = |replies: &[Reply], wanted: u32| {
        replies
            .iter()
            .find_map(|r| match r {
                Reply::Matches { seq, hits, .. } if *seq == wanted => Some(hits.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no matches for {wanted}: {replies:?}"))
    };
    engine.decoded_elsewhere(1, upright.clone(), 20.0);
    engine.received(PAGE, analyse(1));
    let as_upright = matches(&settle(&mut engine, &store, &clock), 1);

    // Upside down, the first look boxes the face but reads it upright (its matches mean
    // nothing); the second look says it lies upside down.
    engine.decoded_elsewhere(2, upright.turned(cf_face::Turn::Half), 20.0);
    engine.received(PAGE, analyse(2));
    let replies = settle(&mut engine, &store, &clock);
    let [
        Reply::Faces { faces, .. },
        Reply::Matches { hits: misread, .. },
        Reply::MoreFaces {
            faces: more,
            turned,
            ..
        },
    ] = &replies[..]
    else {
        panic!("{replies:?}");
    };
    assert_eq!((faces.len(), faces[0].quarter_turns), (1, 0), "{faces:?}");
    assert!(more.is_empty(), "{more:?}");
    let [TurnedFace { index: 0, was, now }] = turned[..] else {
        panic!("{turned:?}");
    };
    assert_eq!((was, now.quarter_turns), (faces[0], 2));
    let best = |hits: &[cf_protocol::Hit], n: usize| -> Vec<u32> {
        hits.iter().take(n).map(|hit| hit.item).collect()
    };
    let upright_best = best(&as_upright, 5);
    assert!(
        best(misread, 5)
            .iter()
            .all(|item| !upright_best.contains(item)),
        "read upside down, none of the five best is upright's: {:?} {upright_best:?}",
        best(misread, 5)
    );

    // The page then asks for the turned box: the face is read as it is upright.
    engine.received(
        PAGE,
        Request::Match {
            seq: 3,
            photo: 2,
            face: now,
            filter: Filter::default(),
        },
    );
    let read = matches(&settle(&mut engine, &store, &clock), 3);
    assert!(
        best(&read, 3)
            .iter()
            .all(|item| upright_best.contains(item)),
        "the three best are among upright's five: {:?} {upright_best:?}",
        best(&read, 3)
    );
    assert!(
        (read[0].similarity - as_upright[0].similarity).abs() < 0.03,
        "{:?} {:?}",
        read[0],
        as_upright[0]
    );
}
