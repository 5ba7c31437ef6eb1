//! The human report: the decision, each failing or erroring rule as a miette
//! diagnostic with its values, the evidence behind them, and a summary line.

use super::locate::Evidence;
use super::text::printable;
use super::{handler, Style};
use crate::check::Program;
use crate::eval::{Clause, GateResult, Outcome, Problem, RuleResult, WaiverState};
use crate::syntax::{SourceFile, Span};
use miette::{Diagnostic, LabeledSpan, Severity, SourceCode};
use std::fmt::{self, Write};

/// One problem of a rule as a miette diagnostic.
struct RuleDiagnostic {
    message: String,
    severity: Severity,
    labels: Vec<LabeledSpan>,
    source: Box<dyn SourceCode>,
}

impl fmt::Debug for RuleDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for RuleDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleDiagnostic {}

impl Diagnostic for RuleDiagnostic {
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

fn headline(rule: &RuleResult) -> String {
    let mut s = rule.name.clone();
    if let Some(t) = &rule.title {
        s.push_str(": ");
        s.push_str(&printable(t));
    }
    let mut tags = vec![rule.outcome.as_str()];
    if let Some(w) = &rule.waiver {
        tags = vec!["waived", w.covered.as_str()];
    }
    if rule.advisory {
        tags.push("advisory");
    }
    format!("{s}  [{}]", tags.join(", "))
}

fn labeled(span: Span, text: String) -> LabeledSpan {
    LabeledSpan::new(Some(text), span.start, span.end.saturating_sub(span.start))
}

/// Renders one failing, erroring or waived rule.
pub fn render_rule(
    program: &Program,
    rule: &RuleResult,
    style: Style,
    evidence: &Evidence,
) -> String {
    let mut out = String::new();
    let severity = if rule.advisory || rule.waiver.is_some() {
        Severity::Warning
    } else {
        Severity::Error
    };
    for (i, problem) in rule.problems.iter().enumerate() {
        let Some(file) = program.sources.get(problem.span.file) else {
            continue;
        };
        let message = if i == 0 {
            headline(rule)
        } else {
            out.push('\n');
            format!("{}: another condition {}", rule.name, problem_verb(problem))
        };
        out.push_str(&render_problem(file, problem, message, severity, style));
        write_problem_notes(&mut out, problem, evidence);
        out.push_str(&render_evidence(problem, evidence, style));
    }
    if let Some(w) = &rule.waiver {
        let _ = write!(
            out,
            "  waived: until {} — {}",
            w.until,
            printable(&w.reason)
        );
        if let Some(o) = &w.owner {
            let _ = write!(out, " (owner {})", printable(o));
        }
        if let Some(t) = &w.ticket {
            let _ = write!(out, " [{}]", printable(t));
        }
        out.push('\n');
    }
    if let Some(h) = &rule.help {
        let _ = writeln!(out, "  help: {}", printable(h));
    }
    out
}

fn problem_verb(p: &Problem) -> &'static str {
    match (p.clause, &p.error) {
        (_, Some(_)) => "could not be evaluated",
        (Clause::When, None) => "is false",
        (Clause::Require, None) => "is false",
    }
}

