//! The builtin functions. Each is declared once, with its signature (read by
//! the checker), its documentation (printed by the docs) and its
//! implementation, in the file of its family.

mod collections;
mod data;
mod drift;
mod patterns;
mod strings;
mod supply;
mod time;
pub use time::parse_rfc3339;

use super::error::{ErrorKind, EvalError};
use super::value::Value;
use super::Budget;
use crate::check::{ArgTy, Signature};
use crate::syntax::Span;
use std::rc::Rc;
use std::sync::OnceLock;

pub type BuiltinFn = fn(&Args<'_>) -> Result<Value, EvalError>;

pub struct Builtin {
    pub sig: Signature,
    /// What it does, what it returns, an example; shown in docs/language.md.
    pub doc: &'static str,
    pub run: BuiltinFn,
}

/// The evaluated arguments of one call, with the spans to blame.
pub struct Args<'a> {
    pub values: &'a [Value],
    pub spans: &'a [Span],
    pub call: Span,
    pub sig: &'a Signature,
    pub budget: &'a Budget,
    pub cache: &'a patterns::Cache,
}

impl<'a> Args<'a> {
    pub fn get(&self, i: usize) -> Result<&'a Value, EvalError> {
        self.values.get(i).ok_or_else(|| {
            EvalError::new(
                ErrorKind::InvalidValue,
                self.call,
                format!("`{}` is missing argument {}", self.sig.name, i + 1),
            )
        })
    }

    pub fn span(&self, i: usize) -> Span {
        self.spans.get(i).copied().unwrap_or(self.call)
    }

    /// A type error blaming argument `i`.
    pub fn type_error(&self, i: usize, want: &str) -> EvalError {
        let pname = self.sig.params.get(i).map(|p| p.0).unwrap_or("argument");
        let got = self.values.get(i);
        EvalError::new(
            ErrorKind::TypeMismatch,
            self.span(i),
            format!(
                "argument `{pname}` of `{}` must be a {want}, got {} {}",
                self.sig.name,
                got.map(Value::type_name).unwrap_or("nothing"),
                got.map(|v| v.short(60)).unwrap_or_default()
            ),
        )
    }

    pub fn invalid(&self, i: usize, message: impl Into<String>) -> EvalError {
        EvalError::new(ErrorKind::InvalidValue, self.span(i), message)
    }

    pub fn str(&self, i: usize) -> Result<&'a str, EvalError> {
        match self.get(i)? {
            Value::Str(s) => Ok(s),
            _ => Err(self.type_error(i, "string")),
        }
    }

    pub fn list(&self, i: usize) -> Result<&'a Rc<[Value]>, EvalError> {
        match self.get(i)? {
            Value::List(items) => {
                self.budget.charge(items.len() as u64, self.call)?;
                Ok(items)
            }
            _ => Err(self.type_error(i, "list")),
        }
    }
}

fn table() -> &'static [Builtin] {
    static ALL: OnceLock<Vec<Builtin>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = Vec::new();
        all.extend(collections::builtins());
        all.extend(data::builtins());
        all.extend(drift::builtins());
        all.extend(patterns::builtins());
        all.extend(strings::builtins());
        all.extend(supply::builtins());
        all.extend(time::builtins());
        all.sort_by_key(|b| b.sig.name);
        all
    })
}

/// Every builtin, sorted by name.
pub fn all() -> &'static [Builtin] {
    table()
}

pub fn find(name: &str) -> Option<&'static Builtin> {
    table().iter().find(|b| b.sig.name == name)
}

/// The signatures the checker needs.
pub fn signatures() -> Vec<Signature> {
    table().iter().map(|b| b.sig).collect()
}

pub use patterns::Cache;

/// Shorthand used by the family files.
pub(crate) const fn sig(
    name: &'static str,
    params: &'static [(&'static str, ArgTy)],
    optional: usize,
    returns: crate::check::Ty,
) -> Signature {
    Signature {
        name,
        params,
        optional,
        returns,
        validate: None,
    }
}

/// A signature whose string literals are checked at compile time.
pub(crate) const fn checked(
    sig: Signature,
    validate: crate::check::types::LiteralCheck,
) -> Signature {
    Signature {
        validate: Some(validate),
        ..sig
    }
}

/// The builtin reference as Markdown (docs/builtins.md is generated from this;
/// a test keeps the two identical).
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Builtin functions\n\n\
         Generated from the builtin table (`src/eval/builtins/`); do not edit by hand.\n\
         Regenerate with `UPDATE_DOCS=1 cargo test --test docs`.\n\n\
         A wrong argument type is a compile error when the checker can see it (a\n\
         literal), and an `error` outcome of the rule otherwise.\n",
    );
    for b in all() {
        out.push_str(&format!(
            "\n## `{}`\n\n`{}`\n\n",
            b.sig.name,
            b.sig.render()
        ));
        let mut parts = b.doc.splitn(2, "\n\n");
        if let Some(text) = parts.next() {
            out.push_str(text);
            out.push('\n');
        }
        if let Some(example) = parts.next() {
            out.push_str("\n```clr\n");
            for line in example.lines() {
                out.push_str(line.strip_prefix("    ").unwrap_or(line));
                out.push('\n');
            }
            out.push_str("```\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_documented() {
        let all = all();
        for w in all.windows(2) {
            if let [a, b] = w {
                assert_ne!(a.sig.name, b.sig.name, "duplicate builtin");
            }
        }
        for b in all {
            assert!(!b.doc.trim().is_empty(), "{} has no doc", b.sig.name);
        }
    }
}
