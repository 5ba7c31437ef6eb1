//! `clearance keygen` and `clearance verify-decision` (TRUST.md section 3).

use super::{plain_error, NoDecision};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Writes PREFIX.key (the private key, mode 0600) and PREFIX.pub.
    pub prefix: PathBuf,
}

pub fn keygen(args: KeygenArgs) -> Result<u8, NoDecision> {
    let (private, public, key_id) = crate::sign::keygen(&args.prefix).map_err(plain_error)?;
    super::emit(&format!(
        "wrote {} (private: keep it secret, e.g. a CI secret for `--sign-key env:VAR`)\nwrote {} (public: give it to verifiers)\nkey id {key_id}\n",
        private.display(),
        public.display()
    ))?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct VerifyDecisionArgs {
    /// The signed decision: the `vsa` or `attestation` output of `check`.
    pub file: PathBuf,
    /// The signer's public key (PEM SubjectPublicKeyInfo, `PREFIX.pub` of `keygen`).
    #[arg(long, value_name = "PUB.pem")]
    pub key: PathBuf,
    /// The digest the decision must be about: `sha256:HEX`.
    #[arg(long, value_name = "sha256:HEX")]
    pub subject: Option<String>,
}

pub fn verify_decision(args: VerifyDecisionArgs) -> Result<u8, NoDecision> {
    let read = |path: &PathBuf, what: &str| {
        std::fs::read_to_string(path).map_err(|e| {
            plain_error(format!(
                "cannot read the {what} `{}`: {}",
                path.display(),
                crate::evidence::source::io_reason(&e)
            ))
        })
    };
    let envelope = read(&args.file, "signed decision")?;
    let key = read(&args.key, "key")?;
    let verified = crate::sign::verify_decision(
        &args.file.display().to_string(),
        &envelope,
        &key,
        args.subject.as_deref(),
    )
    .map_err(|e| plain_error(format!("not verified: {e}")))?;
    super::emit(&format!(
        "{}: signature verified (key {}); {} {}; result {}\n",
        args.file.display(),
        verified.key_id,
        if verified.predicate_type == crate::sign::VSA_PREDICATE {
            "verification summary about"
        } else {
            "decision about"
        },
        verified.subjects.join(", "),
        verified.result
    ))?;
    Ok(if verified.passed() { 0 } else { 1 })
}
