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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn program() -> Program {
        crate::compile_str(
            "p.clr",
            "stages a -> b\nparam floor = 80\nparam soak = 24h\nparam team = \"payments\"\ngate a -> b {\n  rule r { require floor > 0 and soak > 0s and team != \"\" }\n}\n",
        )
        .unwrap()
    }

    fn overrides(raw: &[(&str, &str)]) -> Result<Vec<(String, Value)>, String> {
        let raw: Vec<(String, String)> = raw
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        parse_overrides(&program(), &raw)
    }

    /// Overrides as `name=json` strings, so they compare as text.
    fn shown(got: &[(String, Value)]) -> Vec<String> {
        got.iter()
            .map(|(n, v)| format!("{n}={}", v.to_json()))
            .collect()
    }

    #[test]
    fn values_take_the_type_of_the_default() {
        let got = overrides(&[("floor", "90"), ("soak", "48h"), ("team", "checkout")]).unwrap();
        assert!(matches!(got[0].1, Value::Int(90)));
        assert!(
            matches!(got[1].1, Value::Duration(d) if d == jiff::SignedDuration::from_hours(48))
        );
        assert_eq!(shown(&got)[2], "team=\"checkout\"");
    }

    #[test]
    fn a_later_override_replaces_an_earlier_one() {
        let got = overrides(&[("floor", "90"), ("floor", "95")]).unwrap();
        assert_eq!(shown(&got), ["floor=95"]);
    }

    #[test]
    fn a_value_of_another_type_names_both_types() {
        let err = overrides(&[("floor", "high")]).unwrap_err();
        assert_eq!(
            err,
            "param `floor` is a number (its default is `80`), but `floor=high` gives a string"
        );
    }

    #[test]
    fn a_duration_param_refuses_a_non_duration() {
        let err = overrides(&[("soak", "tomorrow")]).unwrap_err();
        assert!(
            err.starts_with("param `soak` is a duration; `tomorrow` is not one"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_param_suggests_the_closest_name() {
        assert_eq!(
            overrides(&[("flor", "1")]).unwrap_err(),
            "unknown param `flor`; did you mean `floor`?"
        );
        assert_eq!(
            overrides(&[("owner", "1")]).unwrap_err(),
            "unknown param `owner`; params: floor, soak, team"
        );
    }

    #[test]
    fn effective_lists_every_param_with_the_value_used() {
        let program = program();
        let used = effective(&program, &[("team".to_string(), Value::str("checkout"))]);
        let names: Vec<&str> = used.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["floor", "soak", "team"]);
        assert_eq!(used[0].1, serde_json::json!(80));
        assert_eq!(used[2].1, serde_json::json!("checkout"));
    }
}
