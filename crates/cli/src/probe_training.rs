//! Fitting the gender probe (`cf_face::GenderProbe`): logistic regression on unit identity
//! vectors, solved exactly by Newton's method (iteratively reweighted least squares) on the
//! mean log loss with women and men weighing alike and an L2 penalty on the weights. The
//! penalty is chosen by two-fold cross-validation over the people of the training set, so that
//! no person's photos are on both sides of a fold.

use cf_face::GenderProbe;
use nalgebra::{DMatrix, DVector};

/// One labelled vector and its person.
pub struct Sample<'a> {
    pub vector: &'a [f32],
    pub woman: bool,
    pub person: u32,
}

/// The penalties tried.
const PENALTIES: [f64; 5] = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
const NEWTON_STEPS: usize = 30;

/// Fits the probe on every sample, with the penalty that cross-validates best; returns it and
/// the penalty with its cross-validated accuracy (mean of women's and men's).
pub fn fit_cross_validated(samples: &[Sample]) -> (GenderProbe, f64, f64) {
    // Person numbers may share a parity (a half of the people is every other one), so the
    // folds split them by a mixing hash instead.
    let fold = |s: &Sample| (s.person.wrapping_mul(0x9e37_79b9) >> 31) % 2;
    let (best, accuracy) = PENALTIES
        .iter()
        .map(|&l2| {
            let mut score = 0.0;
            for held_out in 0..2 {
                let train: Vec<&Sample> = samples.iter().filter(|s| fold(s) != held_out).collect();
                let test: Vec<&Sample> = samples.iter().filter(|s| fold(s) == held_out).collect();
                let probe = fit(&train, l2);
                score += balanced_accuracy(&probe, &test) / 2.0;
            }
            (l2, score)
        })
        .fold((PENALTIES[0], f64::MIN), |best, next| {
            if next.1 > best.1 { next } else { best }
        });
    let all: Vec<&Sample> = samples.iter().collect();
    (fit(&all, best), best, accuracy)
}

/// The mean of the accuracy on women and the accuracy on men.
fn balanced_accuracy(probe: &GenderProbe, samples: &[&Sample]) -> f64 {
    let mut right = [0usize; 2];
    let mut total = [0usize; 2];
    for s in samples {
        let class = usize::from(s.woman);
        total[class] += 1;
        right[class] += usize::from((probe.woman(s.vector) >= 0.5) == s.woman);
    }
    (0..2)
        .map(|c| right[c] as f64 / total[c].max(1) as f64)
        .sum::<f64>()
        / 2.0
}

/// The probe minimising the class-balanced mean log loss plus `l2 · |w|²`.
pub fn fit(samples: &[&Sample], l2: f64) -> GenderProbe {
    let dim = samples.first().map_or(0, |s| s.vector.len());
    let n = samples.len();
    // Rows: the vector, then 1 for the bias.
    let x = DMatrix::from_fn(n, dim + 1, |row, col| {
        samples[row].vector.get(col).map_or(1.0, |&v| f64::from(v))
    });
    let y = DVector::from_fn(n, |row, _| f64::from(u8::from(samples[row].woman)));
    let women = samples.iter().filter(|s| s.woman).count().max(1) as f64;
    let men = samples.iter().filter(|s| !s.woman).count().max(1) as f64;
    let weight = DVector::from_fn(n, |row, _| {
        if samples[row].woman {
            0.5 / women
        } else {
            0.5 / men
        }
    });
    let mut penalty = DMatrix::identity(dim + 1, dim + 1) * (2.0 * l2);
    // The bias is not penalised.
    penalty[(dim, dim)] = 0.0;
    let mut theta = DVector::zeros(dim + 1);
    for _ in 0..NEWTON_STEPS {
        let p = (&x * &theta).map(|z| 1.0 / (1.0 + (-z).exp()));
        let residual = (&p - &y).component_mul(&weight);
        let gradient = x.transpose() * residual + &penalty * &theta;
        let curvature = p.zip_zip_map(&weight, &p, |p, w, _| w * p * (1.0 - p));
        let weighted_x = DMatrix::from_fn(n, dim + 1, |row, col| x[(row, col)] * curvature[row]);
        let hessian = x.transpose() * weighted_x + &penalty;
        let Some(step) = hessian.cholesky().map(|c| c.solve(&gradient)) else {
            break;
        };
        theta -= &step;
        if step.norm() < 1e-9 {
            break;
        }
    }
    GenderProbe {
        weights: theta.iter().take(dim).map(|&w| w as f32).collect(),
        bias: theta[dim] as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newton_finds_the_direction_and_cross_validation_a_penalty() {
        // Women lean along the first axis, men against it, with some overlap; four times as many men.
        let rows: Vec<(Vec<f32>, bool)> = (0..200)
            .map(|i| {
                let woman = i % 5 == 0;
                let lean =
                    if woman { 0.5 } else { -0.5 } + 0.6 * ((i * 37 % 100) as f32 / 100.0 - 0.5);
                let v = [lean, 0.8, ((i * 13 % 7) as f32 - 3.0) / 10.0];
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                (v.iter().map(|x| x / norm).collect(), woman)
            })
            .collect();
        let samples: Vec<Sample> = rows
            .iter()
            .enumerate()
            .map(|(i, (v, woman))| Sample {
                vector: v,
                woman: *woman,
                person: i as u32,
            })
            .collect();
        let (probe, l2, accuracy) = fit_cross_validated(&samples);
        assert!(PENALTIES.contains(&l2));
        assert!(
            accuracy > 0.9,
            "cross-validated balanced accuracy {accuracy}"
        );
        assert!(
            probe.weights[0] > 0.0,
            "women along the first axis: {probe:?}"
        );
        let all: Vec<&Sample> = samples.iter().collect();
        assert_eq!(fit(&all, l2), probe, "deterministic");
        assert!(balanced_accuracy(&probe, &all) > 0.9);
    }
}
