//! CL005: a `when` or `require` whose value never depends on evidence.

use super::fold::{fold, Missing};
use super::{all_rules, Finding, Level, Lint, LintContext};
use crate::eval::Value;

pub(super) const LINT: Lint = Lint {
    code: "CL005",
    name: "constant-condition",
    level: Level::Error,
    summary: "a condition that is always true or always false (literals and params folded)",
    doc: r#"
### What it finds
A `require` or `when` whose value is the same whatever the evidence: it
folds to `true` or `false` from literals and params at their defaults.

### Why it matters
A `require` that is always true can never fail: the rule guards nothing. One
that is always false denies every promotion. A `when` that is always false
skips the rule forever.

### Example
```
param strict = false
rule coverage {
  require strict or evidence.tests.coverage >= 80
}
```
(with `strict = true` it would be a constant `true`)
```
rule placeholder { require true }
```

### Instead
```
rule coverage {
  require evidence.tests.coverage >= min_coverage
}
```

### How to fix
Make the condition read evidence, or remove the rule. If a param is meant to
switch a rule off, use `when` on a param and say so in the `help`.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for r in all_rules(ctx.program) {
        for (clause, e) in r
            .whens
            .iter()
            .map(|e| ("when", e))
            .chain(r.requires.iter().map(|e| ("require", e)))
        {
            if let Some(Value::Bool(b)) = fold(ctx.program, e, Missing::Unknown) {
                let effect = match (clause, b) {
                    ("require", true) => "the rule can never fail",
                    ("require", false) => "the rule always fails",
                    (_, true) => "the guard never skips the rule",
                    _ => "the rule is always skipped",
                };
                out.push(Finding::new(
                    &LINT,
                    e.span,
                    format!("this `{clause}` is always {b}: {effect}"),
                    format!("always {b}"),
                    "make the condition read evidence, or remove it",
                ));
            }
        }
    }
}
