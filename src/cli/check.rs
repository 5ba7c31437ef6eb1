//! `clearance check`: decide one gate.

use super::{
    evidence, output, plain_error, split_assignment, style, ColorChoice, Format, NoDecision,
};
use crate::check::{suggest, Program};
use crate::eval::{self, EvalOptions, Value};
use crate::report::{self};
use crate::syntax::ast::GateDecl;
use clap::Args;
use jiff::Timestamp;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The policy file (`.clr`).
    pub policy: PathBuf,
    /// Evidence JSON: `FILE`, `-` for standard input, or `NAME=FILE` to mount a
    /// file at `evidence.NAME` (repeatable).
    #[arg(
        long = "evidence",
        short = 'e',
        required = true,
        value_name = "FILE|NAME=FILE"
    )]
    pub evidence: Vec<String>,
    /// The gate to decide; may be left out when the policy has one gate.
    #[arg(long, value_name = "FROM->TO")]
    pub gate: Option<String>,
    /// Override a `param` (VALUE is JSON if it parses as JSON, else a string).
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The evaluation time (RFC 3339); defaults to the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// A file of `waive` lines (repeatable), so another team can own waivers.
    #[arg(long = "waivers", value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    /// Reject (exit 2) evidence that does not fit the schema the gate reads
    /// (`clearance schema`), before evaluating anything.
    #[arg(long)]
    pub strict_evidence: bool,
    /// Also write the report in FORMAT to PATH (repeatable), e.g. `--output sarif=clearance.sarif`.
    #[arg(long = "output", short = 'o', value_name = "FORMAT=PATH")]
    pub outputs: Vec<String>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

