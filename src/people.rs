//! Who the items are: the catalog and where the thumbnails are, as the page shows them.

use std::rc::Rc;

use cf_protocol::{CARDS, Hit, distinct_people};
use cf_shards::{Catalog, ThumbnailInfo};

/// The catalog and where the thumbnails are.
#[derive(Clone, Debug)]
pub struct People {
    pub catalog: Rc<Catalog>,
    pub thumbnails: ThumbnailInfo,
    /// Photos per person.
    photo_counts: Rc<Vec<u32>>,
}

impl PartialEq for People {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.catalog, &other.catalog) && self.thumbnails == other.thumbnails
    }
}

impl People {
    pub fn new(catalog: Catalog, thumbnails: &ThumbnailInfo) -> People {
        let mut counts = vec![0u32; catalog.names.len()];
        for &person in &catalog.person_of_item {
            if let Some(count) = counts.get_mut(person as usize) {
                *count += 1;
            }
        }
        People {
            catalog: Rc::new(catalog),
            thumbnails: thumbnails.clone(),
            photo_counts: Rc::new(counts),
        }
    }

    pub fn person_of(&self, item: u32) -> Option<u32> {
        self.catalog.person_of_item.get(item as usize).copied()
    }

    /// Display name of the person in `item`.
    pub fn name_of(&self, item: u32) -> Option<&str> {
        let person = self.person_of(item)?;
        self.catalog.names.get(person as usize).map(String::as_str)
    }

    /// Address of `item`'s thumbnail.
    pub fn thumb_url(&self, item: u32) -> Option<String> {
        let name = self.catalog.thumbs.get(item as usize)?;
        Some(format!("{}{name}.jpg", self.thumbnails.base_url))
    }

    /// Address of `item`'s portrait (the morph's celebrity side, and the cards' `srcset` on
    /// high-density screens); `None` for an index built without portraits.
    pub fn portrait_url(&self, item: u32) -> Option<String> {
        let name = self.catalog.thumbs.get(item as usize)?;
        let file = self.thumbnails.portrait_file(name)?;
        Some(format!("{}{file}", self.thumbnails.base_url))
    }

    pub fn photo_count(&self, person: u32) -> u32 {
        self.photo_counts.get(person as usize).copied().unwrap_or(0)
    }

    /// A search for the person of `item` in Wikipedia of language `lang` (`en`, `ru`): opened
    /// only when the visitor clicks it, so nothing leaves the page before.
    pub fn wikipedia_url(&self, item: u32, lang: &str) -> Option<String> {
        let name = self.name_of(item)?;
        let query = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
        Some(format!(
            "https://{lang}.wikipedia.org/wiki/Special:Search?search={query}"
        ))
    }

    /// Whether the person of `item` is in a public list of celebrities.
    pub fn well_known(&self, item: u32) -> bool {
        self.person_of(item)
            .is_some_and(|person| self.catalog.is_well_known(person))
    }

    /// The hits to show: the best photo of each person, or the nearest photos as they are.
    pub fn shown_hits(&self, hits: &[Hit], distinct: bool) -> Vec<Hit> {
        if distinct {
            distinct_people(hits, &self.catalog.person_of_item, CARDS)
        } else {
            hits.iter().take(CARDS).copied().collect()
        }
    }
}

/// Up to three initials of a name, shown while a thumbnail loads or where it is missing.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(3)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> People {
        People::new(
            Catalog {
                names: vec!["Ann Lee".into(), "Bo".into()],
                person_of_item: vec![0, 1, 0],
                thumbs: vec![
                    "0000000000000000".into(),
                    "1111111111111111".into(),
                    "2222222222222222".into(),
                ],
                genders: "Fm".into(),
                well_known: vec![0],
            },
            &ThumbnailInfo {
                base_url: "https://cdn.example/t/".into(),
                size: 112,
                portrait_size: Some(256),
            },
        )
    }

    #[test]
    fn items_name_their_person_thumbnail_and_photo_count() {
        let people = people();
        assert_eq!(people.name_of(2), Some("Ann Lee"));
        assert_eq!(people.name_of(3), None);
        assert_eq!(
            people.thumb_url(1).as_deref(),
            Some("https://cdn.example/t/1111111111111111.jpg")
        );
        assert_eq!(
            people.portrait_url(1).as_deref(),
            Some("https://cdn.example/t/1111111111111111-256.jpg")
        );
        let mut older = people.clone();
        older.thumbnails.portrait_size = None;
        assert_eq!(older.portrait_url(1), None);
        assert_eq!((people.photo_count(0), people.photo_count(1)), (2, 1));
        assert_eq!(initials("Jean Claude Van Damme"), "JCV");
        assert_eq!(
            people.wikipedia_url(2, "ru").as_deref(),
            Some("https://ru.wikipedia.org/wiki/Special:Search?search=Ann%20Lee")
        );
        assert!(people.well_known(0) && people.well_known(2) && !people.well_known(1));
    }

    #[test]
    fn one_card_per_person_or_the_raw_nearest() {
        let hits: Vec<Hit> = [0, 2, 1]
            .iter()
            .map(|&item| Hit {
                item,
                similarity: 0.5,
            })
            .collect();
        let people = people();
        assert_eq!(people.shown_hits(&hits, true).len(), 2);
        assert_eq!(people.shown_hits(&hits, false).len(), 3);
    }
}
