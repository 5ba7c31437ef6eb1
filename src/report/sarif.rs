//! The one SARIF 2.1.0 writer: `clearance check --format sarif` (rules of a
//! gate) and `clearance lint --format sarif` (lint findings) both build
//! their log here, so the envelope and the locations are written one way.

use serde_json::{json, Value as Json};

/// The tool that produced a log, with its rule descriptors.
pub struct Driver<'a> {
    pub name: &'a str,
    pub information_uri: Option<&'a str>,
    pub rules: Vec<Json>,
}

/// A file name as a SARIF artifact URI (RFC 3986): a relative reference
/// with every byte outside the unreserved set and `/` percent-encoded, and
/// standard input as `stdin:` (Clearance's name for it: it has no path).
pub fn uri(file: &str) -> String {
    if file == "<stdin>" {
        return "stdin:".to_string();
    }
    let mut out = String::with_capacity(file.len());
    for b in file.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A physical location: a file and a region (1-based lines and columns,
/// counted in Unicode code points as `columnKind` says).
pub fn location(file: &str, start: (usize, usize), end: Option<(usize, usize)>) -> Json {
    let uri = uri(file);
    let mut region = json!({"startLine": start.0, "startColumn": start.1});
    if let Some((line, column)) = end {
        region["endLine"] = json!(line);
        region["endColumn"] = json!(column);
    }
    json!({
        "artifactLocation": {"uri": uri},
        "region": region,
    })
}

/// The log, pretty-printed with a final newline.
pub fn log(driver: Driver<'_>, invocations: Option<Json>, results: Vec<Json>) -> String {
    let mut tool = json!({
        "name": driver.name,
        "version": env!("CARGO_PKG_VERSION"),
    });
    if let Some(uri) = driver.information_uri {
        tool["informationUri"] = json!(uri);
    }
    tool["rules"] = json!(driver.rules);
    let mut run = json!({
        "tool": {"driver": tool},
        "columnKind": "unicodeCodePoints",
    });
    if let Some(i) = invocations {
        run["invocations"] = i;
    }
    run["results"] = json!(results);
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(
            uri("policies/payments/policy.clr"),
            "policies/payments/policy.clr"
        );
        assert_eq!(uri("my evidence/a#b?.json"), "my%20evidence/a%23b%3F.json");
        assert_eq!(uri("café.json"), "caf%C3%A9.json");
        assert_eq!(uri("<stdin>"), "stdin:");
    }
}
