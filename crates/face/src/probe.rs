//! A gender read-out of an identity vector: logistic regression on the unit embedding, so the
//! estimate costs one dot product and no model download. Trained by `cfaces eval --train-probe`
//! (crates/cli/src/probe_training.rs) on the human labels of one half of LFW's people
//! (../shared/data/lfw/labels), and judged on the other half; the weights ship as text in
//! `probes/` beside this crate.

use std::sync::OnceLock;

/// The probability that a face is a woman's: `sigmoid(w · v + b)` for its unit vector `v`.
#[derive(Clone, Debug, PartialEq)]
pub struct GenderProbe {
    pub weights: Vec<f32>,
    pub bias: f32,
}

/// The header line of a probe file.
const HEADER: &str = "# celebrityfaces gender probe 1";

impl GenderProbe {
    /// The probe shipped for the embedding network `network`, if there is one. MobileFaceNet's
    /// is the only one: the same training on faceplugin512's vectors reached 0.862 on the other
    /// half (docs/MODELS.md), so that network's faces are read through MobileFaceNet's vector.
    pub fn for_network(network: &str) -> Option<&'static GenderProbe> {
        static MOBILEFACENET: OnceLock<GenderProbe> = OnceLock::new();
        let (cell, text) = match network {
            "mobilefacenet192" => (
                &MOBILEFACENET,
                include_str!("../probes/mobilefacenet192.gender.txt"),
            ),
            _ => return None,
        };
        Some(
            cell.get_or_init(|| GenderProbe::parse(text).expect("a shipped probe parses (tested)")),
        )
    }

    /// The probe's reading of a face embedded by `network` as `vector`, where `identity` is
    /// MobileFaceNet's vector of the face when the caller has it: the network's own probe,
    /// else MobileFaceNet's.
    pub fn reading(network: &str, vector: &[f32], identity: Option<&[f32]>) -> Option<f32> {
        match GenderProbe::for_network(network) {
            Some(probe) if probe.weights.len() == vector.len() => Some(probe.woman(vector)),
            _ => {
                let probe = GenderProbe::for_network(crate::NetworkSpec::IDENTITY.name)?;
                identity
                    .filter(|v| v.len() == probe.weights.len())
                    .map(|v| probe.woman(v))
            }
        }
    }

    /// The probability that the face of unit vector `vector` is a woman's.
    pub fn woman(&self, vector: &[f32]) -> f32 {
        let logit: f32 = self
            .weights
            .iter()
            .zip(vector)
            .map(|(w, x)| w * x)
            .sum::<f32>()
            + self.bias;
        1.0 / (1.0 + (-logit).exp())
    }

    /// The probe as the text of a probe file: the header, the bias, then one weight a line.
    pub fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\n{}\n", self.bias);
        for w in &self.weights {
            text.push_str(&format!("{w}\n"));
        }
        text
    }

    /// Reads a probe file.
    pub fn parse(text: &str) -> Result<GenderProbe, String> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err("not a gender probe file (bad first line)".into());
        }
        let mut numbers = lines.enumerate().map(|(i, line)| {
            line.trim()
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("line {}: {line:?} is not a number", i + 2))
        });
        let bias = numbers.next().ok_or("no bias")??;
        let weights = numbers.collect::<Result<Vec<f32>, String>>()?;
        if weights.is_empty() {
            return Err("no weights".into());
        }
        Ok(GenderProbe { weights, bias })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_reads_its_direction_and_survives_its_file() {
        let probe = GenderProbe {
            weights: vec![4.0, 0.0, -1.0],
            bias: 0.25,
        };
        assert!((probe.woman(&[0.0, 1.0, 0.25]) - 0.5).abs() < 1e-6);
        assert!(probe.woman(&[1.0, 0.0, 0.0]) > 0.98);
        assert_eq!(GenderProbe::parse(&probe.to_text()).unwrap(), probe);
    }

    #[test]
    fn a_damaged_probe_file_says_which_line() {
        assert!(GenderProbe::parse("0.1\n").is_err());
        let error = GenderProbe::parse(&format!("{HEADER}\n0.5\n1\nx\n")).unwrap_err();
        assert!(error.contains("line 4"), "{error}");
        assert!(GenderProbe::parse(&format!("{HEADER}\n0.5\n")).is_err());
    }

    #[test]
    fn each_shipped_probe_reads_its_networks_vectors() {
        let probe = GenderProbe::for_network("mobilefacenet192").unwrap();
        assert_eq!(probe.weights.len(), 192);
        assert!(GenderProbe::for_network("faceplugin512").is_none());
        assert!(GenderProbe::for_network("look").is_none());
        // The look blend is read through the MobileFaceNet vector inside it.
        let identity = vec![0.1f32; 192];
        assert_eq!(
            GenderProbe::reading("look", &[0.0; 256], Some(&identity)),
            Some(probe.woman(&identity))
        );
        assert_eq!(GenderProbe::reading("look", &[0.0; 256], None), None);
    }
}
