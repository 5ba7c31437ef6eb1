//! Syntax errors: pest failures and problems found while building the AST.

use super::span::Span;
use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic, PartialEq)]
pub enum SyntaxError {
    /// `rule x { require }`: the parser met something it did not expect
    #[error("unexpected {found}, expected {expected}")]
    #[diagnostic(code(clearance::syntax::unexpected))]
    Unexpected {
        found: String,
        expected: String,
        #[label("{expected_short}")]
        span: Span,
        expected_short: String,
        #[help]
        help: Option<String>,
    },
    /// `"\q"`: an escape sequence the language does not know
    #[error("invalid escape `{escape}` in string")]
    #[diagnostic(
        code(clearance::syntax::bad_escape),
        help("strings take \\\" \\\\ \\n \\t \\r and \\u{{hex}} escapes; for a backslash (in a regex, say) write \\\\")
    )]
    BadEscape {
        escape: String,
        #[label("not a known escape")]
        span: Span,
    },
    /// `99999999999999999999`: an integer literal beyond 64 bits
    #[error("number `{text}` is out of range")]
    #[diagnostic(
        code(clearance::syntax::number_out_of_range),
        help("integers are 64-bit signed; numbers with a fraction are 64-bit floats")
    )]
    NumberOutOfRange {
        text: String,
        #[label("does not fit")]
        span: Span,
    },
    /// `((((...` nested deeper than the parser accepts
    #[error("expression nested too deeply (more than {limit} levels)")]
    #[diagnostic(
        code(clearance::syntax::too_deep),
        help("split the expression with `let` bindings or helper `def`s (the limit is `--max-expr-depth`)")
    )]
    TooDeep {
        limit: usize,
        #[label("nesting limit reached here")]
        span: Span,
    },
    /// `"abc` left open, `let café`: text no token can hold
    #[error("{message}")]
    #[diagnostic(code(clearance::syntax::bad_text))]
    BadText {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        help: Option<String>,
    },
    /// an input the parser gave up on for a reason of its own (e.g. its call budget)
    #[error("{message}")]
    #[diagnostic(code(clearance::syntax::invalid))]
    Invalid {
        message: String,
        #[label("here")]
        span: Span,
    },
}

impl SyntaxError {
    pub fn span(&self) -> Span {
        match self {
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::BadEscape { span, .. }
            | SyntaxError::NumberOutOfRange { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::BadText { span, .. }
            | SyntaxError::Invalid { span, .. } => *span,
        }
    }
}
