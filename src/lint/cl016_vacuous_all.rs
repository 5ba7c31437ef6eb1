//! CL016: `all` over evidence with no check that there is anything to check.

use super::{all_rules, Finding, Level, Lint, LintContext};
use crate::syntax::ast::{Expr, ExprKind, QuantKind};

pub(super) const LINT: Lint = Lint {
    code: "CL016",
    name: "vacuous-all",
    level: Level::Warning,
    summary:
        "`all` over evidence with no non-empty check in the same rule (the vacuous-green trap)",
    doc: r#"
### What it finds
A rule with `all x in <evidence>: ...` and no condition in the same rule that
the collection is non-empty (`count(...) > 0`, `any ... in ...`, a `when`
over its count, or a check that named elements are present).

### Why it matters
`all` over an empty list is true. If CI uploads an empty report, or the field
moves, the rule passes over zero tests: the gate is green and proves nothing.
Clearance notes vacuous passes in the report, but a policy should not rely on
someone reading a note.

### Example
```
rule suites-green {
  require all s in evidence.tests.suites: s.failed == 0
}
```

### Instead
```
rule suites-green {
  require count(evidence.tests.suites) > 0
  require all s in evidence.tests.suites: s.failed == 0
}
```

### How to fix
Add `require count(<collection>) > 0` (or a stronger check, such as the
required suite names being present) to the same rule.
"#,
    check,
};

/// The text of the collection a quantifier reads, if it reads evidence.
fn mentions_evidence(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if matches!(&x.kind, ExprKind::Name(n) if n == "evidence") {
            found = true;
        }
    });
    found
}

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let src = &ctx.program.sources;
    for r in all_rules(ctx.program) {
        let conditions: Vec<&Expr> = r.whens.iter().chain(&r.requires).collect();
        let mut alls: Vec<&Expr> = Vec::new();
        for c in &conditions {
            c.walk(&mut |x| {
                if let ExprKind::Quantifier(q) = &x.kind {
                    if q.kind == QuantKind::All && mentions_evidence(&q.collection) {
                        alls.push(&q.collection);
                    }
                }
            });
        }
        for coll in alls {
            let text = src.snippet(coll.span);
            // A non-empty check: another condition that mentions the same collection
            // outside an `all` (count(...), any ... in ..., exists ..., [.. for .. in ..]).
            let guarded = conditions.iter().any(|c| {
                let mut hit = false;
                c.walk(&mut |x| match &x.kind {
                    ExprKind::Call(name, args) if name.name == "count" => {
                        hit |= args.iter().any(|a| src.snippet(a.span).contains(text));
                    }
                    ExprKind::Quantifier(q) if q.kind != QuantKind::All => {
                        hit |= src.snippet(q.collection.span) == text;
                    }
                    ExprKind::Comprehension(cmp) => {
                        hit |= src.snippet(cmp.collection.span) == text;
                    }
                    _ => {}
                });
                hit
            });
            if !guarded {
                out.push(Finding::new(
                    &LINT,
                    coll.span,
                    format!("`all` over `{text}` holds when it is empty"),
                    "may be empty",
                    format!("add `require count({text}) > 0` to this rule"),
                ));
            }
        }
    }
}
