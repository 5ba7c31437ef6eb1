//! Every report format, for the example policy's allowed and denied bundles:
//! snapshots, schema validation, a JUnit round trip, GitHub annotations that
//! point at the right evidence line, and byte-for-byte determinism.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;

const POLICY: &str = "policies/payments/policy.clr";
const NOW: &str = "2026-11-20T12:00:00Z";
const FORMATS: &[&str] = &["human", "json", "sarif", "junit", "github", "markdown"];

fn run(bundle: &str, format: &str) -> (Option<i32>, String) {
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args([
            "check",
            POLICY,
            "--gate",
            "staging->prod",
            "--now",
            NOW,
            "--format",
            format,
            "--evidence",
        ])
        .arg(format!("policies/payments/evidence/{bundle}.json"))
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn snapshots_of_every_format() {
    for bundle in ["allowed", "denied"] {
        for format in FORMATS {
            let (code, text) = run(bundle, format);
            assert_eq!(
                code,
                Some(if bundle == "allowed" { 0 } else { 1 }),
                "{bundle} {format}"
            );
            insta::assert_snapshot!(format!("{bundle}_{format}"), text);
        }
    }
}

#[test]
fn every_format_is_deterministic() {
    for format in FORMATS {
        let a = run("denied", format);
        let b = run("denied", format);
        assert_eq!(a, b, "{format} output differs between runs");
    }
}

fn validator(schema_path: &str) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn json_reports_match_the_published_schema() {
    let v = validator("docs/schema/report.schema.json");
    for bundle in ["allowed", "denied", "missing-evidence"] {
        let (_, text) = run(bundle, "json");
        assert_valid(&v, &serde_json::from_str(&text).unwrap(), bundle);
    }
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .args([
            "rollback",
            POLICY,
            "--stage",
            "prod",
            "--now",
            NOW,
            "--format",
            "json",
            "--evidence",
            "policies/payments/metrics/firing.json",
        ])
        .output()
        .unwrap();
    assert_valid(
        &v,
        &serde_json::from_slice(&out.stdout).unwrap(),
        "rollback",
    );
}

#[test]
fn sarif_matches_the_official_schema() {
    let v = validator("tests/data/sarif/sarif-2.1.0-rtm.5.json");
    for bundle in ["allowed", "denied", "missing-evidence"] {
        let (_, text) = run(bundle, "sarif");
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_valid(&v, &doc, bundle);
        if bundle == "denied" {
            let results = doc["runs"][0]["results"].as_array().unwrap();
            // 12 failing rules and one waived rule.
            assert_eq!(results.len(), 13);
            let waived = results
                .iter()
                .find(|r| r["ruleId"] == "no-critical-vulnerabilities")
                .unwrap();
            assert_eq!(waived["level"], "note");
            assert!(waived["suppressions"].is_array());
            let suites = results
                .iter()
                .find(|r| r["ruleId"] == "suites-green")
                .unwrap();
            let related = &suites["relatedLocations"][0]["physicalLocation"];
            assert_eq!(
                related["artifactLocation"]["uri"],
                "policies/payments/evidence/denied.json"
            );
            assert_eq!(related["region"]["startLine"], 51);
        }
    }
}

#[test]
fn junit_reads_back_with_a_junit_parser() {
    let (_, text) = run("denied", "junit");
    let report = quick_junit::Report::deserialize_from_str(&text).unwrap();
    let suite = &report.test_suites[0];
    assert_eq!(suite.test_cases.len(), 16, "one test case per rule");
    assert_eq!(report.failures, 12);
    let waived = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "no-critical-vulnerabilities")
        .unwrap();
    assert!(matches!(
        waived.status,
        quick_junit::TestCaseStatus::Skipped { .. }
    ));
    let failed = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "coverage")
        .unwrap();
    match &failed.status {
        quick_junit::TestCaseStatus::NonSuccess { description, .. } => {
            assert!(
                description.as_ref().unwrap().as_str().contains("72.5"),
                "the diagnostic is in the failure"
            );
        }
        other => panic!("coverage should fail, got {other:?}"),
    }
}

