//! Seeded synthetic embeddings shaped like face embeddings of many people: centres uniform on
//! the unit sphere, several points around each centre with Gaussian noise, all L2-normalised.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, StandardNormal};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusteredSpec {
    /// Vector length.
    pub dim: usize,
    /// Number of identities (cluster centres).
    pub clusters: usize,
    /// Points per identity.
    pub per_cluster: usize,
    /// Standard deviation of the noise added to each coordinate of a centre.
    pub noise: f32,
    /// Seed of everything.
    pub seed: u64,
}

impl ClusteredSpec {
    /// The benchmark data of the search-core issue: 10,000 identities x 20 points in 128-d.
    pub fn benchmark() -> Self {
        ClusteredSpec {
            dim: 128,
            clusters: 10_000,
            per_cluster: 20,
            noise: 0.08,
            seed: 42,
        }
    }
}

/// Items and queries drawn from the same identities.
#[derive(Clone, Debug)]
pub struct Clustered {
    /// `clusters * per_cluster` rows of `dim`, cluster after cluster.
    pub items: Vec<f32>,
    /// The identity of each item.
    pub labels: Vec<u32>,
    /// `queries` rows around randomly chosen centres.
    pub queries: Vec<f32>,
    /// The identity each query was drawn around.
    pub query_labels: Vec<u32>,
}

/// Generates `spec` plus `queries` query vectors; the same spec always gives the same numbers.
pub fn clustered(spec: ClusteredSpec, queries: usize) -> Clustered {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let dim = spec.dim;
    let mut centres = vec![0f32; spec.clusters * dim];
    for centre in centres.chunks_exact_mut(dim) {
        for x in centre.iter_mut() {
            *x = StandardNormal.sample(&mut rng);
        }
        normalize(centre);
    }
    let noise = Normal::new(0.0, spec.noise).expect("noise must be finite and non-negative");
    let point = |centre: &[f32], rng: &mut ChaCha8Rng, out: &mut Vec<f32>| {
        let start = out.len();
        out.extend(centre.iter().map(|c| c + noise.sample(rng)));
        normalize(&mut out[start..]);
    };
    let mut items = Vec::with_capacity(spec.clusters * spec.per_cluster * dim);
    let mut labels = Vec::with_capacity(spec.clusters * spec.per_cluster);
    for (label, centre) in centres.chunks_exact(dim).enumerate() {
        for _ in 0..spec.per_cluster {
            point(centre, &mut rng, &mut items);
            labels.push(label as u32);
        }
    }
    let mut query_rows = Vec::with_capacity(queries * dim);
    let mut query_labels = Vec::with_capacity(queries);
    for _ in 0..queries {
        let label = rng.random_range(0..spec.clusters.max(1));
        if spec.clusters > 0 {
            point(
                &centres[label * dim..(label + 1) * dim],
                &mut rng,
                &mut query_rows,
            );
        }
        query_labels.push(label as u32);
    }
    Clustered {
        items,
        labels,
        queries: query_rows,
        query_labels,
    }
}

/// `n` vectors uniform on the unit sphere.
pub fn uniform_sphere(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let start = rows.len();
        rows.extend((0..dim).map(|_| -> f32 { StandardNormal.sample(&mut rng) }));
        normalize(&mut rows[start..]);
    }
    rows
}

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clustered_is_deterministic_and_shaped_like_identities() {
        let spec = ClusteredSpec {
            dim: 128,
            clusters: 50,
            per_cluster: 4,
            noise: 0.08,
            seed: 7,
        };
        let a = clustered(spec, 10);
        let b = clustered(spec, 10);
        assert_eq!(a.items, b.items);
        assert_eq!(a.items.len(), 200 * 128);
        assert_eq!(a.queries.len(), 10 * 128);
        let dot = |i: usize, j: usize| -> f32 {
            a.items[i * 128..(i + 1) * 128]
                .iter()
                .zip(&a.items[j * 128..(j + 1) * 128])
                .map(|(x, y)| x * y)
                .sum()
        };
        // Same identity: cosine near 0.55; different identities: near 0.
        assert!(dot(0, 1) > 0.35, "within {}", dot(0, 1));
        assert!(dot(0, 4).abs() < 0.35, "between {}", dot(0, 4));
    }
}
