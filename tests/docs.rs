//! Documentation that is generated from code stays in sync with it, and the
//! examples in the docs are real.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

fn check_generated(path: &str, expected: &str) {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&full, expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&full).unwrap_or_default();
    assert!(
        actual == expected,
        "{path} is out of date; regenerate with `UPDATE_DOCS=1 cargo test --test docs`"
    );
}

#[test]
fn builtins_reference_is_current() {
    check_generated(
        "docs/builtins.md",
        &clearance::eval::builtins::reference_markdown(),
    );
}

#[test]
fn lints_reference_is_current() {
    check_generated("docs/lints.md", &clearance::lint::reference_markdown());
}

/// Every ```clr block in the docs that holds a whole policy compiles.
#[test]
fn policy_examples_in_docs_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for doc in ["README.md", "docs/language.md", "docs/trust.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let mut in_block = false;
        let mut block = String::new();
        for line in text.lines() {
            if line.trim_start().starts_with("```clr") {
                in_block = true;
                block.clear();
            } else if in_block && line.trim_start().starts_with("```") {
                in_block = false;
                if block.contains("stages ") {
                    if let Err(f) = clearance::compile_str(doc, &block) {
                        panic!(
                            "an example in {doc} does not compile:\n{block}\n{}",
                            clearance::report::render_compile_failure(&f, Default::default())
                        );
                    }
                    checked += 1;
                }
            } else if in_block {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(checked > 0, "no policy examples found");
}

/// The long options of `clearance SUB --help`, each with its possible values
/// (empty when it takes none or any).
fn help_options(sub: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .args(sub.split(' '))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut options = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        let flag = trimmed
            .strip_prefix("-")
            .and_then(|_| trimmed.split_whitespace().find(|w| w.starts_with("--")));
        if let Some(flag) = flag {
            let name = flag.trim_end_matches(',').to_string();
            options.insert(name.clone(), Vec::new());
            current = Some(name);
            if let Some(values) = trimmed.split("[possible values: ").nth(1) {
                let values = values.split(']').next().unwrap_or("");
                options.insert(
                    current.clone().unwrap(),
                    values.split(", ").map(str::to_string).collect(),
                );
            }
            continue;
        }
        let Some(name) = &current else { continue };
        if let Some(values) = trimmed.strip_prefix("[possible values: ") {
            let values = values.trim_end_matches(']');
            *options.get_mut(name).unwrap() = values.split(", ").map(str::to_string).collect();
        } else if let Some(value) = trimmed.strip_prefix("- ") {
            let value = value.split(':').next().unwrap_or("").trim().to_string();
            options.get_mut(name).unwrap().push(value);
        }
    }
    options.remove("--help");
    options
}

/// Issue 13 item 11: the command synopses in README.md and docs/language.md
/// list every option of each command's `--help` (but the `--max-*` limits
/// every command takes), name no option it lacks, and give each value list
/// exactly.
#[test]
fn synopses_match_the_help() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["README.md", "docs/language.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        // Each synopsis: a `clearance SUB` line and its indented continuations.
        let mut synopses: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("clearance ") {
                // `check`, `attest verify` or `verify-decision`: the
                // lower-case words before the arguments.
                let sub = rest
                    .split_whitespace()
                    .take_while(|w| {
                        !w.starts_with('-') && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                synopses.push((sub, rest.to_string()));
            } else if line.starts_with("                ") {
                if let Some((_, s)) = synopses.last_mut() {
                    s.push(' ');
                    s.push_str(line.trim());
                }
            }
        }
        assert!(!synopses.is_empty(), "{doc} has no synopsis");
        for (sub, synopsis) in synopses {
            let synopsis = synopsis.split("  #").next().unwrap();
            let help = help_options(&sub);
            let mut named = std::collections::BTreeSet::new();
            let words: Vec<&str> = synopsis
                .split(|c: char| c.is_whitespace() || "[]()".contains(c))
                .filter(|w| !w.is_empty())
                .collect();
            for (i, word) in words.iter().enumerate() {
                let Some(flag) = word.strip_prefix("--").map(|f| format!("--{f}")) else {
                    continue;
                };
                let values = help
                    .get(&flag)
                    .unwrap_or_else(|| panic!("{doc}: `clearance {sub}` has no {flag}"));
                named.insert(flag.clone());
                let shown = words.get(i + 1).copied().unwrap_or("");
                if !values.is_empty() && shown.contains('|') {
                    let shown: Vec<&str> = shown.split('|').collect();
                    assert_eq!(shown, *values, "{doc}: `clearance {sub} {flag}` values");
                }
            }
            if doc == "README.md" {
                for flag in help.keys().filter(|k| !k.starts_with("--max-")) {
                    assert!(
                        named.contains(flag),
                        "README.md: `clearance {sub}` lacks {flag}"
                    );
                }
            }
        }
    }
}

/// Issue 13 item 11: the docs cite only files that are in the repository
/// (a path in backticks or a link under one of its top-level folders).
#[test]
fn docs_cite_only_files_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folders = [
        "policies/",
        "tests/",
        "docs/",
        "src/",
        "benches/",
        "examples/",
        "fuzz/",
        "bench/",
        "grammar/",
        ".ci/",
    ];
    let mut docs: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.push(root.join("README.md"));
    let mut checked = 0;
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        for piece in text.split(['`', '(', ')', ' ', '\n', '"']) {
            let path = piece.trim_end_matches([':', ',', '.', ';']);
            let Some(folder) = folders.iter().find(|f| path.starts_with(**f)) else {
                continue;
            };
            // Patterns and placeholders name no one file.
            if path.contains(['*', '<', '{', '$']) || path.contains("NAME") || path == *folder {
                continue;
            }
            // `file.json:48:7` is a place in the file; `#section` one in a page.
            let path = path.split(['#', ':']).next().unwrap();
            assert!(
                root.join(path).exists(),
                "{} cites `{path}`, which is not in the repository",
                doc.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} citations checked");
}
