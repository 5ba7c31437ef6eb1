//! Verified attestations (TRUST.md section 2): an in-toto statement is
//! mounted at `evidence.NAME` only after its DSSE envelope verifies under a
//! signer of the trust file, so a rule reads who built the artifact from a
//! signature, not from JSON the CI job wrote itself.
//!
//! What is verified: bare DSSE envelopes signed by key signers (Ed25519,
//! ECDSA P-256 or P-384; ECDSA signatures in DER or raw `r || s`,
//! `dsse.rs`), and Sigstore bundles signed by keyless signers (the Rekor
//! entry, the Fulcio certificate and its SCT, the envelope's signature, the
//! identity and issuer: `bundle.rs`, built on `merkle.rs` and
//! `certificate.rs`), one file or JSON Lines of them (`.intoto.jsonl`, as
//! slsa-github-generator writes them). `attest verify` also checks bundles
//! with a message signature over an artifact's digest. Verification is
//! offline: the public-good trusted root is built in.

mod bundle;
pub mod certificate;
pub(crate) mod dsse;
mod error;
pub(crate) mod keys;
pub mod merkle;
mod rekor;
#[cfg(test)]
mod test_data;
pub mod timestamp;
mod trust;

pub use dsse::pae;
pub use error::{AttestError, Code};
pub use keys::PublicKey;
pub use trust::{Pattern, Signer, SignerKind, Trust};

use crate::limits::Limits;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The payload type of an in-toto statement.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v0.1",
    "https://in-toto.io/Statement/v1",
];

/// One attestation file, verified: what is mounted and what the decision
/// record lists.
#[derive(Clone, Debug)]
pub struct Verified {
    pub mount: String,
    pub file: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The mount: one statement, or a list of them for a `.jsonl` file.
    pub value: serde_json::Value,
    /// The signer of each statement, in order.
    pub signers: Vec<String>,
    /// The transparency-log index of each statement (none for a bare envelope).
    pub log_indexes: Vec<Option<i64>>,
}

/// Reads `path` (within `--max-evidence-bytes`) and verifies every
/// envelope in it against `trust`.
pub fn verify_file(
    mount: &str,
    path: &Path,
    trust: &Trust,
    limits: &Limits,
) -> Result<Verified, AttestError> {
    let file = path.display().to_string();
    let bytes = read_bounded(path, limits.evidence_bytes)
        .map_err(|m| AttestError::verify(Code::Format, &file, m))?;
    verify_bytes(mount, &file, &bytes, trust, limits)
}

/// [`verify_file`] for bytes already read (`file` names them in messages;
/// a name ending in `.jsonl` makes them JSON Lines).
pub fn verify_bytes(
    mount: &str,
    file: &str,
    bytes: &[u8],
    trust: &Trust,
    limits: &Limits,
) -> Result<Verified, AttestError> {
    let file = file.to_string();
    let sha256 = keys::hex(&Sha256::digest(bytes));
    let text =
        std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(|e| {
            AttestError::verify(
                Code::Format,
                &file,
                format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
            )
        })?;
    let json_lines = file.ends_with(".jsonl");
    let documents: Vec<&str> = if json_lines {
        text.lines().filter(|l| !l.trim().is_empty()).collect()
    } else {
        vec![text]
    };
    if documents.is_empty() {
        return Err(AttestError::verify(
            Code::Format,
            &file,
            "the file holds no envelope",
        ));
    }
    let mut statements = Vec::new();
    let mut signers = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        let at = if json_lines {
            format!("{file} (line {} of the JSON Lines)", i + 1)
        } else {
            file.clone()
        };
        let (statement, signer) = verify_document(&at, document, &sha256, trust, limits)?;
        statements.push(statement);
        signers.push(signer);
    }
    let log_indexes = statements
        .iter()
        .map(|s| s["log"]["log_index"].as_i64())
        .collect();
    let value = if json_lines {
        serde_json::Value::Array(statements)
    } else {
        statements.pop().unwrap_or_default()
    };
    Ok(Verified {
        mount: mount.to_string(),
        file,
        sha256,
        value,
        signers,
        log_indexes,
    })
}

fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| crate::evidence::source::io_reason(&e))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let file = std::fs::File::open(path).map_err(|e| crate::evidence::source::io_reason(&e))?;
    let bytes = crate::evidence::source::bounded(file, max_bytes, meta.len())
        .map_err(|e| crate::evidence::source::io_reason(&e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "larger than --max-evidence-bytes ({max_bytes} bytes)"
        ));
    }
    Ok(bytes)
}

/// One envelope (or bundle) as JSON text: verified, then its statement as
/// the mount shows it.
fn verify_document(
    file: &str,
    text: &str,
    sha256: &str,
    trust: &Trust,
    limits: &Limits,
) -> Result<(serde_json::Value, String), AttestError> {
    let bounds = crate::eval::LoadLimits {
        max_depth: limits.evidence_depth,
        max_string: limits.string_bytes,
    };
    // The evidence reader: duplicate keys (two `payload`s) are refused, not
    // resolved in favour of one.
    let document = crate::eval::parse_json(text, bounds)
        .map_err(|e| AttestError::verify(Code::Format, file, format!("not JSON: {e}")))?
        .to_json();
    let is_bundle = document
        .get("mediaType")
        .and_then(|m| m.as_str())
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"));
    // What each kind of signer gives the mount: the payload, and who signed
    // it and where the log has it.
    let (payload_type, statement_bytes, signer_name, signer, log) = if is_bundle {
        let opened = bundle::open(file, &document, trust, None)?;
        let mut signer = match &opened.identity {
            Some(identity) => serde_json::json!({
                "name": opened.signer.name,
                "kind": "keyless",
                "identity": identity.subject,
                "issuer": identity.issuer,
                "key_id": null,
            }),
            None => serde_json::json!({
                "name": opened.signer.name,
                "kind": "key",
                "identity": null,
                "issuer": null,
                "key_id": opened.key_id,
            }),
        };
        for (claim, value) in opened.identity.iter().flat_map(|i| &i.claims) {
            signer[*claim] = value.clone().into();
        }
        // A Rekor v2 entry has no integrated time: null, not a time it
        // does not state (its signed timestamps are what was checked).
        let time = opened
            .integrated_time
            .and_then(|t| jiff::Timestamp::from_second(t).ok())
            .map(|t| t.to_string());
        let log = serde_json::json!({"integrated_time": time, "log_index": opened.log_index});
        (
            opened.payload_type,
            opened.payload,
            opened.signer.name.clone(),
            signer,
            log,
        )
    } else {
        let opened = dsse::open(file, &document, trust)?;
        let signer = serde_json::json!({
            "name": opened.signer.name,
            "kind": "key",
            "identity": null,
            "issuer": null,
            "key_id": opened.key_id,
        });
        (
            opened.payload_type,
            opened.payload,
            opened.signer.name.clone(),
            signer,
            serde_json::Value::Null,
        )
    };
    if payload_type != IN_TOTO {
        return Err(AttestError::verify(
            Code::Payload,
            file,
            format!("the payload type is `{payload_type}`, not `{IN_TOTO}`"),
        ));
    }
    let payload = |m: String| AttestError::verify(Code::Payload, file, m);
    let statement_text = std::str::from_utf8(&statement_bytes)
        .map_err(|_| payload("the statement is not UTF-8".into()))?;
    let statement = crate::eval::parse_json(statement_text, bounds)
        .map_err(|e| payload(format!("the statement is not JSON: {e}")))?
        .to_json();
    let kind = statement
        .get("_type")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    if !STATEMENT_TYPES.contains(&kind) {
        return Err(payload(format!(
            "`_type` is `{kind}`, not an in-toto Statement v0.1 or v1"
        )));
    }
    let subjects = statement
        .get("subject")
        .and_then(|s| s.as_array())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| payload("the statement has no `subject`".into()))?;
    for s in subjects {
        let named = s.get("name").is_none_or(|n| n.is_string());
        let digests = s
            .get("digest")
            .and_then(|d| d.as_object())
            .is_some_and(|d| !d.is_empty() && d.values().all(|v| v.is_string()));
        if !named || !digests {
            return Err(payload(
                "a subject without a `digest` object of algorithm: hex strings".into(),
            ));
        }
    }
    let predicate_type = statement
        .get("predicateType")
        .and_then(|p| p.as_str())
        .ok_or_else(|| payload("the statement has no `predicateType`".into()))?;
    let predicate = statement.get("predicate").cloned().unwrap_or_default();
    // Statement v0.1 allowed the predicate to be left out; v1 requires one.
    let predicate_allowed =
        predicate.is_object() || (predicate.is_null() && kind.ends_with("v0.1"));
    if !predicate_allowed {
        return Err(payload("the `predicate` is not an object".into()));
    }
    let mount = serde_json::json!({
        "statement_type": kind,
        "predicate_type": predicate_type,
        "subjects": subjects,
        "predicate": predicate,
        "signer": signer,
        "log": log,
        "sha256": sha256,
    });
    Ok((mount, signer_name))
}

