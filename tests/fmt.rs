//! The formatter is idempotent and preserves meaning: over every `.clr` file
//! in the repository and over generated programs.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::fmt::format_source;
use clearance::syntax::{parse_file, FileId};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn clr_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if !p.ends_with("target") && !p.ends_with(".git") {
                clr_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "clr") {
            out.push(p);
        }
    }
}

/// fmt(x) parses to the same AST as x, and fmt(fmt(x)) == fmt(x).
fn assert_round_trip(name: &str, text: &str) {
    let Ok(original) = parse_file(FileId(0), text) else {
        return; // files that do not parse are for the error corpus
    };
    let once = match format_source(text) {
        Ok(once) => once,
        // fmt refuses a repeated singular clause rather than drop its text
        // (tests/inputs_safe.rs); those files are for the error corpus too.
        Err(e) if e.to_string().contains("where only one is allowed") => return,
        Err(e) => panic!("{name}: {e}"),
    };
    let reparsed = parse_file(FileId(0), &once)
        .unwrap_or_else(|e| panic!("{name}: formatted text does not parse: {e}\n{once}"));
    assert_eq!(
        original, reparsed,
        "{name}: formatting changed the meaning:\n{once}"
    );
    let twice = format_source(&once).unwrap();
    assert_eq!(once, twice, "{name}: formatting is not idempotent");
}

#[test]
fn every_repo_policy_round_trips() {
    let mut files = Vec::new();
    clr_files(Path::new(env!("CARGO_MANIFEST_DIR")), &mut files);
    assert!(files.len() > 50);
    for f in files {
        // The hostile corpus holds files that are not even UTF-8.
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        assert_round_trip(&f.display().to_string(), &text);
    }
}

#[test]
fn comments_are_kept() {
    let src = "# head\n\nstages a -> b  # path\n\n# the gate\ngate a -> b {\n  rule r {\n    # why\n    require true  # always\n    # end of rule\n  }\n}\n";
    let out = format_source(src).unwrap();
    for c in [
        "# head",
        "# path",
        "# the gate",
        "# why",
        "# always",
        "# end of rule",
    ] {
        assert!(out.contains(c), "lost {c}:\n{out}");
    }
    assert_eq!(out, src, "already canonical");
}

/// Issue 13 item 10: a comment at the end of an object or list entry stays
/// on that entry (they used to move below the statement).
#[test]
fn comments_in_literals_stay_on_their_entries() {
    let src = "stages a -> b\nparam limits = {\n  \"cpu\": 2, # cores\n  # memory\n  \"mem\": 4 # GiB\n}\ngate a -> b {\n  rule r {\n    require evidence.x in [\n      1, # one\n      2\n    ]\n  }\n}\n";
    let want = "stages a -> b\nparam limits = {\n  \"cpu\": 2,  # cores\n  # memory\n  \"mem\": 4,  # GiB\n}\n\ngate a -> b {\n  rule r {\n    require evidence.x in [\n      1,  # one\n      2,\n    ]\n  }\n}\n";
    let out = format_source(src).unwrap();
    assert_eq!(out, want);
    assert_round_trip("literal comments", src);
}

/// A comment whose text ends in spaces made the parser see parentheses
/// that were never written: `let x = 1 + 2 # sum  ` came out as
/// `let x = (1 + 2)`, its comment moved below.
#[test]
fn a_comment_ending_in_spaces_adds_no_parentheses() {
    let src = "stages a -> b\nlet x = 1 + 2 # sum  \ngate a -> b {\n  rule r {\n    require x == 3 # three\t\n  }\n}\n";
    let out = format_source(src).unwrap();
    assert_eq!(
        out,
        "stages a -> b\nlet x = 1 + 2  # sum\n\ngate a -> b {\n  rule r {\n    require x == 3  # three\n  }\n}\n"
    );
    assert_round_trip("comment ending in spaces", src);
}

#[test]
fn long_conditions_break_at_operators() {
    let src = "stages a -> b\ngate a -> b {\n  rule r {\n    require evidence.first.very.long.path.to.a.value == 1 and evidence.second.very.long.path.to.another.value == 2 and all s in evidence.suites: s.failed == 0\n  }\n}\n";
    let out = format_source(src).unwrap();
    insta::assert_snapshot!(out);
}

