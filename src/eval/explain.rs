//! Why a condition came out false: labels with the values of the
//! sub-expressions that decided it, the evidence each value came from, and for
//! quantifiers the elements that broke it. Runs only in trace mode, and only
//! for rules that failed.

use super::env::{Env, Origin};
use super::{EvalError, Evaluator, Value};
use crate::syntax::ast::*;
use crate::syntax::Span;

/// How many breaking elements of a quantifier are listed.
pub const MAX_ELEMENTS_SHOWN: usize = 5;

#[derive(Clone, Debug, Default)]
pub struct Explanation {
    /// Labels on sub-expressions of the condition.
    pub labels: Vec<Label>,
    /// Lines of prose: "1 of 4 suites breaks it", the elements that did.
    pub notes: Vec<String>,
    /// Evidence values the explanation relies on, with their JSON pointers.
    pub cited: Vec<Cited>,
}

#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Cited {
    /// The policy expression that read the value.
    pub expr: String,
    /// RFC 6901 pointer into the evidence bundle.
    pub pointer: String,
    pub value: Value,
}

impl Explanation {
    fn label(&mut self, span: Span, text: String) {
        if !self.labels.iter().any(|l| l.span == span) {
            self.labels.push(Label { span, text });
        }
    }

    fn cite(&mut self, expr: &str, origin: &Origin, value: &Value) {
        if let Some(p) = origin {
            if !p.is_empty() && !self.cited.iter().any(|c| *c.pointer == **p) {
                self.cited.push(Cited {
                    expr: expr.to_string(),
                    pointer: p.to_string(),
                    value: value.clone(),
                });
            }
        }
    }
}

const LABEL_WIDTH: usize = 48;

/// Characters shown of each side around the first difference.
const DIFFERENCE_WINDOW: usize = 24;

/// For two unequal strings too long for a label (digests that differ in
/// their last characters look the same once cut): where they first differ,
/// with the common prefix elided and a window of each from just before it.
fn where_they_differ(l: &Value, r: &Value) -> Option<String> {
    let (Value::Str(a), Value::Str(b)) = (l, r) else {
        return None;
    };
    // Short strings are shown whole in the labels already. (A label holds
    // the string quoted: two characters more than its text.)
    let long = a.chars().count() > LABEL_WIDTH - 2 || b.chars().count() > LABEL_WIDTH - 2;
    if a == b || !long {
        return None;
    }
    let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    // A label shows its string's first LABEL_WIDTH - 2 characters (after
    // the opening quote, before the `…`): a difference there is visible.
    if at < LABEL_WIDTH - 2 {
        return None;
    }
    let from = at.saturating_sub(4);
    let window = |s: &str| {
        let part: String = s.chars().skip(from).take(DIFFERENCE_WINDOW).collect();
        let more = s.chars().count() > from + DIFFERENCE_WINDOW;
        format!(
            "{}{}{}",
            if from > 0 { "…" } else { "" },
            Value::Str(part.into()).to_string().trim_matches('"'),
            if more { "…" } else { "" }
        )
    };
    Some(format!(
        "the two strings first differ at character {}: \"{}\" vs \"{}\"",
        at + 1,
        window(a),
        window(b)
    ))
}

/// Builtins that only convert their argument; its value is cited, not labelled.
const CONVERSIONS: &[&str] = &["time", "time_unix", "semver", "json"];

