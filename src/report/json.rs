//! The JSON report. Field order is fixed by the structs below, so the output
//! is byte-for-byte deterministic for the same inputs. Shape: docs/report.md.

use crate::check::Program;
use crate::eval::{
    AppliedWaiver, Clause, Decision, GateResult, Outcome, RuleResult, Summary, WaiverStatus,
};
use crate::syntax::Span;
use serde::Serialize;

/// Format version of the JSON report; bumped on any incompatible change.
pub const REPORT_VERSION: u32 = 1;

/// What the report says about the run besides the outcomes.
pub struct JsonContext<'a> {
    /// The evidence files, to give each cited value its file, line and column.
    pub evidence: &'a super::Evidence,
    /// What makes the decision reproducible (policy and evidence digests, the
    /// command to re-run it); `None` leaves the field out of the report.
    pub record: Option<DecisionRecord>,
    /// `check` or `rollback`.
    pub command: &'a str,
    /// The gate (`staging -> prod`) or stage (`prod`) decided.
    pub subject: &'a str,
    /// The gate decided (`None` for rollback): the report then states its
    /// subjects and the chain of trust.
    pub gate: Option<&'a crate::syntax::ast::GateDecl>,
    pub now: String,
    pub params: Vec<(String, serde_json::Value)>,
}

