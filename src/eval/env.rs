//! Where a value came from in the evidence: the JSON pointer the tracing
//! evaluator carries with each value, for explanations and errors.

use std::rc::Rc;

/// Where a value came from in the evidence, as a JSON pointer (tracing only).
pub type Origin = Option<Rc<str>>;

/// Appends one step to a JSON pointer (RFC 6901 escaping).
pub(crate) fn pointer_child(parent: &Origin, step: &str) -> Origin {
    parent.as_ref().map(|p| {
        let escaped = step.replace('~', "~0").replace('/', "~1");
        Rc::from(format!("{p}/{escaped}"))
    })
}
