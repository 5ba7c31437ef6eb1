//! CL012: the last stage of the path declares no rollback triggers.

use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL012",
    name: "final-stage-without-rollback",
    level: Level::Warning,
    summary: "the final stage (where promotions end) has no rollback triggers",
    doc: r#"
### What it finds
A stage with no outgoing edge (the end of the promotion path, usually `prod`)
that declares no `rollback` triggers.

### Why it matters
A contract says what makes the next stage roll back, not only what lets an
artifact in. Without triggers, `clearance rollback --stage prod` has nothing
to decide and the release has no stated exit.

### Example
```
stages staging -> prod
stage prod { purpose "serves customers" }
```

### Instead
```
stage prod {
  purpose "serves customers"
  rollback error-rate {
    title "error rate stays under 1%"
    require evidence.metrics.error_rate <= 0.01
  }
}
```

### How to fix
Declare triggers over the live metrics that show a bad release. In a policy
that deliberately leaves rollback to another file, write `# lint: allow CL012`.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let p = ctx.program;
    for stage in &p.stages {
        let is_final = !p.edges.iter().any(|(from, _)| *from == stage.name);
        let is_target = p.edges.iter().any(|(_, to)| *to == stage.name);
        if is_final && is_target && stage.triggers.is_empty() {
            out.push(Finding::new(
                &LINT,
                stage.span,
                format!("final stage `{}` has no rollback triggers", stage.name),
                "no `rollback` trigger",
                format!(
                    "add `stage {} {{ rollback NAME {{ require ... }} }}`",
                    stage.name
                ),
            ));
        }
    }
}
