//! Widening a search until it reaches enough groups: a person with hundreds of photos can fill
//! the first hundred neighbours alone, and the visitor wants a dozen different people.

use crate::{ForestError, Neighbour};

/// The neighbours of the last of a series of searches for `first_k`, `2 · first_k`, … items,
/// stopping at the first that holds `groups` distinct groups (by `group_of`), or that asked
/// for `max_k` (every item that could be returned). `search(k)` answers one search for `k`.
pub fn until_groups(
    mut search: impl FnMut(usize) -> Result<Vec<Neighbour>, ForestError>,
    group_of: impl Fn(u32) -> u32,
    groups: usize,
    first_k: usize,
    max_k: usize,
) -> Result<Vec<Neighbour>, ForestError> {
    let mut k = first_k.max(1).min(max_k.max(1));
    loop {
        let found = search(k)?;
        let mut seen = std::collections::HashSet::new();
        let distinct = found
            .iter()
            .filter(|n| seen.insert(group_of(n.item)))
            .count();
        if distinct >= groups || k >= max_k || found.len() < k {
            return Ok(found);
        }
        k = (2 * k).min(max_k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crowded_group_makes_the_search_widen() {
        // Items 0..100 are group 0, then one item per group.
        let items: Vec<Neighbour> = (0..300)
            .map(|item| Neighbour {
                item,
                distance: item as f32 / 1000.0,
            })
            .collect();
        let group = |item: u32| item.saturating_sub(99);
        let mut asked = Vec::new();
        let found = until_groups(
            |k| {
                asked.push(k);
                Ok(items[..k.min(items.len())].to_vec())
            },
            group,
            12,
            40,
            300,
        )
        .unwrap();
        assert_eq!(asked, [40, 80, 160]);
        assert_eq!(found.len(), 160);
        // Never past what can be returned.
        let found = until_groups(|k| Ok(items[..k.min(50)].to_vec()), group, 12, 40, 300).unwrap();
        assert_eq!(found.len(), 50);
    }
}
