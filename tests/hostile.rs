//! The hostile-input corpus (tests/hostile/): malformed policies, malformed or
//! hostile evidence, and argument combinations, run through the real binary.
//! Exit 2 with a diagnostic naming the file and position (or a documented
//! decision for valid-but-odd input); never a panic, never a hang.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;

const NOW: &str = "2026-11-20T12:00:00Z";

/// Address space allowed to every run: a regression that reads or builds
/// without bound fails here (killed, or an allocation error) instead of
/// exhausting the machine. The hostile inputs need well under 1 GiB.
const MEMORY_LIMIT: &str = "--as=2147483648";

/// Runs the binary under a time limit and, where util-linux's `prlimit` is
/// present (it is on every Debian), a memory limit.
fn run(args: &[&str]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("clearance");
    let mut cmd = if std::path::Path::new("/usr/bin/prlimit").exists() {
        let mut c = assert_cmd::Command::new("/usr/bin/prlimit");
        c.arg(MEMORY_LIMIT).arg("--").arg(&bin);
        c
    } else {
        assert_cmd::Command::new(&bin)
    };
    cmd.env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .args(args)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_sane(what: &str, out: &Output) {
    assert_ne!(
        out.status.code(),
        Some(101),
        "{what}: panicked\n{}",
        text(&out.stderr)
    );
    assert!(
        out.status.code().is_some(),
        "{what}: killed (timeout or signal)"
    );
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{what}: {}",
        text(&out.stderr)
    );
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// A position in a diagnostic: `file:line:col`, or a byte offset.
fn has_position(stderr: &str) -> bool {
    let bytes = stderr.as_bytes();
    stderr.contains("offset")
        || bytes.windows(3).any(|w| {
            w[0] == b':' && w[1].is_ascii_digit() && (w[2] == b':' || w[2].is_ascii_digit())
        })
}

fn check_policy(path: &Path) {
    let p = path.to_str().unwrap();
    let out = run(&[
        "check",
        p,
        "--evidence",
        "tests/hostile/ok.json",
        "--now",
        NOW,
    ]);
    let name = path.file_name().unwrap().to_str().unwrap();
    assert_sane(name, &out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{name} should not compile:\n{}",
        text(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "{name}: a decision was printed with exit 2"
    );
    let stderr = text(&out.stderr);
    let stem = name.trim_end_matches(".clr");
    assert!(
        stderr.contains(stem) || stderr.contains("the policy has no gate"),
        "{name}: the diagnostic does not name the file:\n{stderr}"
    );
    let no_position = stderr.contains("over the limit") || stderr.contains("no gate to check");
    assert!(
        no_position || has_position(&stderr),
        "{name}: the diagnostic gives no position:\n{stderr}"
    );
}

#[test]
fn malformed_policies() {
    let corpus = files("tests/hostile/policies");
    assert!(
        corpus.len() >= 150,
        "only {} malformed policies",
        corpus.len()
    );
    for f in &corpus {
        check_policy(f);
    }
}

/// The largest hostile policies are generated rather than committed.
#[test]
fn huge_and_deep_policies() {
    let dir = tempfile::tempdir().unwrap();
    let wrap = |expr: String| {
        format!("stages a -> b\ngate a -> b {{\n  rule r {{\n    require {expr}\n  }}\n}}\n")
    };
    let cases = [
        (
            "deep_parens",
            wrap("(".repeat(100_000) + "true" + &")".repeat(100_000)),
        ),
        ("deep_not", wrap("not ".repeat(100_000) + "true")),
        ("deep_neg", wrap("-".repeat(100_000) + "1 > 0")),
        (
            "deep_lists",
            wrap("[".repeat(100_000) + &"]".repeat(100_000) + " == []"),
        ),
        (
            "deep_objects",
            wrap("{a: ".repeat(50_000) + "1" + &"}".repeat(50_000) + " == {}"),
        ),
        (
            "deep_if",
            wrap("if true then ".repeat(20_000) + "true" + &" else false".repeat(20_000)),
        ),
        ("deep_all", wrap("all x in [1]: ".repeat(20_000) + "true")),
        (
            "huge_string",
            wrap(format!("\"{}\" == \"\"", "x".repeat(2_000_000))),
        ),
        ("long_name", wrap("a".repeat(100_000) + " == 1")),
        (
            "many_lines",
            format!(
                "stages a -> b\n{}gate a -> b {{ rule r {{ require true }} }}\n",
                "# comment\n".repeat(30_000)
            ),
        ),
    ];
    for (name, content) in cases {
        let path = dir.path().join(format!("{name}.clr"));
        std::fs::write(&path, content).unwrap();
        check_policy(&path);
    }
}

#[test]
fn malformed_and_odd_evidence() {
    let corpus = files("tests/hostile/evidence");
    assert!(corpus.len() >= 75, "only {} evidence files", corpus.len());
    for f in &corpus {
        let name = f.file_name().unwrap().to_str().unwrap();
        let out = run(&[
            "check",
            "tests/hostile/evidence_policy.clr",
            "--now",
            NOW,
            "--evidence",
            f.to_str().unwrap(),
        ]);
        assert_sane(name, &out);
        let stderr = text(&out.stderr);
        if name.starts_with("ok_") {
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{name} is valid evidence and must be decided:\n{stderr}"
            );
        } else {
            assert_eq!(
                out.status.code(),
                Some(2),
                "{name} must be rejected:\n{}",
                text(&out.stdout)
            );
            assert!(
                out.stdout.is_empty(),
                "{name}: a decision was printed with exit 2"
            );
            assert!(
                stderr.contains(name),
                "{name}: the diagnostic does not name the file:\n{stderr}"
            );
            assert!(has_position(&stderr), "{name}: no position:\n{stderr}");
        }
    }
}

#[test]
fn deep_and_huge_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("deep_arrays", "[".repeat(100_000) + &"]".repeat(100_000)),
        (
            "deep_objects",
            "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000),
        ),
        (
            "huge_string",
            format!(
                "{{\"tests\": {{\"name\": \"{}\"}}}}",
                "x".repeat(70 * 1024 * 1024)
            ),
        ),
    ];
    for (name, content) in cases {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, content).unwrap();
        let out = run(&[
            "check",
            "tests/hostile/evidence_policy.clr",
            "--evidence",
            path.to_str().unwrap(),
        ]);
        assert_sane(name, &out);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(name) && has_position(&stderr),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn hostile_argument_combinations() {
    let dir = tempfile::tempdir().unwrap();
    let empty_dir = dir.path().to_str().unwrap().to_string();
    let p = "tests/hostile/evidence_policy.clr";
    let ev = "tests/hostile/evidence/ok_empty_object.json";
    let mount = format!("tests={ev}");
    let mount_x = format!("x={ev}");
    let out_dir = format!("json={empty_dir}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check"], "POLICY"),
        (vec!["check", p], "--evidence"),
        (
            vec!["check", "no-such.clr", "--evidence", ev],
            "no-such.clr",
        ),
        (vec!["check", &empty_dir, "--evidence", ev], "directory"),
        (
            vec!["check", p, "--evidence", "no-such.json"],
            "no-such.json",
        ),
        (vec!["check", p, "--evidence", &empty_dir], "directory"),
        (
            vec!["check", p, "--evidence", ev, "--evidence", ev],
            "more than one evidence file",
        ),
        (
            vec!["check", p, "--evidence", "a=no-such.json"],
            "no-such.json",
        ),
        (
            vec![
                "check",
                p,
                "--evidence",
                ev,
                "--evidence",
                &mount,
                "--evidence",
                &mount,
            ],
            "given twice",
        ),
        (
            vec![
                "check",
                p,
                "--evidence",
                "tests/hostile/evidence/ok_top_level_array.json",
                "--evidence",
                &mount_x,
            ],
            "not an object",
        ),
        (
            vec!["check", p, "--evidence", ev, "--gate", "staging"],
            "FROM->TO",
        ),
        (
            vec!["check", p, "--evidence", ev, "--gate", "staging->qa"],
            "no gate",
        ),
        (vec!["check", p, "--evidence", ev, "--gate=->"], "no gate"),
        (
            vec!["check", p, "--evidence", ev, "--param", "x"],
            "NAME=VALUE",
        ),
        (
            vec!["check", p, "--evidence", ev, "--param", "x=1"],
            "unknown param",
        ),
        (
            vec!["check", p, "--evidence", ev, "--param", "=1"],
            "NAME=VALUE",
        ),
        (
            vec!["check", p, "--evidence", ev, "--now", "yesterday"],
            "RFC 3339",
        ),
        (
            vec!["check", p, "--evidence", ev, "--now", "2026-11-20"],
            "RFC 3339",
        ),
        (
            vec!["check", p, "--evidence", ev, "--now", "2026-11-20T12:00:00"],
            "RFC 3339",
        ),
        (
            vec![
                "check",
                p,
                "--evidence",
                ev,
                "--now",
                "2026-02-30T00:00:00Z",
            ],
            "RFC 3339",
        ),
        (vec!["check", p, "--evidence", ev, "--format", "pdf"], "pdf"),
        (
            vec!["check", p, "--evidence", ev, "--output", "sarif"],
            "FORMAT=PATH",
        ),
        (
            vec!["check", p, "--evidence", ev, "--output", "pdf=x"],
            "unknown format",
        ),
        (
            vec!["check", p, "--evidence", ev, "--output", &out_dir],
            "cannot write",
        ),
        (
            vec!["check", p, "--evidence", ev, "--max-steps", "abc"],
            "max-steps",
        ),
        (
            vec!["check", p, "--evidence", ev, "--max-evidence-depth", "500"],
            "max-evidence-depth",
        ),
        (
            vec!["check", p, "--evidence", ev, "--max-expr-depth", "0"],
            "max-expr-depth",
        ),
        (
            vec![
                "check",
                p,
                "--evidence",
                "tests/hostile/evidence/ok_max_float.json",
                "--max-evidence-bytes",
                "10",
            ],
            "over the limit",
        ),
        (
            vec!["check", p, "--evidence", ev, "--max-policy-bytes", "10"],
            "over the limit",
        ),
        (
            vec!["check", p, "--evidence", ev, "--max-policy-lines", "2"],
            "over the limit",
        ),
        (
            vec![
                "check",
                p,
                "--evidence",
                ev,
                "--waivers",
                "no-such-waivers.clr",
            ],
            "no-such-waivers.clr",
        ),
        (
            vec!["check", p, "--evidence", ev, "--waivers", p],
            "may only hold `waive` lines",
        ),
        (vec!["rollback", p, "--evidence", ev], "--stage"),
        (
            vec!["rollback", p, "--stage", "prod", "--evidence", ev],
            "declares no rollback triggers",
        ),
        (
            vec!["rollback", p, "--stage", "qa", "--evidence", ev],
            "no stage",
        ),
        (vec!["lint", "no-such-dir"], "no-such-dir"),
        (vec!["lint", "--explain", "CL000"], "unknown lint"),
        (vec!["test", "no-such-dir"], "no-such-dir"),
        (vec!["fmt", "no-such.clr"], "no-such.clr"),
        (
            vec!["graph", p, "--evidence", ev, "--gate", "a->b"],
            "no gate",
        ),
        (vec!["schema", p, "--gate", "x"], "FROM->TO"),
        (vec!["explain", "no-such.clr"], "no-such.clr"),
        (vec!["nonsense"], "nonsense"),
    ];
    for (args, needle) in &cases {
        let out = run(args);
        let what = args.join(" ");
        assert_sane(&what, &out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(needle),
            "{what}: stderr lacks `{needle}`:\n{}",
            text(&out.stderr)
        );
        if args[0] == "check" || args[0] == "rollback" {
            assert!(
                out.stdout.is_empty(),
                "{what}: a decision was printed with exit 2"
            );
        }
    }
    // Reading standard input twice is refused; a directory on stdin is not possible.
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .args(["check", p, "--evidence", "-", "--evidence", "x=-"])
        .write_stdin("{}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("only once"));
}

