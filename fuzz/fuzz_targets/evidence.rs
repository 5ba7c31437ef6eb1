//! Every evidence reader (JSON, YAML, JUnit XML), on any bytes, under the
//! default limits and under tight ones: a value or an evidence error, never a
//! panic or a hang; a value loaded whole and one loaded for a decision agree
//! on acceptance; and every location found for it is a span of the text,
//! the same whether found by scanning or from the landmarks a load notes;
//! and the fast JSON reader loads the same from a stream as from the text.
#![no_main]
use clearance::evidence::{Evidence, EvidenceText, Format, Load};
use clearance::eval::projection::Projection;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = Arc::new(text.to_string());
    let tight = clearance::limits::Limits {
        evidence_depth: 8,
        evidence_bytes: 4096,
        string_bytes: 64,
        ..clearance::limits::DEFAULT
    };
    let mut lean = Projection::default();
    lean.fields.entry("failures".into()).or_default();
    for (format, name) in [
        (Format::Json, "f.json"),
        (Format::Yaml, "f.yaml"),
        (Format::Junit, "f.xml"),
    ] {
        for limits in [&clearance::limits::DEFAULT, &tight] {
            let full = format.parse(name, &text, limits, Load::Full);
            let decide = format.parse(name, &text, limits, Load::Decide(&lean));
            assert_eq!(full.is_ok(), decide.is_ok(), "{name}: the lean load must accept what the full one does");
            if full.is_ok() {
                let evidence = Evidence {
                    files: vec![EvidenceText::new(None, name.to_string(), text.clone())],
                };
                for pointer in ["", "/0", "/failures", "/cases/0/status", "/suites/0/name", "/a", "/0/a/0"] {
                    if let Some(at) = evidence.locate(pointer) {
                        assert!(at.start <= at.end && at.end <= text.len());
                        assert!(text.is_char_boundary(at.start) && text.is_char_boundary(at.end));
                        let _ = evidence.describe(&at);
                    }
                }
                if format == Format::Json {
                    located_values_are_the_files(&evidence, &text);
                    // Again from the landmarks a load notes, a few bytes
                    // apart (a load's are 16 KiB apart; fuzz inputs are small).
                    let bounds = clearance::eval::LoadLimits {
                        max_depth: limits.evidence_depth,
                        max_string: limits.string_bytes,
                    };
                    let spacing = 1 + data.len() % 13;
                    if let Some(landmarks) = clearance::eval::json::readers::landmarks(&text, bounds, spacing) {
                        let noted = Evidence {
                            files: vec![EvidenceText::new(None, name.to_string(), text.clone())],
                        };
                        noted.files[0].note(landmarks);
                        located_values_are_the_files(&noted, &text);
                    }
                }
            }
            if format == Format::Json {
                the_json_readers_agree(&text, limits, &lean);
            }
        }
    }
});

/// The fast JSON reader loads what serde_json loads, to the same value
/// (key order, integer or float, the float's digits), whole and lean, or
/// leaves the text to serde_json: never loads what serde_json refuses.
fn the_json_readers_agree(text: &str, limits: &clearance::limits::Limits, lean: &Projection) {
    use clearance::eval::json::readers;
    let bounds = clearance::eval::LoadLimits {
        max_depth: limits.evidence_depth,
        max_string: limits.string_bytes,
    };
    for (projection, drop_unread) in [(None, false), (Some(lean), false), (Some(lean), true)] {
        let fast = readers::fast(text, bounds, projection, drop_unread);
        // Read as a stream cut every few bytes (how many, from the input),
        // the reader loads the same value, or gives up just the same.
        let cut = 1 + text.len() % 7;
        let streamed = readers::streamed(text, cut, bounds, projection, drop_unread);
        assert_eq!(
            fast.as_ref().map(|v| v.to_json().to_string()),
            streamed.map(|v| v.to_json().to_string()),
            "the stream cut every {cut} bytes must load what the whole text loads"
        );
        let Some(fast) = fast else {
            continue;
        };
        let serde = readers::serde(text, bounds, projection, drop_unread)
            .unwrap_or_else(|e| panic!("the fast reader loaded what serde_json refuses: {e}"));
        assert_eq!(fast.to_json().to_string(), serde.to_json().to_string());
    }
}

/// Every pointer of a JSON document (the first 256, in an order that jumps
/// about), located by one index, names the value `serde_json` finds there.
fn located_values_are_the_files(evidence: &Evidence, text: &str) {
    let Ok(whole) = serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}')) else {
        return;
    };
    fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        if out.len() >= 256 {
            return;
        }
        out.push(at.clone());
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    pointers(child, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    pointers(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    pointers(&whole, String::new(), &mut all);
    let n = all.len();
    for i in 0..n {
        let p = &all[(i * 7919) % n];
        // serde_json keeps the last of duplicate keys; the readers refuse
        // those files, so a document that has them is not compared.
        let Some(expected) = whole.pointer(p) else { continue };
        // The root is the bundle, which reports never locate.
        if p.is_empty() {
            continue;
        }
        let at = evidence.locate(p).unwrap_or_else(|| panic!("{p} not located"));
        let found: serde_json::Value = serde_json::from_str(&text[at.start..at.end])
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(&found, expected, "{p}");
    }
}
