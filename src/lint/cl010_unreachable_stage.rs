//! CL010: a stage that a promotion path leads into but no gate guards.

use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL010",
    name: "ungated-stage",
    level: Level::Warning,
    summary: "a stage that no gate leads into",
    doc: r#"
### What it finds
A stage that has an incoming edge on the promotion path (it is not where the
path starts) but no `gate` leading into it.

### Why it matters
Without a gate, `clearance check` cannot be asked about promotions into that
stage: CI either skips the check or fails to find the gate. Every stage after
the first should have an entry contract.

### Example
```
stages dev -> staging -> prod
gate staging -> prod { ... }
```
(nothing guards `dev -> staging`)

### Instead
```
stages dev -> staging -> prod
gate dev -> staging { ... }
gate staging -> prod { ... }
```

### How to fix
Add a gate for the edge, even one with light rules for fast feedback.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let p = ctx.program;
    for stage in &p.stages {
        let has_incoming = p.edges.iter().any(|(_, to)| *to == stage.name);
        let gated = p.gates.iter().any(|g| g.to.name == stage.name);
        if has_incoming && !gated {
            let from: Vec<&str> = p
                .edges
                .iter()
                .filter(|(_, to)| *to == stage.name)
                .map(|(f, _)| f.as_str())
                .collect();
            out.push(Finding::new(
                &LINT,
                stage.span,
                format!("no gate leads into stage `{}`", stage.name),
                "no entry contract",
                format!(
                    "add `gate {} -> {} {{ ... }}`",
                    from.first().copied().unwrap_or("..."),
                    stage.name
                ),
            ));
        }
    }
}
