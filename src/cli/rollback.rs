//! `clearance rollback`: decide whether a stage's rollback triggers fire.

use super::check::{parse_now, parse_params};
use super::{evidence, output, plain_error, style, ColorChoice, Format, NoDecision};
use crate::check::suggest;
use crate::decide;
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
    for spec in &args.outputs {
        if output::parse_output(spec)?.0.signed() {
            return Err(super::plain_error(format!(
                "`--output {spec}`: rollback decisions are not signed; signed decisions (vsa, attestation) are made by `clearance check` for a gate"
            )));
        }
    }
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
    let evidence_files = crate::evidence::read(&evidence::sources(&args.evidence), &limits)
        .map_err(evidence::no_decision(style))?;
    let options = EvalOptions {
        now,
        params: params.clone(),
        limits,
        ledger: None,
    };
    let request = decide::Request {
        process_exits: true,
        ..decide::Request::new(
            &program,
            decide::Target::Rollback(stage),
            &evidence_files,
            &options,
        )
    };
    let result = decide::decide(&request).map_err(|e| NoDecision(e.render(style)))?;
    let invocation = decide::Invocation {
        attestations: Vec::new(),
        trust: None,
        command: "rollback",
        policy: args.policy.display().to_string(),
        target: stage.name.clone(),
        now,
        params: args.params.clone(),
        waivers: Vec::new(),
        evidence: args.evidence.clone(),
        strict_evidence: false,
        limits,
        ledger: None,
    };
    let run = output::Run {
        program: &program,
        result: &result,
        subject: &stage.name,
        gate: None,
        signing: None,
        recording: None,
        command: "rollback",
        evidence: &evidence_files,
        now: now.to_string(),
        params: &params,
        invocation: &invocation,
        style,
    };
    output::emit(args.format, &args.outputs, &run)?;
    // The process ends right after this: freeing a large evidence tree node by
    // node would only cost time (the operating system reclaims it at once).
    std::mem::forget(evidence_files);
    Ok(match result.decision {
        eval::Decision::Allowed => 0,
        eval::Decision::Denied => 1,
    })
}