fn render_problem(
    file: &SourceFile,
    problem: &Problem,
    message: String,
    severity: Severity,
    style: Style,
) -> String {
    let mut labels: Vec<LabeledSpan> = Vec::new();
    match &problem.error {
        Some(err) => {
            let span = if err.span.file == problem.span.file {
                err.span
            } else {
                problem.span
            };
            labels.push(labeled(span, err.message.clone()));
        }
        None => {
            for l in &problem.explanation.labels {
                if l.span.file == problem.span.file {
                    labels.push(labeled(l.span, l.text.clone()));
                }
            }
            if labels.is_empty() {
                labels.push(labeled(problem.span, "false".into()));
            }
        }
    }
    let fits = labels.iter().all(|l| {
        super::fits_snippet(&file.text, l.offset())
            && super::fits_snippet(&file.text, l.offset() + l.len())
    });
    let (message, labels) = if fits {
        (message, labels)
    } else {
        let (line, col) = file.line_col(problem.span.start);
        let mut m = format!("{message}\n  at {}:{line}:{col}", file.name);
        for l in &labels {
            if let Some(text) = l.label() {
                let (line, col) = file.line_col(l.offset());
                m.push_str(&format!("\n  {line}:{col}: {text}"));
            }
        }
        (m, Vec::new())
    };
    let diag = RuleDiagnostic {
        message,
        severity,
        labels,
        source: Box::new(file.named_source()),
    };
    let mut out = String::new();
    if handler(style).render_report(&mut out, &diag).is_err() {
        let _ = writeln!(out, "{}", diag.message);
    }
    // miette ends its report with a blank line; keep the rule's lines together.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn write_problem_notes(out: &mut String, problem: &Problem, evidence: &Evidence) {
    let mut lines: Vec<String> = Vec::new();
    if let Some(err) = &problem.error {
        for n in &err.notes {
            lines.push(n.clone());
        }
        write_block(out, "note", &lines);
        return;
    }
    let ex = &problem.explanation;
    for n in &ex.notes {
        // An element line starts with its pointer: say where it is in the file.
        let token = n.split([' ', ':']).next().unwrap_or("");
        let at = token
            .starts_with('/')
            .then(|| evidence.locate(token))
            .flatten()
            .and_then(|l| evidence.describe(&l))
            .map(|(f, line, col)| format!("  (at {f}:{line}:{col})"))
            .unwrap_or_default();
        lines.push(format!("{n}{at}"));
    }
    for c in &ex.cited {
        if !mentioned(&c.pointer, &ex.notes) {
            let at = evidence
                .locate(&c.pointer)
                .and_then(|l| evidence.describe(&l))
                .map(|(f, line, col)| format!("  (at {f}:{line}:{col})"))
                .unwrap_or_default();
            lines.push(format!("{} = {}{at}", c.pointer, c.value.short(60)));
        }
    }
    write_block(out, "evidence", &lines);
}

/// True when a note already shows `pointer` (an element line names its element's pointer).
fn mentioned(pointer: &str, notes: &[String]) -> bool {
    notes.iter().any(|n| {
        let head = n.trim_start();
        let token = head.split([' ', ':']).next().unwrap_or("");
        token.starts_with('/')
            && (pointer == token
                || pointer
                    .strip_prefix(token)
                    .is_some_and(|rest| rest.starts_with('/')))
    })
}

/// Most evidence values shown as snippets per problem.
const MAX_EVIDENCE_SNIPPETS: usize = 6;

/// The evidence file(s) with the cited values underlined: a second source,
/// so a reader sees the value in the file CI produced.
fn render_evidence(problem: &Problem, evidence: &Evidence, style: Style) -> String {
    let mut pointers: Vec<&str> = problem
        .explanation
        .cited
        .iter()
        .map(|c| c.pointer.as_str())
        .collect();
    if let Some(err) = &problem.error {
        pointers.extend(err.pointers.iter().map(String::as_str));
    }
    // By file, each label with its line, so labels far apart in one file
    // get a snippet each instead of one that shows everything between.
    let mut by_file: std::collections::BTreeMap<usize, Vec<(usize, LabeledSpan)>> =
        Default::default();
    let mut excerpts = String::new();
    for p in pointers.into_iter().take(MAX_EVIDENCE_SNIPPETS) {
        let Some(at) = evidence.locate(p) else {
            continue;
        };
        let Some(file) = evidence.files.get(at.file) else {
            continue;
        };
        // What the checks below read of the text, at most `REACH` bytes
        // from the value's start: the file's text around it, not the file
        // (a streamed file's pieces are read again for it).
        let Some(region) = file.region(at.start.saturating_sub(REACH), at.start + REACH) else {
            continue;
        };
        let (text, base) = (region.text.as_ref(), region.base);
        let start = at.start - base;
        // A whole object or list spans many lines: point at its first line.
        let end = text
            .get(start..at.end.min(base + text.len()) - base)
            .and_then(|v| v.find('\n'))
            .map(|n| at.start + n)
            .unwrap_or(at.end);
        // A long line (minified JSON, base64), or one next to it that a
        // snippet would show as context: a window around the value instead.
        let around = |i: usize| {
            let (s, e) = line_around(text, i - base);
            (s + base, e + base)
        };
        let (line_start, line_end) = around(at.start);
        let wide = |(s, e): (usize, usize)| {
            text.get(s - base..e - base)
                .is_none_or(|l| l.chars().count() > MAX_SHOWN_LINE)
        };
        let before = line_start.checked_sub(1).map(around);
        let after = (line_end < file.text_len()).then(|| around(line_end + 1));
        if wide((line_start, line_end)) || before.is_some_and(wide) || after.is_some_and(wide) {
            if let Some((_, line, col)) = evidence.describe(&at) {
                let end = end.min(base + text.len()) - base;
                excerpts.push_str(&excerpt(text, &file.name, line, col, start, end, p));
            }
            continue;
        }
        let line = evidence.describe(&at).map_or(0, |(_, line, _)| line);
        by_file.entry(at.file).or_default().push((
            line,
            LabeledSpan::new(Some(p.to_string()), at.start, end - at.start),
        ));
    }
    let mut snippets: Vec<(usize, Vec<LabeledSpan>)> = Vec::new();
    for (i, mut labels) in by_file {
        labels.sort_by_key(|(line, l)| (*line, l.offset()));
        let mut last_line: Option<usize> = None;
        for (line, label) in labels {
            match (snippets.last_mut(), last_line) {
                (Some((f, group)), Some(last)) if *f == i && line <= last + SNIPPET_GAP => {
                    group.push(label)
                }
                _ => snippets.push((i, vec![label])),
            }
            last_line = Some(line);
        }
    }
    let mut out = String::new();
    for (i, labels) in snippets {
        let Some(file) = evidence.files.get(i) else {
            continue;
        };
        // The lines the snippet shows, with a line above and below.
        let first = labels.iter().map(|l| l.offset()).min().unwrap_or(0);
        let last = labels
            .iter()
            .map(|l| l.offset() + l.len())
            .max()
            .unwrap_or(0);
        let Some(window) = file.lines_around(first, last, SNIPPET_CONTEXT) else {
            continue;
        };
        let diag = RuleDiagnostic {
            message: format!("in {}", file.name),
            severity: Severity::Advice,
            labels,
            source: Box::new(miette::NamedSource::new(file.name.clone(), window)),
        };
        let mut text = String::new();
        if handler(style).render_report(&mut text, &diag).is_ok() {
            while text.ends_with("\n\n") {
                text.pop();
            }
            out.push_str(&text);
        }
    }
    out.push_str(&excerpts);
    out
}

