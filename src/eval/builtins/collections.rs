//! Builtins over lists and objects.

use super::{sig, Args, Builtin};
use crate::check::{ArgTy, Ty};
use crate::eval::error::{ErrorKind, EvalError};
use crate::eval::value::Value;
use std::cmp::Ordering;
use std::collections::HashSet;

pub(super) fn builtins() -> Vec<Builtin> {
    vec![
        Builtin {
            sig: sig("count", &[("value", ArgTy::Sized)], 0, Ty::Num),
            doc: "The number of elements of a list, entries of an object, or characters of a string.\n\n    count(evidence.tests.suites) > 0",
            run: count,
        },
        Builtin {
            sig: sig("sum", &[("numbers", ArgTy::List)], 0, Ty::Unknown),
            doc: "The sum of a list of numbers (or of durations); 0 for an empty list. Integer overflow is an error.\n\n    sum([s.failed for s in evidence.tests.suites]) == 0",
            run: sum,
        },
        Builtin {
            sig: sig("min", &[("values", ArgTy::List)], 0, Ty::Unknown),
            doc: "The smallest element of a non-empty list of numbers, strings, durations, times or versions. An empty list is an error.\n\n    min([s.coverage for s in evidence.tests.suites]) >= 70",
            run: min,
        },
        Builtin {
            sig: sig("max", &[("values", ArgTy::List)], 0, Ty::Unknown),
            doc: "The largest element of a non-empty list of numbers, strings, durations, times or versions. An empty list is an error.\n\n    max([c.duration_ms for c in evidence.tests.cases]) < 60000",
            run: max,
        },
        Builtin {
            sig: sig("distinct", &[("values", ArgTy::List)], 0, Ty::List),
            doc: "The list without repeated elements (deep equality, `1` equals `1.0`), first occurrences kept in order.\n\n    count(distinct([a.user for a in evidence.approvals])) >= 2",
            run: distinct,
        },
        Builtin {
            sig: sig("flatten", &[("lists", ArgTy::List)], 0, Ty::List),
            doc: "The list with each element that is itself a list replaced by its elements, one level deep: `flatten([[1, 2], 3, [[4]]])` is `[1, 2, 3, [4]]`. Non-list elements are kept in place.\n\n    all l in flatten([c.licenses for c in evidence.sbom.components]): l.license.id != null",
            run: flatten,
        },
        Builtin {
            sig: sig("keys", &[("object", ArgTy::Collection)], 0, Ty::List),
            doc: "The keys of an object, in the order of the evidence file.\n\n    \"prod\" in keys(evidence.config)",
            run: keys,
        },
        Builtin {
            sig: sig("values", &[("object", ArgTy::Collection)], 0, Ty::List),
            doc: "The values of an object, in the order of the evidence file.\n\n    all v in values(evidence.checks): v == \"ok\"",
            run: values,
        },
        Builtin {
            sig: sig("sort", &[("values", ArgTy::List)], 0, Ty::List),
            doc: "The list in ascending order. Mixed types sort by type first (null, booleans, numbers, strings, durations, times, versions, lists, objects), so the result never depends on input order.\n\n    sort(keys(evidence.config.prod))",
            run: sort,
        },
    ]
}

