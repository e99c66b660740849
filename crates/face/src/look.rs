//! The "overall look" network: a documented blend of the identity embedding with the age and
//! gender networks, so that a look-alike shares the visitor's gender and age band more often than
//! an identity network alone ranks them.
//!
//! Each part is a unit vector whose dot product is a similarity in [0, 1]:
//! - identity: the identity network's L2-normalised embedding (cosine);
//! - gender: the score `p` in [0, 1] as the angle `p·π/2`, so two faces score
//!   `cos(π/2·|p₁ − p₂|)`: 1 for the same, 0 for opposite confident estimates;
//! - age: Gaussian bumps every 5 years from 0 to 100 with σ = 7.5 years, normalised, so two faces
//!   score about `exp(−Δ²/4σ²)`: 0.64 at 10 years apart, 0.17 at 20.
//!
//! The parts are scaled by the square roots of their [`LookWeights`] shares (which sum to 1) and
//! concatenated, so the look cosine is the weighted mean of the three similarities. The result is
//! padded to [`LOOK_DIMENSION`] and rotated by a fixed randomised Hadamard transform: a rotation
//! keeps every cosine, and it spreads the two short, heavy attribute parts over all dimensions so
//! that int8 storage with one scale per vector keeps the identity part's precision.

use crate::{Attribute, AttributeNet, Embedder, Face, FaceError, NetworkCard, Photo};

/// Length of the shipped look vector (the 215 values of the blend on MobileFaceNet's 192,
/// padded to a power of two).
pub const LOOK_DIMENSION: usize = 256;

const AGE_STEP: f32 = 5.0;
const AGE_BINS: usize = 21;
const AGE_SIGMA: f32 = 7.5;

/// Shares of the three similarities in the look cosine; they sum to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LookWeights {
    pub identity: f32,
    pub gender: f32,
    pub age: f32,
}

impl LookWeights {
    /// The blend the app ships as "overall look": identity still counts most, but gender and age
    /// together weigh as much as it does.
    pub const DEFAULT: LookWeights = LookWeights {
        identity: 0.5,
        gender: 0.3,
        age: 0.2,
    };

    /// Weights scaled to sum to 1; `None` if any is negative or all are zero.
    pub fn normalised(self) -> Option<LookWeights> {
        let parts = [self.identity, self.gender, self.age];
        let total: f32 = parts.iter().sum();
        let valid = |w: f32| w.is_finite() && w >= 0.0;
        if !parts.iter().all(|w| valid(*w)) || !valid(total) || total == 0.0 {
            return None;
        }
        Some(LookWeights {
            identity: self.identity / total,
            gender: self.gender / total,
            age: self.age / total,
        })
    }
}

/// The look vector of a face from its identity embedding (unit length), estimated age in years
/// and gender score in [0, 1]. `weights` must be normalised. Its length is the blend's (identity
/// length + 23) rounded up to a power of two: [`LOOK_DIMENSION`] for MobileFaceNet.
pub fn look_vector(identity: &[f32], age: f32, gender: f32, weights: &LookWeights) -> Vec<f32> {
    let mut blend = Vec::with_capacity(LOOK_DIMENSION);
    let (wi, wg, wa) = (
        weights.identity.sqrt(),
        weights.gender.sqrt(),
        weights.age.sqrt(),
    );
    blend.extend(identity.iter().map(|x| wi * x));
    let angle = gender.clamp(0.0, 1.0) * std::f32::consts::FRAC_PI_2;
    blend.extend([wg * angle.cos(), wg * angle.sin()]);
    let bumps = age_bumps(age);
    blend.extend(bumps.iter().map(|b| wa * b));
    blend.resize(blend.len().next_power_of_two(), 0.0);
    randomised_hadamard(&mut blend);
    blend
}

/// Unit vector of Gaussian bumps centred every [`AGE_STEP`] years.
fn age_bumps(age: f32) -> [f32; AGE_BINS] {
    let age = if age.is_finite() {
        age.clamp(0.0, 100.0)
    } else {
        0.0
    };
    let mut bumps = [0f32; AGE_BINS];
    for (i, b) in bumps.iter_mut().enumerate() {
        let d = (age - i as f32 * AGE_STEP) / AGE_SIGMA;
        *b = (-0.5 * d * d).exp();
    }
    let norm = bumps.iter().map(|b| b * b).sum::<f32>().sqrt();
    bumps.iter_mut().for_each(|b| *b /= norm);
    bumps
}

/// Fixed sign flips (from a seeded splitmix64) then the orthonormal Walsh–Hadamard transform.
/// Only sign changes, additions and one power-of-two scale: the same bits natively and in wasm.
fn randomised_hadamard(values: &mut [f32]) {
    let n = values.len();
    debug_assert!(n.is_power_of_two());
    let mut state: u64 = 0x0C0F_FEE5_1DE5_EED5;
    for v in values.iter_mut() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        if z & 1 == 1 {
            *v = -*v;
        }
    }
    let mut half = 1;
    while half < n {
        for block in values.chunks_exact_mut(2 * half) {
            let (a, b) = block.split_at_mut(half);
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                (*x, *y) = (*x + *y, *x - *y);
            }
        }
        half *= 2;
    }
    // 1/16 for the 256 values of a look vector: exact. Otherwise a correctly rounded sqrt,
    // which is the same on every IEEE platform.
    let scale = 1.0 / (n as f32).sqrt();
    values.iter_mut().for_each(|v| *v *= scale);
}

