//! Builtins over strings.

use super::{sig, Args, Builtin};
use crate::check::{ArgTy, Ty};
use crate::eval::error::EvalError;
use crate::eval::value::Value;

pub(super) fn builtins() -> Vec<Builtin> {
    vec![
        Builtin {
            sig: sig("lower", &[("text", ArgTy::Str)], 0, Ty::Str),
            doc: "The string in lower case (Unicode).\n\n    lower(evidence.artifact.kind) == \"service\"",
            run: |a| Ok(Value::str(&a.str(0)?.to_lowercase())),
        },
        Builtin {
            sig: sig("upper", &[("text", ArgTy::Str)], 0, Ty::Str),
            doc: "The string in upper case (Unicode).\n\n    upper(v.severity) != \"CRITICAL\"",
            run: |a| Ok(Value::str(&a.str(0)?.to_uppercase())),
        },
        Builtin {
            sig: sig("starts_with", &[("text", ArgTy::Str), ("prefix", ArgTy::Str)], 0, Ty::Bool),
            doc: "True when the string begins with the prefix.\n\n    starts_with(evidence.artifact.digest, \"sha256:\")",
            run: |a| Ok(Value::Bool(a.str(0)?.starts_with(a.str(1)?))),
        },
        Builtin {
            sig: sig("ends_with", &[("text", ArgTy::Str), ("suffix", ArgTy::Str)], 0, Ty::Bool),
            doc: "True when the string ends with the suffix.\n\n    ends_with(evidence.artifact.image, \"-distroless\")",
            run: |a| Ok(Value::Bool(a.str(0)?.ends_with(a.str(1)?))),
        },
        Builtin {
            sig: sig("contains", &[("haystack", ArgTy::Sized), ("needle", ArgTy::Any)], 0, Ty::Bool),
            doc: "For strings: true when the first contains the second. For lists: true when an element equals the value (same as `in`). For objects: true when the key exists.\n\n    contains(evidence.artifact.image, \"@sha256:\")",
            run: contains,
        },
        Builtin {
            sig: sig("split", &[("text", ArgTy::Str), ("separator", ArgTy::Str)], 0, Ty::List),
            doc: "The parts of the string between separators. An empty separator is an error.\n\n    split(evidence.artifact.image, \"@\")[-1] == evidence.artifact.digest",
            run: split,
        },
        Builtin {
            sig: sig("join", &[("parts", ArgTy::List), ("separator", ArgTy::Str)], 0, Ty::Str),
            doc: "The strings of a list joined with a separator. Non-string elements are an error, and so is a result longer than `--max-string-bytes` (checked before it is built).\n\n    join(sort(keys(evidence.config.prod)), \",\")",
            run: join,
        },
        Builtin {
            sig: sig("replace", &[("text", ArgTy::Str), ("from", ArgTy::Str), ("to", ArgTy::Str)], 0, Ty::Str),
            doc: "The string with every occurrence of `from` replaced by `to`, left to right, without overlaps. An empty `from` is an error, and so is a result longer than `--max-string-bytes` (checked before it is built).\n\n    replace(evidence.artifact.image, \"staging.registry\", \"registry\") == evidence.prod.image",
            run: replace,
        },
        Builtin {
            sig: sig("number", &[("text", ArgTy::StrOrNum)], 0, Ty::Num),
            doc: "The number a string holds, written as JSON writes numbers (`\"42\"`, `\"-1.5\"`, `\"2e3\"`): for values that tools report as strings, such as Tekton results or CI outputs. An integer beyond 64 bits, surrounding spaces, `+1`, `0x1F` or `\"\"` is an error naming the string; a number is returned as it is.\n\n    number(evidence.results.COVERAGE) >= 80",
            run: number,
        },
    ]
}

fn replace(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    let from = a.str(1)?;
    let to = a.str(2)?;
    if from.is_empty() {
        return Err(a.invalid(1, "`replace` needs a non-empty string to replace"));
    }
    // The length of the result, known before building it (as for `join`).
    let hits = text.matches(from).count();
    let total = (text.len() - hits * from.len()).saturating_add(hits.saturating_mul(to.len()));
    within_string_limit(a, total)?;
    a.budget.charge((text.len() + total) as u64, a.call)?;
    Ok(Value::str(&text.replace(from, to)))
}

