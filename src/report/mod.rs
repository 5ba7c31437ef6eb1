//! Report: outcomes and compile errors -> text. Human output goes through
//! miette; the JSON report has a documented, stable shape (docs/report.md).
//! Nothing here decides an outcome.

mod human;
mod json;

pub use human::{render_gate, render_rule};
pub use json::{gate_json, JsonContext};

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

/// Renders any diagnostic whose spans point into `sources` (the file of its
/// first label decides which source is attached).
pub fn render_diagnostic<D>(
    diag: D,
    file: Option<crate::syntax::FileId>,
    sources: &SourceMap,
    style: Style,
) -> String
where
    D: Diagnostic + Send + Sync + 'static,
{
    let mut report = miette::Report::new(diag);
    if let Some(src) = file.and_then(|f| sources.get(f)) {
        report = report.with_source_code(src.named_source());
    }
    let mut out = String::new();
    if handler(style)
        .render_report(&mut out, report.as_ref())
        .is_err()
    {
        let _ = write!(out, "{report}");
    }
    out
}

/// All errors of a failed compilation, in order.
pub fn render_compile_failure(failure: &CompileFailure, style: Style) -> String {
    let mut out = String::new();
    for e in &failure.errors {
        let file = e.span().map(|s| s.file);
        out.push_str(&render_diagnostic(e.clone(), file, &failure.sources, style));
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
