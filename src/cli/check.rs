//! `clearance check`: decide one gate.

use super::{
    evidence, output, plain_error, split_assignment, style, ColorChoice, Format, NoDecision,
};
use crate::check::Program;
use crate::decide;
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
    /// Evidence: `FILE`, `-` for standard input, or `NAME=FILE` to mount a
    /// file at `evidence.NAME` (repeatable). The reader is picked by the
    /// extension: `.yaml`/`.yml` YAML (core schema), `.xml` a JUnit XML test
    /// report, anything else and `-` JSON.
    #[arg(
        long = "evidence",
        short = 'e',
        required = true,
        value_name = "FILE|NAME=FILE"
    )]
    pub evidence: Vec<String>,
    /// A verified attestation mounted at `evidence.NAME` (repeatable): a
    /// DSSE envelope, or JSON Lines of them (`.jsonl`, mounted as a list),
    /// whose signature must verify under a signer of `--trust` before any
    /// rule runs; anything that does not verify is exit 2.
    #[arg(long = "attestation", value_name = "NAME=FILE")]
    pub attestations: Vec<String>,
    /// The trust file (TOML) naming who may sign the attestations; required
    /// with `--attestation`.
    #[arg(long, value_name = "TRUST.toml")]
    pub trust: Option<PathBuf>,
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
    /// With `--sign-key`, `vsa=PATH` writes a signed SLSA Verification
    /// Summary and `attestation=PATH` a signed statement of the JSON report
    /// (DSSE envelopes; the gate must declare a `subject`).
    #[arg(long = "output", short = 'o', value_name = "FORMAT=PATH")]
    pub outputs: Vec<String>,
    #[command(flatten)]
    pub signing: output::SigningArgs,
    #[command(flatten)]
    pub ledger: output::LedgerArgs,
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
    let signs = args.signing.sign_key.is_some();
    output::check_signing(&args.outputs, signs, args.ledger.record)?;
    args.ledger.check(signs)?;
    let signing = args.signing.load()?;
    let now = parse_now(args.now.as_deref())?;
    let params = parse_params(&program, &args.params)?;
    let trusted = args
        .ledger
        .ledger_trust
        .iter()
        .map(|p| crate::ledger::TrustedKey::load(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(plain_error)?;
    let store = match &args.ledger.ledger {
        Some(spec) => Some(std::cell::RefCell::new(
            crate::ledger::open(spec, false).map_err(plain_error)?,
        )),
        None => None,
    };
    let mut options = EvalOptions {
        now,
        params: params.clone(),
        limits,
        ledger: None,
    };
    let mut evidence_files = crate::evidence::read(&evidence::sources(&args.evidence), &limits)
        .map_err(evidence::no_decision(style))?;
    evidence_files
        .files
        .extend(verified_attestations(&args, &limits)?);
    let ledger_read = match (&store, &args.ledger.ledger) {
        (Some(store), Some(spec)) if !trusted.is_empty() => {
            let read = read_ledger(
                &program,
                gate,
                &evidence_files,
                &options,
                &mut **store.borrow_mut(),
                &trusted,
                args.ledger.ledger_at,
                style,
            )?;
            options.ledger = Some(read.0);
            Some(decide::LedgerRead {
                ledger: spec.clone(),
                trust: args
                    .ledger
                    .ledger_trust
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                snapshot: read.1,
            })
        }
        _ => None,
    };
    let request = decide::Request {
        strict_evidence: args.strict_evidence,
        process_exits: true,
        ..decide::Request::new(
            &program,
            decide::Target::Gate(gate),
            &evidence_files,
            &options,
        )
    };
    let result = decide::decide(&request).map_err(|e| NoDecision(e.render(style)))?;
    let invocation = decide::Invocation {
        command: "check",
        policy: args.policy.display().to_string(),
        target: gate.label(),
        now,
        params: args.params.clone(),
        waivers: args
            .waivers
            .iter()
            .map(|w| w.display().to_string())
            .collect(),
        evidence: args.evidence.clone(),
        attestations: args.attestations.clone(),
        trust: args.trust.as_ref().map(|t| t.display().to_string()),
        strict_evidence: args.strict_evidence,
        limits,
        ledger: ledger_read,
    };
    let subject = gate.label();
    let run = output::Run {
        program: &program,
        result: &result,
        subject: &subject,
        gate: Some(gate),
        signing: signing.as_ref(),
        recording: match (&store, &args.ledger.ledger) {
            (Some(store), Some(ledger)) if args.ledger.record => {
                Some(output::Recording { store, ledger })
            }
            _ => None,
        },
        command: "check",
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

/// The `ledger` value of this decision and the snapshot it was read at:
/// the gate's subject is evaluated first (the history is of that digest),
/// and a subject that is missing or not a digest stops the run.
#[allow(clippy::too_many_arguments)]
fn read_ledger(
    program: &Program,
    gate: &GateDecl,
    evidence: &crate::evidence::Evidence,
    options: &EvalOptions,
    store: &mut dyn crate::ledger::Store,
    trusted: &[crate::ledger::TrustedKey],
    at: Option<u64>,
    style: report::Style,
) -> Result<(Value, crate::ledger::Snapshot), NoDecision> {
    let request = decide::Request::new(program, decide::Target::Gate(gate), evidence, options);
    let digests = decide::subject_digests(&request, gate)
        .map_err(|e| NoDecision(e.render(program, style)))?;
    crate::ledger::read(store, &digests, at, trusted).map_err(plain_error)
}

/// The `--attestation NAME=FILE` mounts, each verified against `--trust`
/// before any rule runs (TRUST.md section 2): one that does not verify is
/// exit 2, naming the file and its code, and nothing is decided.
fn verified_attestations(
    args: &CheckArgs,
    limits: &crate::limits::Limits,
) -> Result<Vec<crate::report::EvidenceText>, NoDecision> {
    if args.attestations.is_empty() {
        if args.trust.is_some() {
            return Err(plain_error(
                "`--trust` is given without any `--attestation`",
            ));
        }
        return Ok(Vec::new());
    }
    let Some(trust_path) = &args.trust else {
        return Err(plain_error(
            "`--attestation` needs `--trust TRUST.toml`: the signers an attestation may come from",
        ));
    };
    let trust = crate::attest::Trust::load(trust_path).map_err(plain_error)?;
    let mut files = Vec::new();
    for arg in &args.attestations {
        let Some((mount, file)) = crate::evidence::source::split_mount(arg) else {
            return Err(plain_error(format!(
                "`--attestation {arg}` is not of the form NAME=FILE (a lower-case name)"
            )));
        };
        if args
            .evidence
            .iter()
            .any(|e| e.split_once('=').is_some_and(|(n, _)| n == mount))
            || files
                .iter()
                .any(|f: &crate::report::EvidenceText| f.mount.as_deref() == Some(mount))
        {
            return Err(plain_error(format!(
                "evidence mount `{mount}` is given twice"
            )));
        }
        let verified =
            crate::attest::verify_file(mount, std::path::Path::new(file), &trust, limits)
                .map_err(plain_error)?;
        files.push(crate::report::EvidenceText::attested(&verified));
    }
    Ok(files)
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
        Some(s) => crate::eval::builtins::parse_rfc3339(s).map_err(|e| {
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
    decide::select_gate(program, wanted).map_err(plain_error)
}