/// How far from a value's start the checks for a snippet read the text:
/// well past the two lines on either side that `line_around` reaches.
const REACH: usize = 4096;

/// The context lines miette shows above and below a label (its default).
const SNIPPET_CONTEXT: usize = 1;

/// Labels more lines apart than this in one file are shown in snippets of
/// their own.
const SNIPPET_GAP: usize = 8;

/// Widest evidence line shown whole in a snippet, in characters; a wider
/// one is shown as a window around the value ([`excerpt`]), and a wider
/// neighbour is left out of the context.
const MAX_SHOWN_LINE: usize = 160;

/// Characters of a long line shown before the value, and at most of the
/// value and after it.
const EXCERPT_BEFORE: usize = 40;
const EXCERPT_VALUE: usize = 60;
const EXCERPT_AFTER: usize = 20;

/// Byte range of the line holding `offset`, looking at most a little past
/// [`MAX_SHOWN_LINE`] either side (a longer line is cut there: it is shown
/// as an excerpt anyway).
fn line_around(text: &str, offset: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let reach = MAX_SHOWN_LINE * 4 + 4;
    let from = offset.saturating_sub(reach);
    let start = bytes
        .get(from..offset)
        .and_then(|w| w.iter().rposition(|b| *b == b'\n'))
        .map_or(from, |i| from + i + 1);
    let to = (offset + reach).min(bytes.len());
    let end = bytes
        .get(offset..to)
        .and_then(|w| w.iter().position(|b| *b == b'\n'))
        .map_or(to, |i| offset + i);
    (start, end)
}

