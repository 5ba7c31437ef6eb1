//! CL017: two rules of one gate that check the same thing.

use super::{Finding, Level, Lint, LintContext};

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
        for (i, r) in rules.iter().enumerate() {
            let twin = rules
                .iter()
                .take(i)
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
        }
    }
}
