//! Writing a decision in every requested format: the primary `--format` on
//! standard output, and each `--output FORMAT=PATH` to its file.

use super::{files, plain_error, Format, NoDecision};
use crate::check::Program;
use crate::eval::{GateResult, Value};
use crate::report::{self, ci, Evidence, JsonContext, Style};
use crate::sign::{SigningKey, VsaOptions};
use crate::syntax::ast::GateDecl;

/// The signing flags of `check` and `batch`.
#[derive(clap::Args, Debug, Clone)]
pub struct SigningArgs {
    /// The Ed25519 private key (PKCS#8 PEM, from `clearance keygen`) that
    /// signs the `vsa` and `attestation` outputs: a FILE, or `env:VAR` for a
    /// CI secret held in an environment variable.
    #[arg(long, value_name = "FILE|env:VAR")]
    pub sign_key: Option<String>,
    /// `verifier.id` of the Verification Summary [default: https://clearance.dev/verifier].
    #[arg(long, value_name = "URI")]
    pub verifier_id: Option<String>,
    /// `resourceUri` of the Verification Summary, the artifact's location
    /// (e.g. `oci://ghcr.io/acme/payments`) [default: the first subject's name].
    #[arg(long, value_name = "URI")]
    pub resource_uri: Option<String>,
    /// A level the Verification Summary claims when the gate allows
    /// (repeatable; replaces the gate's `level` declarations), e.g.
    /// `SLSA_BUILD_LEVEL_3`.
    #[arg(long = "verified-level", value_name = "LEVEL")]
    pub verified_levels: Vec<String>,
}

impl SigningArgs {
    /// The key and summary options; a key that is missing, unreadable or
    /// public is exit 2 before anything is decided.
    pub fn load(&self) -> Result<Option<Signing>, NoDecision> {
        let Some(spec) = &self.sign_key else {
            return Ok(None);
        };
        let key = SigningKey::load(spec).map_err(plain_error)?;
        Ok(Some(Signing {
            key,
            vsa: VsaOptions {
                verifier_id: self.verifier_id.clone(),
                resource_uri: self.resource_uri.clone(),
                levels: (!self.verified_levels.is_empty()).then(|| self.verified_levels.clone()),
            },
        }))
    }
}

/// The ledger flags of `check` (TRUST.md section 4).
#[derive(clap::Args, Debug, Clone)]
pub struct LedgerArgs {
    /// The promotion ledger: `sqlite:PATH` or `PATH.db` (embedded), or
    /// `postgres://USER@HOST/DB` (shared). Needs `--record` or `--ledger-trust`.
    #[arg(long, value_name = "LEDGER")]
    pub ledger: Option<String>,
    /// Append this decision (allowed or denied) to `--ledger`, signed with
    /// `--sign-key`, before it is printed; a failed append is exit 2.
    #[arg(long)]
    pub record: bool,
    /// A public key whose signed decisions rules may read as `ledger`
    /// (repeatable); entries signed by other keys are left out.
    #[arg(long = "ledger-trust", value_name = "PUB.pem")]
    pub ledger_trust: Vec<std::path::PathBuf>,
    /// Read the ledger as it was at SIZE entries (replays a recorded decision).
    #[arg(long, value_name = "SIZE")]
    pub ledger_at: Option<u64>,
}

impl LedgerArgs {
    /// Refuses combinations that cannot mean anything, before any work.
    pub fn check(&self, signing: bool) -> Result<(), NoDecision> {
        let refuse = |m: &str| Err(plain_error(m));
        match (&self.ledger, self.record, self.ledger_trust.is_empty()) {
            (None, true, _) => return refuse("`--record` needs `--ledger LEDGER`"),
            (None, _, false) => return refuse("`--ledger-trust` needs `--ledger LEDGER`"),
            (Some(_), false, true) => {
                return refuse("`--ledger` needs `--record` (append this decision) or `--ledger-trust PUB.pem` (let rules read the history)")
            }
            _ => {}
        }
        if self.record && !signing {
            return refuse("`--record` needs `--sign-key`: the same key signs the entry and the ledger's new checkpoint");
        }
        if self.ledger_at.is_some() && self.ledger_trust.is_empty() {
            return refuse("`--ledger-at` sets the history rules read, and needs `--ledger-trust`");
        }
        Ok(())
    }
}

