//! Every lint has a fixture in tests/lints/ that triggers it, a snapshot of
//! its report, and a generated entry in docs/lints.md.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::lint;
use clearance::report::{self, Style};
use std::path::Path;

const STYLE: Style = Style {
    color: false,
    width: 100,
};

fn now() -> jiff::Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn findings(rel: &str) -> (Vec<lint::Finding>, clearance::check::Program) {
    let program = clearance::compile_path(Path::new(rel), &[]).expect("fixture compiles");
    (lint::run(&program, now()), program)
}

#[test]
fn each_lint_fires_on_its_fixture() {
    insta::glob!("lints/CL*.clr", |path| {
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
            .to_string();
        let name = path.file_name().unwrap().to_str().unwrap();
        // insta's glob matches case-insensitively; only fixtures named by a code count.
        if !name.starts_with("CL0") {
            return;
        }
        let code = name.get(..5).unwrap().to_string();
        let (found, program) = findings(&rel);
        assert!(
            found.iter().any(|f| f.code == code),
            "{rel} does not trigger {code}: {found:?}"
        );
        let mut out = String::new();
        for f in found {
            out.push_str(&report::render_diagnostic(
                f.clone(),
                Some(f.span),
                &program.sources,
                STYLE,
            ));
        }
        insta::assert_snapshot!(out);
    });
}

#[test]
fn every_lint_has_a_fixture_and_docs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lints");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(lint::all().len() >= 15);
    for l in lint::all() {
        assert!(
            names.iter().any(|n| n.starts_with(l.code)),
            "{} has no fixture",
            l.code
        );
        for section in [
            "### What it finds",
            "### Why it matters",
            "### Example",
            "### How to fix",
        ] {
            assert!(l.doc.contains(section), "{} doc lacks `{section}`", l.code);
        }
    }
}

#[test]
fn clean_policy_has_no_findings() {
    let (found, _) = findings("tests/lints/clean.clr");
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn shipped_policies_lint_clean() {
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .env("NO_COLOR", "1")
        .args([
            "lint",
            "policies",
            "--deny",
            "warnings",
            "--now",
            "2026-11-20T12:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn explain_prints_the_doc() {
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .args(["lint", "--explain", "CL016"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .args(["lint", "--explain", "CL999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn exit_codes() {
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .env("NO_COLOR", "1")
            .arg("lint")
            .args(args)
            .args(["--now", "2026-11-20T12:00:00Z"])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run(&["tests/lints/clean.clr"]), Some(0));
    assert_eq!(
        run(&["tests/lints/CL004_missing_title.clr"]),
        Some(0),
        "warnings only"
    );
    assert_eq!(
        run(&["tests/lints/CL004_missing_title.clr", "--deny", "warnings"]),
        Some(1)
    );
    assert_eq!(
        run(&["tests/lints/CL005_constant_condition.clr"]),
        Some(1),
        "error-level lint"
    );
    assert_eq!(
        run(&["tests/bad/unknown_name.clr"]),
        Some(2),
        "does not compile"
    );
    assert_eq!(run(&["no/such/dir"]), Some(2));
}

#[test]
fn json_format() {
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .args([
            "lint",
            "tests/lints/CL016_vacuous_all.clr",
            "--format",
            "json",
            "--now",
            "2026-11-20T12:00:00Z",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["code"], "CL016");
    assert_eq!(v["findings"][0]["line"], 5);
    assert_eq!(v["summary"]["warnings"], 1);
}

/// CL005 and CL008 once looked params up by name, so a rule-level `let`
/// shadowing a param was folded to the param's default: false errors.
#[test]
fn a_let_that_shadows_a_param_is_not_the_param() {
    let (found, _) = findings("tests/lints/shadowed_param.clr");
    let codes: Vec<&str> = found.iter().map(|f| f.code).collect();
    assert!(!codes.contains(&"CL005"), "{found:?}");
    assert!(!codes.contains(&"CL008"), "{found:?}");
    assert!(
        codes.contains(&"CL009"),
        "the shadowing is still reported: {found:?}"
    );
}

/// docs/lints.md: a `# lint: allow` comment works anywhere in the file,
/// including at the end of a line; text inside a string is not a comment.
#[test]
fn allow_comments_at_the_end_of_a_line_and_not_in_strings() {
    let (found, _) = findings("tests/lints/trailing_allow.clr");
    assert!(found.iter().all(|f| f.code != "CL001"), "{found:?}");
    let (found, _) = findings("tests/lints/allow_in_string.clr");
    assert!(found.iter().any(|f| f.code == "CL001"), "{found:?}");
}
