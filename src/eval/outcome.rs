//! Rule outcomes and gate decisions (LANGUAGE.md section 4).

use super::explain::Explanation;
use super::{EvalError, EvalOptions, Value};
use crate::check::Program;
use crate::syntax::ast::{Binding, GateDecl, QuantKind, RuleDecl};
use crate::syntax::Span;
use serde::Serialize;

pub(crate) use super::verdict::Verdict;
pub use super::verdict::{Clause, Outcome};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allowed,
    Denied,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
        }
    }
}

/// One `require` that did not hold (or a clause that could not be evaluated).
#[derive(Clone, Debug)]
pub struct Problem {
    pub clause: Clause,
    /// The whole condition.
    pub span: Span,
    /// Set when the clause could not be evaluated.
    pub error: Option<EvalError>,
    /// Why it was false, value by value (empty for errors).
    pub explanation: Explanation,
}

/// A waiver that covered a failing or erroring rule.
#[derive(Clone, Debug, Serialize)]
pub struct AppliedWaiver {
    pub until: String,
    pub reason: String,
    pub owner: Option<String>,
    pub ticket: Option<String>,
    /// What the rule would have been without the waiver: `fail` or `error`.
    pub covered: Outcome,
}

#[derive(Clone, Debug)]
pub struct RuleResult {
    pub name: String,
    pub title: Option<String>,
    pub help: Option<String>,
    pub advisory: bool,
    /// The rule's name in the policy.
    pub span: Span,
    pub outcome: Outcome,
    pub problems: Vec<Problem>,
    /// Notes on a rule that passed, such as a vacuous `all`.
    pub notes: Vec<String>,
    pub waiver: Option<AppliedWaiver>,
}

impl RuleResult {
    /// True when this rule's outcome denies the promotion.
    pub fn blocks(&self) -> bool {
        !self.advisory && matches!(self.outcome, Outcome::Fail | Outcome::Error)
    }
}

/// Counts per outcome, in the order of the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub waived: usize,
}

impl Summary {
    pub fn of(rules: &[RuleResult]) -> Summary {
        let mut s = Summary::default();
        for r in rules {
            match r.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail => s.failed += 1,
                Outcome::Error => s.errors += 1,
                Outcome::Skipped => s.skipped += 1,
                Outcome::Waived => s.waived += 1,
            }
        }
        s
    }

    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} error{}, {} skipped, {} waived",
            self.passed,
            self.failed,
            self.errors,
            if self.errors == 1 { "" } else { "s" },
            self.skipped,
            self.waived
        )
    }
}

/// The result of deciding one gate (or one stage's rollback triggers).
#[derive(Clone, Debug)]
pub struct GateResult {
    pub rules: Vec<RuleResult>,
    pub decision: Decision,
    pub summary: Summary,
    /// Every waiver for this gate, and what became of it.
    pub waivers: Vec<WaiverStatus>,
    /// The value of the gate's `subject`, when it declares one (evaluated
    /// on the same evidence as the rules; see [`evaluate_subject`]).
    pub subject: Option<Result<Value, EvalError>>,
}

impl GateResult {
    pub fn from_rules(rules: Vec<RuleResult>) -> GateResult {
        let decision = if rules.iter().any(RuleResult::blocks) {
            Decision::Denied
        } else {
            Decision::Allowed
        };
        let summary = Summary::of(&rules);
        GateResult {
            rules,
            decision,
            summary,
            waivers: Vec::new(),
            subject: None,
        }
    }
}