/// The look network: the identity network plus the age and gender networks.
pub struct LookNet {
    identity: Embedder,
    age: AttributeNet,
    gender: AttributeNet,
    weights: LookWeights,
}

impl LookNet {
    /// The identity network the look blend is built on.
    pub const IDENTITY: NetworkCard = NetworkCard::MOBILEFACENET_192;

    /// Loads the three networks from their bytes.
    pub fn new(
        identity: &[u8],
        age: &[u8],
        gender: &[u8],
        weights: LookWeights,
    ) -> Result<Self, FaceError> {
        let weights = weights.normalised().ok_or_else(|| FaceError::Model {
            model: "look".into(),
            reason: format!("weights {weights:?} must be non-negative and not all zero"),
        })?;
        Ok(LookNet {
            identity: Embedder::new(Self::IDENTITY, identity)?,
            age: AttributeNet::new(Attribute::Age, age)?,
            gender: AttributeNet::new(Attribute::Gender, gender)?,
            weights,
        })
    }

    /// The identity network inside.
    pub fn identity(&self) -> &Embedder {
        &self.identity
    }

    /// The look vector of one face whose identity crop is `crop` (see [`Embedder::aligned_crop`]).
    pub fn embed_aligned(
        &self,
        photo: &Photo,
        face: &Face,
        crop: &[u8],
    ) -> Result<Vec<f32>, FaceError> {
        let identity = self.identity.embed_crop(crop)?;
        self.embed_with_identity(photo, face, &identity)
    }

    /// The look vector of one face whose identity vector ([`LookNet::IDENTITY`]) is known
    /// already: the index builder computes it once for both networks.
    pub fn embed_with_identity(
        &self,
        photo: &Photo,
        face: &Face,
        identity: &[f32],
    ) -> Result<Vec<f32>, FaceError> {
        let age = self.age.estimate(photo, face)?;
        let gender = self.gender.estimate(photo, face)?;
        Ok(look_vector(identity, age, gender, &self.weights))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u32, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000)
            .map(|r| r as f32 - 500.0)
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn look_cosine_is_the_weighted_mean_of_the_three_similarities() {
        let w = LookWeights::DEFAULT.normalised().unwrap();
        let (a, b) = (unit(1, 192), unit(7, 192));
        let (va, vb) = (
            look_vector(&a, 30.0, 0.9, &w),
            look_vector(&b, 40.0, 0.2, &w),
        );
        assert_eq!(va.len(), LOOK_DIMENSION);
        assert!((dot(&va, &va) - 1.0).abs() < 1e-5);
        let gender = (std::f32::consts::FRAC_PI_2 * 0.7).cos();
        let age = dot(&age_bumps(30.0), &age_bumps(40.0));
        let expected = w.identity * dot(&a, &b) + w.gender * gender + w.age * age;
        assert!((dot(&va, &vb) - expected).abs() < 1e-5);
    }

    #[test]
    fn age_similarity_falls_with_the_gap() {
        let at = |a: f32, b: f32| dot(&age_bumps(a), &age_bumps(b));
        assert!((at(35.0, 35.0) - 1.0).abs() < 1e-5);
        assert!((at(30.0, 40.0) - 0.64).abs() < 0.03, "{}", at(30.0, 40.0));
        assert!(at(30.0, 50.0) < 0.2);
        assert!(at(30.0, 40.0) > at(30.0, 45.0));
        // Out of range or not a number: still a unit vector.
        assert!((at(f32::NAN, 150.0) - at(0.0, 100.0)).abs() < 1e-6);
    }

    #[test]
    fn the_rotation_spreads_energy_and_keeps_length() {
        let w = LookWeights::DEFAULT.normalised().unwrap();
        let v = look_vector(&unit(3, 192), 50.0, 1.0, &w);
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
        // Before rotation the gender part alone is sqrt(0.3) = 0.55; after, no value dominates.
        assert!(max < 0.25, "{max}");
    }

    #[test]
    fn bad_weights_are_refused() {
        let zero = LookWeights {
            identity: 0.0,
            gender: 0.0,
            age: 0.0,
        };
        assert!(zero.normalised().is_none());
        let negative = LookWeights {
            identity: 1.0,
            gender: -0.1,
            age: 0.0,
        };
        assert!(negative.normalised().is_none());
        let nan = LookWeights {
            identity: f32::NAN,
            gender: 1.0,
            age: 0.0,
        };
        assert!(nan.normalised().is_none());
    }
}