pub fn run(args: CheckArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    let limits = *limits;
    let style = style(args.color);
    let program = crate::compile_path_with(&args.policy, &args.waivers, &limits)
        .map_err(|f| NoDecision(report::render_compile_failure(&f, style)))?;
    let gate = select_gate(&program, args.gate.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    let params = parse_params(&program, &args.params)?;
    let options = EvalOptions {
        now,
        params: params.clone(),
        limits,
    };
    let evidence_files = evidence::read(&args.evidence, &limits)?;
    // Two passes. First a lean load of only what the rules read, on which the
    // compiled evaluator decides every rule: when all pass, that is the
    // result. Otherwise a second load holds what the failing rules'
    // explanations show, and only those rules are explained. With
    // --strict-evidence (which checks the evidence as loaded for
    // explanations) or if the lean load fails (the second load then reports
    // the problem), everything is decided on one full load instead.
    let lean = if args.strict_evidence {
        None
    } else {
        let projection = crate::eval::projection::for_decision(&program, &gate.lets, &gate.rules);
        evidence::assemble(&evidence_files, style, &limits, Some(&projection), true).ok()
    };
    let result = match lean {
        Some(bundle) => {
            let first = eval::first_pass(&program, gate, &bundle, &options);
            // Freed by the operating system at exit (see the end of `run`).
            std::mem::forget(bundle);
            match first {
                eval::FirstPass::Decided(result) => result,
                eval::FirstPass::Explain(pending) => {
                    let projection =
                        crate::eval::projection::of_rules(&program, &gate.lets, pending.rules());
                    let bundle = evidence::assemble(
                        &evidence_files,
                        style,
                        &limits,
                        Some(&projection),
                        false,
                    )?;
                    let result = pending.finish(&program, &bundle, &options);
                    std::mem::forget(bundle);
                    result
                }
            }
        }
        None => decide_explained(&args, &program, gate, &evidence_files, style, &options)?,
    };
    let subject = gate.label();
    let applied = result
        .waivers
        .iter()
        .filter(|w| w.state == eval::WaiverState::Applied)
        .map(|w| w.rule.clone())
        .collect();
    let mut command = vec![
        "clearance".to_string(),
        "check".into(),
        args.policy.display().to_string(),
        "--gate".into(),
        subject.clone(),
        "--now".into(),
        now.to_string(),
    ];
    for p in &args.params {
        command.extend(["--param".into(), p.clone()]);
    }
    for w in &args.waivers {
        command.extend(["--waivers".into(), w.display().to_string()]);
    }
    for e in &args.evidence {
        command.extend(["--evidence".into(), e.clone()]);
    }
    let run = output::Run {
        program: &program,
        result: &result,
        subject: &subject,
        command: "check",
        evidence: &evidence_files,
        now: now.to_string(),
        params: &params,
        command_line: command,
        waivers_applied: applied,
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

/// `--param NAME=VALUE` arguments, checked against the policy's params.
pub(crate) fn parse_params(
    program: &Program,
    raw: &[String],
) -> Result<Vec<(String, Value)>, NoDecision> {
    let mut pairs = Vec::new();
    for p in raw {
        let Some((name, text)) = split_assignment(p) else {
            return Err(plain_error(format!(
                "`--param {p}` is not of the form NAME=VALUE"
            )));
        };
        pairs.push((name.to_string(), text.to_string()));
    }
    crate::params::parse_overrides(program, &pairs).map_err(plain_error)
}

pub(crate) fn parse_now(now: Option<&str>) -> Result<Timestamp, NoDecision> {
    match now {
        None => Ok(Timestamp::now()),
        Some(s) => s.parse::<Timestamp>().map_err(|e| {
            plain_error(format!(
                "`--now {s}` is not an RFC 3339 time with an offset (e.g. 2026-11-20T12:00:00Z): {e}"
            ))
        }),
    }
}

pub(crate) fn select_gate<'p>(
    program: &'p Program,
    wanted: Option<&str>,
) -> Result<&'p GateDecl, NoDecision> {
    let labels: Vec<String> = program.gates.iter().map(GateDecl::label).collect();
    match wanted {
        None => match program.gates.as_slice() {
            [only] => Ok(only),
            [] => Err(plain_error("the policy has no gate to check")),
            _ => Err(plain_error(format!(
                "the policy has {} gates; choose one with `--gate`: {}",
                labels.len(),
                labels.join(", ")
            ))),
        },
        Some(w) => {
            let Some((from, to)) = w.split_once("->") else {
                return Err(plain_error(format!(
                    "`--gate {w}` is not of the form FROM->TO (e.g. `--gate staging->prod`)"
                )));
            };
            program.gate(from.trim(), to.trim()).ok_or_else(|| {
                let wanted = format!("{} -> {}", from.trim(), to.trim());
                let hint = suggest(&wanted, labels.iter().map(String::as_str))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                plain_error(format!(
                    "the policy has no gate `{wanted}`{hint} (gates: {})",
                    labels.join(", ")
                ))
            })
        }
    }
}

/// Loads the evidence with everything explanations show and decides the
/// gate, explaining every rule that failed or errored.
fn decide_explained(
    args: &CheckArgs,
    program: &crate::check::Program,
    gate: &crate::syntax::ast::GateDecl,
    evidence_files: &crate::report::Evidence,
    style: crate::report::Style,
    options: &EvalOptions,
) -> Result<eval::GateResult, NoDecision> {
    let projection = crate::eval::projection::of_rules(program, &gate.lets, &gate.rules);
    let bundle = evidence::assemble(
        evidence_files,
        style,
        &options.limits,
        Some(&projection),
        false,
    )?;
    if args.strict_evidence {
        let schema = crate::schema::infer(program, Some(gate));
        let violations = crate::schema::validate(&schema, &bundle);
        if !violations.is_empty() {
            let mut msg = format!(
                "error: the evidence does not fit the schema of gate `{}` (--strict-evidence); {} problem{}:\n",
                gate.label(),
                violations.len(),
                if violations.len() == 1 { "" } else { "s" }
            );
            for (pointer, what) in &violations {
                let at = evidence_files
                    .locate(pointer)
                    .and_then(|l| evidence_files.describe(&l))
                    .map(|(f, l, c)| format!(" (at {f}:{l}:{c})"))
                    .unwrap_or_default();
                let shown = if pointer.is_empty() { "/" } else { pointer };
                msg.push_str(&format!("  {shown} {what}{at}\n"));
            }
            msg.push_str("  help: `clearance schema POLICY --gate FROM->TO` prints the schema the evidence must fit\n");
            return Err(NoDecision(msg));
        }
    }
    let result = eval::evaluate_gate(program, gate, &bundle, options);
    // Freed by the operating system at exit (see the end of `run`).
    std::mem::forget(bundle);
    Ok(result)
}
