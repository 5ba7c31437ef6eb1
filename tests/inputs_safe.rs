//! The two classes of defect that matter most, run through the real binary:
//! a waiver that turns a denial into an allow from where it must not
//! (fail-open), and an output or a format that destroys a user's file.
//! Each case works on a copy of the example policy in a temporary directory.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;

const NOW: &str = "2026-11-20T12:00:00Z";

fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("clearance").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(args)
        .timeout(std::time::Duration::from_secs(30));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A copy of policies/payments in a fresh directory.
fn payments() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/payments");
    copy_tree(&src, dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Every file under `dir` with its bytes, to compare before and after.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let ty = entry.file_type().unwrap();
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file() {
                out.push((entry.path(), std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn check_args(output: &str) -> Vec<&str> {
    vec![
        "check",
        "policy.clr",
        "--evidence",
        "evidence/denied.json",
        "--gate",
        "staging->prod",
        "--now",
        NOW,
        "--output",
        output,
    ]
}

#[test]
fn outputs_never_replace_an_input() {
    let dir = payments();
    let root = dir.path();
    std::os::unix::fs::symlink(root.join("evidence/denied.json"), root.join("link.json")).unwrap();
    std::fs::hard_link(root.join("policy.clr"), root.join("hard.clr")).unwrap();
    std::fs::write(
        root.join("waivers.clr"),
        "waive staging -> prod suites-green until 2099-01-01 reason \"flaky, QA-7\"\n",
    )
    .unwrap();
    let cases = [
        ("the policy", "json=policy.clr"),
        ("the policy through ..", "json=evidence/../policy.clr"),
        (
            "the policy by absolute path",
            &format!("sarif={}", root.join("policy.clr").display()),
        ),
        ("the policy through a hard link", "json=hard.clr"),
        ("an import", "markdown=shared/common.clr"),
        ("the evidence", "json=evidence/denied.json"),
        ("the evidence through a symlink", "junit=link.json"),
    ];
    for (what, output) in cases {
        let before = snapshot(root);
        let out = run_in(root, &check_args(output), &[]);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{what}: a decision was printed");
        assert!(
            stderr(&out).contains("would destroy it"),
            "{what}: {}",
            stderr(&out)
        );
        assert_eq!(before, snapshot(root), "{what}: a file changed");
    }
    // The waivers file is an input too.
    let before = snapshot(root);
    let mut args = check_args("json=waivers.clr");
    args.extend(["--waivers", "waivers.clr"]);
    let out = run_in(root, &args, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(before, snapshot(root));
}

#[test]
fn outputs_appear_only_with_a_decision() {
    let dir = payments();
    let root = dir.path();
    // The decision is reached, then writing it to standard output fails
    // (a full disk): exit 2, and the report file must not exist.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("clearance"))
        .current_dir(root)
        .env("NO_COLOR", "1")
        .args(check_args("json=report.json"))
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        !root.join("report.json").exists(),
        "a report was left behind"
    );
    let leftovers: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("clearance-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Two outputs naming one file would lose the first: refused.
    let mut args = check_args("json=report.json");
    args.extend(["--output", "sarif=./report.json"]);
    let out = run_in(root, &args, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!root.join("report.json").exists());

    // An unwritable step summary is a warning, not a lost decision.
    std::fs::create_dir(root.join("summary-dir")).unwrap();
    let mut args = check_args("json=report.json");
    args.extend(["--format", "github"]);
    let summary = root.join("summary-dir");
    let out = run_in(
        root,
        &args,
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: cannot append the summary"),
        "{}",
        stderr(&out)
    );
    assert!(root.join("report.json").exists());
    std::fs::remove_file(root.join("report.json")).unwrap();

    // With a decision the file is written, through a symlink to its target.
    std::fs::write(root.join("real.json"), "old").unwrap();
    std::os::unix::fs::symlink("real.json", root.join("report-link.json")).unwrap();
    let out = run_in(root, &check_args("json=report-link.json"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(root.join("report-link.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the symlink was replaced");
    let written = std::fs::read_to_string(root.join("real.json")).unwrap();
    assert!(written.contains("\"decision\": \"denied\""), "{written}");
}

#[test]
fn a_waiver_in_an_import_is_refused() {
    let dir = payments();
    let root = dir.path();
    // Without it the gate denies (exit 1): an import that waives the failing
    // rule must not turn that into an allow.
    let common = root.join("shared/common.clr");
    let mut text = std::fs::read_to_string(&common).unwrap();
    text.push_str("\nwaive staging -> prod suites-green until 2099-01-01 reason \"trust me\"\n");
    std::fs::write(&common, text).unwrap();
    let out = run_in(
        root,
        &[
            "check",
            "policy.clr",
            "--evidence",
            "evidence/denied.json",
            "--gate",
            "staging->prod",
            "--now",
            NOW,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("imported file `shared/common.clr` declares a waiver"),
        "{err}"
    );
    assert!(err.contains("shared/common.clr:"), "no line named: {err}");
}

#[test]
fn fmt_keeps_read_only_files_symlinks_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let messy = "stages a -> b\ngate a -> b {\n  rule r {\n  require true\n  }\n}\n";

    // Read-only: refused, untouched.
    let ro = root.join("ro.clr");
    std::fs::write(&ro, messy).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&ro, perms).unwrap();
    let out = run_in(root, &["fmt", "ro.clr"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), messy);

    // A symlink: its target is formatted, the link stays a link.
    std::fs::create_dir(root.join("real")).unwrap();
    std::fs::write(root.join("real/p.clr"), messy).unwrap();
    std::os::unix::fs::symlink("real/p.clr", root.join("link.clr")).unwrap();
    let out = run_in(root, &["fmt", "link.clr"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::symlink_metadata(root.join("link.clr")).unwrap();
    assert!(meta.file_type().is_symlink(), "the symlink was replaced");
    let formatted = std::fs::read_to_string(root.join("real/p.clr")).unwrap();
    assert!(formatted.contains("\n    require true\n"), "{formatted}");

    // A repeated singular clause would lose text: refused, untouched.
    for (clause, text) in [
        (
            "title",
            "stages a -> b\ngate a -> b {\n  rule r {\n    title \"one\"\n    title \"two\"\n    require true\n  }\n}\n",
        ),
        (
            "help",
            "stages a -> b\ngate a -> b {\n  rule r {\n    help \"one\"\n    help \"two\"\n    require true\n  }\n}\n",
        ),
        (
            "purpose",
            "stages a -> b\nstage b {\n  purpose \"one\"\n  purpose \"two\"\n}\n",
        ),
        (
            "owner",
            "waive a -> b r until 2099-01-01 reason \"x\" owner \"ann\" owner \"bo\"\n",
        ),
    ] {
        let path = root.join(format!("dup_{clause}.clr"));
        std::fs::write(&path, text).unwrap();
        let out = run_in(root, &["fmt", path.file_name().unwrap().to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2), "{clause}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("a second `{clause}`")),
            "{clause}: {}",
            stderr(&out)
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{clause}");
    }
}
