//! CL018: a quantifier or `count` over evidence defaulted with `?? []` or
//! `?? {}`: missing evidence then passes instead of erroring.

use super::{all_rules, Finding, Level, Lint, LintContext};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, QuantKind};

pub(super) const LINT: Lint = Lint {
    code: "CL018",
    name: "defaulted-collection",
    level: Level::Error,
    summary: "`none`, `all` or `count` over `EVIDENCE ?? []` (or `?? {}`): missing evidence passes",
    doc: r#"
### What it finds
A quantifier (`all`, `none`, `any`) or `count(...)` whose collection is
evidence with an empty default: `evidence.x ?? []` or `evidence.x ?? {}`.

### Why it matters
Missing evidence is an error in Clearance, which denies: that is what makes
a gate fail closed. The `?? []` default turns "the SBOM is missing" into
"the SBOM has no vulnerabilities": `none v in evidence.bom.vulnerabilities
?? []: v.severity == "critical"` allows a bundle that has no SBOM at all.
The report notes that the `none` held over nothing, but nobody has to read
it for the promotion to go through.

### Example
```
rule no-critical-cves {
  require none v in evidence.bom.vulnerabilities ?? []: v.severity == "critical"
}
```

### Instead
```
rule no-critical-cves {
  require exists evidence.bom.vulnerabilities
  require none v in evidence.bom.vulnerabilities: v.severity == "critical"
}
```

### How to fix
Drop the default, so missing evidence is an `error` (it denies), or keep it
only where the field is legitimately optional and add `require exists ...`
on the part that must be there (the SBOM itself). Allow the lint in a file
with `# lint: allow CL018` only when an absent collection really means empty.
"#,
    check,
};

/// `evidence.x ?? []` or `?? {}`: the evidence read, and the empty default.
fn defaulted_evidence(e: &Expr) -> Option<(&Expr, &'static str)> {
    let ExprKind::Binary(BinaryOp::Coalesce, l, r) = &e.unparen().kind else {
        return None;
    };
    let empty = match &r.unparen().kind {
        ExprKind::List(items) if items.is_empty() => "[]",
        ExprKind::Object(entries) if entries.is_empty() => "{}",
        _ => return None,
    };
    let mut reads_evidence = false;
    l.walk(&mut |x| {
        if matches!(&x.kind, ExprKind::Name(n) if n == "evidence") {
            reads_evidence = true;
        }
    });
    reads_evidence.then_some((l.as_ref(), empty))
}

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let src = &ctx.program.sources;
    for r in all_rules(ctx.program) {
        for c in r.whens.iter().chain(&r.requires) {
            c.walk(&mut |x| {
                let (what, collection) = match &x.kind {
                    ExprKind::Quantifier(q) => (
                        match q.kind {
                            QuantKind::All => "all",
                            QuantKind::Any => "any",
                            QuantKind::None => "none",
                        },
                        q.collection.as_ref(),
                    ),
                    ExprKind::Call(name, args) if name.name == "count" && args.len() == 1 => {
                        ("count", &args[0])
                    }
                    _ => return,
                };
                let Some((read, empty)) = defaulted_evidence(collection) else {
                    return;
                };
                let text = src.snippet(read.span);
                let effect = match what {
                    "none" | "all" => "holds",
                    "any" => "is false",
                    _ => "is 0",
                };
                out.push(Finding::new(
                    &LINT,
                    collection.span,
                    format!(
                        "`{what}` over `{text} ?? {empty}` {effect} when `{text}` is missing: missing evidence reads as empty instead of an error that denies"
                    ),
                    format!("missing reads as `{empty}`"),
                    format!(
                        "drop `?? {empty}` so a missing `{text}` is an error, or add `require exists {text}`"
                    ),
                ));
            });
        }
    }
}
