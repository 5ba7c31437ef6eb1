//! What one rule's clauses came to, shared by both evaluators: the outcome
//! kinds and the clause runner that turns clause values into a verdict.
//! Both evaluators depend on this module and on nothing of each other's.

use super::EvalError;
use crate::syntax::ast::QuantKind;
use crate::syntax::Span;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Error,
    Skipped,
    Waived,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
            Outcome::Waived => "waived",
        }
    }
}

/// Which clause of a rule a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clause {
    When,
    Require,
}

/// What the fast pass found for one rule.
pub(crate) struct Verdict {
    pub outcome: Outcome,
    /// (clause, index within its clause list, error)
    pub problems: Vec<(Clause, usize, Option<EvalError>)>,
    /// Quantifiers that held only because their collection was empty: an
    /// `all` or a `none` over nothing is true.
    pub vacuous: Vec<(Span, QuantKind)>,
    /// For a failing `require` whose condition is an `all` or a `none`:
    /// (its index among the requires, the element that broke it). Every
    /// element before that one held the other way, so explaining it counts
    /// the elements that break it from there (see `explain_quantifier`).
    pub broke_at: Vec<(usize, usize)>,
}

/// The fast pass over one rule's clauses, for either evaluator: the `when`
/// guards in order (sharing one budget; a false one skips the rule, an
/// erroring one errors it), then every `require`, each with a fresh budget.
pub(crate) fn run_clauses<'e, T>(
    budget: &super::Budget,
    (whens, requires): (&'e [T], &'e [T]),
    mut holds: impl FnMut(&'e T, &str) -> Result<bool, EvalError>,
    vacuous: impl FnOnce() -> Vec<(Span, QuantKind)>,
) -> Verdict {
    for (i, when) in whens.iter().enumerate() {
        match holds(when, "a `when` guard") {
            Ok(true) => {}
            Ok(false) => {
                return Verdict {
                    outcome: Outcome::Skipped,
                    problems: Vec::new(),
                    vacuous: Vec::new(),
                    broke_at: Vec::new(),
                }
            }
            Err(e) => {
                return Verdict {
                    outcome: Outcome::Error,
                    problems: vec![(Clause::When, i, Some(e))],
                    vacuous: Vec::new(),
                    broke_at: Vec::new(),
                }
            }
        }
    }
    let mut problems = Vec::new();
    let mut errored = false;
    for (i, req) in requires.iter().enumerate() {
        // Each require gets the full budget; the counter is per condition.
        budget.reset();
        match holds(req, "a `require` condition") {
            Ok(true) => {}
            Ok(false) => problems.push((Clause::Require, i, None)),
            Err(e) => {
                errored = true;
                problems.push((Clause::Require, i, Some(e)));
            }
        }
    }
    let outcome = if errored {
        Outcome::Error
    } else if problems.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail
    };
    Verdict {
        outcome,
        problems,
        vacuous: vacuous(),
        broke_at: Vec::new(),
    }
}
