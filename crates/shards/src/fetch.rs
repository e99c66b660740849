//! Fetching the files a manifest vouches for: from a kept copy when one verifies, else
//! downloaded, verified against the manifest's length and SHA-256, then kept. The policy lives
//! here; where bytes come from and are kept is a [`FileStore`]: the browser's fetch and Cache
//! API in the page and its worker, memory in the tests.

use std::future::Future;

use crate::{FileEntry, ShardError, verify_digest};

/// Why a download brought no bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum DownloadError {
    /// No answer at all (offline, refused, reset), in the transport's words.
    Unreachable(String),
    /// An HTTP status other than success.
    Http(u16),
}

/// Where files come from and are kept.
pub trait FileStore {
    /// The kept copy of `url`, if there is one.
    fn cached(&self, url: &str) -> impl Future<Output = Option<Vec<u8>>>;
    /// Keeps a verified copy of `url`. Best effort: a store that cannot keep it only means
    /// downloading again next time.
    fn keep(&self, url: &str, bytes: &[u8]);
    /// Drops the kept copy of `url` (it failed verification).
    fn forget(&self, url: &str) -> impl Future<Output = ()>;
    /// Downloads `url`, telling `progress` the bytes received so far as they arrive.
    fn download(
        &self,
        url: &str,
        progress: &mut dyn FnMut(u64),
    ) -> impl Future<Output = Result<Vec<u8>, DownloadError>>;
    /// The SHA-256 of `bytes`, lower-case hex.
    fn sha256(&self, bytes: &[u8]) -> impl Future<Output = String>;
}

/// Why a file the manifest lists could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{file} could not be downloaded: {detail}")]
    Unreachable { file: String, detail: String },
    #[error("{file} could not be downloaded: HTTP {status}")]
    Http { file: String, status: u16 },
    /// Downloaded, but not the file the manifest describes.
    #[error("{source}")]
    Damaged { file: String, source: ShardError },
}

/// The address of `entry` under `base`. It carries the file's SHA-256, so a kept copy is never
/// stale and a CDN may cache it forever.
pub fn file_url(base: &str, entry: &FileEntry) -> String {
    format!("{base}/{}?v={}", entry.file, entry.sha256)
}

