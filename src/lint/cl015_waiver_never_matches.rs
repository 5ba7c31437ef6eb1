//! CL015: a waiver that can never apply.

use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL015",
    name: "waiver-never-matches",
    level: Level::Warning,
    summary: "a waiver that can never apply (advisory rule, or a second waiver for one rule)",
    doc: r#"
### What it finds
A `waive` line for an `advisory` rule (advisory rules never block, so there is
nothing to waive), or a second waiver for a rule that already has one (only
the first in force applies).

### Why it matters
A waiver is an audit record. One that cannot apply misleads the reader about
which exceptions are in force.

### Example
```
waive staging -> prod staging-healthy until 2026-12-31 reason "noisy dashboard"
```
where `staging-healthy` is advisory.

### How to fix
Remove the waiver, or merge duplicate waivers into one with the right date.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let p = ctx.program;
    for (i, w) in p.waivers.iter().enumerate() {
        let rule = p
            .gate(&w.from.name, &w.to.name)
            .and_then(|g| g.rules.iter().find(|r| r.name.name == w.rule.name));
        if rule.is_some_and(|r| r.advisory) {
            out.push(Finding::new(
                &LINT,
                w.rule.span,
                format!(
                    "`{}` is advisory: it never blocks, so this waiver never applies",
                    w.rule.name
                ),
                "advisory rule",
                "remove the waiver",
            ));
        }
        let earlier = p.waivers.iter().take(i).any(|o| {
            o.from.name == w.from.name && o.to.name == w.to.name && o.rule.name == w.rule.name
        });
        if earlier {
            out.push(Finding::new(
                &LINT,
                w.rule.span,
                format!(
                    "`{}` already has a waiver; this one applies only if that one has expired",
                    w.rule.name
                ),
                "second waiver",
                "keep one waiver per rule",
            ));
        }
    }
}
