//! The trust file (`--trust TRUST.toml`, TRUST.md section 2): who may sign
//! the attestations a policy reads.

use super::keys::PublicKey;
use super::AttestError;
use std::path::Path;

/// The signers of a trust file, keys loaded.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    pub signers: Vec<Signer>,
    /// The file it was read from, for messages.
    pub file: String,
}

#[derive(Clone, Debug)]
pub struct Signer {
    pub name: String,
    pub kind: SignerKind,
}

#[derive(Clone, Debug)]
pub enum SignerKind {
    Key { key: PublicKey, key_id: String },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    trusted_root: Option<String>,
    #[serde(default)]
    signer: Vec<SignerEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerEntry {
    name: String,
    key: Option<String>,
    identity: Option<String>,
    identity_regex: Option<String>,
    issuer: Option<String>,
    issuer_regex: Option<String>,
}

impl Trust {
    /// Reads and checks a trust file; key paths are relative to it.
    pub fn load(path: &Path) -> Result<Trust, AttestError> {
        let shown = path.display().to_string();
        let config = |m: String| AttestError::Config(format!("trust file `{shown}`: {m}"));
        let text = std::fs::read_to_string(path)
            .map_err(|e| config(crate::evidence::source::io_reason(&e)))?;
        let file: TrustFile = toml::from_str(&text).map_err(|e| config(e.message().to_string()))?;
        if file.signer.is_empty() {
            return Err(config(
                "it names no `[[signer]]`: nothing could be trusted".into(),
            ));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut signers: Vec<Signer> = Vec::new();
        for entry in file.signer {
            if entry.name.trim().is_empty() {
                return Err(config("a `[[signer]]` with an empty name".into()));
            }
            if signers.iter().any(|s| s.name == entry.name) {
                return Err(config(format!("two signers are named `{}`", entry.name)));
            }
            let keyless = entry.identity.is_some()
                || entry.identity_regex.is_some()
                || entry.issuer.is_some()
                || entry.issuer_regex.is_some();
            let kind = match (&entry.key, keyless) {
                (Some(_), true) => {
                    return Err(config(format!(
                        "signer `{}` has both a `key` and a keyless identity; give one",
                        entry.name
                    )))
                }
                (Some(key_path), false) => {
                    let key_file = dir.join(key_path);
                    let pem = std::fs::read_to_string(&key_file).map_err(|e| {
                        config(format!(
                            "signer `{}`: cannot read `{}`: {}",
                            entry.name,
                            key_file.display(),
                            crate::evidence::source::io_reason(&e)
                        ))
                    })?;
                    let (key, key_id) = PublicKey::from_pem(&pem).map_err(|m| {
                        config(format!(
                            "signer `{}`: `{}` is {m}",
                            entry.name,
                            key_file.display()
                        ))
                    })?;
                    SignerKind::Key { key, key_id }
                }
                (None, true) => {
                    let identity = entry.identity.is_some() || entry.identity_regex.is_some();
                    let issuer = entry.issuer.is_some() || entry.issuer_regex.is_some();
                    if !identity || !issuer {
                        return Err(config(format!(
                            "keyless signer `{}` needs an identity (`identity` or `identity_regex`) and an issuer (`issuer` or `issuer_regex`)",
                            entry.name
                        )));
                    }
                    // Fail closed: a keyless signer could only be checked
                    // against Fulcio and Rekor, which this version does not do.
                    return Err(config(format!(
                        "keyless signer `{}`: certificate and transparency-log verification (Fulcio, Rekor) is not in this version; only key signers can be trusted",
                        entry.name
                    )));
                }
                (None, false) => {
                    return Err(config(format!(
                        "signer `{}` has neither a `key` nor an identity and issuer",
                        entry.name
                    )))
                }
            };
            signers.push(Signer {
                name: entry.name,
                kind,
            });
        }
        if file.trusted_root.is_some() {
            return Err(config(
                "`trusted_root` is for keyless signers, which this version does not verify".into(),
            ));
        }
        Ok(Trust {
            signers,
            file: shown,
        })
    }
}
