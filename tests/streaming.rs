//! Large JSON evidence files are read as a stream (src/evidence/stream.rs):
//! the real binary decides and reports on them exactly as on the same text
//! read whole from standard input, allowed and denied, in every format; a
//! stream that meets something it is unsure of falls back to the whole
//! read's diagnostic; and a file that changes between two reads stops the
//! run instead of being reported on.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use clearance::decide::{self, Request, Target};
use clearance::eval::EvalOptions;
use clearance::evidence::{self, Source};
use std::path::Path;

const POLICY: &str = "policies/payments/policy.clr";
const NOW: &str = "2026-11-20T12:00:00Z";

/// The example bundle `name` with a field no rule reads put first, large
/// enough that the file is streamed and every value the rules read lies
/// past the first of the stream's chunks.
fn padded(name: &str) -> String {
    let text = std::fs::read_to_string(format!("policies/payments/evidence/{name}")).unwrap();
    let rest = text.trim_start().strip_prefix('{').unwrap();
    let filler: Vec<String> = (0..80_000)
        .map(|i| format!("\"filler {i} caf\u{e9}\""))
        .collect();
    let padded = format!("{{\"zz_padding\": [{}],{rest}", filler.join(", "));
    assert!(padded.len() as u64 >= evidence::STREAM_FROM);
    padded
}

fn clearance() -> Command {
    let mut cmd = Command::cargo_bin("clearance").unwrap();
    cmd.env("NO_COLOR", "1").env("COLUMNS", "100");
    cmd
}

fn check(evidence: &str, format: &str, stdin: Option<&str>) -> (String, i32) {
    let mut cmd = clearance();
    cmd.args([
        "check",
        POLICY,
        "--evidence",
        evidence,
        "--gate",
        "staging->prod",
        "--now",
        NOW,
        "--format",
        format,
    ]);
    if let Some(text) = stdin {
        cmd.write_stdin(text);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    (text, out.status.code().unwrap())
}

#[test]
fn a_streamed_file_is_reported_on_as_the_same_text_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    for (bundle, code) in [("allowed.json", 0), ("denied.json", 1)] {
        let text = padded(bundle);
        let path = dir.path().join(bundle);
        std::fs::write(&path, &text).unwrap();
        let path = path.to_str().unwrap();
        for format in ["human", "json", "sarif"] {
            let (streamed, streamed_code) = check(path, format, None);
            let (whole, whole_code) = check("-", format, Some(&text));
            // Standard input is named as such; everything else is the same.
            let whole = whole
                .replace("<stdin>", path)
                .replace("\"stdin:\"", &format!("\"{path}\""))
                .replace("--evidence -", &format!("--evidence {path}"));
            assert_eq!(
                (streamed_code, whole_code),
                (code, code),
                "{bundle} {format}:\n{streamed}"
            );
            assert_eq!(streamed, whole, "{bundle} {format}");
        }
    }
}

#[test]
fn a_large_file_that_is_not_json_says_so_as_a_whole_read_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = padded("allowed.json");
    // A syntax error near the end, and, in another file, bytes that are not UTF-8.
    let broken = text.replace("\"dana\"", "\"dana\",,");
    let path = dir.path().join("broken.json");
    std::fs::write(&path, &broken).unwrap();
    let (streamed, code) = check(path.to_str().unwrap(), "human", None);
    let (whole, _) = check("-", "human", Some(&broken));
    assert_eq!(code, 2, "{streamed}");
    assert_eq!(streamed, whole.replace("<stdin>", path.to_str().unwrap()));
    assert!(streamed.contains("invalid evidence JSON"), "{streamed}");

    text.push('\u{e9}');
    let mut bytes = text.into_bytes();
    let at = bytes.len() - 1;
    bytes[at] = 0xff;
    let path = dir.path().join("latin1.json");
    std::fs::write(&path, &bytes).unwrap();
    let (streamed, code) = check(path.to_str().unwrap(), "human", None);
    assert_eq!(code, 2, "{streamed}");
    assert!(streamed.contains("is not valid UTF-8"), "{streamed}");
}

fn options() -> EvalOptions {
    EvalOptions::at(NOW.parse().unwrap())
}

#[test]
fn a_file_that_changes_between_two_reads_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.json");
    let allowed = padded("allowed.json");
    std::fs::write(&path, &allowed).unwrap();
    let program = clearance::compile_path(Path::new(POLICY), &[]).unwrap();
    let gate = program.gate("staging", "prod").unwrap();
    let sources = [Source::File {
        mount: None,
        path: path.clone(),
    }];
    let options = options();
    let evidence = evidence::read(&sources, &options.limits).unwrap();
    let request = Request::new(&program, Target::Gate(gate), &evidence, &options);
    let first = decide::decide(&request).unwrap();
    assert_eq!(first.decision, clearance::eval::Decision::Allowed);
    assert!(evidence.unchanged().is_ok());

    // Same length, one value changed: a later load must not use it.
    let changed = allowed.replace("\"dana\"", "\"eve_\"");
    assert_ne!(changed, allowed);
    std::fs::write(&path, &changed).unwrap();
    let again = decide::decide(&request)
        .unwrap_err()
        .render(Default::default());
    assert!(again.contains("changed while it was being read"), "{again}");

    // Nor may a report show the text read whole after the stream.
    let evidence = evidence::read(&sources, &options.limits).unwrap();
    std::fs::write(&path, &allowed).unwrap();
    let request = Request::new(&program, Target::Gate(gate), &evidence, &options);
    decide::decide(&request).unwrap();
    std::fs::write(&path, &changed).unwrap();
    assert_eq!(evidence.files[0].text().as_str(), changed);
    let error = evidence.unchanged().unwrap_err();
    assert!(
        error.message().contains("changed while it was being read"),
        "{error:?}"
    );
}
