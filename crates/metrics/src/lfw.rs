//! The LFW pair files (`pairs.txt`, `pairsDevTrain.txt`, `pairsDevTest.txt`) and the 10-fold
//! verification protocol.

/// One image of a pair: a person's folder name and the image's 1-based number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LfwImage {
    pub name: String,
    pub number: u32,
}

impl LfwImage {
    /// The image's path inside the dataset folder, `Name/Name_0001.jpg`.
    pub fn path(&self) -> String {
        format!("{0}/{0}_{1:04}.jpg", self.name, self.number)
    }
}

/// One verification pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LfwPair {
    /// The fold the pair belongs to (0-based).
    pub fold: usize,
    pub first: LfwImage,
    pub second: LfwImage,
    /// Whether both images show the same person.
    pub same: bool,
}

/// Why a pair file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PairsError {
    #[error("the pair file is empty")]
    Empty,
    #[error("line 1: expected `folds pairs` or `pairs`, found {0:?}")]
    Header(String),
    #[error("line {line}: expected {expected}, found {found:?}")]
    Line {
        line: usize,
        expected: &'static str,
        found: String,
    },
    #[error("expected {expected} pairs after the header, found {found}")]
    Count { expected: usize, found: usize },
}

/// Parses a pair file. The header is `folds per_class` (`pairs.txt`: `10 300`) or a single
/// `per_class` (the dev files, one fold); each fold then lists `per_class` same-person lines
/// (`name n1 n2`) followed by `per_class` different-person lines (`name1 n1 name2 n2`).
pub fn parse_pairs(text: &str) -> Result<Vec<LfwPair>, PairsError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (_, header) = lines.next().ok_or(PairsError::Empty)?;
    let numbers: Vec<usize> = header
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| PairsError::Header(header.to_string()))?;
    let (folds, per_class) = match numbers[..] {
        [folds, per_class] => (folds, per_class),
        [per_class] => (1, per_class),
        _ => return Err(PairsError::Header(header.to_string())),
    };
    let number = |line: usize, field: &str| {
        field.parse::<u32>().map_err(|_| PairsError::Line {
            line,
            expected: "an image number",
            found: field.to_string(),
        })
    };
    let mut pairs = Vec::with_capacity(2 * folds * per_class);
    for fold in 0..folds {
        for same in [true, false] {
            for _ in 0..per_class {
                let Some((line, text)) = lines.next() else {
                    return Err(PairsError::Count {
                        expected: 2 * folds * per_class,
                        found: pairs.len(),
                    });
                };
                let fields: Vec<&str> = text.split_whitespace().collect();
                let (name_a, a, name_b, b) = match (same, &fields[..]) {
                    (true, [name, a, b]) => (*name, *a, *name, *b),
                    (false, [name_a, a, name_b, b]) => (*name_a, *a, *name_b, *b),
                    _ => {
                        return Err(PairsError::Line {
                            line,
                            expected: if same {
                                "`name n1 n2` (a same-person pair)"
                            } else {
                                "`name1 n1 name2 n2` (a different-person pair)"
                            },
                            found: text.to_string(),
                        });
                    }
                };
                let pair = LfwPair {
                    fold,
                    first: LfwImage {
                        name: name_a.to_string(),
                        number: number(line, a)?,
                    },
                    second: LfwImage {
                        name: name_b.to_string(),
                        number: number(line, b)?,
                    },
                    same,
                };
                pairs.push(pair);
            }
        }
    }
    if let Some((line, text)) = lines.next() {
        return Err(PairsError::Line {
            line,
            expected: "the end of the file",
            found: text.to_string(),
        });
    }
    Ok(pairs)
}

/// The outcome of k-fold verification.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// Accuracy on each held-out fold.
    pub fold_accuracies: Vec<f64>,
    /// The similarity threshold chosen on the other folds, per fold.
    pub thresholds: Vec<f32>,
    /// Mean of the fold accuracies.
    pub mean: f64,
    /// Population standard deviation of the fold accuracies (as the usual LFW scripts report).
    pub std: f64,
    /// Pairs with no score (a face not found), each counted as a wrong answer.
    pub unscored: usize,
}

