//! Ed25519 signing keys: `clearance keygen PREFIX` writes them, and
//! `--sign-key FILE|env:VAR` reads them. The private key is PKCS#8 PEM, the
//! public key SubjectPublicKeyInfo PEM (what `--key`, `--trust` and
//! `--ledger-trust` read); a key's id is the hex SHA-256 of its
//! SubjectPublicKeyInfo DER, as for every other key in Clearance.

use super::SignError;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A private key that signs decisions, with its public half's id and PEM.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    /// Hex SHA-256 of the public key's SubjectPublicKeyInfo DER.
    pub key_id: String,
    /// Where it was read from (`release.key`, `env:CLEARANCE_KEY`).
    pub source: String,
}

impl std::fmt::Debug for SigningKey {
    // Never print the secret, not even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads `--sign-key`: a file, or `env:VAR` naming an environment
    /// variable that holds the PEM (how CI systems hand out secrets).
    pub fn load(spec: &str) -> Result<SigningKey, SignError> {
        let (pem, source) = match spec.strip_prefix("env:") {
            Some(var) => {
                let value = std::env::var(var).map_err(|e| {
                    SignError::new(match e {
                        std::env::VarError::NotPresent => format!(
                            "`--sign-key {spec}`: the environment variable `{var}` is not set"
                        ),
                        std::env::VarError::NotUnicode(_) => format!(
                            "`--sign-key {spec}`: the environment variable `{var}` is not UTF-8 text"
                        ),
                    })
                })?;
                (value, spec.to_string())
            }
            None => {
                let text = std::fs::read_to_string(spec).map_err(|e| {
                    SignError::new(format!("cannot read the signing key `{spec}`: {e}"))
                })?;
                (text, spec.to_string())
            }
        };
        Self::from_pem(&pem, &source)
    }

    /// Parses a PKCS#8 PEM Ed25519 private key; `source` names it in errors.
    pub fn from_pem(pem: &str, source: &str) -> Result<SigningKey, SignError> {
        let fail = |what: String| SignError::new(format!("the signing key `{source}` {what}"));
        let (label, _) = spki::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|e| fail(format!("is not a PEM key: {e}")))?;
        match label {
            "PRIVATE KEY" => {}
            "PUBLIC KEY" => {
                return Err(fail(
                    "is a public key; signing needs the private key (`PREFIX.key` of `clearance keygen`), and the public key is what verifiers get".into(),
                ))
            }
            other => {
                return Err(fail(format!(
                    "is a PEM `{other}`; signing takes an Ed25519 private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as `clearance keygen` writes)"
                )))
            }
        }
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim()).map_err(|e| {
            fail(format!(
                "is not an Ed25519 PKCS#8 private key ({e}); only Ed25519 keys sign decisions"
            ))
        })?;
        let key_id = key_id(&key.verifying_key())?;
        Ok(SigningKey {
            key,
            key_id,
            source: source.to_string(),
        })
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SigningKey, SignError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|e| SignError::new(format!("no random source for a new key: {e}")))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let key_id = key_id(&key.verifying_key())?;
        Ok(SigningKey {
            key,
            key_id,
            source: "a new key".into(),
        })
    }

    /// The Ed25519 signature over `message` (deterministic: RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The raw 32-byte Ed25519 public key (what signed notes name).
    pub fn public_raw(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The public key as SubjectPublicKeyInfo PEM.
    pub fn public_pem(&self) -> Result<String, SignError> {
        self.key
            .verifying_key()
            .to_public_key_pem(spki::der::pem::LineEnding::LF)
            .map_err(|e| SignError::new(format!("cannot encode the public key: {e}")))
    }

    fn private_pem(&self) -> Result<String, SignError> {
        self.key
            .to_pkcs8_pem(spki::der::pem::LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| SignError::new(format!("cannot encode the private key: {e}")))
    }
}