/// The value of `gate`'s `subject` expression on `evidence`, in the gate's
/// scope (its lets, the params, `now`); `None` when it declares none.
pub fn evaluate_subject(
    program: &Program,
    gate: &GateDecl,
    evidence: &Value,
    options: &EvalOptions,
) -> Option<Result<Value, EvalError>> {
    let subject = gate.subject.as_ref()?;
    Some(super::compiled::evaluate_in_block(
        program, &gate.lets, subject, evidence, options,
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaiverState {
    /// In force and covering a failing or erroring rule.
    Applied,
    /// Past its expiry: ignored.
    Expired,
    /// In force, but its rule passed or was skipped: it can be removed.
    Unused,
}

/// A waiver of the evaluated gate and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct WaiverStatus {
    pub rule: String,
    pub until: String,
    pub reason: String,
    pub owner: Option<String>,
    pub ticket: Option<String>,
    pub state: WaiverState,
    #[serde(skip)]
    pub span: Span,
}

/// Applies the waivers of `gate` in force at `now` to a gate's result.
fn apply_waivers(
    program: &Program,
    gate: &GateDecl,
    now: jiff::Timestamp,
    result: GateResult,
) -> GateResult {
    let mut rules = result.rules;
    let mut statuses = Vec::new();
    for w in program
        .waivers
        .iter()
        .filter(|w| w.from.name == gate.from.name && w.to.name == gate.to.name)
    {
        let in_force = crate::check::waiver_expiry(&w.until.value).is_ok_and(|end| now < end);
        let rule = rules.iter_mut().find(|r| r.name == w.rule.name);
        let state = match rule {
            _ if !in_force => WaiverState::Expired,
            Some(r) if matches!(r.outcome, Outcome::Fail | Outcome::Error) => {
                r.waiver = Some(AppliedWaiver {
                    until: w.until.value.clone(),
                    reason: w.reason.value.clone(),
                    owner: w.owner.as_ref().map(|o| o.value.clone()),
                    ticket: w.ticket.as_ref().map(|t| t.value.clone()),
                    covered: r.outcome,
                });
                r.outcome = Outcome::Waived;
                WaiverState::Applied
            }
            // A second waiver for an already waived rule adds nothing.
            _ => WaiverState::Unused,
        };
        statuses.push(WaiverStatus {
            rule: w.rule.name.clone(),
            until: w.until.value.clone(),
            reason: w.reason.value.clone(),
            owner: w.owner.as_ref().map(|o| o.value.clone()),
            ticket: w.ticket.as_ref().map(|t| t.value.clone()),
            state,
            span: w.span,
        });
    }
    let mut out = GateResult::from_rules(rules);
    out.waivers = statuses;
    out
}

/// Evaluates every rule of a gate against the evidence.
pub fn evaluate_gate(
    program: &Program,
    gate: &GateDecl,
    evidence: &Value,
    options: &EvalOptions,
) -> GateResult {
    let result = decide_and_explain(program, &gate.lets, &gate.rules, evidence, options, None);
    apply_waivers(program, gate, options.now, result)
}

/// [`evaluate_gate`] on a projected load of `texts`: the values
/// explanations show and cite are taken from the files, never from the
/// load's placeholders for fields no rule reads.
pub fn evaluate_gate_in(
    program: &Program,
    gate: &GateDecl,
    evidence: &Value,
    options: &EvalOptions,
    texts: &crate::report::Evidence,
) -> GateResult {
    let result = decide_and_explain(
        program,
        &gate.lets,
        &gate.rules,
        evidence,
        options,
        Some(texts),
    );
    apply_waivers(program, gate, options.now, result)
}

/// Evaluates the rollback triggers of a stage: a trigger fires when one of
/// its `require` conditions fails or cannot be evaluated. The decision is
/// `Denied` ("roll back") when any trigger fired.
pub fn evaluate_triggers(
    program: &Program,
    stage: &crate::check::Stage,
    evidence: &Value,
    options: &EvalOptions,
) -> GateResult {
    decide_and_explain(
        program,
        &stage.lets,
        &stage.triggers,
        evidence,
        options,
        None,
    )
}

/// [`evaluate_triggers`] on a projected load of `texts` (see [`evaluate_gate_in`]).
pub fn evaluate_triggers_in(
    program: &Program,
    stage: &crate::check::Stage,
    evidence: &Value,
    options: &EvalOptions,
    texts: &crate::report::Evidence,
) -> GateResult {
    decide_and_explain(
        program,
        &stage.lets,
        &stage.triggers,
        evidence,
        options,
        Some(texts),
    )
}

/// Evaluates a list of rules sharing one block of `let`s (a gate, or a stage's triggers).
pub fn evaluate_rules(
    program: &Program,
    lets: &[Binding],
    rules: &[RuleDecl],
    evidence: &Value,
    options: &EvalOptions,
) -> GateResult {
    decide_and_explain(program, lets, rules, evidence, options, None)
}

/// Every rule decided by the compiled evaluator, the failing ones explained.
fn decide_and_explain(
    program: &Program,
    lets: &[Binding],
    rules: &[RuleDecl],
    evidence: &Value,
    options: &EvalOptions,
    texts: Option<&crate::report::Evidence>,
) -> GateResult {
    let verdicts = super::compiled::Compiled::new(program, lets, rules).verdicts(evidence, options);
    results(
        program,
        lets,
        rules,
        evidence,
        options,
        verdicts,
        Explain::On(texts),
    )
}

/// The deciding pass over a gate (what `clearance check` does first): every
/// rule decided by the compiled evaluator on a lean load of only what the
/// rules read ([`super::projection::for_decision`]).
pub enum FirstPass<'p> {
    /// Every rule passed or was skipped: the gate's result, the one
    /// [`evaluate_gate`] gives (nothing in it reads the evidence).
    Decided(GateResult),
    /// Some rule failed or errored: [`ToExplain::finish_in`] explains them,
    /// on the same load with the files' texts (what `check` does), or
    /// [`ToExplain::finish`] on a load for explanations.
    Explain(ToExplain<'p>),
}

/// The verdicts of a first pass that found failing or erroring rules.
pub struct ToExplain<'p> {
    gate: &'p GateDecl,
    verdicts: Vec<Verdict>,
}

impl<'p> ToExplain<'p> {
    /// The rules to explain: those that failed or errored. A load with
    /// [`super::projection::of_rules`] over just these holds everything their
    /// explanations show, for [`Self::finish`] without the files' texts.
    pub fn rules(&self) -> impl Iterator<Item = &'p RuleDecl> + '_ {
        self.gate
            .rules
            .iter()
            .zip(&self.verdicts)
            .filter(|(_, v)| matches!(v.outcome, Outcome::Fail | Outcome::Error))
            .map(|(r, _)| r)
    }

    /// The gate's result: outcomes from the first pass, the failing and
    /// erroring rules explained on `evidence`, which must hold what
    /// [`Self::rules`] read and show. The same result [`evaluate_gate`] gives
    /// on a full load: an explanation reads only its own rule's evidence.
    pub fn finish(self, program: &Program, evidence: &Value, options: &EvalOptions) -> GateResult {
        gate_result(
            program,
            self.gate,
            evidence,
            options,
            self.verdicts,
            Explain::On(None),
        )
    }

    /// [`Self::finish`] on a projected load of `texts` (see [`evaluate_gate_in`]).
    pub fn finish_in(
        self,
        program: &Program,
        evidence: &Value,
        options: &EvalOptions,
        texts: &crate::report::Evidence,
    ) -> GateResult {
        gate_result(
            program,
            self.gate,
            evidence,
            options,
            self.verdicts,
            Explain::On(Some(texts)),
        )
    }
}

/// The first pass over a gate (see [`FirstPass`]), on evidence loaded with
/// [`super::projection::parse_for_decision`] (or any fuller load).
pub fn first_pass<'p>(
    program: &Program,
    gate: &'p GateDecl,
    evidence: &Value,
    options: &EvalOptions,
) -> FirstPass<'p> {
    let verdicts = super::compiled::Compiled::new(program, &gate.lets, &gate.rules)
        .verdicts(evidence, options);
    if verdicts
        .iter()
        .any(|v| matches!(v.outcome, Outcome::Fail | Outcome::Error))
    {
        return FirstPass::Explain(ToExplain { gate, verdicts });
    }
    FirstPass::Decided(gate_result(
        program,
        gate,
        evidence,
        options,
        verdicts,
        Explain::On(None),
    ))
}

