//! Fulcio signing certificates (keyless signers): the chain to a
//! certificate authority of the trusted root, valid at the signing time,
//! and the identity the certificate was issued to (its subject alternative
//! name, the OIDC issuer, and the CI claims Fulcio records). Parsing is the
//! RustCrypto `x509-cert` crate's; signatures are checked with the same
//! keys code as key signers.
//!
//! And the SCT, the certificate-transparency log's promise that it logged
//! the certificate (RFC 6962 section 3.2). `bundle.rs` puts them together.

use super::PublicKey;
use spki::der::{Decode, Encode};
use std::collections::BTreeMap;
use x509_cert::Certificate;

/// The public-good Sigstore trusted root, built in (`trusted_root = FILE`
/// in a trust file replaces it): sigstore-python's embedded copy of the
/// production root, byte for byte (`sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json`
/// at 27db13db; its timestamp authorities are not used here).
pub const PUBLIC_GOOD_TRUSTED_ROOT: &str = include_str!("sigstore-public-good-trusted-root.json");

/// A certificate authority of a trusted root: its chain (issuing
/// certificate first, root last) and the window in which it issued.
#[derive(Clone, Debug)]
pub struct Authority {
    pub chain: Vec<Vec<u8>>,
    pub start: i64,
    pub end: Option<i64>,
}

/// The authorities of one section of a trusted root (Sigstore's
/// `trusted_root.json`): its `certificateAuthorities` (Fulcio) or its
/// `timestampAuthorities` (RFC 3161), which have the same shape.
fn authorities_of(section: &serde_json::Value) -> Result<Vec<Authority>, String> {
    let time = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second())
    };
    let mut out = Vec::new();
    for ca in section.as_array().into_iter().flatten() {
        let chain = ca["certChain"]["certificates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                c["rawBytes"]
                    .as_str()
                    .and_then(super::dsse::base64_decode)
                    .ok_or_else(|| "a certificate of the trusted root is not base64".to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        if chain.is_empty() {
            return Err("a certificate authority of the trusted root has no certificate".into());
        }
        out.push(Authority {
            chain,
            start: time(&ca["validFor"]["start"])
                .ok_or("a certificate authority without its start")?,
            end: time(&ca["validFor"]["end"]),
        });
    }
    Ok(out)
}

/// Who a certificate was issued to, as Fulcio records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The subject alternative name: a URI (a CI workflow) or an email.
    pub subject: Option<String>,
    /// The OIDC issuer that vouched for it.
    pub issuer: Option<String>,
    /// The CI claims (`source_repository`, `source_ref`, `source_digest`,
    /// `workflow`, `runner_environment`) present in the certificate.
    pub claims: BTreeMap<&'static str, String>,
}

const SAN: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("2.5.29.17");
pub(crate) const EKU: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const ISSUER_V1: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const ISSUER_V2: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const CLAIMS: [(&str, &str); 5] = [
    ("1.3.6.1.4.1.57264.1.12", "source_repository"),
    ("1.3.6.1.4.1.57264.1.14", "source_ref"),
    ("1.3.6.1.4.1.57264.1.13", "source_digest"),
    ("1.3.6.1.4.1.57264.1.9", "workflow"),
    ("1.3.6.1.4.1.57264.1.11", "runner_environment"),
];

/// Checks the certificate `leaf` (DER) against the authorities at `at`
/// (Unix seconds, the log's integrated time): it was issued for code
/// signing by an authority valid then, through a chain whose every
/// signature verifies, and every certificate was valid then. Returns the
/// identity and the key the envelope must verify under.
pub fn verify(
    leaf: &[u8],
    at: i64,
    authorities: &[Authority],
) -> Result<(Identity, PublicKey), String> {
    verify_with_issuer(leaf, at, authorities).map(|(i, k, _)| (i, k))
}

