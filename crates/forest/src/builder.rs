//! Building the trees: iterative, seeded, one tree per task.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::forest::{ChildRef, Forest, ForestParams, Split};
use crate::kernels::{dot_f32, normalize};
use crate::{ForestError, VectorStore};

/// Points sampled per node to place its two split items.
const SAMPLE: usize = 64;
/// Rounds of two-means on the sample.
const TWO_MEANS_ROUNDS: usize = 4;
/// Attempts at a split that leaves at least [`MIN_SIDE_SHARE`] of the points on each side.
const ATTEMPTS: usize = 3;
const MIN_SIDE_SHARE: f64 = 0.05;

/// Largest number of leaf ids a forest can index with `u32` offsets.
const MAX_LEAF_IDS: u64 = u32::MAX as u64;

pub(crate) fn build<S: VectorStore>(
    store: &S,
    params: ForestParams,
) -> Result<Forest, ForestError> {
    if params.leaf_size == 0 {
        return Err(ForestError::InvalidParams("leaf size must be at least 1"));
    }
    if params.trees == 0 {
        return Err(ForestError::InvalidParams(
            "a forest needs at least one tree",
        ));
    }
    let items = store.len();
    if (items as u64).saturating_mul(params.trees as u64) > MAX_LEAF_IDS {
        return Err(ForestError::InvalidParams(
            "items x trees exceeds 2^32 leaf ids",
        ));
    }
    let trees = build_trees(store, params);

    let mut forest = Forest {
        params,
        items,
        roots: Vec::with_capacity(params.trees),
        splits: Vec::new(),
        tree_leaves: Vec::with_capacity(params.trees),
        leaf_offsets: vec![0],
        leaf_items: Vec::with_capacity(items * params.trees),
    };
    for tree in trees {
        let split_base = forest.splits.len();
        let leaf_base = forest.leaf_offsets.len() - 1;
        let id_base = forest.leaf_items.len() as u32;
        let shift = |child: ChildRef| match child.as_leaf() {
            Some(leaf) => ChildRef::leaf(leaf + leaf_base),
            None => ChildRef::split(child.0 as usize + split_base),
        };
        forest.roots.push(shift(tree.root));
        forest.splits.extend(tree.splits.iter().map(|s| Split {
            near_a: shift(s.near_a),
            near_b: shift(s.near_b),
            ..*s
        }));
        forest
            .leaf_offsets
            .extend(tree.leaf_ends.iter().map(|end| end + id_base));
        forest.leaf_items.extend_from_slice(&tree.items);
        forest.tree_leaves.push(tree.leaf_ends.len() as u32);
    }
    Ok(forest)
}

#[cfg(feature = "parallel")]
fn build_trees<S: VectorStore>(store: &S, params: ForestParams) -> Vec<Tree> {
    use rayon::prelude::*;
    (0..params.trees)
        .into_par_iter()
        .map(|t| build_tree(store, params, t))
        .collect()
}

#[cfg(not(feature = "parallel"))]
fn build_trees<S: VectorStore>(store: &S, params: ForestParams) -> Vec<Tree> {
    (0..params.trees)
        .map(|t| build_tree(store, params, t))
        .collect()
}

/// One tree with tree-local references.
struct Tree {
    root: ChildRef,
    splits: Vec<Split>,
    /// End of each leaf in `items`, leaves in order of position.
    leaf_ends: Vec<u32>,
    /// A permutation of all item ids, leaf after leaf.
    items: Vec<u32>,
}

/// Where a finished node must be linked.
#[derive(Clone, Copy)]
enum Parent {
    Root,
    NearA(usize),
    NearB(usize),
}

struct Task {
    start: usize,
    end: usize,
    parent: Parent,
}

