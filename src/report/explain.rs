//! `clearance explain`: the contract in plain Markdown for reviewers and
//! auditors, with every condition rendered in words.

use crate::check::{waiver_expiry, Program};
use crate::syntax::ast::*;
use jiff::Timestamp;
use std::fmt::Write;

struct Words<'p> {
    program: &'p Program,
}

impl Words<'_> {
    fn code(&self, e: &Expr) -> String {
        let src = self
            .program
            .sources
            .get(e.span.file)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        format!("`{}`", crate::fmt::expr_text(&src, e))
    }

    /// A param's name with its value, so readers see the number.
    fn operand(&self, e: &Expr) -> String {
        if let Some(p) = self.program.param_of(e) {
            return format!("`{}` ({})", p.name, self.code(&p.default).trim_matches('`'));
        }
        match &e.unparen().kind {
            ExprKind::Call(name, args) if name.name == "count" && args.len() == 1 => {
                format!("the number of {}", self.operand(&args[0]))
            }
            ExprKind::Call(name, args) if name.name == "time" && args.len() == 1 => {
                format!("the time {}", self.operand(&args[0]))
            }
            ExprKind::Call(name, args) if name.name == "semver" && args.len() == 1 => {
                format!("the version {}", self.operand(&args[0]))
            }
            _ => self.code(e),
        }
    }

    fn say(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Paren(inner) => self.say(inner),
            ExprKind::Binary(BinaryOp::And, _, _) => {
                let mut parts = Vec::new();
                flatten(e, BinaryOp::And, &mut parts);
                parts
                    .iter()
                    .map(|p| self.say(p))
                    .collect::<Vec<_>>()
                    .join(", and ")
            }
            ExprKind::Binary(BinaryOp::Or, _, _) => {
                let mut parts = Vec::new();
                flatten(e, BinaryOp::Or, &mut parts);
                format!(
                    "either {}",
                    parts
                        .iter()
                        .map(|p| self.say(p))
                        .collect::<Vec<_>>()
                        .join(", or ")
                )
            }
            ExprKind::Unary(UnaryOp::Not, inner) => {
                format!("it is not the case that {}", self.say(inner))
            }
            ExprKind::Binary(op, l, r) if op.is_comparison() => {
                let verb = match op {
                    BinaryOp::Eq => "equals",
                    BinaryOp::Ne => "differs from",
                    BinaryOp::Lt => "is less than",
                    BinaryOp::Le => "is at most",
                    BinaryOp::Gt => "is greater than",
                    BinaryOp::Ge => "is at least",
                    BinaryOp::In => "is one of",
                    _ => "is none of",
                };
                format!("{} {verb} {}", self.operand(l), self.operand(r))
            }
            ExprKind::Quantifier(q) => {
                let vars = q
                    .vars
                    .iter()
                    .map(|v| format!("`{}`", v.name))
                    .collect::<Vec<_>>()
                    .join(", ");
                let quant = match q.kind {
                    QuantKind::All => "every",
                    QuantKind::Any => "at least one",
                    QuantKind::None => "no",
                };
                format!(
                    "for {quant} {vars} in {}: {}",
                    self.operand(&q.collection),
                    self.say(&q.body)
                )
            }
            ExprKind::Exists(inner) => format!("{} is present", self.code(inner)),
            ExprKind::If(c, t, f) => format!(
                "if {} then {}, otherwise {}",
                self.say(c),
                self.say(t),
                self.say(f)
            ),
            _ => format!("{} holds", self.code(e)),
        }
    }
}

fn flatten<'e>(e: &'e Expr, op: BinaryOp, out: &mut Vec<&'e Expr>) {
    match &e.unparen().kind {
        ExprKind::Binary(o, l, r) if *o == op => {
            flatten(l, op, out);
            flatten(r, op, out);
        }
        _ => out.push(e),
    }
}

