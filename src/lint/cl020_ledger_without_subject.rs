//! CL020: a rule reads `ledger` where no subject says whose history it is.

use super::{Finding, Level, Lint, LintContext};
use crate::check::Resolved;
use crate::syntax::ast::{Expr, ExprKind, RuleDecl};
use crate::syntax::Span;

pub(super) const LINT: Lint = Lint {
    code: "CL020",
    name: "ledger-without-subject",
    level: Level::Warning,
    summary: "`ledger` read in a gate without a `subject`, or in a rollback trigger",
    doc: r#"
### What it finds
A gate rule that reads `ledger` in a gate that declares no `subject`, or a
rollback trigger that reads `ledger`.

### Why it matters
`ledger.decisions` holds the signed history of the gate's subject, and
only of it: without a subject there is no history to read, so the rule is
an error at every run and the promotion is always denied. The same holds
in a run without `--ledger` and `--ledger-trust` (fail closed), which this
lint cannot see: pass both in CI wherever the policy reads `ledger`.

### Example
```
gate staging -> prod {
  rule cleared-staging {
    require any d in ledger.decisions: d.gate == "dev -> staging" and d.verdict == "allowed"
  }
}
```

### Instead
```
gate staging -> prod {
  subject evidence.artifact.digest
  rule cleared-staging {
    require any d in ledger.decisions: d.gate == "dev -> staging" and d.verdict == "allowed"
  }
}
```

### How to fix
Declare the gate's `subject`, and run `check` with `--ledger LEDGER
--ledger-trust PUB.pem`.
"#,
    check,
};

/// The first use of `ledger` in `rules` or `lets`.
fn first_use<'a>(ctx: &LintContext<'_>, exprs: impl Iterator<Item = &'a Expr>) -> Option<Span> {
    let mut found = None;
    for e in exprs {
        e.walk(&mut |x| {
            if found.is_none()
                && matches!(x.kind, ExprKind::Name(_))
                && matches!(ctx.program.resolution.of(x.span), Some(Resolved::Ledger))
            {
                found = Some(x.span);
            }
        });
    }
    found
}

fn rule_exprs(r: &RuleDecl) -> impl Iterator<Item = &Expr> {
    r.lets
        .iter()
        .map(|l| &l.value)
        .chain(r.whens.iter())
        .chain(r.requires.iter())
}

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for g in ctx.program.gates.iter().filter(|g| g.subject.is_none()) {
        let exprs = g
            .lets
            .iter()
            .map(|l| &l.value)
            .chain(g.rules.iter().flat_map(rule_exprs));
        if let Some(at) = first_use(ctx, exprs) {
            out.push(Finding::new(
                &LINT,
                at,
                format!(
                    "gate `{}` reads `ledger` but declares no `subject`: there is no history to read, so this rule errors at every run",
                    g.label()
                ),
                "whose history?",
                "declare `subject EXPR` in the gate (the digest whose decisions `ledger.decisions` lists)",
            ));
        }
    }
    for s in &ctx.program.stages {
        let exprs = s
            .lets
            .iter()
            .map(|l| &l.value)
            .chain(s.triggers.iter().flat_map(rule_exprs));
        if let Some(at) = first_use(ctx, exprs) {
            out.push(Finding::new(
                &LINT,
                at,
                format!(
                    "stage `{}` reads `ledger` in a rollback trigger, where there is no subject: the trigger errors (and fires) at every run",
                    s.name
                ),
                "no subject here",
                "read the ledger in a gate with a `subject`; rollback triggers read live metrics",
            ));
        }
    }
}
