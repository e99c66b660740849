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
    /// Leaves of each tree; tree `t`'s leaves are numbered right after tree `t - 1`'s.
    pub(crate) tree_leaves: Vec<u32>,
    /// Leaf `i` holds `leaf_items[leaf_offsets[i]..leaf_offsets[i + 1]]`.
    pub(crate) leaf_offsets: Vec<u32>,
    pub(crate) leaf_items: Vec<u32>,
}

impl Forest {
    /// Rebuilds a forest from its stored form: the trees' nodes plus, for every tree, the leaf
    /// (numbered within that tree) that holds each item. Leaves list their items in ascending
    /// order, as the builder leaves them. Checks everything [`Forest::from_parts`] checks.
    pub fn from_leaf_numbers(
        params: ForestParams,
        items: usize,
        roots: Vec<ChildRef>,
        splits: Vec<Split>,
        tree_leaves: Vec<u32>,
        mut leaf_number: impl FnMut(usize, usize) -> u32,
    ) -> Result<Self, ForestError> {
        if items > MAX_ITEMS {
            return Err(ForestError::TooManyItems { items });
        }
        if tree_leaves.len() != params.trees {
            return Err(ForestError::Corrupt(format!(
                "{} leaf counts for {} trees",
                tree_leaves.len(),
                params.trees
            )));
        }
        let total_leaves = tree_leaves.iter().map(|&c| c as usize).sum::<usize>();
        if total_leaves > MAX_ITEMS
            || (items > 0 && tree_leaves.iter().any(|&c| c as usize > items))
        {
            return Err(ForestError::Corrupt("more leaves than items".into()));
        }
        // Checked before anything is allocated for the leaves: counts that nothing else backs
        // would otherwise ask for gigabytes (found by fuzzing the shards).
        if total_leaves != splits.len() + params.trees {
            return Err(ForestError::Corrupt(format!(
                "{total_leaves} leaves for {} splits in {} trees: a tree of two-way splits has \
                 one leaf more than it has splits",
                splits.len(),
                params.trees
            )));
        }
        // A counting sort per tree: sizes, then offsets, then items in ascending order.
        let mut leaf_offsets = vec![0u32; total_leaves + 1];
        let mut leaf_items = vec![0u32; items * params.trees];
        let mut first_leaf = 0usize;
        for (tree, &count) in tree_leaves.iter().enumerate() {
            let count = count as usize;
            let mut sizes = vec![0u32; count];
            let mut numbers = Vec::with_capacity(items);
            for item in 0..items {
                let leaf = leaf_number(tree, item) as usize;
                let Some(size) = sizes.get_mut(leaf) else {
                    return Err(ForestError::Corrupt(format!(
                        "item {item} is in leaf {leaf} of tree {tree}, which has {count} leaves"
                    )));
                };
                *size += 1;
                numbers.push(leaf as u32);
            }
            let tree_start = (tree * items) as u32;
            let mut next = Vec::with_capacity(count);
            let mut offset = tree_start;
            for (leaf, size) in sizes.iter().enumerate() {
                leaf_offsets[first_leaf + leaf] = offset;
                next.push(offset);
                offset += size;
            }
            for (item, leaf) in numbers.into_iter().enumerate() {
                let slot = &mut next[leaf as usize];
                leaf_items[*slot as usize] = item as u32;
                *slot += 1;
            }
            first_leaf += count;
        }
        leaf_offsets[total_leaves] = leaf_items.len() as u32;
        Self::from_parts(
            params,
            items,
            roots,
            splits,
            tree_leaves,
            leaf_offsets,
            leaf_items,
        )
    }

