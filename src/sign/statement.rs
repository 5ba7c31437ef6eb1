//! The two signed outputs of a decision, as DSSE envelopes of in-toto
//! Statement v1 (TRUST.md section 3): a SLSA Verification Summary (what
//! admission and release tools check) and the full decision report.

use super::{SignError, SigningKey, Subject};
use crate::eval::Decision;
use crate::report::DecisionRecord;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";
/// The predicate type of `--output attestation`: the JSON report of
/// docs/report.md, as `clearance check --format json` prints it.
pub const DECISION_PREDICATE: &str = "https://clearance.dev/decision/v1";
/// `verifier.id` when `--verifier-id` is not given.
pub const DEFAULT_VERIFIER_ID: &str = "https://clearance.dev/verifier";

/// What the summary says beyond the decision itself.
#[derive(Clone, Debug, Default)]
pub struct VsaOptions {
    /// `verifier.id`; [`DEFAULT_VERIFIER_ID`] when `None`.
    pub verifier_id: Option<String>,
    /// `resourceUri`; the first subject's name when `None`.
    pub resource_uri: Option<String>,
    /// `verifiedLevels` from `--verified-level`, replacing the gate's
    /// `level` declarations when given.
    pub levels: Option<Vec<String>>,
}

/// The policy digest of TRUST.md section 3: the SHA-256 of the policy
/// file's bytes when the decision read one policy file; otherwise (imports,
/// waiver files) the SHA-256 of the `HEX  PATH\n` lines of every policy
/// file in the record's order, as `sha256sum` prints them, so that
/// `sha256sum FILES | sha256sum` recomputes it.
pub fn policy_digest(record: &DecisionRecord) -> String {
    let files: Vec<(&str, &str)> = record
        .policy_files
        .iter()
        .map(|f| (f.file.as_str(), f.sha256.as_str()))
        .collect();
    policy_digest_of(&files)
}

/// [`policy_digest`] of `(file, hex sha256)` pairs, as a decision record
/// lists them (the ledger reads them back from a signed report).
pub fn policy_digest_of(files: &[(&str, &str)]) -> String {
    match files {
        [(_, only)] => only.to_string(),
        files => {
            let lines: String = files
                .iter()
                .map(|(file, sha)| format!("{sha}  {file}\n"))
                .collect();
            hex(&Sha256::digest(lines.as_bytes()))
        }
    }
}

/// The Verification Summary statement for one decision.
pub fn vsa_statement(
    subjects: &[Subject],
    record: &DecisionRecord,
    policy_uri: &str,
    decision: Decision,
    declared_levels: &[String],
    options: &VsaOptions,
    now: jiff::Timestamp,
) -> Value {
    let verifier_id = options
        .verifier_id
        .clone()
        .unwrap_or_else(|| DEFAULT_VERIFIER_ID.to_string());
    let resource_uri = options
        .resource_uri
        .clone()
        .or_else(|| subjects.first().map(|s| s.name.clone()))
        .unwrap_or_default();
    let (result, levels) = match decision {
        Decision::Allowed => (
            "PASSED",
            options
                .levels
                .clone()
                .unwrap_or_else(|| declared_levels.to_vec()),
        ),
        // SLSA's SlsaResult for a failed policy evaluation: no level was
        // verified, whatever the policy would have claimed.
        Decision::Denied => ("FAILED", vec!["FAILED".to_string()]),
    };
    let inputs: Vec<Value> = record
        .evidence_files
        .iter()
        .map(|f| json!({"uri": f.file, "digest": {"sha256": f.sha256}}))
        .collect();
    let predicate = json!({
        "verifier": {
            "id": verifier_id,
            "version": {"clearance": env!("CARGO_PKG_VERSION")},
        },
        "timeVerified": now.to_string(),
        "resourceUri": resource_uri,
        "policy": {
            "uri": policy_uri,
            "digest": {"sha256": policy_digest(record)},
        },
        "inputAttestations": inputs,
        "verificationResult": result,
        "verifiedLevels": levels,
        "slsaVersion": "1.0",
    });
    statement(subjects, VSA_PREDICATE, predicate)
}

/// The statement whose predicate is the full JSON report.
pub fn decision_statement(subjects: &[Subject], report: Value) -> Value {
    statement(subjects, DECISION_PREDICATE, report)
}

fn statement(subjects: &[Subject], predicate_type: &str, predicate: Value) -> Value {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": predicate_type,
        "predicate": predicate,
    })
}

/// The DSSE envelope of `statement` signed by `key` (over the
/// pre-authentication encoding), as the JSON text written to the output
/// file. The payload is the statement's compact JSON.
pub fn envelope(statement: &Value, key: &SigningKey) -> Result<String, SignError> {
    let payload = serde_json::to_vec(statement)
        .map_err(|e| SignError::new(format!("cannot encode the statement: {e}")))?;
    let signature = key.sign(&crate::attest::dsse::pae(IN_TOTO_PAYLOAD_TYPE, &payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    let envelope = json!({
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": b64.encode(&payload),
        "signatures": [{"keyid": key.key_id, "sig": b64.encode(signature)}],
    });
    let mut text = serde_json::to_string_pretty(&envelope)
        .map_err(|e| SignError::new(format!("cannot encode the envelope: {e}")))?;
    text.push('\n');
    Ok(text)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FileDigest;

    fn file(name: &str, sha: &str) -> FileDigest {
        FileDigest {
            file: name.into(),
            mount: None,
            sha256: sha.into(),
        }
    }

    #[test]
    fn the_policy_digest_of_several_files_is_sha256sum_of_their_lines() {
        let mut record = DecisionRecord {
            engine: String::new(),
            policy_files: vec![file("p.clr", "aa")],
            evidence_files: Vec::new(),
            waivers_applied: Vec::new(),
            command: String::new(),
            attestations: Vec::new(),
            ledger: None,
        };
        assert_eq!(policy_digest(&record), "aa");
        record.policy_files.push(file("common.clr", "bb"));
        // printf 'aa  p.clr\nbb  common.clr\n' | sha256sum
        assert_eq!(
            policy_digest(&record),
            hex(&Sha256::digest(b"aa  p.clr\nbb  common.clr\n"))
        );
    }
}