/// A window of a long line around the value at `start..end`, with the value
/// underlined: the place is exact (`line:col`), the text around it cut.
fn excerpt(
    text: &str,
    name: &str,
    line: usize,
    col: usize,
    start: usize,
    end: usize,
    pointer: &str,
) -> String {
    let before: String = {
        let chars: Vec<char> = text
            .get(..start)
            .unwrap_or("")
            .chars()
            .rev()
            .take_while(|c| *c != '\n')
            .take(EXCERPT_BEFORE + 1)
            .collect();
        let cut = chars.len() > EXCERPT_BEFORE;
        let mut s: String = chars
            .into_iter()
            .take(EXCERPT_BEFORE)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if cut {
            s.insert(0, '…');
        }
        s
    };
    let value_all: Vec<char> = text.get(start..end).unwrap_or("").chars().collect();
    let mut value: String = value_all.iter().take(EXCERPT_VALUE).collect();
    let value_cut = value_all.len() > EXCERPT_VALUE;
    if value_cut {
        value.push('…');
    }
    let after: String = {
        let rest = if value_cut {
            ""
        } else {
            text.get(end..).unwrap_or("")
        };
        let chars: Vec<char> = rest
            .chars()
            .take_while(|c| *c != '\n')
            .take(EXCERPT_AFTER + 1)
            .collect();
        let mut s: String = chars.iter().take(EXCERPT_AFTER).collect();
        if chars.len() > EXCERPT_AFTER {
            s.push('…');
        }
        s
    };
    let pad = before.chars().count();
    let marks = value.chars().count().max(1);
    format!(
        "  ☞ in {name} at {line}:{col} (an excerpt: the lines here are too long to show whole)\n    {}{value}{after}\n    {}{} {pointer}\n",
        super::text::printable(&before),
        " ".repeat(pad),
        "^".repeat(marks),
    )
}

fn write_block(out: &mut String, head: &str, lines: &[String]) {
    let pad = " ".repeat(head.len() + 4);
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "  {head}: {l}");
        } else {
            let _ = writeln!(out, "{pad}{l}");
        }
    }
}

/// The whole human report for one gate (or one stage's triggers).
pub fn render_gate(
    program: &Program,
    subject: &str,
    result: &GateResult,
    style: Style,
    evidence: &Evidence,
) -> String {
    render(program, subject, result, style, Kind::Gate, evidence)
}

/// What is being decided: a promotion gate or a stage's rollback triggers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gate,
    Rollback,
}

/// The human report for `clearance rollback`: which triggers fired.
pub fn render_rollback(
    program: &Program,
    stage: &str,
    result: &GateResult,
    style: Style,
    evidence: &Evidence,
) -> String {
    render(program, stage, result, style, Kind::Rollback, evidence)
}

fn render(
    program: &Program,
    subject: &str,
    result: &GateResult,
    style: Style,
    kind: Kind,
    evidence: &Evidence,
) -> String {
    let mut out = String::new();
    match kind {
        Kind::Gate => {
            let _ = writeln!(out, "{}: {subject}", result.decision.as_str());
        }
        Kind::Rollback => {
            let fired = result.rules.iter().filter(|r| r.blocks()).count();
            let n = result.rules.len();
            let verdict = if fired > 0 { "roll back" } else { "stay" };
            let _ = writeln!(
                out,
                "{verdict}: {subject} ({fired} of {n} rollback trigger{} fired)",
                if n == 1 { "" } else { "s" }
            );
        }
    }
    // What was verified before the rules ran (TRUST.md section 2).
    for f in &evidence.files {
        if let (Some(a), Some(mount)) = (&f.attestation, &f.mount) {
            let mut signers = a.signers.clone();
            signers.dedup();
            let logged: Vec<String> = a
                .log_indexes
                .iter()
                .flatten()
                .map(|i| i.to_string())
                .collect();
            let log = if logged.is_empty() {
                String::new()
            } else {
                format!(", log index {}", logged.join(", "))
            };
            let _ = writeln!(
                out,
                "verified: evidence.{mount} from {} (sha256 {}, signed by {}{log})",
                a.file,
                a.sha256,
                signers.join(", ")
            );
        }
    }
    let shown: Vec<&RuleResult> = result
        .rules
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail | Outcome::Error | Outcome::Waived))
        .collect();
    for r in shown {
        out.push('\n');
        out.push_str(&render_rule(program, r, style, evidence));
    }
    let mut extra = Vec::new();
    for w in &result.waivers {
        match w.state {
            WaiverState::Expired => extra.push(format!(
                "the waiver for {} expired ({}) and was ignored",
                w.rule, w.until
            )),
            WaiverState::Unused => extra.push(format!(
                "the waiver for {} (until {}) is unused: the rule did not fail",
                w.rule, w.until
            )),
            WaiverState::Applied => {}
        }
    }
    for r in &result.rules {
        if r.outcome == Outcome::Skipped {
            extra.push(format!("skipped {}: its `when` guard is false", r.name));
        }
        for n in &r.notes {
            extra.push(format!("{} passed, {n}", r.name));
        }
    }
    if !extra.is_empty() {
        out.push('\n');
        for e in extra {
            let _ = writeln!(out, "  note: {e}");
        }
    }
    let _ = writeln!(out, "\n{}", result.summary.line());
    out
}
