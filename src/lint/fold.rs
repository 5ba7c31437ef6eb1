//! Constant folding for lints: the value of an expression when it does not
//! depend on evidence (literals, params at their defaults, pure builtins).

use crate::check::Program;
use crate::eval::builtins::{self, Args};
use crate::eval::{const_value, Budget, Value};
use crate::syntax::ast::*;

/// How `a ?? b` folds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// Unknown unless `a` folds.
    Unknown,
    /// As if the evidence `a` reads were missing: `b`.
    Assume,
}

pub(crate) fn fold(program: &Program, e: &Expr, missing: Missing) -> Option<Value> {
    let f = |x: &Expr| fold(program, x, missing);
    match &e.kind {
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Duration(_) => const_value(e).ok(),
        ExprKind::Paren(inner) => f(inner),
        ExprKind::Name(_) => program
            .param_of(e)
            .and_then(|p| const_value(&p.default).ok()),
        ExprKind::List(items) => items
            .iter()
            .map(f)
            .collect::<Option<Vec<_>>>()
            .map(Value::list),
        ExprKind::Unary(UnaryOp::Not, x) => f(x)?.as_bool().map(|b| Value::Bool(!b)),
        ExprKind::Binary(BinaryOp::And, l, r) => match (
            f(l).and_then(|v| v.as_bool()),
            f(r).and_then(|v| v.as_bool()),
        ) {
            (Some(false), _) | (_, Some(false)) => Some(Value::Bool(false)),
            (Some(true), Some(true)) => Some(Value::Bool(true)),
            _ => None,
        },
        ExprKind::Binary(BinaryOp::Or, l, r) => match (
            f(l).and_then(|v| v.as_bool()),
            f(r).and_then(|v| v.as_bool()),
        ) {
            (Some(true), _) | (_, Some(true)) => Some(Value::Bool(true)),
            (Some(false), Some(false)) => Some(Value::Bool(false)),
            _ => None,
        },
        ExprKind::Binary(BinaryOp::Coalesce, l, r) => match f(l) {
            Some(Value::Null) => f(r),
            Some(v) => Some(v),
            None if missing == Missing::Assume => f(r),
            None => None,
        },
        ExprKind::Binary(op, l, r) => {
            let (lv, rv) = (f(l)?, f(r)?);
            crate::eval::apply_constant(*op, &lv, &rv, e.span).ok()
        }
        ExprKind::If(c, t, el) => match f(c)?.as_bool()? {
            true => f(t),
            false => f(el),
        },
        ExprKind::Call(name, args) => {
            let b = builtins::find(&name.name)?;
            let values = args.iter().map(f).collect::<Option<Vec<_>>>()?;
            let spans: Vec<_> = args.iter().map(|a| a.span).collect();
            let budget = Budget::new(100_000);
            let cache = builtins::Cache::default();
            (b.run)(&Args {
                values: &values,
                spans: &spans,
                call: e.span,
                sig: &b.sig,
                budget: &budget,
                cache: &cache,
            })
            .ok()
        }
        _ => None,
    }
}