/// `clearance attest verify`: `path` verifies under `trust`, and one of its
/// statements has a subject whose SHA-256 is `artifact_sha256` (hex); a
/// statement about another artifact is `attestation::payload`.
pub fn verify_for_artifact(
    path: &Path,
    artifact_sha256: &str,
    trust: &Trust,
    limits: &Limits,
) -> Result<Verified, AttestError> {
    let file = path.display().to_string();
    let wanted = artifact_sha256.to_ascii_lowercase();
    // A bundle with a message signature signs the artifact itself: it has
    // no statement, and is checked against the digest directly.
    let bytes = read_bounded(path, limits.evidence_bytes)
        .map_err(|m| AttestError::verify(Code::Format, &file, m))?;
    let document = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    if let Some(doc) = document.filter(|d| d["messageSignature"].is_object()) {
        let digest: Vec<u8> = (0..wanted.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(wanted.get(i..i + 2)?, 16).ok())
            .collect();
        let opened = bundle::open(&file, &doc, trust, Some(&digest))?;
        return Ok(Verified {
            mount: "attestation".into(),
            file,
            sha256: keys::hex(&Sha256::digest(&bytes)),
            value: serde_json::json!({
                "signer": opened.signer.name,
                "identity": opened.identity.and_then(|i| i.subject),
            }),
            signers: vec![opened.signer.name.clone()],
            log_indexes: vec![Some(opened.log_index)],
        });
    }
    let verified = verify_bytes("attestation", &file, &bytes, trust, limits)?;
    let statements = match &verified.value {
        serde_json::Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    let covers = statements.iter().any(|s| {
        s["subjects"].as_array().is_some_and(|subjects| {
            subjects.iter().any(|subject| {
                subject["digest"]["sha256"]
                    .as_str()
                    .is_some_and(|d| d.to_ascii_lowercase() == wanted)
            })
        })
    });
    if !covers {
        return Err(AttestError::verify(
            Code::Payload,
            &verified.file,
            format!("no subject of the statement has the artifact's digest sha256:{wanted}"),
        ));
    }
    Ok(verified)
}

impl Trust {
    /// A trust of one keyless identity and issuer (exact), as `attest
    /// verify --identity --issuer` gives it; `trusted_root` replaces the
    /// built-in public-good root.
    pub fn of_identity(identity: &str, issuer: &str, trusted_root: Option<String>) -> Trust {
        Trust {
            signers: vec![Signer {
                name: "identity".into(),
                kind: SignerKind::Keyless {
                    identity: trust::Pattern::Exact(identity.to_string()),
                    issuer: trust::Pattern::Exact(issuer.to_string()),
                },
            }],
            file: "--identity/--issuer".into(),
            trusted_root,
        }
    }

    /// A trust of one key, as `attest verify --key` gives it; a bundle it
    /// signed is checked against `trusted_root` (its log and timestamp
    /// authorities), or the built-in public-good root.
    pub fn of_key(
        name: &str,
        pem: &str,
        file: &str,
        trusted_root: Option<String>,
    ) -> Result<Trust, AttestError> {
        let (key, key_id) = PublicKey::from_pem(pem)
            .map_err(|m| AttestError::Config(format!("`{file}` is {m}")))?;
        Ok(Trust {
            signers: vec![Signer {
                name: name.to_string(),
                kind: SignerKind::Key { key, key_id },
            }],
            file: file.to_string(),
            trusted_root,
        })
    }
}
