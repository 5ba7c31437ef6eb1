//! CI report formats: SARIF 2.1.0, JUnit XML, GitHub workflow commands and
//! Markdown. Each is built from the same outcomes as the human and JSON
//! reports, and is deterministic for the same inputs.

use super::locate::Evidence;
use super::{human, Style};
use crate::check::Program;
use crate::eval::{GateResult, Outcome, Problem, RuleResult};
use crate::syntax::Span;
use serde_json::json;
use std::fmt::Write;

/// What every CI format needs to know about the run.
pub struct CiContext<'a> {
    pub program: &'a Program,
    pub result: &'a GateResult,
    /// `staging -> prod`, or the stage for rollback.
    pub subject: &'a str,
    /// `check` or `rollback`.
    pub command: &'a str,
    pub evidence: &'a Evidence,
    pub now: String,
}

const PLAIN: Style = Style {
    color: false,
    width: 100,
};

fn verdict(ctx: &CiContext<'_>) -> &'static str {
    match (ctx.command, ctx.result.decision) {
        ("rollback", crate::eval::Decision::Denied) => "roll back",
        ("rollback", crate::eval::Decision::Allowed) => "stay",
        (_, d) => d.as_str(),
    }
}

fn shown(r: &RuleResult) -> bool {
    matches!(r.outcome, Outcome::Fail | Outcome::Error | Outcome::Waived)
}

fn rule_text(ctx: &CiContext<'_>, r: &RuleResult) -> String {
    human::render_rule(ctx.program, r, PLAIN, ctx.evidence)
}

/// One line that says why the rule did not pass.
fn summary_line(program: &Program, r: &RuleResult) -> String {
    let why = r
        .problems
        .first()
        .map(|p| match &p.error {
            Some(e) => e.message.clone(),
            // A note that ends with `:` heads the lines under it ("2
            // drifted paths:"): a one-line summary carries them too.
            None if p
                .explanation
                .notes
                .first()
                .is_some_and(|n| n.ends_with(':')) =>
            {
                let notes = &p.explanation.notes;
                let mut line = notes.first().cloned().unwrap_or_default();
                let rest: Vec<&str> = notes.iter().skip(1).map(|n| n.trim()).collect();
                line.push(' ');
                line.push_str(&rest.join("; "));
                line
            }
            None => p.explanation.notes.first().cloned().unwrap_or_else(|| {
                let values: Vec<String> = p
                    .explanation
                    .labels
                    .iter()
                    .map(|l| format!("`{}` is {}", program.sources.snippet(l.span), l.text))
                    .collect();
                if values.is_empty() {
                    format!("`{}` is false", program.sources.snippet(p.span))
                } else {
                    values.join("; ")
                }
            }),
        })
        .unwrap_or_default();
    let title = super::text::printable(r.title.as_deref().unwrap_or(&r.name));
    format!("{title}: {why}")
}

fn region(program: &Program, span: Span) -> (String, usize, usize, usize, usize) {
    let (file, line, col) = program.sources.location(span);
    let end = Span {
        start: span.end,
        ..span
    };
    let (_, end_line, end_col) = program.sources.location(end);
    (file, line, col, end_line, end_col)
}

/// Evidence locations cited by a problem: (file, line, column, what).
fn evidence_sites(ctx: &CiContext<'_>, p: &Problem) -> Vec<(String, usize, usize, String)> {
    let mut out = Vec::new();
    let cited = p.explanation.cited.iter().map(|c| {
        (
            c.pointer.clone(),
            format!("{} = {}", c.pointer, c.value.short(80)),
        )
    });
    let errs = p
        .error
        .iter()
        .flat_map(|e| e.pointers.iter().map(|ptr| (ptr.clone(), ptr.clone())));
    for (pointer, what) in cited.chain(errs) {
        if let Some((f, l, c)) = ctx
            .evidence
            .locate(&pointer)
            .and_then(|at| ctx.evidence.describe(&at))
        {
            out.push((f, l, c, what));
        }
    }
    out
}

// ───── SARIF ─────

/// SARIF 2.1.0: one result per failing, erroring or waived rule, located at
/// the rule's condition in the policy, with the evidence as related locations.
pub fn sarif(ctx: &CiContext<'_>) -> String {
    let rules: Vec<&RuleResult> = ctx.result.rules.iter().collect();
    let descriptors: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            let mut d = json!({
                "id": r.name,
                "name": r.name,
                "shortDescription": {"text": r.title.clone().unwrap_or_else(|| r.name.clone())},
                "defaultConfiguration": {"level": if r.advisory { "warning" } else { "error" }},
            });
            if let Some(h) = &r.help {
                d["help"] = json!({"text": h});
            }
            d
        })
        .collect();
    let mut results = Vec::new();
    for (index, r) in rules.iter().enumerate().filter(|(_, r)| shown(r)) {
        let span = r.problems.first().map(|p| p.span).unwrap_or(r.span);
        let (file, line, col, end_line, end_col) = region(ctx.program, span);
        let level = match (&r.waiver, r.advisory) {
            (Some(_), _) => "note",
            (None, true) => "warning",
            (None, false) => "error",
        };
        let mut related = Vec::new();
        for p in &r.problems {
            for (f, l, c, what) in evidence_sites(ctx, p) {
                related.push(json!({
                    "id": related.len() + 1,
                    "message": {"text": what},
                    "physicalLocation": super::sarif::location(&f, (l, c), None),
                }));
            }
        }
        let mut result = json!({
            "ruleId": r.name,
            "ruleIndex": index,
            "level": level,
            "kind": "fail",
            "message": {"text": summary_line(ctx.program, r)},
            "locations": [{
                "physicalLocation": super::sarif::location(&file, (line, col), Some((end_line, end_col))),
            }],
            "properties": {"outcome": r.outcome.as_str(), "subject": ctx.subject},
        });
        if !related.is_empty() {
            result["relatedLocations"] = json!(related);
        }
        if let Some(w) = &r.waiver {
            result["suppressions"] = json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!("waived until {}: {}", w.until, w.reason),
            }]);
        }
        results.push(result);
    }
    super::sarif::log(
        super::sarif::Driver {
            name: "clearance",
            information_uri: Some("https://github.com/clearance-policy/clearance"),
            rules: descriptors,
        },
        Some(
            json!([{"executionSuccessful": true, "properties": {"decision": verdict(ctx), "now": ctx.now}}]),
        ),
        results,
    )
}

