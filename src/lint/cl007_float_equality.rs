//! CL007: `==` or `!=` against a float literal.

use super::{Finding, Level, Lint, LintContext};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, UnaryOp};

pub(super) const LINT: Lint = Lint {
    code: "CL007",
    name: "float-equality",
    level: Level::Warning,
    summary: "`==` or `!=` against a float literal",
    doc: r#"
### What it finds
An equality comparison with a literal that has a fraction, such as
`evidence.metrics.error_rate == 0.1`.

### Why it matters
Measured values are floats computed by other programs: `0.1 + 0.2` is not
`0.3`. An exact comparison flips on rounding noise, so the gate is flaky.

### Example
```
require evidence.metrics.error_rate == 0.01
```

### Instead
```
require evidence.metrics.error_rate <= 0.01
```

### How to fix
Compare with `<=`/`>=` against a threshold, or compare integers (basis
points, milliseconds) when the evidence has them.
"#,
    check,
};

fn is_float_literal(e: &Expr) -> bool {
    match &e.unparen().kind {
        ExprKind::Float(f) => f.fract() != 0.0,
        ExprKind::Unary(UnaryOp::Neg, inner) => is_float_literal(inner),
        _ => false,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    super::for_each_expr(ctx.program, &mut |e| {
        if let ExprKind::Binary(op @ (BinaryOp::Eq | BinaryOp::Ne), l, r) = &e.kind {
            if is_float_literal(l) || is_float_literal(r) {
                out.push(Finding::new(
                    &LINT,
                    e.span,
                    format!("`{}` against a float literal", op.symbol()),
                    "exact comparison of floats",
                    "compare against a threshold with `<=` or `>=`",
                ));
            }
        }
    });
}
