//! Sigstore bundles (v0.1, v0.2, v0.3) holding a DSSE envelope or a
//! message signature, signed by a Fulcio certificate (keyless) or by a key
//! (a bundle whose verification material is a `publicKey` hint): every
//! check of TRUST.md section 2, offline, in this order, each failure with
//! its code:
//!
//! 1. `attestation::tlog`: the bundle's one Rekor entry is of a log of the
//!    trusted root valid when it was made, its body is this signature
//!    (`rekor.rs`), and it is in the log: an inclusion proof whose root the
//!    log's signed checkpoint commits to, or the log's signed entry
//!    timestamp (both checked when both are there; a Rekor v2 entry must
//!    have the proof). The times the signature is known to have existed
//!    are established here too: the entry's integrated time (Rekor v1,
//!    with its signed entry timestamp) and every RFC 3161 timestamp, each
//!    of which must verify (`timestamp.rs`); at least one is required;
//! 2. `attestation::certificate`: the certificate chains to a Fulcio
//!    authority, is for code signing, every certificate valid at every
//!    established time, and carries an SCT of a trusted CT log;
//! 3. `attestation::signature`: the signature is the certificate's (or the
//!    key signer's) key, over the envelope's PAE or the artifact's digest;
//! 4. `attestation::untrusted`: a signer of the trust file matches the
//!    certificate's identity and issuer (or is the key).

use super::certificate;
use super::error::{AttestError, Code};
use super::merkle;
use super::rekor::{self, Signed, Verifier};
use super::trust::{Signer, SignerKind, Trust};

/// What a verified bundle gives the mount.
pub struct Opened<'t> {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signer: &'t Signer,
    /// The certificate's identity (keyless); `None` for a key-signed bundle.
    pub identity: Option<certificate::Identity>,
    /// The key signer's key id (a key-signed bundle).
    pub key_id: Option<String>,
    /// The entry's integrated time (Rekor v1); Rekor v2 entries have none.
    pub integrated_time: Option<i64>,
    pub log_index: i64,
}

const MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// `message_digest`: the artifact's SHA-256, for a bundle that holds a
/// message signature instead of an envelope (`attest verify --digest`);
/// such a bundle has no statement, so a mount refuses it.
pub fn open<'t>(
    file: &str,
    bundle: &serde_json::Value,
    trust: &'t Trust,
    message_digest: Option<&[u8]>,
) -> Result<Opened<'t>, AttestError> {
    let fail = |code: Code, m: String| AttestError::verify(code, file, m);
    let format = |m: &str| fail(Code::Format, m.to_string());
    let tlog = |m: &str| fail(Code::Tlog, m.to_string());
    let media = bundle["mediaType"].as_str().unwrap_or("");
    if !MEDIA_TYPES.contains(&media) {
        return Err(format(&format!(
            "`{media}` is not a Sigstore bundle version this reads (v0.1, v0.2, v0.3)"
        )));
    }
    let material = &bundle["verificationMaterial"];
    // The signing certificate: v0.3 holds the leaf alone, v0.1 and v0.2 a
    // chain whose first certificate is the leaf. A `publicKey` hint instead
    // means the bundle was signed by a key, which a key signer must hold.
    let leaf: Option<Vec<u8>> = if material["publicKey"].is_object() {
        None
    } else {
        let b64 = material["certificate"]["rawBytes"]
            .as_str()
            .or_else(|| material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str());
        Some(
            b64.and_then(super::dsse::base64_decode)
                .filter(|der| !der.is_empty())
                .ok_or_else(|| {
                    format("the bundle has neither a signing certificate nor a public key hint")
                })?,
        )
    };
    // A chain must stop short of the root (the bundle specification):
    // trust comes from the trusted root, and a root carried in the bundle
    // is what a forged chain would bring along.
    let chain = material["x509CertificateChain"]["certificates"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for cert in chain.iter().skip(1) {
        let der = cert["rawBytes"]
            .as_str()
            .and_then(super::dsse::base64_decode);
        if der.is_some_and(|der| certificate::is_self_issued(&der)) {
            return Err(format(
                "the bundle's certificate chain holds a root certificate, which a bundle must leave out",
            ));
        }
    }
    let envelope = &bundle["dsseEnvelope"];
    let message = &bundle["messageSignature"];
    // The message signature's own bytes and the artifact digest it signs.
    let signed_message: Option<(Vec<u8>, &[u8])> = if envelope.is_object() {
        None
    } else if message.is_object() {
        let Some(digest) = message_digest else {
            return Err(format(
                "the bundle holds a message signature, not an in-toto statement to mount (check it with `clearance attest verify`)",
            ));
        };
        let stated = message["messageDigest"]["digest"]
            .as_str()
            .and_then(super::dsse::base64_decode);
        if message["messageDigest"]["algorithm"] != "SHA2_256" || stated.as_deref() != Some(digest)
        {
            return Err(fail(
                Code::Payload,
                "the message signature is over another artifact digest".into(),
            ));
        }
        let sig = message["signature"]
            .as_str()
            .and_then(super::dsse::base64_decode)
            .ok_or_else(|| format("the message signature is not base64"))?;
        Some((sig, digest))
    } else {
        return Err(format(
            "the bundle holds neither a DSSE envelope nor a message signature",
        ));
    };
    // The bytes a timestamp authority stamped: the bundle's signature (an
    // envelope's first, as Sigstore clients stamp it).
    let stamped: Vec<u8> = match &signed_message {
        Some((sig, _)) => sig.clone(),
        None => envelope["signatures"][0]["sig"]
            .as_str()
            .and_then(super::dsse::base64_decode)
            .ok_or_else(|| format("the envelope's signature is not base64"))?,
    };
    let root_text = trust
        .trusted_root
        .as_deref()
        .unwrap_or(certificate::PUBLIC_GOOD_TRUSTED_ROOT);
    let root =
        certificate::TrustedRoot::parse(root_text).map_err(|m| fail(Code::Certificate, m))?;

    // Who may have signed: the certificate's key, or the key signers'.
    let key_signers: Vec<(&'t Signer, &super::PublicKey, &str)> = trust
        .signers
        .iter()
        .filter_map(|s| match &s.kind {
            SignerKind::Key { key, key_id } => Some((s, key, key_id.as_str())),
            SignerKind::Keyless { .. } => None,
        })
        .collect();
    let signs = |key: &super::PublicKey| match &signed_message {
        Some((sig, digest)) => key.verifies_prehash(digest, sig),
        None => envelope_signed_by(envelope, key),
    };
    // For a key-signed bundle the signer is found first: the log entry
    // must name its key.
    let key_signer = match &leaf {
        Some(_) => None,
        None => Some(
            key_signers
                .iter()
                .find(|(_, key, _)| signs(key))
                .copied()
                .ok_or_else(|| {
                    let allowed: Vec<String> = key_signers
                        .iter()
                        .map(|(s, key, id)| format!("`{}` ({}, key id {id})", s.name, key.algorithm()))
                        .collect();
                    fail(
                        Code::Untrusted,
                        format!(
                            "the bundle is signed by a key, and no key signer of `{}` verifies its signature{}",
                            trust.file,
                            if allowed.is_empty() { String::new() } else { format!("; allowed: {}", allowed.join(", ")) }
                        ),
                    )
                })?,
        ),
    };
    let verifier = match (&leaf, &key_signer) {
        (Some(der), _) => Verifier::Certificate(der),
        (None, Some((_, _, key_id))) => Verifier::Key(key_id),
        (None, None) => return Err(format("the bundle has no signing material")),
    };

    // 1. The transparency log, and when the signature existed.
    let entries = material["tlogEntries"]
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| tlog("the bundle has no transparency-log entry"))?;
    // Sigstore clients write exactly one entry; a second could only be
    // ignored or disagree, so it is refused rather than left unchecked.
    let [entry] = entries.as_slice() else {
        return Err(tlog(&format!(
            "the bundle has {} transparency-log entries; one is verified",
            entries.len()
        )));
    };
    let log_index = number(&entry["logIndex"])
        .filter(|i| *i >= 0)
        .ok_or_else(|| tlog("the entry's log index is not a non-negative integer"))?;
    let log_id: merkle::Hash = entry["logId"]["keyId"]
        .as_str()
        .and_then(super::dsse::base64_decode)
        .and_then(|id| merkle::Hash::try_from(id).ok())
        .ok_or_else(|| tlog("the entry names no log"))?;
    let body_b64 = entry["canonicalizedBody"]
        .as_str()
        .ok_or_else(|| tlog("the entry has no body"))?;
    let body = super::dsse::base64_decode(body_b64)
        .ok_or_else(|| tlog("the entry's body is not base64"))?;
    let signed = match &signed_message {
        None => Signed::Envelope(envelope),
        Some((signature, digest)) => Signed::Message { digest, signature },
    };
    let kind = rekor::entry_matches(&body, &entry["kindVersion"], &signed, verifier)
        .map_err(|m| fail(Code::Tlog, m))?;
    let proof = &entry["inclusionProof"];
    let set = entry["inclusionPromise"]["signedEntryTimestamp"].as_str();
    // An integrated time counts only with the signed entry timestamp that
    // binds it (checked below); a Rekor v2 entry has neither.
    let integrated_time = match (kind.v2, number(&entry["integratedTime"])) {
        (true, Some(t)) if t != 0 => {
            return Err(tlog(
                "a Rekor v2 entry has an integrated time, which only Rekor v1 entries have",
            ))
        }
        (false, Some(t)) if t > 0 && set.is_some() => Some(t),
        _ => None,
    };
    let mut times: Vec<i64> = integrated_time.into_iter().collect();
    let stamps = material["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if stamps.len() > super::timestamp::MAX_TIMESTAMPS {
        return Err(tlog(&format!(
            "the bundle has {} signed timestamps (at most {} are read)",
            stamps.len(),
            super::timestamp::MAX_TIMESTAMPS
        )));
    }
    for (i, stamp) in stamps.iter().enumerate() {
        if stamps[..i].contains(stamp) {
            return Err(tlog("the bundle has the same signed timestamp twice"));
        }
        let der = stamp["signedTimestamp"]
            .as_str()
            .and_then(super::dsse::base64_decode)
            .ok_or_else(|| tlog("a signed timestamp is not base64"))?;
        let at = super::timestamp::verify(&der, &stamped, &root.timestamp_authorities)
            .map_err(|m| fail(Code::Tlog, m))?;
        times.push(at);
    }
    if times.is_empty() {
        return Err(tlog(if kind.v2 {
            "a Rekor v2 entry needs a signed timestamp of a trusted timestamp authority, and the bundle has none"
        } else {
            "the bundle establishes no signing time: no signed entry timestamp with an integrated time, and no signed timestamp"
        }));
    }
    let log_key = root
        .tlog_key(&log_id, &times)
        .map_err(|m| fail(Code::Tlog, m))?;
    // Bundles from v0.2 on must carry the inclusion proof (the bundle
    // specification); only a v0.1 bundle may rest on its signed entry
    // timestamp alone.
    if proof.is_null() {
        let missing = if kind.v2 {
            Some("a Rekor v2 entry needs an inclusion proof, and it has none")
        } else if media != MEDIA_TYPES[0] {
            Some("the entry has no inclusion proof, which a bundle v0.2 or later must hold")
        } else if set.is_none() {
            Some("the entry has neither an inclusion proof nor a signed entry timestamp")
        } else {
            None
        };
        if let Some(missing) = missing {
            return Err(tlog(missing));
        }
    }
    if !proof.is_null() {
        // A v0.1 bundle's proof may come without the checkpoint (it was
        // added in v0.2); its root is then bound by the signed entry
        // timestamp alone, which must be there.
        let bare = media == MEDIA_TYPES[0] && proof["checkpoint"].is_null() && set.is_some();
        inclusion_verifies(proof, &body, (!bare).then_some((log_key, &log_id)))
            .map_err(|m| fail(Code::Tlog, m))?;
    }
    if let (Some(set), false) = (set, kind.v2) {
        let set = super::dsse::base64_decode(set)
            .ok_or_else(|| tlog("the signed entry timestamp is not base64"))?;
        let time = number(&entry["integratedTime"]).unwrap_or(0);
        if !merkle::set_verifies(log_key, &set, body_b64, time, &log_id, log_index) {
            return Err(tlog(
                "the signed entry timestamp does not verify (an edited time, index or body)",
            ));
        }
    }

    // 2. The certificate, at every time the signature is known to have existed.
    let mut keyless = None;
    if let Some(leaf) = &leaf {
        let mut verified = None;
        for at in &times {
            verified = Some(
                certificate::verify_with_issuer(leaf, *at, &root.authorities)
                    .map_err(|m| fail(Code::Certificate, m))?,
            );
        }
        let Some((identity, key, issuer)) = verified else {
            return Err(tlog("the bundle establishes no signing time"));
        };
        certificate::sct_verifies(leaf, &issuer, &root.ct_logs)
            .map_err(|m| fail(Code::Certificate, m))?;
        // 3. The signature, by the certificate's key.
        if !signs(&key) {
            return Err(fail(
                Code::Signature,
                "no signature verifies under the certificate's key".into(),
            ));
        }
        keyless = Some(identity);
    }
    let (payload_type, payload) = match &signed_message {
        Some(_) => (String::new(), Vec::new()),
        None => (
            envelope["payloadType"]
                .as_str()
                .ok_or_else(|| format("the envelope has no `payloadType`"))?
                .to_string(),
            envelope["payload"]
                .as_str()
                .and_then(super::dsse::base64_decode)
                .ok_or_else(|| format("the envelope's `payload` is not base64"))?,
        ),
    };

    // 4. Who it was.
    let (signer, key_id) = match (&keyless, key_signer) {
        (Some(identity), _) => (keyless_signer(file, trust, identity)?, None),
        (None, Some((signer, _, key_id))) => (signer, Some(key_id.to_string())),
        (None, None) => return Err(format("the bundle has no signing material")),
    };
    Ok(Opened {
        payload_type,
        payload,
        signer,
        identity: keyless,
        key_id,
        integrated_time,
        log_index,
    })
}

