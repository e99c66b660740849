//! The forest's data: split nodes, leaves and roots, in flat arrays.

use crate::{ForestError, MAX_ITEMS};

/// How a forest is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForestParams {
    /// Number of trees, `T`.
    pub trees: usize,
    /// Most ids in one leaf, `K` (at least 1).
    pub leaf_size: usize,
    /// Seed of every random choice: the same vectors, parameters and seed give the same forest.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 8,
            leaf_size: 64,
            seed: 0x5eed,
        }
    }
}

/// A reference to a child: a split node or a leaf, told apart by the top bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildRef(pub u32);

const LEAF_BIT: u32 = 1 << 31;

impl ChildRef {
    /// Reference to split node `index`.
    pub fn split(index: usize) -> Self {
        ChildRef(index as u32)
    }
    /// Reference to leaf `index`.
    pub fn leaf(index: usize) -> Self {
        ChildRef(index as u32 | LEAF_BIT)
    }
    /// `Some(leaf index)` when this is a leaf.
    #[inline]
    pub fn as_leaf(self) -> Option<usize> {
        (self.0 & LEAF_BIT != 0).then_some((self.0 & !LEAF_BIT) as usize)
    }
    /// `Some(split index)` when this is a split.
    #[inline]
    pub fn as_split(self) -> Option<usize> {
        (self.0 & LEAF_BIT == 0).then_some(self.0 as usize)
    }
}

/// A split node: the hyperplane equidistant from items `a` and `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// The item whose side holds the points with `x·a > x·b`.
    pub a: u32,
    /// The other item.
    pub b: u32,
    /// Child holding the points nearer `a`.
    pub near_a: ChildRef,
    /// Child holding the points nearer `b` (and, for ties, those that went that way).
    pub near_b: ChildRef,
}

/// The trees of an index, without its vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Forest {
    pub(crate) params: ForestParams,
    pub(crate) items: usize,
    pub(crate) roots: Vec<ChildRef>,
    pub(crate) splits: Vec<Split>,
    /// Leaf `i` holds `leaf_items[leaf_offsets[i]..leaf_offsets[i + 1]]`.
    pub(crate) leaf_offsets: Vec<u32>,
    pub(crate) leaf_items: Vec<u32>,
}

impl Forest {
    /// Assembles a forest from stored arrays, checking that they form `params.trees` proper trees
    /// over `items` items, so that a search over it always ends and never indexes out of range.
    pub fn from_parts(
        params: ForestParams,
        items: usize,
        roots: Vec<ChildRef>,
        splits: Vec<Split>,
        leaf_offsets: Vec<u32>,
        leaf_items: Vec<u32>,
    ) -> Result<Self, ForestError> {
        let corrupt = |what: String| Err(ForestError::Corrupt(what));
        if items > MAX_ITEMS {
            return Err(ForestError::TooManyItems { items });
        }
        if params.leaf_size == 0 {
            return Err(ForestError::InvalidParams("leaf size must be at least 1"));
        }
        if roots.len() != params.trees {
            return corrupt(format!("{} roots for {} trees", roots.len(), params.trees));
        }
        if leaf_offsets.first() != Some(&0) {
            return corrupt("leaf offsets do not start at 0".into());
        }
        if leaf_offsets.windows(2).any(|w| w[0] > w[1]) {
            return corrupt("leaf offsets decrease".into());
        }
        if *leaf_offsets.last().unwrap_or(&0) as usize != leaf_items.len() {
            return corrupt("leaf offsets do not end at the number of leaf ids".into());
        }
        if leaf_items.len() != items * params.trees {
            return corrupt(format!(
                "{} leaf ids, expected {} items x {} trees",
                leaf_items.len(),
                items,
                params.trees
            ));
        }
        if let Some(id) = leaf_items.iter().find(|&&id| id as usize >= items) {
            return corrupt(format!("leaf id {id} is not below the item count {items}"));
        }
        let leaves = leaf_offsets.len() - 1;
        for (index, split) in splits.iter().enumerate() {
            if split.a as usize >= items || split.b as usize >= items {
                return corrupt(format!("split {index} names an item out of range"));
            }
        }
        // Every node must be reached exactly once from the roots: that rules out cycles and
        // shared subtrees, so a search visits each node at most once and always ends.
        let mut seen_split = vec![false; splits.len()];
        let mut seen_leaf = vec![false; leaves];
        let mut stack: Vec<ChildRef> = roots.clone();
        while let Some(node) = stack.pop() {
            if let Some(leaf) = node.as_leaf() {
                match seen_leaf.get_mut(leaf) {
                    None => return corrupt(format!("leaf reference {leaf} out of range")),
                    Some(true) => return corrupt(format!("leaf {leaf} is reached twice")),
                    Some(seen) => *seen = true,
                }
            } else {
                let index = node.0 as usize;
                match seen_split.get_mut(index) {
                    None => return corrupt(format!("split reference {index} out of range")),
                    Some(true) => return corrupt(format!("split {index} is reached twice")),
                    Some(seen) => *seen = true,
                }
                stack.push(splits[index].near_a);
                stack.push(splits[index].near_b);
            }
        }
        if seen_split.contains(&false) || seen_leaf.contains(&false) {
            return corrupt("some nodes are not reachable from any root".into());
        }
        Ok(Forest {
            params,
            items,
            roots,
            splits,
            leaf_offsets,
            leaf_items,
        })
    }

    /// Parameters the forest was built with.
    pub fn params(&self) -> ForestParams {
        self.params
    }
    /// Number of trees.
    pub fn trees(&self) -> usize {
        self.roots.len()
    }
    /// Number of items the forest covers.
    pub fn items(&self) -> usize {
        self.items
    }
    /// One root per tree.
    pub fn roots(&self) -> &[ChildRef] {
        &self.roots
    }
    /// All split nodes of all trees.
    pub fn splits(&self) -> &[Split] {
        &self.splits
    }
    /// Leaf boundaries into [`Forest::leaf_items`]; one more than the number of leaves.
    pub fn leaf_offsets(&self) -> &[u32] {
        &self.leaf_offsets
    }
    /// The ids of all leaves, leaf after leaf.
    pub fn leaf_items(&self) -> &[u32] {
        &self.leaf_items
    }
    /// The ids in leaf `index`.
    #[inline]
    pub fn leaf(&self, index: usize) -> &[u32] {
        let start = self.leaf_offsets[index] as usize;
        let end = self.leaf_offsets[index + 1] as usize;
        &self.leaf_items[start..end]
    }
    /// Number of leaves in all trees.
    pub fn leaves(&self) -> usize {
        self.leaf_offsets.len() - 1
    }
    /// Bytes the forest takes when stored: 4 per root, 16 per split, 4 per leaf offset and leaf id.
    pub fn byte_len(&self) -> usize {
        4 * self.roots.len()
            + 16 * self.splits.len()
            + 4 * self.leaf_offsets.len()
            + 4 * self.leaf_items.len()
    }
}
