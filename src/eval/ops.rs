//! Operators shared by both evaluators and by constant folding:
//! arithmetic with checked integers and finite floats, comparisons,
//! membership, quantifier steps and literal values.

use super::{value, Budget, ErrorKind, EvalError, Value};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, QuantKind, UnaryOp};
use crate::syntax::Span;
use jiff::SignedDuration;
use std::rc::Rc;

fn overflow(span: Span, what: &str) -> EvalError {
    EvalError::new(ErrorKind::Overflow, span, format!("{what} overflows"))
        .with_note("integers are exact 64-bit values; Clearance never wraps them")
}

fn finite(f: f64, span: Span) -> Result<Value, EvalError> {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err(EvalError::new(
            ErrorKind::Overflow,
            span,
            "the result is not a finite number",
        ))
    }
}

fn div_zero(span: Span, l: &Value) -> EvalError {
    EvalError::new(
        ErrorKind::DivisionByZero,
        span,
        format!("division by zero ({} / 0)", l.short(40)),
    )
}

pub(super) fn negate(v: Value, span: Span) -> Result<Value, EvalError> {
    match v {
        Value::Int(i) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| overflow(span, &format!("-({i})"))),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Duration(d) => d
            .checked_neg()
            .map(Value::Duration)
            .ok_or_else(|| overflow(span, "negating the duration")),
        other => Err(EvalError::new(
            ErrorKind::TypeMismatch,
            span,
            format!(
                "`-` negates numbers and durations, got {} {}",
                other.type_name(),
                other.short(40)
            ),
        )),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

pub(super) fn arithmetic(
    op: BinaryOp,
    lv: &Value,
    rv: &Value,
    span: Span,
) -> Result<Value, EvalError> {
    use BinaryOp::*;
    let text = || format!("{} {} {}", lv.short(30), op.symbol(), rv.short(30));
    match (op, lv, rv) {
        (Add, Value::Int(a), Value::Int(b)) => a
            .checked_add(*b)
            .map(Value::Int)
            .ok_or_else(|| overflow(span, &text())),
        (Sub, Value::Int(a), Value::Int(b)) => a
            .checked_sub(*b)
            .map(Value::Int)
            .ok_or_else(|| overflow(span, &text())),
        (Mul, Value::Int(a), Value::Int(b)) => a
            .checked_mul(*b)
            .map(Value::Int)
            .ok_or_else(|| overflow(span, &text())),
        (Div, Value::Int(a), Value::Int(b)) => {
            if *b == 0 {
                return Err(div_zero(span, lv));
            }
            // Exact quotients stay integers; others are floats (`5 / 2 == 2.5`).
            match a.checked_rem(*b) {
                Some(0) => a
                    .checked_div(*b)
                    .map(Value::Int)
                    .ok_or_else(|| overflow(span, &text())),
                Some(_) => finite(*a as f64 / *b as f64, span),
                None => Err(overflow(span, &text())),
            }
        }
        (Rem, Value::Int(a), Value::Int(b)) => {
            if *b == 0 {
                return Err(div_zero(span, lv));
            }
            a.checked_rem(*b)
                .map(Value::Int)
                .ok_or_else(|| overflow(span, &text()))
        }
        (
            Add | Sub | Mul | Div | Rem,
            Value::Int(_) | Value::Float(_),
            Value::Int(_) | Value::Float(_),
        ) => {
            let (a, b) = (as_f64(lv).unwrap_or(0.0), as_f64(rv).unwrap_or(0.0));
            if matches!(op, Div | Rem) && b == 0.0 {
                return Err(div_zero(span, lv));
            }
            finite(
                match op {
                    Add => a + b,
                    Sub => a - b,
                    Mul => a * b,
                    Div => a / b,
                    _ => a % b,
                },
                span,
            )
        }
        (Add, Value::Str(a), Value::Str(b)) => Ok(Value::str(&format!("{a}{b}"))),
        (Add, Value::List(a), Value::List(b)) => {
            Ok(Value::List(a.iter().chain(b.iter()).cloned().collect()))
        }
        (Add, Value::Duration(a), Value::Duration(b)) => a
            .checked_add(*b)
            .map(Value::Duration)
            .ok_or_else(|| overflow(span, &text())),
        (Sub, Value::Duration(a), Value::Duration(b)) => a
            .checked_sub(*b)
            .map(Value::Duration)
            .ok_or_else(|| overflow(span, &text())),
        (Add, Value::Time(t), Value::Duration(d)) | (Add, Value::Duration(d), Value::Time(t)) => t
            .checked_add(*d)
            .map(Value::Time)
            .map_err(|_| overflow(span, &text())),
        (Sub, Value::Time(t), Value::Duration(d)) => t
            .checked_sub(*d)
            .map(Value::Time)
            .map_err(|_| overflow(span, &text())),
        (Sub, Value::Time(a), Value::Time(b)) => Ok(Value::Duration(a.duration_since(*b))),
        (Mul, Value::Duration(d), n @ (Value::Int(_) | Value::Float(_)))
        | (Mul, n @ (Value::Int(_) | Value::Float(_)), Value::Duration(d)) => match n {
            Value::Int(i) => i32::try_from(*i)
                .ok()
                .and_then(|i| d.checked_mul(i))
                .map(Value::Duration)
                .ok_or_else(|| overflow(span, &text())),
            _ => SignedDuration::try_from_secs_f64(d.as_secs_f64() * as_f64(n).unwrap_or(0.0))
                .map(Value::Duration)
                .map_err(|_| overflow(span, &text())),
        },
        (Div, Value::Duration(d), n @ (Value::Int(_) | Value::Float(_))) => {
            let b = as_f64(n).unwrap_or(0.0);
            if b == 0.0 {
                return Err(div_zero(span, lv));
            }
            SignedDuration::try_from_secs_f64(d.as_secs_f64() / b)
                .map(Value::Duration)
                .map_err(|_| overflow(span, &text()))
        }
        (Div, Value::Duration(a), Value::Duration(b)) => {
            if b.is_zero() {
                return Err(div_zero(span, lv));
            }
            finite(a.as_secs_f64() / b.as_secs_f64(), span)
        }
        _ => Err(EvalError::new(
            ErrorKind::TypeMismatch,
            span,
            format!(
                "`{}` cannot combine {} {} with {} {}",
                op.symbol(),
                lv.type_name(),
                lv.short(40),
                rv.type_name(),
                rv.short(40)
            ),
        )),
    }
}

/// One element of a quantifier: records what it decides in `verdict` and
/// returns whether to go on (`all` stops at the first false, `none` at the
/// first true, `any` at the first true).
pub(crate) fn quantifier_step(kind: QuantKind, holds: bool, verdict: &mut bool) -> bool {
    match (kind, holds) {
        (QuantKind::All, false) | (QuantKind::None, true) => {
            *verdict = false;
            false
        }
        (QuantKind::Any, true) => {
            *verdict = true;
            false
        }
        _ => true,
    }
}

/// The value of a literal expression (param defaults, `--param` checks).
pub fn const_value(e: &Expr) -> Result<Value, EvalError> {
    Ok(match &e.unparen().kind {
        ExprKind::Null => Value::Null,
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Int(i) => Value::Int(*i),
        ExprKind::Float(f) => Value::Float(*f),
        ExprKind::Str(s) => Value::str(s),
        ExprKind::Duration(n) => Value::Duration(SignedDuration::from_nanos(*n)),
        ExprKind::Unary(UnaryOp::Neg, inner) => negate(const_value(inner)?, e.span)?,
        ExprKind::List(items) => {
            Value::list(items.iter().map(const_value).collect::<Result<_, _>>()?)
        }
        ExprKind::Object(entries) => {
            let mut map = value::Object::default();
            for (k, v) in entries {
                map.insert(Rc::from(k.name.as_str()), const_value(v)?);
            }
            Value::Object(map.into())
        }
        _ => {
            return Err(EvalError::new(
                ErrorKind::InvalidValue,
                e.span,
                "not a literal",
            ))
        }
    })
}

/// Applies a non-short-circuiting binary operator to two values.
pub(crate) fn apply_values(
    op: BinaryOp,
    lv: &Value,
    rv: &Value,
    l_span: Span,
    r_span: Span,
    span: Span,
    budget: &Budget,
) -> Result<Value, EvalError> {
    use BinaryOp::*;
    Ok(match op {
        Eq => Value::Bool(lv.deep_eq(rv)),
        Ne => Value::Bool(!lv.deep_eq(rv)),
        Lt | Le | Gt | Ge => {
            let ord = lv.compare(rv).ok_or_else(|| {
                    EvalError::new(
                        ErrorKind::TypeMismatch,
                        span,
                        format!(
                            "cannot order {} {} against {} {}",
                            lv.type_name(),
                            lv.short(40),
                            rv.type_name(),
                            rv.short(40)
                        ),
                    )
                    .with_note("`<`, `<=`, `>`, `>=` compare two numbers, strings, durations, times or versions")
                })?;
            Value::Bool(match op {
                Lt => ord.is_lt(),
                Le => ord.is_le(),
                Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        In | NotIn => {
            let found = match rv {
                Value::List(items) => {
                    budget.charge(items.len() as u64, span)?;
                    items.iter().any(|x| x.deep_eq(lv))
                }
                Value::Object(map) => match lv {
                    Value::Str(k) => map.contains_key(k.as_ref()),
                    other => {
                        return Err(EvalError::new(
                            ErrorKind::TypeMismatch,
                            l_span,
                            format!(
                            "`in` on an object looks up a key, which must be a string; got {} {}",
                            other.type_name(),
                            other.short(40)
                        ),
                        ))
                    }
                },
                other => {
                    return Err(EvalError::new(
                        ErrorKind::TypeMismatch,
                        r_span,
                        format!(
                            "`{}` needs a list or an object on its right, got {} {}",
                            op.symbol(),
                            other.type_name(),
                            other.short(40)
                        ),
                    ))
                }
            };
            Value::Bool(found == (op == In))
        }
        Add | Sub | Mul | Div | Rem => {
            budget.charge(built_bytes(op, lv, rv), span)?;
            arithmetic(op, lv, rv, span)?
        }
        And | Or | Coalesce => {
            return Err(EvalError::new(
                ErrorKind::InvalidValue,
                span,
                "internal: short-circuit operator applied eagerly",
            ))
        }
    })
}

/// Steps charged for each element a comprehension adds to its list: the
/// bytes the element takes (see [`built_bytes`]).
pub(crate) const ELEMENT_BYTES: u64 = std::mem::size_of::<Value>() as u64;

/// Steps charged for what `+` builds, one per byte: concatenating strings
/// or lists allocates the whole result, so a condition that doubles a list
/// again and again runs out of budget (an `error`) long before it runs out
/// of memory. Charged before building, by both evaluators alike.
pub(crate) fn built_bytes(op: BinaryOp, lv: &Value, rv: &Value) -> u64 {
    match (op, lv, rv) {
        (BinaryOp::Add, Value::Str(a), Value::Str(b)) => (a.len() + b.len()) as u64,
        (BinaryOp::Add, Value::List(a), Value::List(b)) => {
            ((a.len() + b.len()) * std::mem::size_of::<Value>()) as u64
        }
        _ => 0,
    }
}

/// Applies an operator to two constants (lint folding; no evidence involved).
pub fn apply_constant(
    op: BinaryOp,
    lv: &Value,
    rv: &Value,
    span: Span,
) -> Result<Value, EvalError> {
    match op {
        BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => Err(EvalError::new(
            ErrorKind::InvalidValue,
            span,
            "not foldable",
        )),
        _ => apply_values(op, lv, rv, span, span, span, &Budget::new(1_000_000)),
    }
}