// ───── JUnit ─────

/// JUnit XML: one test case per rule; skipped and waived rules are skipped.
pub fn junit(ctx: &CiContext<'_>) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new(format!("clearance {}", ctx.command));
    let mut suite = TestSuite::new(ctx.subject);
    for r in &ctx.result.rules {
        let status = match r.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message("skipped: its `when` guard is false");
                s
            }
            Outcome::Waived => {
                let mut s = TestCaseStatus::skipped();
                let reason = r
                    .waiver
                    .as_ref()
                    .map(|w| format!("waived until {}: {}", w.until, w.reason));
                s.set_message(reason.unwrap_or_else(|| "waived".into()));
                s.set_description(rule_text(ctx, r));
                s
            }
            Outcome::Fail | Outcome::Error => {
                let kind = if r.outcome == Outcome::Fail {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut s = TestCaseStatus::non_success(kind);
                s.set_message(summary_line(ctx.program, r));
                s.set_type(if r.advisory { "advisory" } else { "blocking" });
                s.set_description(rule_text(ctx, r));
                s
            }
        };
        let mut tc = TestCase::new(r.name.as_str(), status);
        tc.set_classname(format!("{} {}", ctx.command, ctx.subject));
        suite.add_test_case(tc);
    }
    // quick-junit counts skipped cases as `disabled`; JUnit consumers
    // (Jenkins, GitLab, the Maven Surefire schema) read `skipped`.
    let skipped = suite.disabled.to_string();
    suite
        .extra
        .insert("skipped".into(), skipped.as_str().into());
    report.add_test_suite(suite);
    super::text::xml_chars(&report.to_string().unwrap_or_default()).into_owned()
}

