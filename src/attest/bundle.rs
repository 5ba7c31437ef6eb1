//! Sigstore bundles (v0.1, v0.2, v0.3) holding a DSSE envelope signed by a
//! Fulcio certificate: every check of TRUST.md section 2, offline, in this
//! order, each failure with its code:
//!
//! 1. `attestation::tlog`: the Rekor entry is of a log of the trusted root,
//!    its body is this envelope, and it is in the log: an inclusion proof
//!    whose root the log's signed checkpoint commits to, or the log's signed
//!    entry timestamp (both checked when both are there);
//! 2. `attestation::certificate`: the certificate chains to a Fulcio
//!    authority valid at the entry's integrated time, is for code signing,
//!    and carries an SCT of a trusted CT log;
//! 3. `attestation::signature`: the envelope's signature is the
//!    certificate key's over the PAE;
//! 4. `attestation::untrusted`: a keyless signer of the trust file matches
//!    the certificate's identity and issuer.

use super::certificate;
use super::error::{AttestError, Code};
use super::merkle;
use super::trust::{Signer, SignerKind, Trust};

/// What a verified bundle gives the mount.
pub struct Opened<'t> {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signer: &'t Signer,
    pub identity: certificate::Identity,
    pub integrated_time: i64,
    pub log_index: i64,
}

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
    let media = bundle["mediaType"].as_str().unwrap_or("");
    let v03 = media == "application/vnd.dev.sigstore.bundle.v0.3+json";
    if !(v03
        || media == "application/vnd.dev.sigstore.bundle+json;version=0.1"
        || media == "application/vnd.dev.sigstore.bundle+json;version=0.2")
    {
        return Err(format(&format!(
            "`{media}` is not a Sigstore bundle version this reads (v0.1, v0.2, v0.3)"
        )));
    }
    let material = &bundle["verificationMaterial"];
    let leaf_b64 = if v03 {
        material["certificate"]["rawBytes"].as_str()
    } else {
        material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str()
    };
    let leaf = leaf_b64
        .and_then(super::dsse::base64_decode)
        .ok_or_else(|| {
            format(
                "the bundle's signing certificate is missing or not base64 (key-signed bundles are not read)",
            )
        })?;
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
    let root_text = trust
        .trusted_root
        .as_deref()
        .unwrap_or(certificate::PUBLIC_GOOD_TRUSTED_ROOT);

    // 1. The transparency log.
    let tlog = |m: &str| fail(Code::Tlog, m.to_string());
    let entries = material["tlogEntries"]
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| tlog("the bundle has no transparency-log entry"))?;
    let entry = &entries[0];
    let number = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .or_else(|| v.as_i64())
    };
    let log_index = number(&entry["logIndex"])
        .filter(|i| *i >= 0)
        .ok_or_else(|| tlog("the entry's log index is not a non-negative integer"))?;
    let integrated_time = number(&entry["integratedTime"])
        .filter(|t| *t > 0)
        .ok_or_else(|| tlog("the entry has no integrated time"))?;
    let log_id: merkle::Hash = entry["logId"]["keyId"]
        .as_str()
        .and_then(super::dsse::base64_decode)
        .and_then(|id| merkle::Hash::try_from(id).ok())
        .ok_or_else(|| tlog("the entry names no log"))?;
    let root =
        certificate::TrustedRoot::parse(root_text).map_err(|m| fail(Code::Certificate, m))?;
    let log_key = root
        .tlog_key(&log_id)
        .cloned()
        .ok_or_else(|| tlog("the entry is in a log the trusted root does not name"))?;
    let body_b64 = entry["canonicalizedBody"]
        .as_str()
        .ok_or_else(|| tlog("the entry has no body"))?;
    let body = super::dsse::base64_decode(body_b64)
        .ok_or_else(|| tlog("the entry's body is not base64"))?;
    match &signed_message {
        None => merkle::dsse_entry_matches(&body, envelope, &leaf),
        Some((sig, digest)) => merkle::hashedrekord_entry_matches(&body, digest, sig, &leaf),
    }
    .map_err(|m| fail(Code::Tlog, m))?;
    let proof = &entry["inclusionProof"];
    let set = entry["inclusionPromise"]["signedEntryTimestamp"].as_str();
    if proof.is_null() && set.is_none() {
        return Err(tlog(
            "the entry has neither an inclusion proof nor a signed entry timestamp",
        ));
    }
    if !proof.is_null() {
        let index = number(&proof["logIndex"])
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| tlog("the inclusion proof's index is not a non-negative integer"))?;
        let size = number(&proof["treeSize"])
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| tlog("the inclusion proof has no tree size"))?;
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
            .ok_or_else(|| tlog("an inclusion-proof hash is not a base64 SHA-256"))?;
        let root =
            merkle::root_from_inclusion_proof(index, size, merkle::leaf_hash(&body), &hashes)
                .ok_or_else(|| {
                    tlog("the inclusion proof does not fit the entry's position in the tree")
                })?;
        let stated = proof["rootHash"]
            .as_str()
            .and_then(super::dsse::base64_decode);
        if stated.as_deref() != Some(&root[..]) {
            return Err(tlog("the inclusion proof does not lead to its root hash"));
        }
        let checkpoint =
            merkle::Checkpoint::parse(proof["checkpoint"]["envelope"].as_str().unwrap_or(""))
                .map_err(|m| fail(Code::Tlog, format!("the checkpoint: {m}")))?;
        if checkpoint.root != root || checkpoint.size != size {
            return Err(tlog(
                "the checkpoint is of another tree than the inclusion proof",
            ));
        }
        if !checkpoint.signed_by(&log_key, &log_id) {
            return Err(tlog("the checkpoint is not signed by the log"));
        }
    }
    if let Some(set) = set {
        let set = super::dsse::base64_decode(set)
            .ok_or_else(|| tlog("the signed entry timestamp is not base64"))?;
        if !merkle::set_verifies(
            &log_key,
            &set,
            body_b64,
            integrated_time,
            &log_id,
            log_index,
        ) {
            return Err(tlog(
                "the signed entry timestamp does not verify (an edited time, index or body)",
            ));
        }
    }

    // 2. The certificate, at the time the log saw the entry.
    let (identity, key, issuer) =
        certificate::verify_with_issuer(&leaf, integrated_time, &root.authorities)
            .map_err(|m| fail(Code::Certificate, m))?;
    certificate::sct_verifies(&leaf, &issuer, &root.ct_logs)
        .map_err(|m| fail(Code::Certificate, m))?;

    // 3. The signature, by the certificate's key: over the envelope's PAE,
    // or over the artifact (its digest) for a message signature.
    let (payload_type, payload, signed) = match &signed_message {
        Some((sig, digest)) => (String::new(), Vec::new(), key.verifies_prehash(digest, sig)),
        None => {
            let payload_type = envelope["payloadType"]
                .as_str()
                .ok_or_else(|| format("the envelope has no `payloadType`"))?;
            let payload = envelope["payload"]
                .as_str()
                .and_then(super::dsse::base64_decode)
                .ok_or_else(|| format("the envelope's `payload` is not base64"))?;
            let message = super::dsse::pae(payload_type, &payload);
            let signed = envelope["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| {
                    s["sig"]
                        .as_str()
                        .and_then(super::dsse::base64_decode)
                        .is_some_and(|sig| key.verifies(&message, &sig))
                });
            (payload_type.to_string(), payload, signed)
        }
    };
    if !signed {
        return Err(fail(
            Code::Signature,
            "no signature verifies under the certificate's key".into(),
        ));
    }

    // 4. Who it was.
    let subject = identity.subject.clone().unwrap_or_default();
    let issuer_name = identity.issuer.clone().unwrap_or_default();
    let signer = trust
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
            fail(
                Code::Untrusted,
                format!(
                    "it was signed by identity `{subject}` with issuer `{issuer_name}`, which no keyless signer of `{}` allows{}",
                    trust.file,
                    if allowed.is_empty() { String::new() } else { format!("; allowed: {}", allowed.join(", ")) }
                ),
            )
        })?;
    Ok(Opened {
        payload_type,
        payload,
        signer,
        identity,
        integrated_time,
        log_index,
    })
}
