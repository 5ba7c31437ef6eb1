//! CL004: a rule or trigger without a `title`.

use super::{all_rules, Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL004",
    name: "missing-title",
    level: Level::Warning,
    summary: "a rule or rollback trigger without a `title`",
    doc: r#"
### What it finds
A `rule` or `rollback` trigger that has no `title`.

### Why it matters
The title is the first line of every diagnostic, of `clearance explain`, and
of the CI annotation. Without it, the person whose promotion was denied sees
only a kebab-case name.

### Example
```
rule suites-green {
  require all s in evidence.tests.suites: s.failed == 0
}
```

### Instead
```
rule suites-green {
  title "every test suite passed"
  require all s in evidence.tests.suites: s.failed == 0
}
```

### How to fix
Add `title "..."` saying, in words, what must be true.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for r in all_rules(ctx.program).filter(|r| r.title.is_none()) {
        out.push(Finding::new(
            &LINT,
            r.name.span,
            format!("`{}` has no title", r.name.name),
            "no `title`",
            "add `title \"...\"`: it heads every diagnostic and CI annotation",
        ));
    }
}
