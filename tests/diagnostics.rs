//! Snapshot tests of diagnostics, read and agreed with:
//! - tests/bad/*.clr: one compile error (or a few) per file;
//! - tests/runtime/NAME.clr with NAME.json: the human report of a decision.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::eval::{self, EvalOptions};
use clearance::report::{self, Style};
use std::path::Path;

const STYLE: Style = Style {
    color: false,
    width: 100,
};

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn compile_errors() {
    insta::glob!("bad/*.clr", |path| {
        let rel = relative(path);
        let failure = clearance::compile_path(Path::new(&rel), &[])
            .expect_err("a file in tests/bad must not compile");
        insta::assert_snapshot!(report::render_compile_failure(&failure, STYLE));
    });
}

#[test]
fn runtime_diagnostics() {
    insta::glob!("runtime/*.clr", |path| {
        let rel = relative(path);
        let program = clearance::compile_path(Path::new(&rel), &[]).expect("compiles");
        let evidence_text = std::fs::read_to_string(path.with_extension("json")).unwrap();
        let evidence = eval::parse_json(&evidence_text, Default::default()).unwrap();
        let files = report::Evidence {
            files: vec![report::EvidenceText::new(
                None,
                relative(&path.with_extension("json")),
                std::sync::Arc::new(evidence_text.clone()),
            )],
        };
        let now = "2026-11-20T12:00:00Z".parse().unwrap();
        let options = EvalOptions::at(now);
        // A policy without gates is about its stages' rollback triggers.
        let text = match program.gates.first() {
            Some(gate) => {
                let result = eval::evaluate_gate(&program, gate, &evidence, &options);
                report::render_gate(&program, &gate.label(), &result, STYLE, &files)
            }
            None => {
                let stage = program
                    .stages
                    .iter()
                    .find(|s| !s.triggers.is_empty())
                    .unwrap();
                let result = eval::evaluate_triggers(&program, stage, &evidence, &options);
                report::render_rollback(&program, &stage.name, &result, STYLE, &files)
            }
        };
        insta::assert_snapshot!(text);
    });
}
