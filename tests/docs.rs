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
    for doc in ["README.md", "docs/language.md"] {
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