/// One annotation per rule (GitHub shows ten of each level per step), whose
/// message lists the evidence it read with `file:line:col` that points at
/// that value in the file.
#[test]
fn github_annotations_carry_the_evidence_lines() {
    let (_, text) = run("denied", "github");
    let evidence = std::fs::read_to_string("policies/payments/evidence/denied.json").unwrap();
    let lines: Vec<&str> = evidence.lines().collect();
    let annotations: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    for level in ["error", "warning", "notice"] {
        let n = annotations
            .iter()
            .filter(|l| l.starts_with(&format!("::{level} ")))
            .count();
        assert!(n <= 10, "{n} {level} annotations");
    }
    let mut checked = 0;
    for a in &annotations {
        let message = a.splitn(3, "::").nth(2).unwrap();
        for site in message.split("%0A").skip(1) {
            let (value, at) = site
                .rsplit_once(" (at policies/payments/evidence/denied.json:")
                .unwrap();
            let (line, col) = at.trim_end_matches(')').split_once(':').unwrap();
            let (line, col): (usize, usize) = (line.parse().unwrap(), col.parse().unwrap());
            let value = value.split(" = ").nth(1).unwrap();
            let at = lines[line - 1].chars().skip(col - 1).collect::<String>();
            let shown = value.trim_end_matches('…');
            assert!(
                at.starts_with(shown.get(..shown.len().min(20)).unwrap()),
                "line {line} col {col} is `{at}`, expected {value}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} evidence sites");
}

/// Past ten failing rules, the rest are folded into one notice (the step
/// summary lists them all).
#[test]
fn github_annotations_are_capped_at_ten_a_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy = String::from("stages a -> b\ngate a -> b {\n");
    for i in 0..14 {
        policy.push_str(&format!(
            "  rule r{i} {{\n    require evidence.x == {i}\n  }}\n"
        ));
    }
    policy.push_str("}\n");
    let p = dir.path().join("p.clr");
    std::fs::write(&p, policy).unwrap();
    let e = dir.path().join("e.json");
    std::fs::write(&e, r#"{"x": 99}"#).unwrap();
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .arg("check")
        .arg(&p)
        .arg("--evidence")
        .arg(&e)
        .args(["--now", "2026-11-20T12:00:00Z", "--format", "github"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("::error ")).count(),
        10,
        "{text}"
    );
    assert!(
        text.contains("::notice title=clearance::4 more rules not annotated"),
        "{text}"
    );
}

#[test]
fn github_step_summary_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "previous step\n").unwrap();
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "check",
            POLICY,
            "--gate",
            "staging->prod",
            "--now",
            NOW,
            "--format",
            "github",
            "--evidence",
            "policies/payments/evidence/denied.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("previous step\n## ❌ Promotion denied"),
        "{md}"
    );
}

