//! `cfaces build-index` end to end on a small photo folder with the real models: it writes an
//! index and thumbnails that verify, reports and skips bad files, resumes from its cache, gives
//! byte-identical output for the same input, and refuses bad arguments with the reason.
//! scripts/test.sh sets CF_MODELS and CF_TEST_PHOTOS (and CF_REQUIRE_MODELS=1).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{cfaces, failed, fixture, ok};

/// Two people, a person folder with only a duplicate and a fake photo, an empty folder, a stray
/// file.
fn make_dataset(photos: &Path, dir: &Path) {
    let person = |name: &str, files: &[(&str, &str)]| {
        let folder = dir.join(name);
        fs::create_dir_all(&folder).unwrap();
        for (from, to) in files {
            fs::copy(photos.join(from), folder.join(to)).unwrap();
        }
    };
    person(
        "Barack_Obama",
        &[
            ("obama.jpg", "Barack_Obama_0001.jpg"),
            ("obama2.jpg", "Barack_Obama_0002.jpg"),
            ("obama3.jpg", "Barack_Obama_0003.jpg"),
        ],
    );
    person("Joe_Biden", &[("biden.jpg", "Joe_Biden_0001.jpg")]);
    person("Zoë_D'Água", &[("biden.jpg", "copy.jpg")]);
    fs::write(dir.join("Zoë_D'Água/fake.jpg"), b"this is not a photo").unwrap();
    fs::create_dir_all(dir.join("Nobody")).unwrap();
    fs::write(dir.join("README.txt"), b"stray").unwrap();
}

