//! Whether a Rekor entry's body is this bundle's signature: the check that
//! stops a valid log entry for one envelope (or artifact) being shown with
//! another (CVE-2022-36056). One function per kind of entry Sigstore
//! clients write:
//!
//! - Rekor v1: `hashedrekord` 0.0.1 (message signatures), `dsse` 0.0.1 and
//!   `intoto` 0.0.2 (DSSE envelopes);
//! - Rekor v2: `hashedrekord` 0.0.2 (message signatures, and DSSE
//!   envelopes as the hash of their PAE) and `dsse` 0.0.2.
//!
//! Rekor v2 entries have no integrated time and no signed entry timestamp:
//! [`Entry::v2`] tells the bundle reader to require an inclusion proof and
//! a signed timestamp instead.

use super::dsse::base64_decode;
use super::timestamp::HashAlg;
use sha2::{Digest, Sha256};

/// What the bundle signed.
pub enum Signed<'a> {
    Envelope(&'a serde_json::Value),
    /// A message signature: the artifact's SHA-256 and the signature.
    Message {
        digest: &'a [u8],
        signature: &'a [u8],
    },
}

/// Who the entry must name as the verifier of the signature: the bundle's
/// certificate (DER), or a key signer's key (by its key id, the hex SHA-256
/// of its SubjectPublicKeyInfo).
#[derive(Clone, Copy)]
pub enum Verifier<'a> {
    Certificate(&'a [u8]),
    Key(&'a str),
}

impl Verifier<'_> {
    fn is(&self, der: &[u8]) -> bool {
        match self {
            Verifier::Certificate(cert) => *cert == der,
            Verifier::Key(key_id) => super::keys::hex(&Sha256::digest(der)) == *key_id,
        }
    }

    fn mismatch(&self) -> String {
        match self {
            Verifier::Certificate(_) => "the log entry was signed with another certificate".into(),
            Verifier::Key(_) => "the log entry was signed with another key".into(),
        }
    }

    /// A PEM (certificate or public key), base64 as Rekor v1 stores it.
    fn is_pem_b64(&self, text: Option<&str>, what: &str) -> Result<(), String> {
        let pem = text
            .and_then(base64_decode)
            .and_then(|p| String::from_utf8(p).ok())
            .ok_or_else(|| format!("the log entry's {what} is not base64 PEM"))?;
        let der = pem_der(&pem).ok_or_else(|| format!("the log entry's {what} is not PEM"))?;
        if self.is(&der) {
            Ok(())
        } else {
            Err(self.mismatch())
        }
    }

    /// A Rekor v2 verifier: `x509Certificate` or `publicKey`, raw DER.
    fn is_v2(&self, verifier: &serde_json::Value) -> Result<(), String> {
        let der = match self {
            Verifier::Certificate(_) => &verifier["x509Certificate"]["rawBytes"],
            Verifier::Key(_) => &verifier["publicKey"]["rawBytes"],
        };
        let der = der
            .as_str()
            .and_then(base64_decode)
            .ok_or_else(|| self.mismatch())?;
        if self.is(&der) {
            Ok(())
        } else {
            Err(self.mismatch())
        }
    }
}

/// The DER of a PEM block, read as Go's `pem.Decode` reads it (Rekor
/// writes certificates on one long line, which strict RFC 7468 parsers
/// refuse): the base64 between the BEGIN and END lines, whitespace skipped.
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let mut lines = pem.trim().lines();
    let begin = lines.next()?;
    if !(begin.starts_with("-----BEGIN ") && begin.ends_with("-----")) {
        return None;
    }
    let mut base64 = String::new();
    for line in lines {
        if line.starts_with("-----END ") {
            return base64_decode(&base64);
        }
        base64.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
    }
    None
}

/// A matched entry: its kind, and whether it is of a Rekor v2 log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kind: &'static str,
    pub version: &'static str,
    pub v2: bool,
}

const KINDS: [Entry; 5] = [
    Entry {
        kind: "hashedrekord",
        version: "0.0.1",
        v2: false,
    },
    Entry {
        kind: "dsse",
        version: "0.0.1",
        v2: false,
    },
    Entry {
        kind: "intoto",
        version: "0.0.2",
        v2: false,
    },
    Entry {
        kind: "hashedrekord",
        version: "0.0.2",
        v2: true,
    },
    Entry {
        kind: "dsse",
        version: "0.0.2",
        v2: true,
    },
];

