//! Runs the real `clearance` binary: exit codes, stdin, mounts, params, time,
//! gate selection and byte-for-byte determinism.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use std::io::Write;

const POLICY: &str = "policies/payments/policy.clr";
const ALLOWED: &str = "policies/payments/evidence/allowed.json";
const DENIED: &str = "policies/payments/evidence/denied.json";
const MISSING: &str = "policies/payments/evidence/missing-evidence.json";
const NOW: &str = "2026-11-20T12:00:00Z";

fn clearance() -> Command {
    let mut cmd = Command::cargo_bin("clearance").unwrap();
    cmd.env("NO_COLOR", "1").env("COLUMNS", "100");
    cmd
}

fn check(evidence: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "check",
        POLICY,
        "--evidence",
        evidence,
        "--gate",
        "staging->prod",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    clearance().args(&args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_no_panic(out: &std::process::Output) {
    assert_ne!(
        out.status.code(),
        Some(101),
        "panicked: {}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("panicked"));
}

#[test]
fn allowed_exits_0() {
    let out = check(ALLOWED, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with("allowed: staging -> prod"));
}

#[test]
fn denied_exits_1_with_diagnostics() {
    let out = check(DENIED, &[]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("denied_human", text(&out.stdout));
}

#[test]
fn missing_evidence_is_an_error_outcome_and_denies() {
    let out = check(MISSING, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[error]"));
    assert!(stdout.contains("`evidence.tests` has no field `coverage`"));
    assert!(stdout.contains("3 errors"));
}

#[test]
fn json_report_is_deterministic() {
    let a = check(DENIED, &["--format", "json"]);
    let b = check(DENIED, &["--format", "json"]);
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(a.stdout, b.stdout, "JSON output must be byte-identical");
    let report: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(report["decision"], "denied");
    assert_eq!(report["summary"]["failed"], 12);
    assert_eq!(report["summary"]["waived"], 1);
    insta::assert_snapshot!("denied_json", text(&a.stdout));
}

#[test]
fn json_report_of_allowed_bundle() {
    let out = check(ALLOWED, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decision"], "allowed");
    assert_eq!(report["summary"]["passed"], 16);
    assert_eq!(report["version"], 1);
}

#[test]
fn stdin_evidence() {
    let bundle = std::fs::read(ALLOWED).unwrap();
    let out = clearance()
        .args([
            "check",
            POLICY,
            "--evidence",
            "-",
            "--gate",
            "staging->prod",
            "--now",
            NOW,
        ])
        .write_stdin(bundle)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn mounts_combine_files() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.clr");
    std::fs::write(
        &policy,
        "stages ci -> prod\ngate ci -> prod {\n  rule green {\n    require evidence.junit.failures == 0 and evidence.sbom.ok\n  }\n}\n",
    )
    .unwrap();
    let junit = dir.path().join("junit.json");
    std::fs::write(&junit, r#"{"failures": 0}"#).unwrap();
    let sbom = dir.path().join("sbom.json");
    std::fs::write(&sbom, r#"{"ok": true}"#).unwrap();
    let out = clearance()
        .arg("check")
        .arg(&policy)
        .arg("--evidence")
        .arg(format!("junit={}", junit.display()))
        .arg("--evidence")
        .arg(format!("sbom={}", sbom.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn param_override_changes_the_decision() {
    let out = check(DENIED, &["--param", "min_coverage=70", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let coverage = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "coverage")
        .unwrap();
    assert_eq!(coverage["outcome"], "pass");
    assert_eq!(report["params"]["min_coverage"], 70);
}

#[test]
fn param_of_the_wrong_type_exits_2() {
    let out = check(ALLOWED, &["--param", "min_coverage=high"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "no decision may be printed with exit 2"
    );
    insta::assert_snapshot!("param_wrong_type", text(&out.stderr));
}

#[test]
fn unknown_param_exits_2_with_suggestion() {
    let out = check(ALLOWED, &["--param", "min_coverag=70"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `min_coverage`?"));
}

#[test]
fn now_decides_time_and_must_be_rfc3339() {
    let out = clearance()
        .args([
            "check",
            POLICY,
            "--evidence",
            ALLOWED,
            "--gate",
            "staging->prod",
            "--now",
            "yesterday",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("RFC 3339"));
    let out = check(ALLOWED, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["now"], NOW);
}

#[test]
fn gate_is_required_when_there_are_several() {
    let out = clearance()
        .args(["check", POLICY, "--evidence", ALLOWED, "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!("gate_required", text(&out.stderr));
}

#[test]
fn gate_selection() {
    let out = clearance()
        .args([
            "check",
            POLICY,
            "--evidence",
            ALLOWED,
            "--now",
            NOW,
            "--gate",
            "dev -> staging",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with("allowed: dev -> staging"));
    let out = clearance()
        .args([
            "check",
            POLICY,
            "--evidence",
            ALLOWED,
            "--gate",
            "staging->qa",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no gate `staging -> qa`"));
}

#[test]
fn one_gate_needs_no_flag() {
    let out = clearance()
        .args([
            "check",
            "tests/runtime/failing_comparison.clr",
            "--evidence",
            "tests/runtime/failing_comparison.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn invalid_json_exits_2_with_line_and_column() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"{\n  \"tests\": {\"coverage\": 80,}\n}\n")
        .unwrap();
    let out = check(file.path().to_str().unwrap(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains(":2:"), "{stderr}");
    assert!(stderr.contains("trailing comma"), "{stderr}");
    assert_no_panic(&out);
}

#[test]
fn unreadable_files_exit_2() {
    let out = check("no/such/file.json", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/file.json"));
    let out = check("policies", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("directory"));
    let out = clearance()
        .args(["check", "no/such.clr", "--evidence", ALLOWED])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such.clr"));
}

#[test]
fn compile_errors_exit_2_and_print_no_decision() {
    let out = clearance()
        .args([
            "check",
            "tests/bad/several_errors.clr",
            "--evidence",
            ALLOWED,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("3 errors"));
}

#[test]
fn bad_arguments_exit_2() {
    let out = clearance().args(["check", POLICY]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = clearance()
        .args(["check", POLICY, "--evidence", ALLOWED, "--format", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = clearance().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_example_bundle_decides_as_documented() {
    for (bundle, code) in [(ALLOWED, 0), (DENIED, 1), (MISSING, 1)] {
        let out = check(bundle, &[]);
        assert_eq!(out.status.code(), Some(code), "{bundle}");
        assert_no_panic(&out);
    }
}

#[test]
fn waivers_file_applies_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = dir.path().join("waivers.clr");
    std::fs::write(
        &waivers,
        "# owned by the security team\nwaive staging -> prod suites-green until 2026-12-31 reason \"flaky integration suite, QA-7\" owner \"qa@example.com\"\n",
    )
    .unwrap();
    let out = clearance()
        .args([
            "check",
            "tests/runtime/quantifier_over_list.clr",
            "--evidence",
            "tests/runtime/quantifier_over_list.json",
            "--now",
            NOW,
            "--waivers",
        ])
        .arg(&waivers)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[waived, fail]"), "{stdout}");
    assert!(stdout.contains("flaky integration suite, QA-7"));
    assert!(stdout.contains("1 waived"));

    // After the expiry the waiver is ignored and the rule blocks again.
    let out = clearance()
        .args([
            "check",
            "tests/runtime/quantifier_over_list.clr",
            "--evidence",
            "tests/runtime/quantifier_over_list.json",
            "--now",
            "2027-01-01T00:00:00Z",
            "--waivers",
        ])
        .arg(&waivers)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("expired (2026-12-31)"));
    // The last instant of the expiry day (UTC) is still covered.
    let out = clearance()
        .args([
            "check",
            "tests/runtime/quantifier_over_list.clr",
            "--evidence",
            "tests/runtime/quantifier_over_list.json",
            "--now",
            "2026-12-31T23:59:59Z",
            "--waivers",
        ])
        .arg(&waivers)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn waivers_file_for_an_unknown_rule_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = dir.path().join("waivers.clr");
    std::fs::write(
        &waivers,
        "waive staging -> prod suites-gren until 2026-12-31 reason \"x\"\n",
    )
    .unwrap();
    let out = clearance()
        .args([
            "check",
            "tests/runtime/quantifier_over_list.clr",
            "--evidence",
            "tests/runtime/quantifier_over_list.json",
            "--waivers",
        ])
        .arg(&waivers)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `suites-green`?"));
    std::fs::write(&waivers, "let x = 1\n").unwrap();
    let out = clearance()
        .args([
            "check",
            "tests/runtime/quantifier_over_list.clr",
            "--evidence",
            "tests/runtime/quantifier_over_list.json",
            "--waivers",
        ])
        .arg(&waivers)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("may only hold `waive` lines"));
}

#[test]
fn imports_across_directories() {
    // policies/payments/policy.clr imports shared/common.clr (stages and a def).
    let out = check(ALLOWED, &[]);
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("team/lib")).unwrap();
    std::fs::write(
        dir.path().join("team/lib/base.clr"),
        "import \"../limits/numbers.clr\"\nstages ci -> prod\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("team/limits")).unwrap();
    std::fs::write(
        dir.path().join("team/limits/numbers.clr"),
        "param floor = 80\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("team/policy.clr"),
        "import \"lib/base.clr\"\ngate ci -> prod { rule cov { require evidence.coverage >= floor } }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("e.json"), r#"{"coverage": 85}"#).unwrap();
    let out = clearance()
        .arg("check")
        .arg(dir.path().join("team/policy.clr"))
        .arg("--evidence")
        .arg(dir.path().join("e.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn imports_may_not_escape_the_policy_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("policy");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(dir.path().join("outside.clr"), "param secret = 1\n").unwrap();
    std::fs::write(dir.path().join("e.json"), "{}").unwrap();
    let absolute = dir.path().join("outside.clr");
    let cases = [
        ("dotdot.clr", "import \"../outside.clr\"\n".to_string()),
        (
            "absolute.clr",
            format!("import \"{}\"\n", absolute.display()),
        ),
        ("symlink.clr", "import \"link.clr\"\n".to_string()),
    ];
    #[cfg(unix)]
    std::os::unix::fs::symlink(&absolute, root.join("link.clr")).unwrap();
    for (name, text_) in cases {
        let policy = root.join(name);
        std::fs::write(
            &policy,
            format!("{text_}stages a -> b\ngate a -> b {{ rule r {{ require true }} }}\n"),
        )
        .unwrap();
        let out = clearance()
            .arg("check")
            .arg(&policy)
            .arg("--evidence")
            .arg(dir.path().join("e.json"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            text(&out.stderr).contains("leaves the directory"),
            "{name}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn rollback_fires_and_holds() {
    let run = |metrics: &str, extra: &[&str]| {
        let mut args = vec![
            "rollback",
            POLICY,
            "--stage",
            "prod",
            "--evidence",
            metrics,
            "--now",
            NOW,
        ];
        args.extend_from_slice(extra);
        clearance().args(&args).output().unwrap()
    };
    let out = run("policies/payments/metrics/firing.json", &[]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("rollback_firing", text(&out.stdout));
    let out = run("policies/payments/metrics/healthy.json", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("stay: prod (0 of 4 rollback triggers fired)"));
    let out = run(
        "policies/payments/metrics/firing.json",
        &["--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decision"], "rollback");
    assert_eq!(report["command"], "rollback");
    // A stage without triggers, or an unknown stage, is no decision.
    let out = clearance()
        .args([
            "rollback",
            POLICY,
            "--stage",
            "staging",
            "--evidence",
            "policies/payments/metrics/firing.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("declares no rollback triggers"));
    let out = clearance()
        .args([
            "rollback",
            POLICY,
            "--stage",
            "prd",
            "--evidence",
            "policies/payments/metrics/firing.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `prod`?"));
}

#[test]
fn missing_metrics_fire_the_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.json");
    std::fs::write(
        &metrics,
        r#"{"metrics": {"error_rate": 0.001}, "health_checks": []}"#,
    )
    .unwrap();
    let out = clearance()
        .args([
            "rollback",
            POLICY,
            "--stage",
            "prod",
            "--now",
            NOW,
            "--evidence",
        ])
        .arg(&metrics)
        .output()
        .unwrap();
    // p99_ms and cpu_utilization are missing: those triggers cannot be evaluated, so they fire.
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("[error]"));
}

fn test_cmd(args: &[&str]) -> std::process::Output {
    clearance().arg("test").args(args).output().unwrap()
}

#[test]
fn test_command_passes_the_shipped_suite_with_full_coverage() {
    let out = test_cmd(&["policies", "--coverage", "--coverage-min", "100"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("rule coverage: 25 of 25 rules seen passing and failing (100.0%)"));
    assert!(stdout.trim_end().ends_with("0 failed"));
}

#[test]
fn a_failing_case_shows_what_differed_and_why() {
    let out = test_cmd(&["tests/testfiles/failing.test.toml"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("test_failing_case", text(&out.stdout));
}

#[test]
fn test_filter_and_coverage_minimum() {
    let out = test_cmd(&[
        "tests/testfiles/failing.test.toml",
        "--filter",
        "floor fails",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("1 passed, 0 failed"));
    let out = test_cmd(&[
        "tests/testfiles/failing.test.toml",
        "--filter",
        "floor fails",
        "--coverage-min",
        "100",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the rule was never seen passing"
    );
    assert!(text(&out.stderr).contains("below the minimum"));
}

#[test]
fn broken_test_files_exit_2_naming_file_case_and_position() {
    let out = test_cmd(&["tests/testfiles/malformed.test.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("malformed.test.toml` at 6:1"), "{err}");
    assert!(err.contains("unknown_key"), "{err}");
    let out = test_cmd(&["tests/testfiles/bad_patch.test.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("case `patch to a path that does not exist`"),
        "{err}"
    );
    assert!(err.contains("patch does not apply"), "{err}");
    // A ledger fixture is checked for the shape `ledger` has.
    let out = test_cmd(&["tests/testfiles/bad_ledger.test.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("decision 0 has no `verdict`"),
        "{}",
        text(&out.stderr)
    );
    let out = test_cmd(&["tests/testfiles/missing_fixture.test.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no-such-fixture.json"));
    assert_no_panic(&out);
    // A misspelt expectation is a broken file (2), not a failing case (1).
    let out = test_cmd(&["tests/testfiles/misspelt_expect.test.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("`expect = \"alowed\"` is not a decision"),
        "{err}"
    );
    assert!(err.contains("\"allowed\" or \"denied\""), "{err}");
    let out = test_cmd(&["tests/testfiles/misspelt_outcome.test.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not an outcome"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn junit_output_reads_back() {
    let out = test_cmd(&["tests/testfiles/failing.test.toml", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let report = quick_junit::Report::deserialize_from_str(&text(&out.stdout)).unwrap();
    let suite = &report.test_suites[0];
    assert_eq!(suite.test_cases.len(), 3);
    assert_eq!(report.failures, 1);
    let failed = suite
        .test_cases
        .iter()
        .find(|c| c.name.as_str().contains("wrongly"))
        .unwrap();
    assert!(matches!(
        failed.status,
        quick_junit::TestCaseStatus::NonSuccess { .. }
    ));
}

#[test]
fn batch_decides_many_bundles_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(ALLOWED, dir.path().join("a.json")).unwrap();
    std::fs::copy(DENIED, dir.path().join("b.json")).unwrap();
    std::fs::copy(ALLOWED, dir.path().join("c.json")).unwrap();
    let run = |extra: &[&str]| {
        clearance()
            .args(["batch", POLICY, "--gate", "staging->prod", "--now", NOW])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["--jobs", "2"]);
    assert_eq!(out.status.code(), Some(1), "the worst decision is denied");
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0]["file"].as_str().unwrap().ends_with("a.json"));
    assert_eq!(lines[0]["decision"], "allowed");
    assert_eq!(lines[1]["decision"], "denied");
    assert!(lines[1]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "same-artifact"));
    assert_eq!(lines[2]["decision"], "allowed");
    assert_eq!(
        run(&["--jobs", "1"]).stdout,
        out.stdout,
        "the same lines whatever the number of workers"
    );
    std::fs::write(dir.path().join("d.json"), "{ not json").unwrap();
    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bundle that cannot be decided makes the batch exit 2"
    );
    let last: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert!(last["error"]
        .as_str()
        .unwrap()
        .contains("invalid evidence JSON"));
    std::fs::remove_file(dir.path().join("d.json")).unwrap();
    std::fs::remove_file(dir.path().join("b.json")).unwrap();
    assert_eq!(run(&[]).status.code(), Some(0));
}

/// `batch` decides on the compiled fast path without explaining; `check`
/// explains. Both must agree on every decision, outcome and summary.
#[test]
fn batch_agrees_with_check_on_every_example() {
    let cases: &[(&str, &str, &[&str])] = &[
        (POLICY, "staging->prod", &[ALLOWED, DENIED, MISSING]),
        (POLICY, "dev->staging", &[ALLOWED, DENIED, MISSING]),
        (
            "policies/bench/workload.clr",
            "staging->prod",
            &[
                "tests/data/workload/small-allowed.json",
                "tests/data/workload/small-denied.json",
            ],
        ),
    ];
    for (policy, gate, bundles) in cases {
        let out = clearance()
            .args(["batch", policy, "--gate", gate, "--now", NOW])
            .args(*bundles)
            .output()
            .unwrap();
        let lines: Vec<serde_json::Value> = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), bundles.len());
        for (line, bundle) in lines.iter().zip(bundles.iter()) {
            let check = clearance()
                .args(["check", policy, "--gate", gate, "--now", NOW])
                .args(["--evidence", bundle, "--format", "json"])
                .output()
                .unwrap();
            let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
            let names = |outcome: &str| -> Vec<serde_json::Value> {
                report["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["outcome"] == outcome && r["blocking"] == true)
                    .map(|r| r["name"].clone())
                    .collect()
            };
            let what = format!("{policy} {gate} {bundle}");
            assert_eq!(line["decision"], report["decision"], "{what}");
            assert_eq!(line["summary"], report["summary"], "{what}");
            assert_eq!(line["failed"].as_array().unwrap(), &names("fail"), "{what}");
            assert_eq!(
                line["errors"].as_array().unwrap(),
                &names("error"),
                "{what}"
            );
        }
    }
}

#[test]
fn policy_with_bom_and_crlf_is_read_with_correct_positions() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.clr");
    std::fs::write(
        &policy,
        "\u{FEFF}stages a -> b\r\ngate a -> b {\r\n  rule r {\r\n    require evidence.x == 1\r\n  }\r\n}\r\n",
    )
    .unwrap();
    let ev = dir.path().join("e.json");
    std::fs::write(&ev, r#"{"x": 2}"#).unwrap();
    let out = clearance()
        .arg("check")
        .arg(&policy)
        .arg("--evidence")
        .arg(&ev)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let loc = &report["rules"][0]["problems"][0]["location"];
    assert_eq!(loc["line"], 4);
    assert_eq!(loc["column"], 13);
}

#[test]
fn a_reader_that_goes_away_ends_the_run_quietly() {
    // `clearance batch ... | head -1`: more output than a pipe buffers, and a
    // reader that closes at once. No panic, no decision (exit 2).
    let dir = tempfile::tempdir().unwrap();
    for i in 0..400 {
        std::fs::copy(DENIED, dir.path().join(format!("b{i:03}.json"))).unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("clearance"))
        .args(["batch", POLICY, "--gate", "staging->prod", "--now", NOW])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(out.status.code(), Some(2));
}