/// The verified bytes of `entry` under `base`: a kept copy if one verifies (a damaged one is
/// dropped), else a download, which is kept only once it verifies.
pub async fn fetch_verified<S: FileStore>(
    store: &S,
    base: &str,
    entry: &FileEntry,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<u8>, FetchError> {
    let url = file_url(base, entry);
    let check = async |bytes: &[u8]| {
        let digest = store.sha256(bytes).await;
        verify_digest(entry, bytes.len() as u64, &digest)
    };
    if let Some(bytes) = store.cached(&url).await {
        if check(&bytes).await.is_ok() {
            progress(bytes.len() as u64);
            return Ok(bytes);
        }
        store.forget(&url).await;
    }
    let bytes = store
        .download(&url, progress)
        .await
        .map_err(|error| match error {
            DownloadError::Unreachable(detail) => FetchError::Unreachable {
                file: entry.file.clone(),
                detail,
            },
            DownloadError::Http(status) => FetchError::Http {
                file: entry.file.clone(),
                status,
            },
        })?;
    check(&bytes).await.map_err(|source| FetchError::Damaged {
        file: entry.file.clone(),
        source,
    })?;
    store.keep(&url, &bytes);
    Ok(bytes)
}

/// A [`FileStore`] in memory: what a server would serve, and what a cache keeps. For tests of
/// everything that fetches, here and in the crates above.
#[derive(Default)]
pub struct MemoryStore {
    /// What the server answers, by URL without its query: bytes, or an HTTP status.
    pub served: std::cell::RefCell<std::collections::HashMap<String, Result<Vec<u8>, u16>>>,
    /// Kept copies, by full URL.
    pub kept: std::cell::RefCell<std::collections::HashMap<String, Vec<u8>>>,
    /// Every URL downloaded, in order.
    pub downloads: std::cell::RefCell<Vec<String>>,
    /// When set, every download fails as if offline.
    pub offline: std::cell::Cell<bool>,
}

impl MemoryStore {
    /// Serves `bytes` at `path` (relative, without a query).
    pub fn serve(&self, path: &str, bytes: Vec<u8>) {
        self.served.borrow_mut().insert(path.to_string(), Ok(bytes));
    }

    /// Answers `status` at `path`.
    pub fn refuse(&self, path: &str, status: u16) {
        self.served
            .borrow_mut()
            .insert(path.to_string(), Err(status));
    }
}

impl FileStore for MemoryStore {
    async fn cached(&self, url: &str) -> Option<Vec<u8>> {
        self.kept.borrow().get(url).cloned()
    }

    fn keep(&self, url: &str, bytes: &[u8]) {
        self.kept
            .borrow_mut()
            .insert(url.to_string(), bytes.to_vec());
    }

    async fn forget(&self, url: &str) {
        self.kept.borrow_mut().remove(url);
    }

    async fn download(
        &self,
        url: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<u8>, DownloadError> {
        self.downloads.borrow_mut().push(url.to_string());
        if self.offline.get() {
            return Err(DownloadError::Unreachable("Failed to fetch".into()));
        }
        let path = url.split('?').next().unwrap_or(url);
        match self.served.borrow().get(path) {
            Some(Ok(bytes)) => {
                progress(bytes.len() as u64);
                Ok(bytes.clone())
            }
            Some(Err(status)) => Err(DownloadError::Http(*status)),
            None => Err(DownloadError::Http(404)),
        }
    }

    async fn sha256(&self, bytes: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_entry;

    /// A minimal executor: the memory store's futures never wait on anything outside.
    fn block_on<F: Future>(future: F) -> F::Output {
        use std::pin::pin;
        use std::task::{Context, Poll, Waker};
        let mut future = pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
                return value;
            }
        }
    }

    fn fetch(store: &MemoryStore, entry: &FileEntry) -> Result<Vec<u8>, FetchError> {
        block_on(fetch_verified(store, "models", entry, &mut |_| {}))
    }

    #[test]
    fn a_download_is_verified_then_kept_and_the_kept_copy_serves_next_time() {
        let store = MemoryStore::default();
        let bytes = b"model bytes".to_vec();
        let entry = file_entry("m.tar", &bytes);
        store.serve("models/m.tar", bytes.clone());
        assert_eq!(fetch(&store, &entry).unwrap(), bytes);
        assert_eq!(store.downloads.borrow().len(), 1);
        store.offline.set(true);
        assert_eq!(fetch(&store, &entry).unwrap(), bytes);
        assert_eq!(
            store.downloads.borrow().len(),
            1,
            "served from the kept copy"
        );
    }

    #[test]
    fn a_damaged_kept_copy_is_dropped_and_downloaded_again() {
        let store = MemoryStore::default();
        let bytes = b"the real file".to_vec();
        let entry = file_entry("m.tar", &bytes);
        store
            .kept
            .borrow_mut()
            .insert(file_url("models", &entry), b"rotten".to_vec());
        store.serve("models/m.tar", bytes.clone());
        assert_eq!(fetch(&store, &entry).unwrap(), bytes);
        assert_eq!(store.kept.borrow()[&file_url("models", &entry)], bytes);
    }

    #[test]
    fn each_failure_is_its_own_error_and_nothing_bad_is_kept() {
        let store = MemoryStore::default();
        let entry = file_entry("m.tar", b"expected");
        assert!(matches!(
            fetch(&store, &entry),
            Err(FetchError::Http { status: 404, .. })
        ));
        store.serve("models/m.tar", b"expec".to_vec());
        let truncated = fetch(&store, &entry).unwrap_err();
        assert!(
            matches!(
                truncated,
                FetchError::Damaged {
                    source: ShardError::Truncated { .. },
                    ..
                }
            ),
            "{truncated}"
        );
        store.serve("models/m.tar", b"EXPECTED".to_vec());
        assert!(matches!(
            fetch(&store, &entry),
            Err(FetchError::Damaged {
                source: ShardError::Checksum { .. },
                ..
            })
        ));
        assert!(store.kept.borrow().is_empty());
        store.offline.set(true);
        let offline = fetch(&store, &entry).unwrap_err();
        assert!(
            offline
                .to_string()
                .contains("m.tar could not be downloaded"),
            "{offline}"
        );
    }
}