/// Whether `canonicalized_body` (the entry's decoded body) records
/// `signed` by `verifier`. `kind_version` is the bundle's own
/// `kindVersion` of the entry, which must agree with the body.
pub fn entry_matches(
    canonicalized_body: &[u8],
    kind_version: &serde_json::Value,
    signed: &Signed<'_>,
    verifier: Verifier<'_>,
) -> Result<Entry, String> {
    let body: serde_json::Value = serde_json::from_slice(canonicalized_body)
        .map_err(|_| "the log entry's body is not JSON".to_string())?;
    let (kind, version) = (
        body["kind"].as_str().unwrap_or("?"),
        body["apiVersion"].as_str().unwrap_or("?"),
    );
    let entry = KINDS
        .iter()
        .find(|e| e.kind == kind && e.version == version)
        .copied()
        .ok_or_else(|| format!("the log entry is a `{kind}` {version} entry, which is not read"))?;
    if !kind_version.is_null()
        && (kind_version["kind"] != kind || kind_version["version"] != version)
    {
        return Err("the bundle names another kind of entry than its log entry's body".into());
    }
    let spec = &body["spec"];
    match (entry.kind, entry.v2, signed) {
        ("hashedrekord", false, Signed::Message { digest, signature }) => {
            hashedrekord_v1(spec, digest, signature, verifier)
        }
        ("hashedrekord", true, Signed::Message { digest, signature }) => hashedrekord_v2(
            &spec["hashedRekordV002"],
            (HashAlg::Sha256, "artifact digest"),
            digest,
            signature,
            verifier,
        ),
        ("hashedrekord", true, Signed::Envelope(envelope)) => {
            // Rekor v2 logs an envelope as a hashedrekord of its PAE, with
            // its one signature (rekor-v2 spec section 6.1.4).
            let (pae, signatures) = envelope_parts(envelope)?;
            let [signature] = signatures.as_slice() else {
                return Err(
                    "an envelope logged as a hashedrekord entry must have exactly one signature"
                        .into(),
                );
            };
            let spec = &spec["hashedRekordV002"];
            let alg = v2_hash(&spec["data"]["algorithm"])?;
            hashedrekord_v2(
                spec,
                (alg, "envelope (the digest of its PAE differs)"),
                &alg.digest(&pae),
                signature,
                verifier,
            )
        }
        ("dsse", false, Signed::Envelope(envelope)) => dsse_v1(spec, envelope, verifier),
        ("dsse", true, Signed::Envelope(envelope)) => {
            dsse_v2(&spec["dsseV002"], envelope, verifier)
        }
        ("intoto", false, Signed::Envelope(envelope)) => intoto_v2(spec, envelope, verifier),
        (_, _, Signed::Message { .. }) => Err(format!(
            "the log entry is a `{kind}` {version} entry, not a hashedrekord of a message signature"
        )),
        (_, _, Signed::Envelope(_)) => Err(format!(
            "the log entry is a `{kind}` {version} entry, which does not record an envelope"
        )),
    }
    .map(|()| entry)
}

fn hex(bytes: &[u8]) -> String {
    super::keys::hex(bytes)
}

fn v2_hash(algorithm: &serde_json::Value) -> Result<HashAlg, String> {
    match algorithm.as_str() {
        Some("SHA2_256") => Ok(HashAlg::Sha256),
        Some("SHA2_384") => Ok(HashAlg::Sha384),
        Some("SHA2_512") => Ok(HashAlg::Sha512),
        _ => Err("the log entry's hash algorithm is not SHA-2".into()),
    }
}

