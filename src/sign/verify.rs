//! `clearance verify-decision`: checks a signed decision (either envelope
//! of `--output vsa` / `--output attestation`) against a public key, and
//! optionally that it is about a given digest.

use super::statement::{DECISION_PREDICATE, IN_TOTO_PAYLOAD_TYPE, STATEMENT_TYPE, VSA_PREDICATE};
use super::subject::parse_digest;
use super::SignError;
use crate::attest::dsse::{base64_decode, pae};
use crate::attest::keys::PublicKey;
use serde_json::Value;

/// A decision whose signature verified.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The predicate type: a Verification Summary or a decision report.
    pub predicate_type: String,
    /// `PASSED` or `FAILED`.
    pub result: String,
    /// `sha256:HEX` of every subject, in order.
    pub subjects: Vec<String>,
    /// The id of the key whose signature verified.
    pub key_id: String,
}

impl Verified {
    pub fn passed(&self) -> bool {
        self.result == "PASSED"
    }
}

/// Verifies `envelope` (the file's text, named `file` in errors) under the
/// PEM public key `public_pem`; with `subject`, the statement must name
/// that digest. Any error is a decision that must not be trusted.
pub fn verify_decision(
    file: &str,
    envelope: &str,
    public_pem: &str,
    subject: Option<&str>,
) -> Result<Verified, SignError> {
    let (key, key_id) =
        PublicKey::from_pem(public_pem).map_err(|e| SignError::new(format!("the key: {e}")))?;
    open(file, envelope, &key, &key_id, subject).map(|(verified, _)| verified)
}

/// [`verify_decision`] with a parsed key; also returns the statement.
pub fn open(
    file: &str,
    envelope: &str,
    key: &PublicKey,
    key_id: &str,
    subject: Option<&str>,
) -> Result<(Verified, Value), SignError> {
    let fail = |what: String| SignError::new(format!("{file}: {what}"));
    if let Some(wanted) = subject {
        parse_digest(wanted).map_err(|e| SignError::new(format!("`--subject`: {e}")))?;
    }
    let envelope: Value = serde_json::from_str(envelope)
        .map_err(|e| fail(format!("not a JSON DSSE envelope: {e}")))?;
    let payload_type = envelope.get("payloadType").and_then(Value::as_str);
    if payload_type != Some(IN_TOTO_PAYLOAD_TYPE) {
        return Err(fail(format!(
            "the envelope's payloadType is {}, not `{IN_TOTO_PAYLOAD_TYPE}`",
            shown(envelope.get("payloadType"))
        )));
    }
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .and_then(base64_decode)
        .ok_or_else(|| fail("the envelope has no base64 `payload`".into()))?;
    let signatures = envelope
        .get("signatures")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| fail("the envelope has no `signatures`".into()))?;
    let message = pae(IN_TOTO_PAYLOAD_TYPE, &payload);
    let verified = signatures.iter().any(|s| {
        s.get("sig")
            .and_then(Value::as_str)
            .and_then(base64_decode)
            .is_some_and(|sig| key.verifies(&message, &sig))
    });
    if !verified {
        return Err(fail(format!(
            "no signature verifies under the key {key_id} (signed by another key, or the envelope was changed after signing)"
        )));
    }
    // Only now is the payload trusted enough to read.
    let statement: Value = serde_json::from_slice(&payload)
        .map_err(|e| fail(format!("the signed payload is not JSON: {e}")))?;
    if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(fail(format!(
            "the payload's `_type` is {}, not `{STATEMENT_TYPE}`",
            shown(statement.get("_type"))
        )));
    }
    let subjects: Vec<String> = statement
        .get("subject")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| s.pointer("/digest/sha256").and_then(Value::as_str))
                .map(|hex| format!("sha256:{hex}"))
                .collect()
        })
        .unwrap_or_default();
    if subjects.is_empty() {
        return Err(fail(
            "the statement has no subject with a sha256 digest".into(),
        ));
    }
    if let Some(wanted) = subject {
        if !subjects.iter().any(|s| s == wanted) {
            return Err(fail(format!(
                "the decision is about {}, not {wanted}",
                subjects.join(", ")
            )));
        }
    }
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let predicate = statement.get("predicate");
    let result = match predicate_type.as_str() {
        VSA_PREDICATE => predicate
            .and_then(|p| p.get("verificationResult"))
            .and_then(Value::as_str)
            .filter(|r| matches!(*r, "PASSED" | "FAILED"))
            .map(str::to_string),
        DECISION_PREDICATE => predicate
            .and_then(|p| p.get("decision"))
            .and_then(Value::as_str)
            .and_then(|d| match d {
                "allowed" => Some("PASSED".to_string()),
                "denied" => Some("FAILED".to_string()),
                _ => None,
            }),
        other => {
            return Err(fail(format!(
                "the predicate type `{other}` is not a Clearance decision (`{VSA_PREDICATE}` or `{DECISION_PREDICATE}`)"
            )))
        }
    }
    .ok_or_else(|| fail("the predicate states no result (`verificationResult` PASSED or FAILED, or `decision`)".into()))?;
    Ok((
        Verified {
            predicate_type,
            result,
            subjects,
            key_id: key_id.to_string(),
        },
        statement,
    ))
}

fn shown(value: Option<&Value>) -> String {
    match value {
        None => "missing".into(),
        Some(v) => format!("`{v}`"),
    }
}
