//! The `cfaces` binary end to end: it writes a verifiable index, and refuses damaged ones with
//! a non-zero exit and the reason; it benchmarks the search and measures detectors, ours (with
//! the real models, which scripts/test.sh fetches) and another's boxes.

mod common;

use std::path::Path;

use common::{cfaces, fixture, ok};

fn build_demo(dir: &Path) {
    let out = cfaces(&[
        "build-demo",
        "--out",
        dir.to_str().unwrap(),
        "--clusters",
        "100",
        "--per-cluster",
        "10",
        "--shard-bytes",
        "20000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn shard_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    files.sort();
    files
}

#[test]
fn build_demo_writes_an_index_that_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("index");
    build_demo(&dir);
    assert!(shard_files(&dir).len() > 3);
    let out = cfaces(&["verify", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("demo: ok, 1000 items x 128"), "{stdout}");

    // Rebuilding is deterministic, byte for byte.
    let again = tmp.path().join("again");
    build_demo(&again);
    for (a, b) in shard_files(&dir).iter().zip(shard_files(&again)) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).unwrap(),
        std::fs::read(again.join("manifest.json")).unwrap()
    );
}

#[test]
fn verify_fails_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("index");
    build_demo(&dir);
    let shard = shard_files(&dir)[1].clone();
    let original = std::fs::read(&shard).unwrap();

    let mut flipped = original.clone();
    flipped[100] ^= 1;
    std::fs::write(&shard, &flipped).unwrap();
    let out = cfaces(&["verify", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fails its checksum"));

    std::fs::write(&shard, &original[..original.len() - 7]).unwrap();
    let out = cfaces(&["verify", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"));

    std::fs::remove_file(&shard).unwrap();
    let out = cfaces(&["verify", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read shard"));

    let out = cfaces(&["verify", tmp.path().join("nowhere").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("manifest.json"));
}

#[test]
fn bench_reports_exact_and_forest_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("rows.jsonl");
    let export = tmp.path().join("data");
    let out = cfaces(&[
        "bench",
        "--clusters",
        "200",
        "--per-cluster",
        "5",
        "--dim",
        "32",
        "--query-count",
        "20",
        "--trees",
        "4",
        "--leaf-size",
        "16",
        "--search-k",
        "100,1000",
        "--order",
        "squared,annoy",
        "--json",
        json.to_str().unwrap(),
        "--export",
        export.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // exact f32, exact i8, then 2 storages x 2 walk orders x 2 search_k.
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[0]["method"], "exact");
    assert_eq!(rows[0]["recall_at_10"], 1.0);
    let forest: Vec<_> = rows.iter().filter(|r| r["method"] == "cf-forest").collect();
    assert_eq!(forest.len(), 8);
    for row in &forest {
        let recall = row["recall_at_10"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&recall));
    }
    // search_k 1000 of 1000 items checks everything: exact for f32, in either walk order.
    for order in ["squared", "annoy"] {
        let full = forest
            .iter()
            .find(|r| r["storage"] == "f32" && r["search_k"] == 1000 && r["order"] == order)
            .unwrap();
        assert_eq!(full["recall_at_10"], 1.0);
    }
    assert!(export.join("items.npy").exists() && export.join("queries.npy").exists());

    // The exported files read back as vectors.
    let out = cfaces(&[
        "bench",
        "--vectors",
        export.join("items.npy").to_str().unwrap(),
        "--queries",
        export.join("queries.npy").to_str().unwrap(),
        "--trees",
        "2",
        "--search-k",
        "50",
        "--storage",
        "f32",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unreadable_vector_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bogus = tmp.path().join("v.npy");
    std::fs::write(&bogus, b"not numpy").unwrap();
    let out = cfaces(&[
        "bench",
        "--vectors",
        bogus.to_str().unwrap(),
        "--queries",
        bogus.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid .npy file"));
    let odd = tmp.path().join("v.fvecs");
    std::fs::write(&odd, [4u8, 0, 0, 0, 1, 2, 3]).unwrap();
    let out = cfaces(&[
        "bench",
        "--vectors",
        odd.to_str().unwrap(),
        "--queries",
        odd.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("whole number"));
}

/// The figures after `name` on the line of eval-detect's table that starts with it.
fn table_row(stdout: &str, name: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no row {name:?} in\n{stdout}"));
    line[name.len()..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_peers_boxes_are_scored_by_our_rule_at_each_threshold_and_a_missing_photo_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // Two photos: a 40 px face and a 100 px face; a 10 px face (not scored); nothing in b.jpg.
    let annotated = "a.jpg\t0,0,40,40;100,0,200,100;300,0,310,10\nb.jpg\t\n";
    std::fs::write(tmp.path().join("boxes.tsv"), annotated).unwrap();
    // The 40 px face at 0.9, the 100 px face at 0.6, a box on nothing at 0.7 in b.jpg.
    let peer = tmp.path().join("peer.tsv");
    std::fs::write(
        &peer,
        "a.jpg\t1,1,41,41,0.9;100,0,200,100,0.6\nb.jpg\t500,500,600,600,0.7\n",
    )
    .unwrap();
    let peer_arg = format!("other={}", peer.display());
    let peers_alone = |scores: &str| {
        cfaces(&[
            "eval-detect",
            "--dataset",
            tmp.path().to_str().unwrap(),
            "--detectors",
            "none",
            "--peer-boxes",
            &peer_arg,
            "--peer-scores",
            scores,
        ])
    };
    let out = peers_alone("0.5,0.8");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |name: &str| table_row(&stdout, name);
    // Bands 0-16, 16-32, 32-64, 64-128, >= 128, then recall >= 32 px and false boxes per photo.
    assert_eq!(
        row("other, score >= 0.5")[2..7],
        ["1.000", "1.000", "0.000", "1.000", "0.50"]
    );
    assert_eq!(
        row("other, score >= 0.8")[2..7],
        ["1.000", "0.000", "0.000", "0.500", "0.00"]
    );

    std::fs::write(&peer, "a.jpg\t1,1,41,41,0.9\n").unwrap();
    let out = peers_alone("0.5");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no line for b.jpg"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn eval_detect_scores_each_look_and_the_kept_faces_of_our_detector() {
    let Some((models, photos)) = fixture() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for name in ["obama.jpg", "obama2.jpg"] {
        std::fs::copy(photos.join(name), tmp.path().join(name)).unwrap();
    }
    // Each portrait's face, as YuNet boxes it, and a made-up face on the wall beside the second:
    // three faces of 200 px or more, two of them there to be found.
    std::fs::write(
        tmp.path().join("boxes.tsv"),
        "obama.jpg\t373,83,613,410\nobama2.jpg\t207,227,469,632;0,0,200,200\n",
    )
    .unwrap();
    let out = cfaces(&[
        "eval-detect",
        "--dataset",
        tmp.path().to_str().unwrap(),
        "--models",
        models.to_str().unwrap(),
        "--detectors",
        "yunet",
    ]);
    let stdout = ok(&out);
    let row = |name: &str| table_row(&stdout, name);
    // Bands 0-16, 16-32, 32-64, 64-128, >= 128, then recall >= 32 px and false boxes per photo.
    // (The first look finds both faces: its row is left out where it equals the two looks'.)
    for boxes in ["yunet, detector's boxes", "yunet, kept (landmarks a face)"] {
        assert_eq!(row(boxes)[4..7], ["0.667", "0.667", "0.00"], "{boxes}");
    }
    assert!(!stdout.contains("first look's boxes"), "{stdout}");
    assert!(
        stdout.contains("yunet: time per photo on one core: first look"),
        "{stdout}"
    );
}

#[test]
fn a_face_upside_down_or_on_its_side_is_found_turned_and_answered_as_upright() {
    let Some((models, photos)) = fixture() else {
        return;
    };
    let index = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../index-shards");
    let models = models.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // obama2.jpg upside down, without loss: the first look boxes its face but sees it upright.
    let upside_down = tmp.path().join("upside-down.png");
    image::open(photos.join("obama2.jpg"))
        .unwrap()
        .rotate180()
        .save(&upside_down)
        .unwrap();
    let query = |photo: &Path| -> serde_json::Value {
        let out = cfaces(&[
            "query",
            index.to_str().unwrap(),
            "--models",
            models,
            "--photo",
            photo.to_str().unwrap(),
            "--k",
            "5",
        ]);
        serde_json::from_str(&ok(&out)).unwrap()
    };
    let items = |answer: &serde_json::Value| -> Vec<u64> {
        let hits = answer["hits"].as_array().unwrap();
        hits.iter().map(|h| h["item"].as_u64().unwrap()).collect()
    };
    let upright = query(&photos.join("obama2.jpg"));
    let turned = query(&upside_down);
    assert_eq!(upright["face"]["quarter_turns"], 0);
    assert_eq!(turned["face"]["quarter_turns"], 2, "{turned}");
    let best = items(&upright);
    assert!(
        items(&turned)[..3].iter().all(|item| best.contains(item)),
        "answered as upright: {turned} against {upright}"
    );

    // eval-turns on a one-person folder: each photo as it is and turned, by the pipeline's
    // detector and by the one before the turned looks.
    let person = tmp.path().join("dataset/Barack_Obama");
    std::fs::create_dir_all(&person).unwrap();
    for name in ["obama.jpg", "obama2.jpg"] {
        std::fs::copy(photos.join(name), person.join(name)).unwrap();
    }
    let out = cfaces(&[
        "eval-turns",
        "--dataset",
        tmp.path().join("dataset").to_str().unwrap(),
        "--every",
        "1",
        "--models",
        models,
    ]);
    let stdout = ok(&out);
    let rows = |detector: &str| -> Vec<&str> {
        let heading = format!("{detector}, everyone:");
        let at = stdout.find(&heading).unwrap_or_else(|| panic!("{stdout}"));
        stdout[at..].lines().skip(1).take(4).collect()
    };
    for (degrees, row) in [0, 90, 180, 270].iter().zip(rows("yunet")) {
        assert!(
            row.contains(&format!("turned {degrees:>3} degrees: 2 photos; face found 1.0000, lying the right way 1.0000, the same person 1.0000")),
            "{row}"
        );
    }
    let before = rows("yunet-upright");
    assert!(
        before[0].contains("lying the right way 1.0000"),
        "{before:?}"
    );
    assert!(
        before[1..]
            .iter()
            .all(|row| row.contains("lying the right way 0.0000, the same person 0.0000")),
        "{before:?}"
    );
}
