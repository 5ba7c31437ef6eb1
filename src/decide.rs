//! The decision driver: the one way to decide a gate, or whether a stage
//! rolls back. `clearance check`, `rollback`, `batch` and `test` call it; so
//! can any program that embeds Clearance.
//!
//! In: a compiled [`Program`], the [`Target`], the evidence as read by
//! [`crate::evidence::read`], and the [`EvalOptions`] (now, params, limits).
//! Out: the [`GateResult`], and on request the [`DecisionRecord`] that makes
//! it reproducible: digests of every input and the [`Invocation`] that
//! re-runs it.
//!
//! A gate is decided on a lean load of only what its rules read. When every
//! rule passes, that is the result. Otherwise the failing rules are
//! explained on the same load by the evaluator's tracing mode, which carries
//! each value's JSON pointer and reads every value it shows (and every
//! "fields present" of an error) from the evidence file's text, so no field
//! the lean load left out is misstated. With `strict_evidence` (which checks
//! the evidence as loaded for explanations) or when the lean load fails (the
//! full load then reports the problem), everything is decided on a load for
//! explanations.
//!
//! ```
//! use clearance::decide::{self, Request, Target};
//! use clearance::evidence::{self, Source};
//! use clearance::eval::{Decision, EvalOptions};
//!
//! let program = clearance::compile_str("p.clr", r#"
//!     stages staging -> prod
//!     gate staging -> prod {
//!       rule coverage { require evidence.tests.coverage >= 80 }
//!     }
//! "#).expect("compiles");
//! let gate = program.gate("staging", "prod").expect("declared");
//! let options = EvalOptions::at("2026-11-26T00:00:00Z".parse().expect("RFC 3339"));
//! let sources = [Source::Text {
//!     mount: None,
//!     name: "request.json".into(),
//!     text: r#"{"tests": {"coverage": 72.5}}"#.to_string().into(),
//! }];
//! let evidence = evidence::read(&sources, &options.limits).expect("within limits");
//! let result = decide::decide(&Request::new(&program, Target::Gate(gate), &evidence, &options))
//!     .expect("the evidence loads");
//! assert_eq!(result.decision, Decision::Denied);
//! assert_eq!(result.rules[0].outcome.as_str(), "fail");
//!
//! // What makes it reproducible: digests of every input, and the command.
//! let invocation = decide::Invocation {
//!     command: "check",
//!     policy: "p.clr".into(),
//!     target: gate.label(),
//!     now: options.now,
//!     params: Vec::new(),
//!     waivers: Vec::new(),
//!     evidence: vec!["request.json".into()],
//!     attestations: Vec::new(),
//!     trust: None,
//!     strict_evidence: false,
//!     limits: options.limits,
//!     ledger: None,
//! };
//! let record = decide::record(&program, &evidence, &invocation, &result);
//! assert_eq!(
//!     record.command,
//!     "clearance check p.clr --gate 'staging -> prod' --now 2026-11-26T00:00:00Z --evidence request.json"
//! );
//! ```

use crate::check::{suggest, Program, Stage};
use crate::eval::compiled::Compiled;
use crate::eval::projection::{self, Projection};
use crate::eval::{self, EvalOptions, GateResult};
use crate::evidence::{self, Evidence, EvidenceError, Load};
use crate::limits::Limits;
use crate::report::{DecisionRecord, FileDigest, Style};
use crate::syntax::ast::GateDecl;
use sha2::{Digest, Sha256};

/// What is decided.
#[derive(Clone, Copy, Debug)]
pub enum Target<'p> {
    /// A promotion gate: allowed or denied.
    Gate(&'p GateDecl),
    /// A stage's rollback triggers: denied means "roll back".
    Rollback(&'p Stage),
}

impl Target<'_> {
    /// `staging -> prod`, or the stage's name.
    pub fn label(&self) -> String {
        match self {
            Target::Gate(g) => g.label(),
            Target::Rollback(s) => s.name.clone(),
        }
    }
}

