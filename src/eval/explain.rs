//! Why a condition came out false: labels with the values of the
//! sub-expressions that decided it, the evidence each value came from, and for
//! quantifiers the elements that broke it. The compiled evaluator makes them
//! in its tracing mode ([`Compiled::traced`](super::compiled::Compiled),
//! where every expression has a node of its own), and only for the rules
//! that failed or errored.

use super::access::Val;
use super::compiled::{Frame, Node, NodeKind, Run};
use super::env::Origin;
use super::outcome::Problem;
use super::verdict::{Clause, Verdict};
use super::{Element, EvalError, Value};
use crate::syntax::ast::{BinaryOp, QuantKind};
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

/// `node` without the parentheses around it.
fn unparen(node: &Node) -> &Node {
    match &node.kind {
        NodeKind::Paren(inner) => unparen(inner),
        _ => node,
    }
}

/// True for a literal: a value written in the policy, known without
/// evidence (as [`crate::syntax::ast::Expr::is_literal`] says of its
/// expression; the tracing form folds nothing, so a constant node is one).
fn is_literal(node: &Node) -> bool {
    match &unparen(node).kind {
        NodeKind::Const(_) => true,
        NodeKind::Neg(inner) => is_literal(inner),
        NodeKind::List(items) => items.iter().all(is_literal),
        NodeKind::Object(entries) => entries.iter().all(|(_, v)| is_literal(v)),
        _ => false,
    }
}

/// A call's function name (its span) and arguments.
fn call_of(node: &Node) -> Option<(Span, &[Node])> {
    match &node.kind {
        NodeKind::Builtin { name, args, .. } | NodeKind::Def { name, args, .. } => {
            Some((*name, args))
        }
        NodeKind::UnknownFunction(name, args) => Some((name.span, args)),
        _ => None,
    }
}

impl<'a> Run<'a, true> {
    /// Explains the failing and erroring clauses of rule `i` (decided as
    /// `verdict`): a failing one value by value, an erroring one with the
    /// error evaluated again here, where values know their evidence.
    pub(super) fn explain_rule(&self, i: usize, verdict: &Verdict) -> Vec<Problem> {
        let Some(rule) = self.enter_rule(i) else {
            return Vec::new();
        };
        // The block's `let`s are evaluated again for each rule explained,
        // under that rule's budget, as when it was decided.
        self.forget_block_lets();
        let mut out = Vec::new();
        for (clause, index, fast_error) in &verdict.problems {
            let nodes = match clause {
                Clause::When => &rule.whens,
                Clause::Require => &rule.requires,
            };
            let Some(node) = nodes.get(*index) else {
                continue;
            };
            self.budget.reset();
            let mut explanation = Explanation::default();
            let error = match fast_error {
                // Evaluating a condition that exhausted the budget again
                // would only exhaust it again: its error is reported as it is.
                Some(fast) if fast.kind == super::ErrorKind::BudgetExceeded => Some(fast.clone()),
                // The traced error knows evidence pointers; it is preferred
                // when tracing reproduced the same kind of error.
                Some(fast) => Some(match self.holds(node, &mut Frame::new(), "condition") {
                    Err(e) if e.kind == fast.kind => e,
                    _ => fast.clone(),
                }),
                None => {
                    let broke_at = (verdict.broke_at.iter())
                        .find(|(require, _)| *clause == Clause::Require && require == index)
                        .map(|&(_, element)| (node, element));
                    self.tracing.broke_at.set(broke_at);
                    self.explain(node, &mut Frame::new(), false, &mut explanation);
                    self.tracing.broke_at.set(None);
                    None
                }
            };
            out.push(Problem {
                clause: *clause,
                span: node.span,
                error,
                explanation,
            });
        }
        out
    }

