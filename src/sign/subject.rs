//! What a decision is about: the gate's `subject` value as in-toto
//! subjects. A subject is a digest string `sha256:<64 lowercase hex>`, an
//! object `{name, digest}` holding such a digest, or a list of these.

use crate::eval::{GateResult, Value};
use crate::syntax::ast::GateDecl;
use crate::syntax::Span;
use serde::Serialize;

/// Why a decision has no subject to sign or record: the gate declares none,
/// its expression could not be evaluated, or its value is not a digest. It
/// points at the gate or the expression.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("gate `{gate}`: {what}")]
#[diagnostic(code(clearance::sign::subject))]
pub struct SubjectError {
    pub gate: String,
    pub what: String,
    #[label("{label}")]
    pub span: Span,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

impl SubjectError {
    /// The diagnostic as the CLI prints it, with the policy snippet.
    pub fn render(
        &self,
        sources: &crate::syntax::SourceMap,
        style: crate::report::Style,
    ) -> String {
        crate::report::render_diagnostic(self.clone(), Some(self.span), sources, style)
    }
}

/// The subjects of a decision of `gate`, from the value the driver
/// evaluated (`result.subject`); every output that needs a subject (signed
/// decisions, the ledger) fails closed on the error.
pub fn of_gate(gate: &GateDecl, result: &GateResult) -> Result<Vec<Subject>, SubjectError> {
    of_value(gate, result.subject.as_ref())
}

/// [`of_gate`] from the subject's value as evaluated on its own (what
/// the ledger is read for, before any rule runs).
pub fn of_value(
    gate: &GateDecl,
    value: Option<&Result<Value, crate::eval::EvalError>>,
) -> Result<Vec<Subject>, SubjectError> {
    let error = |what: String, span: Span, label: &str, help: Option<&str>| SubjectError {
        gate: gate.label(),
        what,
        span,
        label: label.to_string(),
        help: help.map(str::to_string),
    };
    let (Some(expr), Some(value)) = (&gate.subject, value) else {
        return Err(error(
            "declares no `subject`, so a signed or recorded decision would not say what it is about".into(),
            gate.from.span.to(gate.to.span),
            "this gate has no `subject`",
            Some("declare the digest the gate decides about, e.g. `subject evidence.artifact.digest`"),
        ));
    };
    match value {
        Err(e) => Err(error(
            format!("the subject cannot be evaluated: {}", e.message),
            e.span,
            "cannot be evaluated",
            Some("nothing is signed or recorded for a decision whose subject is unknown"),
        )),
        Ok(value) => subjects_of(value).map_err(|why| {
            error(
                format!("the subject is not a digest: {why}"),
                expr.span,
                "not a `sha256:` digest",
                Some("a subject is `sha256:<64 lowercase hex>`, `{name, digest}` with such a digest, or a list of these"),
            )
        }),
    }
}

/// One in-toto subject: `{"name": ..., "digest": {"sha256": HEX}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub name: String,
    pub digest: Sha256Digest,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sha256Digest {
    pub sha256: String,
}

impl Subject {
    /// `sha256:HEX`, the form rules and the ledger compare.
    pub fn digest_string(&self) -> String {
        format!("sha256:{}", self.digest.sha256)
    }
}

/// The hex of a `sha256:<64 lowercase hex>` digest, or why it is not one.
pub fn parse_digest(text: &str) -> Result<&str, String> {
    let Some(hex) = text.strip_prefix("sha256:") else {
        return Err(format!("{} does not start with `sha256:`", shown(text)));
    };
    if hex.len() != 64 {
        return Err(format!(
            "{} has {} hex digits after `sha256:`, not 64",
            shown(text),
            hex.len()
        ));
    }
    if let Some(bad) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(format!(
            "{} holds {bad:?}, which is not a lowercase hex digit",
            shown(text)
        ));
    }
    Ok(hex)
}

