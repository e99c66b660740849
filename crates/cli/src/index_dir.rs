//! Reading and writing an index folder: `manifest.json` plus shard files.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cf_shards::{AnyIndex, Catalog, MANIFEST_FILE, Manifest, decode_network, parse_manifest};

/// Writes the manifest and files (shards, catalog) into a fresh folder beside `dir`, then swaps
/// it into place, so that `dir` is never left half-written.
pub fn write_index(dir: &Path, manifest: &Manifest, files: &[(String, Vec<u8>)]) -> Result<()> {
    replace_dir(dir, |staging| {
        for (file, bytes) in files {
            fs::write(staging.join(file), bytes)
                .with_context(|| format!("cannot write {}", staging.join(file).display()))?;
        }
        let json = serde_json::to_vec_pretty(manifest)?;
        fs::write(staging.join(MANIFEST_FILE), json)?;
        Ok(())
    })
}

/// Fills a fresh folder beside `dir` with `fill`, then swaps it into place; if `fill` fails, the
/// fresh folder is removed and `dir` is left as it was.
pub fn replace_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let name = dir
        .file_name()
        .with_context(|| format!("{} has no folder name", dir.display()))?
        .to_string_lossy();
    let staging = parent.join(format!(".{name}.new-{}", std::process::id()));
    let previous = parent.join(format!(".{name}.old-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    if let Err(e) = fill(&staging) {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    if dir.exists() {
        fs::rename(dir, &previous)
            .with_context(|| format!("cannot move the old {} aside", dir.display()))?;
    }
    fs::rename(&staging, dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if previous.exists() {
        fs::remove_dir_all(&previous)?;
    }
    Ok(())
}

/// An index folder, read and verified.
pub struct IndexFolder {
    pub manifest: Manifest,
    pub indexes: Vec<AnyIndex>,
    pub catalog: Option<Catalog>,
}

/// Reads and fully verifies an index folder: every shard's length, checksum, header, and the
/// structure of every network's forest; the catalog's checksum and consistency, and that every
/// network has one vector per catalog item.
pub fn read_index_folder(dir: &Path) -> Result<IndexFolder> {
    let (manifest, indexes) = read_index(dir)?;
    let catalog = match &manifest.catalog {
        None => None,
        Some(info) => {
            let bytes = read_file("catalog", &shard_path(dir, &info.file.file)?)?;
            let catalog = Catalog::decode(info, &bytes)
                .with_context(|| format!("{} in {}", info.file.file, dir.display()))?;
            for (network, index) in manifest.networks.iter().zip(&indexes) {
                if index.len() != info.items {
                    bail!(
                        "network {:?} has {} vectors but the catalog lists {} items",
                        network.name,
                        index.len(),
                        info.items
                    );
                }
            }
            Some(catalog)
        }
    };
    Ok(IndexFolder {
        manifest,
        indexes,
        catalog,
    })
}

/// Reads and fully verifies the networks of an index folder: every shard's length, checksum,
/// header, and the structure of every network's forest.
pub fn read_index(dir: &Path) -> Result<(Manifest, Vec<AnyIndex>)> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let bytes = fs::read(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let manifest = parse_manifest(&bytes)
        .with_context(|| format!("{} is not a valid manifest", manifest_path.display()))?;
    let mut indexes = Vec::with_capacity(manifest.networks.len());
    for network in &manifest.networks {
        let shards: Vec<Vec<u8>> = network
            .shards
            .iter()
            .map(|entry| shard_path(dir, &entry.file).and_then(|p| read_file("shard", &p)))
            .collect::<Result<_>>()?;
        let slices: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
        indexes.push(
            decode_network(network, &slices)
                .with_context(|| format!("network {:?} in {}", network.name, dir.display()))?,
        );
    }
    Ok((manifest, indexes))
}

fn read_file(kind: &str, path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {kind} {}", path.display()))
}

/// A file named in a manifest, which must stay inside its folder.
pub fn shard_path(dir: &Path, file: &str) -> Result<PathBuf> {
    let plain = Path::new(file)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain || file.is_empty() {
        bail!("manifest names file {file:?}, which is not a plain file name");
    }
    Ok(dir.join(file))
}