/// [`verify`], also giving the certificate that issued `leaf` (DER), which
/// its SCT is bound to.
pub fn verify_with_issuer(
    leaf: &[u8],
    at: i64,
    authorities: &[Authority],
) -> Result<(Identity, PublicKey, Vec<u8>), String> {
    let cert = Certificate::from_der(leaf)
        .map_err(|e| format!("the signing certificate does not parse: {e}"))?;
    within(&cert, at)?;
    let eku = extension(&cert, EKU).ok_or("the signing certificate has no extended key usage")?;
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(eku).map_err(|e| e.to_string())?;
    if !eku.0.contains(&CODE_SIGNING) {
        return Err("the signing certificate is not for code signing".into());
    }
    let mut last = String::from("no certificate authority of the trusted root issued it");
    for authority in authorities {
        if at < authority.start || authority.end.is_some_and(|end| at > end) {
            continue;
        }
        match chain_verifies(&cert, &authority.chain, at) {
            Ok(()) => {
                let key = key_of(&cert)?;
                let issuer = authority.chain.first().cloned().unwrap_or_default();
                return Ok((identity(&cert)?, key, issuer));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Whether the certificate `der` names itself as its issuer (a root), or
/// does not parse (which is refused anyway).
pub fn is_self_issued(der: &[u8]) -> bool {
    Certificate::from_der(der)
        .map(|c| c.tbs_certificate.issuer == c.tbs_certificate.subject)
        .unwrap_or(true)
}

pub(crate) fn within(cert: &Certificate, at: i64) -> Result<(), String> {
    let validity = &cert.tbs_certificate.validity;
    let start = validity.not_before.to_unix_duration().as_secs() as i64;
    let end = validity.not_after.to_unix_duration().as_secs() as i64;
    if at < start || at > end {
        return Err(format!(
            "a certificate of the chain was not valid at the signing time (valid {start} to {end}, signed at {at}, Unix seconds)"
        ));
    }
    Ok(())
}

pub(crate) fn key_of(cert: &Certificate) -> Result<PublicKey, String> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    PublicKey::from_spki_der(&spki).map(|(k, _)| k)
}

/// `child` is signed by `chain[0]`, each by the next, and the last is a
/// trust anchor; every one valid at `at`.
pub(crate) fn chain_verifies(
    child: &Certificate,
    chain: &[Vec<u8>],
    at: i64,
) -> Result<(), String> {
    let mut current = child.clone();
    for der in chain {
        let issuer = Certificate::from_der(der)
            .map_err(|e| format!("a trusted-root certificate does not parse: {e}"))?;
        if current.tbs_certificate.issuer != issuer.tbs_certificate.subject {
            return Err("the certificate's issuer is not this authority".into());
        }
        within(&issuer, at)?;
        let tbs = current
            .tbs_certificate
            .to_der()
            .map_err(|e| e.to_string())?;
        let signature = current.signature.raw_bytes();
        let hash = super::timestamp::HashAlg::of_signature(
            &current.signature_algorithm.oid,
            super::timestamp::HashAlg::Sha256,
        )
        .ok_or("a certificate of the chain is signed with an algorithm not verified here")?;
        if !key_of(&issuer)?.verifies_hashed(hash, &tbs, signature) {
            return Err("a certificate of the chain is not signed by its issuer".into());
        }
        current = issuer;
    }
    Ok(())
}

pub(crate) fn extension(cert: &Certificate, oid: spki::ObjectIdentifier) -> Option<&[u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes())
}

fn identity(cert: &Certificate) -> Result<Identity, String> {
    use x509_cert::ext::pkix::name::GeneralName;
    let mut out = Identity::default();
    if let Some(san) = extension(cert, SAN) {
        let names =
            x509_cert::ext::pkix::SubjectAltName::from_der(san).map_err(|e| e.to_string())?;
        out.subject = names.0.iter().find_map(|n| match n {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            GeneralName::Rfc822Name(e) => Some(e.to_string()),
            _ => None,
        });
    }
    // The v2 extensions hold a DER UTF8String; the first issuer extension
    // held the raw text.
    let utf8 = |bytes: &[u8]| {
        spki::der::asn1::Utf8StringRef::from_der(bytes)
            .map(|s| s.as_str().to_string())
            .ok()
    };
    out.issuer = extension(cert, ISSUER_V2)
        .and_then(utf8)
        .or_else(|| extension(cert, ISSUER_V1).and_then(|b| String::from_utf8(b.to_vec()).ok()));
    for (oid, name) in CLAIMS {
        let oid = spki::ObjectIdentifier::new_unwrap(oid);
        if let Some(value) = extension(cert, oid).and_then(utf8) {
            out.claims.insert(name, value);
        }
    }
    Ok(out)
}

const SCT_LIST: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// A log of a trusted root: its key, by log id, and (for a transparency
/// log) the window in which its key signed: `start` is `None` when the
/// root leaves it out, and such a log vouches for nothing.
#[derive(Clone, Debug)]
pub struct CtLog {
    pub log_id: [u8; 32],
    pub key: PublicKey,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// A Sigstore trusted root, parsed once: its certificate authorities, its
/// transparency logs (Rekor), its certificate-transparency logs and its
/// timestamp authorities.
#[derive(Clone, Debug)]
pub struct TrustedRoot {
    pub authorities: Vec<Authority>,
    pub tlogs: Vec<CtLog>,
    pub ct_logs: Vec<CtLog>,
    pub timestamp_authorities: Vec<Authority>,
}

impl TrustedRoot {
    pub fn parse(trusted_root: &str) -> Result<TrustedRoot, String> {
        let root: serde_json::Value = serde_json::from_str(trusted_root)
            .map_err(|e| format!("the trusted root is not JSON: {e}"))?;
        Ok(TrustedRoot {
            authorities: authorities_of(&root["certificateAuthorities"])?,
            // A transparency log is known by the id the root gives it: the
            // SHA-256 of its key for Rekor v1 logs, the signed-note key
            // hash for Rekor v2 logs (the root is the trust anchor, so its
            // naming is what an entry's `logId` is matched against).
            tlogs: logs(&root["tlogs"], false)?,
            ct_logs: logs(&root["ctlogs"], true)?,
            timestamp_authorities: authorities_of(&root["timestampAuthorities"])?,
        })
    }

    /// The key of the transparency log `log_id` names, when that log's
    /// window in the root holds every one of `times` (Unix seconds; its
    /// end included).
    pub fn tlog_key(&self, log_id: &[u8; 32], times: &[i64]) -> Result<&PublicKey, String> {
        let log = self
            .tlogs
            .iter()
            .find(|l| l.log_id == *log_id)
            .ok_or("the entry is in a log the trusted root does not name")?;
        let start = log
            .start
            .ok_or("the trusted root gives the entry's log no start of validity")?;
        if times
            .iter()
            .any(|t| *t < start || log.end.is_some_and(|end| *t > end))
        {
            return Err("the entry was made outside its log's validity in the trusted root".into());
        }
        Ok(&log.key)
    }
}

/// The logs of one section of a trusted root, each by the id the root
/// gives it (`strict`, for CT logs: that id must be its key's SHA-256, as
/// SCTs name their log).
fn logs(section: &serde_json::Value, strict: bool) -> Result<Vec<CtLog>, String> {
    let time = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second())
    };
    let mut out = Vec::new();
    for log in section.as_array().into_iter().flatten() {
        let der = log["publicKey"]["rawBytes"]
            .as_str()
            .and_then(super::dsse::base64_decode)
            .ok_or("a log key of the trusted root is not base64")?;
        // A key of a kind not verified here (the staging root's RSA CT log
        // holds a PKCS#1 key) leaves that one log out: what it signed is
        // refused, and every other log of the root stays usable.
        let Ok((key, key_id)) = PublicKey::from_spki_der(&der) else {
            continue;
        };
        let log_id = log["logId"]["keyId"]
            .as_str()
            .and_then(super::dsse::base64_decode)
            .and_then(|id| <[u8; 32]>::try_from(id).ok())
            .ok_or("a log of the trusted root without its log id")?;
        if strict && super::keys::hex(&log_id) != key_id {
            return Err("a CT log's id is not the SHA-256 of its key".into());
        }
        let validity = &log["publicKey"]["validFor"];
        out.push(CtLog {
            log_id,
            key,
            start: time(&validity["start"]),
            end: time(&validity["end"]),
        });
    }
    Ok(out)
}

/// Whether `leaf` carries an embedded SCT that a trusted CT log signed over
/// this certificate (RFC 6962 section 3.2: the precertificate's TBS, which
/// is the certificate's TBS without the SCT list, bound to the issuer's key
/// hash). `issuer` is the certificate that issued `leaf`.
pub fn sct_verifies(leaf: &[u8], issuer: &[u8], logs: &[CtLog]) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    let cert = Certificate::from_der(leaf).map_err(|e| e.to_string())?;
    let issuer = Certificate::from_der(issuer).map_err(|e| e.to_string())?;
    let list = extension(&cert, SCT_LIST).ok_or("the signing certificate carries no SCT")?;
    // The extension's value is an OCTET STRING holding the TLS-encoded list.
    let list = spki::der::asn1::OctetStringRef::from_der(list).map_err(|e| e.to_string())?;
    let list = list.as_bytes();
    let mut tbs = cert.tbs_certificate.clone();
    if let Some(exts) = &mut tbs.extensions {
        exts.retain(|e| e.extn_id != SCT_LIST);
    }
    let tbs = tbs.to_der().map_err(|e| e.to_string())?;
    let issuer_key_hash = Sha256::digest(
        issuer
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())?,
    );
    let mut r = Reader(list);
    let mut scts = Reader(r.take_u16_prefixed().ok_or("a malformed SCT list")?);
    let mut seen = false;
    while !scts.0.is_empty() {
        let mut sct = Reader(scts.take_u16_prefixed().ok_or("a malformed SCT")?);
        seen = true;
        let version = sct.take(1).ok_or("a truncated SCT")?;
        let log_id = sct.take(32).ok_or("a truncated SCT")?;
        let timestamp = sct.take(8).ok_or("a truncated SCT")?;
        let extensions = sct.take_u16_prefixed().ok_or("a truncated SCT")?;
        let _algorithms = sct.take(2).ok_or("a truncated SCT")?;
        let signature = sct.take_u16_prefixed().ok_or("a truncated SCT")?;
        let Some(log) = logs.iter().find(|l| l.log_id[..] == *log_id) else {
            continue;
        };
        let mut signed = Vec::with_capacity(tbs.len() + 100);
        signed.extend_from_slice(version);
        signed.push(0); // signature_type: certificate_timestamp
        signed.extend_from_slice(timestamp);
        signed.extend_from_slice(&[0, 1]); // entry_type: precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        let len = u32::try_from(tbs.len()).map_err(|_| "a certificate too large")?;
        signed.extend_from_slice(&len.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(
            &u16::try_from(extensions.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        signed.extend_from_slice(extensions);
        if log.key.verifies(&signed, signature) {
            return Ok(());
        }
        return Err("the SCT of a trusted CT log does not verify over this certificate".into());
    }
    Err(if seen {
        "no SCT is from a CT log of the trusted root".into()
    } else {
        "the signing certificate's SCT list is empty".into()
    })
}

/// A cursor over TLS-encoded bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn take_u16_prefixed(&mut self) -> Option<&'a [u8]> {
        let len = self.take(2)?;
        let len = usize::from(u16::from_be_bytes([*len.first()?, *len.get(1)?]));
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::test_data::{b64, corpus_bundle};

    /// The corpus bundle's Fulcio certificate chains to the public-good
    /// authority at the log's integrated time, names the release workflow
    /// and GitHub's issuer, and its key verifies the envelope; an edited
    /// certificate, another time, or another root does not.
    #[test]
    fn the_corpus_certificate_chains_to_the_public_good_root() {
        let bundle = corpus_bundle();
        let leaf = b64(bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap());
        let at: i64 = bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let cas = TrustedRoot::parse(PUBLIC_GOOD_TRUSTED_ROOT)
            .unwrap()
            .authorities;
        let (identity, key) = verify(&leaf, at, &cas).unwrap();
        assert_eq!(
            identity.issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        let subject = identity.subject.clone().unwrap();
        assert!(subject.starts_with("https://github.com/"), "{subject}");
        assert!(
            identity.claims.contains_key("source_repository"),
            "{identity:?}"
        );
        // The envelope's signature is this certificate's key's.
        let envelope = &bundle["dsseEnvelope"];
        let payload = b64(envelope["payload"].as_str().unwrap());
        let pae = crate::attest::pae(envelope["payloadType"].as_str().unwrap(), &payload);
        let sig = b64(envelope["signatures"][0]["sig"].as_str().unwrap());
        assert!(key.verifies(&pae, &sig));
        // Outside its ten minutes, or with one edited byte, or without the right root.
        assert!(verify(&leaf, at + 3600, &cas).is_err());
        let mut edited = leaf.clone();
        let n = edited.len() - 80;
        edited[n] ^= 1;
        assert!(verify(&edited, at, &cas).is_err());
        assert!(verify(&leaf, at, &cas[..1]).is_err());
    }

    /// The corpus certificate's embedded SCT is the 2022 CT log's, over
    /// this certificate; another issuer or an edited certificate breaks it.
    #[test]
    fn the_corpus_certificate_has_a_valid_sct() {
        let bundle = corpus_bundle();
        let leaf = b64(bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap());
        let cas = TrustedRoot::parse(PUBLIC_GOOD_TRUSTED_ROOT)
            .unwrap()
            .authorities;
        let logs = TrustedRoot::parse(PUBLIC_GOOD_TRUSTED_ROOT)
            .unwrap()
            .ct_logs;
        let intermediate = &cas[1].chain[0];
        assert_eq!(sct_verifies(&leaf, intermediate, &logs), Ok(()));
        let root = &cas[1].chain[1];
        assert!(
            sct_verifies(&leaf, root, &logs).is_err(),
            "bound to the issuer's key"
        );
        assert!(
            sct_verifies(&leaf, intermediate, &logs[..1]).is_err(),
            "an unknown log"
        );
        // One byte of the certificate's public key (inside what the SCT signs).
        let mut edited = leaf.clone();
        let key = Certificate::from_der(&leaf)
            .unwrap()
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let at = leaf
            .windows(key.len())
            .position(|w| w == key.as_slice())
            .unwrap();
        edited[at + 10] ^= 1;
        assert!(sct_verifies(&edited, intermediate, &logs).is_err());
    }
}