#[test]
fn representative_diagnostics() {
    for name in [
        "trunc_020.clr",
        "drop_005.clr",
        "keyword_04.clr",
        "string_00.clr",
        "utf8_invalid.clr",
        "sem_import_escape.clr",
        "huge_int.clr",
        "deep_index.clr",
    ] {
        let path = format!("tests/hostile/policies/{name}");
        if !Path::new(&path).exists() {
            continue;
        }
        let out = run(&["check", &path, "--evidence", "tests/hostile/ok.json"]);
        insta::assert_snapshot!(format!("policy_{name}"), text(&out.stderr));
    }
    for name in [
        "bad_nan.json",
        "bad_duplicate_key.json",
        "bad_lone_high_surrogate.json",
        "bad_trunc_040.json",
        "bad_invalid_utf8.json",
        "bad_line_comment.json",
        "bad_yaml_tag.yaml",
        "bad_yaml_duplicate_key.yaml",
        "bad_yaml_alias_bomb.yaml",
        "bad_yaml_invalid_utf8.yaml",
        "bad_xml_not_a_report.xml",
        "bad_xml_entity_bomb.xml",
        "bad_xml_truncated.xml",
    ] {
        let out = run(&[
            "check",
            "tests/hostile/evidence_policy.clr",
            "--evidence",
            &format!("tests/hostile/evidence/{name}"),
        ]);
        insta::assert_snapshot!(format!("evidence_{name}"), text(&out.stderr));
    }
}

