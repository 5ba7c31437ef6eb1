//! CL009: a binding that hides another of the same name.

use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL009",
    name: "shadowed-name",
    level: Level::Warning,
    summary: "a name that shadows another (a `let`, variable or parameter hiding an outer one)",
    doc: r#"
### What it finds
A rule-level `let`, a quantifier or comprehension variable, or a `def`
parameter with the same name as a binding in an enclosing scope.

### Why it matters
Inside the inner scope the outer value is unreachable; a reader (or a later
edit) that means the outer one reads the inner one.

### Example
```
let staging = evidence.stages.staging
gate staging -> prod {
  rule healthy {
    require all staging in evidence.clusters: staging.ready
  }
}
```

### Instead
```
require all cluster in evidence.clusters: cluster.ready
```

### How to fix
Rename the inner binding.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for (inner, outer) in &ctx.scope.shadows {
        let (file, line, _) = ctx.program.sources.location(outer.span);
        out.push(Finding::new(
            &LINT,
            inner.span,
            format!(
                "`{}` shadows the binding of the same name at {file}:{line}",
                inner.name
            ),
            "hides an outer binding",
            "rename it",
        ));
    }
}
