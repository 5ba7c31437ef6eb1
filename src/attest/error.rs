//! Why an attestation was not mounted: one stable code (TRUST.md section 2)
//! and the reason, naming the file. Every one is exit 2: an unverified
//! statement is never mounted, and no decision is made without it.

/// The stable codes of TRUST.md section 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Not an envelope, bundle or JSON Lines of them; bad base64.
    Format,
    /// A signature that does not verify.
    Signature,
    /// The signing certificate (keyless signers).
    Certificate,
    /// The transparency-log entry.
    Tlog,
    /// No `[[signer]]` of the trust file matched.
    Untrusted,
    /// Not an in-toto statement of a known version.
    Payload,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Format => "attestation::format",
            Code::Signature => "attestation::signature",
            Code::Certificate => "attestation::certificate",
            Code::Tlog => "attestation::tlog",
            Code::Untrusted => "attestation::untrusted",
            Code::Payload => "attestation::payload",
        }
    }
}

/// An attestation that does not verify, or a trust file that is wrong.
#[derive(Clone, Debug)]
pub enum AttestError {
    /// The attestation `file` does not verify.
    Verify {
        code: Code,
        file: String,
        reason: String,
    },
    /// The trust file (or the flags) cannot be used: exit 2 before any
    /// attestation is read.
    Config(String),
}

impl AttestError {
    pub(crate) fn verify(code: Code, file: &str, reason: impl Into<String>) -> AttestError {
        AttestError::Verify {
            code,
            file: file.to_string(),
            reason: reason.into(),
        }
    }

    /// The code, when an attestation did not verify.
    pub fn code(&self) -> Option<Code> {
        match self {
            AttestError::Verify { code, .. } => Some(*code),
            AttestError::Config(_) => None,
        }
    }
}

impl std::fmt::Display for AttestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttestError::Verify { code, file, reason } => write!(
                f,
                "{}: attestation `{file}` does not verify: {reason}; it is not mounted",
                code.as_str()
            ),
            AttestError::Config(m) => write!(f, "attestation::config: {m}"),
        }
    }
}

impl std::error::Error for AttestError {}
