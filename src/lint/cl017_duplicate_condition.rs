//! CL017: two rules of one gate that check the same thing.

use super::{Finding, Level, Lint, LintContext};
use crate::syntax::ast::{Expr, ExprKind, RuleDecl};
use std::collections::HashMap;

pub(super) const LINT: Lint = Lint {
    code: "CL017",
    name: "duplicate-condition",
    level: Level::Warning,
    summary: "two rules in one gate with the same conditions",
    doc: r#"
### What it finds
Two rules in the same gate (or two triggers of one stage) whose `when` and
`require` conditions are the same (compared as syntax trees, so spacing and
comments do not matter).

### Why it matters
One failure shows up twice, and when someone fixes one copy the other keeps
the old meaning. It is usually a copy-paste that was meant to be edited.

### Example
```
rule coverage { require evidence.tests.coverage >= 80 }
rule coverage-floor { require evidence.tests.coverage >= 80 }
```

### How to fix
Remove one, or make it check what it was meant to check.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let blocks = ctx
        .program
        .gates
        .iter()
        .map(|g| &g.rules)
        .chain(ctx.program.stages.iter().map(|s| &s.triggers));
    for rules in blocks {
        // Rules are compared only with earlier rules of the same
        // fingerprint: comparing every pair made a gate of 5,000 rules take
        // tens of seconds to lint.
        let mut seen: HashMap<u64, Vec<&RuleDecl>> = HashMap::new();
        for r in rules {
            let earlier = seen.entry(fingerprint(r)).or_default();
            let twin = earlier
                .iter()
                .find(|o| o.requires == r.requires && o.whens == r.whens && o.lets == r.lets);
            if let Some(first) = twin {
                out.push(Finding::new(
                    &LINT,
                    r.name.span,
                    format!(
                        "`{}` checks exactly what `{}` checks",
                        r.name.name, first.name.name
                    ),
                    "same conditions",
                    "remove one, or make it check what it was meant to",
                ));
            }
            earlier.push(r);
        }
    }
}

/// A hash of what rule equality compares (the shape of its conditions and
/// `let`s, their names and literal values; never spans): rules that are
/// equal have the same fingerprint.
fn fingerprint(rule: &RuleDecl) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let expr = |e: &Expr, h: &mut std::collections::hash_map::DefaultHasher| {
        e.walk(&mut |node| {
            std::mem::discriminant(&node.kind).hash(h);
            match &node.kind {
                ExprKind::Name(s) | ExprKind::Str(s) => s.hash(h),
                ExprKind::Int(i) => i.hash(h),
                ExprKind::Field(_, f) => f.name.hash(h),
                ExprKind::Call(f, _) => f.name.hash(h),
                _ => {}
            }
        });
    };
    for (part, exprs) in [(0u8, &rule.requires), (1, &rule.whens)] {
        part.hash(&mut h);
        exprs.len().hash(&mut h);
        for e in exprs {
            expr(e, &mut h);
        }
    }
    rule.lets.len().hash(&mut h);
    for l in &rule.lets {
        l.name.name.hash(&mut h);
        expr(&l.value, &mut h);
    }
    h.finish()
}
