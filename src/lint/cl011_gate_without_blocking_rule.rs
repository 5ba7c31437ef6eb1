//! CL011: a gate in which nothing can block.

use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL011",
    name: "gate-without-blocking-rule",
    level: Level::Warning,
    summary: "a gate with no blocking (non-advisory) rule",
    doc: r#"
### What it finds
A `gate` whose rules are all `advisory`, or that has no rules.

### Why it matters
Such a gate always allows the promotion: it reports, but guards nothing.

### Example
```
gate staging -> prod {
  rule healthy advisory { require evidence.staging.error_rate < 0.01 }
}
```

### Instead
```
gate staging -> prod {
  rule same-artifact { require evidence.artifact.digest == evidence.stages.staging.digest }
  rule healthy advisory { require evidence.staging.error_rate < 0.01 }
}
```

### How to fix
Add at least one blocking rule, or make an advisory rule blocking.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for g in &ctx.program.gates {
        if g.rules.iter().all(|r| r.advisory) {
            out.push(Finding::new(
                &LINT,
                g.from.span.to(g.to.span),
                format!("gate `{}` can never deny a promotion", g.label()),
                "no blocking rule",
                "add a rule that is not `advisory`",
            ));
        }
    }
}