/// Everything a decision depends on.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub program: &'a Program,
    pub target: Target<'a>,
    pub evidence: &'a Evidence,
    pub options: &'a EvalOptions,
    /// Refuse (no decision) evidence that does not fit the schema the gate
    /// reads (`clearance schema`), before deciding anything.
    pub strict_evidence: bool,
    /// The process exits right after this decision: leave the evidence tree
    /// to the operating system instead of freeing it node by node (which
    /// costs a noticeable part of a large bundle's run). A long-running
    /// caller must leave this false: with it, the tree is never freed.
    pub process_exits: bool,
}

impl<'a> Request<'a> {
    /// A request with the defaults: no strict schema, evidence freed.
    pub fn new(
        program: &'a Program,
        target: Target<'a>,
        evidence: &'a Evidence,
        options: &'a EvalOptions,
    ) -> Self {
        Request {
            program,
            target,
            evidence,
            options,
            strict_evidence: false,
            process_exits: false,
        }
    }
}

/// Why no decision was made.
#[derive(Debug, Clone)]
pub enum DecideError {
    /// The evidence cannot be read or loaded.
    Evidence(EvidenceError),
    /// With `strict_evidence`: where the evidence does not fit the schema.
    Schema {
        gate: String,
        /// JSON pointer, what is wrong there, and `file:line:col` when known.
        violations: Vec<(String, String, Option<String>)>,
    },
}

impl From<EvidenceError> for DecideError {
    fn from(e: EvidenceError) -> Self {
        DecideError::Evidence(e)
    }
}

impl DecideError {
    /// The diagnostic as the CLI prints it.
    pub fn render(&self, style: Style) -> String {
        match self {
            DecideError::Evidence(e) => e.render(style),
            DecideError::Schema { gate, violations } => {
                let mut msg = format!(
                    "error: the evidence does not fit the schema of gate `{gate}` (--strict-evidence); {} problem{}:\n",
                    violations.len(),
                    if violations.len() == 1 { "" } else { "s" }
                );
                for (pointer, what, at) in violations {
                    let shown = if pointer.is_empty() { "/" } else { pointer };
                    let at = at
                        .as_ref()
                        .map(|a| format!(" (at {a})"))
                        .unwrap_or_default();
                    msg.push_str(&format!("  {shown} {what}{at}\n"));
                }
                msg.push_str("  help: `clearance schema POLICY --gate FROM->TO` prints the schema the evidence must fit\n");
                msg
            }
        }
    }
}

impl std::fmt::Display for DecideError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecideError::Evidence(e) => write!(f, "{e}"),
            DecideError::Schema { gate, violations } => write!(
                f,
                "the evidence does not fit the schema of gate `{gate}` ({} problems)",
                violations.len()
            ),
        }
    }
}

impl std::error::Error for DecideError {}

/// Decides the request (see the module docs for the strategy).
pub fn decide(req: &Request<'_>) -> Result<GateResult, DecideError> {
    let result = decide_target(req)?;
    // A file read as a stream and read whole since (for what explanations
    // show) must be the text the stream read (`evidence::stream`).
    req.evidence.unchanged()?;
    Ok(result)
}

fn decide_target(req: &Request<'_>) -> Result<GateResult, DecideError> {
    match req.target {
        Target::Gate(gate) => decide_gate(req, gate),
        Target::Rollback(stage) => {
            let projection = projection::of_rules(req.program, &stage.lets, &stage.triggers);
            let bundle = evidence::assemble(
                req.evidence,
                &req.options.limits,
                Load::Explain(&projection),
            )?;
            let result =
                eval::evaluate_triggers_in(req.program, stage, &bundle, req.options, req.evidence);
            finished_with(req, bundle);
            Ok(result)
        }
    }
}

/// The value of `gate`'s `subject` on the request's evidence, before any
/// rule runs (what the ledger is read for); `None` when it declares none.
pub fn subject(
    req: &Request<'_>,
    gate: &GateDecl,
) -> Result<Option<Result<eval::Value, eval::EvalError>>, DecideError> {
    if gate.subject.is_none() {
        return Ok(None);
    }
    let projection = projection::of_subject(req.program, gate);
    let bundle = evidence::assemble(req.evidence, &req.options.limits, Load::Decide(&projection))?;
    let value = eval::evaluate_subject(req.program, gate, &bundle, req.options);
    finished_with(req, bundle);
    Ok(value)
}

