//! Human labels of a dataset's people: gender, perceived race, and whether the public knows them.
//! LFW's come as a folder (`--labels`, see ../shared/data/lfw/labels/README.md); CelebA's gender
//! is its `Male` attribute; any folder dataset can have a file of its own. People are named by
//! their key: the folder name (`Aaron_Eckhart`) or CelebA's identity number.
//!
//! The parsers read text and return values or an error that names the file's line, so that an
//! operator's mistake (a typo in a name, a person in both lists) is found, not guessed around.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use cf_metrics::lookalike::Gender;

/// What is known of the people, by person key.
#[derive(Debug, Default)]
pub struct HumanLabels {
    /// Each labelled image's gender, by file name (`Aaron_Eckhart_0001.jpg`). Images listed as
    /// both are left out (the LFW lists hold five).
    pub image_gender: HashMap<String, Gender>,
    /// Each labelled person's gender: the majority of their images' labels.
    pub person_gender: HashMap<String, Gender>,
    /// Perceived races as bits (see `race_names`), by person.
    pub race: HashMap<String, u32>,
    pub race_names: Vec<String>,
    /// People whose name stands in a public list of celebrities.
    pub well_known: HashSet<String>,
}

/// The person of an LFW image file name: `Aaron_Eckhart_0001.jpg` → `Aaron_Eckhart`.
pub fn person_of_file(file: &str) -> Option<&str> {
    let stem = file.strip_suffix(".jpg")?;
    let (person, number) = stem.rsplit_once('_')?;
    (number.len() == 4 && number.bytes().all(|b| b.is_ascii_digit())).then_some(person)
}

/// Reads an LFW labels folder: `male_names.txt` and `female_names.txt` (required), `race.json`
/// and `well-known.tsv` (if there).
pub fn read_lfw_labels(dir: &Path) -> Result<HumanLabels> {
    let read = |name: &str| -> Result<String> {
        let path = dir.join(name);
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let mut labels = HumanLabels::default();
    let (male, female) = (read("male_names.txt")?, read("female_names.txt")?);
    labels.image_gender = parse_image_genders(&male, &female)
        .with_context(|| format!("the gender lists in {}", dir.display()))?;
    labels.person_gender = majority_by_person(&labels.image_gender);
    if dir.join("race.json").is_file() {
        let (race, names) = parse_races(&read("race.json")?)
            .with_context(|| format!("{}", dir.join("race.json").display()))?;
        labels.race = race;
        labels.race_names = names;
    }
    if dir.join("well-known.tsv").is_file() {
        labels.well_known = parse_name_list(&read("well-known.tsv")?)
            .with_context(|| format!("{}", dir.join("well-known.tsv").display()))?;
    }
    Ok(labels)
}

/// Two lists of image file names, one a line; a file in both is dropped as unknown.
pub fn parse_image_genders(male: &str, female: &str) -> Result<HashMap<String, Gender>> {
    let list = |text: &str, which: &str| -> Result<HashSet<String>> {
        let mut files = HashSet::new();
        for (number, line) in text.lines().enumerate() {
            let file = line.trim();
            if file.is_empty() {
                continue;
            }
            if person_of_file(file).is_none() {
                bail!(
                    "{which} list, line {}: {file:?} is not an image name like Name_0001.jpg",
                    number + 1
                );
            }
            files.insert(file.to_string());
        }
        Ok(files)
    };
    let (male, female) = (list(male, "male")?, list(female, "female")?);
    let mut genders = HashMap::new();
    for file in male.difference(&female) {
        genders.insert(file.clone(), Gender::Male);
    }
    for file in female.difference(&male) {
        genders.insert(file.clone(), Gender::Female);
    }
    Ok(genders)
}

/// Each person's gender by the majority of their images' labels (a tie stays unknown).
pub fn majority_by_person(images: &HashMap<String, Gender>) -> HashMap<String, Gender> {
    let mut votes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (file, gender) in images {
        if let Some(person) = person_of_file(file) {
            let entry = votes.entry(person).or_default();
            match gender {
                Gender::Female => entry.0 += 1,
                Gender::Male => entry.1 += 1,
            }
        }
    }
    votes
        .into_iter()
        .filter_map(|(person, (women, men))| {
            let gender = match women.cmp(&men) {
                std::cmp::Ordering::Greater => Gender::Female,
                std::cmp::Ordering::Less => Gender::Male,
                std::cmp::Ordering::Equal => return None,
            };
            Some((person.to_string(), gender))
        })
        .collect()
}

/// `{"Person_Name": "caucasian,latino", …}`: each person's races as bits, and the bits' names.
pub fn parse_races(text: &str) -> Result<(HashMap<String, u32>, Vec<String>)> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(text).context("not a JSON object of names to race labels")?;
    let mut names: Vec<String> = map
        .values()
        .flat_map(|v| v.split(',').map(|r| r.trim().to_string()))
        .filter(|r| !r.is_empty())
        .collect();
    names.sort();
    names.dedup();
    if names.len() > 32 {
        bail!("{} race labels; at most 32 are supported", names.len());
    }
    let races = map
        .into_iter()
        .map(|(person, value)| {
            let bits = value
                .split(',')
                .filter_map(|r| names.iter().position(|n| n == r.trim()))
                .fold(0u32, |bits, i| bits | 1 << i);
            (person, bits)
        })
        .collect();
    Ok((races, names))
}

