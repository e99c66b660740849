//! What one search asks for.

/// Which items a search may return.
pub type ItemFilter<'a> = &'a dyn Fn(u32) -> bool;

/// What one search asks for: how many neighbours, how many candidates to gather from the
/// trees, which items may be returned, and whether to scan every vector instead.
///
/// A filter is applied while gathering: an item that does not pass is never a candidate, and
/// the walk goes on until `search_k` items that pass are gathered (or the forest is walked
/// whole), so a filter never leaves fewer than `k` results while `k` items pass. A caller that
/// filters most items out should lower `search_k` in proportion, or the walk visits the whole
/// forest to gather that many.
#[derive(Clone, Copy)]
pub struct SearchOptions<'a> {
    k: usize,
    search_k: Option<usize>,
    filter: Option<ItemFilter<'a>>,
    exact: bool,
}

impl<'a> SearchOptions<'a> {
    /// The `k` nearest items, gathering Annoy's default of `k * trees` candidates.
    pub fn nearest(k: usize) -> Self {
        SearchOptions {
            k,
            search_k: None,
            filter: None,
            exact: false,
        }
    }

    /// Gathers `search_k` distinct candidates (that pass the filter) before exact ranking.
    pub fn candidates(self, search_k: usize) -> Self {
        SearchOptions {
            search_k: Some(search_k),
            ..self
        }
    }

    /// Returns only items for which `filter` holds.
    pub fn only(self, filter: ItemFilter<'a>) -> Self {
        SearchOptions {
            filter: Some(filter),
            ..self
        }
    }

    /// Scans every vector instead of walking the forest: the exact answer.
    pub fn exact(self) -> Self {
        SearchOptions {
            exact: true,
            ..self
        }
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn search_k(&self) -> Option<usize> {
        self.search_k
    }

    pub fn filter(&self) -> Option<ItemFilter<'a>> {
        self.filter
    }

    pub fn is_exact(&self) -> bool {
        self.exact
    }
}

impl std::fmt::Debug for SearchOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchOptions")
            .field("k", &self.k)
            .field("search_k", &self.search_k)
            .field("filtered", &self.filter.is_some())
            .field("exact", &self.exact)
            .finish()
    }
}