#[test]
fn several_outputs_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("r.sarif");
    let junit = dir.path().join("r.xml");
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .args([
            "check",
            POLICY,
            "--gate",
            "staging->prod",
            "--now",
            NOW,
            "--evidence",
            "policies/payments/evidence/denied.json",
            "--format",
            "json",
        ])
        .arg("--output")
        .arg(format!("sarif={}", sarif.display()))
        .arg("-o")
        .arg(format!("junit={}", junit.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&sarif).unwrap(),
        run("denied", "sarif").1
    );
    assert_eq!(
        std::fs::read_to_string(&junit).unwrap(),
        run("denied", "junit").1
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
    let bad = Command::cargo_bin("clearance")
        .unwrap()
        .args([
            "check",
            POLICY,
            "--gate",
            "staging->prod",
            "--evidence",
            "policies/payments/evidence/denied.json",
            "--output",
            "pdf=x.pdf",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
}

#[test]
fn decision_record_makes_the_run_reproducible() {
    let (_, text) = run("denied", "json");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let record = &report["record"];
    assert_eq!(
        record["engine"],
        format!("clearance {}", env!("CARGO_PKG_VERSION"))
    );
    let files: Vec<&str> = record["policy_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "policies/payments/policy.clr",
            "policies/payments/shared/common.clr"
        ]
    );
    assert_eq!(record["waivers_applied"][0], "no-critical-vulnerabilities");
    // The recorded command reproduces the same report.
    let command = record["command"].as_str().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(command.replacen("clearance", env!("CARGO_BIN_EXE_clearance"), 1) + " --format json")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}

#[test]
fn evidence_locations_with_crlf_and_mounts() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.clr");
    std::fs::write(
        &policy,
        "stages ci -> prod\ngate ci -> prod {\n  rule green {\n    require evidence.junit.suites[1].failed == 0\n  }\n  rule esc {\n    require evidence[\"a/b\"][\"c~d\"] == 1\n  }\n}\n",
    )
    .unwrap();
    let root = dir.path().join("root.json");
    std::fs::write(&root, "{\r\n  \"a/b\": {\r\n    \"c~d\": 2\r\n  }\r\n}\r\n").unwrap();
    let junit = dir.path().join("junit.json");
    std::fs::write(
        &junit,
        "{\"suites\": [{\"failed\": 0},\r\n  {\"failed\": 3}]}",
    )
    .unwrap();
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .arg("check")
        .arg(&policy)
        .arg("--evidence")
        .arg(&root)
        .arg("--evidence")
        .arg(format!("junit={}", junit.display()))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let loc = |rule: usize| report["rules"][rule]["problems"][0]["evidence"][0]["location"].clone();
    assert_eq!(loc(0)["line"], 2);
    assert_eq!(loc(0)["column"], 14);
    assert!(loc(0)["file"].as_str().unwrap().ends_with("junit.json"));
    assert_eq!(loc(1)["line"], 3);
    assert_eq!(loc(1)["column"], 12);
    assert!(loc(1)["file"].as_str().unwrap().ends_with("root.json"));
}

fn clearance_out(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn explain_renders_the_contract_in_words() {
    let (code, text, _) = clearance_out(&["explain", POLICY, "--now", NOW]);
    assert_eq!(code, Some(0));
    assert!(text.contains("`evidence.tests.coverage` is at least `min_coverage` (80)"));
    assert!(text.contains("| `no-critical-vulnerabilities` | 2026-12-31 | yes |"));
    assert!(text.contains("## Rollback triggers of `prod`"));
    insta::assert_snapshot!("explain_payments", text);
}

#[test]
fn graph_shows_the_path_and_the_decision() {
    let (code, mermaid, _) = clearance_out(&["graph", POLICY]);
    assert_eq!(code, Some(0));
    insta::assert_snapshot!("graph_mermaid", mermaid);
    let (_, dot, _) = clearance_out(&[
        "graph",
        POLICY,
        "--format",
        "dot",
        "--gate",
        "staging->prod",
        "--now",
        NOW,
        "--evidence",
        "policies/payments/evidence/denied.json",
    ]);
    assert!(dot.contains(
        "\"staging\" -> \"prod\" [label=\"validates 15 rules + 1 advisory: denied (suites-green"
    ));
    assert!(dot.contains("color=\"#cf222e\""));
    insta::assert_snapshot!("graph_dot_denied", dot);
}

#[test]
fn schema_is_inferred_from_how_evidence_is_used() {
    let (code, text, _) = clearance_out(&["schema", POLICY, "--gate", "staging->prod"]);
    assert_eq!(code, Some(0));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let props = &schema["properties"];
    assert_eq!(props["tests"]["properties"]["coverage"]["type"], "number");
    assert_eq!(props["tests"]["properties"]["suites"]["type"], "array");
    assert_eq!(
        props["tests"]["properties"]["suites"]["items"]["properties"]["failed"]["type"],
        "number"
    );
    assert_eq!(
        props["promotion"]["properties"]["requested_at"]["format"],
        "date-time"
    );
    assert_eq!(
        props["artifact"]["properties"]["signatures"]["items"]["properties"]["keyid"]["type"],
        "string"
    );
    // `exists evidence.rollback.previous_digest` tolerates its absence.
    let rollback_required = props["rollback"]["required"].as_array();
    assert!(rollback_required.is_none_or(|r| !r.iter().any(|k| k == "previous_digest")));
    // The schema itself is valid JSON Schema, and the allowed bundle fits it.
    let v = jsonschema::validator_for(&schema).unwrap();
    let allowed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("policies/payments/evidence/allowed.json").unwrap(),
    )
    .unwrap();
    assert!(v.is_valid(&allowed));
    insta::assert_snapshot!("schema_staging_prod", text);
}

