//! Eval: a checked [`Program`](crate::check::Program) and evidence -> rule
//! outcomes and explanations. This module is the facade; the parts:
//!
//! - `compiled`: the one evaluator of the product. It decides every rule
//!   (names resolved to slots, constants built once, evidence borrowed), and
//!   in its tracing mode, on a lowering with a node per expression, it
//!   explains the failing ones (`explain`) and reports errors with their
//!   evidence pointers;
//! - `interp` ([`Evaluator`]): a plain AST interpreter, kept only as the
//!   oracle the differential tests hold the compiled evaluator to;
//! - `verdict`: outcome kinds and the clause runner both evaluators share;
//!   `outcome`: rule and gate results, waivers, the two-pass entry points;
//! - `ops` (operators), `access` (field and index steps), `builtins`,
//!   `value` (the evidence tree and its JSON loader), `projection` (what a
//!   gate reads, for lean loads).
//!
//! Evaluation is pure, so the tracing mode sees the same values the deciding
//! pass decided on.

mod access;
pub mod builtins;
pub mod compiled;
mod env;
pub mod error;
pub mod explain;
mod interp;
#[doc(hidden)]
pub mod json;
pub(crate) mod ops;
mod outcome;
pub mod projection;
pub mod value;
mod verdict;

pub use env::Origin;
pub use error::{ErrorKind, EvalError};
pub use explain::{Cited, Explanation, Label};
pub use interp::Evaluator;
pub use ops::{apply_constant, const_value};
pub(crate) use ops::{apply_values, quantifier_step};
pub use outcome::*;
pub use value::{format_duration, parse_json, LoadLimits, Value};

use crate::syntax::Span;
use jiff::Timestamp;
use std::cell::Cell;

/// One element of an iterated collection: (index or key, value, pointer).
pub(crate) type Element = (Value, Value, Origin);

/// Default evaluation budget per condition, in steps (see docs/guarantees.md).
pub const DEFAULT_MAX_STEPS: u64 = crate::limits::DEFAULT.max_steps;

/// Counts evaluation steps; running out is an `error` outcome, never a pass.
pub struct Budget {
    used: Cell<u64>,
    max: u64,
}

impl Budget {
    pub fn new(max: u64) -> Self {
        Budget {
            used: Cell::new(0),
            max,
        }
    }

    #[inline]
    pub fn charge(&self, steps: u64, at: Span) -> Result<(), EvalError> {
        let used = self.used.get().saturating_add(steps);
        self.used.set(used);
        if used > self.max {
            return Err(self.exceeded(at));
        }
        Ok(())
    }

    #[cold]
    fn exceeded(&self, at: Span) -> EvalError {
        EvalError::new(
            ErrorKind::BudgetExceeded,
            at,
            format!("evaluation budget exceeded after {} steps", self.max),
        )
        .with_note("the budget bounds every evaluation so that it ends; raise it with `--max-steps` if this evidence is legitimately this large")
    }

    fn reset(&self) {
        self.used.set(0);
    }

    pub fn used(&self) -> u64 {
        self.used.get()
    }
}

/// What an evaluation needs besides the program and the evidence.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    pub now: Timestamp,
    /// Param values that override the defaults, already type-checked.
    pub params: Vec<(String, Value)>,
    /// Evaluation-time limits: steps, regex size, string length.
    pub limits: crate::limits::Limits,
    /// The value of `ledger` (TRUST.md section 4), when the run reads one;
    /// `None` makes every use of `ledger` an error of its rule.
    pub ledger: Option<Value>,
}

impl EvalOptions {
    pub fn at(now: Timestamp) -> Self {
        EvalOptions {
            now,
            params: Vec::new(),
            limits: crate::limits::Limits::default(),
            ledger: None,
        }
    }
}
