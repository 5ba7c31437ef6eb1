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
    /// The Sigstore trusted root (`trusted_root = FILE`); `None`: the
    /// public-good root built into the binary.
    pub trusted_root: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Signer {
    pub name: String,
    pub kind: SignerKind,
}

#[derive(Clone, Debug)]
pub enum SignerKind {
    Key {
        key: PublicKey,
        key_id: String,
    },
    /// A Fulcio certificate's identity and issuer, each exact or a regex
    /// that must match the whole value.
    Keyless {
        identity: Pattern,
        issuer: Pattern,
    },
}

#[derive(Clone, Debug)]
pub enum Pattern {
    Exact(String),
    Regex(String, regex_automata::meta::Regex),
}

impl Pattern {
    fn new(exact: Option<String>, regex: Option<String>, what: &str) -> Result<Pattern, String> {
        match (exact, regex) {
            (Some(e), None) => Ok(Pattern::Exact(e)),
            (None, Some(r)) => {
                // Anchored at both ends: `...@refs/tags/v.*` must not match a
                // longer identity that merely contains it.
                let anchored = format!("^(?:{})$", r.trim_start_matches('^').trim_end_matches('$'));
                regex_automata::meta::Regex::new(&anchored)
                    .map(|re| Pattern::Regex(r, re))
                    .map_err(|e| format!("`{what}_regex` is not a regex: {e}"))
            }
            (Some(_), Some(_)) => Err(format!("give `{what}` or `{what}_regex`, not both")),
            (None, None) => Err(format!("a keyless signer needs `{what}` or `{what}_regex`")),
        }
    }

    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(e) => e == value,
            Pattern::Regex(_, re) => re.is_match(value),
        }
    }

    pub fn shown(&self) -> String {
        match self {
            Pattern::Exact(e) => format!("`{e}`"),
            Pattern::Regex(r, _) => format!("regex `{r}`"),
        }
    }
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
                    let named = |m: String| config(format!("keyless signer `{}`: {m}", entry.name));
                    let identity = Pattern::new(
                        entry.identity.clone(),
                        entry.identity_regex.clone(),
                        "identity",
                    )
                    .map_err(named)?;
                    let issuer =
                        Pattern::new(entry.issuer.clone(), entry.issuer_regex.clone(), "issuer")
                            .map_err(|m| config(format!("keyless signer `{}`: {m}", entry.name)))?;
                    SignerKind::Keyless { identity, issuer }
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
        let trusted_root = match &file.trusted_root {
            None => None,
            Some(root) => {
                let path = dir.join(root);
                Some(std::fs::read_to_string(&path).map_err(|e| {
                    config(format!(
                        "cannot read the trusted root `{}`: {}",
                        path.display(),
                        crate::evidence::source::io_reason(&e)
                    ))
                })?)
            }
        };
        Ok(Trust {
            signers,
            file: shown,
            trusted_root,
        })
    }
}