/// An append to make once the decision is known and before it is printed.
pub struct Recording<'a> {
    pub store: &'a std::cell::RefCell<Box<dyn crate::ledger::Store>>,
    pub ledger: &'a str,
}

/// `--sign-key` and what the Verification Summary says besides the decision.
pub struct Signing {
    pub key: SigningKey,
    pub vsa: VsaOptions,
}

/// What one `--output KIND=PATH` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The report in a format.
    Report(Format),
    /// A signed SLSA Verification Summary.
    Vsa,
    /// A signed statement carrying the JSON report.
    Attestation,
}

impl Output {
    pub fn signed(self) -> bool {
        matches!(self, Output::Vsa | Output::Attestation)
    }
}

pub struct Run<'a> {
    pub program: &'a Program,
    pub result: &'a GateResult,
    pub subject: &'a str,
    /// The gate decided; `None` for rollback.
    pub gate: Option<&'a GateDecl>,
    /// The signing key and summary options, when `--sign-key` was given.
    pub signing: Option<&'a Signing>,
    /// `--record`: the ledger this decision is appended to.
    pub recording: Option<Recording<'a>>,
    /// `check` or `rollback`.
    pub command: &'a str,
    pub evidence: &'a Evidence,
    pub now: String,
    pub params: &'a [(String, Value)],
    /// What re-runs this decision: the decision record is built from it
    /// only when a JSON report needs it (hashing a 100 MB bundle is not free).
    pub invocation: &'a crate::decide::Invocation,
    pub style: Style,
}

pub fn render(format: Format, run: &Run<'_>) -> String {
    let ctx = ci::CiContext {
        program: run.program,
        result: run.result,
        subject: run.subject,
        command: run.command,
        evidence: run.evidence,
        now: run.now.clone(),
    };
    match format {
        Format::Human if run.command == "rollback" => report::render_rollback(
            run.program,
            run.subject,
            run.result,
            run.style,
            run.evidence,
        ),
        Format::Human => report::render_gate(
            run.program,
            run.subject,
            run.result,
            run.style,
            run.evidence,
        ),
        Format::Json => report::gate_json(
            run.program,
            run.result,
            &JsonContext {
                command: run.command,
                subject: run.subject,
                gate: run.gate,
                now: run.now.clone(),
                params: crate::params::effective(run.program, run.params),
                evidence: run.evidence,
                record: Some(crate::decide::record(
                    run.program,
                    run.evidence,
                    run.invocation,
                    run.result,
                )),
            },
        ),
        Format::Sarif => ci::sarif(&ctx),
        Format::Junit => ci::junit(&ctx),
        Format::Github => ci::github(&ctx),
        Format::Markdown => ci::markdown(&ctx),
    }
}

/// `FORMAT=PATH` of `--output`.
pub fn parse_output(spec: &str) -> Result<(Output, std::path::PathBuf), NoDecision> {
    use clap::ValueEnum;
    let (format, path) = spec.split_once('=').ok_or_else(|| {
        plain_error(format!(
            "`--output {spec}` is not of the form FORMAT=PATH (e.g. sarif=clearance.sarif)"
        ))
    })?;
    let output = match format {
        "vsa" => Output::Vsa,
        "attestation" => Output::Attestation,
        _ => Output::Report(Format::from_str(format, true).map_err(|_| {
            plain_error(format!(
                "unknown format `{format}` in `--output {spec}`; formats: human, json, sarif, junit, github, markdown, and with `--sign-key` vsa, attestation"
            ))
        })?),
    };
    Ok((output, std::path::PathBuf::from(path)))
}

/// The outputs of `--output`, refusing a signed one without `--sign-key`
/// and `--sign-key` without a signed output (a key given for nothing is a
/// mistake worth knowing about). Checked before anything is decided.
pub fn check_signing(outputs: &[String], signing: bool, record: bool) -> Result<(), NoDecision> {
    let mut signed = None;
    for spec in outputs {
        let (output, _) = parse_output(spec)?;
        if output.signed() {
            signed.get_or_insert_with(|| spec.clone());
        }
    }
    match (signed, signing) {
        (Some(spec), false) => Err(plain_error(format!(
            "`--output {spec}` is a signed decision and needs `--sign-key FILE` (or `--sign-key env:VAR`); `clearance keygen PREFIX` makes a key"
        ))),
        (None, true) if !record => Err(plain_error(
            "`--sign-key` is given, but no `--output vsa=PATH`, `--output attestation=PATH` or `--record` uses it",
        )),
        _ => Ok(()),
    }
}

