//! The catalog: who each item is and where its thumbnail is. One JSON file, listed in the
//! manifest with its length and checksum.

use serde::{Deserialize, Serialize};

use crate::{CatalogInfo, ShardError, codec::verify_file};

/// Length of a thumbnail name: the first 16 hex digits of the photo's SHA-256, so names are
/// URL-safe whatever the person's name, stable across rebuilds and cacheable forever.
pub const THUMB_NAME_LEN: usize = 16;

/// A person's gender as the catalog knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gender {
    Female,
    Male,
}

/// Where the catalog's knowledge of a person's gender comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenderSource {
    /// Human labels (LFW's lists, CelebA's attribute, the operator's file).
    Labelled,
    /// Estimated from the person's photos by the builder.
    Estimated,
}

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
    /// Each person's gender, one character per person: `F` or `M` from human labels, `f` or `m`
    /// estimated, `-` unknown. Empty: unknown for everyone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub genders: String,
    /// The people whose name stands in a public list of celebrities, by person number,
    /// ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub well_known: Vec<u32>,
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
        if !self.genders.is_empty() {
            if self.genders.chars().count() != self.names.len() {
                return bad(format!(
                    "genders has {} characters for {} people",
                    self.genders.chars().count(),
                    self.names.len()
                ));
            }
            if let Some((person, code)) = self
                .genders
                .chars()
                .enumerate()
                .find(|(_, c)| !"FMfm-".contains(*c))
            {
                return bad(format!(
                    "person {person} has gender {code:?}, not one of F, M, f, m, -"
                ));
            }
        }
        if self.well_known.windows(2).any(|w| w[0] >= w[1]) {
            return bad("well_known is not in ascending order without repeats".into());
        }
        if let Some(&person) = self
            .well_known
            .iter()
            .find(|&&p| p as usize >= self.names.len())
        {
            return bad(format!(
                "well_known names person {person}, but there are {} people",
                self.names.len()
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
        Catalog::decode_fetched(info, bytes)
    }

    /// [`Catalog::decode`] for a file whose length and checksum [`crate::fetch_verified`]
    /// already checked against `info` (in the page, as it arrived): not hashed again.
    pub fn decode_fetched(info: &CatalogInfo, bytes: &[u8]) -> Result<Catalog, ShardError> {
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

    /// The gender of `person`, and whether people labelled it, where known.
    pub fn gender_of(&self, person: u32) -> Option<(Gender, GenderSource)> {
        match self.genders.as_bytes().get(person as usize)? {
            b'F' => Some((Gender::Female, GenderSource::Labelled)),
            b'M' => Some((Gender::Male, GenderSource::Labelled)),
            b'f' => Some((Gender::Female, GenderSource::Estimated)),
            b'm' => Some((Gender::Male, GenderSource::Estimated)),
            _ => None,
        }
    }

    /// The code of the `genders` string for a person.
    pub fn gender_code(gender: Option<(Gender, GenderSource)>) -> char {
        match gender {
            Some((Gender::Female, GenderSource::Labelled)) => 'F',
            Some((Gender::Male, GenderSource::Labelled)) => 'M',
            Some((Gender::Female, GenderSource::Estimated)) => 'f',
            Some((Gender::Male, GenderSource::Estimated)) => 'm',
            None => '-',
        }
    }

    /// Whether `person` is well known (`well_known` is sorted).
    pub fn is_well_known(&self, person: u32) -> bool {
        self.well_known.binary_search(&person).is_ok()
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
