//! The fast evidence JSON reader (src/eval/json.rs) against serde_json, the
//! reader it stands in for: on every JSON file in the repository, on a table
//! of lexical corners, and on texts made from them by one small edit at many
//! places (most of which do not load), under whole, projected and decision
//! loads and under default and tight limits, the fast reader either builds
//! exactly the value serde_json builds (key order, integer or float, float
//! bits) or leaves the text to serde_json. It never loads a text serde_json
//! refuses. On the repository's own files that load, it must not leave them
//! to serde_json either: that is the speed it exists for. Read as a stream
//! (src/evidence/stream.rs) cut every byte or every few, it loads exactly
//! what it loads from the whole text, and gives up where it gives up.

use clearance::eval::json::readers;
use clearance::eval::projection::Projection;
use clearance::eval::{LoadLimits, Value};
use std::fmt::Write;

mod common;

fn repository_files() -> Vec<(String, String)> {
    let files = common::repository_files(
        &["policies", "tests", "examples", "fuzz/regressions"],
        "json",
    );
    assert!(files.len() > 250, "found only {} JSON files", files.len());
    files
}

/// A value written out with everything that tells two values apart: key
/// order, integers from floats, a float's bits (`-0.0` from `0.0`).
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(out, "i{i}");
        }
        Value::Float(f) => {
            let _ = write!(out, "f{:x}", f.to_bits());
        }
        Value::Str(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::List(items) => {
            out.push('[');
            for item in items.iter() {
                canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(object) => {
            out.push('{');
            for (k, v) in object.iter() {
                let _ = write!(out, "{k:?}:");
                canonical(v, out);
                out.push(',');
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "?{other:?}");
        }
    }
}

fn field(p: &mut Projection, name: &str) -> Projection {
    p.fields.entry(name.into()).or_default().clone()
}

/// The loads compared: whole, and projections of the shapes rules make
/// (fields by name, every element, a whole subtree, a count only).
fn shapes() -> Vec<Option<Projection>> {
    let mut reads_a = Projection::default();
    field(&mut reads_a, "a");
    let mut workload = Projection::default();
    let status = Projection {
        fields: [("status".to_string(), Projection::default())].into(),
        ..Projection::default()
    };
    let case = Projection {
        items: Some(Box::new(status)),
        ..Projection::default()
    };
    let suite = Projection {
        fields: [
            ("cases".to_string(), case),
            ("failed".to_string(), Projection::default()),
        ]
        .into(),
        ..Projection::default()
    };
    let suites = Projection {
        items: Some(Box::new(suite)),
        ..Projection::default()
    };
    let tests = Projection {
        fields: [
            ("suites".to_string(), suites),
            ("coverage".to_string(), Projection::default()),
        ]
        .into(),
        ..Projection::default()
    };
    workload.fields.insert("tests".into(), tests);
    workload.fields.insert(
        "config".into(),
        Projection {
            whole: true,
            ..Projection::default()
        },
    );
    // A list read as an object, and a list counted only.
    workload
        .fields
        .insert("artifact".into(), Projection::default());
    workload.fields.insert(
        "signatures".into(),
        Projection {
            fields: [("keyid".to_string(), Projection::default())].into(),
            ..Projection::default()
        },
    );
    let every_value = Projection {
        items: Some(Box::new(Projection::default())),
        ..Projection::default()
    };
    vec![None, Some(reads_a), Some(workload), Some(every_value)]
}

const TIGHT: LoadLimits = LoadLimits {
    max_depth: 3,
    max_string: 6,
};

/// What the two readers make of `text` under every shape and limit: `Err`
/// says how they disagree; `Ok` counts the loads the fast reader made and
/// the loads serde_json made.
/// Where streams are cut, in bytes (`readers::streamed`).
const STREAM_CUTS: &[usize] = &[1, 2, 5, 64];

fn agree(text: &str) -> Result<(usize, usize), String> {
    let (mut fast_loads, mut serde_loads) = (0, 0);
    for limits in [LoadLimits::default(), TIGHT] {
        for shape in shapes() {
            for drop_unread in [false, true] {
                let fast = readers::fast(text, limits, shape.as_ref(), drop_unread);
                let serde = readers::serde(text, limits, shape.as_ref(), drop_unread);
                // A stream cut anywhere (every byte, and every few) loads
                // what the whole text loads, and gives up where it does.
                for chunk in STREAM_CUTS {
                    let streamed =
                        readers::streamed(text, *chunk, limits, shape.as_ref(), drop_unread);
                    let (mut a, mut b) = (String::new(), String::new());
                    if let Some(v) = &fast {
                        canonical(v, &mut a);
                    }
                    if let Some(v) = &streamed {
                        canonical(v, &mut b);
                    }
                    if fast.is_some() != streamed.is_some() || a != b {
                        return Err(format!(
                            "the stream cut every {chunk} bytes differs, limits {limits:?}, shape {shape:?}:\nwhole    {a}\nstreamed {b}"
                        ));
                    }
                }
                serde_loads += usize::from(serde.is_ok());
                let Some(fast) = fast else { continue };
                fast_loads += 1;
                let serde = serde.map_err(|e| {
                    format!("the fast reader loaded what serde_json refuses ({e}), limits {limits:?}, shape {shape:?}")
                })?;
                let (mut a, mut b) = (String::new(), String::new());
                canonical(&fast, &mut a);
                canonical(&serde, &mut b);
                if a != b {
                    return Err(format!(
                        "different values, limits {limits:?}, shape {shape:?}:\nfast  {a}\nserde {b}"
                    ));
                }
            }
        }
    }
    Ok((fast_loads, serde_loads))
}

/// Lexical and structural corners, each a whole document.
const CORNERS: &[&str] = &[
    "",
    " ",
    "null",
    "true",
    "false",
    "tru",
    "nul",
    "truex",
    "nullnull",
    "0",
    "-0",
    "-",
    "01",
    "-01",
    "1.",
    ".5",
    "1.5",
    "-1.5e3",
    "1e5",
    "1E+2",
    "1e-2",
    "2e",
    "1e400",
    "-1e400",
    "1.0",
    "0.0",
    "-0.0",
    "123456789012345678",
    "-123456789012345678",
    "1234567890123456789",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "100000000000000000000000",
    "1e19",
    "9.3e18",
    "-9.3e18",
    "0.1",
    "0.30000000000000004",
    "2.2250738585072014e-308",
    "5e-324",
    "1.7976931348623157e308",
    "[1,2,]",
    "[,1]",
    "[1 2]",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{a:1}",
    "{\"a\":1}",
    "{\"a\":1,\"a\":2}",
    "{\"a\":1,\"\\u0061\":2}",
    "{\"\\u0061\":1}",
    "\"\\ud83d\\ude00\"",
    "\"\\ud83d\"",
    "\"\\ude00\"",
    "\"\\u00e9\"",
    "\"\\x\"",
    "\"\\\"\"",
    "\"a\\\\\"",
    "\"tab\there\"",
    "\"nl\\nhere\"",
    "\"caf\u{e9}\"",
    "\"\u{1f600}\"",
    "\"unterminated",
    "\"a\\",
    "\"\\u12\"",
    "\u{feff}{}",
    "{} ",
    " {}\n",
    "{}{}",
    "{} x",
    "[[[[]]]]",
    "[[[]]]",
    "{\"a\":{\"a\":{\"a\":{}}}}",
    "{\"a\":[{\"a\":[]}]}",
    "[]",
    "{}",
    "[ ]",
    "{ }",
    "\t\r\n[\t1\r,\n2 ]",
    "\"1234567\"",
    "\"123456\"",
    "{\"1234567\":1}",
    "[\"1234567\"]",
    "{\"b\":\"1234567\"}",
    "{\"a\":\"1234567\"}",
    "{\"a\":1,\"b\":[1,2,{\"c\":3}],\"a\":4}",
    "{\"b\":1,\"b\":2}",
    "{\"b\":{\"x\":1,\"x\":2}}",
    "{\"a\":1,\"b\":1,\"a\":2}",
    "{\"tests\":{\"suites\":[{\"cases\":[{\"status\":\"passed\",\"x\":1}],\"failed\":0}]}}",
    "{\"tests\":{\"suites\":{\"cases\":1}}}",
    "{\"signatures\":[1,2,3]}",
    "{\"artifact\":[1,[2]]}",
    "{\"config\":{\"a\":[1,{\"b\":null}]}}",
    "[1,2,3]",
    "{\"k\":\u{1}1}",
    "\"\u{1}\"",
    "\"\u{7f}\"",
];

#[test]
fn the_corners_load_alike() {
    let mut fast = 0;
    for text in CORNERS {
        match agree(text) {
            Ok((f, _)) => fast += f,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }
    assert!(
        fast > 300,
        "the fast reader loaded only {fast} corner loads"
    );
    // Plain documents are the fast reader's, not left to serde_json.
    for text in [
        "{\"a\":[1,-2,3.5,\"x\",true,null]}",
        "{\"a\":\"\\u00e9\\n\"}",
        "-0",
        "1e5",
    ] {
        assert!(
            readers::fast(text, LoadLimits::default(), None, false).is_some(),
            "{text}"
        );
    }
}

/// Repeats every `{`, nesting depth on both sides of the limit.
#[test]
fn nesting_at_and_past_the_limit_loads_alike() {
    for depth in [1, 2, 3, 4, 5, 16, 17, 33, 127, 128, 129, 200] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            agree(&text).unwrap_or_else(|e| panic!("depth {depth}: {e}"));
        }
    }
}

