//! Time: RFC 3339 instants, Unix epochs, and versions (Semantic Versioning 2.0).

use super::{checked, sig, Args, Builtin};
use crate::check::{ArgTy, Ty};
use crate::eval::error::EvalError;
use crate::eval::value::Value;
use jiff::Timestamp;
use std::rc::Rc;

pub(super) fn builtins() -> Vec<Builtin> {
    vec![
        Builtin {
            sig: checked(sig("time", &[("text", ArgTy::Any)], 0, Ty::Time), |_, s| {
                parse_time(s).map(|_| ())
            }),
            doc: "The instant an RFC 3339 timestamp names (`2026-11-20T12:00:00Z`, `2026-11-20T13:00:00+01:00`). Offsets are honoured: times compare as instants. A time is returned unchanged. Anything else is an error naming the string.\n\n    time(evidence.promotion.requested_at) - time(staging.deployed_at) >= 24h",
            run: time,
        },
        Builtin {
            sig: sig("time_unix", &[("seconds", ArgTy::StrOrNum)], 0, Ty::Time),
            doc: "The instant `seconds` after the Unix epoch, from a number (fractions allowed) or a string of digits, as CI systems write them.\n\n    now - time_unix(evidence.build.finished) < 7d",
            run: time_unix,
        },
        Builtin {
            sig: checked(sig("semver", &[("version", ArgTy::Str)], 0, Ty::Version), |_, s| {
                parse_version(s).map(|_| ())
            }),
            doc: "A version compared by Semantic Versioning 2.0 precedence: `1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0`; build metadata (`+build.5`) is ignored by comparisons. A leading `v` is accepted. Fields: `.major`, `.minor`, `.patch` (numbers), `.pre`, `.build` (strings). An invalid version is an error naming it.\n\n    semver(evidence.artifact.version) >= semver(evidence.stages.prod.version)",
            run: semver_fn,
        },
    ]
}

/// Parses RFC 3339 with an offset; the error says what was wrong.
pub(crate) fn parse_time(s: &str) -> Result<Timestamp, String> {
    parse_rfc3339(s).map_err(|e| {
        let hint = if s.len() == 10 && s.chars().filter(|c| *c == '-').count() == 2 {
            " (a date alone has no time zone; write e.g. `2026-11-20T00:00:00Z`)"
        } else {
            ""
        };
        format!("`{s}` is not an RFC 3339 time: {e}{hint}")
    })
}

/// A timestamp exactly as RFC 3339 writes one: what jiff accepts, with the
/// offset held to RFC 3339's own grammar (`Z`, or `+HH:MM` / `-HH:MM` with
/// hours 00-23 and minutes 00-59; jiff alone would take `+25:00`). Used for
/// `--now`, `time()`, waiver expiries and schema checks alike.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, String> {
    let t = s.parse::<Timestamp>().map_err(|e| e.to_string())?;
    if s.ends_with(['Z', 'z']) {
        return Ok(t);
    }
    let offset = s.get(s.len().saturating_sub(6)..).unwrap_or("").as_bytes();
    let digits = |i: usize| -> Option<u32> {
        let hi = char::from(*offset.get(i)?).to_digit(10)?;
        let lo = char::from(*offset.get(i + 1)?).to_digit(10)?;
        Some(hi * 10 + lo)
    };
    let valid = matches!(offset.first(), Some(b'+' | b'-'))
        && offset.get(3) == Some(&b':')
        && digits(1).is_some_and(|h| h <= 23)
        && digits(4).is_some_and(|m| m <= 59);
    if valid {
        Ok(t)
    } else {
        Err("the offset must be `Z` or `+HH:MM`/`-HH:MM` with hours 00-23 and minutes 00-59 (RFC 3339)".into())
    }
}

fn time(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.get(0)? {
        Value::Time(t) => Ok(Value::Time(*t)),
        Value::Str(s) => parse_time(s).map(Value::Time).map_err(|m| a.invalid(0, m)),
        _ => Err(a.type_error(0, "string (RFC 3339)")),
    }
}

fn time_unix(a: &Args<'_>) -> Result<Value, EvalError> {
    let out_of_range = |what: String| a.invalid(0, format!("{what} is out of the range of times"));
    match a.get(0)? {
        Value::Int(n) => Timestamp::from_second(*n)
            .map(Value::Time)
            .map_err(|_| out_of_range(n.to_string())),
        Value::Float(f) => {
            let nanos = (f * 1e9).round();
            if !nanos.is_finite() || nanos.abs() > 9.0e27 {
                return Err(out_of_range(f.to_string()));
            }
            Timestamp::from_nanosecond(nanos as i128)
                .map(Value::Time)
                .map_err(|_| out_of_range(f.to_string()))
        }
        Value::Str(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(a.invalid(0, format!("`{s}` is not a number of seconds")));
            }
            let n: i64 = s.parse().map_err(|_| out_of_range(s.to_string()))?;
            Timestamp::from_second(n)
                .map(Value::Time)
                .map_err(|_| out_of_range(s.to_string()))
        }
        _ => Err(a.type_error(0, "number or string of digits")),
    }
}

pub(crate) fn parse_version(s: &str) -> Result<semver::Version, String> {
    let trimmed = s.strip_prefix('v').unwrap_or(s);
    semver::Version::parse(trimmed).map_err(|e| {
        // The semver crate says where its parser stopped ("while parsing
        // minor version number" for `1.2`, whose minor is there): name the
        // part that is missing instead, when that is what is wrong.
        let core = trimmed.split(['-', '+']).next().unwrap_or("");
        let parts: Vec<&str> = core.split('.').collect();
        let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        match parts.as_slice() {
            [major] if numeric(major) => format!(
                "`{s}` is not a semantic version: it has no MINOR and PATCH parts (MAJOR.MINOR.PATCH, e.g. `{major}.0.0`)"
            ),
            [major, minor] if numeric(major) && numeric(minor) => format!(
                "`{s}` is not a semantic version: it has no PATCH part (MAJOR.MINOR.PATCH, e.g. `{major}.{minor}.0`)"
            ),
            _ => format!("`{s}` is not a semantic version (MAJOR.MINOR.PATCH): {e}"),
        }
    })
}

fn semver_fn(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.get(0)? {
        Value::Version(v) => Ok(Value::Version(v.clone())),
        Value::Str(s) => parse_version(s)
            .map(|v| Value::Version(Rc::new(v)))
            .map_err(|m| a.invalid(0, m)),
        _ => Err(a.type_error(0, "string")),
    }
}

#[cfg(test)]
mod version_tests {
    /// A version short of a part names the part (the semver crate names the
    /// part its parser was reading, which for `1.2` is not the missing one).
    #[test]
    fn a_missing_part_is_named() {
        let err = |s: &str| super::parse_version(s).expect_err(s);
        assert!(
            err("1.2").contains("it has no PATCH part"),
            "{}",
            err("1.2")
        );
        assert!(err("v1.2").contains("e.g. `1.2.0`"), "{}", err("v1.2"));
        assert!(
            err("7").contains("no MINOR and PATCH parts"),
            "{}",
            err("7")
        );
        assert!(
            err("1.2.x").contains("(MAJOR.MINOR.PATCH)"),
            "{}",
            err("1.2.x")
        );
        assert!(super::parse_version("v1.2.3-rc.1").is_ok());
    }
}
