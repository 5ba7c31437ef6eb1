//! Params: `--param` overrides, checked against the policy's declarations.

use crate::check::{suggest, Program, Ty};
use crate::eval::{const_value, Value};

/// Type of a value, as params are typed by their default.
fn ty_of(v: &Value) -> Ty {
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Bool,
        Value::Int(_) | Value::Float(_) => Ty::Num,
        Value::Str(_) => Ty::Str,
        Value::List(_) => Ty::List,
        Value::Object(_) => Ty::Object,
        Value::Duration(_) => Ty::Duration,
        Value::Time(_) => Ty::Time,
        Value::Version(_) => Ty::Version,
    }
}

/// Param overrides (`NAME`, `VALUE` text) checked against the policy: the
/// param must exist, and the value must have the type of its default. The
/// value is JSON when it parses as JSON, else a string; a duration param
/// takes a duration (`48h`).
pub fn parse_overrides(
    program: &Program,
    raw: &[(String, String)],
) -> Result<Vec<(String, Value)>, String> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for (name, text) in raw {
        let (name, text) = (name.as_str(), text.as_str());
        let Some(decl) = program.params.iter().find(|d| d.name == name) else {
            let names: Vec<&str> = program.params.iter().map(|d| d.name.as_str()).collect();
            let hint = match suggest(name, names.iter().copied()) {
                Some(s) => format!("; did you mean `{s}`?"),
                None if names.is_empty() => "; the policy declares no params".into(),
                None => format!("; params: {}", names.join(", ")),
            };
            return Err(format!("unknown param `{name}`{hint}"));
        };
        let value = if decl.ty == Ty::Duration {
            crate::syntax::duration_nanos(text)
                .map(|n| Value::Duration(jiff::SignedDuration::from_nanos(n)))
                .ok_or_else(|| {
                    format!(
                        "param `{name}` is a duration; `{text}` is not one (write e.g. `24h`, `90m`, `7d`)"
                    )
                })?
        } else {
            match crate::eval::parse_json(text, Default::default()) {
                Ok(v) => v,
                Err(_) => Value::str(text),
            }
        };
        let default_ty = const_value(&decl.default)
            .map(|v| ty_of(&v))
            .unwrap_or(Ty::Unknown);
        let got = ty_of(&value);
        if default_ty.known() && default_ty != Ty::Null && got != default_ty {
            return Err(format!(
                "param `{name}` is a {} (its default is `{}`), but `{name}={text}` gives a {}",
                default_ty.name(),
                program.sources.snippet(decl.default.span),
                got.name()
            ));
        }
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// Every param with the value an evaluation used (default or override), for reports.
pub fn effective(
    program: &Program,
    overrides: &[(String, Value)],
) -> Vec<(String, serde_json::Value)> {
    program
        .params
        .iter()
        .map(|p| {
            let value = overrides
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, v)| v.clone())
                .or_else(|| const_value(&p.default).ok())
                .unwrap_or(Value::Null);
            (p.name.clone(), value.to_json())
        })
        .collect()
}
