//! `clearance explain`, `clearance graph` and `clearance schema`: the contract
//! for people who never open a `.clr` file.

use super::check::{parse_now, parse_params, select_gate};
use super::{evidence, plain_error, style, ColorChoice, NoDecision};
use crate::decide;
use crate::eval::EvalOptions;
use crate::limits::Limits;
use crate::report;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The policy file (`.clr`).
    pub policy: PathBuf,
    /// Explain only this gate (`FROM->TO`).
    #[arg(long, value_name = "FROM->TO")]
    pub gate: Option<String>,
    /// The time that decides which waivers are in force (RFC 3339); defaults to the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// A file of `waive` lines (repeatable), listed with the policy's own waivers.
    #[arg(long = "waivers", value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// The policy file (`.clr`).
    pub policy: PathBuf,
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
    /// With `--gate`: decide the gate on this evidence and colour it.
    #[arg(long = "evidence", short = 'e', value_name = "FILE|NAME=FILE")]
    pub evidence: Vec<String>,
    #[arg(long, value_name = "FROM->TO")]
    pub gate: Option<String>,
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// The policy file (`.clr`).
    pub policy: PathBuf,
    /// Only the evidence this gate reads (`FROM->TO`); default: one
    /// alternative (`anyOf`) per gate and per stage with rollback triggers.
    #[arg(long, value_name = "FROM->TO", conflicts_with = "stage")]
    pub gate: Option<String>,
    /// Only the metrics this stage's rollback triggers read.
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

fn compile(
    policy: &std::path::Path,
    waivers: &[PathBuf],
    color: ColorChoice,
    limits: &Limits,
) -> Result<crate::check::Program, NoDecision> {
    crate::compile_path_with(policy, waivers, limits)
        .map_err(|f| NoDecision(report::render_compile_failure(&f, style(color))))
}

pub fn explain(args: ExplainArgs, limits: &Limits) -> Result<u8, NoDecision> {
    let program = compile(&args.policy, &args.waivers, args.color, limits)?;
    let gate = match &args.gate {
        Some(_) => Some(select_gate(&program, args.gate.as_deref())?),
        None => None,
    };
    let now = parse_now(args.now.as_deref())?;
    super::emit(&report::explain::explain(&program, gate, now))?;
    Ok(0)
}

pub fn graph(args: GraphArgs, limits: &Limits) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let program = compile(&args.policy, &[], args.color, limits)?;
    let decided = if args.evidence.is_empty() {
        None
    } else {
        let gate = select_gate(&program, args.gate.as_deref())?;
        let now = parse_now(args.now.as_deref())?;
        let params = parse_params(&program, &args.params)?;
        let files = crate::evidence::read(&evidence::sources(&args.evidence), limits)
            .map_err(evidence::no_decision(style))?;
        let options = EvalOptions {
            now,
            params,
            limits: *limits,
            ledger: None,
        };
        let request = decide::Request::new(&program, decide::Target::Gate(gate), &files, &options);
        let result = decide::decide(&request).map_err(|e| NoDecision(e.render(style)))?;
        Some((gate, result))
    };
    let decided_ref = decided
        .as_ref()
        .map(|(g, r)| (g.from.name.as_str(), g.to.name.as_str(), r));
    let text = match args.format {
        GraphFormat::Mermaid => report::graph::mermaid(&program, decided_ref),
        GraphFormat::Dot => report::graph::dot(&program, decided_ref),
    };
    super::emit(&text)?;
    Ok(0)
}

pub fn schema(args: SchemaArgs, limits: &Limits) -> Result<u8, NoDecision> {
    let program = compile(&args.policy, &[], args.color, limits)?;
    let schema = match (&args.gate, &args.stage) {
        (Some(_), _) => {
            crate::schema::infer(&program, Some(select_gate(&program, args.gate.as_deref())?))
        }
        (None, Some(name)) => {
            let stage = program
                .stage(name)
                .filter(|s| !s.triggers.is_empty())
                .ok_or_else(|| {
                    let with: Vec<&str> = program
                        .stages
                        .iter()
                        .filter(|s| !s.triggers.is_empty())
                        .map(|s| s.name.as_str())
                        .collect();
                    plain_error(format!(
                        "the policy has no stage `{name}` with rollback triggers (stages with triggers: {})",
                        if with.is_empty() { "none".to_string() } else { with.join(", ") }
                    ))
                })?;
            crate::schema::infer_for(&program, crate::schema::Decided::Rollback(stage))
        }
        (None, None) => crate::schema::infer(&program, None),
    };
    let text = serde_json::to_string_pretty(&schema)
        .map_err(|e| plain_error(format!("cannot print the schema: {e}")))?;
    super::emit(&format!("{text}\n"))?;
    Ok(0)
}
