//! The cookbook's recipes are real: each policy in docs/cookbook.md is the
//! file in policies/cookbook/, and its bundles decide as runs.json says.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use std::path::Path;

#[derive(serde::Deserialize)]
struct Runs {
    command: String,
    /// Commands run first, in a fresh directory (a ledger to record into):
    /// `{ledger}` is a new SQLite ledger there, `{dir}` the recipe.
    #[serde(default)]
    setup: Vec<Vec<String>>,
    runs: Vec<Run>,
}

fn substitute(arg: &str, dir: &Path, ledger: &Path) -> String {
    arg.replace("{dir}", &dir.display().to_string())
        .replace("{ledger}", &ledger.display().to_string())
}

#[derive(serde::Deserialize)]
struct Run {
    evidence: Evidence,
    /// More arguments (`--param NAME=VALUE`), as a user would pass them.
    #[serde(default)]
    args: Vec<String>,
    now: String,
    exit: i32,
}

/// One bundle, or `NAME=FILE` mounts (paths relative to the recipe).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Evidence {
    One(String),
    Mounts(Vec<String>),
}

#[test]
fn every_recipe_decides_as_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cookbook = std::fs::read_to_string(root.join("docs/cookbook.md")).unwrap();
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("policies/cookbook"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 20, "the cookbook has {} recipes", dirs.len());
    for dir in dirs {
        let policy = dir.join("policy.clr");
        let text = std::fs::read_to_string(&policy).unwrap();
        assert!(
            cookbook.contains(text.trim_end()),
            "docs/cookbook.md does not show {} as it is",
            policy.display()
        );
        let runs: Runs =
            serde_json::from_str(&std::fs::read_to_string(dir.join("runs.json")).unwrap()).unwrap();
        assert!(runs.runs.iter().any(|r| r.exit == 0) && runs.runs.iter().any(|r| r.exit == 1));
        let scratch = tempfile::tempdir().unwrap();
        let ledger = scratch.path().join("ledger.db");
        for step in &runs.setup {
            let args: Vec<String> = step.iter().map(|a| substitute(a, &dir, &ledger)).collect();
            let out = Command::cargo_bin("clearance")
                .unwrap()
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "setup {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for run in runs.runs {
            let extra: Vec<String> = run
                .args
                .iter()
                .map(|a| substitute(a, &dir, &ledger))
                .collect();
            let mut cmd = Command::cargo_bin("clearance").unwrap();
            cmd.env("NO_COLOR", "1").arg(&runs.command).arg(&policy);
            if runs.command == "rollback" {
                cmd.args(["--stage", "prod"]);
            }
            let evidence = match &run.evidence {
                Evidence::One(file) => vec![dir.join(file).display().to_string()],
                Evidence::Mounts(mounts) => mounts
                    .iter()
                    .map(|m| {
                        let (name, file) = m.split_once('=').unwrap();
                        format!("{name}={}", dir.join(file).display())
                    })
                    .collect(),
            };
            for e in &evidence {
                cmd.arg("--evidence").arg(e);
            }
            let out = cmd.args(&extra).args(["--now", &run.now]).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(run.exit),
                "{} with {:?} {:?}:\n{}{}",
                policy.display(),
                evidence,
                run.args,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
