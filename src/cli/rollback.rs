//! `clearance rollback`: decide whether a stage's rollback triggers fire.

use super::check::{parse_now, parse_params};
use super::{evidence, output, plain_error, style, ColorChoice, Format, NoDecision};
use crate::check::suggest;
use crate::eval::{self, EvalOptions};
use crate::report::{self};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RollbackArgs {
    /// The policy file (`.clr`).
    pub policy: PathBuf,
    /// The stage whose rollback triggers to evaluate.
    #[arg(long, value_name = "NAME")]
    pub stage: String,
    /// Live metrics evidence: `FILE`, `-` for standard input, or `NAME=FILE` (repeatable).
    #[arg(
        long = "evidence",
        short = 'e',
        required = true,
        value_name = "FILE|NAME=FILE"
    )]
    pub evidence: Vec<String>,
    /// Override a `param` (VALUE is JSON if it parses as JSON, else a string).
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The evaluation time (RFC 3339); defaults to the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Also write the report in FORMAT to PATH (repeatable), e.g. `--output junit=rollback.xml`.
    #[arg(long = "output", short = 'o', value_name = "FORMAT=PATH")]
    pub outputs: Vec<String>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

pub fn run(args: RollbackArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    let limits = *limits;
    let style = style(args.color);
    let program = crate::compile_path_with(&args.policy, &[], &limits)
        .map_err(|f| NoDecision(report::render_compile_failure(&f, style)))?;
    let stage = program.stage(&args.stage).ok_or_else(|| {
        let names: Vec<&str> = program.stages.iter().map(|s| s.name.as_str()).collect();
        let hint = suggest(&args.stage, names.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        plain_error(format!(
            "the policy has no stage `{}`{hint} (stages: {})",
            args.stage,
            names.join(", ")
        ))
    })?;
    if stage.triggers.is_empty() {
        return Err(plain_error(format!(
            "stage `{}` declares no rollback triggers; add `rollback NAME {{ require ... }}` to its `stage` block",
            stage.name
        )));
    }
    let now = parse_now(args.now.as_deref())?;
    let params = parse_params(&program, &args.params)?;
    let (bundle, evidence_files) = evidence::load(
        &args.evidence,
        style,
        &limits,
        Some(&crate::eval::projection::of_rules(
            &program,
            &stage.lets,
            &stage.triggers,
        )),
    )?;
    let options = EvalOptions {
        now,
        params: params.clone(),
        limits,
    };
    let result = eval::evaluate_triggers(&program, stage, &bundle, &options);
    let mut command = vec![
        "clearance".to_string(),
        "rollback".into(),
        args.policy.display().to_string(),
        "--stage".into(),
        stage.name.clone(),
        "--now".into(),
        now.to_string(),
    ];
    for p in &args.params {
        command.extend(["--param".into(), p.clone()]);
    }
    for e in &args.evidence {
        command.extend(["--evidence".into(), e.clone()]);
    }
    let run = output::Run {
        program: &program,
        result: &result,
        subject: &stage.name,
        command: "rollback",
        evidence: &evidence_files,
        now: now.to_string(),
        params: &params,
        command_line: command,
        waivers_applied: Vec::new(),
        style,
    };
    output::emit(args.format, &args.outputs, &run)?;
    // The process ends right after this: freeing a large evidence tree node by
    // node would only cost time (the operating system reclaims it at once).
    std::mem::forget(bundle);
    std::mem::forget(evidence_files);
    Ok(match result.decision {
        eval::Decision::Allowed => 0,
        eval::Decision::Denied => 1,
    })
}
