//! Report: outcomes and compile errors -> text. Human output goes through
//! miette; the JSON report has a documented, stable shape (docs/report.md).
//! Nothing here decides an outcome.

pub mod chain;
pub mod ci;
pub mod explain;
pub mod graph;
mod human;
mod json;
pub mod locate;
pub mod sarif;
pub mod text;

pub use human::{render_gate, render_rollback, render_rule};
pub use json::{
    gate_json, AttestationRecord, DecisionRecord, FileDigest, JsonContext, LedgerRecord,
};
pub use locate::{Evidence, EvidenceText, Located};

use crate::load::CompileFailure;
use crate::syntax::SourceMap;
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use std::fmt::Write;

/// How human output looks.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 100,
        }
    }
}

pub(crate) fn handler(style: Style) -> GraphicalReportHandler {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
}

/// Longest source line shown as a snippet. Longer lines (minified JSON, a
/// hostile one-line policy) are cited by line and column instead: they are
/// unreadable as snippets, and miette cannot pad past 65535 columns.
pub const MAX_SNIPPET_LINE: usize = 1000;

/// True when the line holding `offset` is short enough to show. Looks at
/// most [`MAX_SNIPPET_LINE`] bytes either side, so asking about a place deep
/// in a one-line 100 MB bundle costs no more than about a short file.
pub fn fits_snippet(text: &str, offset: usize) -> bool {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let window_start = offset.saturating_sub(MAX_SNIPPET_LINE + 1);
    let start = match bytes
        .get(window_start..offset)
        .and_then(|w| w.iter().rposition(|b| *b == b'\n'))
    {
        Some(i) => window_start + i + 1,
        None if window_start == 0 => 0,
        None => return false,
    };
    let window_end = (offset + MAX_SNIPPET_LINE + 1).min(bytes.len());
    let end = bytes
        .get(offset..window_end)
        .and_then(|w| w.iter().position(|b| *b == b'\n'))
        .map_or(window_end, |i| offset + i);
    end - start <= MAX_SNIPPET_LINE
}

/// Renders any diagnostic whose spans point into `sources` at `span`.
pub fn render_diagnostic<D>(
    diag: D,
    span: Option<crate::syntax::Span>,
    sources: &SourceMap,
    style: Style,
) -> String
where
    D: Diagnostic + Send + Sync + 'static,
{
    let mut report = miette::Report::new(diag);
    let mut location = None;
    if let Some((src, span)) = span.and_then(|s| sources.get(s.file).map(|f| (f, s))) {
        // Text with raw control characters (a policy refused for holding
        // one) is cited by position: shown, the terminal would act on them.
        if !src.has_controls()
            && fits_snippet(&src.text, span.start)
            && fits_snippet(&src.text, span.end)
        {
            report = report.with_source_code(src.named_source());
        } else {
            let (line, col) = src.line_col(span.start);
            location = Some(format!("  at {}:{line}:{col}\n", src.name));
        }
    }
    let mut out = String::new();
    if handler(style)
        .render_report(&mut out, report.as_ref())
        .is_err()
    {
        let _ = write!(out, "{report}");
    }
    if let Some(l) = location {
        out.push_str(&l);
    }
    out
}

/// All errors of a failed compilation, in order.
pub fn render_compile_failure(failure: &CompileFailure, style: Style) -> String {
    let mut out = String::new();
    for e in &failure.errors {
        out.push_str(&render_diagnostic(
            e.clone(),
            e.span(),
            &failure.sources,
            style,
        ));
        out.push('\n');
    }
    let n = failure.errors.len();
    let _ = writeln!(
        out,
        "error: the policy does not compile ({n} error{})",
        if n == 1 { "" } else { "s" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole line, measured the slow way.
    fn naive(text: &str, offset: usize) -> bool {
        let offset = offset.min(text.len());
        let start = text
            .get(..offset)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let end = text
            .get(offset..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |i| offset + i);
        end - start <= MAX_SNIPPET_LINE
    }

    #[test]
    fn fits_snippet_looks_only_near_the_offset_and_agrees() {
        let short = "a\nbb\n\nccc";
        let at_limit = "x".repeat(MAX_SNIPPET_LINE);
        let past = "y".repeat(MAX_SNIPPET_LINE + 1);
        let text = format!("{short}\n{at_limit}\n{past}\n{short}");
        for offset in (0..text.len())
            .step_by(7)
            .chain([text.len(), 1003, 1004, 1005])
        {
            assert_eq!(
                fits_snippet(&text, offset),
                naive(&text, offset),
                "{offset}"
            );
        }
    }
}