/// The subjects a gate's `subject` value names, in order, or why the value
/// is not a subject (the message names the element that is wrong).
pub fn subjects_of(value: &Value) -> Result<Vec<Subject>, String> {
    match value {
        Value::List(items) => {
            if items.is_empty() {
                return Err(
                    "the subject is an empty list: a decision must be about something".into(),
                );
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    if matches!(item, Value::List(_)) {
                        return Err(format!("element {i} is a list; a subject list holds digests or `{{name, digest}}` objects"));
                    }
                    one(item).map_err(|e| format!("element {i}: {e}"))
                })
                .collect()
        }
        other => one(other).map(|s| vec![s]),
    }
}

fn one(value: &Value) -> Result<Subject, String> {
    match value {
        Value::Str(text) => {
            let hex = parse_digest(text)?;
            Ok(Subject {
                name: text.to_string(),
                digest: Sha256Digest { sha256: hex.into() },
            })
        }
        Value::Object(o) => {
            let name = match o.get("name") {
                Some(Value::Str(n)) if !n.is_empty() => n.to_string(),
                Some(Value::Str(_)) => return Err("the object's `name` is empty".into()),
                Some(other) => {
                    return Err(format!(
                        "the object's `name` is a {}, not a string",
                        other.type_name()
                    ))
                }
                None => return Err("the object has no `name`".into()),
            };
            let hex = match o.get("digest") {
                Some(Value::Str(d)) => parse_digest(d)?.to_string(),
                Some(other) => {
                    return Err(format!(
                        "the object's `digest` is a {}, not a `sha256:` string",
                        other.type_name()
                    ))
                }
                None => return Err("the object has no `digest`".into()),
            };
            Ok(Subject {
                name,
                digest: Sha256Digest { sha256: hex },
            })
        }
        other => Err(format!(
            "a {} is not a digest; a subject is `sha256:<64 hex>`, `{{name, digest}}` or a list of these",
            other.type_name()
        )),
    }
}

/// A string as a diagnostic quotes it: JSON-escaped, long ones cut.
fn shown(text: &str) -> String {
    const MAX: usize = 80;
    let cut: String = text.chars().take(MAX).collect();
    let quoted = serde_json::to_string(&cut).unwrap_or_default();
    if cut.len() < text.len() {
        format!("{quoted}…")
    } else {
        quoted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "06ce33b5b2d8a1ab1a3b4ebc8a9e61bc14d0d2e3a08a4fe2f1c0dcb0a0b7c4d1";

    #[test]
    fn a_digest_string_is_one_subject_named_by_itself() {
        let d = format!("sha256:{HEX}");
        let s = subjects_of(&Value::str(&d)).unwrap_or_default();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, d);
        assert_eq!(s[0].digest.sha256, HEX);
    }

    #[test]
    fn malformed_digests_say_what_is_wrong() {
        let upper = format!("sha256:{}", HEX.to_uppercase());
        for (text, wanted) in [
            ("sha512:abc", "does not start with `sha256:`"),
            ("sha256:abc", "has 3 hex digits"),
            (upper.as_str(), "not a lowercase hex digit"),
        ] {
            let err = parse_digest(text).err().unwrap_or_default();
            assert!(err.contains(wanted), "{text}: {err}");
        }
    }

    #[test]
    fn objects_keep_their_name_and_lists_name_the_bad_element() {
        let good = crate::eval::parse_json(
            &format!(r#"[{{"name": "pay.tar", "digest": "sha256:{HEX}"}}, "sha256:{HEX}"]"#),
            Default::default(),
        )
        .unwrap_or(Value::Null);
        let s = subjects_of(&good).unwrap_or_default();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "pay.tar");
        let bad = crate::eval::parse_json(r#"["sha256:00", 3]"#, Default::default())
            .unwrap_or(Value::Null);
        let err = subjects_of(&bad).err().unwrap_or_default();
        assert!(err.starts_with("element 0:"), "{err}");
        assert!(subjects_of(&Value::list(vec![])).is_err());
        assert!(subjects_of(&Value::Int(3)).is_err());
    }
}
