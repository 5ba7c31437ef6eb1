//! Evaluation errors: a rule that cannot be evaluated ends in `error` and
//! blocks the promotion (fail closed).

use crate::syntax::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// a field, index or key the evidence does not have
    Missing,
    /// a value of the wrong type for the operation
    TypeMismatch,
    DivisionByZero,
    Overflow,
    /// a value of the right type that is not valid (a bad time, version, regex...)
    InvalidValue,
    /// the evaluation budget ran out
    BudgetExceeded,
    /// a rule read `ledger` in a run without a ledger (`--ledger`, `--ledger-trust`)
    NoLedger,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Missing => "clearance::eval::missing",
            ErrorKind::TypeMismatch => "clearance::eval::type_mismatch",
            ErrorKind::DivisionByZero => "clearance::eval::division_by_zero",
            ErrorKind::Overflow => "clearance::eval::overflow",
            ErrorKind::InvalidValue => "clearance::eval::invalid_value",
            ErrorKind::BudgetExceeded => "clearance::eval::budget_exceeded",
            ErrorKind::NoLedger => "clearance::eval::no_ledger",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    pub kind: ErrorKind,
    /// The expression that could not be evaluated.
    pub span: Span,
    pub message: String,
    /// Extra lines: the last evidence path that resolved, the available fields...
    pub notes: Vec<String>,
    /// JSON pointers of the evidence values the error is about (trace mode),
    /// so reports can show where they are in the evidence file.
    pub pointers: Vec<String>,
    /// True when the error comes from an access step (`.field`, `[i]`), which
    /// `exists` and `??` treat as "does not resolve".
    pub(crate) access: bool,
}

impl EvalError {
    /// `ledger` read in a run that has none: an error of the rule, so the
    /// promotion is denied (fail closed), never a silent empty history.
    pub fn no_ledger(span: Span) -> Self {
        EvalError::new(
            ErrorKind::NoLedger,
            span,
            "this run has no ledger: `ledger` is the signed history that `--ledger LEDGER --ledger-trust PUB.pem` reads",
        )
        .with_note("without it no history can be proven, so the rule cannot hold")
    }

    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Self {
        EvalError {
            kind,
            span,
            message: message.into(),
            notes: Vec::new(),
            pointers: Vec::new(),
            access: false,
        }
    }

    /// True when the error comes from an access step, so `exists` and `??`
    /// treat it as "does not resolve".
    pub fn is_access(&self) -> bool {
        self.access
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub(crate) fn with_pointer(mut self, origin: &crate::eval::Origin) -> Self {
        if let Some(p) = origin {
            if !p.is_empty() {
                self.pointers.push(p.to_string());
            }
        }
        self
    }

    pub(crate) fn marked_as_access(mut self) -> Self {
        self.access = true;
        self
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}
