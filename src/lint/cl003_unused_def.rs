//! CL003: a `def` nothing calls.

use super::scope::DeclKind;
use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL003",
    name: "unused-def",
    level: Level::Warning,
    summary: "a `def` helper that nothing calls",
    doc: r#"
### What it finds
A `def` that no rule, `let` or other `def` calls.

### Why it matters
Dead helpers rot: they stop matching the evidence shape and mislead the next
reader into thinking a check exists.

### Example
```
def approvers(approvals) = [a.user for a in approvals if a.role == "release-manager"]
gate staging -> prod {
  rule approved { require count(evidence.approvals) >= 2 }
}
```

### Instead
```
def approvers(approvals) = [a.user for a in approvals if a.role == "release-manager"]
gate staging -> prod {
  rule approved { require count(distinct(approvers(evidence.approvals))) >= 2 }
}
```

### How to fix
Call the helper where it was meant to be used, or remove it. Helpers shared
by several policies belong in an imported file; this lint only fires for
helpers unused by the policy being linted, so lint the importing policies.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for d in ctx.scope.decls.iter().filter(|d| d.kind == DeclKind::Def) {
        if ctx.scope.uses(d) == 0 {
            out.push(Finding::new(
                &LINT,
                d.span,
                format!("`def {}` is never called", d.name),
                "defined here, called nowhere",
                "call it, or remove it",
            ));
        }
    }
}