impl Evaluator<'_> {
    /// Explains why `e` evaluated to `actual` in `env`.
    pub(crate) fn explain(&self, e: &Expr, env: &Env<'_>, actual: bool, out: &mut Explanation) {
        crate::stack::guard(|| {
            match &e.kind {
                ExprKind::Paren(inner) => self.explain(inner, env, actual, out),
                ExprKind::Binary(BinaryOp::And, l, r) => {
                    if actual {
                        self.explain(l, env, true, out);
                        self.explain(r, env, true, out);
                    } else {
                        match self.eval_bool(l, env, "the left side of `and`") {
                            Ok(false) => self.explain(l, env, false, out),
                            Ok(true) => self.explain(r, env, false, out),
                            Err(err) => self.label_error(&err, out),
                        }
                    }
                }
                ExprKind::Binary(BinaryOp::Or, l, r) => {
                    if actual {
                        match self.eval_bool(l, env, "the left side of `or`") {
                            Ok(true) => self.explain(l, env, true, out),
                            Ok(false) => self.explain(r, env, true, out),
                            Err(err) => self.label_error(&err, out),
                        }
                    } else {
                        self.explain(l, env, false, out);
                        self.explain(r, env, false, out);
                    }
                }
                ExprKind::Unary(UnaryOp::Not, inner) => self.explain(inner, env, !actual, out),
                ExprKind::Binary(op, l, r) if op.is_comparison() => {
                    self.explain_comparison(*op, l, r, env, actual, out)
                }
                ExprKind::Quantifier(q) => self.explain_quantifier(q, env, actual, out),
                ExprKind::Exists(inner) => match self.eval_t(inner, env) {
                    Err(err) => out.label(inner.span, format!("missing: {}", err.message)),
                    Ok((v, origin)) => {
                        let v = self.file_value(&origin).unwrap_or(v);
                        out.cite(self.snippet(inner.span), &origin, &v);
                        out.label(inner.span, format!("exists: {}", v.short(LABEL_WIDTH)));
                    }
                },
                ExprKind::If(c, t, f) => match self.eval_bool(c, env, "the condition of `if`") {
                    Ok(true) => {
                        self.explain(c, env, true, out);
                        self.explain(t, env, actual, out)
                    }
                    Ok(false) => {
                        self.explain(c, env, false, out);
                        self.explain(f, env, actual, out)
                    }
                    Err(err) => self.label_error(&err, out),
                },
                ExprKind::Call(name, args) => {
                    // The value goes under the function name, so it does not
                    // overlap the labels of the arguments.
                    out.label(name.span, format!("{actual}"));
                    for a in args {
                        if !a.is_literal() {
                            self.label_operand(a, env, None, out);
                        }
                    }
                }
                _ => {
                    self.label_operand(e, env, None, out);
                }
            }
        })
    }

    /// The span of the operator between two operands (the gap, trimmed).
    fn operator_span(&self, left: Span, right: Span) -> Span {
        let gap = Span {
            file: left.file,
            start: left.end,
            end: right.start.max(left.end),
        };
        let text = self.snippet(gap);
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        Span {
            file: left.file,
            start: gap.start + lead,
            end: gap.start + lead + trimmed.len().max(1),
        }
    }

    /// Cites both sides of each drifted path of a `diff` (the first
    /// [`MAX_DRIFT_CITED`]), at their pointers in the evidence, so every
    /// output format locates them in both files.
    fn cite_drift(&self, args: &[Expr], env: &Env<'_>, drift: &Value, out: &mut Explanation) {
        let (Some(from), Some(to), Value::List(items)) = (args.first(), args.get(1), drift) else {
            return;
        };
        let (Ok((from_value, from_origin)), Ok((to_value, to_origin))) =
            (self.eval_t(from, env), self.eval_t(to, env))
        else {
            return;
        };
        for item in items.iter().take(MAX_DRIFT_CITED) {
            let Some(Value::Str(path)) = item_field(item, "path") else {
                continue;
            };
            for (side, value, origin) in [
                (from, &from_value, &from_origin),
                (to, &to_value, &to_origin),
            ] {
                let Some(steps) = dotted_steps(value, &path) else {
                    continue;
                };
                let Some(found) = steps.iter().try_fold(value.clone(), |v, step| match &v {
                    Value::Object(m) => m.get(step).cloned(),
                    Value::List(l) => step.parse::<usize>().ok().and_then(|i| l.get(i).cloned()),
                    _ => None,
                }) else {
                    continue;
                };
                let pointer = steps.iter().fold(origin.clone(), |o, step| {
                    super::env::pointer_child(&o, step)
                });
                let shown = self.file_value(&pointer).unwrap_or(found);
                out.cite(
                    &format!("{} at {path}", self.snippet(side.span)),
                    &pointer,
                    &shown,
                );
            }
        }
    }

    fn label_error(&self, err: &EvalError, out: &mut Explanation) {
        out.label(err.span, format!("error: {}", err.message));
    }

    /// Labels an operand with its value (and `suffix`), citing its evidence pointer.
    fn label_operand(
        &self,
        e: &Expr,
        env: &Env<'_>,
        suffix: Option<String>,
        out: &mut Explanation,
    ) -> Option<Value> {
        match self.eval_t(e, env) {
            Ok((v, origin)) => {
                let v = self.file_value(&origin).unwrap_or(v);
                out.cite(self.snippet(e.span), &origin, &v);
                let mut text = v.short(LABEL_WIDTH);
                if let Some(s) = suffix {
                    text.push_str(", ");
                    text.push_str(&s);
                }
                if let ExprKind::Call(name, _) = &e.unparen().kind {
                    if name.name == "diff" {
                        out.label(
                            name.span,
                            format!(
                                "{} drifted",
                                if let Value::List(l) = &v { l.len() } else { 0 }
                            ),
                        );
                        out.notes.extend(drift_notes(&v));
                        if let ExprKind::Call(_, args) = &e.unparen().kind {
                            self.cite_drift(args, env, &v, out);
                        }
                        return Some(v);
                    }
                }
                match &e.unparen().kind {
                    // Conversions (`time(x)`, `semver(x)`): the converted value
                    // under the name; the raw argument is only cited.
                    ExprKind::Call(name, args) if CONVERSIONS.contains(&name.name.as_str()) => {
                        out.label(name.span, text);
                        for a in args {
                            if let Ok((v, o)) = self.eval_t(a, env) {
                                let v = self.file_value(&o).unwrap_or(v);
                                out.cite(self.snippet(a.span), &o, &v);
                            }
                        }
                    }
                    // `count(approvers)`: the value under `count`, and what was counted.
                    ExprKind::Call(name, args) => {
                        out.label(name.span, text);
                        for a in args.iter().filter(|a| !a.is_literal()) {
                            self.label_operand(a, env, None, out);
                        }
                    }
                    // `time(a) - time(b)`: the result, and both operands.
                    ExprKind::Binary(
                        BinaryOp::Add
                        | BinaryOp::Sub
                        | BinaryOp::Mul
                        | BinaryOp::Div
                        | BinaryOp::Rem,
                        l,
                        r,
                    ) => {
                        // The result goes under the operator, clear of the operands' labels.
                        out.label(self.operator_span(l.span, r.span), text);
                        for side in [l, r] {
                            if !side.is_literal() {
                                self.label_operand(side, env, None, out);
                            }
                        }
                    }
                    _ => out.label(e.span, text),
                }
                Some(v)
            }
            Err(err) => {
                self.label_error(&err, out);
                None
            }
        }
    }

    fn explain_comparison(
        &self,
        op: BinaryOp,
        l: &Expr,
        r: &Expr,
        env: &Env<'_>,
        actual: bool,
        out: &mut Explanation,
    ) {
        let expected = |op: BinaryOp, value: &Value| -> String {
            let v = value.short(LABEL_WIDTH);
            match op {
                BinaryOp::Eq => format!("expected {v}"),
                BinaryOp::Ne => format!("expected anything but {v}"),
                BinaryOp::In => format!("expected one of {v}"),
                BinaryOp::NotIn => format!("expected none of {v}"),
                _ => format!("expected {} {v}", op.symbol()),
            }
        };
        let (Ok(lv), Ok(rv)) = (self.eval(l, env), self.eval(r, env)) else {
            // One side cannot be evaluated: label what can be.
            self.label_operand(l, env, None, out);
            self.label_operand(r, env, None, out);
            return;
        };
        if r.is_literal() && !l.is_literal() {
            let suffix = (!actual).then(|| expected(op, &rv));
            self.label_operand(l, env, suffix, out);
        } else if l.is_literal() && !r.is_literal() && !matches!(op, BinaryOp::In | BinaryOp::NotIn)
        {
            let suffix = (!actual).then(|| expected(flip(op), &lv));
            self.label_operand(r, env, suffix, out);
        } else {
            self.label_operand(l, env, None, out);
            self.label_operand(r, env, None, out);
        }
        if !actual {
            if let Some(note) = shortfall(op, &lv, &rv) {
                out.notes.push(note);
            }
            if op == BinaryOp::Eq {
                if let Some(note) = where_they_differ(&lv, &rv) {
                    out.notes.push(note);
                }
            }
        }
    }

    fn explain_quantifier(
        &self,
        q: &Quantifier,
        env: &Env<'_>,
        actual: bool,
        out: &mut Explanation,
    ) {
        let (items, coll_origin) = match self.iterate(&q.vars, &q.collection, env, false) {
            Ok(x) => x,
            Err(err) => return self.label_error(&err, out),
        };
        let n = items.len();
        let noun = noun_for(self.snippet(q.collection.span));
        let coll = self.snippet(q.collection.span);
        // The elements worth showing are those whose body has this value.
        let want_body = match (q.kind, actual) {
            (QuantKind::All, a) => a,
            (QuantKind::Any, a) => a,
            (QuantKind::None, a) => !a,
        };
        let mut matching = Vec::new();
        let mut errors = 0usize;
        for (i, item) in items.iter().enumerate() {
            match self.with_bound(&q.vars, item, env, |inner| {
                self.eval_bool(&q.body, inner, "the body of a quantifier")
            }) {
                Ok(b) if b == want_body => matching.push(i),
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        }
        let k = matching.len();
        let headline = match (q.kind, actual) {
            (_, _) if n == 0 => match q.kind {
                QuantKind::Any => format!("`{coll}` is empty, so `any` found nothing"),
                _ => format!("`{coll}` is empty"),
            },
            (QuantKind::All, false) => {
                format!(
                    "{k} of {n} {noun} {} it",
                    if k == 1 { "breaks" } else { "break" }
                )
            }
            (QuantKind::Any, false) => format!("0 of {n} {noun} satisfy it"),
            (QuantKind::None, false) => {
                format!(
                    "{k} of {n} {noun} {}, and none may",
                    if k == 1 { "matches" } else { "match" }
                )
            }
            (QuantKind::All, true) => format!("all {n} {noun} satisfy it"),
            (QuantKind::Any, true) => format!("{k} of {n} {noun} satisfy it"),
            (QuantKind::None, true) => format!("none of the {n} {noun} matches"),
        };
        out.notes.push(headline);
        if errors > 0 {
            out.notes
                .push(format!("{errors} of {n} {noun} could not be evaluated"));
        }
        for (shown, &i) in matching.iter().enumerate() {
            if shown >= MAX_ELEMENTS_SHOWN {
                out.notes
                    .push(format!("… and {} more", k - MAX_ELEMENTS_SHOWN));
                break;
            }
            let Some((key, value, known)) = items.get(i) else {
                continue;
            };
            // Only the elements shown get their pointer.
            let step = match key {
                Value::Str(k) => k.to_string(),
                _ => i.to_string(),
            };
            // An element of a list a comprehension built knows its own
            // pointer in the evidence; any other is found under the list's.
            let item = &(
                key.clone(),
                value.clone(),
                known
                    .clone()
                    .or_else(|| super::env::pointer_child(&coll_origin, &step)),
            );
            let mut sub = Explanation::default();
            self.with_bound(&q.vars, item, env, |inner| {
                self.explain(&q.body, inner, want_body, &mut sub)
            });
            let (key, value, origin) = item;
            let value = self.file_value(origin).unwrap_or_else(|| value.clone());
            out.notes
                .push(element_line(i, &(key.clone(), value, origin.clone()), &sub));
            // Labels on the policy text come from the first element shown.
            if shown == 0 {
                for l in sub.labels {
                    out.label(l.span, l.text);
                }
                out.notes
                    .extend(sub.notes.into_iter().map(|n| format!("  {n}")));
            }
            for c in sub.cited {
                if !out.cited.iter().any(|x| x.pointer == c.pointer) {
                    out.cited.push(c);
                }
            }
        }
    }
}

