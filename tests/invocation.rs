//! The decision record's `command` re-runs the decision: for every example
//! bundle, under default and non-default flags (limits, params, waivers,
//! strict evidence), running the recorded command gives a byte-identical
//! report and the same exit status.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

const NOW: &str = "2026-11-20T12:00:00Z";

fn clearance(args: &[String]) -> Output {
    assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

/// Runs the recorded shell command (with `clearance` the binary under test).
fn rerun(command: &str) -> Output {
    let rest = command
        .strip_prefix("clearance ")
        .unwrap_or_else(|| panic!("not a clearance command: {command}"));
    let bin = assert_cmd::cargo::cargo_bin("clearance");
    std::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(format!("'{}' {rest} --format json", bin.display()))
        .output()
        .unwrap()
}

/// (command, policy, target flag and value, bundles)
fn examples() -> Vec<(String, String, [String; 2], Vec<String>)> {
    let mut out = Vec::new();
    let payments: Vec<String> = ["allowed", "denied", "missing-evidence"]
        .iter()
        .map(|b| format!("policies/payments/evidence/{b}.json"))
        .collect();
    for gate in ["staging->prod", "dev->staging"] {
        out.push((
            "check".into(),
            "policies/payments/policy.clr".into(),
            ["--gate".into(), gate.into()],
            payments.clone(),
        ));
    }
    out.push((
        "rollback".into(),
        "policies/payments/policy.clr".into(),
        ["--stage".into(), "prod".into()],
        vec![
            "policies/payments/metrics/healthy.json".into(),
            "policies/payments/metrics/firing.json".into(),
        ],
    ));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/cookbook");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    for d in dirs {
        let runs: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(&d).join("runs.json")).unwrap(),
        )
        .unwrap();
        let command = runs["command"].as_str().unwrap().to_string();
        let target = if command == "rollback" {
            ["--stage".to_string(), "prod".to_string()]
        } else {
            ["--gate".to_string(), "staging->prod".to_string()]
        };
        let bundles = ["pass.json", "fail.json"]
            .iter()
            .map(|b| format!("policies/cookbook/{d}/{b}"))
            .collect();
        out.push((
            command,
            format!("policies/cookbook/{d}/policy.clr"),
            target,
            bundles,
        ));
    }
    out
}

#[test]
fn the_recorded_command_reproduces_the_report() {
    let flag_sets: &[&[&str]] = &[
        &[],
        &["--max-steps", "5"],
        &["--max-evidence-depth", "3"],
        &["--max-string-bytes", "8", "--max-regex-bytes", "100000"],
        &["--max-policy-lines", "30"],
        &["--max-expr-depth", "12", "--max-evidence-bytes", "100000"],
    ];
    let mut compared = 0;
    let mut changed_by_flags = 0;
    for (command, policy, target, bundles) in examples() {
        for bundle in &bundles {
            let mut baseline = None;
            for flags in flag_sets {
                let mut args: Vec<String> = vec![command.clone(), policy.clone()];
                args.extend(target.iter().cloned());
                args.extend([
                    "--now".into(),
                    NOW.into(),
                    "--evidence".into(),
                    bundle.clone(),
                ]);
                args.extend(flags.iter().map(|f| f.to_string()));
                args.extend(["--format".into(), "json".into()]);
                let first = clearance(&args);
                let what = args.join(" ");
                let code = first.status.code();
                if code == Some(2) {
                    // No decision, so no record: a limit refused the input.
                    assert!(first.stdout.is_empty(), "{what}");
                    continue;
                }
                let report: serde_json::Value =
                    serde_json::from_slice(&first.stdout).unwrap_or_else(|e| panic!("{what}: {e}"));
                let recorded = report["record"]["command"].as_str().unwrap();
                for pair in flags.chunks(2) {
                    assert!(
                        recorded.contains(&pair.join(" ")),
                        "{what}: the record lacks {pair:?}: {recorded}"
                    );
                }
                let again = rerun(recorded);
                assert_eq!(again.status.code(), code, "{what}\nre-run: {recorded}");
                assert_eq!(
                    String::from_utf8_lossy(&again.stdout),
                    String::from_utf8_lossy(&first.stdout),
                    "{what}\nre-run: {recorded}"
                );
                compared += 1;
                match &baseline {
                    None => baseline = Some(first.stdout.clone()),
                    Some(b) if *b != first.stdout => changed_by_flags += 1,
                    Some(_) => {}
                }
            }
        }
    }
    assert!(compared >= 100, "only {compared} reports compared");
    // The flags must matter somewhere, or this test proves nothing about them.
    assert!(changed_by_flags > 0);
}

#[test]
fn params_waivers_and_strict_evidence_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = dir.path().join("waivers.clr");
    std::fs::write(
        &waivers,
        "waive staging -> prod suites-green until 2099-01-01 reason \"flaky suite, QA-7\"\n",
    )
    .unwrap();
    let args: Vec<String> = [
        "check",
        "policies/payments/policy.clr",
        "--gate",
        "staging->prod",
        "--now",
        NOW,
        "--evidence",
        "policies/payments/evidence/denied.json",
        "--param",
        "min_coverage=50",
        "--param",
        "soak=1h",
        "--waivers",
        waivers.to_str().unwrap(),
        "--strict-evidence",
        "--max-steps",
        "1000000",
        "--format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let first = clearance(&args);
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let recorded = report["record"]["command"].as_str().unwrap();
    for needle in [
        "--param min_coverage=50",
        "--param soak=1h",
        "--waivers",
        "--strict-evidence",
        "--max-steps 1000000",
    ] {
        assert!(recorded.contains(needle), "{needle} missing: {recorded}");
    }
    let again = rerun(recorded);
    assert_eq!(again.status.code(), first.status.code());
    assert_eq!(again.stdout, first.stdout);
}
