//! Celebrity photo collections on disk: LFW (the folder shipped in ../shared/data/lfw, or the
//! official archives unpacked: `lfw/`, `lfw-deepfunneled/`, `lfw_funneled/`), CelebA
//! (`img_align_celeba/` with `identity_CelebA.txt`, whose people are numbers), or any
//! `Person_Name/*.jpg` tree.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Which face of a photo with several is the labelled person's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FaceRule {
    /// Among the boxes over the photo's centre the most confident, else the nearest to it
    /// (LFW centres its person).
    Centre,
    /// The face with the largest box (portraits in general).
    Largest,
}

impl std::fmt::Display for FaceRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FaceRule::Centre => "most confident face over the centre",
            FaceRule::Largest => "largest face",
        })
    }
}

/// A dataset's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Lfw,
    CelebA,
    Folders,
}

impl Dataset {
    /// A photo's path from the dataset's root, `/`-separated (`Aaron_Eckhart/Aaron_Eckhart_0001.jpg`
    /// for LFW, as its pair files name images).
    pub fn relative(&self, photo: &SourcePhoto) -> String {
        let relative = photo.path.strip_prefix(&self.root).unwrap_or(&photo.path);
        relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl Layout {
    /// The rule for choosing among several faces, unless the operator says otherwise.
    pub fn default_rule(self) -> FaceRule {
        match self {
            Layout::Lfw => FaceRule::Centre,
            Layout::CelebA | Layout::Folders => FaceRule::Largest,
        }
    }
}

/// One photo of one person.
#[derive(Clone, Debug)]
pub struct SourcePhoto {
    pub path: PathBuf,
    /// Index into [`Dataset::people`].
    pub person: usize,
}

/// Something skipped while listing, with the reason.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// A listed dataset: people by display name, their photos, and what was skipped.
#[derive(Debug)]
pub struct Dataset {
    pub layout: Layout,
    pub description: String,
    /// The folder the photos' paths start from: the person folders' parent, or CelebA's
    /// image folder.
    pub root: PathBuf,
    pub people: Vec<String>,
    /// Each person's key, as labels files name them: the folder name (`Aaron_Eckhart`), or
    /// CelebA's identity number.
    pub keys: Vec<String>,
    /// Sorted by person, then file name: the item order of the index.
    pub photos: Vec<SourcePhoto>,
    pub skipped: Vec<Skipped>,
}

const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "jfif"];

fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// The person's display name from a folder name: underscores read as spaces.
pub fn display_name(folder: &str) -> String {
    let spaced = folder.replace('_', " ");
    let name = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        folder.to_string()
    } else {
        name
    }
}