fn number(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = match a.get(0)? {
        n @ (Value::Int(_) | Value::Float(_)) => return Ok(n.clone()),
        Value::Str(s) => s,
        _ => return Err(a.type_error(0, "string or number")),
    };
    a.budget.charge(text.len() as u64, a.call)?;
    let not_a_number = || {
        let shown = Value::str(text).short(60);
        a.invalid(
            0,
            format!("`number` needs a string holding a JSON number, got {shown}"),
        )
    };
    // JSON's number grammar exactly: no surrounding spaces (JSON would skip
    // them), and the evidence loader's own parser (64-bit integers exact)
    // reads it.
    let bare = text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
        && text.ends_with(|c: char| c.is_ascii_digit());
    if !bare {
        return Err(not_a_number());
    }
    match crate::eval::parse_json(text, Default::default()) {
        Ok(n @ (Value::Int(_) | Value::Float(_))) => Ok(n),
        _ => Err(not_a_number()),
    }
}

fn contains(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.get(0)? {
        Value::Str(s) => Ok(Value::Bool(s.contains(a.str(1)?))),
        Value::List(items) => {
            let needle = a.get(1)?;
            a.budget.charge(items.len() as u64, a.call)?;
            Ok(Value::Bool(items.iter().any(|v| v.deep_eq(needle))))
        }
        Value::Object(map) => match a.get(1)? {
            Value::Str(k) => Ok(Value::Bool(map.contains_key(k))),
            _ => Err(a.type_error(1, "string (a key)")),
        },
        _ => Err(a.type_error(0, "string, list or object")),
    }
}

fn split(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    let sep = a.str(1)?;
    if sep.is_empty() {
        return Err(a.invalid(1, "`split` needs a non-empty separator"));
    }
    // One step a byte of what is built, charged before building it: the
    // text, plus each part's value and string header (a text of separators
    // alone would otherwise build tens of bytes for every byte read).
    let parts = text.matches(sep).count() as u64 + 1;
    let per_part = crate::eval::ops::ELEMENT_BYTES + 16;
    a.budget
        .charge(text.len() as u64 + parts * per_part, a.call)?;
    Ok(Value::list(text.split(sep).map(Value::str).collect()))
}

fn join(a: &Args<'_>) -> Result<Value, EvalError> {
    let parts = a.list(0)?;
    let sep = a.str(1)?;
    // The length of the result, known before building it: charged to the
    // budget (one step a byte) and held to `--max-string-bytes`, so a join
    // can never allocate past either.
    let total = parts
        .iter()
        .map(|p| match p {
            Value::Str(s) => s.len(),
            _ => 0,
        })
        .sum::<usize>()
        .saturating_add(sep.len().saturating_mul(parts.len().saturating_sub(1)));
    within_string_limit(a, total)?;
    a.budget.charge(total as u64, a.call)?;
    let mut out = String::with_capacity(total);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match p {
            Value::Str(s) => out.push_str(s),
            other => {
                return Err(a.invalid(
                    0,
                    format!(
                        "`join` joins strings; element {i} is {} {}",
                        other.type_name(),
                        other.short(40)
                    ),
                ))
            }
        }
    }
    Ok(Value::str(&out))
}

/// A string of `total` bytes that a builtin is about to build is held to
/// `--max-string-bytes`, before it is built.
fn within_string_limit(a: &Args<'_>, total: usize) -> Result<(), EvalError> {
    let limit = a.cache.limits.string_bytes;
    if total > limit {
        return Err(EvalError::new(
            crate::eval::ErrorKind::BudgetExceeded,
            a.call,
            format!(
                "`{}` would build a string of {total} bytes, over the limit of {limit} bytes (`--max-string-bytes`)",
                a.sig.name
            ),
        ));
    }
    Ok(())
}
