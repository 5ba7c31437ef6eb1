//! Data-driven evaluator cases: tests/cases/**/*.toml. Each case evaluates one
//! expression against JSON evidence and expects a value or an error code.
//! Every failing case of every file is reported, not just the first.
//! `CASES_FILE=core/arithmetic.toml cargo test --test cases` runs one file.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::eval::{self, EvalOptions, Evaluator, Value};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    expr: String,
    /// Evidence as JSON text (JSON, unlike TOML, has null).
    #[serde(default)]
    evidence: Option<String>,
    /// Extra declarations: `def`, `param`, `let`.
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    now: Option<String>,
    want: Option<toml::Value>,
    /// Expected value as JSON text (for null and exact numbers).
    want_json: Option<String>,
    /// Expected value as displayed (durations, times, versions).
    want_display: Option<String>,
    /// Expected error code, e.g. `clearance::eval::missing` or `clearance::check::arity`.
    want_error: Option<String>,
}

fn run_case(case: &Case) -> Result<(), String> {
    let policy = format!(
        "{}\nlet result = (\n{}\n)\n",
        case.policy.as_deref().unwrap_or(""),
        case.expr
    );
    let evidence_text = case.evidence.as_deref().unwrap_or("{}");
    let evidence = eval::parse_json(evidence_text, Default::default())
        .map_err(|e| format!("bad evidence in case: {e}"))?;
    let now = case
        .now
        .as_deref()
        .unwrap_or("2026-11-20T12:00:00Z")
        .parse()
        .map_err(|e| format!("bad now: {e}"))?;
    let outcome: Result<Value, String> = match clearance::compile_str("case.clr", &policy) {
        Err(failure) => Err(failure.errors.first().map(|e| e.code()).unwrap_or_default()),
        Ok(program) => {
            let options = EvalOptions::at(now);
            let compiled = eval::compiled::global_let(&program, "result", &evidence, &options);
            let ev = Evaluator::new(&program, evidence, &options);
            let reference = ev.global_let("result");
            // Differential: the compiled evaluator must agree with the
            // reference interpreter on every case.
            match (&compiled, &reference) {
                (Ok(a), Ok(b)) if a.deep_eq(b) && a.to_string() == b.to_string() => {}
                (Err(a), Err(b)) if a.kind == b.kind && a.is_access() == b.is_access() => {}
                (a, b) => {
                    return Err(format!(
                        "evaluators disagree: compiled {:?}, reference {:?}",
                        a.as_ref().map(|v| v.to_string()).map_err(|e| e.code()),
                        b.as_ref().map(|v| v.to_string()).map_err(|e| e.code())
                    ))
                }
            }
            reference.map_err(|e| e.code().to_string())
        }
    };
    match (&case.want_error, outcome) {
        (Some(code), Err(got)) if *code == got => Ok(()),
        (Some(code), Err(got)) => Err(format!("expected error {code}, got error {got}")),
        (Some(code), Ok(v)) => Err(format!("expected error {code}, got value {v}")),
        (None, Err(got)) => Err(format!("unexpected error {got}")),
        (None, Ok(v)) => check_value(case, &v),
    }
}

fn check_value(case: &Case, got: &Value) -> Result<(), String> {
    if let Some(display) = &case.want_display {
        return if got.to_string() == *display {
            Ok(())
        } else {
            Err(format!("expected display {display}, got {got}"))
        };
    }
    let want_json = match (&case.want, &case.want_json) {
        (Some(w), None) => serde_json::to_string(w).map_err(|e| e.to_string())?,
        (None, Some(j)) => j.clone(),
        _ => {
            return Err(
                "a case needs exactly one of want, want_json, want_display, want_error".into(),
            )
        }
    };
    let want = eval::parse_json(&want_json, Default::default()).map_err(|e| e.to_string())?;
    // Strict on int vs float only through deep equality (1 == 1.0 by design).
    if want.deep_eq(got) && want.type_name() == got.type_name() {
        Ok(())
    } else {
        Err(format!("expected {want}, got {got}"))
    }
}

fn case_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            case_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn evaluator_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files = Vec::new();
    case_files(&root, &mut files);
    if let Ok(only) = std::env::var("CASES_FILE") {
        files.retain(|f| f.ends_with(&only));
    }
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let parsed: CaseFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in &parsed.cases {
            total += 1;
            if let Err(why) = run_case(case) {
                failures.push(format!(
                    "{} / {}: {why}\n    expr: {}",
                    file.strip_prefix(&root).unwrap_or(file).display(),
                    case.name,
                    case.expr
                ));
            }
        }
    }
    assert!(
        total >= 150 || std::env::var("CASES_FILE").is_ok(),
        "only {total} cases"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
