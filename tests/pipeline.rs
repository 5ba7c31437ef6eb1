//! One decision pipeline: every subcommand reads evidence through the same
//! reader and decides through the same driver, under the same limits.
//! Regressions for what was different between them.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

const NOW: &str = "2026-11-20T12:00:00Z";

fn run_in(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const POLICY: &str =
    "stages a -> b\ngate a -> b {\n  rule r {\n    require evidence.x == 1\n  }\n}\n";

fn project(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.clr"), POLICY).unwrap();
    std::fs::write(dir.path().join("fixture.json"), fixture).unwrap();
    std::fs::write(
        dir.path().join("p.test.toml"),
        "policy = \"p.clr\"\n[defaults]\ngate = \"a -> b\"\nevidence = \"fixture.json\"\n\n[[case]]\nname = \"x is one\"\nexpect = \"allowed\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn test_fixtures_are_read_as_check_reads_evidence() {
    // serde_json keeps the last of two equal keys; the evidence reader
    // refuses them. A fixture `check` refuses must not pass in `test`.
    let dir = project(r#"{"x": 2, "x": 1}"#);
    let check = run_in(
        dir.path(),
        &["check", "p.clr", "--evidence", "fixture.json", "--now", NOW],
    );
    assert_eq!(check.status.code(), Some(2), "{}", stderr(&check));
    let test = run_in(dir.path(), &["test", "p.test.toml"]);
    assert_eq!(test.status.code(), Some(2), "{}", stderr(&test));
    assert!(stderr(&test).contains("duplicate"), "{}", stderr(&test));
    assert!(stderr(&check).contains("duplicate"), "{}", stderr(&check));
}

/// A policy test over a JUnit XML fixture reads it with the JUnit reader,
/// and a patch applies to the shape rules see (not to the XML text).
#[test]
fn test_fixtures_in_yaml_and_junit_are_read_and_patched_in_their_shape() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("tests/data/corpus/junit/surefire-flaky.xml"),
        dir.path().join("report.xml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("config.yaml"), "replicas: 3\n").unwrap();
    std::fs::write(
        dir.path().join("p.clr"),
        "stages a -> b\ngate a -> b {\n  rule green {\n    require evidence.failures == 0\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("y.clr"),
        "stages a -> b\ngate a -> b {\n  rule three {\n    require evidence.replicas == 3\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("p.test.toml"),
        r#"policy = "p.clr"
[defaults]
gate = "a -> b"
evidence = "report.xml"

[[case]]
name = "the report has a failing case"
expect = "denied"

[[case]]
name = "with the failure fixed"
patch = [
  { op = "replace", path = "/failures", value = 0 },
]
expect = "allowed"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("y.test.toml"),
        "policy = \"y.clr\"\n[defaults]\ngate = \"a -> b\"\nevidence = \"config.yaml\"\n\n[[case]]\nname = \"three\"\nexpect = \"allowed\"\n",
    )
    .unwrap();
    for file in ["p.test.toml", "y.test.toml"] {
        let out = run_in(dir.path(), &["test", file]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
    }
}

#[test]
fn test_applies_the_limit_flags() {
    let dir = project(r#"{"x": 1}"#);
    let ok = run_in(dir.path(), &["test", "p.test.toml"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    // One step is not enough to read `evidence.x`: the rule errors, the
    // case expecting `allowed` fails, as `check --max-steps 1` would deny.
    let starved = run_in(dir.path(), &["test", "p.test.toml", "--max-steps", "1"]);
    assert_eq!(
        starved.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&starved.stdout)
    );
    let check = run_in(
        dir.path(),
        &[
            "check",
            "p.clr",
            "--evidence",
            "fixture.json",
            "--now",
            NOW,
            "--max-steps",
            "1",
        ],
    );
    assert_eq!(check.status.code(), Some(1));
    // Evidence and policy limits too.
    let small = run_in(
        dir.path(),
        &["test", "p.test.toml", "--max-evidence-bytes", "3"],
    );
    assert_eq!(small.status.code(), Some(2), "{}", stderr(&small));
    assert!(
        stderr(&small).contains("over the limit"),
        "{}",
        stderr(&small)
    );
    let short = run_in(
        dir.path(),
        &["test", "p.test.toml", "--max-policy-lines", "2"],
    );
    assert_eq!(short.status.code(), Some(2), "{}", stderr(&short));
}

#[test]
fn fmt_applies_the_policy_limits() {
    let dir = project("{}");
    let out = run_in(
        dir.path(),
        &["fmt", "--check", "p.clr", "--max-policy-lines", "2"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("over the limit of 2"),
        "{}",
        stderr(&out)
    );
    let out = run_in(
        dir.path(),
        &["fmt", "--check", "p.clr", "--max-policy-bytes", "10"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run_in(
        dir.path(),
        &["fmt", "--check", "p.clr", "--max-expr-depth", "2"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nested too deeply"),
        "{}",
        stderr(&out)
    );
    // Within the limits it formats (this layout is not canonical: exit 1).
    let out = run_in(dir.path(), &["fmt", "--check", "p.clr"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn devices_are_refused_and_pipes_are_read() {
    let dir = project(r#"{"x": 1}"#);
    for args in [
        vec![
            "check",
            "/dev/zero",
            "--evidence",
            "fixture.json",
            "--now",
            NOW,
        ],
        vec!["check", "p.clr", "--evidence", "/dev/zero", "--now", NOW],
        vec!["check", "p.clr", "--evidence", "x=/dev/zero", "--now", NOW],
        vec!["fmt", "--check", "/dev/zero"],
    ] {
        let out = run_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("device"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // `<(...)` is a pipe: the policy and the evidence can both come from one.
    let bin = assert_cmd::cargo::cargo_bin("clearance");
    let out = std::process::Command::new("bash")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "'{}' check <(cat p.clr) --evidence <(cat fixture.json) --now {NOW}",
            bin.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A pipe longer than the limit stops at the limit instead of reading on.
    let out = std::process::Command::new("bash")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "'{}' check p.clr --evidence <(cat /dev/zero) --now {NOW} --max-evidence-bytes 1000",
            bin.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("over the limit of 1000"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn walkers_visit_each_real_file_once_and_end() {
    let dir = project(r#"{"x": 1}"#);
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    // Two links back to the parent, one to a sibling file, a FIFO and a
    // dangling link: none may make a walk hang or count a file twice.
    std::os::unix::fs::symlink("..", root.join("sub/up1")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up2")).unwrap();
    std::os::unix::fs::symlink("../p.clr", root.join("sub/again.clr")).unwrap();
    std::os::unix::fs::symlink("missing.clr", root.join("sub/dangling.clr")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("sub/pipe.json"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let lint = run_in(root, &["lint", "."]);
    assert!(
        lint.status.code().is_some_and(|c| c < 2),
        "{}",
        stderr(&lint)
    );
    let fmt = run_in(root, &["fmt", "--check", "."]);
    assert_eq!(fmt.status.code(), Some(1), "{}", stderr(&fmt));
    // p.clr once, though three paths lead to it.
    assert_eq!(
        stderr(&fmt).matches("would be reformatted").count(),
        1,
        "{}",
        stderr(&fmt)
    );
    assert!(stderr(&fmt).contains("1 file would"), "{}", stderr(&fmt));
    let test = run_in(root, &["test", "."]);
    assert_eq!(test.status.code(), Some(0), "{}", stderr(&test));
    let batch = run_in(root, &["batch", "p.clr", ".", "--now", NOW]);
    let lines = String::from_utf8_lossy(&batch.stdout).lines().count();
    assert_eq!(lines, 1, "fixture.json once, the FIFO skipped");
}

/// Issue 13 item 10: `clearance test` at a repository's root skips the
/// deliberately broken fixtures its `.gitignore` ignores (in a git
/// repository or not) and those `--exclude` names; a test file named on the
/// command line runs whatever ignores it.
#[test]
fn test_discovery_honours_gitignore_and_exclude() {
    let dir = project(r#"{"x": 1}"#);
    let root = dir.path();
    let broken = "policy = \"missing.clr\"\n[[case]]\nname = \"broken\"\nexpect = \"allowed\"\n";
    for sub in ["ignored", "excluded/deep", "kept"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::write(root.join("ignored/bad.test.toml"), broken).unwrap();
    std::fs::write(root.join("excluded/deep/bad.test.toml"), broken).unwrap();
    std::fs::write(root.join("kept/.gitignore"), "local.test.toml\n").unwrap();
    std::fs::write(root.join("kept/local.test.toml"), broken).unwrap();
    std::fs::write(
        root.join(".gitignore"),
        "# fixtures that must fail\nignored/\n",
    )
    .unwrap();
    let without = run_in(root, &["test", "."]);
    assert_eq!(
        without.status.code(),
        Some(2),
        "the excluded one still runs: {}",
        stderr(&without)
    );
    let out = run_in(root, &["test", ".", "--exclude", "excluded"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("p.test.toml") && !listed.contains("bad"),
        "{listed}"
    );
    let out = run_in(root, &["test", ".", "--exclude", "excluded/**"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Named explicitly, an ignored file runs (and fails here: exit 2).
    let out = run_in(root, &["test", "ignored/bad.test.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run_in(root, &["test", ".", "--exclude", "["]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid --exclude glob"),
        "{}",
        stderr(&out)
    );
}

/// An import or a waivers file that is a FIFO is refused at once: opening
/// a FIFO nobody writes would block forever.
#[test]
fn named_pipes_as_imports_or_waivers_are_refused() {
    let dir = project(r#"{"x": 1}"#);
    let root = dir.path();
    for name in ["lib.clr", "waivers.clr"] {
        let made = std::process::Command::new("mkfifo")
            .arg(root.join(name))
            .status()
            .unwrap();
        assert!(made.success());
    }
    std::fs::write(
        root.join("imports.clr"),
        format!("import \"lib.clr\"\n{POLICY}"),
    )
    .unwrap();
    let out = run_in(
        root,
        &[
            "check",
            "imports.clr",
            "--evidence",
            "fixture.json",
            "--now",
            NOW,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("named pipe"), "{}", stderr(&out));
    let out = run_in(
        root,
        &[
            "check",
            "p.clr",
            "--evidence",
            "fixture.json",
            "--now",
            NOW,
            "--waivers",
            "waivers.clr",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("named pipe"), "{}", stderr(&out));
}

/// Walkers over generated trees: directories, policy files, symlinks to
/// files and to directories anywhere in the tree (loops included). Every
/// walk ends, and each real file is counted exactly once.
mod walker_trees {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Entry {
        Dir,
        File,
        /// A symlink to the entry at this index (modulo the entries made so far).
        Link(usize),
    }

    fn entries() -> impl Strategy<Value = Vec<(usize, Entry)>> {
        // (parent index among the directories so far, what to make)
        prop::collection::vec(
            (
                0usize..8,
                prop_oneof![
                    Just(Entry::Dir),
                    Just(Entry::File),
                    (0usize..16).prop_map(Entry::Link)
                ],
            ),
            1..14,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn every_walk_ends_and_counts_each_real_file_once(tree in entries()) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("root");
            std::fs::create_dir(&root).unwrap();
            let mut dirs = vec![root.clone()];
            let mut made: Vec<std::path::PathBuf> = vec![root.clone()];
            let mut files = 0usize;
            for (i, (parent, entry)) in tree.iter().enumerate() {
                let parent = &dirs[parent % dirs.len()];
                match entry {
                    Entry::Dir => {
                        let p = parent.join(format!("d{i}"));
                        std::fs::create_dir(&p).unwrap();
                        dirs.push(p.clone());
                        made.push(p);
                    }
                    Entry::File => {
                        let p = parent.join(format!("f{i}.clr"));
                        // Not in canonical layout: every real file would be reformatted.
                        std::fs::write(&p, "stages a ->   b\n").unwrap();
                        files += 1;
                        made.push(p);
                    }
                    Entry::Link(target) => {
                        let target = made[target % made.len()].clone();
                        let p = parent.join(format!("l{i}.clr"));
                        std::os::unix::fs::symlink(&target, &p).unwrap();
                        made.push(p);
                    }
                }
            }
            let out = run_in(dir.path(), &["fmt", "--check", "root"]);
            prop_assert!(out.status.code().is_some(), "killed: {}", stderr(&out));
            let err = stderr(&out);
            if files == 0 {
                prop_assert_eq!(out.status.code(), Some(0), "{}", err);
            } else {
                let expected = format!(
                    "{files} file{} would be reformatted",
                    if files == 1 { "" } else { "s" }
                );
                prop_assert!(err.contains(&expected), "{} in:\n{}", expected, err);
            }
            let lint = run_in(dir.path(), &["lint", "root"]);
            prop_assert!(lint.status.code().is_some_and(|c| c < 2), "{}", stderr(&lint));
        }
    }
}

/// Waivers owned by another team: `lint DIR` lints `NAME.waivers.clr` with
/// `NAME.clr`, `lint --waivers FILE` with every policy, and `batch` and
/// `explain` take `--waivers` as `check` does.
#[test]
fn waivers_files_are_first_class() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("p.clr"), POLICY).unwrap();
    std::fs::write(
        root.join("p.waivers.clr"),
        "waive a -> b r until 2026-01-01 reason \"flaky, QA-7\" owner \"qa@example.com\"\n",
    )
    .unwrap();
    std::fs::write(root.join("e.json"), r#"{"x": 2}"#).unwrap();
    let out = run_in(root, &["lint", ".", "--now", NOW, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"CL014"),
        "the expired waiver is found: {codes:?}\n{}",
        stderr(&out)
    );
    assert_eq!(
        report["summary"]["files"], 1,
        "the waivers file is not a policy"
    );
    // The same file passed by name, from elsewhere.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("p.waivers.clr"), other.path().join("qa.clr")).unwrap();
    std::fs::remove_file(root.join("p.waivers.clr")).unwrap();
    let qa = other.path().join("qa.clr");
    let qa = qa.to_str().unwrap();
    let out = run_in(
        root,
        &[
            "lint",
            "p.clr",
            "--waivers",
            qa,
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "CL014"));
    // A waivers file without its policy is refused with the convention named.
    std::fs::write(
        root.join("lost.waivers.clr"),
        "waive a -> b r until 2099-01-01 reason \"x, Q-1\"\n",
    )
    .unwrap();
    let out = run_in(root, &["lint", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("NAME.waivers.clr"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(root.join("lost.waivers.clr")).unwrap();
    // batch and explain apply --waivers (a waiver in force turns the failure into waived).
    std::fs::write(
        other.path().join("now.clr"),
        "waive a -> b r until 2099-01-01 reason \"accepted, QA-8\"\n",
    )
    .unwrap();
    let now_waivers = other.path().join("now.clr");
    let now_waivers = now_waivers.to_str().unwrap();
    let out = run_in(root, &["batch", "p.clr", "e.json", "--now", NOW]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_in(
        root,
        &[
            "batch",
            "p.clr",
            "e.json",
            "--now",
            NOW,
            "--waivers",
            now_waivers,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run_in(
        root,
        &["explain", "p.clr", "--now", NOW, "--waivers", now_waivers],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("accepted, QA-8"));
}