/// The PAE an envelope's signatures are over, and its signatures' bytes.
fn envelope_parts(envelope: &serde_json::Value) -> Result<(Vec<u8>, Vec<Vec<u8>>), String> {
    let payload = envelope["payload"]
        .as_str()
        .and_then(base64_decode)
        .ok_or("the envelope has no base64 payload")?;
    let payload_type = envelope["payloadType"]
        .as_str()
        .ok_or("the envelope has no `payloadType`")?;
    let signatures = envelope["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["sig"].as_str().and_then(base64_decode))
        .collect::<Option<Vec<_>>>()
        .ok_or("an envelope signature is not base64")?;
    Ok((super::dsse::pae(payload_type, &payload), signatures))
}

fn payload_of(envelope: &serde_json::Value) -> Result<Vec<u8>, String> {
    envelope["payload"]
        .as_str()
        .and_then(base64_decode)
        .ok_or_else(|| "the envelope has no base64 payload".to_string())
}

/// The envelope's signatures and the logged ones are the same set.
fn same_signatures(mut logged: Vec<Vec<u8>>, envelope: &serde_json::Value) -> Result<(), String> {
    let (_, mut signed) = envelope_parts(envelope)?;
    logged.sort();
    signed.sort();
    if logged.is_empty() || logged != signed {
        return Err("the log entry records other signatures than the envelope's".into());
    }
    Ok(())
}

fn hashedrekord_v1(
    spec: &serde_json::Value,
    digest: &[u8],
    signature: &[u8],
    verifier: Verifier<'_>,
) -> Result<(), String> {
    if spec["data"]["hash"]["algorithm"] != "sha256"
        || spec["data"]["hash"]["value"].as_str() != Some(hex(digest).as_str())
    {
        return Err("the log entry records another artifact digest".into());
    }
    let logged = spec["signature"]["content"]
        .as_str()
        .and_then(base64_decode);
    if logged.as_deref() != Some(signature) {
        return Err("the log entry records another signature".into());
    }
    verifier.is_pem_b64(
        spec["signature"]["publicKey"]["content"].as_str(),
        "public key",
    )
}

/// `what`: what `digest` is the hash of, for the message.
fn hashedrekord_v2(
    spec: &serde_json::Value,
    (alg, what): (HashAlg, &str),
    digest: &[u8],
    signature: &[u8],
    verifier: Verifier<'_>,
) -> Result<(), String> {
    let logged_digest = spec["data"]["digest"].as_str().and_then(base64_decode);
    if v2_hash(&spec["data"]["algorithm"]).ok() != Some(alg)
        || logged_digest.as_deref() != Some(digest)
    {
        return Err(format!("the log entry records another {what}"));
    }
    let logged = spec["signature"]["content"]
        .as_str()
        .and_then(base64_decode);
    if logged.as_deref() != Some(signature) {
        return Err("the log entry records another signature".into());
    }
    verifier.is_v2(&spec["signature"]["verifier"])
}

fn dsse_v1(
    spec: &serde_json::Value,
    envelope: &serde_json::Value,
    verifier: Verifier<'_>,
) -> Result<(), String> {
    let payload = payload_of(envelope)?;
    if spec["payloadHash"]["algorithm"] != "sha256"
        || spec["payloadHash"]["value"].as_str() != Some(hex(&Sha256::digest(&payload)).as_str())
    {
        return Err("the log entry records another payload".into());
    }
    let logged = logged_signatures(&spec["signatures"], "signature", |sig| {
        verifier.is_pem_b64(sig["verifier"].as_str(), "verifier")
    })?;
    same_signatures(logged, envelope)
}

fn dsse_v2(
    spec: &serde_json::Value,
    envelope: &serde_json::Value,
    verifier: Verifier<'_>,
) -> Result<(), String> {
    let payload = payload_of(envelope)?;
    let alg = v2_hash(&spec["payloadHash"]["algorithm"])?;
    let logged_hash = spec["payloadHash"]["digest"]
        .as_str()
        .and_then(base64_decode);
    if logged_hash.as_deref() != Some(alg.digest(&payload).as_slice()) {
        return Err("the log entry records another payload".into());
    }
    let logged = logged_signatures(&spec["signatures"], "content", |sig| {
        verifier.is_v2(&sig["verifier"])
    })?;
    same_signatures(logged, envelope)
}

/// The signatures a `dsse` entry logs (each base64 in its `field`), each
/// one's verifier checked by `verifier_is_ours`.
fn logged_signatures(
    list: &serde_json::Value,
    field: &str,
    verifier_is_ours: impl Fn(&serde_json::Value) -> Result<(), String>,
) -> Result<Vec<Vec<u8>>, String> {
    let mut logged = Vec::new();
    for sig in list.as_array().into_iter().flatten() {
        verifier_is_ours(sig)?;
        logged.push(
            sig[field]
                .as_str()
                .and_then(base64_decode)
                .ok_or("a logged signature that is not base64")?,
        );
    }
    Ok(logged)
}

/// Rekor's `intoto` 0.0.2: the envelope as logged, its payload and
/// signatures base64-encoded once more, each signature with its
/// certificate (base64 PEM).
fn intoto_v2(
    spec: &serde_json::Value,
    envelope: &serde_json::Value,
    verifier: Verifier<'_>,
) -> Result<(), String> {
    let content = &spec["content"];
    let payload = payload_of(envelope)?;
    if content["payloadHash"]["algorithm"] != "sha256"
        || content["payloadHash"]["value"].as_str() != Some(hex(&Sha256::digest(&payload)).as_str())
    {
        return Err("the log entry records another payload".into());
    }
    let twice = |v: &serde_json::Value| {
        v.as_str()
            .and_then(base64_decode)
            .and_then(|once| String::from_utf8(once).ok())
            .and_then(|text| base64_decode(&text))
    };
    let logged_envelope = &content["envelope"];
    if !logged_envelope["payload"].is_null() && twice(&logged_envelope["payload"]) != Some(payload)
    {
        return Err("the log entry records another payload".into());
    }
    if logged_envelope["payloadType"] != envelope["payloadType"] {
        return Err("the log entry records another payload type".into());
    }
    let mut logged = Vec::new();
    for sig in logged_envelope["signatures"]
        .as_array()
        .into_iter()
        .flatten()
    {
        verifier.is_pem_b64(sig["publicKey"].as_str(), "verifier")?;
        // Rekor encodes the signature twice; an entry encoded once still
        // has to equal the envelope's signature to match.
        let once = sig["sig"].as_str().and_then(base64_decode);
        logged.push(
            twice(&sig["sig"])
                .or(once)
                .ok_or("a logged signature that is not base64")?,
        );
    }
    same_signatures(logged, envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::test_data::{b64, corpus_bundle};
    use base64::Engine;

    /// The corpus bundle's log entry is its envelope; an envelope with an
    /// edited payload or signature, or another certificate, is not.
    #[test]
    fn the_corpus_rekor_entry_is_this_envelope() {
        let bundle = corpus_bundle();
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        let body = b64(entry["canonicalizedBody"].as_str().unwrap());
        let kind = &entry["kindVersion"];
        let cert = b64(bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap());
        let matches = |envelope: &serde_json::Value, cert: &[u8]| {
            entry_matches(
                &body,
                kind,
                &Signed::Envelope(envelope),
                Verifier::Certificate(cert),
            )
        };
        let envelope = &bundle["dsseEnvelope"];
        assert_eq!(
            matches(envelope, &cert).map(|e| (e.kind, e.version, e.v2)),
            Ok(("dsse", "0.0.1", false))
        );
        let mut edited = envelope.clone();
        edited["payload"] = base64::engine::general_purpose::STANDARD
            .encode(b"{}")
            .into();
        assert!(matches(&edited, &cert)
            .unwrap_err()
            .contains("another payload"));
        let mut resigned = envelope.clone();
        resigned["signatures"][0]["sig"] = base64::engine::general_purpose::STANDARD
            .encode([1u8; 70])
            .into();
        assert!(matches(&resigned, &cert)
            .unwrap_err()
            .contains("other signatures"));
        let mut other_cert = cert.clone();
        other_cert[100] ^= 1;
        assert!(matches(envelope, &other_cert)
            .unwrap_err()
            .contains("another certificate"));
        let other_kind = serde_json::json!({"kind": "intoto", "version": "0.0.2"});
        assert!(entry_matches(
            &body,
            &other_kind,
            &Signed::Envelope(envelope),
            Verifier::Certificate(&cert)
        )
        .unwrap_err()
        .contains("another kind"));
        let digest = [0u8; 32];
        assert!(entry_matches(
            &body,
            kind,
            &Signed::Message {
                digest: &digest,
                signature: b"x"
            },
            Verifier::Certificate(&cert)
        )
        .unwrap_err()
        .contains("not a hashedrekord"));
    }
}
