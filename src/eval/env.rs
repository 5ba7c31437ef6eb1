//! Scopes at run time: a chain of frames on the Rust stack. `let`s are
//! evaluated lazily, at most once per scope, so a `let` that reads missing
//! evidence only errors the rules that use it.

use super::error::EvalError;
use super::value::Value;
use crate::syntax::ast::Binding;
use std::cell::RefCell;
use std::rc::Rc;

/// Where a value came from in the evidence, as a JSON pointer (trace mode only).
pub type Origin = Option<Rc<str>>;

pub(crate) enum Slot {
    Empty,
    InProgress,
    Done(Result<(Value, Origin), EvalError>),
}

pub(crate) struct LetScope<'p> {
    pub bindings: &'p [Binding],
    pub slots: RefCell<Vec<Slot>>,
}

impl<'p> LetScope<'p> {
    pub fn new(bindings: &'p [Binding]) -> Self {
        LetScope {
            bindings,
            slots: RefCell::new(bindings.iter().map(|_| Slot::Empty).collect()),
        }
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.bindings.iter().position(|b| b.name.name == name)
    }
}

pub(crate) enum Env<'a> {
    /// `evidence`, `now` and params.
    Root,
    Var {
        name: &'a str,
        value: Value,
        origin: Origin,
        parent: &'a Env<'a>,
    },
    Lets {
        scope: &'a LetScope<'a>,
        parent: &'a Env<'a>,
    },
}

/// Appends one step to a JSON pointer (RFC 6901 escaping).
pub(crate) fn pointer_child(parent: &Origin, step: &str) -> Origin {
    parent.as_ref().map(|p| {
        let escaped = step.replace('~', "~0").replace('/', "~1");
        Rc::from(format!("{p}/{escaped}"))
    })
}
