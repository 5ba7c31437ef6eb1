//! Public keys of key signers: PEM SubjectPublicKeyInfo, Ed25519, ECDSA
//! P-256 or P-384, with the key id TRUST.md names (the hex SHA-256 of the
//! SubjectPublicKeyInfo DER). The signature checks are the RustCrypto
//! crates' (see Cargo.toml); this file only picks the algorithm.

use sha2::{Digest, Sha256};
use spki::der::{Decode, Encode};

#[derive(Clone, Debug)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    /// An RSA key (its PKCS#1 `RSAPublicKey` DER), PKCS#1 v1.5 signatures
    /// only. Accepted in certificates and trusted roots (Fulcio, CT logs
    /// and timestamp authorities that use RSA), never as a key signer:
    /// TRUST.md names Ed25519, P-256 and P-384 for those.
    Rsa(Vec<u8>),
}

const ED25519: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.101.112");
const EC_PUBLIC_KEY: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_CURVE: spki::ObjectIdentifier =
    spki::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_CURVE: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.132.0.34");
const RSA: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

impl PublicKey {
    /// Parses a PEM `PUBLIC KEY` (SubjectPublicKeyInfo); returns the key and
    /// its key id.
    pub fn from_pem(pem: &str) -> Result<(PublicKey, String), String> {
        let (label, der) = spki::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|e| format!("not a PEM public key: {e}"))?;
        if label != "PUBLIC KEY" {
            return Err(format!(
                "a PEM `{label}`, not a `PUBLIC KEY` (SubjectPublicKeyInfo)"
            ));
        }
        Self::parse(&der, false)
    }

    /// Parses a DER SubjectPublicKeyInfo (a trusted root's keys, a
    /// certificate's key), RSA included; returns the key and its key id.
    pub fn from_spki_der(der: &[u8]) -> Result<(PublicKey, String), String> {
        Self::parse(der, true)
    }

    fn parse(der: &[u8], allow_rsa: bool) -> Result<(PublicKey, String), String> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| format!("not a SubjectPublicKeyInfo: {e}"))?;
        let bits = info.subject_public_key.raw_bytes();
        let key = match info.algorithm.oid {
            ED25519 => {
                let bytes: [u8; 32] = bits
                    .try_into()
                    .map_err(|_| "an Ed25519 key is 32 bytes".to_string())?;
                PublicKey::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                        .map_err(|e| format!("not an Ed25519 public key: {e}"))?,
                )
            }
            EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| "an EC key without its named curve".to_string())?;
                match curve {
                    P256_CURVE => PublicKey::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                            .map_err(|_| "not a P-256 point".to_string())?,
                    ),
                    P384_CURVE => PublicKey::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                            .map_err(|_| "not a P-384 point".to_string())?,
                    ),
                    other => {
                        return Err(format!(
                            "the EC curve {other} (only P-256 and P-384 are accepted)"
                        ))
                    }
                }
            }
            RSA if allow_rsa => PublicKey::Rsa(bits.to_vec()),
            other => {
                return Err(format!(
                    "the key algorithm {other} (only Ed25519, ECDSA P-256 and P-384 are accepted)"
                ))
            }
        };
        let canonical = info.to_der().map_err(|e| e.to_string())?;
        let key_id = hex(&Sha256::digest(&canonical));
        Ok((key, key_id))
    }

    /// Whether `signature` is this key's over `message`: Ed25519; ECDSA
    /// with SHA-256 (P-256) or SHA-384 (P-384), the signature in DER or raw
    /// `r || s` (producers emit both).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier;
        match self {
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .or_else(|_| p384::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            PublicKey::Rsa(_) => {
                self.verifies_hashed(super::timestamp::HashAlg::Sha256, message, signature)
            }
        }
    }

    /// Whether `signature` is this key's over a message whose SHA-256 is
    /// `digest` (a Sigstore message signature, checked from the artifact's
    /// digest alone): ECDSA only, as Ed25519 signs messages, not digests.
    pub fn verifies_prehash(&self, digest: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            PublicKey::Ed25519(_) | PublicKey::Rsa(_) => false,
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .or_else(|_| p384::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
        }
    }

    /// Whether `signature` is this key's over `message` hashed with `hash`
    /// (an X.509 or CMS signature names its hash, which need not be the
    /// curve's usual one); Ed25519 signs the message itself.
    pub fn verifies_hashed(
        &self,
        hash: super::timestamp::HashAlg,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        use super::timestamp::HashAlg;
        match self {
            PublicKey::Ed25519(_) => self.verifies(message, signature),
            // ring's PKCS#1 v1.5 verifier (ring is in the tree through
            // rustls): it hashes the message itself, with the named hash.
            PublicKey::Rsa(der) => {
                let algorithm = match hash {
                    HashAlg::Sha256 => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    HashAlg::Sha384 => &ring::signature::RSA_PKCS1_2048_8192_SHA384,
                    HashAlg::Sha512 => &ring::signature::RSA_PKCS1_2048_8192_SHA512,
                };
                ring::signature::UnparsedPublicKey::new(algorithm, der)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => self.verifies_prehash(&hash.digest(message), signature),
        }
    }

    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => "Ed25519",
            PublicKey::P256(_) => "ECDSA P-256",
            PublicKey::P384(_) => "ECDSA P-384",
            PublicKey::Rsa(_) => "RSA",
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