/// Objects of many keys, past the few compared one by one: a duplicate at
/// every place is seen, escaped or not.
#[test]
fn duplicates_among_many_keys_load_alike() {
    for n in [2, 15, 16, 17, 40] {
        for dup in 0..n {
            let mut text = String::from("{\"a\":1");
            for i in 0..n {
                let _ = write!(text, ",\"k{i}\":{{\"x\":{i}}}");
            }
            let _ = write!(text, ",\"\\u006b{dup}\":0}}");
            let (fast, serde) = agree(&text).unwrap_or_else(|e| panic!("{n} {dup}: {e}"));
            assert_eq!((fast, serde), (0, 0), "{n} {dup}: the duplicate was missed");
        }
    }
}

/// Lists of objects with the same keys, which the fast reader expects in
/// the order the last element had (`KeyOrder`): keys in another order,
/// fewer, more, escaped, and duplicates of keys it took from the order are
/// still seen, before and after it stops expecting one.
#[test]
fn key_orders_of_list_elements_load_alike() {
    let same = r#"{"status":"passed","name":"a","duration_ms":1}"#;
    let elements = [
        same,
        r#"{"name":"a","status":"passed","duration_ms":1}"#,
        r#"{"status":"passed","name":"a"}"#,
        r#"{"status":"passed","name":"a","duration_ms":1,"extra":[1]}"#,
        r#"{"status":"passed","\u006eame":"a","duration_ms":1}"#,
        r#"{}"#,
        r#"{"status":{"status":1},"name":"a","duration_ms":1}"#,
    ];
    let duplicates = [
        r#"{"status":"passed","name":"a","status":"failed"}"#,
        r#"{"status":"passed","name":"a","duration_ms":1,"name":"b"}"#,
        r#"{"status":"passed","status":"passed"}"#,
        r#"{"status":"passed","name":"a","\u0073tatus":1}"#,
        r#"{"status":"passed","other":1,"status":2}"#,
    ];
    let list = |items: &[&str]| {
        let cases = items.join(",");
        format!(r#"{{"tests":{{"suites":[{{"failed":0,"cases":[{cases}]}}]}},"l":[{cases}]}}"#)
    };
    let bare_list = |items: &[&str]| format!("[{}]", items.join(","));
    for first in 0..elements.len() {
        for second in 0..elements.len() {
            // The second element after one, two and twelve of the first:
            // the order expected, and an order given up on.
            for run in [1, 2, 12] {
                let mut items = vec![elements[first]; run];
                items.push(elements[second]);
                items.push(same);
                for text in [list(&items), bare_list(&items)] {
                    let (fast, _) = agree(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                    assert!(fast > 0, "{text}: left to serde_json");
                }
            }
        }
        for duplicate in duplicates {
            for run in [1, 2, 12] {
                let mut items = vec![elements[first]; run];
                items.push(duplicate);
                for text in [list(&items), bare_list(&items)] {
                    let (fast, _) = agree(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                    assert_eq!(fast, 0, "{text}: the duplicate was missed");
                }
            }
        }
    }
    // Elements of more keys than are compared one by one.
    let mut wide = String::from("{");
    for i in 0..20 {
        let _ = write!(wide, "\"k{i}\":{i},");
    }
    let wide_duplicate = format!("{wide}\"k3\":0}}");
    wide.push_str("\"status\":1}");
    for items in [vec![&wide[..], &wide], vec![&wide, &wide, &wide_duplicate]] {
        let text = bare_list(&items);
        agree(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

/// Keys the fast reader compares in place with those of the order, and
/// string values it compares with the one the same key had last
/// (`OrderedKey::last`): a value or key of the same bytes and a quote is
/// that one, and any other (longer, shorter, escaped, another type, after
/// whitespace, cut by the stream) is read as if none were expected.
#[test]
fn remembered_keys_and_values_load_alike() {
    let same = r#"{"status":"passed","name":"a"}"#;
    let elements = [
        same,
        r#"{"status": "passed" ,"name":"a"}"#,
        r#"{"status":"passedx","name":"a"}"#,
        r#"{"status":"passe","name":"a"}"#,
        r#"{"status":"","name":"a"}"#,
        r#"{"status":"pass\u0065d","name":"a"}"#,
        r#"{"status":"pass\"ed","name":"a"}"#,
        r#"{"status":"pas	sed","name":"a"}"#,
        r#"{"status":1,"name":"a"}"#,
        r#"{"status":null,"name":"a"}"#,
        r#"{"status":["passed"],"name":"a"}"#,
        r#"{"status":{"passed":"passed"},"name":"a"}"#,
        r#"{"st\u0061tus":"passed","name":"a"}"#,
        r#"{"statusx":"passed","name":"a"}"#,
        r#"{"statu":"passed","name":"a"}"#,
        r#"{"status" : "passed","name":"a"}"#,
        r#"{"status":"skipped","name":"passed"}"#,
    ];
    let list = |items: &[&str]| {
        let cases = items.join(",");
        format!(r#"{{"tests":{{"suites":[{{"failed":0,"cases":[{cases}]}}]}},"l":[{cases}]}}"#)
    };
    for first in elements {
        for second in elements {
            // After one to seven of the first: a value remembered, and
            // one that changed too often to be remembered any more.
            for run in [1, 2, 3, 7] {
                let mut items = vec![first; run];
                items.extend([second, second, first, same]);
                let text = list(&items);
                let (fast, serde) = agree(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                // Nothing here is left to serde_json that it loads.
                assert_eq!(fast, serde, "{text}");
            }
        }
    }
    // Values that differ each time, then one seen before.
    let varied: Vec<String> = (0..10)
        .map(|i| format!(r#"{{"status":"s{i}","name":"a"}}"#))
        .chain([
            same.to_string(),
            same.to_string(),
            r#"{"status":"s9"}"#.into(),
        ])
        .collect();
    let varied: Vec<&str> = varied.iter().map(String::as_str).collect();
    let text = list(&varied);
    let (fast, serde) = agree(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(fast, serde, "{text}");
}

#[test]
fn every_repository_file_loads_alike_and_fast() {
    let mut left = Vec::new();
    for (name, text) in repository_files() {
        let (fast, serde) = agree(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if fast < serde {
            left.push(name);
        }
    }
    // Left to serde_json only where serde_json also refuses some load (a
    // hostile file), or a number it must search the text for.
    for name in &left {
        assert!(
            name.contains("hostile") || name.contains("runtime"),
            "{name}: loads, but the fast reader left it to serde_json"
        );
    }
}

/// One edit (a byte removed, doubled or replaced by a JSON delimiter) at
/// many places of each small file: most edits break the file, and the fast
/// reader must give up on exactly those serde_json refuses.
#[test]
fn near_misses_load_alike() {
    const REPLACEMENTS: &[u8] = b"{}[],:\"\\ 0-.e1tn";
    let mut texts = 0;
    for (name, text) in repository_files() {
        if text.len() > 4000 {
            continue;
        }
        let bytes = text.as_bytes();
        let step = (bytes.len() / 60).max(1);
        for at in (0..bytes.len()).step_by(step) {
            let mut edits: Vec<Vec<u8>> = Vec::new();
            let mut removed = bytes.to_vec();
            removed.remove(at);
            edits.push(removed);
            let mut doubled = bytes.to_vec();
            doubled.insert(at, bytes[at]);
            edits.push(doubled);
            let r = REPLACEMENTS[at % REPLACEMENTS.len()];
            let mut replaced = bytes.to_vec();
            replaced[at] = r;
            edits.push(replaced);
            for edit in edits {
                let Ok(edited) = String::from_utf8(edit) else {
                    continue;
                };
                texts += 1;
                agree(&edited).unwrap_or_else(|e| panic!("{name}, edit at {at}: {e}\n{edited}"));
            }
        }
    }
    assert!(texts > 5000, "only {texts} near misses");
}

/// Locating values from the landmarks a load notes (src/eval/json.rs,
/// src/report/locate.rs) finds the same spans as scanning the text from its
/// start: for every JSON file of the repository the fast reader loads, with
/// landmarks noted every few bytes (far closer than a load's 16 KiB, so
/// every long-enough list and container has them), for every pointer into
/// it and for elements past the end of each list, asked in an order that
/// jumps about.
#[test]
fn every_repository_file_is_located_alike_from_landmarks() {
    use clearance::evidence::{Evidence, EvidenceText};
    let mut noted = (0, 0);
    for (name, text) in repository_files() {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(landmarks) = readers::landmarks(&text, LoadLimits::default(), 7) else {
            continue;
        };
        let (ends, elements) = readers::count(&landmarks);
        noted = (noted.0 + ends, noted.1 + elements);
        let file = || EvidenceText::new(None, name.clone(), std::sync::Arc::new(text.clone()));
        let scanned = Evidence {
            files: vec![file()],
        };
        let from_landmarks = Evidence {
            files: vec![file()],
        };
        from_landmarks.files[0].note(landmarks);
        let mut all = Vec::new();
        common::pointers(&json, String::new(), &mut all);
        let mut past_the_end = Vec::new();
        for p in &all {
            if let Some(serde_json::Value::Array(items)) = json.pointer(p) {
                past_the_end.push(format!("{p}/{}", items.len()));
                past_the_end.push(format!("{p}/{}", items.len() + 3));
            }
        }
        all.extend(past_the_end);
        let n = all.len();
        for i in 0..n {
            let p = &all[(i * 7919) % n];
            assert_eq!(from_landmarks.locate(p), scanned.locate(p), "{name}: {p}");
        }
    }
    assert!(
        noted.0 > 1000 && noted.1 > 1000,
        "too few landmarks noted to test them: {noted:?}"
    );
}
