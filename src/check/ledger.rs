//! The shape of `ledger` (TRUST.md section 4), known to the checker so a
//! typo is a compile error with a suggestion, not a rule that errors at
//! every run: `ledger` has `decisions`, a list whose elements have the
//! fields of [`DECISION_FIELDS`]. Uses are followed through `let`s,
//! indexing, and quantifier and comprehension variables.

use super::{suggest, CheckError, Program, Resolved};
use crate::syntax::ast::{Expr, ExprKind};
use crate::syntax::Span;
use std::collections::HashMap;

/// The fields of one element of `ledger.decisions`.
pub const DECISION_FIELDS: [&str; 6] = [
    "seq",
    "gate",
    "verdict",
    "decided_at",
    "policy_sha256",
    "signer",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `ledger`
    Root,
    /// `ledger.decisions`
    Decisions,
    /// one decision
    Decision,
}

/// Key of a binding: its name's span.
fn key(s: Span) -> (u32, usize) {
    (s.file.0, s.start)
}

pub(super) fn check(program: &Program) -> Vec<CheckError> {
    // Every shape starts at a use of `ledger`: a program with none (most of
    // them) has nothing to check, and is not walked.
    if !program
        .resolution
        .all()
        .any(|r| matches!(r, Resolved::Ledger))
    {
        return Vec::new();
    }
    let mut bound: HashMap<(u32, usize), Shape> = HashMap::new();
    let lets: HashMap<(u32, usize), &Expr> = program
        .lets
        .iter()
        .chain(program.gates.iter().flat_map(|g| g.lets.iter()))
        .chain(program.stages.iter().flat_map(|s| s.lets.iter()))
        .chain(program.rules().flat_map(|r| r.lets.iter()))
        .map(|l| (key(l.name.span), &l.value))
        .collect();
    // Shapes flow through lets and variables in any order: settle them.
    for _ in 0..4 {
        let before = bound.len();
        for (at, value) in &lets {
            if let Some(s) = shape(program, value, &bound) {
                bound.insert(*at, s);
            }
        }
        program.for_each_expr(&mut |e| {
            let (vars, collection) = match &e.kind {
                ExprKind::Quantifier(q) => (&q.vars, &q.collection),
                ExprKind::Comprehension(c) => (&c.vars, &c.collection),
                _ => return,
            };
            if shape(program, collection, &bound) == Some(Shape::Decisions) {
                // The last variable holds the element (`all i, d in ...`).
                if let Some(v) = vars.last() {
                    bound.insert(key(v.span), Shape::Decision);
                }
            }
        });
        if bound.len() == before {
            break;
        }
    }
    let mut errors = Vec::new();
    program.for_each_expr(&mut |e| {
        let ExprKind::Field(base, field) = &e.kind else {
            return;
        };
        let allowed: &[&str] = match shape(program, base, &bound) {
            Some(Shape::Root) => &["decisions"],
            Some(Shape::Decision) => &DECISION_FIELDS,
            _ => return,
        };
        if !allowed.contains(&field.name.as_str()) {
            let what = if allowed.len() == 1 {
                "`ledger`"
            } else {
                "a ledger decision"
            };
            errors.push(CheckError::UnknownField {
                message: format!("{what} has no field `{}`", field.name),
                span: field.span,
                hint: Some(match suggest(&field.name, allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? ({what} has {})", list(allowed)),
                    None => format!("{what} has {}", list(allowed)),
                }),
            });
        }
    });
    errors
}

fn list(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn shape(program: &Program, e: &Expr, bound: &HashMap<(u32, usize), Shape>) -> Option<Shape> {
    match &e.kind {
        ExprKind::Paren(inner) => shape(program, inner, bound),
        ExprKind::Name(_) => match program.resolution.of(e.span)? {
            Resolved::Ledger => Some(Shape::Root),
            Resolved::Let(at) | Resolved::Var(at) => bound.get(&key(at)).copied(),
            _ => None,
        },
        ExprKind::Field(base, f) => match shape(program, base, bound)? {
            Shape::Root if f.name == "decisions" => Some(Shape::Decisions),
            _ => None,
        },
        ExprKind::Index(base, _) => match shape(program, base, bound)? {
            Shape::Decisions => Some(Shape::Decision),
            _ => None,
        },
        _ => None,
    }
}
