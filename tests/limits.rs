//! Every named limit: accepted at the limit, refused one past it, with a
//! diagnostic that names the limit (docs/guarantees.md).

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

fn run(args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

const SIMPLE: &str =
    "stages a -> b\ngate a -> b {\n  rule r {\n    require evidence.x == 1\n  }\n}\n";

/// Runs `check` with `flag VALUE` at `limit` (must decide) and `limit - 1` (must refuse).
fn at_and_past(policy: &str, evidence: &str, flag: &str, limit: u64, needle: &str) {
    let ok = run(&[
        "check",
        policy,
        "--evidence",
        evidence,
        flag,
        &limit.to_string(),
    ]);
    assert!(
        matches!(ok.status.code(), Some(0 | 1)),
        "{flag} {limit} should be accepted:\n{}",
        stderr(&ok)
    );
    let past = run(&[
        "check",
        policy,
        "--evidence",
        evidence,
        flag,
        &(limit - 1).to_string(),
    ]);
    assert_eq!(
        past.status.code(),
        Some(2),
        "{flag} {} should refuse",
        limit - 1
    );
    assert!(stderr(&past).contains(needle), "{flag}: {}", stderr(&past));
}

#[test]
fn policy_bytes_and_lines() {
    let f = Files::new();
    let policy = f.write("p.clr", SIMPLE);
    let ev = f.write("e.json", r#"{"x": 1}"#);
    at_and_past(
        &policy,
        &ev,
        "--max-policy-bytes",
        SIMPLE.len() as u64,
        "bytes, over the limit",
    );
    at_and_past(
        &policy,
        &ev,
        "--max-policy-lines",
        SIMPLE.lines().count() as u64,
        "lines, over the limit",
    );
}

#[test]
fn expression_depth() {
    let f = Files::new();
    let ev = f.write("e.json", r#"{"x": 1}"#);
    // 64 nested parentheses are accepted by default.
    let deep64 = f.write(
        "d64.clr",
        &SIMPLE.replace(
            "evidence.x == 1",
            &format!("{}evidence.x == 1{}", "(".repeat(64), ")".repeat(64)),
        ),
    );
    assert_eq!(
        run(&["check", &deep64, "--evidence", &ev]).status.code(),
        Some(0)
    );
    // At and past a limit: the depth of `((x == 1))` is known from the parser.
    let expr = "((evidence.x == 1))";
    let depth = clearance::syntax::parse_expr(clearance::syntax::FileId(0), expr)
        .unwrap()
        .depth as u64;
    let policy = f.write("p.clr", &SIMPLE.replace("evidence.x == 1", expr));
    at_and_past(&policy, &ev, "--max-expr-depth", depth, "nested too deeply");
}

#[test]
fn evidence_bytes_depth_and_strings() {
    let f = Files::new();
    let policy = f.write("p.clr", SIMPLE);
    let text = r#"{"x": 1, "deep": [[[]]], "s": "abcdefghij"}"#;
    let ev = f.write("e.json", text);
    at_and_past(
        &policy,
        &ev,
        "--max-evidence-bytes",
        text.len() as u64,
        "over the limit of",
    );
    // Depth: the root object, then three arrays.
    at_and_past(
        &policy,
        &ev,
        "--max-evidence-depth",
        4,
        "nested deeper than",
    );
    at_and_past(
        &policy,
        &ev,
        "--max-string-bytes",
        10,
        "exceeds the limit of",
    );
}

/// The smallest value of `flag` under which the rule still decides, found by bisection.
fn smallest_accepted(
    policy: &str,
    ev: &str,
    flag: &str,
    hi: u64,
    decided: impl Fn(&Output) -> bool,
) -> u64 {
    let (mut lo, mut hi) = (1u64, hi);
    assert!(decided(&run(&[
        "check",
        policy,
        "--evidence",
        ev,
        flag,
        &hi.to_string()
    ])));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if decided(&run(&[
            "check",
            policy,
            "--evidence",
            ev,
            flag,
            &mid.to_string(),
        ])) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[test]
fn regex_size() {
    let f = Files::new();
    let policy = f.write(
        "p.clr",
        &SIMPLE.replace("evidence.x == 1", "matches(\"abc\", evidence.r)"),
    );
    let ev = f.write("e.json", r#"{"r": "^[a-z]{1,20}$"}"#);
    let passes = |o: &Output| o.status.code() == Some(0);
    let limit = smallest_accepted(&policy, &ev, "--max-regex-bytes", 1 << 20, passes);
    let at = run(&[
        "check",
        &policy,
        "--evidence",
        &ev,
        "--max-regex-bytes",
        &limit.to_string(),
    ]);
    assert_eq!(at.status.code(), Some(0));
    let past = run(&[
        "check",
        &policy,
        "--evidence",
        &ev,
        "--max-regex-bytes",
        &(limit - 1).to_string(),
    ]);
    assert_eq!(
        past.status.code(),
        Some(1),
        "a regex over the limit is an error outcome, which denies"
    );
    assert!(String::from_utf8_lossy(&past.stdout).contains("--max-regex-bytes"));
}

#[test]
fn evaluation_steps() {
    let f = Files::new();
    let policy = f.write(
        "p.clr",
        &SIMPLE.replace("evidence.x == 1", "all v in evidence.xs: v >= 0"),
    );
    let ev = f.write(
        "e.json",
        &format!("{{\"xs\": {:?}}}", (0..100).collect::<Vec<_>>()),
    );
    let passes = |o: &Output| o.status.code() == Some(0);
    let limit = smallest_accepted(&policy, &ev, "--max-steps", 100_000, passes);
    let past = run(&[
        "check",
        &policy,
        "--evidence",
        &ev,
        "--max-steps",
        &(limit - 1).to_string(),
    ]);
    assert_eq!(past.status.code(), Some(1), "running out of budget denies");
    let out = String::from_utf8_lossy(&past.stdout);
    assert!(
        out.contains(&format!(
            "evaluation budget exceeded after {} steps",
            limit - 1
        )),
        "{out}"
    );
}

#[test]
fn cubic_quantifiers_end_with_a_budget_error() {
    let f = Files::new();
    let policy = f.write(
        "p.clr",
        &SIMPLE.replace(
            "evidence.x == 1",
            "all x in evidence.xs: all y in evidence.xs: all z in evidence.xs: x + y + z >= 0",
        ),
    );
    let ev = f.write(
        "e.json",
        &format!("{{\"xs\": {:?}}}", (0..3000).collect::<Vec<_>>()),
    );
    // A smaller budget than the default keeps this debug-build test quick; the
    // release build stops the default budget in about two seconds (docs/guarantees.md).
    let out = run(&[
        "check",
        &policy,
        "--evidence",
        &ev,
        "--max-steps",
        "2000000",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("evaluation budget exceeded after 2000000 steps"));
}

/// The documented maximum itself is accepted: 128 levels of evidence
/// nesting (serde_json alone stops at 127), in a read and a skipped field.
#[test]
fn evidence_nesting_at_exactly_the_maximum() {
    let f = Files::new();
    let policy = f.write("p.clr", SIMPLE);
    let nested = |levels: usize| "[".repeat(levels - 1) + "1" + &"]".repeat(levels - 1);
    for (levels, code) in [(128, 1), (129, 2)] {
        // The root object is one level; `deep` holds the rest.
        let ev = f.write(
            "e.json",
            &format!("{{\"x\": 2, \"deep\": {}}}", nested(levels)),
        );
        let out = run(&[
            "check",
            &policy,
            "--evidence",
            &ev,
            "--now",
            "2026-11-20T12:00:00Z",
        ]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{levels} levels: {}",
            stderr(&out)
        );
        if code == 2 {
            assert!(
                stderr(&out).contains("deeper than 128 levels"),
                "{}",
                stderr(&out)
            );
        }
    }
}

/// An integer literal outside 64 bits is refused on either side of the
/// range, with its position; floats written as such stay floats.
#[test]
fn integers_beyond_64_bits_are_refused_on_both_sides() {
    let f = Files::new();
    let policy = f.write("p.clr", SIMPLE);
    for (number, code) in [
        ("-9223372036854775809", 2),
        ("9223372036854775808", 2),
        ("123456789012345678901234567890", 2),
        ("-9223372036854775808", 1),
        ("9223372036854775807", 1),
        ("1e30", 1),
        ("-2.5e19", 1),
    ] {
        // The same digits inside a string are text, not a number.
        let ev = f.write(
            "e.json",
            &format!("{{\"id\": \"99999999999999999999\",\n \"x\": {number}}}"),
        );
        let out = run(&[
            "check",
            &policy,
            "--evidence",
            &ev,
            "--now",
            "2026-11-20T12:00:00Z",
        ]);
        assert_eq!(out.status.code(), Some(code), "{number}: {}", stderr(&out));
        if code == 2 {
            let err = stderr(&out);
            assert!(
                err.contains(&format!("integer {number} does not fit in 64 bits")),
                "{err}"
            );
            assert!(err.contains("e.json:2:"), "no position: {err}");
        }
    }
}

/// RFC 3339 offsets are `Z` or ±HH:MM with hours 00-23; the depth message
/// names the limit in force; a waiver until the last representable date is
/// accepted.
#[test]
fn exact_values_of_times_depths_and_dates() {
    let f = Files::new();
    let policy = f.write("p.clr", SIMPLE);
    let ev = f.write("e.json", r#"{"x": 1}"#);
    for (now, code) in [
        ("2026-11-20T12:00:00+25:00", 2),
        ("2026-11-20T12:00:00+24:00", 2),
        ("2026-11-20T12:00:00+05:60", 2),
        ("2026-11-20T12:00:00+0500", 2),
        ("2026-11-20T12:00:00+23:59", 0),
        ("2026-11-20T12:00:00-05:30", 0),
    ] {
        let out = run(&["check", &policy, "--evidence", &ev, "--now", now]);
        assert_eq!(out.status.code(), Some(code), "{now}: {}", stderr(&out));
    }
    let deep = f.write(
        "deep.clr",
        &SIMPLE.replace(
            "evidence.x == 1",
            &("(".repeat(300) + "true" + &")".repeat(300)),
        ),
    );
    let out = run(&[
        "check",
        &deep,
        "--evidence",
        &ev,
        "--now",
        "2026-11-20T12:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("more than 256 levels"),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "check",
        &deep,
        "--evidence",
        &ev,
        "--now",
        "2026-11-20T12:00:00Z",
        "--max-expr-depth",
        "100",
    ]);
    assert!(
        stderr(&out).contains("more than 100 levels"),
        "{}",
        stderr(&out)
    );
    let forever = f.write(
        "w.clr",
        "stages a -> b\ngate a -> b {\n  rule r {\n    require evidence.x == 2\n  }\n}\nwaive a -> b r until 9999-12-31 reason \"accepted risk, SEC-1\"\n",
    );
    let out = run(&[
        "check",
        &forever,
        "--evidence",
        &ev,
        "--now",
        "2026-11-20T12:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
