//! CL008: a comparison between values whose static types differ.

use super::{Finding, Level, Lint, LintContext};
use crate::check::{static_type_of_literal, Program, Ty};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind};

pub(super) const LINT: Lint = Lint {
    code: "CL008",
    name: "mixed-literal-comparison",
    level: Level::Error,
    summary: "`==`/`!=` between literals or params of different types",
    doc: r#"
### What it finds
`==` or `!=` where both sides are literals or params and their types differ,
such as `"80" == 80` or a string param compared with a number.

### Why it matters
Values of different types are never equal, so the comparison is constant:
`==` always false, `!=` always true. It is nearly always a quoting mistake.

### Example
```
param min_replicas = "3"
require min_replicas == 3
```

### Instead
```
param min_replicas = 3
require min_replicas == 3
```

### How to fix
Write both sides with the same type.
"#,
    check,
};

fn ty(program: &Program, e: &Expr) -> Ty {
    match &e.unparen().kind {
        ExprKind::Name(_) => program.param_of(e).map_or(Ty::Unknown, |p| p.ty),
        _ => static_type_of_literal(e),
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    super::for_each_expr(ctx.program, &mut |e| {
        if let ExprKind::Binary(op @ (BinaryOp::Eq | BinaryOp::Ne), l, r) = &e.kind {
            let (lt, rt) = (ty(ctx.program, l), ty(ctx.program, r));
            if lt.known() && rt.known() && lt != rt {
                out.push(Finding::new(
                    &LINT,
                    e.span,
                    format!(
                        "a {} is compared with a {}: `{}` is always {}",
                        lt.name(),
                        rt.name(),
                        op.symbol(),
                        *op == BinaryOp::Ne
                    ),
                    format!("{} {} {}", lt.name(), op.symbol(), rt.name()),
                    "write both sides with the same type",
                ));
            }
        }
    });
}
