//! CL019: a gate meant to be signed or recorded that does not say what its
//! decision is about.

use super::{Finding, Level, Lint, LintContext};

pub(super) const LINT: Lint = Lint {
    code: "CL019",
    name: "gate-without-subject",
    level: Level::Warning,
    summary: "a gate that claims verified levels, or sits among gates that declare a subject, without a `subject`",
    doc: r#"
### What it finds
A `gate` without a `subject` that either declares a `level` (a claim only
a signed Verification Summary makes), or belongs to a policy whose other
gates declare a `subject` (the promotion path is signed, this step is not).

### Why it matters
Signed outputs (`--output vsa=`, `--output attestation=`) and the ledger's
`--record` need to know which artifact a decision is about. Without a
`subject` they stop with exit 2, so the gate's decision cannot be proven
to the next stage; the chain of trust has a missing link.

### Example
```
gate staging -> prod {
  level "SLSA_BUILD_LEVEL_3"
  rule same-artifact { require evidence.artifact.digest == evidence.staging.digest }
}
```

### Instead
```
gate staging -> prod {
  subject evidence.artifact.digest
  level "SLSA_BUILD_LEVEL_3"
  rule same-artifact { require evidence.artifact.digest == evidence.staging.digest }
}
```

### How to fix
Declare the digest the gate decides about with `subject EXPR`: a
`sha256:` digest, `{name, digest}`, or a list of these.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let signed_elsewhere = ctx.program.gates.iter().find(|g| g.subject.is_some());
    for g in ctx.program.gates.iter().filter(|g| g.subject.is_none()) {
        let span = g.from.span.to(g.to.span);
        if let Some(level) = g.levels.first() {
            out.push(Finding::new(
                &LINT,
                span,
                format!(
                    "gate `{}` claims {} in a signed summary, but declares no `subject` to sign it for",
                    g.label(),
                    level.value
                ),
                "no `subject`",
                "add `subject EXPR` naming the artifact's digest, e.g. `subject evidence.artifact.digest`",
            ));
        } else if let Some(other) = signed_elsewhere {
            out.push(Finding::new(
                &LINT,
                span,
                format!(
                    "gate `{}` declares no `subject`, while gate `{}` does: its decisions cannot be signed or recorded",
                    g.label(),
                    other.label()
                ),
                "no `subject`",
                "add `subject EXPR` naming the artifact's digest, e.g. `subject evidence.artifact.digest`",
            ));
        }
    }
}