fn key_id(public: &ed25519_dalek::VerifyingKey) -> Result<String, SignError> {
    let der = public
        .to_public_key_der()
        .map_err(|e| SignError::new(format!("cannot encode the public key: {e}")))?;
    Ok(Sha256::digest(der.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `clearance keygen PREFIX`: writes `PREFIX.key` (PKCS#8 PEM, mode 0600)
/// and `PREFIX.pub` (SubjectPublicKeyInfo PEM). Refuses, leaving both
/// unchanged, when either exists; returns the two paths and the key id.
pub fn keygen(prefix: &Path) -> Result<(PathBuf, PathBuf, String), SignError> {
    let with = |ext: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let (private, public) = (with(".key"), with(".pub"));
    for path in [&private, &public] {
        // `symlink_metadata`: a dangling symlink is an existing name too.
        if path.symlink_metadata().is_ok() {
            return Err(SignError::new(format!(
                "`{}` exists; keygen never overwrites a key (choose another PREFIX, or move the old key away first)",
                path.display()
            )));
        }
    }
    let key = SigningKey::generate()?;
    let private_pem = key.private_pem()?;
    let public_pem = key.public_pem()?;
    write_new(&private, private_pem.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public, public_pem.as_bytes(), 0o644) {
        // Both or neither: a private key without its public half is a key
        // nobody can verify, so the half-made pair is taken back.
        let _ = std::fs::remove_file(&private);
        return Err(e);
    }
    Ok((private, public, key.key_id))
}

/// Creates `path` (never replacing anything, even in a race) with `mode`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SignError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let fail =
        |e: std::io::Error| SignError::new(format!("cannot write `{}`: {e}", path.display()));
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed test key (RFC 8032 test vector 1's seed), never used for anything real.
    pub(crate) const TEST_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";

    #[test]
    fn a_pkcs8_key_round_trips_and_signs_deterministically() {
        let key = SigningKey::from_pem(TEST_KEY_PEM, "test.key");
        assert!(key.is_ok(), "{key:?}");
        let Ok(key) = key else { return };
        assert_eq!(key.sign(b"m"), key.sign(b"m"));
        let public = key.public_pem().unwrap_or_default();
        let parsed = crate::attest::keys::PublicKey::from_pem(&public);
        assert!(
            matches!(&parsed, Ok((_, id)) if *id == key.key_id),
            "{parsed:?}"
        );
        let Ok((public, _)) = parsed else { return };
        assert!(public.verifies(b"m", &key.sign(b"m")));
        assert!(!public.verifies(b"n", &key.sign(b"m")));
    }

    #[test]
    fn a_public_key_or_another_pem_is_refused_with_what_it_is() {
        let Ok(key) = SigningKey::from_pem(TEST_KEY_PEM, "k") else {
            unreachable!("the test key parses")
        };
        let public = key.public_pem().unwrap_or_default();
        let err = SigningKey::from_pem(&public, "release.pub").err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.0.contains("is a public key")),
            "{err:?}"
        );
        let err = SigningKey::from_pem("not pem", "x").err();
        assert!(err.is_some_and(|e| e.0.contains("not a PEM key")));
        let err = SigningKey::from_pem(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "ec.key",
        )
        .err();
        assert!(err.is_some_and(|e| e.0.contains("PEM `EC PRIVATE KEY`")));
    }

    #[test]
    fn keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let prefix = dir.path().join("release");
        let made = keygen(&prefix);
        assert!(made.is_ok(), "{made:?}");
        let Ok((private, public, id)) = made else {
            return;
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&private).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        let text = std::fs::read_to_string(&private).unwrap_or_default();
        let key = SigningKey::from_pem(&text, "release.key");
        assert_eq!(key.map(|k| k.key_id).ok(), Some(id));
        let before = std::fs::read(&public).unwrap_or_default();
        assert!(keygen(&prefix).is_err());
        assert_eq!(std::fs::read(&public).unwrap_or_default(), before);
    }
}