/// A protobuf JSON int64: a decimal string, as Sigstore writes them, or a
/// JSON number.
fn number(v: &serde_json::Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| v.as_i64())
}

/// One of the envelope's signatures verifies under `key`, over its PAE.
fn envelope_signed_by(envelope: &serde_json::Value, key: &super::PublicKey) -> bool {
    let (Some(payload_type), Some(payload)) = (
        envelope["payloadType"].as_str(),
        envelope["payload"]
            .as_str()
            .and_then(super::dsse::base64_decode),
    ) else {
        return false;
    };
    let message = super::dsse::pae(payload_type, &payload);
    envelope["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| {
            s["sig"]
                .as_str()
                .and_then(super::dsse::base64_decode)
                .is_some_and(|sig| key.verifies(&message, &sig))
        })
}

/// The inclusion proof leads from the entry's body to its root hash, and
/// the log's signed checkpoint commits to that root and tree size (`log`:
/// its key and id; `None` for a v0.1 proof without a checkpoint).
fn inclusion_verifies(
    proof: &serde_json::Value,
    body: &[u8],
    log: Option<(&super::PublicKey, &merkle::Hash)>,
) -> Result<(), String> {
    let unsigned = |v: &serde_json::Value| number(v).and_then(|n| u64::try_from(n).ok());
    let index = unsigned(&proof["logIndex"])
        .ok_or("the inclusion proof's index is not a non-negative integer")?;
    let size = unsigned(&proof["treeSize"]).ok_or("the inclusion proof has no tree size")?;
    let hashes = proof["hashes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            h.as_str()
                .and_then(super::dsse::base64_decode)
                .and_then(|h| merkle::Hash::try_from(h).ok())
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("an inclusion-proof hash is not a base64 SHA-256")?;
    let root = merkle::root_from_inclusion_proof(index, size, merkle::leaf_hash(body), &hashes)
        .ok_or("the inclusion proof does not fit the entry's position in the tree")?;
    let stated = proof["rootHash"]
        .as_str()
        .and_then(super::dsse::base64_decode);
    if stated.as_deref() != Some(&root[..]) {
        return Err("the inclusion proof does not lead to its root hash".into());
    }
    let Some((log_key, log_id)) = log else {
        return Ok(());
    };
    let checkpoint =
        merkle::Checkpoint::parse(proof["checkpoint"]["envelope"].as_str().unwrap_or(""))
            .map_err(|m| format!("the checkpoint: {m}"))?;
    if checkpoint.root != root || checkpoint.size != size {
        return Err("the checkpoint is of another tree than the inclusion proof".into());
    }
    if !checkpoint.signed_by(log_key, log_id) {
        return Err("the checkpoint is not signed by the log".into());
    }
    Ok(())
}

/// The keyless signer of the trust file that allows `identity`.
fn keyless_signer<'t>(
    file: &str,
    trust: &'t Trust,
    identity: &certificate::Identity,
) -> Result<&'t Signer, AttestError> {
    let subject = identity.subject.clone().unwrap_or_default();
    let issuer_name = identity.issuer.clone().unwrap_or_default();
    trust
        .signers
        .iter()
        .find(|s| match &s.kind {
            SignerKind::Keyless { identity, issuer } => identity.matches(&subject) && issuer.matches(&issuer_name),
            SignerKind::Key { .. } => false,
        })
        .ok_or_else(|| {
            let allowed: Vec<String> = trust
                .signers
                .iter()
                .filter_map(|s| match &s.kind {
                    SignerKind::Keyless { identity, issuer } => {
                        Some(format!("`{}` (identity {}, issuer {})", s.name, identity.shown(), issuer.shown()))
                    }
                    SignerKind::Key { .. } => None,
                })
                .collect();
            AttestError::verify(
                Code::Untrusted,
                file,
                format!(
                    "it was signed by identity `{subject}` with issuer `{issuer_name}`, which no keyless signer of `{}` allows{}",
                    trust.file,
                    if allowed.is_empty() { String::new() } else { format!("; allowed: {}", allowed.join(", ")) }
                ),
            )
        })
}
