//! Access steps shared by the evaluator and the test oracle: `.field`,
//! `[index]`, iteration shapes, and the errors they raise. The tracing mode
//! passes the JSON pointer of the value stepped into; deciding passes none.

use super::env::Origin;
use super::{ErrorKind, EvalError, Value};
use crate::check::Program;
use crate::syntax::Span;
use std::ops::Deref;

/// A value read during evaluation: borrowed from the evidence, a constant or
/// a param when it can be, owned when it was computed.
#[derive(Clone, Debug)]
pub(crate) enum Val<'v> {
    Ref(&'v Value),
    Own(Value),
}

impl Deref for Val<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        match self {
            Val::Ref(v) => v,
            Val::Own(v) => v,
        }
    }
}

impl<'v> Val<'v> {
    pub(crate) fn into_value(self) -> Value {
        match self {
            Val::Ref(v) => v.clone(),
            Val::Own(v) => v,
        }
    }

    /// Applies a borrowing step (a field or an element) to this value. A step
    /// into an owned value owns its result; a step into a borrowed one borrows.
    pub(crate) fn step<E>(
        self,
        f: impl for<'x> FnOnce(&'x Value) -> Result<Val<'x>, E>,
    ) -> Result<Val<'v>, E> {
        match self {
            Val::Ref(v) => f(v),
            Val::Own(v) => f(&v).map(|got| Val::Own(got.into_value())),
        }
    }
}

/// Where an index step landed, for the JSON pointer of its result.
pub(crate) enum Step<'k> {
    At(usize),
    Key(&'k str),
}

/// `base.field`: a field of an object, or of a version.
pub(crate) fn field<'v>(
    program: &Program,
    base: &'v Value,
    base_span: Span,
    name: &str,
    name_span: Span,
    origin: &Origin,
) -> Result<Val<'v>, EvalError> {
    match base {
        Value::Version(v) => {
            let value = match name {
                "major" => Value::Int(i64::try_from(v.major).unwrap_or(i64::MAX)),
                "minor" => Value::Int(i64::try_from(v.minor).unwrap_or(i64::MAX)),
                "patch" => Value::Int(i64::try_from(v.patch).unwrap_or(i64::MAX)),
                "pre" => Value::str(v.pre.as_str()),
                "build" => Value::str(v.build.as_str()),
                other => {
                    return Err(EvalError::new(
                        ErrorKind::TypeMismatch,
                        name_span,
                        format!("a version has no field `{other}`"),
                    )
                    .with_note("version fields: major, minor, patch, pre, build"))
                }
            };
            Ok(Val::Own(value))
        }
        Value::Object(map) => match map.get(name) {
            Some(v) => Ok(Val::Ref(v)),
            None => Err(missing_key(
                program, base_span, name, name_span, map, origin,
            )),
        },
        other => Err(not_a(
            program,
            base_span,
            other,
            "object",
            &format!("field `{name}`"),
            name_span,
        )),
    }
}

/// `base[index]`: an element of a list (negative counts from the end) or the
/// value of an object key.
pub(crate) fn index<'v, 'k>(
    program: &Program,
    base: &'v Value,
    base_span: Span,
    key: &'k Value,
    index_span: Span,
    origin: &Origin,
) -> Result<(&'v Value, Step<'k>), EvalError> {
    let span = base_span.to(index_span);
    match (base, key) {
        (Value::List(items), Value::Int(n)) => {
            let len = items.len() as i64;
            let at = if *n < 0 { len + n } else { *n };
            match usize::try_from(at)
                .ok()
                .and_then(|at| items.get(at).map(|v| (at, v)))
            {
                Some((at, v)) => Ok((v, Step::At(at))),
                None => {
                    let base_text = program.sources.snippet(base_span);
                    Err(EvalError::new(
                        ErrorKind::Missing,
                        index_span,
                        format!(
                            "index {n} is out of range: `{base_text}` has {len} element{}",
                            if len == 1 { "" } else { "s" }
                        ),
                    )
                    .with_note(resolved_note(origin, base_text))
                    .with_pointer(origin)
                    .marked_as_access())
                }
            }
        }
        (Value::List(_), other) => Err(EvalError::new(
            ErrorKind::TypeMismatch,
            index_span,
            format!(
                "a list index must be an integer, got {} {}",
                other.type_name(),
                other.short(40)
            ),
        )),
        (Value::Object(map), Value::Str(k)) => match map.get(k.as_ref()) {
            Some(v) => Ok((v, Step::Key(k))),
            None => Err(missing_key(program, base_span, k, index_span, map, origin)),
        },
        (Value::Object(_), other) => Err(EvalError::new(
            ErrorKind::TypeMismatch,
            index_span,
            format!(
                "an object key must be a string, got {} {}",
                other.type_name(),
                other.short(40)
            ),
        )),
        (other, _) => Err(not_a(
            program,
            base_span,
            other,
            "list or object",
            "an index",
            span,
        )),
    }
}