fn build_tree<S: VectorStore>(store: &S, params: ForestParams, tree_index: usize) -> Tree {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    rng.set_stream(tree_index as u64);
    let dim = store.dim();
    let mut items: Vec<u32> = (0..store.len() as u32).collect();
    let mut tree = Tree {
        root: ChildRef::leaf(0),
        splits: Vec::new(),
        leaf_ends: Vec::new(),
        items: Vec::new(),
    };
    let mut scratch = Scratch::new(dim);
    let mut margins: Vec<f32> = Vec::new();
    // Right halves are pushed first so that leaves come off the stack in position order and each
    // leaf is a contiguous run of `items`.
    let mut stack = vec![Task {
        start: 0,
        end: items.len(),
        parent: Parent::Root,
    }];
    while let Some(task) = stack.pop() {
        let node_items = &mut items[task.start..task.end];
        let node = if node_items.len() <= params.leaf_size {
            // Ascending ids: the canonical order, which the stored form reproduces.
            node_items.sort_unstable();
            tree.leaf_ends.push(task.end as u32);
            ChildRef::leaf(tree.leaf_ends.len() - 1)
        } else {
            let (a, b, mid) = split_node(store, node_items, &mut rng, &mut scratch, &mut margins);
            let index = tree.splits.len();
            tree.splits.push(Split {
                a,
                b,
                near_a: ChildRef::leaf(0),
                near_b: ChildRef::leaf(0),
            });
            stack.push(Task {
                start: task.start + mid,
                end: task.end,
                parent: Parent::NearB(index),
            });
            stack.push(Task {
                start: task.start,
                end: task.start + mid,
                parent: Parent::NearA(index),
            });
            ChildRef::split(index)
        };
        match task.parent {
            Parent::Root => tree.root = node,
            Parent::NearA(parent) => tree.splits[parent].near_a = node,
            Parent::NearB(parent) => tree.splits[parent].near_b = node,
        }
    }
    if tree.leaf_ends.is_empty() {
        tree.leaf_ends.push(0);
    }
    tree.items = items;
    tree
}

/// Buffers reused across nodes.
struct Scratch {
    sample: Vec<u32>,
    vectors: Vec<f32>,
    centroids: [Vec<f32>; 2],
    sums: [Vec<f32>; 2],
    normal: Vec<f32>,
}

impl Scratch {
    fn new(dim: usize) -> Self {
        Scratch {
            sample: Vec::with_capacity(SAMPLE),
            vectors: vec![0.0; SAMPLE * dim],
            centroids: [vec![0.0; dim], vec![0.0; dim]],
            sums: [vec![0.0; dim], vec![0.0; dim]],
            normal: vec![0.0; dim],
        }
    }
}

/// Chooses the two split items of a node and partitions `node_items` in place: the items nearer
/// `a` first. Returns `(a, b, number of items nearer a)`.
fn split_node<S: VectorStore>(
    store: &S,
    node_items: &mut [u32],
    rng: &mut ChaCha8Rng,
    scratch: &mut Scratch,
    margins: &mut Vec<f32>,
) -> (u32, u32, usize) {
    let n = node_items.len();
    let min_side = ((n as f64 * MIN_SIDE_SHARE).ceil() as usize).max(1);
    let mut best: Option<(u32, u32, usize)> = None;
    let mut measured = (0, 0);
    for _ in 0..ATTEMPTS {
        let (a, b) = choose_pair(store, node_items, rng, scratch);
        let smaller_side = measure_sides(store, node_items, a, b, scratch, margins);
        measured = (a, b);
        if best.is_none_or(|(_, _, side)| smaller_side > side) {
            best = Some((a, b, smaller_side));
        }
        if smaller_side >= min_side {
            break;
        }
    }
    let (a, b, smaller_side) = best.expect("at least one attempt");
    if smaller_side < min_side {
        // Nearly all points fall on one side of every pair tried (near-duplicates, or all equal):
        // halve the node so that the tree stays shallow. Search reaches both halves because
        // their margins are all close to zero.
        return (a, b, n / 2);
    }
    if measured != (a, b) {
        measure_sides(store, node_items, a, b, scratch, margins);
    }
    (a, b, partition(node_items, margins))
}