/// A lone CR is refused at one position, the same in every output; a
/// CRLF file is read as usual.
#[test]
fn lone_carriage_returns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("cr.clr");
    let ev = dir.path().join("e.json");
    std::fs::write(&ev, r#"{"x": 2}"#).unwrap();
    let body = "stages a -> b\ngate a -> b {\n  rule r {\n    require evidence.x == 1\n  }\n}\n";
    std::fs::write(&policy, body.replace('\n', "\r")).unwrap();
    let (p, e) = (policy.to_str().unwrap(), ev.to_str().unwrap());
    for format in ["human", "json"] {
        let out = run(&[
            "check",
            p,
            "--evidence",
            e,
            "--now",
            NOW,
            "--format",
            format,
        ]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        let err = text(&out.stderr);
        assert!(err.contains("cr.clr:1:14"), "{format}: {err}");
        assert!(err.contains("lone CR"), "{format}: {err}");
    }
    std::fs::write(&policy, body.replace('\n', "\r\n")).unwrap();
    let out = run(&["check", p, "--evidence", e, "--now", NOW]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

/// Whatever a policy's strings hold (escapes for ESC, BEL, NUL, U+FFFE,
/// a `|`), every output is well formed: no raw control character reaches a
/// terminal or CI log, JUnit stays XML, Markdown cells keep their pipes.
#[test]
fn outputs_are_well_formed_whatever_the_strings_hold() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.clr");
    std::fs::write(
        &policy,
        concat!(
            "stages a -> b\n",
            "stage b { purpose \"serves | customers\" }\n",
            "gate a -> b {\n",
            "  rule r {\n",
            "    title \"\\u{1b}[2J\\u{7}wiped | \\u{fffe}\\u{ffff}\"\n",
            "    help \"ring\\u{0}\"\n",
            "    require evidence.x == \"ok\"\n",
            "  }\n",
            "  rule s {\n",
            "    title \"waived one\"\n",
            "    require false\n",
            "  }\n",
            "}\n",
            "waive a -> b s until 2099-01-01 reason \"a | b \\u{1b}[31m\" owner \"x|y\"\n",
        ),
    )
    .unwrap();
    let ev = dir.path().join("e.json");
    std::fs::write(&ev, r#"{"x": "\ufffe\u001b[31m"}"#).unwrap();
    let (p, e) = (policy.to_str().unwrap(), ev.to_str().unwrap());
    for format in ["human", "json", "sarif", "junit", "github", "markdown"] {
        let out = run(&[
            "check",
            p,
            "--evidence",
            e,
            "--now",
            NOW,
            "--format",
            format,
        ]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            text(&out.stderr)
        );
        let shown = text(&out.stdout);
        let raw: Vec<char> = shown
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
            .collect();
        assert!(raw.is_empty(), "{format} prints raw {raw:?}:\n{shown}");
        if format == "junit" {
            assert!(
                !shown.contains(['\u{fffe}', '\u{ffff}']),
                "not XML 1.0:\n{shown}"
            );
        }
        if format == "markdown" {
            assert!(shown.contains("wiped \\|"), "{shown}");
        }
    }
    let out = run(&["explain", p, "--now", NOW]);
    let md = text(&out.stdout);
    assert!(md.contains("serves \\| customers"), "{md}");
    assert!(md.contains("a \\| b"), "{md}");
    assert!(md.contains("x\\|y"), "{md}");
    assert!(!md.chars().any(|c| c.is_control() && c != '\n'), "{md}");
}

/// The evaluation budget bounds memory as well as steps: building values
/// costs a step per byte, a join is held to the string limit before it is
/// built, and compiling regexes read from evidence is charged by their
/// size (with the cache of compiled patterns capped). Each case ends as an
/// `error` outcome (exit 1), never an abort, under the harness's memory
/// limit.
#[test]
fn evaluation_memory_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let gate = |require: &str, defs: &str| {
        format!(
            "stages a -> b\n{defs}gate a -> b {{\n  rule r {{\n    require {require}\n  }}\n}}\n"
        )
    };
    // Doubling a list 2^32 times in 32 calls.
    let doubling: String = (2..=6)
        .map(|k| format!("def a{k}(x) = a{}(a{}(x))\n", k - 1, k - 1))
        .collect();
    let doubling = write(
        "double.clr",
        &gate(
            "count(a6(evidence.xs)) > 0",
            &format!("def a1(x) = x + x\n{doubling}"),
        ),
    );
    let xs = write("xs.json", r#"{"xs": [1, 2]}"#);
    // The same with strings.
    let strings = write(
        "strings.clr",
        &gate("count(a6(evidence.s)) > 0", &{
            let defs: String = (2..=6)
                .map(|k| format!("def a{k}(x) = a{}(a{}(x))\n", k - 1, k - 1))
                .collect();
            format!("def a1(x) = x + x\n{defs}")
        }),
    );
    let s = write("s.json", r#"{"s": "ab"}"#);
    // A 100 MB join, past the 64 MiB string limit.
    let join = write(
        "join.clr",
        &gate(
            "count(join([evidence.big for i in evidence.items], \"\")) > 0",
            "",
        ),
    );
    let big = write(
        "big.json",
        &format!(
            "{{\"big\": \"{}\", \"items\": {:?}}}",
            "x".repeat(1_000_000),
            (0..100).collect::<Vec<_>>()
        ),
    );
    // Two thousand distinct regexes from evidence.
    let regexes = write(
        "regexes.clr",
        &gate("all p in evidence.pats: not matches(\"abc\", p)", ""),
    );
    let pats: Vec<String> = (0..2000).map(|i| format!("\\\\w{{20}}x{i}")).collect();
    let pats = write(
        "pats.json",
        &format!("{{\"pats\": [\"{}\"]}}", pats.join("\", \"")),
    );
    for (policy, evidence, needle, extra) in [
        (&doubling, &xs, "evaluation budget exceeded", vec![]),
        (&strings, &s, "evaluation budget exceeded", vec![]),
        (&join, &big, "over the limit of 67108864 bytes", vec![]),
        (
            &regexes,
            &pats,
            "evaluation budget exceeded",
            vec!["--max-steps", "10000000"],
        ),
    ] {
        let mut args = vec![
            "check",
            policy.as_str(),
            "--evidence",
            evidence.as_str(),
            "--now",
            NOW,
        ];
        args.extend(extra);
        let out = run(&args);
        assert_sane(policy, &out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{policy}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(needle),
            "{policy}:\n{}",
            text(&out.stdout)
        );
    }
}

/// Costs that grew faster than the input: forty `def`s that each call the
/// one below twice (2^40 calls if each call's body were analysed; it never
/// finished), and a chain of 20,000 `let`s (quadratic name lookups). Both
/// must end well within the harness's time limit; `benches/scaling.rs`
/// measures the growth.
#[test]
fn no_super_linear_compile_or_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let mut fan = String::from("stages a -> b\ndef f0(x) = x\n");
    for i in 1..=40 {
        fan.push_str(&format!("def f{i}(x) = f{}(x) + f{}(x)\n", i - 1, i - 1));
    }
    fan.push_str("gate a -> b {\n  rule r {\n    require f40(evidence.x) > 0\n  }\n}\n");
    let fan_path = dir.path().join("fan.clr");
    std::fs::write(&fan_path, fan).unwrap();
    let mut chain = String::from("stages a -> b\nlet l0 = evidence.x\n");
    for i in 1..20_000 {
        chain.push_str(&format!("let l{i} = l{}\n", i - 1));
    }
    chain.push_str("gate a -> b {\n  rule r {\n    require l19999 == 1\n  }\n}\n");
    let chain_path = dir.path().join("chain.clr");
    std::fs::write(&chain_path, chain).unwrap();
    let ev = dir.path().join("e.json");
    std::fs::write(&ev, r#"{"x": 1}"#).unwrap();
    let (fan, chain, ev) = (
        fan_path.to_str().unwrap(),
        chain_path.to_str().unwrap(),
        ev.to_str().unwrap(),
    );
    // 2^40 additions cannot finish: the budget ends the rule.
    let out = run(&[
        "check",
        fan,
        "--evidence",
        ev,
        "--now",
        NOW,
        "--max-steps",
        "100000",
    ]);
    assert_sane("fan", &out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("evaluation budget exceeded"));
    for args in [vec!["schema", fan], vec!["lint", fan], vec!["explain", fan]] {
        let out = run(&args);
        assert_sane(&args.join(" "), &out);
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = run(&[
        "check",
        chain,
        "--evidence",
        ev,
        "--now",
        NOW,
        "--max-policy-lines",
        "30000",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&["lint", chain, "--max-policy-lines", "30000"]);
    assert_sane("lint chain", &out);
}

/// Malformed attestations (tests/hostile/attestations/): each is exit 2,
/// no decision, the file named with one `attestation::` code; a trust file
/// whose key is PEM garbage is a configuration error.
#[test]
fn malformed_attestations() {
    let dir = tempfile::tempdir().unwrap();
    let key = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA6pzNSr9xK3jlzdrAaGvnfKoH4y0I99wsZyRW9DFXzJk=\n-----END PUBLIC KEY-----\n";
    std::fs::write(dir.path().join("k.pub"), key).unwrap();
    let trust = dir.path().join("trust.toml");
    std::fs::write(&trust, "[[signer]]\nname = \"k\"\nkey = \"k.pub\"\n").unwrap();
    // A 5 MB payload, made here rather than committed.
    let huge = dir.path().join("huge_payload.json");
    std::fs::write(
        &huge,
        format!(
            r#"{{"payloadType": "application/vnd.in-toto+json", "payload": "{}", "signatures": [{{"sig": "AAAA"}}]}}"#,
            "QUFB".repeat(1_300_000)
        ),
    )
    .unwrap();
    let mut files: Vec<PathBuf> = files("tests/hostile/attestations")
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json" || e == "jsonl"))
        .collect();
    assert!(files.len() >= 10);
    files.push(huge);
    let trust = trust.to_str().unwrap();
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let attestation = format!("a={}", f.display());
        let out = run(&[
            "check",
            "tests/hostile/evidence_policy.clr",
            "--evidence",
            "tests/hostile/ok.json",
            "--attestation",
            &attestation,
            "--trust",
            trust,
            "--now",
            NOW,
        ]);
        assert_sane(name, &out);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stdout));
        assert!(out.stdout.is_empty(), "{name}: a decision was printed");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(name) && stderr.contains("attestation::"),
            "{name}: {stderr}"
        );
    }
    let garbage = dir.path().join("garbage.toml");
    std::fs::write(
        &garbage,
        format!(
            "[[signer]]\nname = \"k\"\nkey = \"{}\"\n",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/hostile/attestations/pem_garbage.pub")
                .display()
        ),
    )
    .unwrap();
    let out = run(&[
        "check",
        "tests/hostile/evidence_policy.clr",
        "--evidence",
        "tests/hostile/ok.json",
        "--attestation",
        "a=tests/hostile/attestations/empty.json",
        "--trust",
        garbage.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("attestation::config"),
        "{}",
        text(&out.stderr)
    );
}
