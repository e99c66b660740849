//! Annoy's best-first search over all trees, then exact ranking of the candidates.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::exact::rank_candidates;
use crate::forest::{ChildRef, Forest};
use crate::options::ItemFilter;
use crate::{Neighbour, VectorStore};

/// A node waiting on the heap, keyed by its [`WalkOrder`]: nearest first.
#[derive(Clone, Copy)]
struct Pending {
    priority: f32,
    node: ChildRef,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.total_cmp(&other.priority)
    }
}

/// How the best-first walk ranks the nodes waiting on its heap.
///
/// Both key a node by the margins of the hyperplanes between it and the query, negated on the
/// far side; they differ in how a path's margins combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WalkOrder {
    /// The plain rule: a child is keyed by the signed margin of its parent's hyperplane alone,
    /// positive on the query's side, negated on the far side.
    Margin,
    /// Annoy's: a child keeps the smaller of its parent's key and its own signed margin, so a
    /// node is as far as the widest hyperplane crossed to reach it.
    AnnoyMin,
    /// Minus the sum of the squared margins crossed: the squared distance from the query to the
    /// node's cell if the crossed hyperplanes were orthogonal, which in high dimension they
    /// nearly are. Measured on the benchmark data: the same recall from about 25 % fewer
    /// candidates (docs/BENCHMARKS.md).
    #[default]
    SquaredMargins,
}

impl WalkOrder {
    fn root_key(self) -> f32 {
        match self {
            WalkOrder::Margin | WalkOrder::AnnoyMin => f32::INFINITY,
            WalkOrder::SquaredMargins => 0.0,
        }
    }

    /// Keys of the near and the far child of a node keyed `parent`, for a margin `margin` >= 0.
    #[inline]
    fn child_keys(self, parent: f32, margin: f32) -> (f32, f32) {
        match self {
            WalkOrder::Margin => (margin, -margin),
            WalkOrder::AnnoyMin => (parent.min(margin), parent.min(-margin)),
            WalkOrder::SquaredMargins => (parent, parent - margin * margin),
        }
    }
}

/// Reusable search buffers: keep one per thread (or per worker) and pass it to every query, so
/// a query allocates nothing but its result.
#[derive(Default)]
pub struct Searcher {
    heap: BinaryHeap<Pending>,
    /// One bit per item: already a candidate of this query.
    seen: Vec<u64>,
    candidates: Vec<u32>,
    stats: SearchStats,
    order: WalkOrder,
}

/// What the last search did: how much of the forest it walked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Split nodes popped (two dot products each).
    pub splits: usize,
    /// Leaves popped.
    pub leaves: usize,
    /// Distinct candidates ranked exactly.
    pub candidates: usize,
}

impl Searcher {
    /// Empty buffers; they grow to the index's size on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empty buffers for a walk in the given order.
    pub fn with_order(order: WalkOrder) -> Self {
        Searcher {
            order,
            ..Self::default()
        }
    }

    /// Counters of the last search.
    pub fn last_stats(&self) -> SearchStats {
        self.stats
    }

    /// Candidates gathered by the last search: distinct item ids, ascending.
    pub fn last_candidates(&self) -> &[u32] {
        &self.candidates
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn search<S: VectorStore>(
        &mut self,
        forest: &Forest,
        split_scales: &[f32],
        store: &S,
        query: &[f32],
        k: usize,
        search_k: usize,
        filter: Option<ItemFilter>,
    ) -> Vec<Neighbour> {
        let prepared = store.prepare(query);
        self.gather(
            forest,
            split_scales,
            store,
            &prepared,
            search_k.max(k),
            filter,
        );
        rank_candidates(store, &prepared, &self.candidates, k)
    }

    /// Walks the trees best first until `search_k` distinct candidates that pass `filter` are
    /// gathered, or every leaf has been visited.
    fn gather<S: VectorStore>(
        &mut self,
        forest: &Forest,
        split_scales: &[f32],
        store: &S,
        prepared: &S::Query,
        search_k: usize,
        filter: Option<ItemFilter>,
    ) {
        // All zero here: the previous query's walk below cleared every word it read.
        self.seen.resize(forest.items().div_ceil(64), 0);
        self.candidates.clear();
        self.heap.clear();
        self.heap.extend(forest.roots().iter().map(|&node| Pending {
            priority: self.order.root_key(),
            node,
        }));
        let wanted = search_k.min(forest.items());
        let mut stats = SearchStats::default();
        let mut gathered = 0;
        while gathered < wanted {
            let Some(Pending {
                mut priority,
                mut node,
            }) = self.heap.pop()
            else {
                break;
            };
            // Walk down while the nearer child beats everything waiting: the heap would hand
            // it straight back, so pushing and popping it would be wasted work.
            while let Some(index) = node.as_split() {
                stats.splits += 1;
                let split = &forest.splits()[index];
                // Both children's items load alongside this split's own: whichever side the
                // walk takes next finds its vectors on the way.
                for child in [split.near_a, split.near_b] {
                    if let Some(child) = child.as_split() {
                        let child = &forest.splits()[child];
                        store.prefetch(child.a);
                        store.prefetch(child.b);
                    }
                }
                let margin = (store.similarity(prepared, split.a)
                    - store.similarity(prepared, split.b))
                    * split_scales[index];
                let (near, far) = if margin >= 0.0 {
                    (split.near_a, split.near_b)
                } else {
                    (split.near_b, split.near_a)
                };
                let (near_key, far_key) = self.order.child_keys(priority, margin.abs());
                self.heap.push(Pending {
                    priority: far_key,
                    node: far,
                });
                priority = near_key;
                node = near;
                if self.heap.peek().is_some_and(|top| top.priority > priority) {
                    self.heap.push(Pending { priority, node });
                    break;
                }
            }
            let Some(leaf) = node.as_leaf() else {
                continue;
            };
            stats.leaves += 1;
            let leaf = forest.leaf(leaf);
            match filter {
                None => {
                    for &item in leaf {
                        let (word, bit) = (item as usize / 64, 1u64 << (item % 64));
                        gathered += usize::from(self.seen[word] & bit == 0);
                        self.seen[word] |= bit;
                    }
                }
                Some(passes) => {
                    for &item in leaf {
                        let (word, bit) = (item as usize / 64, 1u64 << (item % 64));
                        if self.seen[word] & bit == 0 && passes(item) {
                            gathered += 1;
                            self.seen[word] |= bit;
                        }
                    }
                }
            }
        }
        // Ranking in ascending item order turns random reads of the vectors into a forward
        // sweep that the memory system can stream.
        for (word_index, word) in self.seen.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let bit = bits.trailing_zeros();
                self.candidates.push(word_index as u32 * 64 + bit);
                bits &= bits - 1;
            }
        }
        stats.candidates = self.candidates.len();
        self.stats = stats;
    }
}