/// Runs `cfaces build-index` on `dataset` into `out` (thumbnails beside it, in `out.thumbs`,
/// and the sources file in `out.sources.tsv`).
fn build_index(models: &Path, dataset: &Path, out: &Path, cache: &Path, extra: &[&str]) -> Output {
    let thumbs = out.with_extension("thumbs");
    let sources = out.with_extension("sources.tsv");
    let mut args = vec![
        "build-index",
        "--sources",
        sources.to_str().unwrap(),
        "--dataset",
        dataset.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--thumbnails",
        thumbs.to_str().unwrap(),
        "--cache",
        cache.to_str().unwrap(),
        "--models",
        models.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cfaces(&args)
}

fn build(models: &Path, dataset: &Path, out: &Path, cache: &Path, extra: &[&str]) -> String {
    ok(&build_index(models, dataset, out, cache, extra))
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The small photo folder in a fresh temporary folder, with where its index and cache go.
struct Stage {
    models: PathBuf,
    photos: PathBuf,
    tmp: tempfile::TempDir,
    dataset: PathBuf,
    out: PathBuf,
    cache: PathBuf,
}

fn stage() -> Option<Stage> {
    let (models, photos) = fixture()?;
    let tmp = tempfile::tempdir().unwrap();
    let dataset = tmp.path().join("stars");
    make_dataset(&photos, &dataset);
    let (out, cache) = (tmp.path().join("index"), tmp.path().join("cache"));
    Some(Stage {
        models,
        photos,
        tmp,
        dataset,
        out,
        cache,
    })
}

#[test]
fn builds_verifies_resumes_and_is_deterministic() {
    let Some(Stage {
        models,
        photos,
        tmp,
        dataset,
        out,
        cache,
    }) = stage()
    else {
        return;
    };

    let summary = build(&models, &dataset, &out, &cache, &[]);
    assert!(summary.contains("2 skipped while listing"), "{summary}");
    assert!(summary.contains("1 unreadable or not images"), "{summary}");
    assert!(summary.contains("1 duplicates"), "{summary}");
    assert!(summary.contains("4 items of 2 people"), "{summary}");
    assert!(summary.contains("0 from the cache"), "{summary}");
    let log = fs::read_to_string(cache.join("build-index.log")).unwrap();
    assert!(
        log.contains("fake.jpg") && log.contains("same bytes as"),
        "{log}"
    );

    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = manifest["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mobilefacenet192", "faceplugin512"]);
    assert_eq!(manifest["catalog"]["thumbnails"]["base_url"], "thumbnails/");
    let catalog: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("catalog.json")).unwrap()).unwrap();
    assert_eq!(
        catalog["names"],
        serde_json::json!(["Barack Obama", "Joe Biden"])
    );
    assert_eq!(catalog["person_of_item"], serde_json::json!([0, 0, 0, 1]));

    let thumbs = out.with_extension("thumbs");
    let verified = ok(&cfaces(&[
        "verify",
        out.to_str().unwrap(),
        "--thumbnails",
        thumbs.to_str().unwrap(),
        "--models",
        models.to_str().unwrap(),
    ]));
    assert!(
        verified.contains("catalog: ok, 4 items of 2 people"),
        "{verified}"
    );
    assert!(
        verified.contains("thumbnails: ok, all 4")
            && verified.contains("with their 256 px portraits"),
        "{verified}"
    );
    // The detector's two sizes, landmarks and the gender network, then one model per network.
    assert!(verified.contains("models: ok, 6 files"), "{verified}");
    // Each item's thumbnail and its portrait, the same square at 112 and 256 px.
    let files: Vec<PathBuf> = fs::read_dir(&thumbs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2 * 4, "{files:?}");
    for file in &files {
        let side = if file.to_string_lossy().ends_with("-256.jpg") {
            256
        } else {
            112
        };
        let decoded = image::open(file).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (side, side),
            "{}",
            file.display()
        );
    }

    // Resumed from the cache, with another thumbnail address: the same shards and catalog, a
    // manifest that differs in the address only.
    let again = tmp.path().join("again");
    let cdn = "https://cdn.example/faces/";
    let summary = build(
        &models,
        &dataset,
        &again,
        &cache,
        &["--thumb-base-url", cdn],
    );
    assert!(
        summary.contains("4 items of 2 people; 4 from the cache"),
        "{summary}"
    );
    let (first, second) = (files_of(&out), files_of(&again));
    for ((name, a), (_, b)) in first.iter().zip(&second) {
        if name == "manifest.json" {
            let a = String::from_utf8_lossy(a).replace("\"thumbnails/\"", &format!("\"{cdn}\""));
            assert_eq!(a, String::from_utf8_lossy(b));
        } else {
            assert!(a == b, "{name} differs after a cached rebuild");
        }
    }

    // From scratch with a fresh cache: byte-identical again.
    let fresh = tmp.path().join("fresh");
    build(&models, &dataset, &fresh, &tmp.path().join("cache2"), &[]);
    assert_eq!(files_of(&out), files_of(&fresh));
    assert_eq!(files_of(&thumbs), files_of(&fresh.with_extension("thumbs")));

    // The thumbnails cut again from the dataset alone, as the sources file says: the same bytes,
    // with no model loaded.
    let recut = tmp.path().join("recut");
    let cut_thumbnails = || {
        cfaces(&[
            "thumbnails",
            "--dataset",
            dataset.to_str().unwrap(),
            "--index",
            out.to_str().unwrap(),
            "--sources",
            out.with_extension("sources.tsv").to_str().unwrap(),
            "--out",
            recut.to_str().unwrap(),
        ])
    };
    let cut = ok(&cut_thumbnails());
    assert!(cut.contains("4 items cut, 0 already"), "{cut}");
    assert_eq!(files_of(&thumbs), files_of(&recut));
    // A photo that is not the one indexed is named, and nothing is cut from it.
    fs::copy(
        photos.join("biden.jpg"),
        dataset.join("Barack_Obama/Barack_Obama_0002.jpg"),
    )
    .unwrap();
    fs::remove_dir_all(&recut).unwrap();
    let reason = failed(&cut_thumbnails());
    assert!(
        reason.contains("Barack_Obama_0002.jpg is not the photo the index was built from"),
        "{reason}"
    );

    // A damaged catalog fails verification with its reason.
    let mut bytes = fs::read(out.join("catalog.json")).unwrap();
    bytes[3] ^= 1;
    fs::write(out.join("catalog.json"), bytes).unwrap();
    let reason = failed(&cfaces(&["verify", out.to_str().unwrap()]));
    assert!(
        reason.contains("catalog.json") && reason.contains("checksum"),
        "{reason}"
    );
}

