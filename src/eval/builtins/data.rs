//! Evidence as CI writes it: JSON held in strings.

use super::{sig, Args, Builtin};
use crate::check::{ArgTy, Ty};
use crate::eval::error::EvalError;
use crate::eval::value::{parse_json, Value};

pub(super) fn builtins() -> Vec<Builtin> {
    vec![Builtin {
        sig: sig("json", &[("text", ArgTy::Str)], 0, Ty::Unknown),
        doc: "The value of a string that holds JSON (Tekton task results, GitHub step outputs). A string that is not JSON is an error naming it; the same limits as evidence files apply.\n\n    json(evidence.taskrun.results.TEST_OUTPUT).failures == 0",
        run: json,
    }]
}

fn json(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    // Values take about as many bytes as the JSON text they come from (more
    // for `[[],[]]`): one step a byte of text, charged before parsing.
    a.budget.charge(text.len() as u64, a.call)?;
    let limits = crate::eval::LoadLimits {
        max_depth: a.cache.limits.evidence_depth,
        max_string: a.cache.limits.string_bytes,
    };
    parse_json(text, limits).map_err(|e| {
        a.invalid(
            0,
            format!("{} is not JSON: {e}", Value::str(text).short(60)),
        )
    })
}
