//! Who the items are, as the search needs it: each item's person (to widen a search until it has
//! a dozen different people), and each person's gender and fame (to filter). And how the
//! gender filter is preset for a face the visitor did not set it for.

use cf_forest::{Neighbour, SearchIndex, SearchOptions, Searcher, until_groups};
use cf_protocol::{CARDS, Filter, GenderChoice};
use cf_shards::{Catalog, Gender};

/// The catalog's facts, item by item.
pub struct People {
    person_of_item: Vec<u32>,
    gender_of_item: Vec<Option<Gender>>,
    known_item: Vec<bool>,
}

impl People {
    pub fn new(catalog: &Catalog) -> People {
        let person_gender: Vec<Option<Gender>> = (0..catalog.names.len() as u32)
            .map(|p| catalog.gender_of(p).map(|(g, _)| g))
            .collect();
        People {
            gender_of_item: catalog
                .person_of_item
                .iter()
                .map(|&p| person_gender.get(p as usize).copied().flatten())
                .collect(),
            known_item: catalog
                .person_of_item
                .iter()
                .map(|&p| catalog.is_well_known(p))
                .collect(),
            person_of_item: catalog.person_of_item.clone(),
        }
    }

    pub fn person_of(&self, item: u32) -> u32 {
        self.person_of_item
            .get(item as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    fn gender_of(&self, item: u32) -> Option<Gender> {
        self.gender_of_item.get(item as usize).copied().flatten()
    }

    /// Whether `item` passes `filter` (whose gender is decided). A person of unknown gender is
    /// shown under either.
    pub fn passes(&self, item: u32, filter: &Filter) -> bool {
        let gender_ok = match filter.gender {
            Some(GenderChoice::Women) => self.gender_of(item) != Some(Gender::Male),
            Some(GenderChoice::Men) => self.gender_of(item) != Some(Gender::Female),
            Some(GenderChoice::Everyone) | None => true,
        };
        gender_ok
            && (!filter.well_known_only
                || self.known_item.get(item as usize).copied() == Some(true))
    }

    fn len(&self) -> usize {
        self.person_of_item.len()
    }
}

/// The gender filter preset for a face: a nearest item at or above `same_person` similarity is
/// taken for the visitor's own photo, so its person's catalog gender decides (people in the
/// index find themselves even where the estimate errs); otherwise the estimate `woman` does.
/// Without either, everyone. The threshold is the network's [`cf_face::NetworkSpec`]'s, tuned
/// on the tuning half of LFW's people (docs/MODELS.md).
pub fn preset_gender(
    nearest: Option<&Neighbour>,
    people: Option<&People>,
    woman: Option<f32>,
    same_person: f32,
) -> GenderChoice {
    if let (Some(nearest), Some(people)) = (nearest, people)
        && nearest.similarity() >= same_person
        && let Some(gender) = people.gender_of(nearest.item)
    {
        return match gender {
            Gender::Female => GenderChoice::Women,
            Gender::Male => GenderChoice::Men,
        };
    }
    match woman {
        Some(p) if p >= 0.5 => GenderChoice::Women,
        Some(_) => GenderChoice::Men,
        None => GenderChoice::Everyone,
    }
}

/// The neighbours to show for `query`: at least `hits` items where the filter lets that many
/// through, widened until they hold [`CARDS`] different people; and the filter they passed,
/// its gender decided. One unfiltered search comes first: the preset reads its nearest item.
#[allow(clippy::too_many_arguments)]
pub fn search_filtered(
    index: &dyn SearchIndex,
    searcher: &mut Searcher,
    query: &[f32],
    hits: usize,
    search_k: usize,
    people: Option<&People>,
    filter: Filter,
    woman: Option<f32>,
    same_person: f32,
) -> Result<(Vec<Neighbour>, Filter), cf_forest::ForestError> {
    let nearest = index.search(
        searcher,
        query,
        &SearchOptions::nearest(1).candidates(search_k),
    )?;
    let gender = filter
        .gender
        .unwrap_or_else(|| preset_gender(nearest.first(), people, woman, same_person));
    let applied = Filter {
        gender: Some(gender),
        ..filter
    };
    let items = index.len();
    let Some(people) = people.filter(|p| p.len() == items) else {
        let found = index.search(
            searcher,
            query,
            &SearchOptions::nearest(hits).candidates(search_k),
        )?;
        return Ok((found, applied));
    };
    let unfiltered = gender == GenderChoice::Everyone && !filter.well_known_only;
    let passes = |item: u32| people.passes(item, &applied);
    // The walk gathers `search_k` candidates that pass: as many as an unfiltered search
    // examines, scaled by the share that passes, so that a filter costs no more walking.
    let passing = if unfiltered {
        items
    } else {
        (0..items as u32).filter(|&i| passes(i)).count()
    };
    let scaled_k = (search_k * passing / items.max(1)).max(2 * hits).min(items);
    let found = until_groups(
        |k| {
            let options = SearchOptions::nearest(k).candidates(scaled_k.max(k));
            if unfiltered {
                index.search(searcher, query, &options)
            } else {
                index.search(searcher, query, &options.only(&passes))
            }
        },
        |item| people.person_of(item),
        CARDS,
        hits,
        passing,
    )?;
    Ok((found, applied))
}

#[cfg(test)]
mod tests {
    use cf_forest::{F32Vectors, ForestParams, Index};

    use super::*;

    /// Six people of two photos each, every person's photos near each other: people 0-2 women,
    /// 3-4 men, 5 unknown; people 1 and 3 well known.
    fn fixture() -> (Index<F32Vectors>, People) {
        let mut rows = Vec::new();
        let mut person_of_item = Vec::new();
        for person in 0..6u32 {
            for photo in 0..2 {
                let angle = person as f32 * 0.3 + photo as f32 * 0.01;
                rows.extend([angle.cos(), angle.sin(), 0.1]);
                person_of_item.push(person);
            }
        }
        let catalog = Catalog {
            names: (0..6).map(|p| format!("P{p}")).collect(),
            thumbs: vec!["0000000000000000".into(); 12],
            person_of_item,
            genders: "FFfMm-".into(),
            well_known: vec![1, 3],
        };
        let index = Index::build(
            F32Vectors::from_rows(3, rows).unwrap(),
            ForestParams {
                trees: 3,
                leaf_size: 4,
                seed: 1,
            },
        )
        .unwrap();
        (index, People::new(&catalog))
    }

    fn people_of(found: &[Neighbour], people: &People) -> Vec<u32> {
        let mut seen = Vec::new();
        for n in found {
            let person = people.person_of(n.item);
            if !seen.contains(&person) {
                seen.push(person);
            }
        }
        seen
    }

    #[test]
    fn an_estimate_presets_the_filter_and_a_near_twin_overrides_it() {
        let (_, people) = fixture();
        let near = |item, similarity: f32| Neighbour {
            item,
            distance: 1.0 - similarity,
        };
        // Photo 6 is a man (person 3): above the threshold he decides, below it the estimate.
        assert_eq!(
            preset_gender(Some(&near(6, 0.9)), Some(&people), Some(0.8), 0.6),
            GenderChoice::Men
        );
        assert_eq!(
            preset_gender(Some(&near(6, 0.5)), Some(&people), Some(0.8), 0.6),
            GenderChoice::Women
        );
        // Person 5's gender is unknown: the estimate decides even above the threshold.
        assert_eq!(
            preset_gender(Some(&near(10, 0.99)), Some(&people), Some(0.1), 0.6),
            GenderChoice::Men
        );
        assert_eq!(preset_gender(None, None, None, 0.6), GenderChoice::Everyone);
    }

    #[test]
    fn a_filtered_search_shows_only_what_passes_and_unknown_people_to_all() {
        let (index, people) = fixture();
        let mut searcher = Searcher::new();
        let query = [1.0, 0.0, 0.1];
        let search = |searcher: &mut Searcher, filter: Filter, woman: Option<f32>| {
            search_filtered(
                &index,
                searcher,
                &query,
                4,
                12,
                Some(&people),
                filter,
                woman,
                2.0,
            )
            .unwrap()
        };
        let (found, applied) = search(&mut searcher, Filter::default(), Some(0.1));
        assert_eq!(
            applied.gender,
            Some(GenderChoice::Men),
            "preset from the estimate"
        );
        assert_eq!(people_of(&found, &people), [3, 4, 5]);
        let women = Filter {
            gender: Some(GenderChoice::Women),
            well_known_only: false,
        };
        let (found, applied) = search(&mut searcher, women, Some(0.1));
        assert_eq!(applied, women, "the visitor's choice stands");
        assert_eq!(people_of(&found, &people), [0, 1, 2, 5]);
        let known = Filter {
            gender: Some(GenderChoice::Everyone),
            well_known_only: true,
        };
        let (found, _) = search(&mut searcher, known, None);
        assert_eq!(people_of(&found, &people), [1, 3]);
        let everyone = Filter {
            gender: Some(GenderChoice::Everyone),
            well_known_only: false,
        };
        let (found, _) = search(&mut searcher, everyone, None);
        assert_eq!(
            people_of(&found, &people),
            [0, 1, 2, 3, 4, 5],
            "widened to every person"
        );
    }
}