/// A signed decision envelope (`vsa` or `attestation`) for this run.
fn signed(output: Output, run: &Run<'_>) -> Result<String, NoDecision> {
    let Some(signing) = run.signing else {
        return Err(plain_error("a signed output needs `--sign-key`"));
    };
    let Some(gate) = run.gate else {
        return Err(plain_error(
            "signed decisions are made for gates; a rollback decision is not signed",
        ));
    };
    let signed = match output {
        Output::Vsa => {
            let record =
                crate::decide::record(run.program, run.evidence, run.invocation, run.result);
            crate::sign::vsa_envelope(
                gate,
                run.result,
                &record,
                &run.invocation.policy,
                run.invocation.now,
                &signing.vsa,
                &signing.key,
            )
        }
        _ => crate::sign::attestation_envelope(
            gate,
            run.result,
            &render(Format::Json, run),
            &signing.key,
        ),
    };
    signed.map_err(|e| NoDecision(e.render(&run.program.sources, run.style)))
}

/// Prints the primary format, writes every `--output`, and appends the
/// Markdown summary to `$GITHUB_STEP_SUMMARY` for the github format.
///
/// Every output is resolved and checked against the inputs before anything
/// is written, written to a temporary file, and put in place only after the
/// report reached standard output: a run that ends in exit 2 leaves no
/// report file behind, and no output can replace the policy, an import, a
/// waivers file or an evidence file.
pub fn emit(format: Format, outputs: &[String], run: &Run<'_>) -> Result<(), NoDecision> {
    let inputs = files::inputs(
        run.program
            .sources
            .files()
            .iter()
            .map(|f| f.name.as_str())
            .chain(run.evidence.files.iter().map(|f| f.name.as_str())),
    );
    let mut targets = Vec::new();
    let mut kinds = Vec::new();
    for spec in outputs {
        let (kind, path) = parse_output(spec)?;
        targets.push(files::target(&path, &inputs, &format!("--output {spec}"))?);
        kinds.push(kind);
    }
    files::distinct(&targets)?;
    let staged = targets
        .into_iter()
        .zip(&kinds)
        .map(|(target, kind)| {
            let text = match kind {
                Output::Report(f) => render(*f, run),
                signed_kind => signed(*signed_kind, run)?,
            };
            files::Staged::new(target, text)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let github = format == Format::Github || kinds.contains(&Output::Report(Format::Github));
    let summary = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|_| github);
    let md = summary.as_ref().map(|_| render(Format::Markdown, run));
    let shown = render(format, run);
    // Everything to be shown is rendered: every piece of a file read as a
    // stream that a report read again since (what it cites) must still be
    // the text the decision was made on, or nothing is shown.
    run.evidence
        .unchanged()
        .map_err(|e| NoDecision(e.render(run.style)))?;
    if let (Some(summary), Some(md)) = (summary, md) {
        use std::io::Write;
        // The summary is a convenience next to the decision, not part
        // of it: a runner whose summary file cannot be written still
        // gets the decision, with a warning.
        if let Err(e) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut f| f.write_all(md.as_bytes()))
        {
            eprintln!("warning: cannot append the summary to $GITHUB_STEP_SUMMARY: {e}");
        }
    }
    if let Some(recording) = &run.recording {
        // The append is part of the decision: when it fails, nothing is
        // printed and no output is put in place (the staged files go).
        let envelope = signed(Output::Attestation, run)?;
        let key = run
            .signing
            .map(|s| &s.key)
            .ok_or_else(|| plain_error("`--record` needs `--sign-key`"))?;
        let seq = crate::ledger::record(&mut **recording.store.borrow_mut(), &envelope, key)
            .map_err(plain_error)?;
        eprintln!("recorded in {} as seq {seq}", recording.ledger);
    }
    super::emit(&shown)?;
    for s in staged {
        s.commit()?;
    }
    Ok(())
}
