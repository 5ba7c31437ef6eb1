//! Why evidence could not be read or loaded. Every such problem is exit 2:
//! no decision is made on evidence that is not what its file says.

use crate::report::Style;
use miette::{Diagnostic, NamedSource, SourceSpan};

/// Evidence that cannot be read or loaded.
#[derive(Debug, Clone)]
pub enum EvidenceError {
    /// A problem outside the file's text: unreadable, over a limit, not
    /// UTF-8, a mount given twice. One line, no position.
    Input(String),
    /// The text does not parse: shown with the place underlined.
    Syntax(Box<SyntaxProblem>),
}

/// A parse error at a place in an evidence file.
#[derive(Debug, Clone)]
pub struct SyntaxProblem {
    /// The reader's name for its format ("JSON", "YAML", "JUnit XML").
    pub format: &'static str,
    pub file: String,
    pub message: String,
    /// Byte offset and length of the offending character.
    pub offset: usize,
    pub len: usize,
    /// 1-based, as the parser reports them.
    pub line: usize,
    pub column: usize,
    pub text: std::sync::Arc<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid evidence {format} in `{file}`: {message}")]
struct InvalidEvidence {
    format: &'static str,
    file: String,
    message: String,
    span: SourceSpan,
    source_code: NamedSource<crate::report::locate::SharedText>,
}

impl Diagnostic for InvalidEvidence {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self.format {
            "JSON" => "clearance::evidence::invalid_json",
            "YAML" => "clearance::evidence::invalid_yaml",
            _ => "clearance::evidence::invalid_junit",
        }))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.message.clone()), self.span),
        )))
    }
}

impl EvidenceError {
    pub(crate) fn input(message: impl Into<String>) -> EvidenceError {
        EvidenceError::Input(message.into())
    }

    /// A serde_json error at its place in `text`.
    pub(crate) fn json(
        file: &str,
        text: &std::sync::Arc<String>,
        e: &crate::eval::value::LoadError,
    ) -> EvidenceError {
        let message = e.message().to_string();
        let offset = offset_of(text, e.line(), e.column()).min(text.len());
        let len = text
            .get(offset..)
            .and_then(|s| s.chars().next())
            .map(char::len_utf8)
            .unwrap_or(0);
        EvidenceError::Syntax(Box::new(SyntaxProblem {
            format: "JSON",
            file: file.to_string(),
            message,
            offset,
            len,
            line: e.line(),
            column: e.column(),
            text: text.clone(),
        }))
    }

    /// A reader's error at byte `offset` of `text`.
    pub(crate) fn at(
        format: super::Format,
        file: &str,
        text: &std::sync::Arc<String>,
        offset: usize,
        message: String,
    ) -> EvidenceError {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let len = text
            .get(offset..)
            .and_then(|s| s.chars().next())
            .map(char::len_utf8)
            .unwrap_or(0);
        let (line, column) = crate::syntax::span::line_col(text, offset);
        EvidenceError::Syntax(Box::new(SyntaxProblem {
            format: format.label(),
            file: file.to_string(),
            message,
            offset,
            len,
            line,
            column,
            text: text.clone(),
        }))
    }

    /// The problem in one line, without the snippet.
    pub fn message(&self) -> String {
        match self {
            EvidenceError::Input(m) => m.clone(),
            EvidenceError::Syntax(p) => format!(
                "invalid evidence {} in `{}`: {} at {}:{}:{}",
                p.format, p.file, p.message, p.file, p.line, p.column
            ),
        }
    }

    /// The diagnostic as the CLI prints it: `error: ...` for an input
    /// problem, the file's text underlined for a parse error (or the
    /// position alone when the line is too long to show).
    pub fn render(&self, style: Style) -> String {
        let p = match self {
            EvidenceError::Input(m) => return format!("error: {m}\n"),
            EvidenceError::Syntax(p) => p,
        };
        if !crate::report::fits_snippet(&p.text, p.offset) {
            return format!(
                "error: invalid evidence {} in `{}`: {}\n  at {}:{}:{}\n",
                p.format, p.file, p.message, p.file, p.line, p.column
            );
        }
        let diag = InvalidEvidence {
            format: p.format,
            file: p.file.clone(),
            message: p.message.clone(),
            span: (p.offset, p.len).into(),
            source_code: NamedSource::new(
                &p.file,
                crate::report::locate::SharedText(p.text.clone()),
            ),
        };
        let mut out = String::new();
        if crate::report::handler(style)
            .render_report(&mut out, &diag)
            .is_err()
        {
            out = format!("error: {diag}\n");
        }
        out
    }
}

impl std::fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for EvidenceError {}

/// Byte offset of a 1-based line and column as serde_json reports them.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return (offset + col_bytes).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}