/// Whether failing rules are explained, and with the evidence files their
/// shown values are read from (a projected load has placeholders).
#[derive(Clone, Copy)]
enum Explain<'a> {
    No,
    On(Option<&'a crate::report::Evidence>),
}

/// A gate's result from its rules' verdicts: failing ones explained (when
/// `explain`), then waivers applied.
fn gate_result(
    program: &Program,
    gate: &GateDecl,
    evidence: &Value,
    options: &EvalOptions,
    verdicts: Vec<Verdict>,
    explain: Explain<'_>,
) -> GateResult {
    let result = results(
        program,
        &gate.lets,
        &gate.rules,
        evidence,
        options,
        verdicts,
        explain,
    );
    apply_waivers(program, gate, options.now, result)
}

/// Decides a gate when no rule needs explaining: every rule passed or was
/// skipped. `None` when one failed or errored.
pub fn evaluate_gate_if_clean(
    program: &Program,
    gate: &GateDecl,
    evidence: &Value,
    options: &EvalOptions,
) -> Option<GateResult> {
    match first_pass(program, gate, evidence, options) {
        FirstPass::Decided(result) => Some(result),
        FirstPass::Explain(_) => None,
    }
}

/// Decides a gate with a compiled block, outcomes only: rule outcomes,
/// waivers, summary and decision as [`evaluate_gate`] gives them, but a
/// failing or erroring rule carries no problems (nothing is explained). For
/// callers that report outcomes alone, such as `clearance batch`, which
/// compile the gate once for many bundles.
pub fn decide_gate(
    compiled: &super::compiled::Compiled<'_>,
    gate: &GateDecl,
    evidence: &Value,
    options: &EvalOptions,
) -> GateResult {
    let verdicts = compiled.verdicts(evidence, options);
    gate_result(
        compiled.program(),
        gate,
        evidence,
        options,
        verdicts,
        Explain::No,
    )
}

