//! Judging look-alikes by human labels: a visitor who is not in the index sees its nearest
//! other people, and a person accepts them when they share what a person sees first, gender,
//! and look about as old and of the same origin. Each query is one person's photo; what it
//! found is the nearest other people, best first. The labels are people's, not a network's:
//! a network judged by its own inputs only measures how strongly it follows them.

/// A person's gender as labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gender {
    Female,
    Male,
}

/// The labels of one person (or one photo, for the age), each where known.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labels {
    pub gender: Option<Gender>,
    /// Perceived races, as a set of bits (a person labelled with two has two bits set); two
    /// people are of the same race when their sets share a bit.
    pub race: Option<u32>,
    /// Age in years, as an estimator the ranking does not use judges it.
    pub age: Option<f32>,
}

/// One query's outcome: its own labels and those of the people found, nearest first.
pub struct Judged<'a> {
    pub query: &'a Labels,
    pub found: Vec<&'a Labels>,
}

/// Shares of agreement for every query, for women and for men.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ByGender {
    pub all: f64,
    pub women: f64,
    pub men: f64,
}

/// What the judges say of a set of queries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LookalikeReport {
    /// Queries judged for gender (those whose own gender is labelled), women and men.
    pub queries: usize,
    pub women: usize,
    pub men: usize,
    /// Share of queries whose nearest person has their gender.
    pub same_gender_at_1: ByGender,
    /// Share of the first `k` people found who have the query's gender.
    pub same_gender_at_k: ByGender,
    /// Share of the first `k` people found (of those with a race label) who share a race with
    /// the query, over the queries with a race label; and how many queries that was.
    pub same_race_at_k: Option<(f64, usize)>,
    /// Mean age gap in years between the query and the first `k` found, where both have an age.
    pub age_gap_at_k: Option<f64>,
    pub k: usize,
}

/// Judges every query by the first `k` people it found.
pub fn judge<'a>(judged: impl IntoIterator<Item = Judged<'a>>, k: usize) -> LookalikeReport {
    #[derive(Default)]
    struct Sums {
        at_1: f64,
        at_k: f64,
        queries: usize,
    }
    let mut by_gender = [Sums::default(), Sums::default()];
    let (mut race_sum, mut race_queries) = (0.0, 0usize);
    let (mut age_gap, mut age_pairs) = (0.0, 0usize);
    for one in judged {
        let found: Vec<&Labels> = one.found.into_iter().take(k).collect();
        if let Some(gender) = one.query.gender
            && !found.is_empty()
        {
            let sums = &mut by_gender[usize::from(gender == Gender::Male)];
            let same = |l: &Labels| l.gender == Some(gender);
            sums.at_1 += f64::from(u8::from(same(found[0])));
            sums.at_k += found.iter().filter(|l| same(l)).count() as f64 / found.len() as f64;
            sums.queries += 1;
        }
        if let Some(race) = one.query.race {
            let labelled: Vec<u32> = found.iter().filter_map(|l| l.race).collect();
            if !labelled.is_empty() {
                let shared = labelled.iter().filter(|&&r| r & race != 0).count();
                race_sum += shared as f64 / labelled.len() as f64;
                race_queries += 1;
            }
        }
        if let Some(age) = one.query.age {
            for other in found.iter().filter_map(|l| l.age) {
                age_gap += f64::from((other - age).abs());
                age_pairs += 1;
            }
        }
    }
    let share = |sum: f64, n: usize| if n == 0 { 0.0 } else { sum / n as f64 };
    let [women, men] = &by_gender;
    let queries = women.queries + men.queries;
    let of = |pick: fn(&Sums) -> f64| ByGender {
        all: share(pick(women) + pick(men), queries),
        women: share(pick(women), women.queries),
        men: share(pick(men), men.queries),
    };
    LookalikeReport {
        queries,
        women: women.queries,
        men: men.queries,
        same_gender_at_1: of(|s| s.at_1),
        same_gender_at_k: of(|s| s.at_k),
        same_race_at_k: (race_queries > 0).then(|| (race_sum / race_queries as f64, race_queries)),
        age_gap_at_k: (age_pairs > 0).then(|| age_gap / age_pairs as f64),
        k,
    }
}