#[test]
fn bad_arguments_and_empty_collections_fail_with_the_reason_and_write_nothing() {
    let Some((models, _)) = fixture() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir_all(empty.join("Someone")).unwrap();
    let out = tmp.path().join("index");
    let cache = tmp.path().join("cache");
    let run = |dataset: &Path, extra: &[&str]| {
        failed(&build_index(&models, dataset, &out, &cache, extra))
    };
    assert!(run(&empty, &[]).contains("holds no photo"));
    assert!(run(&tmp.path().join("absent"), &[]).contains("does not exist"));
    assert!(run(&empty, &["--networks", "nope"]).contains("unknown network \"nope\""));
    assert!(run(&empty, &["--thumb-base-url", "https://cdn"]).contains("must end with `/`"));
    assert!(!out.exists(), "nothing is written when the build fails");
    assert!(!out.with_extension("thumbs").exists());
}

#[test]
fn genders_come_from_labels_or_are_estimated_and_bad_labels_files_are_named() {
    let Some(Stage {
        models,
        tmp,
        dataset,
        out,
        cache,
        ..
    }) = stage()
    else {
        return;
    };
    let write = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        fs::write(&path, text).unwrap();
        path
    };
    let catalog_of = |out: &Path| -> serde_json::Value {
        serde_json::from_slice(&fs::read(out.join("catalog.json")).unwrap()).unwrap()
    };

    // No labels at all: both men estimated from their photos.
    let summary = build(&models, &dataset, &out, &cache, &[]);
    assert!(
        summary.contains("gender from human labels for 0, estimated from their photos for 2"),
        "{summary}"
    );
    assert_eq!(catalog_of(&out)["genders"], "mm");

    // An operator's file names one of the two: the other is estimated, and said so.
    let genders = write("genders.tsv", "# checked by hand\nJoe_Biden\tmale\n");
    let known = write("known.tsv", "Barack_Obama\tpresident\n");
    let summary = build(
        &models,
        &dataset,
        &out,
        &cache,
        &[
            "--genders",
            genders.to_str().unwrap(),
            "--well-known",
            known.to_str().unwrap(),
        ],
    );
    assert!(
        summary.contains("human labels for 1, estimated from their photos for 1")
            && summary.contains("1 well known"),
        "{summary}"
    );
    let catalog = catalog_of(&out);
    assert_eq!(catalog["genders"], "mM");
    assert_eq!(catalog["well_known"], serde_json::json!([0]));
    let log = fs::read_to_string(cache.join("build-index.log")).unwrap();
    assert!(
        log.contains("gender estimated\t") && log.contains("Barack_Obama"),
        "{log}"
    );

    // Bad files: a name that is nobody in the dataset, a person given both genders, a word that
    // is no gender. Each fails with the file's name and what is wrong.
    let cases = [
        ("Joe_Bidden\tmale\n", "1 names are not people of"),
        (
            "Joe_Biden\tmale\nJoe_Biden\tfemale\n",
            "Joe_Biden is listed both as female and as male",
        ),
        ("Joe_Biden\tyes\n", "neither female nor male"),
    ];
    for (text, expected) in cases {
        let file = write("bad.tsv", text);
        let reason = failed(&build_index(
            &models,
            &dataset,
            &tmp.path().join("never"),
            &cache,
            &["--genders", file.to_str().unwrap()],
        ));
        assert!(
            reason.contains("bad.tsv") && reason.contains(expected),
            "{text:?}: {reason}"
        );
    }
    let unknown = write("unknown.tsv", "Nobody_Here\n");
    let reason = failed(&build_index(
        &models,
        &dataset,
        &tmp.path().join("never"),
        &cache,
        &["--well-known", unknown.to_str().unwrap()],
    ));
    assert!(reason.contains("\"Nobody_Here\""), "{reason}");
    assert!(!tmp.path().join("never").exists());
}