#[test]
fn check_mode_prints_a_diff_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.clr");
    std::fs::write(&f, "stages a->b\ngate a->b{rule r{require true}}\n").unwrap();
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .arg("fmt")
            .args(args)
            .arg(&f)
            .output()
            .unwrap()
    };
    let out = run(&["--check"]);
    assert_eq!(out.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("-gate a->b{rule r{require true}}"), "{diff}");
    assert!(diff.contains("+gate a -> b {"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "stages a->b\ngate a->b{rule r{require true}}\n",
        "--check changes nothing"
    );
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let formatted = std::fs::read_to_string(&f).unwrap();
    assert_eq!(
        formatted,
        "stages a -> b\n\ngate a -> b {\n  rule r {\n    require true\n  }\n}\n"
    );
    assert_eq!(run(&["--check"]).status.code(), Some(0));
    std::fs::write(&f, "gate {").unwrap();
    assert_eq!(run(&["--check"]).status.code(), Some(2));
}

#[test]
fn shipped_policies_are_formatted() {
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .args(["fmt", "--check", "policies"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

// ───── generated programs ─────

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "xs", "min_cov", "staging"]).prop_map(String::from)
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        (0u32..1000, 1u32..100).prop_map(|(a, b)| format!("{a}.{b}")),
        prop::sample::select(vec![
            "true",
            "false",
            "null",
            "24h",
            "1h30m",
            "500ms",
            "\"text\"",
            "\"a\\\"b\\n\""
        ])
        .prop_map(String::from),
        name(),
        name().prop_map(|n| format!("evidence.{n}")),
        name().prop_map(|n| format!("evidence[\"{n}-x\"][-1]")),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 40, 4, |inner| {
        let ops = prop::sample::select(vec![
            "and", "or", "==", "!=", "<", ">=", "+", "-", "*", "/", "%", "??", "in", "not in",
        ]);
        prop_oneof![
            (inner.clone(), ops, inner.clone()).prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            inner.clone().prop_map(|e| format!("not {e}")),
            inner.clone().prop_map(|e| format!("-({e})")),
            inner
                .clone()
                .prop_map(|e| format!("exists evidence.a[{e}]")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(inner.clone(), 0..3)
                .prop_map(|v| format!("count({})", v.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| format!("{{key: {k}, \"q-k\": {v}}}")),
            (name(), inner.clone(), inner.clone())
                .prop_map(|(n, c, b)| format!("(all {n} in {c}: {b})")),
            (name(), inner.clone(), inner.clone())
                .prop_map(|(n, c, b)| format!("(any k, {n} in {c}: {b})")),
            (inner.clone(), name(), inner.clone(), inner.clone())
                .prop_map(|(e, n, c, f)| format!("[{e} for {n} in {c} if {f}]")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, t, e)| format!("(if {c} then {t} else {e})")),
        ]
    })
}

fn program() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(expr(), 1..4),
        expr(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(requires, when, advisory, comment)| {
            let mut s = String::from(
                "stages dev -> prod\nparam min_cov = 80\nlet staging = evidence.stages\n",
            );
            if comment {
                s.push_str("# a comment\n");
            }
            s.push_str("gate dev -> prod {\n  let xs = [1, 2]\n");
            s.push_str(&format!(
                "  rule r{} {{\n    title \"t\"\n    when {when}\n",
                if advisory { " advisory" } else { "" }
            ));
            for r in requires {
                s.push_str(&format!("    require {r}"));
                if comment {
                    s.push_str("  # trailing");
                }
                s.push('\n');
            }
            s.push_str("  }\n}\nwaive dev -> prod r until 2026-12-31 reason \"x\" owner \"o\"\n");
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_programs_round_trip(src in program()) {
        assert_round_trip("generated", &src);
    }
}

/// Issue 16: `subject`, `level` and `risk` keep their text, their order
/// and their comments, and move to the head of their block.
#[test]
fn subject_level_and_risk_are_formatted() {
    let src = "stages a -> b\nstage b {\n  risk \"untested at peak\"  # known\n  purpose \"serves\"\n}\ngate a -> b {\n  rule r {\n    require true\n  }\n  level \"SLSA_BUILD_LEVEL_3\"\n  subject   evidence.artifact.digest  # the artifact\n}\n";
    let want = "stages a -> b\n\nstage b {\n  risk \"untested at peak\"  # known\n  purpose \"serves\"\n}\n\ngate a -> b {\n  level \"SLSA_BUILD_LEVEL_3\"\n  subject evidence.artifact.digest  # the artifact\n\n  rule r {\n    require true\n  }\n}\n";
    assert_eq!(format_source(src).unwrap(), want);
    assert_round_trip("subject, level, risk", src);
}
