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
