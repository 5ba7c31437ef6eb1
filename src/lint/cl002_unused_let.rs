//! CL002: a `let` nothing reads.

use super::scope::DeclKind;
use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL002",
    name: "unused-let",
    level: Level::Warning,
    summary: "a `let` binding that nothing reads",
    doc: r#"
### What it finds
A `let` (at file, gate or rule level) whose name is never used.

### Why it matters
An unused binding usually means a condition that was meant to use it reads
something else, so the rule checks less than its author thinks.

### Example
```
rule same-artifact {
  let staging_digest = evidence.stages.staging.artifact.digest
  require evidence.artifact.digest == evidence.stages.prod.artifact.digest
}
```

### Instead
```
rule same-artifact {
  let staging_digest = evidence.stages.staging.artifact.digest
  require evidence.artifact.digest == staging_digest
}
```

### How to fix
Use the binding, or remove it.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for d in ctx.scope.decls.iter().filter(|d| d.kind == DeclKind::Let) {
        if ctx.scope.uses(d) == 0 {
            out.push(Finding::new(
                &LINT,
                d.span,
                format!("`let {}` is never used", d.name),
                "bound here, read nowhere",
                "use it in a condition, or remove it",
            ));
        }
    }
}
