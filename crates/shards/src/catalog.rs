//! The catalog: who each item is and where its thumbnail is. One JSON file, listed in the
//! manifest with its length and checksum.

use serde::{Deserialize, Serialize};

use crate::{CatalogInfo, ShardError, codec::verify_file};

/// Length of a thumbnail name: the first 16 hex digits of the photo's SHA-256, so names are
/// URL-safe whatever the person's name, stable across rebuilds and cacheable forever.
pub const THUMB_NAME_LEN: usize = 16;

/// `catalog.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Display name of each person, by person number.
    pub names: Vec<String>,
    /// Person number of each item, by item number.
    pub person_of_item: Vec<u32>,
    /// Thumbnail name of each item, by item number (see [`THUMB_NAME_LEN`]).
    pub thumbs: Vec<String>,
}

impl Catalog {
    /// Checks the catalog's own consistency: one person and one thumbnail per item, person
    /// numbers in range, every person with at least one item, thumbnail names well formed.
    pub fn validate(&self) -> Result<(), ShardError> {
        let bad = |reason: String| Err(ShardError::Catalog(reason));
        if self.person_of_item.len() != self.thumbs.len() {
            return bad(format!(
                "{} items have a person but {} have a thumbnail",
                self.person_of_item.len(),
                self.thumbs.len()
            ));
        }
        let mut seen = vec![false; self.names.len()];
        for (item, &person) in self.person_of_item.iter().enumerate() {
            let Some(slot) = seen.get_mut(person as usize) else {
                return bad(format!(
                    "item {item} belongs to person {person}, but there are {} people",
                    self.names.len()
                ));
            };
            *slot = true;
        }
        if let Some(person) = seen.iter().position(|s| !s) {
            return bad(format!(
                "person {person} ({:?}) has no item",
                self.names[person]
            ));
        }
        if let Some(item) = self.thumbs.iter().position(|t| {
            t.len() != THUMB_NAME_LEN || !t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }) {
            return bad(format!(
                "item {item} has thumbnail name {:?}, not {THUMB_NAME_LEN} lower-case hex digits",
                self.thumbs[item]
            ));
        }
        Ok(())
    }

    /// Reads the catalog file named by `info`: length, checksum, JSON, consistency, and the
    /// counts the manifest promises.
    pub fn decode(info: &CatalogInfo, bytes: &[u8]) -> Result<Catalog, ShardError> {
        verify_file(&info.file, bytes)?;
        let catalog: Catalog = serde_json::from_slice(bytes)
            .map_err(|e| ShardError::Catalog(format!("not valid catalog JSON: {e}")))?;
        catalog.validate()?;
        if catalog.names.len() != info.people || catalog.person_of_item.len() != info.items {
            return Err(ShardError::Catalog(format!(
                "holds {} people and {} items; the manifest says {} and {}",
                catalog.names.len(),
                catalog.person_of_item.len(),
                info.people,
                info.items
            )));
        }
        Ok(catalog)
    }

    /// The catalog as the bytes of its file.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a catalog always serialises")
    }

    /// The items of `person`, ascending.
    pub fn items_of(&self, person: u32) -> Vec<u32> {
        (0u32..)
            .zip(&self.person_of_item)
            .filter(|(_, p)| **p == person)
            .map(|(item, _)| item)
            .collect()
    }
}
