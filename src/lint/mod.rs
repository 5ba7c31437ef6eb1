//! Lints: coded findings about policies that compile but are likely wrong.
//!
//! Each lint lives in its own module with its documentation (what it finds,
//! why it matters, a bad and a good example, how to fix), which
//! `clearance lint --explain CODE` prints and docs/lints.md is generated from.
//! This table is the only list of codes.

mod fold;
mod scope;

mod cl001_unused_param;
mod cl002_unused_let;
mod cl003_unused_def;
mod cl004_missing_title;
mod cl005_constant_condition;
mod cl006_coalesce_always_true;
mod cl007_float_equality;
mod cl008_mixed_literal_comparison;
mod cl009_shadowed_name;
mod cl010_unreachable_stage;
mod cl011_gate_without_blocking_rule;
mod cl012_final_stage_without_rollback;
mod cl013_waiver_expiring_soon;
mod cl014_waiver_expired;
mod cl015_waiver_never_matches;
mod cl016_vacuous_all;
mod cl017_duplicate_condition;
mod cl018_defaulted_collection;
mod cl019_gate_without_subject;
mod cl020_ledger_without_subject;

use crate::check::Program;
use crate::syntax::{FileId, Span};
use jiff::Timestamp;
use miette::Diagnostic;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Error,
}

/// A lint: its code, name, level, documentation and check.
pub struct Lint {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    /// One line: what the lint finds.
    pub summary: &'static str,
    /// Markdown with the sections `What it finds`, `Why it matters`,
    /// `Example`, `Instead` (or `How to fix`).
    pub doc: &'static str,
    pub check: fn(&LintContext<'_>, &mut Vec<Finding>),
}

/// What lints can look at.
pub struct LintContext<'p> {
    pub program: &'p Program,
    /// The time waiver lints compare expiries with.
    pub now: Timestamp,
    pub(crate) scope: scope::Analysis,
}

/// One finding, rendered as a miette report.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct Finding {
    pub code: &'static str,
    pub level: Level,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: String,
}

impl Diagnostic for Finding {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.level {
            Level::Warning => miette::Severity::Warning,
            Level::Error => miette::Severity::Error,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some(self.label.clone()),
            self.span.start,
            self.span.end.saturating_sub(self.span.start),
        ))))
    }
}

impl Finding {
    pub(crate) fn new(
        lint: &Lint,
        span: Span,
        message: String,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Finding {
        Finding {
            code: lint.code,
            level: lint.level,
            message,
            span,
            label: label.into(),
            help: help.into(),
        }
    }
}

/// Every lint, by code.
pub fn all() -> &'static [Lint] {
    &[
        cl001_unused_param::LINT,
        cl002_unused_let::LINT,
        cl003_unused_def::LINT,
        cl004_missing_title::LINT,
        cl005_constant_condition::LINT,
        cl006_coalesce_always_true::LINT,
        cl007_float_equality::LINT,
        cl008_mixed_literal_comparison::LINT,
        cl009_shadowed_name::LINT,
        cl010_unreachable_stage::LINT,
        cl011_gate_without_blocking_rule::LINT,
        cl012_final_stage_without_rollback::LINT,
        cl013_waiver_expiring_soon::LINT,
        cl014_waiver_expired::LINT,
        cl015_waiver_never_matches::LINT,
        cl016_vacuous_all::LINT,
        cl017_duplicate_condition::LINT,
        cl018_defaulted_collection::LINT,
        cl019_gate_without_subject::LINT,
        cl020_ledger_without_subject::LINT,
    ]
}

pub fn find(code: &str) -> Option<&'static Lint> {
    all().iter().find(|l| l.code.eq_ignore_ascii_case(code))
}

/// Runs every lint over a checked program. Findings are sorted by position
/// and filtered by `# lint: allow CL0NN` comments in the file they are in.
pub fn run(program: &Program, now: Timestamp) -> Vec<Finding> {
    let ctx = LintContext {
        program,
        now,
        scope: scope::analyse(program),
    };
    let mut out = Vec::new();
    for lint in all() {
        (lint.check)(&ctx, &mut out);
    }
    // Each file's allow comments are read once, not once per finding: a
    // policy with thousands of findings would otherwise rescan its text for
    // every one.
    let mut allows: std::collections::HashMap<FileId, Vec<String>> = Default::default();
    out.retain(|f| {
        let codes = allows
            .entry(f.span.file)
            .or_insert_with(|| allowed_codes(program, f.span.file));
        !codes.iter().any(|c| c.eq_ignore_ascii_case(f.code))
    });
    out.sort_by(|a, b| {
        (a.span.file, a.span.start, a.code).cmp(&(b.span.file, b.span.start, b.code))
    });
    out.dedup_by(|a, b| a.code == b.code && a.span == b.span);
    out
}

/// The codes `# lint: allow CL012, CL004` comments anywhere in a file (on
/// their own line or at the end of one) turn off for it. Comments are found
/// by the lexer's trivia scan, so a `#` inside a string is not a comment.
fn allowed_codes(program: &Program, file: FileId) -> Vec<String> {
    let Some(file) = program.sources.get(file) else {
        return Vec::new();
    };
    let text: &str = &file.text;
    let mut codes = Vec::new();
    crate::syntax::trivia::scan(text, |piece| {
        if let crate::syntax::trivia::Piece::Comment { start, end } = piece {
            let listed = text
                .get(start..end)
                .and_then(|c| c.strip_prefix('#'))
                .map(str::trim_start)
                .and_then(|c| c.strip_prefix("lint: allow"));
            if let Some(listed) = listed {
                codes.extend(
                    listed
                        .split([',', ' '])
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_string),
                );
            }
        }
    });
    codes
}

/// The lint reference as Markdown (docs/lints.md is generated from this).
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Lints\n\n\
         Generated from the lint table (`src/lint/`); do not edit by hand.\n\
         Regenerate with `UPDATE_DOCS=1 cargo test --test docs`.\n\n\
         `clearance lint [PATH...]` runs them; `clearance lint --explain CODE` prints one.\n\
         A comment `# lint: allow CL012` anywhere in a file turns a lint off for that file.\n\n\
         | code | name | level | finds |\n|---|---|---|---|\n",
    );
    for l in all() {
        out.push_str(&format!(
            "| [{}](#{}) | `{}` | {} | {} |\n",
            l.code,
            l.code.to_lowercase(),
            l.name,
            level_name(l.level),
            l.summary
        ));
    }
    for l in all() {
        out.push_str(&format!(
            "\n## {}\n\n`{}` ({})\n\n{}\n",
            l.code,
            l.name,
            level_name(l.level),
            l.doc.trim()
        ));
    }
    out
}

pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

/// Calls `f` on every expression of the program ([`Program::for_each_expr`]).
pub(crate) fn for_each_expr<'p>(
    program: &'p Program,
    f: &mut dyn FnMut(&'p crate::syntax::ast::Expr),
) {
    program.for_each_expr(f);
}

/// Every rule and rollback trigger of the program, with its block's label.
pub(crate) fn all_rules(program: &Program) -> impl Iterator<Item = &crate::syntax::ast::RuleDecl> {
    program.rules()
}