    /// Assembles a forest from its in-memory arrays, checking that they form `params.trees`
    /// proper trees over `items` items, so that a search over it always ends and never indexes
    /// out of range.
    pub fn from_parts(
        params: ForestParams,
        items: usize,
        roots: Vec<ChildRef>,
        splits: Vec<Split>,
        tree_leaves: Vec<u32>,
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
        if roots.len() != params.trees || tree_leaves.len() != params.trees {
            return corrupt(format!(
                "{} roots and {} leaf counts for {} trees",
                roots.len(),
                tree_leaves.len(),
                params.trees
            ));
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
        if tree_leaves.iter().map(|&c| c as usize).sum::<usize>() != leaves {
            return corrupt("the trees' leaf counts do not add up to the leaves".into());
        }
        for (index, split) in splits.iter().enumerate() {
            if split.a as usize >= items || split.b as usize >= items {
                return corrupt(format!("split {index} names an item out of range"));
            }
        }
        // Every node must be reached exactly once from the roots, and each tree must reach
        // exactly its own leaves: that rules out cycles and shared subtrees, so a search visits
        // each node at most once and always ends.
        let mut seen_split = vec![false; splits.len()];
        let mut seen_leaf = vec![false; leaves];
        let mut first_leaf = 0usize;
        for (tree, (&root, &count)) in roots.iter().zip(&tree_leaves).enumerate() {
            let own = first_leaf..first_leaf + count as usize;
            first_leaf = own.end;
            let mut stack = vec![root];
            while let Some(node) = stack.pop() {
                if let Some(leaf) = node.as_leaf() {
                    if !own.contains(&leaf) {
                        return corrupt(format!(
                            "tree {tree} reaches leaf {leaf}, outside its leaves {own:?}"
                        ));
                    }
                    if std::mem::replace(&mut seen_leaf[leaf], true) {
                        return corrupt(format!("leaf {leaf} is reached twice"));
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
        }
        if seen_split.contains(&false) || seen_leaf.contains(&false) {
            return corrupt("some nodes are not reachable from any root".into());
        }
        Ok(Forest {
            params,
            items,
            roots,
            splits,
            tree_leaves,
            leaf_offsets,
            leaf_items,
        })
    }

    /// For tree `tree`, the leaf (numbered within the tree) holding each item: the stored form
    /// of the leaves, which [`Forest::from_leaf_numbers`] reads back.
    pub fn leaf_numbers(&self, tree: usize) -> Vec<u32> {
        let first: usize = self.tree_leaves[..tree].iter().map(|&c| c as usize).sum();
        let mut numbers = vec![0u32; self.items];
        for local in 0..self.tree_leaves[tree] as usize {
            for &item in self.leaf(first + local) {
                numbers[item as usize] = local as u32;
            }
        }
        numbers
    }

    /// Number of leaves of each tree.
    pub fn tree_leaves(&self) -> &[u32] {
        &self.tree_leaves
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
    /// Bytes the forest takes when stored (see docs/FORMAT.md): 4 per root, 16 per split, 4 per
    /// tree for its leaf count, and per tree each item's leaf number in
    /// `ceil(log2(leaves of the tree))` bits, rounded up to whole 32-bit words.
    pub fn stored_bytes(&self) -> usize {
        4 * self.roots.len()
            + 16 * self.splits.len()
            + 4 * self.tree_leaves.len()
            + self
                .tree_leaves
                .iter()
                .map(|&count| 4 * packed_words(self.items, leaf_number_bits(count)))
                .sum::<usize>()
    }

    /// Bytes the forest takes in memory, where every leaf lists its item ids.
    pub fn memory_bytes(&self) -> usize {
        4 * self.roots.len()
            + 16 * self.splits.len()
            + 4 * self.tree_leaves.len()
            + 4 * self.leaf_offsets.len()
            + 4 * self.leaf_items.len()
    }
}

/// Bits per leaf number in a tree of `leaves` leaves: 0 for a single leaf.
pub fn leaf_number_bits(leaves: u32) -> u32 {
    u32::BITS - leaves.saturating_sub(1).leading_zeros()
}

/// 32-bit words that hold `count` values of `bits` bits.
pub fn packed_words(count: usize, bits: u32) -> usize {
    (count * bits as usize).div_ceil(32)
}