// ───── GitHub ─────

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: an annotation on the policy condition of
/// each failing rule, and one on each evidence line its values came from.
pub fn github(ctx: &CiContext<'_>) -> String {
    let mut out = String::new();
    // GitHub shows at most ten annotations of each level per step: one per
    // rule (the evidence it read is in its message), up to that many; the
    // step summary (`$GITHUB_STEP_SUMMARY`, the Markdown report) has them all.
    let mut shown_per_level: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut folded = 0usize;
    for r in ctx.result.rules.iter().filter(|r| shown(r)) {
        let level = match (&r.waiver, r.advisory) {
            (Some(_), _) => "notice",
            (None, true) => "warning",
            (None, false) => "error",
        };
        let count = shown_per_level.entry(level).or_default();
        if *count == GITHUB_ANNOTATIONS_PER_LEVEL {
            folded += 1;
            continue;
        }
        *count += 1;
        let title = escape_property(&format!(
            "{}: {}",
            r.name,
            super::text::printable(r.title.as_deref().unwrap_or(&r.name))
        ));
        let mut message = summary_line(ctx.program, r);
        for p in &r.problems {
            for (f, l, c, what) in evidence_sites(ctx, p) {
                message.push_str(&format!("\n{what} (at {f}:{l}:{c})"));
            }
        }
        let span = r.problems.first().map(|p| p.span).unwrap_or(r.span);
        let (file, line, col, end_line, end_col) = region(ctx.program, span);
        let _ = writeln!(
            out,
            "::{level} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={title}::{}",
            escape_property(&file),
            escape_data(&message)
        );
    }
    if folded > 0 {
        let _ = writeln!(
            out,
            "::notice title=clearance::{}",
            escape_data(&format!(
                "{folded} more rule{} not annotated (GitHub shows {GITHUB_ANNOTATIONS_PER_LEVEL} annotations of each level): every rule is in the step summary",
                if folded == 1 { "" } else { "s" }
            ))
        );
    }
    let _ = writeln!(
        out,
        "{}: {} ({})",
        verdict(ctx),
        ctx.subject,
        ctx.result.summary.line()
    );
    out
}

/// Annotations of one level GitHub shows per step.
const GITHUB_ANNOTATIONS_PER_LEVEL: usize = 10;

// ───── Markdown ─────

fn icon(r: &RuleResult) -> &'static str {
    match (r.outcome, r.advisory) {
        (Outcome::Pass, _) => "✅",
        (Outcome::Skipped, _) => "⏭️",
        (Outcome::Waived, _) => "🟡",
        (_, true) => "⚠️",
        _ => "❌",
    }
}

/// A decision summary for pull-request comments and `$GITHUB_STEP_SUMMARY`.
pub fn markdown(ctx: &CiContext<'_>) -> String {
    let mut out = String::new();
    let head = match verdict(ctx) {
        "allowed" => "✅ Promotion allowed",
        "denied" => "❌ Promotion denied",
        "roll back" => "❌ Roll back",
        _ => "✅ Stay",
    };
    let policy = ctx
        .program
        .sources
        .files()
        .first()
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let _ = writeln!(out, "## {head}: `{}`\n", ctx.subject);
    let _ = writeln!(
        out,
        "Policy `{policy}`, evaluated at `{}`: {}.\n",
        ctx.now,
        ctx.result.summary.line()
    );
    let _ = writeln!(out, "| | rule | outcome | title |\n|---|---|---|---|");
    for r in &ctx.result.rules {
        let mut outcome = r.outcome.as_str().to_string();
        if r.advisory {
            outcome.push_str(" (advisory)");
        }
        let title = super::text::md_cell(r.title.as_deref().unwrap_or(""));
        let _ = writeln!(out, "| {} | `{}` | {outcome} | {title} |", icon(r), r.name);
    }
    let failing: Vec<&RuleResult> = ctx.result.rules.iter().filter(|r| shown(r)).collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "\n### Why\n");
        for r in failing {
            let _ = writeln!(
                out,
                "<details><summary>{} <code>{}</code>: {}</summary>\n",
                icon(r),
                r.name,
                super::text::html_text(&summary_line(ctx.program, r))
            );
            let _ = writeln!(out, "```text\n{}```\n</details>\n", rule_text(ctx, r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_data_escapes_percent_and_line_breaks() {
        // The runner decodes %25 last, so `%0A` typed by a user survives as text.
        assert_eq!(escape_data("50% of\r\ncases"), "50%25 of%0D%0Acases");
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn workflow_command_properties_also_escape_their_separators() {
        assert_eq!(
            escape_property("gate staging->prod: rule a, b"),
            "gate staging->prod%3A rule a%2C b"
        );
    }
}
