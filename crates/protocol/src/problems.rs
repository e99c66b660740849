//! Why something could not be done, as values: the worker and the page say what happened, and
//! only the page words it, in the visitor's language (src/i18n.rs). A `detail` is the
//! technical account (a decoder's or a model runtime's own words), shown to whoever opens it.

use serde::{Deserialize, Serialize};

/// Why a photo or a box could not be used.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum PhotoProblem {
    /// The file has no bytes.
    Empty,
    /// Not an image format the page reads.
    UnknownFormat { detail: String },
    /// An image in a format known by name that the page does not read: "HEIC", "AVIF",
    /// "TIFF" or "SVG".
    UnsupportedFormat { format: String },
    /// Too large to decode safely.
    TooLarge { detail: String },
    /// An image, but damaged or truncated.
    Damaged { detail: String },
    /// The box is smaller than the landmark network can read.
    BoxTooSmall { min_side: u32 },
    /// The box holds nothing the landmark network can read as a face.
    NoFaceInBox { detail: String },
    /// The models are not loaded (their load failed), so no photo can be analysed.
    NotReady,
    /// Anything else, for example a model that failed while running.
    Failed { detail: String },
}

/// Why the morph with a celebrity could not be made.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum MorphProblem {
    /// The index was built without portraits, the larger photos the morph needs.
    NoPortraits,
    /// The portrait could not be downloaded (offline, or the server failed).
    PortraitUnreachable { detail: String },
    /// The portrait is not a photo with a face the landmark network reads.
    NoFaceInPortrait { detail: String },
    /// The visitor's face is gone (another photo came) or its box holds no face.
    NoFace { detail: String },
    /// The models are not loaded.
    NotReady,
    /// The morph worker could not blend the two faces (its own words).
    Failed { detail: String },
}

impl MorphProblem {
    /// One of each kind, for the tests of whoever words or carries them.
    pub fn examples() -> Vec<MorphProblem> {
        let detail = || "because".to_string();
        vec![
            MorphProblem::NoPortraits,
            MorphProblem::PortraitUnreachable { detail: detail() },
            MorphProblem::NoFaceInPortrait { detail: detail() },
            MorphProblem::NoFace { detail: detail() },
            MorphProblem::NotReady,
            MorphProblem::Failed { detail: detail() },
        ]
    }
}

/// Why the models or the index could not be loaded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum LoadProblem {
    /// No answer: the device is offline, or the site cannot be reached.
    Unreachable { file: String, detail: String },
    /// The server answered with an HTTP error.
    Http { file: String, status: u16 },
    /// The file came, but not as the manifest describes it: truncated, too long, or with
    /// another checksum (a damaged download, or a file of another build).
    Damaged { file: String, detail: String },
    /// The manifest itself cannot be read.
    Manifest { detail: String },
    /// The manifest lists no network of this name.
    UnknownNetwork { network: String },
    /// The index has a network this page cannot compute vectors for (a newer build).
    UnsupportedNetwork { network: String },
    /// A model file is whole but could not be prepared.
    Model { file: String, detail: String },
    /// The index files are whole but do not make an index.
    Index { detail: String },
}

impl LoadProblem {
    /// The file the problem is about, where it is about one.
    pub fn file(&self) -> Option<&str> {
        match self {
            LoadProblem::Unreachable { file, .. }
            | LoadProblem::Http { file, .. }
            | LoadProblem::Damaged { file, .. }
            | LoadProblem::Model { file, .. } => Some(file),
            _ => None,
        }
    }

    /// True when trying again may help without a new build of the site: the network failed, or
    /// a file came damaged, cut short or from another build (a deploy under way, a cache that
    /// kept an old file), which the next download may well set right. The page offers "Try
    /// again" for these.
    pub fn worth_retrying(&self) -> bool {
        match self {
            LoadProblem::Unreachable { .. }
            | LoadProblem::Damaged { .. }
            | LoadProblem::Manifest { .. } => true,
            LoadProblem::Http { status, .. } => *status >= 500 || *status == 404 || *status == 408,
            _ => false,
        }
    }
}

