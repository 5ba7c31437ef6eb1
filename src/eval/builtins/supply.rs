//! Builtins for supply-chain evidence: Package URLs and SPDX license
//! expressions, parsed by the crates the ecosystem uses for them (see
//! Cargo.toml), never by hand.

use super::{sig, Args, Builtin};
use crate::check::{ArgTy, Ty};
use crate::eval::error::EvalError;
use crate::eval::value::{object_with_capacity, Value};
use std::rc::Rc;
use std::str::FromStr;

pub(super) fn builtins() -> Vec<Builtin> {
    vec![
        Builtin {
            sig: sig("purl", &[("purl", ArgTy::Str)], 0, Ty::Object),
            doc: "Parses a Package URL (`pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH`) into `{type, namespace, name, version, qualifiers, subpath}`: absent parts are `null`, `qualifiers` is an object (keys sorted, `{}` when there are none), percent-escapes are decoded. A string that is not a valid purl is an evaluation error that names it (the rule is `error`, which denies).\n\n    purl(c.purl).type == \"npm\" and purl(c.purl).version != null",
            run: purl,
        },
        Builtin {
            sig: sig("spdx_ids", &[("expression", ArgTy::Str)], 0, Ty::List),
            doc: "The license identifiers of an SPDX license expression, in order of appearance, each once: `spdx_ids(\"MIT OR (Apache-2.0 AND LGPL-3.0-only)\")` is `[\"MIT\", \"Apache-2.0\", \"LGPL-3.0-only\"]`. A `WITH` exception is kept apart: `\"GPL-2.0-only WITH Classpath-exception-2.0\"` gives `[\"GPL-2.0-only\"]`, never the exception as a license. `LicenseRef-...` identifiers are kept as written; `+` stays on the identifier (`\"Apache-1.0+\"`). Identifiers are checked against the SPDX license list (deprecated ones such as `GPL-2.0` accepted); an expression that does not parse, or names an unknown license, is an evaluation error that names it.\n\n    none id in spdx_ids(c.licenses[0].expression): id in [\"AGPL-3.0-only\", \"SSPL-1.0\"]",
            run: spdx_ids,
        },
        Builtin {
            sig: sig("digest", &[("digest", ArgTy::Str)], 0, Ty::Str),
            doc: "A SHA-256 digest in one canonical form, `sha256:` and 64 lower-case hex digits, whether it was written bare (`4f4f…`, as in-toto subjects hold it) or prefixed (`sha256:4F4F…`, as image references do): compare digests from different tools with it. Anything else (another algorithm, a short or non-hex digest) is an evaluation error that names it.\n\n    any s in evidence.provenance.subjects: digest(s.digest.sha256) == digest(evidence.artifact.digest)",
            run: digest,
        },
    ]
}

fn digest(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    let hex = text
        .strip_prefix("sha256:")
        .or_else(|| text.strip_prefix("SHA256:"))
        .unwrap_or(text);
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(a.invalid(
            0,
            format!(
                "`{}` is not a SHA-256 digest (`sha256:` and 64 hex digits, or the 64 digits alone)",
                printable(text)
            ),
        ));
    }
    Ok(Value::str(&format!("sha256:{}", hex.to_ascii_lowercase())))
}

fn purl(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    a.budget.charge(text.len() as u64, a.call)?;
    let parsed = packageurl::PackageUrl::from_str(text).map_err(|e| {
        a.invalid(
            0,
            format!("`{}` is not a valid Package URL: {e}", printable(text)),
        )
    })?;
    let opt = |s: Option<&str>| s.map_or(Value::Null, Value::str);
    let mut qualifiers: Vec<(&str, &str)> = parsed
        .qualifiers()
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    // A hash map underneath: sorted, so the same purl always gives the same object.
    qualifiers.sort_unstable();
    let mut q = object_with_capacity(qualifiers.len());
    for (k, v) in qualifiers {
        q.insert(Rc::from(k), Value::str(v));
    }
    let mut out = object_with_capacity(6);
    out.insert(Rc::from("type"), Value::str(parsed.ty()));
    out.insert(Rc::from("namespace"), opt(parsed.namespace()));
    out.insert(Rc::from("name"), Value::str(parsed.name()));
    out.insert(Rc::from("version"), opt(parsed.version()));
    out.insert(Rc::from("qualifiers"), Value::Object(q.into()));
    out.insert(Rc::from("subpath"), opt(parsed.subpath()));
    Ok(Value::Object(out.into()))
}

/// SPDX 2.x as written in SBOMs: strict syntax (no `/` for `OR`, no
/// imprecise names mapped to guesses), but the deprecated identifiers that
/// real SBOMs still carry (`GPL-2.0`, `LGPL-2.1+`) accepted.
const SPDX_MODE: spdx::ParseMode = spdx::ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

fn spdx_ids(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    a.budget.charge(text.len() as u64, a.call)?;
    let expression = spdx::Expression::parse_mode(text, SPDX_MODE).map_err(|e| {
        a.invalid(
            0,
            format!(
                "`{}` is not a valid SPDX license expression: {}",
                printable(text),
                e.reason
            ),
        )
    })?;
    let mut ids: Vec<String> = Vec::new();
    for req in expression.requirements() {
        let id = req.req.license.to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(Value::list(ids.iter().map(|s| Value::str(s)).collect()))
}

/// The text as an error message shows it: control characters escaped, cut
/// at 200 characters.
fn printable(text: &str) -> String {
    let shown: String = text.chars().take(200).collect();
    let shown = crate::report::text::printable(&shown).into_owned();
    if text.chars().count() > 200 {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    /// The license expression crate really keeps exceptions apart and rejects
    /// what is not SPDX (checked here because a rule denies on it).
    #[test]
    fn spdx_crate_behaves_as_documented() {
        let e = spdx::Expression::parse_mode(
            "GPL-2.0-only WITH Classpath-exception-2.0 OR MIT",
            super::SPDX_MODE,
        )
        .unwrap();
        let ids: Vec<String> = e
            .requirements()
            .map(|r| r.req.license.to_string())
            .collect();
        assert_eq!(ids, ["GPL-2.0-only", "MIT"]);
        for bad in [
            "MIT OR",
            "MIT/Apache-2.0",
            "NOPE",
            "(MIT",
            "MIT AND AND BSD-3-Clause",
            "",
        ] {
            assert!(
                spdx::Expression::parse_mode(bad, super::SPDX_MODE).is_err(),
                "{bad}"
            );
        }
    }
}