/// How far a failed ordering or equality is from holding, in words.
fn shortfall(op: BinaryOp, lv: &Value, rv: &Value) -> Option<String> {
    use BinaryOp::*;
    match (op, lv, rv) {
        (Ge | Gt, Value::Duration(a), Value::Duration(b)) => {
            let left = b.checked_sub(*a)?;
            Some(format!(
                "{} short: {} of {} so far",
                super::format_duration(left),
                super::format_duration(*a),
                super::format_duration(*b)
            ))
        }
        (Le | Lt, Value::Duration(a), Value::Duration(b)) => Some(format!(
            "{} over the limit of {}",
            super::format_duration(a.checked_sub(*b)?),
            super::format_duration(*b)
        )),
        (Ge | Gt | Le | Lt, Value::Version(a), Value::Version(b)) => Some(match op {
            Ge | Gt => format!("{a} is older than {b}: this would be a downgrade"),
            _ => format!("{a} is newer than {b}"),
        }),
        (Eq, a, b) if a.type_name() != b.type_name() => Some(format!(
            "a {} never equals a {}",
            a.type_name(),
            b.type_name()
        )),
        _ => None,
    }
}

/// Drifted paths whose two sides are cited with their pointers.
const MAX_DRIFT_CITED: usize = 20;

fn item_field(item: &Value, key: &str) -> Option<Value> {
    match item {
        Value::Object(m) => m.get(key).cloned(),
        _ => None,
    }
}

