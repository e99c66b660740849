//! The real LFW pair files, where the dataset sits beside the repository (../shared/data/lfw, as
//! on the developers' machines and in CI): every pair parses, the folds have the published shape,
//! and every image a pair names exists.

use std::path::PathBuf;

use cf_metrics::lfw::parse_pairs;

fn lfw_dir() -> Option<PathBuf> {
    // Read when the test runs, not baked in by env!(): the build cache outside the clone is
    // shared by every checkout, so a test binary built in another one may be reused.
    let dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("../../../shared/data/lfw");
    dir.join("pairs.txt").exists().then_some(dir)
}

#[test]
fn the_published_pair_files_parse_and_name_existing_images() {
    let Some(dir) = lfw_dir() else {
        eprintln!("LFW not found beside the repository; nothing to check");
        return;
    };
    for (file, folds, per_class) in [
        ("pairs.txt", 10, 300),
        ("pairsDevTrain.txt", 1, 1100),
        ("pairsDevTest.txt", 1, 500),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let pairs = parse_pairs(&text).unwrap();
        assert_eq!(pairs.len(), 2 * folds * per_class, "{file}");
        for fold in 0..folds {
            let same = pairs.iter().filter(|p| p.fold == fold && p.same).count();
            let different = pairs.iter().filter(|p| p.fold == fold && !p.same).count();
            assert_eq!(
                (same, different),
                (per_class, per_class),
                "{file} fold {fold}"
            );
        }
        for pair in &pairs {
            for image in [&pair.first, &pair.second] {
                let path = dir.join("lfw-deepfunneled").join(image.path());
                assert!(
                    path.exists(),
                    "{file} names {} which is missing",
                    path.display()
                );
            }
        }
    }
}