/// Two-means on a sample of the node gives the direction that best splits it; Annoy uses that
/// direction itself as the normal, but a split here must be two items, so among the sampled
/// points lying farthest along it on either side, take the pair whose hyperplane spreads the
/// sample the most (largest variance of distances to it): the widest cut, which separates the
/// fewest near neighbours.
fn choose_pair<S: VectorStore>(
    store: &S,
    node_items: &[u32],
    rng: &mut ChaCha8Rng,
    scratch: &mut Scratch,
) -> (u32, u32) {
    let dim = store.dim();
    let n = node_items.len();
    scratch.sample.clear();
    if n <= SAMPLE {
        scratch.sample.extend_from_slice(node_items);
    } else {
        for _ in 0..SAMPLE {
            scratch.sample.push(node_items[rng.random_range(0..n)]);
        }
    }
    let m = scratch.sample.len();
    for (slot, &item) in scratch.sample.iter().enumerate() {
        store.read(item, &mut scratch.vectors[slot * dim..(slot + 1) * dim]);
    }
    let first = rng.random_range(0..m);
    let mut second = rng.random_range(0..m - 1);
    if second >= first {
        second += 1;
    }
    scratch.centroids[0].copy_from_slice(&scratch.vectors[first * dim..(first + 1) * dim]);
    scratch.centroids[1].copy_from_slice(&scratch.vectors[second * dim..(second + 1) * dim]);
    for _ in 0..TWO_MEANS_ROUNDS {
        scratch.sums.iter_mut().for_each(|s| s.fill(0.0));
        for row in scratch.vectors[..m * dim].chunks_exact(dim) {
            let side = usize::from(
                dot_f32(row, &scratch.centroids[1]) > dot_f32(row, &scratch.centroids[0]),
            );
            scratch.sums[side]
                .iter_mut()
                .zip(row)
                .for_each(|(s, x)| *s += x);
        }
        for side in 0..2 {
            if normalize(&mut scratch.sums[side]) > 0.0 {
                scratch.centroids[side].copy_from_slice(&scratch.sums[side]);
            }
        }
    }
    for ((w, x), y) in scratch
        .normal
        .iter_mut()
        .zip(&scratch.centroids[0])
        .zip(&scratch.centroids[1])
    {
        *w = x - y;
    }
    let projections: Vec<f32> = scratch.vectors[..m * dim]
        .chunks_exact(dim)
        .map(|row| dot_f32(row, &scratch.normal))
        .collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| projections[y].total_cmp(&projections[x]).then(x.cmp(&y)));
    let per_side = CANDIDATES_PER_SIDE.min(m / 2).max(1);
    let tops = &order[..per_side];
    let bottoms = &order[m - per_side..];
    let candidates: Vec<usize> = tops.iter().chain(bottoms).copied().collect();
    let rows = |slot: usize| &scratch.vectors[slot * dim..(slot + 1) * dim];
    let gram: Vec<Vec<f32>> = candidates
        .iter()
        .map(|&c| (0..m).map(|s| dot_f32(rows(c), rows(s))).collect())
        .collect();
    let mut best = (f32::NEG_INFINITY, tops[0], bottoms[0]);
    for (ia, &a) in tops.iter().enumerate() {
        for (ib, &b) in bottoms.iter().enumerate() {
            if a == b || scratch.sample[a] == scratch.sample[b] {
                continue;
            }
            let (ga, gb) = (&gram[ia], &gram[per_side + ib]);
            let gap2 = ga[a] + gb[b] - 2.0 * ga[b];
            if gap2 <= 1e-12 {
                continue;
            }
            let (mut sum, mut sum2) = (0f32, 0f32);
            for s in 0..m {
                let margin = ga[s] - gb[s];
                sum += margin;
                sum2 += margin * margin;
            }
            let mean = sum / m as f32;
            let variance = (sum2 / m as f32 - mean * mean) / gap2;
            if variance > best.0 {
                best = (variance, a, b);
            }
        }
    }
    (scratch.sample[best.1], scratch.sample[best.2])
}

/// Sampled points on each side of the two-means direction tried as split items.
const CANDIDATES_PER_SIDE: usize = 8;

/// Fills `margins` with `x·a - x·b` for every item and returns the size of the smaller side.
fn measure_sides<S: VectorStore>(
    store: &S,
    node_items: &[u32],
    a: u32,
    b: u32,
    scratch: &mut Scratch,
    margins: &mut Vec<f32>,
) -> usize {
    let dim = store.dim();
    let (va, vb) = scratch.vectors.split_at_mut(dim);
    store.read(a, va);
    store.read(b, &mut vb[..dim]);
    for (w, (x, y)) in scratch.normal.iter_mut().zip(va.iter().zip(&vb[..dim])) {
        *w = x - y;
    }
    margins.clear();
    margins.extend(
        node_items
            .iter()
            .map(|&x| store.dot_raw(&scratch.normal, x)),
    );
    let positive = margins.iter().filter(|&&m| m > 0.0).count();
    let negative = margins.iter().filter(|&&m| m < 0.0).count();
    let ties = node_items.len() - positive - negative;
    // Ties are dealt alternately, so they count half to each side.
    (positive + ties / 2).min(negative + ties - ties / 2)
}

/// Puts the items nearer `a` first; ties alternate between the sides. `margins` must hold the
/// margins of `node_items` for `(a, b)`, as [`measure_sides`] left them.
fn partition(node_items: &mut [u32], margins: &mut [f32]) -> usize {
    let mut tie_to_a = true;
    let mut near_a = 0;
    for i in 0..node_items.len() {
        let goes_to_a = if margins[i] == 0.0 {
            tie_to_a = !tie_to_a;
            !tie_to_a
        } else {
            margins[i] > 0.0
        };
        if goes_to_a {
            node_items.swap(near_a, i);
            margins.swap(near_a, i);
            near_a += 1;
        }
    }
    near_a
}