/// The keys and indexes of a dotted `diff` path inside `value`. A key may
/// itself hold dots (`app.kubernetes.io/name`), so at each object the
/// longest run of segments that is one of its keys is taken.
fn dotted_steps(value: &Value, path: &str) -> Option<Vec<String>> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut steps = Vec::new();
    let mut node = value.clone();
    let mut i = 0;
    while i < segments.len() {
        let (step, next) = match &node {
            Value::Object(m) => (i + 1..=segments.len()).rev().find_map(|j| {
                let key = segments.get(i..j)?.join(".");
                m.get(&key).map(|v| ((key, j), v.clone()))
            })?,
            Value::List(l) => {
                let seg = segments.get(i)?;
                let v = l.get(seg.parse::<usize>().ok()?)?.clone();
                ((seg.to_string(), i + 1), v)
            }
            _ => return None,
        };
        steps.push(step.0);
        i = step.1;
        node = next;
    }
    Some(steps)
}

/// Lines listing each drifted path of a `diff` result.
fn drift_notes(value: &Value) -> Vec<String> {
    let Value::List(items) = value else {
        return Vec::new();
    };
    let mut out = vec![format!(
        "{} drifted path{}:",
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    )];
    for (i, item) in items.iter().enumerate() {
        if i >= 20 {
            out.push(format!("  … and {} more", items.len() - 20));
            break;
        }
        let Value::Object(m) = item else { continue };
        let get = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
        let path = match get("path") {
            Value::Str(s) => s.to_string(),
            other => other.to_string(),
        };
        let line = match get("kind") {
            Value::Str(k) if &*k == "added" => format!("  {path}: added {}", get("new").short(50)),
            Value::Str(k) if &*k == "removed" => {
                format!("  {path}: removed (was {})", get("old").short(50))
            }
            _ => format!(
                "  {path}: {} -> {}",
                get("old").short(50),
                get("new").short(50)
            ),
        };
        out.push(line);
    }
    out
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

/// "suites" from `evidence.tests.suites`; "elements" when there is no name.
fn noun_for(collection: &str) -> String {
    let chain = collection.split_whitespace().next().unwrap_or("");
    let last = chain
        .rsplit(['.', '[', '('])
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .trim_end_matches([')', ']', '"']);
    if !last.is_empty()
        && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !last.chars().all(|c| c.is_ascii_digit())
    {
        last.to_string()
    } else {
        "elements".to_string()
    }
}

/// `/tests/suites/3 ("integration"): failed = 2`
fn element_line(index: usize, item: &super::Element, sub: &Explanation) -> String {
    let (key, value, origin) = item;
    let mut head = match origin {
        Some(p) => p.to_string(),
        None => match key {
            Value::Str(k) => format!("key {}", Value::Str(k.clone())),
            _ => format!("element {index}"),
        },
    };
    if let Some(name) = name_of(value) {
        head.push_str(&format!(" ({name})"));
    }
    let prefix = origin.as_ref().map(|p| format!("{p}/"));
    let fields: Vec<String> = sub
        .cited
        .iter()
        .filter_map(|c| {
            let rel = match &prefix {
                Some(pre) => c.pointer.strip_prefix(pre.as_str())?.replace('/', "."),
                None => return None,
            };
            Some(format!("{rel} = {}", c.value.short(LABEL_WIDTH)))
        })
        .collect();
    if fields.is_empty() {
        format!("{head}: {}", value.short(LABEL_WIDTH))
    } else {
        format!("{head}: {}", fields.join(", "))
    }
}

/// Fields that name an element, shown next to it in explanations.
pub(crate) const NAME_FIELDS: [&str; 7] = ["name", "id", "key", "user", "title", "keyid", "purl"];

/// A name-like field of an element, so users recognise it.
fn name_of(v: &Value) -> Option<String> {
    let Value::Object(map) = v else { return None };
    for key in NAME_FIELDS {
        if let Some(Value::Str(s)) = map.get(key) {
            return Some(Value::Str(s.clone()).short(40));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_that_differ_late_say_where() {
        let a = Value::Str(format!("sha256:{}", "ab".repeat(32)).into());
        let b = Value::Str(format!("sha256:{}ac", "ab".repeat(31)).into());
        let note = where_they_differ(&a, &b).unwrap();
        assert_eq!(
            note,
            "the two strings first differ at character 71: \"…babab\" vs \"…babac\""
        );
        // Short strings are whole in the labels; equal ones do not differ.
        assert!(where_they_differ(&Value::Str("a".into()), &Value::Str("b".into())).is_none());
        assert!(where_they_differ(&a, &a).is_none());
    }
}
