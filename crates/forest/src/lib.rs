//! An Annoy-style forest of random hyperplane trees for cosine nearest-neighbour search.
//!
//! Each split node is a pair of item ids `(a, b)`: the hyperplane equidistant from the two items.
//! Because stored vectors are unit length, a query `q` lies on `a`'s side when
//! `q·a - q·b > 0`, so a node costs two ids instead of Annoy's `dim` floats, and the whole forest
//! stays a few percent of the vectors' size. Leaves hold at most `leaf_size` ids; there are
//! `trees` trees.
//!
//! Search follows Annoy: every root goes on a max-heap keyed by signed margin; popping a split
//! pushes both children, the far side with the margin negated; popping a leaf collects its ids
//! until `search_k` distinct candidates are gathered; the candidates are then ranked exactly.
//! How a path's margins combine into a key is a [`WalkOrder`]: Annoy's minimum, or (the default,
//! which the benchmark shows needs fewer candidates) minus the sum of squared margins.
//!
//! The crate does no I/O and has no web dependency: it builds natively (trees in parallel with
//! the `parallel` feature) and runs the same search in the browser.

mod builder;
mod exact;
mod forest;
mod groups;
pub mod kernels;
mod options;
mod search;
mod vectors;

pub use exact::exact_search;
pub use forest::{ChildRef, Forest, ForestParams, Split, leaf_number_bits, packed_words};
pub use groups::until_groups;
pub use options::{ItemFilter, SearchOptions};
pub use search::{SearchStats, Searcher, WalkOrder};
pub use vectors::{F32Vectors, I8Query, I8Vectors, VectorStore};

/// Most items an index can hold: leaf and split references keep one bit for their kind.
pub const MAX_ITEMS: usize = (u32::MAX >> 1) as usize;

/// One search result: an item number and its cosine distance (`1 - cosine similarity`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    /// Item number, as given to the builder.
    pub item: u32,
    /// `1 - cos(query, item)`: 0 for the same direction, 2 for the opposite one.
    pub distance: f32,
}

impl Neighbour {
    /// Cosine similarity, `1 - distance`.
    pub fn similarity(&self) -> f32 {
        1.0 - self.distance
    }
}

/// Why a forest or a vector store could not be made or used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ForestError {
    #[error("{values} values do not make rows of dimension {dim}")]
    ShapeMismatch { values: usize, dim: usize },
    #[error("item {item} holds a NaN or infinite value")]
    NotFinite { item: usize },
    #[error("{items} items is more than the {max} an index can hold", max = MAX_ITEMS)]
    TooManyItems { items: usize },
    #[error("query has dimension {got}, the index has {expected}")]
    QueryDimension { got: usize, expected: usize },
    #[error("forest parameters are invalid: {0}")]
    InvalidParams(&'static str),
    #[error("forest covers {forest} items but the vectors hold {vectors}")]
    ItemCountMismatch { forest: usize, vectors: usize },
    #[error("forest structure is invalid: {0}")]
    Corrupt(String),
}

/// What every index answers, whatever its vector storage: the one search entry point. Object
/// safe, so that an index read from storage picks its storage once ([`Index`] of either store
/// behind `&dyn SearchIndex`) and every caller searches the same way.
pub trait SearchIndex {
    /// The nearest items to `query` by cosine distance, nearest first, as `options` ask: the
    /// forest's best-first walk and exact ranking of its candidates, or an exact scan.
    fn search(
        &self,
        searcher: &mut Searcher,
        query: &[f32],
        options: &SearchOptions,
    ) -> Result<Vec<Neighbour>, ForestError>;
    /// The trees.
    fn forest(&self) -> &Forest;
    /// Vector length.
    fn dim(&self) -> usize;
    /// Number of items.
    fn len(&self) -> usize {
        self.forest().items()
    }
    /// True when the index holds no item.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Item `item` as stored, converted to f32.
    fn vector(&self, item: u32) -> Vec<f32>;
    /// Bytes the vectors take.
    fn vector_bytes(&self) -> usize;
}

impl<S: VectorStore> SearchIndex for Index<S> {
    fn search(
        &self,
        searcher: &mut Searcher,
        query: &[f32],
        options: &SearchOptions,
    ) -> Result<Vec<Neighbour>, ForestError> {
        self.check_query(query)?;
        if options.is_exact() {
            return Ok(exact_search(
                &self.vectors,
                query,
                options.k(),
                options.filter(),
            ));
        }
        let search_k = options
            .search_k()
            .unwrap_or(options.k() * self.forest.trees().max(1));
        Ok(searcher.search(
            &self.forest,
            &self.split_scales,
            &self.vectors,
            query,
            options.k(),
            search_k,
            options.filter(),
        ))
    }

    fn forest(&self) -> &Forest {
        &self.forest
    }

    fn dim(&self) -> usize {
        self.vectors.dim()
    }

    fn vector(&self, item: u32) -> Vec<f32> {
        let mut out = vec![0.0; self.vectors.dim()];
        self.vectors.read(item, &mut out);
        out
    }

    fn vector_bytes(&self) -> usize {
        self.vectors.byte_len()
    }
}

/// A forest bound to the vectors it was built on.
#[derive(Clone, Debug)]
pub struct Index<S> {
    forest: Forest,
    vectors: S,
    /// `1 / |a - b|` per split, so that margins are distances to the hyperplane and compare
    /// fairly across nodes. Derived from the vectors, never stored.
    split_scales: Vec<f32>,
}

impl<S: VectorStore> Index<S> {
    /// Builds a forest over `vectors`.
    pub fn build(vectors: S, params: ForestParams) -> Result<Self, ForestError> {
        let forest = builder::build(&vectors, params)?;
        Ok(Self::assemble(forest, vectors))
    }

    /// Pairs a forest read back from storage with its vectors, checking they belong together.
    pub fn from_parts(forest: Forest, vectors: S) -> Result<Self, ForestError> {
        if forest.items() != vectors.len() {
            return Err(ForestError::ItemCountMismatch {
                forest: forest.items(),
                vectors: vectors.len(),
            });
        }
        Ok(Self::assemble(forest, vectors))
    }

    fn assemble(forest: Forest, vectors: S) -> Self {
        let dim = vectors.dim();
        let (mut a, mut b) = (vec![0f32; dim], vec![0f32; dim]);
        let split_scales = forest
            .splits()
            .iter()
            .map(|split| {
                vectors.read(split.a, &mut a);
                vectors.read(split.b, &mut b);
                let gap: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
                if gap > 0.0 { 1.0 / gap.sqrt() } else { 1.0 }
            })
            .collect();
        Index {
            forest,
            vectors,
            split_scales,
        }
    }

    /// The vectors.
    pub fn vectors(&self) -> &S {
        &self.vectors
    }

    fn check_query(&self, query: &[f32]) -> Result<(), ForestError> {
        if query.len() != self.vectors.dim() {
            return Err(ForestError::QueryDimension {
                got: query.len(),
                expected: self.vectors.dim(),
            });
        }
        Ok(())
    }
}
