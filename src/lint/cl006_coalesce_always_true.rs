//! CL006: a `require` that a `??` default makes pass when evidence is missing.

use super::fold::{fold, Missing};
use super::{all_rules, Finding, Level, Lint, LintContext};
use crate::eval::Value;
use crate::syntax::ast::{BinaryOp, ExprKind};

pub(super) const LINT: Lint = Lint {
    code: "CL006",
    name: "coalesce-always-true",
    level: Level::Error,
    summary: "a `require` that holds whenever the evidence behind a `??` is missing",
    doc: r#"
### What it finds
A `require` that, if the evidence read on the left of a `??` is missing,
folds to `true` because of the default on the right.

### Why it matters
Clearance fails closed: missing evidence is an `error` that blocks. A `??`
default turns that around. `require evidence.tests.failed ?? 0 == 0` passes
when the test report was never uploaded, which is exactly when it should not.

### Example
```
rule suites-green {
  require (evidence.tests.failed ?? 0) == 0
}
```

### Instead
```
rule suites-green {
  require evidence.tests.failed == 0
}
```

### How to fix
Drop the default so missing evidence is an error, or choose a default that
fails (`?? 1`). `??` is for optional fields whose absence is fine, such as
`c.vulnerabilities ?? []` where a component with no list has none.
"#,
    check,
};

fn has_coalesce(e: &crate::syntax::ast::Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if matches!(x.kind, ExprKind::Binary(BinaryOp::Coalesce, _, _)) {
            found = true;
        }
    });
    found
}

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for r in all_rules(ctx.program) {
        for e in &r.requires {
            if !has_coalesce(e) {
                continue;
            }
            // Constant either way is CL005's business.
            if fold(ctx.program, e, Missing::Unknown).is_some() {
                continue;
            }
            if let Some(Value::Bool(true)) = fold(ctx.program, e, Missing::Assume) {
                out.push(Finding::new(
                    &LINT,
                    e.span,
                    "this `require` passes when the evidence behind `??` is missing".into(),
                    "true whenever the `??` default is used",
                    "drop the default so missing evidence fails closed, or pick a default that fails",
                ));
            }
        }
    }
}