impl LoadProblem {
    /// One of each kind, for the tests of whoever words or carries them.
    pub fn examples() -> Vec<LoadProblem> {
        let file = || "mobilefacenet192-000.bin".to_string();
        vec![
            LoadProblem::Unreachable {
                file: file(),
                detail: "Failed to fetch".into(),
            },
            LoadProblem::Http {
                file: file(),
                status: 503,
            },
            LoadProblem::Damaged {
                file: file(),
                detail: "truncated".into(),
            },
            LoadProblem::Manifest {
                detail: "expected value at line 1".into(),
            },
            LoadProblem::UnknownNetwork {
                network: "x".into(),
            },
            LoadProblem::UnsupportedNetwork {
                network: "y".into(),
            },
            LoadProblem::Model {
                file: "fr_detect.nnef.tar".into(),
                detail: "no operator".into(),
            },
            LoadProblem::Index {
                detail: "cycle".into(),
            },
        ]
    }
}

impl PhotoProblem {
    /// One of each kind, for the tests of whoever words or carries them.
    pub fn examples() -> Vec<PhotoProblem> {
        let detail = || "because".to_string();
        vec![
            PhotoProblem::Empty,
            PhotoProblem::UnknownFormat { detail: detail() },
            PhotoProblem::UnsupportedFormat {
                format: "HEIC".into(),
            },
            PhotoProblem::UnsupportedFormat {
                format: "TIFF".into(),
            },
            PhotoProblem::TooLarge { detail: detail() },
            PhotoProblem::Damaged { detail: detail() },
            PhotoProblem::BoxTooSmall { min_side: 16 },
            PhotoProblem::NoFaceInBox { detail: detail() },
            PhotoProblem::NotReady,
            PhotoProblem::Failed { detail: detail() },
        ]
    }
}

impl From<cf_shards::FetchError> for LoadProblem {
    fn from(error: cf_shards::FetchError) -> LoadProblem {
        use cf_shards::FetchError;
        match error {
            FetchError::Unreachable { file, detail } => LoadProblem::Unreachable { file, detail },
            FetchError::Http { file, status } => LoadProblem::Http { file, status },
            FetchError::Damaged { file, source } => LoadProblem::Damaged {
                file,
                detail: source.to_string(),
            },
        }
    }
}

#[cfg(feature = "face")]
impl From<cf_face::FaceError> for PhotoProblem {
    fn from(error: cf_face::FaceError) -> PhotoProblem {
        use cf_face::FaceError;
        let detail = error.to_string();
        match error {
            FaceError::Empty => PhotoProblem::Empty,
            FaceError::UnknownFormat(_) => PhotoProblem::UnknownFormat { detail },
            FaceError::UnsupportedFormat(format) => PhotoProblem::UnsupportedFormat {
                format: format.into(),
            },
            FaceError::TooLarge(_) => PhotoProblem::TooLarge { detail },
            FaceError::Decode(_) => PhotoProblem::Damaged { detail },
            FaceError::BoxOutside(_) | FaceError::Degenerate | FaceError::NotAFace(_) => {
                PhotoProblem::NoFaceInBox { detail }
            }
            FaceError::Model { .. } | FaceError::Inference { .. } => {
                PhotoProblem::Failed { detail }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_failures_and_damaged_files_are_worth_retrying() {
        let http = |status| LoadProblem::Http {
            file: "a".into(),
            status,
        };
        assert!(http(503).worth_retrying());
        assert!(http(404).worth_retrying());
        assert!(!http(403).worth_retrying());
        assert!(
            !LoadProblem::UnsupportedNetwork {
                network: "n".into()
            }
            .worth_retrying()
        );
        assert!(
            LoadProblem::Manifest {
                detail: "EOF while parsing".into()
            }
            .worth_retrying(),
            "a manifest cut short by a deploy under way"
        );
        assert!(
            !LoadProblem::Model {
                file: "a".into(),
                detail: "no such operator".into()
            }
            .worth_retrying(),
            "a whole file the page cannot use: only a new build helps"
        );
        assert_eq!(http(500).file(), Some("a"));
    }
}