fn rule_section(out: &mut String, w: &Words<'_>, r: &RuleDecl, trigger: bool) {
    let title = r
        .title
        .as_ref()
        .map(|t| t.value.as_str())
        .unwrap_or("(no title)");
    let kind = match (trigger, r.advisory) {
        (true, _) => "rollback trigger",
        (false, true) => "advisory: reported, never blocks",
        (false, false) => "blocking",
    };
    let title = super::text::printable(title);
    let _ = writeln!(out, "#### `{}`: {title}\n\n*{kind}*\n", r.name.name);
    for when in &r.whens {
        let _ = writeln!(out, "- **Applies only when** {}.", w.say(when));
    }
    for l in &r.lets {
        let _ = writeln!(
            out,
            "- **Where** `{}` is {}.",
            l.name.name,
            w.code(&l.value)
        );
    }
    let verb = if trigger {
        "**Healthy while**"
    } else {
        "**Requires**"
    };
    for req in &r.requires {
        let _ = writeln!(out, "- {verb} {}.", w.say(req));
    }
    if let Some(h) = &r.help {
        let what = if trigger {
            "When it fires"
        } else {
            "If it fails"
        };
        let _ = writeln!(out, "- **{what}:** {}", super::text::printable(&h.value));
    }
    out.push('\n');
}

/// What a gate's allow moves along the promotion path: what it validates,
/// the risk it leaves, and what the next stage requires.
fn chain_section(out: &mut String, program: &Program, g: &GateDecl, now: Timestamp) {
    use super::text::{md_cell, printable};
    let _ = writeln!(
        out,
        "### Chain of trust
"
    );
    let validated: Vec<String> = g
        .rules
        .iter()
        .filter(|r| !r.advisory)
        .map(|r| match &r.title {
            Some(t) => format!("`{}` ({})", r.name.name, printable(&t.value)),
            None => format!("`{}`", r.name.name),
        })
        .collect();
    let _ = writeln!(
        out,
        "- **Validated** when it allows: {}.",
        if validated.is_empty() {
            "nothing (no blocking rule)".into()
        } else {
            validated.join(", ")
        }
    );
    let mut risks: Vec<String> = program
        .waivers
        .iter()
        .filter(|x| x.from.name == g.from.name && x.to.name == g.to.name)
        .filter(|x| waiver_expiry(&x.until.value).is_ok_and(|end| now < end))
        .map(|x| {
            format!(
                "`{}` may be waived until {} ({}{})",
                x.rule.name,
                x.until.value,
                md_cell(&x.reason.value),
                x.owner
                    .as_ref()
                    .map(|o| format!(", owner {}", md_cell(&o.value)))
                    .unwrap_or_default()
            )
        })
        .collect();
    risks.extend(
        g.rules
            .iter()
            .filter(|r| r.advisory)
            .map(|r| format!("advisory `{}` may fail without blocking", r.name.name)),
    );
    risks.extend(
        super::chain::accepted_risks(program, g)
            .into_iter()
            .filter_map(|r| match r {
                super::chain::Risk::Accepted { stage, risk } => {
                    Some(format!("`{stage}` accepts: {}", md_cell(&risk)))
                }
                _ => None,
            }),
    );
    let _ = writeln!(
        out,
        "- **Remaining risk:** {}.",
        if risks.is_empty() {
            "none declared".into()
        } else {
            risks.join("; ")
        }
    );
    let next: Vec<String> = super::chain::required_next(program, g)
        .into_iter()
        .map(|n| format!("gate `{n}`"))
        .collect();
    let _ = writeln!(
        out,
        "- **Required next:** {}.",
        if next.is_empty() {
            format!("nothing: `{}` is the end of the path", g.to.name)
        } else {
            next.join(", ")
        }
    );
}

