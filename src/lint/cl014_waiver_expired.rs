//! CL014: a waiver past its expiry.

use super::{Finding, Level, Lint, LintContext};
use crate::check::waiver_expiry;

pub(super) const LINT: Lint = Lint {
    code: "CL014",
    name: "waiver-expired",
    level: Level::Warning,
    summary: "a waiver whose expiry has passed",
    doc: r#"
### What it finds
A `waive` line whose expiry is before `now`.

### Why it matters
An expired waiver is ignored: its rule blocks again. Keeping it suggests the
exception still holds and clutters the audit trail.

### Example
```
waive staging -> prod no-critical until 2025-01-31 reason "CVE-2024-1, SEC-7"
```

### How to fix
Remove it, or, if the exception must continue, renew it with a new date and
reason after review.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for w in &ctx.program.waivers {
        if waiver_expiry(&w.until.value).is_ok_and(|end| end <= ctx.now) {
            out.push(Finding::new(
                &LINT,
                w.until.span,
                format!(
                    "the waiver for `{}` has expired and is ignored",
                    w.rule.name
                ),
                "expired",
                "remove it, or renew it on purpose with a new date and reason",
            ));
        }
    }
}
