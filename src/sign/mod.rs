//! Signed decisions (TRUST.md section 3): a gate's verdict as a DSSE
//! envelope of an in-toto Statement v1 that the next stage, an admission
//! controller or an auditor can check without trusting the CI log.
//!
//! - `key`: Ed25519 signing keys (`clearance keygen`, `--sign-key FILE|env:VAR`);
//! - `subject`: what a decision is about, from the gate's `subject` value;
//! - `statement`: the two predicates (a SLSA Verification Summary, and the
//!   full decision report) and the signed envelope;
//! - `verify`: `clearance verify-decision`.
//!
//! Ed25519 signatures are deterministic, and every JSON object here is
//! written in a fixed field order: the same inputs, key and `now` give the
//! same bytes.

pub mod key;
pub mod statement;
pub mod subject;
pub mod verify;

pub use key::{keygen, SigningKey};
pub use statement::{
    decision_statement, envelope, policy_digest, vsa_statement, VsaOptions, DECISION_PREDICATE,
    DEFAULT_VERIFIER_ID, IN_TOTO_PAYLOAD_TYPE, STATEMENT_TYPE, VSA_PREDICATE,
};
pub use subject::{subjects_of, Subject};
pub use verify::{verify_decision, Verified};

/// Why a key could not be made or used, or a decision not signed or
/// verified. The message names the file or variable and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SignError(pub String);

impl SignError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        SignError(message.into())
    }
}

/// Why a decision was not signed: it has no subject (a diagnostic that
/// points into the policy), or the signing itself failed.
#[derive(Debug, Clone)]
pub enum Refused {
    Subject(subject::SubjectError),
    Sign(SignError),
}

impl Refused {
    /// The message as the CLI prints it.
    pub fn render(
        &self,
        sources: &crate::syntax::SourceMap,
        style: crate::report::Style,
    ) -> String {
        match self {
            Refused::Subject(e) => e.render(sources, style),
            Refused::Sign(e) => format!("error: {e}\n"),
        }
    }

    /// One line, for a JSON line or a log.
    pub fn message(&self) -> String {
        match self {
            Refused::Subject(e) => e.to_string(),
            Refused::Sign(e) => e.to_string(),
        }
    }
}

/// The signed Verification Summary of one decision of `gate`: the
/// envelope's JSON text. `record` is the decision's record (its policy and
/// input digests); the levels are the gate's `level`s unless `options`
/// replaces them.
#[allow(clippy::too_many_arguments)]
pub fn vsa_envelope(
    gate: &crate::syntax::ast::GateDecl,
    result: &crate::eval::GateResult,
    record: &crate::report::DecisionRecord,
    policy_uri: &str,
    now: jiff::Timestamp,
    options: &VsaOptions,
    key: &SigningKey,
) -> Result<String, Refused> {
    let subjects = subject::of_gate(gate, result).map_err(Refused::Subject)?;
    let levels: Vec<String> = gate.levels.iter().map(|l| l.value.clone()).collect();
    let statement = vsa_statement(
        &subjects,
        record,
        policy_uri,
        result.decision,
        &levels,
        options,
        now,
    );
    envelope(&statement, key).map_err(Refused::Sign)
}

/// The signed statement whose predicate is the decision's JSON report
/// (`report_json`, the text `check --format json` prints).
pub fn attestation_envelope(
    gate: &crate::syntax::ast::GateDecl,
    result: &crate::eval::GateResult,
    report_json: &str,
    key: &SigningKey,
) -> Result<String, Refused> {
    let subjects = subject::of_gate(gate, result).map_err(Refused::Subject)?;
    let report: serde_json::Value = serde_json::from_str(report_json).map_err(|e| {
        Refused::Sign(SignError::new(format!(
            "cannot re-read the JSON report: {e}"
        )))
    })?;
    envelope(&decision_statement(&subjects, report), key).map_err(Refused::Sign)
}