/// The Markdown explanation of a policy (one gate, or all of them).
pub fn explain(program: &Program, gate: Option<&GateDecl>, now: Timestamp) -> String {
    let w = Words { program };
    let mut out = String::new();
    let policy = program
        .sources
        .files()
        .first()
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let _ = writeln!(out, "# Promotion contract: `{policy}`\n");
    let path: Vec<String> = program.stages.iter().map(|s| s.name.clone()).collect();
    let _ = writeln!(out, "## Stages\n");
    let edges: Vec<String> = program
        .edges
        .iter()
        .map(|(a, b)| format!("{a} → {b}"))
        .collect();
    let _ = writeln!(out, "Promotion path: {}.\n", edges.join(", "));
    let _ = writeln!(
        out,
        "| stage | purpose | accepted risks | rollback triggers |\n|---|---|---|---|"
    );
    for s in &program.stages {
        let triggers: Vec<String> = s
            .triggers
            .iter()
            .map(|t| format!("`{}`", t.name.name))
            .collect();
        let risks: Vec<String> = s.risks.iter().map(|r| super::text::md_cell(r)).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            s.name,
            super::text::md_cell(s.purpose.as_deref().unwrap_or("")),
            if risks.is_empty() {
                "none".into()
            } else {
                risks.join("; ")
            },
            if triggers.is_empty() {
                "none".into()
            } else {
                triggers.join(", ")
            }
        );
    }
    let _ = path;
    if !program.params.is_empty() {
        let _ = writeln!(out, "\n## Parameters\n\n| param | default |\n|---|---|");
        for p in &program.params {
            let _ = writeln!(
                out,
                "| `{}` | {} |",
                p.name,
                w.code(&p.default).replace('|', "\\|")
            );
        }
    }
    if !program.lets.is_empty() || !program.defs.is_empty() {
        let _ = writeln!(out, "\n## Definitions\n");
        for l in &program.lets {
            let _ = writeln!(out, "- `{}` stands for {}.", l.name.name, w.code(&l.value));
        }
        for d in &program.defs {
            let params: Vec<&str> = d.params.iter().map(|p| p.name.as_str()).collect();
            let _ = writeln!(
                out,
                "- `{}({})` is {}.",
                d.name.name,
                params.join(", "),
                w.code(&d.body)
            );
        }
    }
    for g in program
        .gates
        .iter()
        .filter(|g| gate.is_none_or(|only| std::ptr::eq(*g, only)))
    {
        let blocking = g.rules.iter().filter(|r| !r.advisory).count();
        let _ = writeln!(
            out,
            "\n## Gate `{}`\n\n{} rule{} ({blocking} blocking). The promotion is allowed when no blocking rule fails or cannot be evaluated.\n",
            g.label(),
            g.rules.len(),
            if g.rules.len() == 1 { "" } else { "s" }
        );
        if let Some(subject) = &g.subject {
            let _ = writeln!(
                out,
                "- It decides about the artifact {}: signed decisions and the ledger name that digest.",
                w.code(subject)
            );
        }
        if !g.levels.is_empty() {
            let levels: Vec<String> = g
                .levels
                .iter()
                .map(|l| format!("`{}`", super::text::printable(&l.value)))
                .collect();
            let _ = writeln!(
                out,
                "- When it allows, a signed summary claims {}.",
                levels.join(", ")
            );
        }
        for l in &g.lets {
            let _ = writeln!(out, "- `{}` stands for {}.", l.name.name, w.code(&l.value));
        }
        if !g.lets.is_empty() || g.subject.is_some() || !g.levels.is_empty() {
            out.push('\n');
        }
        for r in &g.rules {
            rule_section(&mut out, &w, r, false);
        }
        let waivers: Vec<&WaiverDecl> = program
            .waivers
            .iter()
            .filter(|x| x.from.name == g.from.name && x.to.name == g.to.name)
            .collect();
        if !waivers.is_empty() {
            let _ = writeln!(out, "### Waivers\n\n| rule | until | in force | reason | owner | ticket |\n|---|---|---|---|---|---|");
            for x in waivers {
                let in_force = waiver_expiry(&x.until.value).is_ok_and(|end| now < end);
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    x.rule.name,
                    x.until.value,
                    if in_force { "yes" } else { "no (expired)" },
                    super::text::md_cell(&x.reason.value),
                    super::text::md_cell(x.owner.as_ref().map(|o| o.value.as_str()).unwrap_or("")),
                    super::text::md_cell(x.ticket.as_ref().map(|t| t.value.as_str()).unwrap_or(""))
                );
            }
            out.push('\n');
        }
        chain_section(&mut out, program, g, now);
    }
    for s in program.stages.iter().filter(|s| !s.triggers.is_empty()) {
        let _ = writeln!(
            out,
            "\n## Rollback triggers of `{}`\n\n`clearance rollback --stage {}` rolls back when any trigger fires: a condition below is false or cannot be evaluated.\n",
            s.name, s.name
        );
        for t in &s.triggers {
            rule_section(&mut out, &w, t, true);
        }
    }
    out.trim_end().to_string() + "\n"
}