/// Why the digests a decision is about are not known: the evidence could
/// not be loaded, or the gate's subject is missing or not a digest.
#[derive(Debug, Clone)]
pub enum NoSubject {
    Evidence(DecideError),
    Subject(crate::sign::subject::SubjectError),
}

impl NoSubject {
    /// The diagnostic as the CLI prints it.
    pub fn render(&self, program: &Program, style: Style) -> String {
        match self {
            NoSubject::Evidence(e) => e.render(style),
            NoSubject::Subject(e) => e.render(&program.sources, style),
        }
    }
}

/// The `sha256:HEX` digests of `gate`'s subject, evaluated before any rule
/// runs: whose history the ledger is read for.
pub fn subject_digests(req: &Request<'_>, gate: &GateDecl) -> Result<Vec<String>, NoSubject> {
    let value = subject(req, gate).map_err(NoSubject::Evidence)?;
    let subjects =
        crate::sign::subject::of_value(gate, value.as_ref()).map_err(NoSubject::Subject)?;
    Ok(subjects.iter().map(|s| s.digest_string()).collect())
}

fn decide_gate(req: &Request<'_>, gate: &GateDecl) -> Result<GateResult, DecideError> {
    let limits = &req.options.limits;
    let lean = if req.strict_evidence {
        None
    } else {
        let projection = projection::of_gate(req.program, gate, false);
        evidence::assemble(req.evidence, limits, Load::Decide(&projection)).ok()
    };
    let Some(bundle) = lean else {
        return decide_explained(req, gate);
    };
    let first = eval::first_pass(req.program, gate, &bundle, req.options);
    let subject = eval::evaluate_subject(req.program, gate, &bundle, req.options);
    let mut result = match first {
        eval::FirstPass::Decided(result) => result,
        // Explained on the load that decided: values shown are read from
        // the files (see the module docs; `tests/shown_values.rs` holds the
        // reports to those of a whole load).
        eval::FirstPass::Explain(pending) => {
            pending.finish_in(req.program, &bundle, req.options, req.evidence)
        }
    };
    finished_with(req, bundle);
    result.subject = subject;
    Ok(result)
}

/// One load with everything explanations show; every failing rule explained.
fn decide_explained(req: &Request<'_>, gate: &GateDecl) -> Result<GateResult, DecideError> {
    let projection = projection::of_gate(req.program, gate, true);
    let bundle = evidence::assemble(
        req.evidence,
        &req.options.limits,
        Load::Explain(&projection),
    )?;
    if req.strict_evidence {
        let schema = crate::schema::infer(req.program, Some(gate));
        let violations = crate::schema::validate(&schema, &bundle);
        if !violations.is_empty() {
            let violations = violations
                .into_iter()
                .map(|(pointer, what)| {
                    let at = req
                        .evidence
                        .locate(&pointer)
                        .and_then(|l| req.evidence.describe(&l))
                        .map(|(f, l, c)| format!("{f}:{l}:{c}"));
                    (pointer, what, at)
                })
                .collect();
            return Err(DecideError::Schema {
                gate: gate.label(),
                violations,
            });
        }
    }
    let mut result = eval::evaluate_gate_in(req.program, gate, &bundle, req.options, req.evidence);
    result.subject = eval::evaluate_subject(req.program, gate, &bundle, req.options);
    finished_with(req, bundle);
    Ok(result)
}

fn finished_with(req: &Request<'_>, bundle: eval::Value) {
    if req.process_exits {
        std::mem::forget(bundle);
    }
}