/// The rules' results from their fast-pass verdicts, explaining those that
/// failed or errored when `explain` (batch reports outcomes only).
fn results(
    program: &Program,
    lets: &[Binding],
    rules: &[RuleDecl],
    evidence: &Value,
    options: &EvalOptions,
    verdicts: Vec<Verdict>,
    explain: Explain<'_>,
) -> GateResult {
    let (explain, texts) = match explain {
        Explain::No => (false, None),
        Explain::On(texts) => (true, texts),
    };
    // The tracing form of the block, lowered only when a rule needs
    // explaining, and the run that explains on it.
    let traced = std::cell::OnceCell::new();
    let params = super::compiled::param_values(program, options);
    let mut tracer = None;
    let mut results = Vec::with_capacity(rules.len());
    for (i, (rule, verdict)) in rules.iter().zip(verdicts).enumerate() {
        let mut result = RuleResult {
            name: rule.name.name.clone(),
            title: rule.title.as_ref().map(|t| t.value.clone()),
            help: rule.help.as_ref().map(|h| h.value.clone()),
            advisory: rule.advisory,
            span: rule.name.span,
            outcome: verdict.outcome,
            problems: Vec::new(),
            notes: Vec::new(),
            waiver: None,
        };
        match verdict.outcome {
            super::Outcome::Fail | super::Outcome::Error if explain => {
                let run = tracer.get_or_insert_with(|| {
                    let block = traced
                        .get_or_init(|| super::compiled::Compiled::traced(program, lets, rules));
                    let mut run =
                        super::compiled::Run::<true>::new(block, evidence, &params, options);
                    run.tracing.texts = texts.cloned();
                    run
                });
                result.problems = run.explain_rule(i, &verdict);
            }
            super::Outcome::Pass => {
                for (span, kind) in verdict.vacuous {
                    let word = if kind == QuantKind::None {
                        "none"
                    } else {
                        "all"
                    };
                    result.notes.push(format!(
                        "held vacuously: `{}` is empty, and `{word}` over an empty collection is true",
                        program.sources.snippet(span)
                    ));
                }
            }
            _ => {}
        }
        results.push(result);
    }
    GateResult::from_rules(results)
}