/// Opens the dataset at `path`, recognising its layout.
pub fn open(path: &Path) -> Result<Dataset> {
    if !path.is_dir() {
        bail!("dataset folder {} does not exist", path.display());
    }
    for sub in ["lfw-deepfunneled", "lfw", "lfw_funneled"] {
        let root = path.join(sub);
        if root.is_dir() {
            return folders(&root, Layout::Lfw, format!("LFW ({sub})"));
        }
    }
    let identities = path.join("identity_CelebA.txt");
    if identities.is_file() {
        return celeba(path, &identities);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.to_ascii_lowercase().starts_with("lfw") {
        return folders(path, Layout::Lfw, format!("LFW ({name})"));
    }
    folders(
        path,
        Layout::Folders,
        format!("photo folders in {}", path.display()),
    )
}

/// `root/Person_Name/*.jpg`.
fn folders(root: &Path, layout: Layout, description: String) -> Result<Dataset> {
    let mut dataset = Dataset {
        layout,
        description,
        root: root.to_path_buf(),
        people: Vec::new(),
        keys: Vec::new(),
        photos: Vec::new(),
        skipped: Vec::new(),
    };
    let mut folders: Vec<(String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(root).with_context(|| format!("cannot list {}", root.display()))? {
        let entry = entry?;
        let path = entry.path();
        if is_hidden(&entry.file_name()) {
            continue;
        }
        if !path.is_dir() {
            dataset.skipped.push(Skipped {
                path,
                reason: "a file beside the person folders, not inside one".into(),
            });
            continue;
        }
        let folder = entry.file_name();
        let Some(folder_name) = folder.to_str() else {
            dataset.skipped.push(Skipped {
                path,
                reason: "folder name is not valid UTF-8".into(),
            });
            continue;
        };
        folders.push((folder_name.to_string(), path));
    }
    folders.sort();
    for (folder, path) in folders {
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in
            fs::read_dir(&path).with_context(|| format!("cannot list {}", path.display()))?
        {
            let entry = entry?;
            let file = entry.path();
            if is_hidden(&entry.file_name()) {
                continue;
            }
            if file.is_file() && is_image_name(&file) {
                files.push(file);
            } else {
                dataset.skipped.push(Skipped {
                    path: file,
                    reason: format!(
                        "not an image file name (expected .{})",
                        IMAGE_EXTENSIONS.join(", .")
                    ),
                });
            }
        }
        if files.is_empty() {
            dataset.skipped.push(Skipped {
                path,
                reason: "person folder holds no photo".into(),
            });
            continue;
        }
        files.sort();
        let person = dataset.people.len();
        dataset.people.push(display_name(&folder));
        dataset.keys.push(folder);
        dataset
            .photos
            .extend(files.into_iter().map(|path| SourcePhoto { path, person }));
    }
    Ok(dataset)
}

/// CelebA: `img_align_celeba/NNNNNN.jpg` with `identity_CelebA.txt` lines `NNNNNN.jpg <number>`.
fn celeba(root: &Path, identities: &Path) -> Result<Dataset> {
    let images = ["img_align_celeba", "img_celeba"]
        .iter()
        .map(|sub| root.join(sub))
        .find(|p| p.is_dir())
        .with_context(|| {
            format!(
                "{} has identity_CelebA.txt but no img_align_celeba/ folder",
                root.display()
            )
        })?;
    let text = fs::read_to_string(identities)
        .with_context(|| format!("cannot read {}", identities.display()))?;
    let mut by_person: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(file), Some(person), None) = (fields.next(), fields.next(), fields.next()) else {
            bail!(
                "{} line {}: expected `file.jpg person-number`, got {line:?}",
                identities.display(),
                number + 1
            );
        };
        let person: u32 = person.parse().with_context(|| {
            format!(
                "{} line {}: person {person:?} is not a number",
                identities.display(),
                number + 1
            )
        })?;
        by_person.entry(person).or_default().push(file.to_string());
    }
    let mut dataset = Dataset {
        layout: Layout::CelebA,
        description: "CelebA (aligned)".into(),
        root: images.clone(),
        people: Vec::new(),
        keys: Vec::new(),
        photos: Vec::new(),
        skipped: Vec::new(),
    };
    for (number, mut files) in by_person {
        files.sort();
        let present: Vec<PathBuf> = files
            .into_iter()
            .map(|f| images.join(f))
            .filter(|p| {
                let ok = p.is_file();
                if !ok {
                    dataset.skipped.push(Skipped {
                        path: p.clone(),
                        reason: "listed in identity_CelebA.txt but missing".into(),
                    });
                }
                ok
            })
            .collect();
        if present.is_empty() {
            continue;
        }
        let person = dataset.people.len();
        dataset.people.push(format!("CelebA #{number}"));
        dataset.keys.push(number.to_string());
        dataset
            .photos
            .extend(present.into_iter().map(|path| SourcePhoto { path, person }));
    }
    Ok(dataset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_read_underscores_as_spaces() {
        assert_eq!(display_name("Aaron_Eckhart"), "Aaron Eckhart");
        assert_eq!(display_name("_Zoë__D'Água_"), "Zoë D'Água");
        assert_eq!(display_name("___"), "___");
    }

    #[test]
    fn layouts_are_recognised_and_odd_entries_skipped_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let lfw = dir.path().join("my-lfw-copy");
        fs::create_dir_all(lfw.join("lfw/B_Person")).unwrap();
        fs::create_dir_all(lfw.join("lfw/A_Person")).unwrap();
        fs::create_dir_all(lfw.join("lfw/Empty_Person")).unwrap();
        fs::write(lfw.join("lfw/B_Person/B_Person_0001.jpg"), b"x").unwrap();
        fs::write(lfw.join("lfw/A_Person/A_Person_0002.jpg"), b"x").unwrap();
        fs::write(lfw.join("lfw/A_Person/A_Person_0001.jpg"), b"x").unwrap();
        fs::write(lfw.join("lfw/A_Person/notes.txt"), b"x").unwrap();
        fs::write(lfw.join("lfw/A_Person/.DS_Store"), b"x").unwrap();
        let d = open(&lfw).unwrap();
        assert_eq!(d.layout, Layout::Lfw);
        assert_eq!(d.people, ["A Person", "B Person"]);
        let names: Vec<String> = d
            .photos
            .iter()
            .map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "A_Person_0001.jpg",
                "A_Person_0002.jpg",
                "B_Person_0001.jpg"
            ]
        );
        let reasons: Vec<&str> = d.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("holds no photo")));
        assert!(reasons.iter().any(|r| r.contains("not an image file name")));

        let celeba = dir.path().join("celeba");
        fs::create_dir_all(celeba.join("img_align_celeba")).unwrap();
        fs::write(celeba.join("img_align_celeba/000001.jpg"), b"x").unwrap();
        fs::write(celeba.join("img_align_celeba/000002.jpg"), b"x").unwrap();
        fs::write(
            celeba.join("identity_CelebA.txt"),
            "000001.jpg 2880\n000002.jpg 17\n000003.jpg 17\n",
        )
        .unwrap();
        let d = open(&celeba).unwrap();
        assert_eq!(d.layout, Layout::CelebA);
        assert_eq!(d.people, ["CelebA #17", "CelebA #2880"]);
        assert_eq!(d.photos.len(), 2);
        assert!(d.skipped[0].reason.contains("missing"));
        fs::write(celeba.join("identity_CelebA.txt"), "000001.jpg\n").unwrap();
        let err = open(&celeba).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");

        assert!(open(&dir.path().join("absent")).is_err());
        let plain = dir.path().join("stars");
        fs::create_dir_all(plain.join("Someone")).unwrap();
        assert_eq!(open(&plain).unwrap().layout, Layout::Folders);
    }
}