fn missing_key(
    program: &Program,
    base_span: Span,
    key: &str,
    span: Span,
    map: &super::value::SharedObject,
    origin: &Origin,
) -> EvalError {
    let base_text = program.sources.snippet(base_span);
    let mut err = EvalError::new(
        ErrorKind::Missing,
        span,
        format!("`{base_text}` has no field `{key}`"),
    )
    .with_note(resolved_note(origin, base_text))
    .with_pointer(origin);
    if map.is_empty() {
        err = err.with_note(format!("`{base_text}` is an empty object"));
    } else {
        let mut names: Vec<&str> = map.keys().map(|k| k.as_ref()).collect();
        let similar = crate::check::suggest(key, names.iter().copied());
        let more = names.len().saturating_sub(8);
        names.truncate(8);
        let mut list = names.join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        err = err.with_note(format!("fields present: {list}"));
        if let Some(s) = similar {
            err = err.with_note(format!("did you mean `{s}`?"));
        }
    }
    err.marked_as_access()
}

fn not_a(
    program: &Program,
    base_span: Span,
    value: &Value,
    want: &str,
    step: &str,
    span: Span,
) -> EvalError {
    let kind = if matches!(value, Value::Null) {
        ErrorKind::Missing
    } else {
        ErrorKind::TypeMismatch
    };
    EvalError::new(
        kind,
        span,
        format!(
            "`{}` is {} {}, not an {want}, so it has no {step}",
            program.sources.snippet(base_span),
            article(value.type_name()),
            value.short(60)
        ),
    )
    .marked_as_access()
}

/// A quantifier or comprehension over a value it cannot iterate: an object
/// bound to one name, or something that is neither a list nor an object.
pub(crate) fn not_iterable(program: &Program, value: &Value, collection_span: Span) -> EvalError {
    let text = program.sources.snippet(collection_span);
    match value {
        Value::Object(_) => EvalError::new(
            ErrorKind::TypeMismatch,
            collection_span,
            format!("`{text}` is an object; bind its keys and values with two names"),
        )
        .with_note(format!("write `k, v in {text}` to iterate over an object")),
        other => EvalError::new(
            if matches!(other, Value::Null) {
                ErrorKind::Missing
            } else {
                ErrorKind::TypeMismatch
            },
            collection_span,
            format!(
                "`{text}` is {} {}, not a list or an object",
                article(other.type_name()),
                other.short(60)
            ),
        ),
    }
}

/// The error for a condition that did not evaluate to a boolean.
pub(crate) fn not_boolean(value: &Value, span: Span, what: &str) -> EvalError {
    EvalError::new(
        ErrorKind::TypeMismatch,
        span,
        format!(
            "{what} must be a boolean, got {} {}",
            value.type_name(),
            value.short(60)
        ),
    )
}

/// Refuses a computed string longer than the `--max-string-bytes` limit.
pub(crate) fn check_string_length(
    value: &Value,
    limits: &crate::limits::Limits,
    span: Span,
) -> Result<(), EvalError> {
    match value {
        Value::Str(s) if s.len() > limits.string_bytes => Err(EvalError::new(
            ErrorKind::BudgetExceeded,
            span,
            format!(
                "string of {} bytes exceeds the limit of {} bytes (`--max-string-bytes`)",
                s.len(),
                limits.string_bytes
            ),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn article(type_name: &str) -> &'static str {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ if type_name == "null" => "",
        _ => "a",
    }
}

pub(crate) fn resolved_note(origin: &Origin, base_text: &str) -> String {
    match origin {
        Some(p) if p.is_empty() => format!("`{base_text}` is the evidence root"),
        Some(p) => format!("`{base_text}` resolved to the evidence at {p}"),
        None => format!("`{base_text}` resolved"),
    }
}