impl std::fmt::Display for LookalikeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |b: &ByGender| format!("{:.3} (women {:.3}, men {:.3})", b.all, b.women, b.men);
        write!(
            f,
            "{} queries ({} women, {} men): same gender at 1 {}, at {} {}",
            self.queries,
            self.women,
            self.men,
            g(&self.same_gender_at_1),
            self.k,
            g(&self.same_gender_at_k)
        )?;
        if let Some((race, n)) = self.same_race_at_k {
            write!(
                f,
                "; same race at {} {race:.3} ({n} labelled queries)",
                self.k
            )?;
        }
        if let Some(gap) = self.age_gap_at_k {
            write!(f, "; mean age gap at {} {gap:.1} years", self.k)?;
        }
        Ok(())
    }
}

/// Accuracy of a gender estimate against the labels, for women and for men.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GenderAccuracy {
    pub all: f64,
    pub women: f64,
    pub men: f64,
    pub women_n: usize,
    pub men_n: usize,
}

/// How often `estimate` (the probability of a woman, decided at 0.5) agrees with `label`.
pub fn gender_accuracy(pairs: impl IntoIterator<Item = (Gender, f32)>) -> GenderAccuracy {
    let mut right = [0usize; 2];
    let mut total = [0usize; 2];
    for (label, woman) in pairs {
        let slot = usize::from(label == Gender::Male);
        let said = if woman >= 0.5 {
            Gender::Female
        } else {
            Gender::Male
        };
        total[slot] += 1;
        right[slot] += usize::from(said == label);
    }
    let share = |r: usize, t: usize| if t == 0 { 0.0 } else { r as f64 / t as f64 };
    GenderAccuracy {
        all: share(right[0] + right[1], total[0] + total[1]),
        women: share(right[0], total[0]),
        men: share(right[1], total[1]),
        women_n: total[0],
        men_n: total[1],
    }
}

impl std::fmt::Display for GenderAccuracy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.4} (women {:.4} of {}, men {:.4} of {})",
            self.all, self.women, self.women_n, self.men, self.men_n
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(gender: Gender, race: Option<u32>, age: Option<f32>) -> Labels {
        Labels {
            gender: Some(gender),
            race,
            age,
        }
    }

    #[test]
    fn agreement_is_counted_per_query_gender_race_and_age() {
        use Gender::*;
        let woman = person(Female, Some(0b01), Some(30.0));
        let man = person(Male, Some(0b10), Some(50.0));
        let mixed = person(Female, Some(0b11), None);
        let unlabelled = Labels::default();
        let report = judge(
            [
                // A woman who finds a woman, a man, a woman and an unlabelled person.
                Judged {
                    query: &woman,
                    found: vec![&woman, &man, &mixed, &unlabelled],
                },
                // A man who finds a woman first, then two men.
                Judged {
                    query: &man,
                    found: vec![&woman, &man, &man],
                },
            ],
            3,
        );
        assert_eq!((report.queries, report.women, report.men), (2, 1, 1));
        assert_eq!(report.same_gender_at_1.women, 1.0);
        assert_eq!(report.same_gender_at_1.men, 0.0);
        assert_eq!(report.same_gender_at_1.all, 0.5);
        // Only the first k = 3 count: the woman's unlabelled fourth is not judged.
        assert!((report.same_gender_at_k.women - 2.0 / 3.0).abs() < 1e-12);
        assert!((report.same_gender_at_k.men - 2.0 / 3.0).abs() < 1e-12);
        // Race: the woman shares with herself and the mixed person (2 of 3); the man with two.
        let (race, n) = report.same_race_at_k.unwrap();
        assert_eq!(n, 2);
        assert!((race - (2.0 / 3.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // Age: woman 0 and 20 (the mixed person has none); man 20, 0, 0.
        assert!((report.age_gap_at_k.unwrap() - 40.0 / 5.0).abs() < 1e-9);
        assert!(report.to_string().contains("same race at 3"));
    }

    #[test]
    fn queries_without_labels_or_without_results_are_not_judged() {
        let unlabelled = Labels::default();
        let report = judge(
            [Judged {
                query: &unlabelled,
                found: vec![&unlabelled],
            }],
            5,
        );
        assert_eq!(report.queries, 0);
        assert_eq!(report.same_race_at_k, None);
        assert_eq!(report.age_gap_at_k, None);
    }

    #[test]
    fn gender_accuracy_is_split_by_the_label() {
        use Gender::*;
        let accuracy = gender_accuracy([(Female, 0.9), (Female, 0.2), (Male, 0.1), (Male, 0.4)]);
        assert_eq!(
            (accuracy.women, accuracy.men, accuracy.all),
            (0.5, 1.0, 0.75)
        );
        assert_eq!((accuracy.women_n, accuracy.men_n), (2, 2));
    }
}