    fn snippet(&self, span: Span) -> &'a str {
        self.compiled.program().sources.snippet(span)
    }

    /// The value of `node` and where it came from in the evidence.
    fn traced(&self, node: &'a Node, frame: &mut Frame<'a>) -> Result<(Value, Origin), EvalError> {
        match self.eval(node, frame) {
            Ok(v) => Ok((v.into_value(), self.take_origin())),
            Err(e) => Err(*e),
        }
    }

    fn holds(&self, node: &'a Node, frame: &mut Frame<'a>, what: &str) -> Result<bool, EvalError> {
        self.truth(node, frame, what).map_err(|e| *e)
    }

    /// The elements a quantifier ranges over: (index or key, element,
    /// origin). Only an element of a list a comprehension built knows its
    /// origin here; the explanation points at the elements it shows itself.
    fn iterate(
        &self,
        vars: usize,
        collection: &'a Node,
        frame: &mut Frame<'a>,
    ) -> Result<(Elements, Origin), EvalError> {
        let (coll, origin) = self.traced(collection, frame)?;
        let program = self.compiled.program();
        let items = match &coll {
            // Made one at a time as they are asked for: a list can have
            // 190,000 elements, and all of them side by side with their
            // pointers were 12 MB more for explaining a large bundle.
            Value::List(items) => Elements::List(items.clone()),
            Value::Object(map) if vars >= 2 => Elements::Members(
                map.iter()
                    .map(|(k, v)| {
                        (
                            Value::Str(k.clone()),
                            v.clone(),
                            super::env::pointer_child(&origin, k),
                        )
                    })
                    .collect(),
            ),
            other => return Err(super::access::not_iterable(program, other, collection.span)),
        };
        Ok((items, origin))
    }

    /// Element `i` of what a quantifier iterates (found at `origin`): its
    /// index or key, its value, and for an element of a list a comprehension
    /// built, the pointer of the evidence element it was.
    fn element(&self, elements: &Elements, origin: &Origin, i: usize) -> Option<Element> {
        match elements {
            Elements::List(items) => {
                let value = items.get(i)?.clone();
                let known = if origin.is_none() {
                    self.element_origin(items, origin, i)
                } else {
                    None
                };
                Some((Value::Int(i as i64), value, known))
            }
            Elements::Members(members) => members.get(i).cloned(),
        }
    }

    /// Runs `f` with the quantifier's names bound to one element: the
    /// element, or its index or key and then the element.
    fn with_bound<T>(
        &self,
        vars: usize,
        (key, value, origin): &Element,
        frame: &mut Frame<'a>,
        f: impl FnOnce(&mut Frame<'a>) -> T,
    ) -> T {
        let mark = frame.len();
        match vars {
            0 => {}
            1 => frame.push::<true>(Val::Own(value.clone()), origin.clone()),
            _ => {
                frame.push::<true>(Val::Own(key.clone()), None);
                frame.push::<true>(Val::Own(value.clone()), origin.clone());
            }
        }
        let out = f(frame);
        frame.truncate(mark);
        out
    }

    /// Explains why `node` evaluated to `actual` in `frame`.
    fn explain(&self, node: &'a Node, frame: &mut Frame<'a>, actual: bool, out: &mut Explanation) {
        crate::stack::guard(|| match &node.kind {
            NodeKind::Paren(inner) => self.explain(inner, frame, actual, out),
            NodeKind::And(l, r) => {
                if actual {
                    self.explain(l, frame, true, out);
                    self.explain(r, frame, true, out);
                } else {
                    match self.holds(l, frame, "the left side of `and`") {
                        Ok(false) => self.explain(l, frame, false, out),
                        Ok(true) => self.explain(r, frame, false, out),
                        Err(err) => label_error(&err, out),
                    }
                }
            }
            NodeKind::Or(l, r) => {
                if actual {
                    match self.holds(l, frame, "the left side of `or`") {
                        Ok(true) => self.explain(l, frame, true, out),
                        Ok(false) => self.explain(r, frame, true, out),
                        Err(err) => label_error(&err, out),
                    }
                } else {
                    self.explain(l, frame, false, out);
                    self.explain(r, frame, false, out);
                }
            }
            NodeKind::Not(inner) => self.explain(inner, frame, !actual, out),
            NodeKind::Binary(op, l, r) | NodeKind::Compare { op, l, r, .. }
                if op.is_comparison() =>
            {
                self.explain_comparison(*op, l, r, frame, actual, out)
            }
            NodeKind::Quantifier {
                kind,
                vars,
                collection,
                body,
                ..
            } => {
                // Where deciding found the first element that breaks it, when
                // this is the condition it decided (see `Verdict::broke_at`).
                let from = match self.tracing.broke_at.get() {
                    Some((root, element)) if std::ptr::eq(root, node) => element,
                    _ => 0,
                };
                let quantifier = (*kind, *vars, &**collection, &**body);
                self.explain_quantifier(quantifier, from, frame, actual, out)
            }
            NodeKind::Exists(inner) => match self.traced(inner, frame) {
                Err(err) => out.label(inner.span, format!("missing: {}", err.message)),
                Ok((v, origin)) => {
                    let v = self.file_value(&origin).unwrap_or(v);
                    out.cite(self.snippet(inner.span), &origin, &v);
                    out.label(inner.span, format!("exists: {}", v.short(LABEL_WIDTH)));
                }
            },
            NodeKind::If(c, t, f) => match self.holds(c, frame, "the condition of `if`") {
                Ok(true) => {
                    self.explain(c, frame, true, out);
                    self.explain(t, frame, actual, out)
                }
                Ok(false) => {
                    self.explain(c, frame, false, out);
                    self.explain(f, frame, actual, out)
                }
                Err(err) => label_error(&err, out),
            },
            _ => match call_of(node) {
                Some((name, args)) => {
                    // The value goes under the function name, so it does not
                    // overlap the labels of the arguments.
                    out.label(name, format!("{actual}"));
                    for a in args {
                        if !is_literal(a) {
                            self.label_operand(a, frame, None, out);
                        }
                    }
                }
                None => {
                    self.label_operand(node, frame, None, out);
                }
            },
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
    fn cite_drift(
        &self,
        args: &'a [Node],
        frame: &mut Frame<'a>,
        drift: &Value,
        out: &mut Explanation,
    ) {
        let (Some(from), Some(to), Value::List(items)) = (args.first(), args.get(1), drift) else {
            return;
        };
        let (Ok((from_value, from_origin)), Ok((to_value, to_origin))) =
            (self.traced(from, frame), self.traced(to, frame))
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

    /// Labels an operand with its value (and `suffix`), citing its evidence pointer.
    fn label_operand(
        &self,
        node: &'a Node,
        frame: &mut Frame<'a>,
        suffix: Option<String>,
        out: &mut Explanation,
    ) -> Option<Value> {
        let (v, origin) = match self.traced(node, frame) {
            Ok(found) => found,
            Err(err) => {
                label_error(&err, out);
                return None;
            }
        };
        let v = self.file_value(&origin).unwrap_or(v);
        out.cite(self.snippet(node.span), &origin, &v);
        let mut text = v.short(LABEL_WIDTH);
        if let Some(s) = suffix {
            text.push_str(", ");
            text.push_str(&s);
        }
        let bare = unparen(node);
        match (call_of(bare), &bare.kind) {
            (Some((name, args)), _) if self.snippet(name) == "diff" => {
                out.label(
                    name,
                    format!(
                        "{} drifted",
                        if let Value::List(l) = &v { l.len() } else { 0 }
                    ),
                );
                out.notes.extend(drift_notes(&v));
                self.cite_drift(args, frame, &v, out);
            }
            // Conversions (`time(x)`, `semver(x)`): the converted value
            // under the name; the raw argument is only cited.
            (Some((name, args)), _) if CONVERSIONS.contains(&self.snippet(name)) => {
                out.label(name, text);
                for a in args {
                    if let Ok((v, o)) = self.traced(a, frame) {
                        let v = self.file_value(&o).unwrap_or(v);
                        out.cite(self.snippet(a.span), &o, &v);
                    }
                }
            }
            // `count(approvers)`: the value under `count`, and what was counted.
            (Some((name, args)), _) => {
                out.label(name, text);
                for a in args.iter().filter(|a| !is_literal(a)) {
                    self.label_operand(a, frame, None, out);
                }
            }
            // `time(a) - time(b)`: the result, and both operands.
            (
                None,
                NodeKind::Binary(
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem,
                    l,
                    r,
                ),
            ) => {
                // The result goes under the operator, clear of the operands' labels.
                out.label(self.operator_span(l.span, r.span), text);
                for side in [l, r] {
                    if !is_literal(side) {
                        self.label_operand(side, frame, None, out);
                    }
                }
            }
            _ => out.label(node.span, text),
        }
        Some(v)
    }

    fn explain_comparison(
        &self,
        op: BinaryOp,
        l: &'a Node,
        r: &'a Node,
        frame: &mut Frame<'a>,
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
        let (Ok((lv, _)), Ok((rv, _))) = (self.traced(l, frame), self.traced(r, frame)) else {
            // One side cannot be evaluated: label what can be.
            self.label_operand(l, frame, None, out);
            self.label_operand(r, frame, None, out);
            return;
        };
        if is_literal(r) && !is_literal(l) {
            let suffix = (!actual).then(|| expected(op, &rv));
            self.label_operand(l, frame, suffix, out);
        } else if is_literal(l) && !is_literal(r) && !matches!(op, BinaryOp::In | BinaryOp::NotIn) {
            let suffix = (!actual).then(|| expected(flip(op), &lv));
            self.label_operand(r, frame, suffix, out);
        } else {
            self.label_operand(l, frame, None, out);
            self.label_operand(r, frame, None, out);
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
        (kind, vars, collection, body): (QuantKind, usize, &'a Node, &'a Node),
        broke_at: usize,
        frame: &mut Frame<'a>,
        actual: bool,
        out: &mut Explanation,
    ) {
        let (items, coll_origin) = match self.iterate(vars, collection, frame) {
            Ok(x) => x,
            Err(err) => return label_error(&err, out),
        };
        let n = items.len();
        let coll = self.snippet(collection.span);
        let noun = noun_for(coll);
        // The elements worth showing are those whose body has this value.
        let want_body = match kind {
            QuantKind::All | QuantKind::Any => actual,
            QuantKind::None => !actual,
        };
        // Which elements those are is a question of values alone, so a
        // deciding run answers it, at its speed: it is asked of every
        // element (190,000 components), and only the few shown need to
        // know where their values came from.
        let deciding = self.deciding_beside();
        // Deciding stopped an `all` or a `none` at the first element that
        // breaks it, every one before it evaluated and holding the other
        // way, without error: none of those is shown or counted, so the
        // counting starts there (the last of 190,000 components, say).
        let first = match (kind, actual) {
            (QuantKind::All | QuantKind::None, false) => broke_at.min(n),
            _ => 0,
        };
        let mut matching = Vec::new();
        let mut errors = 0usize;
        for i in first..n {
            let Some((key, value)) = items.key_and_value(i) else {
                continue;
            };
            let mark = frame.len();
            match vars {
                0 => {}
                1 => frame.push::<false>(Val::Own(value), None),
                _ => {
                    frame.push::<false>(Val::Own(key), None);
                    frame.push::<false>(Val::Own(value), None);
                }
            }
            let holds = deciding.truth(body, frame, "the body of a quantifier");
            frame.truncate(mark);
            match holds {
                Ok(b) if b == want_body => matching.push(i),
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        }
        self.charge_for(&deciding);
        let k = matching.len();
        let headline = match (kind, actual) {
            (_, _) if n == 0 => match kind {
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
            let Some((key, value, known)) = self.element(&items, &coll_origin, i) else {
                continue;
            };
            // Only the elements shown get their pointer.
            let step = match &key {
                Value::Str(k) => k.to_string(),
                _ => i.to_string(),
            };
            // An element of a list a comprehension built knows its own
            // pointer in the evidence; any other is found under the list's.
            let item = &(
                key,
                value,
                known.or_else(|| super::env::pointer_child(&coll_origin, &step)),
            );
            let mut sub = Explanation::default();
            self.with_bound(vars, item, frame, |inner| {
                self.explain(body, inner, want_body, &mut sub)
            });
            let (key, value, origin) = item;
            // The line shows the element itself only when it cites none of
            // its fields; otherwise just the fields that name it.
            let shown_in_file = if cites_within(origin, &sub) {
                self.file_names(origin)
            } else {
                self.file_value(origin)
            };
            let value = shown_in_file.unwrap_or_else(|| value.clone());
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

/// What a quantifier iterates, for explaining it: a list's elements, or an
/// object's members (`k, v`).
enum Elements {
    List(std::rc::Rc<[Value]>),
    Members(Vec<Element>),
}

impl Elements {
    /// Element `i`'s index or key, and its value.
    fn key_and_value(&self, i: usize) -> Option<(Value, Value)> {
        match self {
            Elements::List(items) => Some((Value::Int(i as i64), items.get(i)?.clone())),
            Elements::Members(members) => members.get(i).map(|(k, v, _)| (k.clone(), v.clone())),
        }
    }

    fn len(&self) -> usize {
        match self {
            Elements::List(items) => items.len(),
            Elements::Members(members) => members.len(),
        }
    }
}

fn label_error(err: &EvalError, out: &mut Explanation) {
    out.label(err.span, format!("error: {}", err.message));
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
/// Whether `sub` cites a value under `origin`: then [`element_line`] lists
/// those values, and of the element itself only what names it.
fn cites_within(origin: &Origin, sub: &Explanation) -> bool {
    let Some(origin) = origin else {
        return false;
    };
    sub.cited.iter().any(|c| {
        c.pointer
            .strip_prefix(origin.as_ref())
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

fn element_line(index: usize, item: &Element, sub: &Explanation) -> String {
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
    use crate::eval::compiled::{param_values, Compiled};
    use crate::eval::{ErrorKind, EvalOptions, Outcome};

    /// A policy of one gate `a -> b` holding `rules`, evidence from `json`,
    /// and options at a fixed time.
    fn gate_of(rules: &str, json: &str) -> (crate::check::Program, Value, EvalOptions) {
        let text = format!("stages a -> b\ngate a -> b {{\n  {rules}\n}}\n");
        let program = crate::compile_str("t.clr", &text)
            .unwrap_or_else(|f| unreachable!("test policy does not compile: {:?}", f.errors));
        let evidence = crate::eval::parse_json(json, Default::default()).unwrap_or(Value::Null);
        (
            program,
            evidence,
            EvalOptions::at(jiff::Timestamp::UNIX_EPOCH),
        )
    }

    #[test]
    fn explaining_from_where_deciding_broke_off_explains_the_same() {
        let (program, evidence, options) = gate_of(
            "rule small {\n    require all x in evidence.xs: x < 5\n  }\n  rule rare {\n    require none x in evidence.xs: x > 6\n  }\n  rule nested {\n    require not (any x in evidence.xs: x > 100)\n    require all x in evidence.xs: x < 5 or x > 8\n  }",
            r#"{"xs": [1, 7, 2, 8, 9, 3]}"#,
        );
        let gate = &program.gates[0];
        let verdicts =
            Compiled::new(&program, &gate.lets, &gate.rules).verdicts(&evidence, &options);
        let broke: Vec<_> = verdicts.iter().map(|v| v.broke_at.clone()).collect();
        // `7` breaks both `x < 5` and `x > 6`; the `not` is no quantifier;
        // `7` breaks `x < 5 or x > 8`, the second require.
        assert_eq!(broke, [vec![(0, 1)], vec![(0, 1)], vec![(1, 1)]]);
        let traced = Compiled::traced(&program, &gate.lets, &gate.rules);
        let params = param_values(&program, &options);
        let run = Run::<true>::new(&traced, &evidence, &params, &options);
        for (i, verdict) in verdicts.iter().enumerate() {
            let from_the_start = Verdict {
                outcome: verdict.outcome,
                problems: verdict.problems.clone(),
                vacuous: verdict.vacuous.clone(),
                broke_at: Vec::new(),
            };
            let resumed = run.explain_rule(i, verdict);
            let whole = run.explain_rule(i, &from_the_start);
            assert_eq!(format!("{resumed:?}"), format!("{whole:?}"), "rule {i}");
            let notes: Vec<_> = resumed
                .iter()
                .flat_map(|p| p.explanation.notes.clone())
                .collect();
            let expected = ["3 of 6", "3 of 6", "2 of 6"];
            assert!(
                notes.iter().any(|n| n.starts_with(expected[i])),
                "rule {i}: {notes:?}"
            );
        }
    }

    #[test]
    fn a_condition_that_exhausted_its_budget_is_not_evaluated_again() {
        let (program, evidence, options) = gate_of(
            "rule r {\n    require all x in evidence.xs: x > 0\n  }",
            r#"{"xs": [1, 2, 3]}"#,
        );
        let gate = &program.gates[0];
        let traced = Compiled::traced(&program, &gate.lets, &gate.rules);
        let params = param_values(&program, &options);
        let run = Run::<true>::new(&traced, &evidence, &params, &options);
        // As the deciding pass reported it (here under a budget that ran out).
        let exhausted = EvalError::new(ErrorKind::BudgetExceeded, Span::default(), "ran out");
        let verdict = Verdict {
            outcome: Outcome::Error,
            problems: vec![(Clause::Require, 0, Some(exhausted))],
            vacuous: Vec::new(),
            broke_at: Vec::new(),
        };
        let problems = run.explain_rule(0, &verdict);
        let [problem] = problems.as_slice() else {
            unreachable!("one problem expected: {problems:?}")
        };
        let error = problem.error.as_ref().map(|e| (e.kind, e.message.as_str()));
        assert_eq!(error, Some((ErrorKind::BudgetExceeded, "ran out")));
        // Nothing was evaluated: the condition would have held.
        assert_eq!(run.budget.used(), 0);
        // Any other error is evaluated again, where values know their evidence.
        let other = EvalError::new(ErrorKind::Missing, Span::default(), "stale");
        let verdict = Verdict {
            outcome: Outcome::Error,
            problems: vec![(Clause::Require, 0, Some(other))],
            vacuous: Vec::new(),
            broke_at: Vec::new(),
        };
        run.explain_rule(0, &verdict);
        assert!(run.budget.used() > 0);
    }

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