/// What makes a decision reproducible and auditable.
#[derive(Serialize, Clone, Debug)]
pub struct DecisionRecord {
    /// `clearance <version>`.
    pub engine: String,
    /// Every policy file read (the policy, its imports, waiver files).
    pub policy_files: Vec<FileDigest>,
    pub evidence_files: Vec<FileDigest>,
    /// The waivers that changed an outcome.
    pub waivers_applied: Vec<String>,
    /// A command that re-runs this exact decision.
    pub command: String,
    /// Every attestation verified before the rules ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationRecord>,
    /// The ledger snapshot the rules read (`--ledger-at` replays it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerRecord>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct LedgerRecord {
    /// How many entries the ledger had when it was read.
    pub size: u64,
    /// Hex RFC 6962 root of those entries.
    pub root: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct AttestationRecord {
    pub file: String,
    /// `evidence.NAME` it is mounted at.
    pub mount: String,
    /// Hex SHA-256 of the attestation file's bytes.
    pub sha256: String,
    /// The trust file's signer of each statement (one for an envelope, one
    /// a line for JSON Lines).
    pub signers: Vec<String>,
    /// The transparency-log index of each statement (`null` for a bare envelope).
    pub log_indexes: Vec<Option<i64>>,
}

#[derive(Serialize, Clone, Debug)]
pub struct FileDigest {
    pub file: String,
    /// `evidence.NAME` for a mounted evidence file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    pub sha256: String,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    command: &'a str,
    decision: &'a str,
    subject: &'a str,
    /// What the gate's `subject` names, when it declares one and it is a
    /// digest (signed outputs refuse to run otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    subjects: Option<Vec<crate::sign::Subject>>,
    policy: String,
    now: &'a str,
    params: serde_json::Map<String, serde_json::Value>,
    rules: Vec<Rule<'a>>,
    waivers: &'a [WaiverStatus],
    summary: Summary,
    /// What the decision validated, what risk remains, what comes next.
    #[serde(skip_serializing_if = "Option::is_none")]
    trust: Option<super::chain::TrustChain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<&'a DecisionRecord>,
}

#[derive(Serialize)]
struct Location {
    file: String,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct Rule<'a> {
    name: &'a str,
    title: Option<&'a str>,
    outcome: Outcome,
    advisory: bool,
    blocking: bool,
    location: Location,
    help: Option<&'a str>,
    problems: Vec<ProblemJson>,
    notes: &'a [String],
    waiver: Option<&'a AppliedWaiver>,
}

#[derive(Serialize)]
struct ProblemJson {
    clause: Clause,
    condition: String,
    location: Location,
    error: Option<ErrorJson>,
    labels: Vec<LabelJson>,
    notes: Vec<String>,
    evidence: Vec<EvidenceJson>,
}

#[derive(Serialize)]
struct ErrorJson {
    code: &'static str,
    message: String,
    expression: String,
    location: Location,
    notes: Vec<String>,
    evidence: Vec<EvidenceRef>,
}

#[derive(Serialize)]
struct EvidenceRef {
    pointer: String,
    location: Option<Location>,
}

#[derive(Serialize)]
struct LabelJson {
    expression: String,
    text: String,
    location: Location,
}

#[derive(Serialize)]
struct EvidenceJson {
    pointer: String,
    expression: String,
    value: serde_json::Value,
    /// Where the value is in the evidence file (`null` when it cannot be found,
    /// e.g. a value computed by the policy).
    location: Option<Location>,
}

fn evidence_location(evidence: &super::Evidence, pointer: &str) -> Option<Location> {
    let at = evidence.locate(pointer)?;
    let (file, line, column) = evidence.describe(&at)?;
    Some(Location { file, line, column })
}

fn location(program: &Program, span: Span) -> Location {
    let (file, line, column) = program.sources.location(span);
    Location { file, line, column }
}

fn rule_json<'a>(program: &Program, r: &'a RuleResult, evidence: &super::Evidence) -> Rule<'a> {
    Rule {
        name: &r.name,
        title: r.title.as_deref(),
        outcome: r.outcome,
        advisory: r.advisory,
        blocking: r.blocks(),
        location: location(program, r.span),
        help: r.help.as_deref(),
        problems: r
            .problems
            .iter()
            .map(|p| ProblemJson {
                clause: p.clause,
                condition: program.sources.snippet(p.span).to_string(),
                location: location(program, p.span),
                error: p.error.as_ref().map(|e| ErrorJson {
                    code: e.code(),
                    message: e.message.clone(),
                    expression: program.sources.snippet(e.span).to_string(),
                    location: location(program, e.span),
                    notes: e.notes.clone(),
                    evidence: e
                        .pointers
                        .iter()
                        .map(|p| EvidenceRef {
                            pointer: p.clone(),
                            location: evidence_location(evidence, p),
                        })
                        .collect(),
                }),
                labels: p
                    .explanation
                    .labels
                    .iter()
                    .map(|l| LabelJson {
                        expression: program.sources.snippet(l.span).to_string(),
                        text: l.text.clone(),
                        location: location(program, l.span),
                    })
                    .collect(),
                notes: p.explanation.notes.clone(),
                evidence: p
                    .explanation
                    .cited
                    .iter()
                    .map(|c| EvidenceJson {
                        pointer: c.pointer.clone(),
                        expression: c.expr.clone(),
                        value: c.value.to_json(),
                        location: evidence_location(evidence, &c.pointer),
                    })
                    .collect(),
            })
            .collect(),
        notes: &r.notes,
        waiver: r.waiver.as_ref(),
    }
}

/// The JSON report of one decision, pretty-printed, ending in a newline.
pub fn gate_json(program: &Program, result: &GateResult, ctx: &JsonContext<'_>) -> String {
    let report = Report {
        version: REPORT_VERSION,
        command: ctx.command,
        decision: match (ctx.command, result.decision) {
            ("rollback", Decision::Denied) => "rollback",
            ("rollback", Decision::Allowed) => "stay",
            (_, d) => d.as_str(),
        },
        subject: ctx.subject,
        subjects: result
            .subject
            .as_ref()
            .and_then(|v| v.as_ref().ok())
            .and_then(|v| crate::sign::subjects_of(v).ok()),
        policy: program
            .sources
            .files()
            .first()
            .map(|f| f.name.clone())
            .unwrap_or_default(),
        now: &ctx.now,
        params: ctx.params.iter().cloned().collect(),
        rules: result
            .rules
            .iter()
            .map(|r| rule_json(program, r, ctx.evidence))
            .collect(),
        waivers: &result.waivers,
        summary: result.summary,
        trust: ctx
            .gate
            .map(|g| super::chain::of_decision(program, g, result)),
        record: ctx.record.as_ref(),
    };
    let mut s = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"));
    s.push('\n');
    s
}
