//! CL001: a `param` nothing reads.

use super::scope::DeclKind;
use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL001",
    name: "unused-param",
    level: Level::Warning,
    summary: "a `param` that no rule, `let` or `def` reads",
    doc: r#"
### What it finds
A `param` declared in the policy (or an import) that nothing reads.

### Why it matters
Params are the knobs reviewers expect to change behaviour. A param nothing
reads suggests a rule was deleted or renamed, and `--param name=...` on the
command line silently does nothing.

### Example
```
param min_coverage = 80
gate staging -> prod {
  rule coverage { require evidence.tests.coverage >= 80 }
}
```

### Instead
```
param min_coverage = 80
gate staging -> prod {
  rule coverage { require evidence.tests.coverage >= min_coverage }
}
```

### How to fix
Use the param where its value is meant to apply, or remove it.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for d in ctx.scope.decls.iter().filter(|d| d.kind == DeclKind::Param) {
        if ctx.scope.uses(d) == 0 {
            out.push(Finding::new(
                &LINT,
                d.span,
                format!("param `{}` is never used", d.name),
                "declared here, read nowhere",
                "use it in a rule, or remove it (a `--param` for it would change nothing)",
            ));
        }
    }
}
