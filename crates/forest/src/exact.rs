//! Exact search: the baseline the forest is measured against, and the tests' oracle.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::options::ItemFilter;
use crate::{Neighbour, VectorStore};

/// Orders neighbours nearest first, ties by item number, so results are deterministic.
pub(crate) fn nearest_first(x: &Neighbour, y: &Neighbour) -> Ordering {
    x.distance
        .total_cmp(&y.distance)
        .then_with(|| x.item.cmp(&y.item))
}

/// A neighbour ordered by [`nearest_first`], so a `BinaryHeap` of them keeps the farthest on top.
struct ByDistance(Neighbour);

impl PartialEq for ByDistance {
    fn eq(&self, other: &Self) -> bool {
        nearest_first(&self.0, &other.0).is_eq()
    }
}
impl Eq for ByDistance {}
impl PartialOrd for ByDistance {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByDistance {
    fn cmp(&self, other: &Self) -> Ordering {
        nearest_first(&self.0, &other.0)
    }
}

/// The `k` items nearest to `query` by cosine distance (of those that pass `filter`), found by
/// scanning every vector. Ties go to the smaller item number.
pub fn exact_search<S: VectorStore>(
    store: &S,
    query: &[f32],
    k: usize,
    filter: Option<ItemFilter>,
) -> Vec<Neighbour> {
    let prepared = store.prepare(query);
    let n = store.len() as u32;
    if let Some(passes) = filter {
        return keep_nearest(store, &prepared, (0..n).filter(|&item| passes(item)), k);
    }
    if !S::PREFETCH_SCANS {
        return keep_nearest(store, &prepared, 0..n, k);
    }
    let ahead = PREFETCH_AHEAD as u32;
    let with_prefetch = (0..n).inspect(|&item| {
        if item + ahead < n {
            store.prefetch(item + ahead);
        }
    });
    keep_nearest(store, &prepared, with_prefetch, k)
}

/// How many candidates ahead of the one being scored to ask the cache for: enough to hide a
/// memory round trip behind the dot products in between.
const PREFETCH_AHEAD: usize = 16;

/// Scores the candidates exactly against `prepared` and keeps the `k` nearest, nearest first.
pub(crate) fn rank_candidates<S: VectorStore>(
    store: &S,
    prepared: &S::Query,
    candidates: &[u32],
    k: usize,
) -> Vec<Neighbour> {
    let with_prefetch = candidates.iter().enumerate().map(|(position, &item)| {
        if let Some(&ahead) = candidates.get(position + PREFETCH_AHEAD) {
            store.prefetch(ahead);
        }
        item
    });
    keep_nearest(store, prepared, with_prefetch, k)
}

/// Scores `items` exactly against `prepared` and keeps the `k` nearest, nearest first.
fn keep_nearest<S: VectorStore>(
    store: &S,
    prepared: &S::Query,
    items: impl IntoIterator<Item = u32>,
    k: usize,
) -> Vec<Neighbour> {
    if k == 0 {
        return Vec::new();
    }
    let mut kept: BinaryHeap<ByDistance> = BinaryHeap::with_capacity(k + 1);
    // Distance of the farthest kept neighbour once k are kept: most items lose to it, and a
    // plain float comparison turns them away without touching the heap.
    let mut cutoff = f32::INFINITY;
    for item in items {
        let distance = 1.0 - store.similarity(prepared, item);
        if distance > cutoff {
            continue;
        }
        let candidate = Neighbour { item, distance };
        if kept.len() < k {
            kept.push(ByDistance(candidate));
        } else if let Some(mut worst) = kept.peek_mut()
            && nearest_first(&candidate, &worst.0).is_lt()
        {
            *worst = ByDistance(candidate);
        }
        if kept.len() == k {
            cutoff = kept.peek().map_or(f32::INFINITY, |worst| worst.0.distance);
        }
    }
    let mut result: Vec<Neighbour> = kept.into_iter().map(|n| n.0).collect();
    result.sort_unstable_by(nearest_first);
    result
}