#[test]
fn strict_evidence_rejects_bundles_that_do_not_fit() {
    let base = [
        "check",
        POLICY,
        "--gate",
        "staging->prod",
        "--now",
        NOW,
        "--strict-evidence",
        "--evidence",
    ];
    let mut args = base.to_vec();
    args.push("policies/payments/evidence/allowed.json");
    assert_eq!(clearance_out(&args).0, Some(0));
    let mut args = base.to_vec();
    args.push("policies/payments/evidence/missing-evidence.json");
    let (code, stdout, stderr) = clearance_out(&args);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("/tests lacks the required field `coverage`"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.json");
    let text = std::fs::read_to_string("policies/payments/evidence/allowed.json")
        .unwrap()
        .replace("\"coverage\": 84.5", "\"coverage\": \"84.5%\"");
    std::fs::write(&wrong, text).unwrap();
    let mut args = base.to_vec();
    let w = wrong.display().to_string();
    args.push(&w);
    let (code, _, stderr) = clearance_out(&args);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("/tests/coverage is a string \"84.5%\", expected number"),
        "{stderr}"
    );
    assert!(stderr.contains("wrong.json:39:17"), "{stderr}");
}

#[test]
fn lint_sarif_matches_the_official_schema() {
    let (code, text, _) =
        clearance_out(&["lint", "tests/lints", "--format", "sarif", "--now", NOW]);
    assert_eq!(code, Some(1), "tests/lints holds error-level findings");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_valid(
        &validator("tests/data/sarif/sarif-2.1.0-rtm.5.json"),
        &doc,
        "lint sarif",
    );
    assert!(doc["runs"][0]["results"].as_array().unwrap().len() >= 17);
}

/// `clearance schema` without `--gate` is one alternative per decision: a
/// real bundle for any one gate, or metrics for a stage's rollback
/// triggers, satisfies it (a merged schema required all of them at once).
#[test]
fn the_policy_schema_has_one_alternative_per_decision() {
    let schema_of = |args: &[&str]| -> serde_json::Value {
        let out = Command::cargo_bin("clearance")
            .unwrap()
            .args(["schema", "policies/payments/policy.clr"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let policy = schema_of(&[]);
    assert_eq!(
        policy["anyOf"].as_array().unwrap().len(),
        3,
        "two gates and prod's triggers"
    );
    let policy = jsonschema::validator_for(&policy).unwrap();
    let rollback = jsonschema::validator_for(&schema_of(&["--stage", "prod"])).unwrap();
    for bundle in [
        "evidence/allowed.json",
        "metrics/healthy.json",
        "metrics/firing.json",
    ] {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("policies/payments/{bundle}")).unwrap(),
        )
        .unwrap();
        assert!(policy.is_valid(&v), "{bundle}");
        if bundle.starts_with("metrics") {
            assert!(rollback.is_valid(&v), "{bundle}");
        }
    }
}

/// JUnit consumers read a suite's `skipped` count: skipped and waived rules.
#[test]
fn junit_suites_count_skipped_cases() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.clr");
    std::fs::write(
        &p,
        "stages a -> b\ngate a -> b {\n  rule r {\n    when false\n    require evidence.x == 1\n  }\n  rule w {\n    require evidence.x == 3\n  }\n  rule f {\n    require evidence.x == 4\n  }\n}\nwaive a -> b w until 2099-01-01 reason \"known, Q-1\"\n",
    )
    .unwrap();
    let e = dir.path().join("e.json");
    std::fs::write(&e, r#"{"x": 2}"#).unwrap();
    let out = Command::cargo_bin("clearance")
        .unwrap()
        .arg("check")
        .arg(&p)
        .arg("--evidence")
        .arg(&e)
        .args(["--now", "2026-11-20T12:00:00Z", "--format", "junit"])
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    let suite = xml
        .lines()
        .find(|l| l.trim_start().starts_with("<testsuite "))
        .unwrap();
    assert!(suite.contains("skipped=\"2\""), "{suite}");
    assert!(suite.contains("failures=\"1\""), "{suite}");
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(report.test_suites[0].test_cases.len(), 3);
}
