//! RFC 3161 signed timestamps (a Sigstore bundle's
//! `timestampVerificationData`): a timestamp authority of the trusted root
//! signed that it saw the bundle's signature at `genTime`. A Rekor v2 entry
//! carries no time of its own, so for such a bundle these are the only
//! proof of when it was signed; for a Rekor v1 entry they are checked
//! beside its integrated time, and the certificate must be valid at every
//! verified time.
//!
//! What is checked, as sigstore-python and sigstore-go do: the response was
//! granted; its token is CMS SignedData over a TSTInfo; the TSTInfo's
//! message imprint is the hash of the bundle's signature bytes; the one
//! signer's signed attributes name TSTInfo as the content type and carry
//! its digest; the signature over them is the key of a timestamp
//! authority's leaf certificate from the trusted root (certificates the
//! token embeds are not trusted, so an authority the root does not name
//! cannot sign one); that leaf is for time stamping and chains to the
//! authority's root, every certificate valid at `genTime`; and `genTime`
//! is within the authority's validity window (its end included).

use super::certificate::{self, Authority};
use sha2::Digest;
use spki::der::{self, Decode, Encode};

/// At most this many timestamps are read from one bundle (as sigstore-go
/// and sigstore-python bound them), so a bundle cannot make verification
/// do unbounded work.
pub const MAX_TIMESTAMPS: usize = 32;