/// One person key a line, anything after a tab ignored (`well-known.tsv`'s sources).
pub fn parse_name_list(text: &str) -> Result<HashSet<String>> {
    Ok(text
        .lines()
        .filter_map(|line| line.split('\t').next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// An operator's gender file for any folder dataset: `Person_Name<TAB>female|male` a line.
/// A person in it twice with different genders, or a word other than the two, is an error.
pub fn parse_person_genders(text: &str) -> Result<HashMap<String, Gender>> {
    let mut genders: HashMap<String, Gender> = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((person, word)) = line.split_once('\t') else {
            bail!(
                "line {}: expected `Person_Name<TAB>female` or `…<TAB>male`, got {line:?}",
                number + 1
            );
        };
        let gender = match word.trim().to_ascii_lowercase().as_str() {
            "female" | "f" | "woman" => Gender::Female,
            "male" | "m" | "man" => Gender::Male,
            other => bail!(
                "line {}: {other:?} is neither female nor male (for {person})",
                number + 1
            ),
        };
        if let Some(before) = genders.insert(person.trim().to_string(), gender)
            && before != gender
        {
            bail!(
                "line {}: {} is listed both as female and as male",
                number + 1,
                person.trim()
            );
        }
    }
    Ok(genders)
}

/// CelebA's `list_attr_celeba.txt` (a count, the attribute names, then `file v1 v2 …` with ±1)
/// and `identity_CelebA.txt`: each identity's gender by the majority of its images' `Male`.
pub fn parse_celeba_genders(attributes: &str, identities: &str) -> Result<HashMap<String, Gender>> {
    let mut lines = attributes.lines();
    lines.next().context("list_attr_celeba.txt is empty")?;
    let names: Vec<&str> = lines
        .next()
        .context("list_attr_celeba.txt has no attribute line")?
        .split_whitespace()
        .collect();
    let male = names
        .iter()
        .position(|n| *n == "Male")
        .context("list_attr_celeba.txt has no Male attribute")?;
    let mut image_male: HashMap<&str, bool> = HashMap::new();
    for (number, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let value = fields
            .get(male + 1)
            .with_context(|| format!("list_attr_celeba.txt line {}: too few values", number + 3))?;
        image_male.insert(fields[0], *value == "1");
    }
    let mut votes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for line in identities.lines() {
        let mut fields = line.split_whitespace();
        if let (Some(file), Some(person)) = (fields.next(), fields.next())
            && let Some(&is_male) = image_male.get(file)
        {
            let entry = votes.entry(person).or_default();
            if is_male {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
        }
    }
    Ok(votes
        .into_iter()
        .filter(|(_, (women, men))| women != men)
        .map(|(person, (women, men))| {
            let gender = if women > men {
                Gender::Female
            } else {
                Gender::Male
            };
            (person.to_string(), gender)
        })
        .collect())
}

/// Which half of the people tuning may look at: LFW's convention is the people on the even
/// lines (the 2nd, 4th, …) of `lfw-names.txt`, one person a line in name order. Without that
/// file, the people of the same parity in the sorted list of keys.
pub fn tuning_half(keys: &[String], names_file: Option<&str>) -> HashSet<String> {
    match names_file {
        Some(text) => text
            .lines()
            .enumerate()
            .filter(|(index, _)| index % 2 == 1)
            .filter_map(|(_, line)| line.split('\t').next())
            .map(str::to_string)
            .collect(),
        None => {
            let mut sorted: Vec<&String> = keys.iter().collect();
            sorted.sort();
            sorted
                .into_iter()
                .enumerate()
                .filter(|(index, _)| index % 2 == 1)
                .map(|(_, key)| key.clone())
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_lists_give_people_by_majority_and_drop_images_in_both() {
        let male = "Ann_Lee_0001.jpg\nBo_Dee_0001.jpg\nBo_Dee_0002.jpg\nCy_Po_0001.jpg\n\n";
        let female = "Ann_Lee_0002.jpg\nAnn_Lee_0003.jpg\nCy_Po_0001.jpg\nDi_Lo_0001.jpg\nDi_Lo_0002.jpg\nEd_Fo_0001.jpg\n";
        let images = parse_image_genders(male, female).unwrap();
        assert_eq!(images.get("Cy_Po_0001.jpg"), None, "in both lists: unknown");
        assert_eq!(images["Ann_Lee_0001.jpg"], Gender::Male);
        let people = majority_by_person(&images);
        assert_eq!(people["Ann_Lee"], Gender::Female);
        assert_eq!(people["Bo_Dee"], Gender::Male);
        assert_eq!(people.get("Cy_Po"), None);
        assert_eq!(people["Di_Lo"], Gender::Female);
        let bad = parse_image_genders("Ann Lee.jpg\n", "").unwrap_err();
        assert!(format!("{bad:#}").contains("male list, line 1"), "{bad:#}");
    }

    #[test]
    fn races_become_bits_and_mixed_labels_set_two() {
        let (races, names) =
            parse_races(r#"{"A": "caucasian", "B": "african,caucasian", "C": "eastasian"}"#)
                .unwrap();
        assert_eq!(names, ["african", "caucasian", "eastasian"]);
        assert_eq!((races["A"], races["B"], races["C"]), (0b010, 0b011, 0b100));
        assert!(parse_races("[1, 2]").is_err());
    }

    #[test]
    fn an_operators_gender_file_is_checked_line_by_line() {
        let genders = parse_person_genders("# who\nAnn_Lee\tfemale\nBo\tMale\n").unwrap();
        assert_eq!(
            (genders["Ann_Lee"], genders["Bo"]),
            (Gender::Female, Gender::Male)
        );
        let both = parse_person_genders("Ann\tfemale\nAnn\tmale\n").unwrap_err();
        assert!(
            both.to_string()
                .contains("line 2: Ann is listed both as female and as male"),
            "{both}"
        );
        let word = parse_person_genders("Ann\tunknown\n").unwrap_err();
        assert!(
            word.to_string().contains("neither female nor male"),
            "{word}"
        );
        let tabless = parse_person_genders("Ann female\n").unwrap_err();
        assert!(tabless.to_string().contains("line 1"), "{tabless}");
    }

    #[test]
    fn celeba_gender_is_the_majority_of_male_per_identity() {
        let attributes =
            "3\nSmiling Male Young\n000001.jpg 1 -1 1\n000002.jpg -1 1 1\n000003.jpg 1 1 -1\n";
        let identities = "000001.jpg 7\n000002.jpg 9\n000003.jpg 9\n";
        let genders = parse_celeba_genders(attributes, identities).unwrap();
        assert_eq!((genders["7"], genders["9"]), (Gender::Female, Gender::Male));
        assert!(parse_celeba_genders("1\nSmiling\n", identities).is_err());
    }

    #[test]
    fn the_tuning_half_is_the_even_lines_of_the_names_file() {
        let keys: Vec<String> = ["B", "A", "C", "D"].iter().map(|s| s.to_string()).collect();
        let half = tuning_half(&keys, Some("A\t1\nB\t2\nC\t1\nD\t5\n"));
        assert_eq!(half, HashSet::from(["B".to_string(), "D".to_string()]));
        assert_eq!(tuning_half(&keys, None), half);
        assert_eq!(person_of_file("Jean_Claude_0012.jpg"), Some("Jean_Claude"));
        assert_eq!(person_of_file("notes.txt"), None);
    }
}