/// A gate prepared once for deciding many bundles, outcomes only (no rule
/// is explained, so only what rules read is loaded): `clearance batch`.
/// Compiled code holds reference-counted values, so each thread prepares
/// its own.
pub struct Prepared<'p> {
    gate: &'p GateDecl,
    compiled: Compiled<'p>,
    projection: Projection,
    /// Whether each result carries the gate's subject (signed outputs need
    /// it; plain outcomes do not, so neither its load nor its evaluation
    /// is paid for).
    with_subject: bool,
}

impl<'p> Prepared<'p> {
    pub fn new(program: &'p Program, gate: &'p GateDecl) -> Self {
        Prepared {
            gate,
            compiled: Compiled::new(program, &gate.lets, &gate.rules),
            projection: projection::for_decision(program, &gate.lets, &gate.rules),
            with_subject: false,
        }
    }

    /// [`Self::new`], with the gate's subject evaluated for every bundle.
    pub fn with_subject(program: &'p Program, gate: &'p GateDecl) -> Self {
        Prepared {
            projection: projection::of_gate(program, gate, false),
            with_subject: true,
            ..Self::new(program, gate)
        }
    }

    /// The program this gate belongs to.
    pub fn program(&self) -> &'p Program {
        self.compiled.program()
    }

    /// The gate this was prepared for.
    pub fn gate(&self) -> &'p GateDecl {
        self.gate
    }

    /// Rule outcomes, waivers, summary and decision for `evidence`: what
    /// [`decide`] gives, except that failing rules carry no explanation.
    pub fn outcomes(
        &self,
        evidence: &Evidence,
        options: &EvalOptions,
    ) -> Result<GateResult, EvidenceError> {
        let bundle = evidence::assemble(evidence, &options.limits, Load::Decide(&self.projection))?;
        let mut result = eval::decide_gate(&self.compiled, self.gate, &bundle, options);
        if self.with_subject {
            result.subject =
                eval::evaluate_subject(self.compiled.program(), self.gate, &bundle, options);
        }
        Ok(result)
    }
}

/// Every option that can change a decision, as given: the decision record
/// derives the command that re-runs it from this, so no flag is forgotten.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// `check` or `rollback`.
    pub command: &'static str,
    pub policy: String,
    /// The gate (`staging -> prod`) or, for rollback, the stage.
    pub target: String,
    pub now: jiff::Timestamp,
    /// `NAME=VALUE`, as given.
    pub params: Vec<String>,
    pub waivers: Vec<String>,
    /// `FILE`, `-` or `NAME=FILE`, as given.
    pub evidence: Vec<String>,
    /// `NAME=FILE` of `--attestation`, as given, and the `--trust` file.
    pub attestations: Vec<String>,
    pub trust: Option<String>,
    pub strict_evidence: bool,
    pub limits: Limits,
    /// The ledger the rules read, its trusted keys and the size read.
    pub ledger: Option<LedgerRead>,
}

/// `--ledger LEDGER --ledger-trust PUB... --ledger-at SIZE` of a decision
/// whose rules read `ledger`.
#[derive(Clone, Debug)]
pub struct LedgerRead {
    pub ledger: String,
    pub trust: Vec<String>,
    pub snapshot: crate::ledger::Snapshot,
}

impl Invocation {
    /// The arguments that re-run this decision: the limits that differ from
    /// their defaults are included (a lower `--max-steps` can deny what the
    /// default allows).
    pub fn argv(&self) -> Vec<String> {
        let target_flag = if self.command == "rollback" {
            "--stage"
        } else {
            "--gate"
        };
        let mut argv = vec![
            "clearance".to_string(),
            self.command.to_string(),
            self.policy.clone(),
            target_flag.to_string(),
            self.target.clone(),
            "--now".into(),
            self.now.to_string(),
        ];
        for p in &self.params {
            argv.extend(["--param".into(), p.clone()]);
        }
        for w in &self.waivers {
            argv.extend(["--waivers".into(), w.clone()]);
        }
        for e in &self.evidence {
            argv.extend(["--evidence".into(), e.clone()]);
        }
        for a in &self.attestations {
            argv.extend(["--attestation".into(), a.clone()]);
        }
        if let Some(t) = &self.trust {
            argv.extend(["--trust".into(), t.clone()]);
        }
        if self.strict_evidence {
            argv.push("--strict-evidence".into());
        }
        if let Some(l) = &self.ledger {
            argv.extend(["--ledger".into(), l.ledger.clone()]);
            for t in &l.trust {
                argv.extend(["--ledger-trust".into(), t.clone()]);
            }
            // The size read, so the re-run reads the same history however
            // much was appended since.
            argv.extend(["--ledger-at".into(), l.snapshot.size.to_string()]);
        }
        for (flag, value) in self.limits.non_default_flags() {
            argv.extend([flag.to_string(), value]);
        }
        argv
    }

