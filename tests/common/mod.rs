//! Helpers shared by several test files (each includes this with `mod common;`).

// Not every test file uses every helper.
#![allow(dead_code)]

use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// Every file under `dirs` (from the crate's root) whose name ends in
/// `.{extension}`, in path order, with its path from the root and its text.
pub fn repository_files(dirs: &[&str], extension: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, extension, out);
            } else if path.extension().is_some_and(|e| e == extension) {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in dirs {
        walk(&root.join(dir), extension, &mut paths);
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let name = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            Some((name, text))
        })
        .collect()
}

/// Every JSON pointer in a document except the root, depth first.
pub fn pointers(v: &Json, at: String, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, c) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(c, p, out);
            }
        }
        Json::Array(items) => {
            for (i, c) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(c, p, out);
            }
        }
        _ => {}
    }
}

/// A gate's JSON and human reports with a fixed context: what tests compare.
pub fn reports(
    program: &clearance::check::Program,
    result: &clearance::eval::GateResult,
) -> (String, String) {
    let human = clearance::report::render_gate(
        program,
        "x",
        result,
        Default::default(),
        &clearance::report::Evidence::default(),
    );
    (report_json(program, result), human)
}

/// A gate's JSON report with a fixed context.
pub fn report_json(
    program: &clearance::check::Program,
    result: &clearance::eval::GateResult,
) -> String {
    let evidence = clearance::report::Evidence::default();
    let ctx = clearance::report::JsonContext {
        command: "check",
        subject: "x",
        gate: None,
        now: "now".into(),
        params: Vec::new(),
        evidence: &evidence,
        record: None,
    };
    clearance::report::gate_json(program, result, &ctx)
}
