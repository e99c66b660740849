//! Which pages may embed this one and hear its results. The operator lists the allowed parent
//! origins in `embedding.json` beside the page (written by scripts/site-headers.mjs from
//! `CF_EMBED_PARENTS`, which also sets the Content-Security-Policy's `frame-ancestors`). The
//! page posts its matches to its parent's own origin, and only when that origin is allowed:
//! never to `"*"`, which would hand them to whatever page the frame's parent has become.
//!
//! Pure: the page (src/app.rs) reads the browser's facts and asks here.

use serde::Deserialize;

/// The message a parent may send to tell the page its origin, where the browser tells the page
/// nothing (Firefox has no `location.ancestorOrigins`, and a parent's referrer policy may
/// withhold the referrer).
pub const HELLO: &str = "celebrityfaces:hello";

/// The parents allowed to embed the page and receive its results.
#[derive(Clone, Debug, PartialEq)]
pub enum ParentOrigins {
    /// Any http(s) page (the default: embedding is a use of the site).
    Any,
    /// Only these origins (`scheme://host[:port]`, as `Origin` headers write them).
    Only(Vec<String>),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EmbeddingError {
    #[error("embedding.json is not the expected JSON: {0}")]
    Json(String),
    #[error("embedding.json lists {0:?}, which is not an origin such as https://blog.example")]
    NotAnOrigin(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddingFile {
    parent_origins: Vec<String>,
}

impl ParentOrigins {
    /// Reads `embedding.json`: `{"parent_origins": ["*"]}` or a list of origins.
    pub fn parse(json: &str) -> Result<ParentOrigins, EmbeddingError> {
        let file: EmbeddingFile =
            serde_json::from_str(json).map_err(|e| EmbeddingError::Json(e.to_string()))?;
        if file.parent_origins.iter().any(|o| o == "*") {
            return Ok(ParentOrigins::Any);
        }
        let origins = file
            .parent_origins
            .into_iter()
            .map(|given| match origin_of(&given) {
                Some(origin) if origin == given.trim_end_matches('/') => Ok(origin),
                _ => Err(EmbeddingError::NotAnOrigin(given)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ParentOrigins::Only(origins))
    }

    /// Whether the page may post its results to `origin`. An opaque origin ("null": a sandboxed
    /// frame, a file) can never be posted to by name, so it is never allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let Some(origin) = origin_of(origin).filter(|o| o == origin) else {
            return false;
        };
        match self {
            ParentOrigins::Any => true,
            ParentOrigins::Only(allowed) => allowed.contains(&origin),
        }
    }

    /// The parent's origin to post to, from what is known of the parent: the origin of its
    /// [`HELLO`] message, else the first of `location.ancestorOrigins` (Chromium, Safari), else
    /// the origin of `document.referrer`; `None` when the first of these that is known is not
    /// allowed, or none is (the page then waits for a [`HELLO`]).
    pub fn parent_origin(
        &self,
        hello: Option<&str>,
        ancestor: Option<&str>,
        referrer: Option<&str>,
    ) -> Option<String> {
        let told = match (hello, ancestor) {
            (Some(origin), _) | (None, Some(origin)) => Some(origin.to_string()),
            (None, None) => referrer.and_then(origin_of),
        }?;
        self.allows(&told).then_some(told)
    }
}

/// `scheme://host[:port]` of an absolute http(s) address, lower-cased, without a default
/// port; `None` for anything else.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.contains('@') {
        return None;
    }
    // The port follows the last ':' outside an IPv6 address's brackets.
    let (host, port) = match authority.rfind(':') {
        Some(colon) if authority.rfind(']').is_none_or(|bracket| colon > bracket) => {
            let port: u16 = authority[colon + 1..].parse().ok()?;
            (&authority[..colon], Some(port))
        }
        _ => (authority.as_str(), None),
    };
    if host.is_empty() {
        return None;
    }
    Some(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_as_the_origin_header_writes_them() {
        assert_eq!(
            origin_of("https://Blog.Example/post?x=1").as_deref(),
            Some("https://blog.example")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin_of("https://blog.example:443").as_deref(),
            Some("https://blog.example")
        );
        assert_eq!(
            origin_of("http://[::1]:9000/a").as_deref(),
            Some("http://[::1]:9000")
        );
        assert_eq!(origin_of("http://[::1]").as_deref(), Some("http://[::1]"));
        for not_one in [
            "null",
            "",
            "file:///tmp/a.html",
            "blog.example",
            "https://",
            "https://user@blog.example",
            "https://blog.example:80x",
        ] {
            assert_eq!(origin_of(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn the_file_lists_origins_or_anyone() {
        assert_eq!(
            ParentOrigins::parse(r#"{"parent_origins": ["*"]}"#),
            Ok(ParentOrigins::Any)
        );
        assert_eq!(
            ParentOrigins::parse(
                r#"{"parent_origins": ["https://blog.example", "http://127.0.0.1:9000/"]}"#
            ),
            Ok(ParentOrigins::Only(vec![
                "https://blog.example".into(),
                "http://127.0.0.1:9000".into()
            ]))
        );
        assert_eq!(
            ParentOrigins::parse(r#"{"parent_origins": ["https://blog.example/post"]}"#),
            Err(EmbeddingError::NotAnOrigin(
                "https://blog.example/post".into()
            ))
        );
        assert!(matches!(
            ParentOrigins::parse(r#"{"parents": []}"#),
            Err(EmbeddingError::Json(_))
        ));
        assert_eq!(
            ParentOrigins::parse(r#"{"parent_origins": []}"#),
            Ok(ParentOrigins::Only(vec![])),
            "an empty list: embedding allowed to nobody"
        );
    }

    #[test]
    fn results_go_to_an_allowed_parent_only() {
        let only = ParentOrigins::Only(vec!["https://blog.example".into()]);
        assert!(only.allows("https://blog.example"));
        assert!(!only.allows("https://evil.example"));
        assert!(!only.allows("http://blog.example"), "the scheme counts");
        assert!(!only.allows("null"));
        assert!(!ParentOrigins::Any.allows("null"), "never an opaque origin");
        assert!(
            !ParentOrigins::Any.allows("https://blog.example/path"),
            "an origin, not an address"
        );
        assert!(ParentOrigins::Any.allows("https://anyone.example"));

        assert_eq!(
            only.parent_origin(None, Some("https://blog.example"), None)
                .as_deref(),
            Some("https://blog.example")
        );
        assert_eq!(
            only.parent_origin(None, None, Some("https://blog.example/2026/post.html"))
                .as_deref(),
            Some("https://blog.example"),
            "from the referrer where the browser has no ancestorOrigins"
        );
        assert_eq!(
            only.parent_origin(
                None,
                Some("https://evil.example"),
                Some("https://blog.example/")
            ),
            None,
            "the browser's own word wins over a referrer"
        );
        assert_eq!(
            only.parent_origin(Some("https://blog.example"), None, None)
                .as_deref(),
            Some("https://blog.example"),
            "a parent that said hello"
        );
        assert_eq!(
            only.parent_origin(
                Some("https://evil.example"),
                Some("https://blog.example"),
                None
            ),
            None,
            "a parent that has since become another page is not posted to"
        );
        assert_eq!(only.parent_origin(None, None, Some("")), None);
        assert_eq!(only.parent_origin(None, None, None), None);
    }
}
