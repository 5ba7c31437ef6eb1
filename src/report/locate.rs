//! Evidence locations: the byte span of the value a JSON pointer names, found
//! by re-scanning the evidence text. Only reports of failing rules call this,
//! so the passing path never pays for it.

/// One evidence file as given on the command line.
#[derive(Clone, Debug)]
pub struct EvidenceText {
    /// `Some(name)` for `--evidence NAME=FILE`: the file is `evidence.NAME`.
    pub mount: Option<String>,
    /// The file name as given (`<stdin>` for `-`).
    pub name: String,
    /// Shared, not copied: a bundle can be a hundred megabytes.
    pub text: std::sync::Arc<String>,
}

/// Evidence text as a miette source, without copying it.
#[derive(Clone, Debug)]
pub struct SharedText(pub std::sync::Arc<String>);

impl miette::SourceCode for SharedText {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        self.0
            .as_str()
            .read_span(span, context_lines_before, context_lines_after)
    }
}

/// All evidence files of one decision.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    pub files: Vec<EvidenceText>,
}

/// Where an evidence value is: its file and byte span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub file: usize,
    pub start: usize,
    pub end: usize,
}

impl Evidence {
    /// The file and span of the value at `pointer` (a pointer into the bundle).
    pub fn locate(&self, pointer: &str) -> Option<Located> {
        let first = pointer
            .strip_prefix('/')?
            .split('/')
            .next()
            .map(unescape_token);
        for (i, f) in self.files.iter().enumerate() {
            if let (Some(m), Some(first)) = (&f.mount, &first) {
                if m == first {
                    let rest = pointer
                        .strip_prefix('/')
                        .and_then(|p| p.split_once('/').map(|(_, r)| format!("/{r}")))
                        .unwrap_or_default();
                    return locate(f.text.as_str(), &rest).map(|(start, end)| Located {
                        file: i,
                        start,
                        end,
                    });
                }
            }
        }
        let (i, root) = self
            .files
            .iter()
            .enumerate()
            .find(|(_, f)| f.mount.is_none())?;
        locate(root.text.as_str(), pointer).map(|(start, end)| Located {
            file: i,
            start,
            end,
        })
    }

    /// `file:line:column` of a located value.
    pub fn describe(&self, at: &Located) -> Option<(String, usize, usize)> {
        let f = self.files.get(at.file)?;
        let (line, col) = crate::syntax::span::line_col(f.text.as_str(), at.start);
        Some((f.name.clone(), line, col))
    }
}

fn unescape_token(t: &str) -> String {
    t.replace("~1", "/").replace("~0", "~")
}

/// Byte span of the value at `pointer` (RFC 6901) in the JSON `text`.
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, skip_bom(bytes));
    if !pointer.is_empty() {
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = unescape_token(raw);
            pos = match bytes.get(pos)? {
                b'{' => find_member(text, pos, &token)?,
                b'[' => find_element(bytes, pos, token.parse().ok()?)?,
                _ => return None,
            };
        }
    }
    let end = skip_value(bytes, pos)?;
    Some((pos, end))
}

fn skip_bom(b: &[u8]) -> usize {
    if b.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// End (exclusive) of the string starting at `i` (which holds `"`).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// End (exclusive) of the value starting at `i`, without recursion.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(c) = b.get(j) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    break;
                }
                j += 1;
            }
            Some(j)
        }
    }
}

/// Start of the value of member `key` in the object at `i`.
fn find_member(text: &str, i: usize, key: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut j = skip_ws(b, i + 1);
    if b.get(j) == Some(&b'}') {
        return None;
    }
    loop {
        let key_end = skip_string(b, j)?;
        let raw = text.get(j..key_end)?;
        let name: String = serde_json::from_str(raw).ok()?;
        j = skip_ws(b, key_end);
        if b.get(j) != Some(&b':') {
            return None;
        }
        j = skip_ws(b, j + 1);
        if name == key {
            return Some(j);
        }
        j = skip_ws(b, skip_value(b, j)?);
        match b.get(j)? {
            b',' => j = skip_ws(b, j + 1),
            _ => return None,
        }
    }
}

/// Start of element `n` of the array at `i`.
fn find_element(b: &[u8], i: usize, n: usize) -> Option<usize> {
    let mut j = skip_ws(b, i + 1);
    if b.get(j) == Some(&b']') {
        return None;
    }
    for _ in 0..n {
        j = skip_ws(b, skip_value(b, j)?);
        match b.get(j)? {
            b',' => j = skip_ws(b, j + 1),
            _ => return None,
        }
    }
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'t>(text: &'t str, p: &str) -> Option<&'t str> {
        locate(text, p).and_then(|(s, e)| text.get(s..e))
    }

    #[test]
    fn values_anywhere() {
        let t = r#"{"a": 1, "b": {"c": [10, {"d": "x,y"}, 30]}, "z": true}"#;
        assert_eq!(at(t, "/a"), Some("1"));
        assert_eq!(at(t, "/b/c/0"), Some("10"));
        assert_eq!(at(t, "/b/c/1/d"), Some("\"x,y\""));
        assert_eq!(at(t, "/b/c/2"), Some("30"));
        assert_eq!(at(t, "/z"), Some("true"));
        assert_eq!(at(t, "/b/c"), Some(r#"[10, {"d": "x,y"}, 30]"#));
        assert_eq!(at(t, ""), Some(t));
        assert_eq!(at(t, "/missing"), None);
        assert_eq!(at(t, "/b/c/9"), None);
    }

    #[test]
    fn escaped_keys() {
        let t = "{\"a/b\": 1, \"m~n\": 2, \"q\\\"k\": 3, \"\\u0041\": 4}";
        assert_eq!(at(t, "/a~1b"), Some("1"));
        assert_eq!(at(t, "/m~0n"), Some("2"));
        assert_eq!(at(t, "/q\"k"), Some("3"));
        assert_eq!(at(t, "/A"), Some("4"));
    }

    #[test]
    fn crlf_and_bom() {
        let t = "\u{FEFF}{\r\n  \"a\": {\r\n    \"b\": 42\r\n  }\r\n}\r\n";
        let (s, _) = locate(t, "/a/b").unwrap();
        assert_eq!(crate::syntax::span::line_col(t, s), (3, 10));
    }
}
