//! CL013: a waiver that expires within 14 days.

use super::{Finding, Level, Lint, LintContext};
use crate::check::waiver_expiry;
use jiff::SignedDuration;

/// How far ahead an expiry counts as soon.
pub(crate) const SOON: SignedDuration = SignedDuration::from_hours(14 * 24);

pub(super) const LINT: Lint = Lint {
    code: "CL013",
    name: "waiver-expiring-soon",
    level: Level::Warning,
    summary: "a waiver that expires within 14 days",
    doc: r#"
### What it finds
A `waive` line whose expiry is less than 14 days after `now` (the `--now`
time of `clearance lint`, else the clock).

### Why it matters
When a waiver expires, its rule blocks promotions again, often on a release
day. A warning two weeks ahead gives the owner time to fix the cause or renew
the waiver on purpose.

### Example
```
waive staging -> prod no-critical until 2026-11-25 reason "CVE-2026-1234, SEC-42"
```

### Instead
Fix the finding, or renew the waiver with a new reason and date after review.

### How to fix
Fix the underlying problem before the date, or extend `until` deliberately.
"#,
    check,
};

fn check(ctx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for w in &ctx.program.waivers {
        let Ok(end) = waiver_expiry(&w.until.value) else {
            continue;
        };
        let left = end.duration_since(ctx.now);
        if left > SignedDuration::ZERO && left <= SOON {
            out.push(Finding::new(
                &LINT,
                w.until.span,
                format!(
                    "the waiver for `{}` expires in {}",
                    w.rule.name,
                    crate::eval::format_duration(left)
                ),
                "expires soon",
                "fix the cause before then, or renew the waiver on purpose",
            ));
        }
    }
}