    /// [`Self::argv`] as one line for a POSIX shell.
    pub fn command_line(&self) -> String {
        self.argv()
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Quotes one argument for a POSIX shell, only when it needs it.
fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./=:@%+,-".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn sha256(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The decision record: digests of everything read, the waivers that
/// changed an outcome, and the command that re-runs the decision. Built
/// only when a report needs it (hashing a 100 MB bundle is not free).
pub fn record(
    program: &Program,
    evidence: &Evidence,
    invocation: &Invocation,
    result: &GateResult,
) -> DecisionRecord {
    DecisionRecord {
        engine: format!("clearance {}", env!("CARGO_PKG_VERSION")),
        policy_files: program
            .sources
            .files()
            .iter()
            .map(|f| FileDigest {
                file: f.name.clone(),
                mount: None,
                sha256: sha256(&f.text),
            })
            .collect(),
        evidence_files: evidence
            .files
            .iter()
            .map(|f| match &f.attestation {
                // What was read is the attestation file, not the statement text.
                Some(a) => FileDigest {
                    file: a.file.clone(),
                    mount: f.mount.clone(),
                    sha256: a.sha256.clone(),
                },
                None => FileDigest {
                    file: f.name.clone(),
                    mount: f.mount.clone(),
                    sha256: f.sha256(),
                },
            })
            .collect(),
        attestations: evidence
            .files
            .iter()
            .filter_map(|f| {
                let a = f.attestation.as_ref()?;
                Some(crate::report::AttestationRecord {
                    file: a.file.clone(),
                    mount: f.mount.clone().unwrap_or_default(),
                    sha256: a.sha256.clone(),
                    signers: a.signers.clone(),
                    log_indexes: a.log_indexes.clone(),
                })
            })
            .collect(),
        waivers_applied: result
            .waivers
            .iter()
            .filter(|w| w.state == eval::WaiverState::Applied)
            .map(|w| w.rule.clone())
            .collect(),
        command: invocation.command_line(),
        ledger: invocation
            .ledger
            .as_ref()
            .map(|l| crate::report::LedgerRecord {
                size: l.snapshot.size,
                root: l.snapshot.root_hex(),
            }),
    }
}

/// The gate `wanted` names (`FROM->TO`, spaces optional), or the policy's
/// only gate when `None`; the message says what the policy has otherwise.
pub fn select_gate<'p>(program: &'p Program, wanted: Option<&str>) -> Result<&'p GateDecl, String> {
    let labels: Vec<String> = program.gates.iter().map(GateDecl::label).collect();
    match wanted {
        None => match program.gates.as_slice() {
            [only] => Ok(only),
            [] => Err("the policy has no gate to check".into()),
            _ => Err(format!(
                "the policy has {} gates; choose one with `--gate`: {}",
                labels.len(),
                labels.join(", ")
            )),
        },
        Some(w) => {
            let Some((from, to)) = w.split_once("->") else {
                return Err(format!(
                    "`--gate {w}` is not of the form FROM->TO (e.g. `--gate staging->prod`)"
                ));
            };
            program.gate(from.trim(), to.trim()).ok_or_else(|| {
                let wanted = format!("{} -> {}", from.trim(), to.trim());
                let hint = suggest(&wanted, labels.iter().map(String::as_str))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                format!(
                    "the policy has no gate `{wanted}`{hint} (gates: {})",
                    labels.join(", ")
                )
            })
        }
    }
}
