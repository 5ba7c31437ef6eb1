//! Where a value came from in the evidence: the JSON pointer the tracing
//! evaluator carries with each value, for explanations and errors.

use std::rc::Rc;

/// Where a value came from in the evidence, as a JSON pointer (tracing only).
pub type Origin = Option<Rc<str>>;

/// Appends one step to a JSON pointer (RFC 6901 escaping).
pub(crate) fn pointer_child(parent: &Origin, step: &str) -> Origin {
    parent.as_ref().map(|p| {
        // Built in place: a traced quantifier makes one for every element
        // it passes (190,000 components of a large SBOM), and a `replace`
        // per escape and a `format!` were three allocations more each.
        let mut pointer = String::with_capacity(p.len() + 1 + step.len());
        pointer.push_str(p);
        pointer.push('/');
        for c in step.chars() {
            match c {
                '~' => pointer.push_str("~0"),
                '/' => pointer.push_str("~1"),
                c => pointer.push(c),
            }
        }
        Rc::from(pointer)
    })
}

/// Appends a list index to a JSON pointer (no escaping needed).
pub(crate) fn pointer_index(parent: &Origin, index: usize) -> Origin {
    use std::fmt::Write as _;
    parent.as_ref().map(|p| {
        let mut pointer = String::with_capacity(p.len() + 21);
        // Writing to a String cannot fail.
        let _ = write!(pointer, "{p}/{index}");
        Rc::from(pointer)
    })
}
