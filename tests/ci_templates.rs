//! The copy-paste CI jobs in docs/ci/ cannot rot: their `clearance`
//! commands are read from the YAML (with Clearance's own YAML reader) and run
//! as the jobs run them, with the jobs' variables, and what they write is
//! read back (the JUnit reports with the JUnit reader, the SARIF as JSON).

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::evidence::{self, Source};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &Path) -> serde_json::Value {
    let source = Source::File {
        mount: None,
        path: path.to_path_buf(),
    };
    let (value, _) = evidence::load(&[source], &clearance::limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    value.to_json()
}

/// Runs the job's `clearance` commands in a fresh directory, as its shell
/// would, with its variables (paths resolved against the repository, the
/// checkout a job runs in) and the binary under test first on PATH.
fn run_job(name: &str, variables: &serde_json::Value, commands: &[String]) -> tempfile::TempDir {
    assert!(commands.len() >= 2, "{name}: {commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let bin = assert_cmd::cargo::cargo_bin("clearance");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for command in commands {
        let mut shell = std::process::Command::new("bash");
        shell
            .current_dir(work)
            .args(["-e", "-c", command])
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("GITHUB_STEP_SUMMARY", work.join("summary.md"));
        for (key, value) in variables.as_object().unwrap() {
            let value = value.as_str().unwrap();
            let resolved = root().join(value);
            let value = if resolved.exists() {
                resolved.display().to_string()
            } else {
                value.to_string()
            };
            shell.env(key, value);
        }
        let out = shell.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: `{command}`:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

fn junit_report(path: &Path) -> serde_json::Value {
    let report = yaml(path);
    assert!(
        report["tests"].as_i64().unwrap() > 0,
        "{}: no tests",
        path.display()
    );
    assert_eq!(report["failures"], 0, "{}", path.display());
    report
}

#[test]
fn the_github_actions_job_runs_as_written() {
    let workflow = yaml(&root().join("docs/ci/github-actions.yml"));
    let steps = workflow["jobs"]["clearance"]["steps"].as_array().unwrap();
    let commands: Vec<String> = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .filter(|r| r.starts_with("clearance "))
        .map(str::to_string)
        .collect();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(uses
        .iter()
        .any(|u| u.starts_with("github/codeql-action/upload-sarif")));
    let dir = run_job("github-actions.yml", &workflow["env"], &commands);
    let work = dir.path();
    junit_report(&work.join("clearance-tests.xml"));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("clearance.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(std::fs::read_to_string(work.join("summary.md"))
        .unwrap()
        .contains("allowed"));
}

#[test]
fn the_gitlab_ci_job_runs_as_written() {
    let pipeline = yaml(&root().join("docs/ci/gitlab-ci.yml"));
    let job = &pipeline["clearance"];
    let commands: Vec<String> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(
        commands.iter().all(|c| c.starts_with("clearance ")),
        "{commands:?}"
    );
    let dir = run_job("gitlab-ci.yml", &job["variables"], &commands);
    let work = dir.path();
    let reports = job["artifacts"]["reports"]["junit"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    for report in reports {
        junit_report(&work.join(report.as_str().unwrap()));
    }
}

/// The Kyverno policy docs/signing.md shows is the file in docs/ci/, it
/// parses, and it requires what Clearance's summary holds: the VSA
/// predicate type, `PASSED`, the default verifier id and a level.
#[test]
fn the_kyverno_policy_is_the_documented_one_and_checks_the_summary_fields() {
    let file = std::fs::read_to_string(root().join("docs/ci/kyverno-require-vsa.yaml")).unwrap();
    let doc = std::fs::read_to_string(root().join("docs/signing.md")).unwrap();
    assert!(
        doc.contains(&format!("```yaml\n{file}```")),
        "docs/signing.md shows another policy"
    );
    let policy = yaml(&root().join("docs/ci/kyverno-require-vsa.yaml"));
    let check = &policy["spec"]["rules"][0]["verifyImages"][0]["attestations"][0];
    assert_eq!(check["type"], clearance::sign::VSA_PREDICATE);
    let conditions = check["conditions"][0]["all"].as_array().unwrap();
    let wanted: Vec<(&str, &str)> = conditions
        .iter()
        .map(|c| (c["key"].as_str().unwrap(), c["value"].as_str().unwrap()))
        .collect();
    assert!(wanted.contains(&("{{ verificationResult }}", "PASSED")));
    assert!(wanted.contains(&("{{ verifier.id }}", clearance::sign::DEFAULT_VERIFIER_ID)));
}
