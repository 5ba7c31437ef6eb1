//! `clearance batch`: one compiled policy, many evidence bundles, all cores.
//! One JSON line per bundle, in the order given; exit status is the worst
//! decision (0 all allowed, 1 some denied, 2 some could not be decided).

use super::check::{parse_now, parse_params, select_gate};
use super::{style, ColorChoice, NoDecision};
use crate::decide;
use crate::eval::{Decision, EvalOptions, Outcome};
use crate::evidence::Source;
use crate::limits::Limits;
use crate::report;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// The policy file (`.clr`).
    pub policy: PathBuf,
    /// Evidence files, or directories to walk for `*.json` (sorted).
    #[arg(required = true, value_name = "BUNDLE|DIR")]
    pub bundles: Vec<PathBuf>,
    /// The gate to decide; may be left out when the policy has one gate.
    #[arg(long, value_name = "FROM->TO")]
    pub gate: Option<String>,
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The evaluation time (RFC 3339); defaults to the clock, read once for every bundle.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// A file of `waive` lines (repeatable), as for `check`.
    #[arg(long = "waivers", value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// Decides one bundle: the JSON line and its exit status.
fn decide(prepared: &decide::Prepared<'_>, options: &EvalOptions, path: &Path) -> (String, u8) {
    let file = path.display().to_string();
    let source = [Source::File {
        mount: None,
        path: path.to_path_buf(),
    }];
    let result = crate::evidence::read(&source, &options.limits)
        .and_then(|evidence| prepared.outcomes(&evidence, options));
    let result = match result {
        Ok(result) => result,
        Err(e) => {
            let line = json!({"file": file, "decision": null, "error": e.message()});
            return (line.to_string(), 2);
        }
    };
    let names = |o: Outcome| -> Vec<&str> {
        result
            .rules
            .iter()
            .filter(|r| r.outcome == o && r.blocks())
            .map(|r| r.name.as_str())
            .collect()
    };
    let line = json!({
        "file": file,
        "decision": result.decision.as_str(),
        "failed": names(Outcome::Fail),
        "errors": names(Outcome::Error),
        "summary": result.summary,
    });
    let code = match result.decision {
        Decision::Allowed => 0,
        Decision::Denied => 1,
    };
    (line.to_string(), code)
}

pub fn run(args: BatchArgs, limits: &Limits) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let program = crate::compile_path_with(&args.policy, &args.waivers, limits)
        .map_err(|f| NoDecision(report::render_compile_failure(&f, style)))?;
    let gate = select_gate(&program, args.gate.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    // Params are checked once here; each worker parses its own copy, since
    // values are not shared between threads.
    parse_params(&program, &args.params)?;
    let raw_params = &args.params;
    let mut files = Vec::new();
    for b in &args.bundles {
        super::walk_files(
            b,
            &|p: &Path| p.extension().is_some_and(|e| e == "json"),
            &mut files,
        )?;
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .clamp(1, 256);
    // Each worker takes every `jobs`-th bundle; results are printed in input order.
    let mut results: Vec<(String, u8)> = vec![(String::new(), 0); files.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|w| {
                let (program, files) = (&program, &files);
                std::thread::Builder::new()
                    .stack_size(16 * 1024 * 1024)
                    .spawn_scoped(scope, move || {
                        let options = EvalOptions {
                            now,
                            params: parse_params(program, raw_params).unwrap_or_default(),
                            limits: *limits,
                        };
                        let options = &options;
                        // Prepared once per worker: compiled code is not shared between threads.
                        let prepared = decide::Prepared::new(program, gate);
                        files
                            .iter()
                            .enumerate()
                            .skip(w)
                            .step_by(jobs)
                            .map(|(i, f)| (i, decide(&prepared, options, f)))
                            .collect::<Vec<_>>()
                    })
            })
            .collect();
        for h in handles {
            match h.map(|h| h.join()) {
                Ok(Ok(done)) => {
                    for (i, r) in done {
                        if let Some(slot) = results.get_mut(i) {
                            *slot = r;
                        }
                    }
                }
                _ => {
                    for slot in results.iter_mut().filter(|s| s.0.is_empty()) {
                        *slot = (
                            json!({"decision": null, "error": "internal error: a worker failed"})
                                .to_string(),
                            2,
                        );
                    }
                }
            }
        }
    });
    let mut worst = 0;
    let mut out = String::new();
    for (line, code) in &results {
        out.push_str(line);
        out.push('\n');
        worst = worst.max(*code);
    }
    super::emit(&out)?;
    Ok(worst)
}