/// Accuracy of `threshold` (same person when `score >= threshold`) over the given pairs; a pair
/// without a score is always wrong.
fn accuracy(scored: &[(Option<f32>, bool)], threshold: f32) -> f64 {
    if scored.is_empty() {
        return 0.0;
    }
    let right = scored
        .iter()
        .filter(|(score, same)| score.is_some_and(|s| (s >= threshold) == *same))
        .count();
    right as f64 / scored.len() as f64
}

/// The threshold that maximises accuracy over `scored`: the midpoint of the best gap between
/// consecutive distinct scores (or just outside the range when one side is empty).
fn best_threshold(scored: &[(Option<f32>, bool)]) -> f32 {
    let mut scores: Vec<f32> = scored.iter().filter_map(|(s, _)| *s).collect();
    scores.sort_by(f32::total_cmp);
    scores.dedup();
    let Some((&low, &high)) = scores.first().zip(scores.last()) else {
        return 0.0;
    };
    let mut candidates = vec![low - 1.0, high + 1.0];
    candidates.extend(scores.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    let mut best = (f64::NEG_INFINITY, 0.0f32);
    for threshold in candidates {
        let value = accuracy(scored, threshold);
        if value > best.0 {
            best = (value, threshold);
        }
    }
    best.1
}

/// The LFW protocol: for each fold, choose the similarity threshold that maximises accuracy on
/// the other folds and measure accuracy on this one. `scores[i]` is the similarity of
/// `pairs[i]`, `None` when a face was not found (counted as a failure, never dropped).
/// Returns `None` when the lengths differ or there are fewer than two folds.
pub fn k_fold_verification(pairs: &[LfwPair], scores: &[Option<f32>]) -> Option<Verification> {
    if pairs.len() != scores.len() {
        return None;
    }
    let folds = pairs.iter().map(|p| p.fold + 1).max().unwrap_or(0);
    if folds < 2 {
        return None;
    }
    let mut fold_accuracies = Vec::with_capacity(folds);
    let mut thresholds = Vec::with_capacity(folds);
    for held_out in 0..folds {
        let split = |in_fold: bool| -> Vec<(Option<f32>, bool)> {
            pairs
                .iter()
                .zip(scores)
                .filter(|(p, _)| (p.fold == held_out) == in_fold)
                .map(|(p, s)| (*s, p.same))
                .collect()
        };
        let threshold = best_threshold(&split(false));
        thresholds.push(threshold);
        fold_accuracies.push(accuracy(&split(true), threshold));
    }
    let mean = fold_accuracies.iter().sum::<f64>() / folds as f64;
    let std = (fold_accuracies
        .iter()
        .map(|a| (a - mean) * (a - mean))
        .sum::<f64>()
        / folds as f64)
        .sqrt();
    Some(Verification {
        fold_accuracies,
        thresholds,
        mean,
        std,
        unscored: scores.iter().filter(|s| s.is_none()).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "2\t2\n\
        Ann\t1\t2\nBob\t1\t3\nAnn\t1\tBob\t2\nCid\t4\tDee\t1\n\
        Eve\t1\t2\nFay\t2\t3\nEve\t1\tFay\t1\nGus\t1\tHal\t2\n";

    #[test]
    fn pair_files_parse_with_folds_and_paths() {
        let pairs = parse_pairs(SMALL).unwrap();
        assert_eq!(pairs.len(), 8);
        assert_eq!(pairs[0].first.path(), "Ann/Ann_0001.jpg");
        assert_eq!(pairs[1].second.path(), "Bob/Bob_0003.jpg");
        assert!(pairs[0].same && !pairs[2].same);
        assert_eq!(pairs[3].second.name, "Dee");
        assert_eq!(
            pairs.iter().map(|p| p.fold).collect::<Vec<_>>(),
            [0, 0, 0, 0, 1, 1, 1, 1]
        );
        // The dev files' single-number header is one fold.
        let dev = parse_pairs("1\nAnn 1 2\nAnn 1 Bob 1\n").unwrap();
        assert_eq!(dev.len(), 2);
        assert_eq!(dev[1].fold, 0);
    }

    #[test]
    fn malformed_pair_files_say_where() {
        assert_eq!(parse_pairs(""), Err(PairsError::Empty));
        assert!(matches!(parse_pairs("ten 300"), Err(PairsError::Header(_))));
        assert!(matches!(
            parse_pairs("1\nAnn 1\nAnn 1 Bob 1\n"),
            Err(PairsError::Line { line: 2, .. })
        ));
        assert!(matches!(
            parse_pairs("1\nAnn 1 x\nAnn 1 Bob 1\n"),
            Err(PairsError::Line {
                line: 2,
                expected: "an image number",
                ..
            })
        ));
        assert!(matches!(
            parse_pairs("1\nAnn 1 2\n"),
            Err(PairsError::Count {
                expected: 2,
                found: 1
            })
        ));
        assert!(matches!(
            parse_pairs("1\nAnn 1 2\nAnn 1 Bob 1\nextra 1 2\n"),
            Err(PairsError::Line { line: 4, .. })
        ));
    }

    fn pairs_with_folds(folds: usize, per_fold: usize) -> Vec<LfwPair> {
        let image = |n: u32| LfwImage {
            name: "X".into(),
            number: n,
        };
        (0..folds * per_fold)
            .map(|i| LfwPair {
                fold: i / per_fold,
                first: image(1),
                second: image(2),
                same: i % 2 == 0,
            })
            .collect()
    }

    #[test]
    fn separable_scores_give_full_accuracy_and_a_threshold_between() {
        let pairs = pairs_with_folds(10, 6);
        let scores: Vec<Option<f32>> = pairs
            .iter()
            .map(|p| Some(if p.same { 0.8 } else { 0.2 }))
            .collect();
        let result = k_fold_verification(&pairs, &scores).unwrap();
        assert_eq!(result.mean, 1.0);
        assert_eq!(result.std, 0.0);
        assert!(result.thresholds.iter().all(|&t| t > 0.2 && t <= 0.8));
    }

    #[test]
    fn missed_faces_count_as_failures_not_as_dropped_pairs() {
        let pairs = pairs_with_folds(10, 6);
        let mut scores: Vec<Option<f32>> = pairs
            .iter()
            .map(|p| Some(if p.same { 0.8 } else { 0.2 }))
            .collect();
        // One pair of fold 3 unscored: that fold scores 5/6, the mean drops by 1/60.
        scores[3 * 6 + 1] = None;
        let result = k_fold_verification(&pairs, &scores).unwrap();
        assert_eq!(result.unscored, 1);
        assert!((result.fold_accuracies[3] - 5.0 / 6.0).abs() < 1e-12);
        assert!((result.mean - (1.0 - 1.0 / 60.0)).abs() < 1e-12);
        assert!(result.std > 0.0);
    }

    #[test]
    fn the_threshold_comes_from_the_other_folds_only() {
        // Fold 0: same 0.6, different 0.4. Fold 1: same 0.9, different 0.7. One threshold of
        // 0.65 would be right everywhere, but each fold is judged by the other's threshold
        // (0.8 for fold 0, 0.5 for fold 1), so each gets one pair wrong.
        let mut pairs = pairs_with_folds(2, 2);
        for (pair, same) in pairs.iter_mut().zip([true, false, true, false]) {
            pair.same = same;
        }
        let scores = [Some(0.6), Some(0.4), Some(0.9), Some(0.7)];
        let result = k_fold_verification(&pairs, &scores).unwrap();
        assert_eq!(result.fold_accuracies, vec![0.5, 0.5]);
        assert!((result.thresholds[0] - 0.8).abs() < 1e-6);
        assert!((result.thresholds[1] - 0.5).abs() < 1e-6);
        assert!(k_fold_verification(&pairs, &scores[..3]).is_none());
        assert!(
            k_fold_verification(&pairs[..2], &scores[..2]).is_none(),
            "one fold"
        );
    }
}
