//! Ranking quality over identity labels.

/// nDCG@k of one ranked list: `relevant[i]` says whether the item at rank `i` (0 = best) shares
/// the query's identity; `total_relevant` is how many items in the whole index do (the query
/// itself excluded). Gains are binary, discounted by `log2(rank + 2)`, and divided by the best
/// possible DCG with `min(total_relevant, k)` relevant items first. `None` when the query has no
/// relevant item at all (nDCG is undefined there, not 0).
pub fn ndcg_at_k(relevant: &[bool], total_relevant: usize, k: usize) -> Option<f64> {
    let ideal_hits = total_relevant.min(k);
    if ideal_hits == 0 {
        return None;
    }
    let discount = |rank: usize| 1.0 / ((rank + 2) as f64).log2();
    let dcg: f64 = relevant
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, hit)| **hit)
        .map(|(rank, _)| discount(rank))
        .sum();
    let ideal: f64 = (0..ideal_hits).map(discount).sum();
    Some(dcg / ideal)
}

/// Whether any of the first `k` ranked items shares the query's identity.
pub fn hit_at_k(relevant: &[bool], k: usize) -> bool {
    relevant.iter().take(k).any(|&hit| hit)
}

/// Mean of the defined values, or `None` when there are none.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_matches_a_hand_computed_case() {
        // Ranks 1 and 3 relevant, 2 relevant items in the index:
        // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.63093; nDCG = 0.91972.
        let value = ndcg_at_k(&[true, false, true], 2, 3).unwrap();
        assert!((value - 0.919_720).abs() < 1e-5, "{value}");
    }

    #[test]
    fn ndcg_edges() {
        assert_eq!(ndcg_at_k(&[true, true], 2, 2), Some(1.0));
        assert_eq!(ndcg_at_k(&[false, false], 2, 2), Some(0.0));
        // More relevant items than k: the ideal list is k hits.
        assert_eq!(ndcg_at_k(&[true, true, false], 10, 2), Some(1.0));
        // Relevant items beyond k do not count.
        assert_eq!(ndcg_at_k(&[false, false, true], 1, 2), Some(0.0));
        assert_eq!(ndcg_at_k(&[true], 0, 5), None);
    }

    #[test]
    fn hits_and_means() {
        assert!(hit_at_k(&[false, true], 2));
        assert!(!hit_at_k(&[false, true], 1));
        assert!(!hit_at_k(&[], 5));
        assert_eq!(mean([1.0, 0.0, 0.5]), Some(0.5));
        assert_eq!(mean(std::iter::empty()), None);
    }
}