const SIGNED_DATA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const TIME_STAMPING: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// The hash functions a timestamp may use, by their algorithm identifiers
/// (as digest algorithms, and inside ECDSA signature algorithms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn of_digest(oid: &der::asn1::ObjectIdentifier) -> Option<HashAlg> {
        match oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => Some(HashAlg::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(HashAlg::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// The hash of a signature algorithm (ECDSA, RSA PKCS#1 v1.5, or
    /// Ed25519, which hashes for itself); `None` for one not verified here.
    /// `digest` is the hash a bare key algorithm (CMS allows
    /// `id-ecPublicKey` or `rsaEncryption` as the signature algorithm)
    /// signs with: its signer's digest algorithm.
    pub(crate) fn of_signature(
        oid: &der::asn1::ObjectIdentifier,
        digest: HashAlg,
    ) -> Option<HashAlg> {
        match oid.to_string().as_str() {
            "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => Some(HashAlg::Sha256),
            "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => Some(HashAlg::Sha384),
            "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" | "1.3.101.112" => {
                Some(HashAlg::Sha512)
            }
            "1.2.840.10045.2.1" | "1.2.840.113549.1.1.1" => Some(digest),
            _ => None,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// Verifies one timestamp (the DER `TimeStampResp`, as a bundle holds it
/// in `signedTimestamp`) over `signature`, the bundle's signature bytes,
/// against the timestamp authorities of the trusted root. Returns the
/// verified `genTime` (Unix seconds).
pub fn verify(response: &[u8], signature: &[u8], authorities: &[Authority]) -> Result<i64, String> {
    let token = parse(response)?;
    let imprint = &token.info.message_imprint;
    let alg = HashAlg::of_digest(&imprint.hash_algorithm.oid)
        .ok_or("the timestamp's message imprint uses an unknown hash")?;
    if imprint.hashed_message.as_bytes() != alg.digest(signature).as_slice() {
        return Err("the timestamp is of another signature (its message imprint differs)".into());
    }
    let gen_time = token.info.gen_time.to_unix_duration().as_secs() as i64;
    if authorities.is_empty() {
        return Err(
            "the bundle has a signed timestamp, but the trusted root names no timestamp authority"
                .into(),
        );
    }
    let mut last = String::from("no timestamp authority of the trusted root signed it");
    for authority in authorities {
        match signed_by(&token, authority, gen_time) {
            Ok(()) => {
                if gen_time < authority.start || authority.end.is_some_and(|end| gen_time > end) {
                    last = "the timestamp is outside its authority's validity in the trusted root"
                        .into();
                    continue;
                }
                return Ok(gen_time);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A timestamp token taken apart: what is signed, and by whom.
struct Token {
    info: x509_tsp::TstInfo,
    /// The DER of the signed attributes, as signed (a SET OF).
    signed_attributes: Vec<u8>,
    signature: Vec<u8>,
    hash: HashAlg,
}

fn parse(response: &[u8]) -> Result<Token, String> {
    let malformed = |what: &str, e: der::Error| format!("the signed timestamp {what}: {e}");
    let response = x509_tsp::TimeStampResp::from_der(response)
        .map_err(|e| malformed("is not a DER TimeStampResp", e))?;
    // PKIStatus (RFC 3161 section 2.4.2): 0 granted, 1 granted with
    // modifications; anything else is a refusal.
    if response.status.status as u8 > 1 {
        return Err("the timestamp authority did not grant the timestamp".into());
    }
    let token = response
        .time_stamp_token
        .ok_or("the timestamp response holds no token")?;
    if token.content_type != SIGNED_DATA {
        return Err("the timestamp token is not CMS SignedData".into());
    }
    let signed: cms::signed_data::SignedData = token
        .content
        .decode_as()
        .map_err(|e| malformed("token is not SignedData", e))?;
    let encapsulated = &signed.encap_content_info;
    if encapsulated.econtent_type != TST_INFO {
        return Err("the timestamp token does not hold a TSTInfo".into());
    }
    let content = encapsulated
        .econtent
        .as_ref()
        .ok_or("the timestamp token's TSTInfo is missing")?;
    // eContent is an OCTET STRING whose contents are the TSTInfo's DER.
    let octets = content
        .decode_as::<der::asn1::OctetString>()
        .map_err(|e| malformed("TSTInfo is not an OCTET STRING", e))?;
    let info_der = octets.as_bytes();
    let info = x509_tsp::TstInfo::from_der(info_der)
        .map_err(|e| malformed("TSTInfo does not parse", e))?;
    let mut signers = signed.signer_infos.0.iter();
    let (Some(signer), None) = (signers.next(), signers.next()) else {
        return Err("the timestamp token does not have exactly one signer".into());
    };
    let hash = HashAlg::of_digest(&signer.digest_alg.oid)
        .ok_or("the timestamp's signer uses an unknown digest algorithm")?;
    let attributes = signer
        .signed_attrs
        .as_ref()
        .ok_or("the timestamp's signer has no signed attributes")?;
    let attribute = |oid: der::asn1::ObjectIdentifier| {
        let mut found = attributes.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(a), None) if a.values.len() == 1 => a.values.get(0),
            _ => None,
        }
    };
    let content_type = attribute(CONTENT_TYPE)
        .and_then(|v| v.decode_as::<der::asn1::ObjectIdentifier>().ok())
        .ok_or("the timestamp's signed attributes have no single content type")?;
    if content_type != TST_INFO {
        return Err("the timestamp's signed attributes name another content type".into());
    }
    let digest = attribute(MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<der::asn1::OctetString>().ok())
        .ok_or("the timestamp's signed attributes have no single message digest")?;
    if digest.as_bytes() != hash.digest(info_der).as_slice() {
        return Err("the timestamp's TSTInfo is not the one its signer signed".into());
    }
    let hash = HashAlg::of_signature(&signer.signature_algorithm.oid, hash).ok_or(
        "the timestamp's signature algorithm is not one verified here (ECDSA, RSA PKCS#1 v1.5)",
    )?;
    let signed_attributes = attributes
        .to_der()
        .map_err(|e| malformed("signed attributes do not encode", e))?;
    Ok(Token {
        info,
        signed_attributes,
        signature: signer.signature.as_bytes().to_vec(),
        hash,
    })
}

/// Whether `authority`'s leaf certificate signed the token, and its chain
/// (leaf first, root last) holds at `at`.
fn signed_by(token: &Token, authority: &Authority, at: i64) -> Result<(), String> {
    let leaf_der = authority
        .chain
        .first()
        .ok_or("a timestamp authority of the trusted root has no certificate")?;
    let leaf = x509_cert::Certificate::from_der(leaf_der)
        .map_err(|e| format!("a timestamp authority's certificate does not parse: {e}"))?;
    let key = certificate::key_of(&leaf)?;
    if !key.verifies_hashed(token.hash, &token.signed_attributes, &token.signature) {
        return Err("no timestamp authority of the trusted root signed the timestamp".into());
    }
    let eku = certificate::extension(&leaf, certificate::EKU)
        .and_then(|e| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e).ok())
        .ok_or("the timestamp authority's certificate has no extended key usage")?;
    if !eku.0.contains(&TIME_STAMPING) {
        return Err("the timestamp authority's certificate is not for time stamping".into());
    }
    certificate::within(&leaf, at)
        .map_err(|_| "the timestamp was made outside its authority's certificate validity")?;
    certificate::chain_verifies(&leaf, authority.chain.get(1..).unwrap_or_default(), at)
        .map_err(|e| format!("the timestamp authority's chain: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::certificate::TrustedRoot;

    /// The conformance suite's Rekor v2 happy path (tests/data/conformance):
    /// its bundle's one timestamp, over its message signature, by the
    /// staging timestamp authority of its trusted root.
    fn case(name: &str) -> (Vec<u8>, Vec<u8>, TrustedRoot) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/conformance/bundle-verify")
            .join(name);
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let bundle: serde_json::Value =
            serde_json::from_str(&read("bundle.sigstore.json")).unwrap_or_default();
        let b64 = |v: &serde_json::Value| {
            v.as_str()
                .and_then(crate::attest::dsse::base64_decode)
                .unwrap_or_default()
        };
        let stamp = b64(&bundle["verificationMaterial"]["timestampVerificationData"]
            ["rfc3161Timestamps"][0]["signedTimestamp"]);
        let signature = b64(&bundle["messageSignature"]["signature"]);
        let Ok(root) = TrustedRoot::parse(&read("trusted_root.json")) else {
            panic!("the case's trusted root parses");
        };
        (stamp, signature, root)
    }

    #[test]
    fn a_real_timestamp_verifies_at_its_gen_time() {
        let (stamp, signature, root) = case("rekor2-happy-path");
        // 2025-06-12T12:02:20Z, the time the staging authority stamped
        // (`openssl ts -reply -text` shows the same).
        assert_eq!(
            verify(&stamp, &signature, &root.timestamp_authorities),
            Ok(1749729740)
        );
    }

    #[test]
    fn edits_and_other_authorities_are_refused() {
        let (stamp, signature, root) = case("rekor2-happy-path");
        let authorities = &root.timestamp_authorities;
        let mut other = signature.clone();
        other[10] ^= 1;
        assert!(verify(&stamp, &other, authorities).is_err_and(|e| e.contains("another signature")));
        // Every single-byte edit of what is signed (the TSTInfo, found in
        // the token by its DER) and of the signature (the token's last
        // bytes) is refused, never accepted. (SignedData's own list of
        // digest algorithms is not signed, and is not read.)
        let Ok(token) = parse(&stamp) else {
            panic!("the token parses");
        };
        let Ok(info) = token.info.to_der() else {
            panic!("the TSTInfo encodes");
        };
        let Some(at) = stamp.windows(info.len()).position(|w| w == info.as_slice()) else {
            panic!("the TSTInfo is in the token");
        };
        let signed = (at..at + info.len()).chain(stamp.len() - token.signature.len()..stamp.len());
        for i in signed {
            let mut edited = stamp.clone();
            edited[i] ^= 0x20;
            assert!(
                verify(&edited, &signature, authorities).is_err(),
                "byte {i} edited, still verifies"
            );
        }
        assert!(verify(&stamp, &signature, &[])
            .is_err_and(|e| e.contains("names no timestamp authority")));
        // The Fulcio authorities are not timestamp authorities.
        assert!(verify(&stamp, &signature, &root.authorities).is_err());
        assert!(verify(b"\x30\x03\x02\x01\x00", &signature, authorities).is_err());
        assert!(verify(&[], &signature, authorities).is_err());
    }
}
