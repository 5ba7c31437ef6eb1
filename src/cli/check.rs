//! `clearance check`: decide one gate.

use super::{evidence, plain_error, split_assignment, style, ColorChoice, Format, NoDecision};
use crate::check::{suggest, Program, Ty};
use crate::eval::{self, const_value, EvalOptions, Value, DEFAULT_MAX_STEPS};
use crate::report::{self, JsonContext};
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
    /// Evaluation budget per condition, in steps; running out is an `error`.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STEPS)]
    pub max_steps: u64,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

pub fn run(args: CheckArgs) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let program = crate::compile_path(&args.policy, &args.waivers)
        .map_err(|f| NoDecision(report::render_compile_failure(&f, style)))?;
    let gate = select_gate(&program, args.gate.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    let params = parse_params(&program, &args.params)?;
    let (bundle, _files) = evidence::load(&args.evidence, style)?;
    let options = EvalOptions {
        now,
        params: params.clone(),
        max_steps: args.max_steps,
    };
    let result = eval::evaluate_gate(&program, gate, &bundle, &options);
    let subject = gate.label();
    let text = match args.format {
        Format::Human => report::render_gate(&program, &subject, &result, style),
        Format::Json => report::gate_json(
            &program,
            &result,
            &JsonContext {
                command: "check",
                subject: &subject,
                now: now.to_string(),
                params: effective_params(&program, &params),
            },
        ),
    };
    print!("{text}");
    Ok(match result.decision {
        eval::Decision::Allowed => 0,
        eval::Decision::Denied => 1,
    })
}

/// Every param with the value the evaluation used (default or override).
pub(crate) fn effective_params(
    program: &Program,
    overrides: &[(String, Value)],
) -> Vec<(String, serde_json::Value)> {
    program
        .params
        .iter()
        .map(|p| {
            let value = overrides
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, v)| v.clone())
                .or_else(|| const_value(&p.default).ok())
                .unwrap_or(Value::Null);
            (p.name.clone(), value.to_json())
        })
        .collect()
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

fn select_gate<'p>(program: &'p Program, wanted: Option<&str>) -> Result<&'p GateDecl, NoDecision> {
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

/// Type of a value, as params are typed by their default.
fn ty_of(v: &Value) -> Ty {
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Bool,
        Value::Int(_) | Value::Float(_) => Ty::Num,
        Value::Str(_) => Ty::Str,
        Value::List(_) => Ty::List,
        Value::Object(_) => Ty::Object,
        Value::Duration(_) => Ty::Duration,
        Value::Time(_) => Ty::Time,
        Value::Version(_) => Ty::Version,
    }
}

pub(crate) fn parse_params(
    program: &Program,
    raw: &[String],
) -> Result<Vec<(String, Value)>, NoDecision> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for p in raw {
        let Some((name, text)) = split_assignment(p) else {
            return Err(plain_error(format!(
                "`--param {p}` is not of the form NAME=VALUE"
            )));
        };
        let Some(decl) = program.params.iter().find(|d| d.name == name) else {
            let names: Vec<&str> = program.params.iter().map(|d| d.name.as_str()).collect();
            let hint = match suggest(name, names.iter().copied()) {
                Some(s) => format!("; did you mean `{s}`?"),
                None if names.is_empty() => "; the policy declares no params".into(),
                None => format!("; params: {}", names.join(", ")),
            };
            return Err(plain_error(format!("unknown param `{name}`{hint}")));
        };
        let value = if decl.ty == Ty::Duration {
            crate::syntax::duration_nanos(text)
                .map(|n| Value::Duration(jiff::SignedDuration::from_nanos(n)))
                .ok_or_else(|| {
                    plain_error(format!(
                        "param `{name}` is a duration; `{text}` is not one (write e.g. `24h`, `90m`, `7d`)"
                    ))
                })?
        } else {
            match crate::eval::parse_json(text, Default::default()) {
                Ok(v) => v,
                Err(_) => Value::str(text),
            }
        };
        let default_ty = const_value(&decl.default)
            .map(|v| ty_of(&v))
            .unwrap_or(Ty::Unknown);
        let got = ty_of(&value);
        if default_ty.known() && default_ty != Ty::Null && got != default_ty {
            return Err(plain_error(format!(
                "param `{name}` is a {} (its default is `{}`), but `--param {p}` gives a {}",
                default_ty.name(),
                program.sources.snippet(decl.default.span),
                got.name()
            )));
        }
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), value));
    }
    Ok(out)
}
