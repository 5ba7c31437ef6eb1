//! `clearance attest verify`: check one attestation against one artifact and
//! one key or keyless identity, the way the Sigstore conformance suite's verify protocol asks
//! (TRUST.md section 2). Exit 0 verified, 2 not (the code and the reason on
//! stderr).

use super::{plain_error, NoDecision};
use clap::{Args, Subcommand};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub command: AttestCommand,
}

#[derive(Subcommand, Debug)]
pub enum AttestCommand {
    /// Verify one attestation (a DSSE envelope or `.jsonl` of them) against
    /// an artifact and a key: its signature, its in-toto statement, and that
    /// a subject has the artifact's SHA-256. Exit 0 verified, 2 not.
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("artifact_or_digest").required(true).args(["artifact", "digest"]))]
#[command(group = clap::ArgGroup::new("signer").required(true).args(["key", "identity"]))]
pub struct VerifyArgs {
    /// The attestation file.
    pub bundle: PathBuf,
    /// The artifact the attestation must be about (its SHA-256 is computed).
    #[arg(long, value_name = "FILE")]
    pub artifact: Option<PathBuf>,
    /// The artifact's digest instead of the artifact: `sha256:HEX`.
    #[arg(long, value_name = "sha256:HEX")]
    pub digest: Option<String>,
    /// The signer's public key (PEM SubjectPublicKeyInfo: Ed25519, ECDSA P-256 or P-384).
    #[arg(long, value_name = "PUBKEY.pem")]
    pub key: Option<PathBuf>,
    /// A keyless signer's certificate identity (exact), for a Sigstore bundle.
    #[arg(long, value_name = "ID", requires = "issuer")]
    pub identity: Option<String>,
    /// A keyless signer's OIDC issuer (with `--identity`).
    #[arg(long, value_name = "URL", requires = "identity")]
    pub issuer: Option<String>,
    /// The Sigstore trusted root (its Fulcio authorities, logs and timestamp
    /// authorities) instead of the built-in public-good root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

pub fn run(args: AttestArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    let AttestCommand::Verify(v) = args.command;
    let digest = match (&v.artifact, &v.digest) {
        (Some(path), _) => {
            let bytes = std::fs::read(path).map_err(|e| {
                plain_error(format!(
                    "cannot read the artifact `{}`: {}",
                    path.display(),
                    crate::evidence::source::io_reason(&e)
                ))
            })?;
            Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        }
        (None, Some(d)) => {
            let hex = d.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(plain_error(format!(
                    "`--digest {d}` is not `sha256:` and 64 hex digits"
                )));
            }
            hex.to_ascii_lowercase()
        }
        (None, None) => {
            return Err(plain_error(
                "give `--artifact FILE` or `--digest sha256:HEX`",
            ))
        }
    };
    let root = match &v.trusted_root {
        None => None,
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            plain_error(format!(
                "cannot read the trusted root `{}`: {}",
                path.display(),
                crate::evidence::source::io_reason(&e)
            ))
        })?),
    };
    let (trust, shown) = match (&v.key, &v.identity, &v.issuer) {
        (Some(key_path), _, _) => {
            let shown = key_path.display().to_string();
            let pem = std::fs::read_to_string(key_path).map_err(|e| {
                plain_error(format!(
                    "cannot read the key `{shown}`: {}",
                    crate::evidence::source::io_reason(&e)
                ))
            })?;
            let trust =
                crate::attest::Trust::of_key("key", &pem, &shown, root).map_err(plain_error)?;
            (trust, format!("the key {shown}"))
        }
        (None, Some(identity), Some(issuer)) => {
            let trust = crate::attest::Trust::of_identity(identity, issuer, root);
            (trust, format!("identity `{identity}` (issuer `{issuer}`)"))
        }
        _ => {
            return Err(plain_error(
                "give `--key PUBKEY.pem`, or `--identity ID --issuer URL`",
            ))
        }
    };
    let verified = crate::attest::verify_for_artifact(&v.bundle, &digest, &trust, limits)
        .map_err(plain_error)?;
    super::emit(&format!(
        "verified: {} (sha256 {}) is about sha256:{digest}, signed by {shown}\n",
        verified.file, verified.sha256
    ))?;
    Ok(0)
}
