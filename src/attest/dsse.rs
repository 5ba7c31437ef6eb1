//! DSSE envelopes (the Dead Simple Signing Envelope, v1): the signature is
//! over the pre-authentication encoding of the payload type and the payload,
//! never over the payload alone, so a signed payload cannot be replayed
//! under another type.

use super::error::{AttestError, Code};
use super::trust::{Signer, SignerKind, Trust};
use base64::Engine;

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
/// lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Base64 as DSSE allows it: standard or URL-safe alphabet, padded or not.
/// Line breaks are skipped, as Go's decoder (which wrote most Sigstore
/// bundles) skips them: an openssl-made timestamp is wrapped at 76.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let unwrapped: String;
    let text = if text.contains(['\n', '\r']) {
        unwrapped = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
        unwrapped.as_str()
    } else {
        text
    };
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// A verified envelope: its payload and the signer whose key verified it.
pub struct Opened<'t> {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signer: &'t Signer,
    pub key_id: String,
}

/// Checks an envelope's signatures against the trust file's key signers.
/// It verifies when one signature verifies under one trusted key; other
/// signatures (co-signers the trust file does not know) are ignored, as
/// DSSE verifiers do.
pub fn open<'t>(
    file: &str,
    envelope: &serde_json::Value,
    trust: &'t Trust,
) -> Result<Opened<'t>, AttestError> {
    let format = |m: &str| AttestError::verify(Code::Format, file, m);
    let object = envelope
        .as_object()
        .ok_or_else(|| format("a DSSE envelope is a JSON object"))?;
    let payload_type = object
        .get("payloadType")
        .and_then(|v| v.as_str())
        .ok_or_else(|| format("the envelope has no `payloadType` string"))?;
    let payload = object
        .get("payload")
        .and_then(|v| v.as_str())
        .ok_or_else(|| format("the envelope has no `payload` string"))?;
    let payload = base64_decode(payload).ok_or_else(|| format("the `payload` is not base64"))?;
    let signatures = object
        .get("signatures")
        .and_then(|v| v.as_array())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format("the envelope has no `signatures`"))?;
    let message = pae(payload_type, &payload);
    let mut named: Vec<String> = Vec::new();
    for entry in signatures {
        let sig = entry
            .get("sig")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format("a signature without its `sig` string"))?;
        let sig = base64_decode(sig).ok_or_else(|| format("a `sig` that is not base64"))?;
        let keyid = entry.get("keyid").and_then(|v| v.as_str()).unwrap_or("");
        if !keyid.is_empty() {
            named.push(keyid.to_string());
        }
        for signer in &trust.signers {
            let SignerKind::Key { key, key_id } = &signer.kind else {
                continue;
            };
            if key.verifies(&message, &sig) {
                return Ok(Opened {
                    payload_type: payload_type.to_string(),
                    payload,
                    signer,
                    key_id: key_id.clone(),
                });
            }
        }
    }
    let trusted: Vec<String> = trust
        .signers
        .iter()
        .filter_map(|s| match &s.kind {
            SignerKind::Key { key, key_id } => Some(format!(
                "`{}` ({}, key id {key_id})",
                s.name,
                key.algorithm()
            )),
            SignerKind::Keyless { .. } => None,
        })
        .collect();
    // A signature that names a trusted key and does not verify under it is
    // an edit (of the payload, its type or the signature); one that names
    // only other keys was made by someone the trust file does not trust.
    let names_trusted = named.iter().any(|id| {
        trust.signers.iter().any(|s| match &s.kind {
            SignerKind::Key { key_id, .. } => id == key_id || *id == s.name,
            SignerKind::Keyless { .. } => false,
        })
    });
    if !named.is_empty() && !names_trusted {
        return Err(AttestError::verify(
            Code::Untrusted,
            file,
            format!(
                "it is signed by key id {}, which no signer of `{}` has; trusted: {}",
                named.join(", "),
                trust.file,
                trusted.join(", ")
            ),
        ));
    }
    Err(AttestError::verify(
        Code::Signature,
        file,
        format!(
            "no signature verifies over the payload under the trusted keys ({}){}",
            trusted.join(", "),
            if named.is_empty() {
                "; the envelope names no key id, so an edit and a wrong key look the same"
            } else {
                ""
            }
        ),
    ))
}

#[cfg(test)]
mod tests {
    /// The PAE example of the DSSE specification (protocol.md).
    #[test]
    fn pae_test_vector() {
        assert_eq!(
            super::pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(super::pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn base64_in_either_alphabet() {
        assert_eq!(super::base64_decode("aGk/Pz8=").unwrap(), b"hi???");
        assert_eq!(super::base64_decode("aGk_Pz8").unwrap(), b"hi???");
        assert!(super::base64_decode("not base64!").is_none());
    }
}