fn count(a: &Args<'_>) -> Result<Value, EvalError> {
    let n = match a.get(0)? {
        Value::List(items) => items.len(),
        Value::Object(map) => map.len(),
        Value::Str(s) => s.chars().count(),
        _ => return Err(a.type_error(0, "list, object or string")),
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn sum(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let mut acc = Value::Int(0);
    for (i, v) in items.iter().enumerate() {
        acc = match (&acc, v) {
            (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_add(*y).ok_or_else(|| {
                EvalError::new(
                    ErrorKind::Overflow,
                    a.span(0),
                    format!("integer overflow in `sum` at element {i}"),
                )
            })?),
            (Value::Int(x), Value::Float(y)) => Value::Float(*x as f64 + y),
            (Value::Float(x), Value::Int(y)) => Value::Float(x + *y as f64),
            (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
            (Value::Int(0), Value::Duration(d)) if i == 0 => Value::Duration(*d),
            (Value::Duration(x), Value::Duration(y)) => {
                Value::Duration(x.checked_add(*y).ok_or_else(|| {
                    EvalError::new(ErrorKind::Overflow, a.span(0), "duration overflow in `sum`")
                })?)
            }
            _ => {
                return Err(EvalError::new(
                    ErrorKind::TypeMismatch,
                    a.span(0),
                    format!(
                        "`sum` adds numbers or durations; element {i} is {} {}",
                        v.type_name(),
                        v.short(60)
                    ),
                ))
            }
        };
        if let Value::Float(f) = acc {
            if !f.is_finite() {
                return Err(EvalError::new(
                    ErrorKind::Overflow,
                    a.span(0),
                    "`sum` overflowed the range of a float",
                ));
            }
        }
    }
    Ok(acc)
}

fn extreme(a: &Args<'_>, want: Ordering) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let mut best: Option<&Value> = None;
    for (i, v) in items.iter().enumerate() {
        best = Some(match best {
            None => v,
            Some(b) => match v.compare(b) {
                Some(o) if o == want => v,
                Some(_) => b,
                None => {
                    return Err(EvalError::new(
                        ErrorKind::TypeMismatch,
                        a.span(0),
                        format!(
                            "`{}` cannot compare element {i} ({} {}) with {} {}",
                            a.sig.name,
                            v.type_name(),
                            v.short(40),
                            b.type_name(),
                            b.short(40)
                        ),
                    ))
                }
            },
        });
    }
    best.cloned().ok_or_else(|| {
        EvalError::new(
            ErrorKind::InvalidValue,
            a.span(0),
            format!("`{}` of an empty list has no value", a.sig.name),
        )
        .with_note("guard the rule with `when count(...) > 0`, or give a default with `if`")
    })
}

fn min(a: &Args<'_>) -> Result<Value, EvalError> {
    extreme(a, Ordering::Less)
}

fn max(a: &Args<'_>) -> Result<Value, EvalError> {
    extreme(a, Ordering::Greater)
}

/// A string equal for deep-equal values, used to find repeats in linear time.
fn canonical_key(v: &Value, out: &mut String) {
    use std::fmt::Write;
    match v {
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            let _ = write!(out, "n{}", *f as i64);
        }
        Value::Int(i) => {
            let _ = write!(out, "n{i}");
        }
        Value::Float(f) => {
            let _ = write!(out, "f{f}");
        }
        Value::List(items) => {
            out.push('[');
            for i in items.iter() {
                canonical_key(i, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|x, y| x.0.cmp(y.0));
            out.push('{');
            for (k, v) in entries {
                let _ = write!(out, "{k:?}:");
                canonical_key(v, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Version(ver) => {
            // build metadata does not take part in equality
            let _ = write!(
                out,
                "v{}.{}.{}-{}",
                ver.major, ver.minor, ver.patch, ver.pre
            );
        }
        other => {
            let _ = write!(out, "{}:{other}", other.type_name());
        }
    }
}

fn distinct(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let mut seen = HashSet::with_capacity(items.len());
    let mut out = Vec::new();
    for v in items.iter() {
        let mut key = String::new();
        canonical_key(v, &mut key);
        if seen.insert(key) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

fn keys(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.get(0)? {
        Value::Object(map) => Ok(Value::list(
            map.keys().map(|k| Value::Str(k.clone())).collect(),
        )),
        _ => Err(a.type_error(0, "object")),
    }
}

fn values(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.get(0)? {
        Value::Object(map) => Ok(Value::list(map.values().cloned().collect())),
        _ => Err(a.type_error(0, "object")),
    }
}

fn sort(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut items: Vec<Value> = a.list(0)?.to_vec();
    items.sort_by(|x, y| x.total_cmp(y));
    Ok(Value::list(items))
}

fn flatten(a: &Args<'_>) -> Result<Value, EvalError> {
    let lists = a.list(0)?;
    let total: usize = lists
        .iter()
        .map(|v| match v {
            Value::List(inner) => inner.len(),
            _ => 1,
        })
        .sum();
    a.budget
        .charge(total as u64 * crate::eval::ops::ELEMENT_BYTES, a.call)?;
    let mut out = Vec::with_capacity(total);
    for v in lists.iter() {
        match v {
            Value::List(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::list(out))
}
