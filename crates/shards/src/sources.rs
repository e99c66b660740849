//! Where each item of an index came from: its photo in the dataset and the square of that photo
//! that its thumbnail shows. The builder writes it beside the index (never into the folder the
//! page is served from), so that thumbnails can be cut again from the dataset without running
//! the face pipeline. One line per item, tab-separated; see docs/FORMAT.md.

use crate::{ShardError, THUMB_NAME_LEN};

/// The first line of a sources file.
pub const SOURCES_HEADER: &str = "# celebrityfaces item sources 1\titem\tthumb\tpath\tx\ty\tside";

/// One item's photo and the square its thumbnail shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemSource {
    /// The item's thumbnail name (as in the catalog): the start of the photo's SHA-256.
    pub thumb: String,
    /// The photo, relative to the dataset folder, with `/` between components.
    pub path: String,
    /// Left, top and side of the square in the photo's pixels, the photo upright and
    /// downscaled as the face pipeline decodes it.
    pub square: [f32; 3],
}

/// The sources of items `0 ..` as the text of a sources file.
pub fn encode_sources(sources: &[ItemSource]) -> String {
    let mut text = String::with_capacity(64 * sources.len() + SOURCES_HEADER.len() + 1);
    text.push_str(SOURCES_HEADER);
    text.push('\n');
    for (item, source) in sources.iter().enumerate() {
        let [x, y, side] = source.square;
        // `{}` of an f32 is its shortest exact form: read back, the square is bit for bit the same.
        text.push_str(&format!(
            "{item}\t{}\t{}\t{x}\t{y}\t{side}\n",
            source.thumb, source.path
        ));
    }
    text
}

/// Reads a sources file: the header, then one well-formed line per item, items in order.
pub fn parse_sources(text: &str) -> Result<Vec<ItemSource>, ShardError> {
    let bad = |line: usize, reason: String| ShardError::Sources(format!("line {line}: {reason}"));
    let mut lines = text.lines();
    if lines.next() != Some(SOURCES_HEADER) {
        return Err(ShardError::Sources(
            "the first line is not the sources header; is this a sources file of this version?"
                .into(),
        ));
    }
    let mut sources = Vec::new();
    for (number, line) in lines.enumerate() {
        let line_number = number + 2;
        let fields: Vec<&str> = line.split('\t').collect();
        let [item, thumb, path, x, y, side] = fields[..] else {
            return Err(bad(
                line_number,
                format!("{} fields, expected 6", fields.len()),
            ));
        };
        if item.parse::<usize>().ok() != Some(sources.len()) {
            return Err(bad(
                line_number,
                format!("item {item:?}, expected {}", sources.len()),
            ));
        }
        if thumb.len() != THUMB_NAME_LEN
            || !thumb
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(bad(line_number, format!("thumbnail name {thumb:?}")));
        }
        if path.is_empty() || path.starts_with('/') || path.split('/').any(|part| part == "..") {
            return Err(bad(
                line_number,
                format!("path {path:?} is not inside the dataset"),
            ));
        }
        let number = |field: &str| -> Result<f32, ShardError> {
            field
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(line_number, format!("{field:?} is not a number")))
        };
        let square = [number(x)?, number(y)?, number(side)?];
        if square[2] <= 0.0 {
            return Err(bad(
                line_number,
                format!("square side {side} is not positive"),
            ));
        }
        sources.push(ItemSource {
            thumb: thumb.to_string(),
            path: path.to_string(),
            square,
        });
    }
    Ok(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(thumb: &str, path: &str, square: [f32; 3]) -> ItemSource {
        ItemSource {
            thumb: thumb.into(),
            path: path.into(),
            square,
        }
    }

    #[test]
    fn sources_survive_the_trip_bit_for_bit() {
        let sources = vec![
            source(
                "0123456789abcdef",
                "A_B/A_B_0001.jpg",
                [0.1, 47.333_336, 150.0],
            ),
            source(
                "fedcba9876543210",
                "C/C_0002.jpg",
                [f32::MIN_POSITIVE, 0.0, 1e-3],
            ),
        ];
        let back = parse_sources(&encode_sources(&sources)).unwrap();
        assert_eq!(back, sources);
        for (a, b) in back.iter().zip(&sources) {
            assert_eq!(a.square.map(f32::to_bits), b.square.map(f32::to_bits));
        }
    }

    #[test]
    fn damaged_lines_are_refused_with_their_line_number() {
        let good = encode_sources(&[source("0123456789abcdef", "a/b.jpg", [1.0, 2.0, 3.0])]);
        let cases = [
            ("0\t0123456789abcdef\ta/b.jpg\t1\t2", "line 2: 5 fields"),
            (
                "1\t0123456789abcdef\ta/b.jpg\t1\t2\t3",
                "line 2: item \"1\"",
            ),
            ("0\t0123456789ABCDEF\ta/b.jpg\t1\t2\t3", "thumbnail name"),
            (
                "0\t0123456789abcdef\t../b.jpg\t1\t2\t3",
                "not inside the dataset",
            ),
            (
                "0\t0123456789abcdef\ta/b.jpg\t1\tNaN\t3",
                "\"NaN\" is not a number",
            ),
            ("0\t0123456789abcdef\ta/b.jpg\t1\t2\t0", "not positive"),
        ];
        for (line, expected) in cases {
            let text = format!("{SOURCES_HEADER}\n{line}\n");
            let error = parse_sources(&text).unwrap_err().to_string();
            assert!(error.contains(expected), "{line:?}: {error}");
        }
        let error = parse_sources(&good.replacen("sources 1", "sources 9", 1)).unwrap_err();
        assert!(error.to_string().contains("header"), "{error}");
    }
}
