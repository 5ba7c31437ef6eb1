//! Plain tests: quantifier bodies answered by reading alone.
//!
//! Most rules over a list compare a field of each element with a constant
//! or with other evidence (`all c in s.cases: c.status in ["passed",
//! "skipped"]`), maybe joined by `and`, `or`, `not`, or nested in another
//! quantifier over a field of the element. Such a body reads values and
//! builds none, and every step it charges is known from its form once the
//! lists it walks are known. A one-name quantifier whose body is one is
//! lowered a second time into a [`Plain`]: operands resolved to where they
//! read (a constant, a param, `evidence`, an element bound in the test, or a
//! name bound outside it), field chains to their keys and lookup memos, and
//! each part's steps summed.
//!
//! While deciding, [`Run::plain_each`] asks [`Run::plain_truth`] for each
//! element: the answer, and the exact steps evaluating the body would
//! charge, found without binding the element, building a value or touching
//! the budget. When they fit in what is left of the budget, they are charged
//! at once with the element's own two. When they do not, or when the reading
//! meets anything but the common case (a field that is not there, a value of
//! another type, an ordering that fails, an empty `all` or `none` to note
//! as vacuous, a name bound to a computed value), the element is evaluated
//! the general way from the same state, so it answers, fails and runs out of
//! budget exactly where it would have. The reading leaves behind only what
//! the general evaluation of the same element would (the key and string
//! each lookup and comparison last matched), so falling back after it
//! changes nothing. A quantifier inside a plain test notes no break: a
//! decision uses only the break of the condition's own quantifier
//! ([`Run::rule`]), which the quantifier that runs the plain test notes.
//! Tracing (explanations) never takes this path.

use super::{apply_values, Budget, Frame, Node, NodeKind, Result, Run, Val, Value};
use super::{FieldStep, QUANTIFIER_BODY};
use crate::syntax::ast::{BinaryOp, QuantKind};
use crate::syntax::Span;
use std::rc::Rc;

/// A plain test lowered for reading (see the module comment).
pub(in crate::eval) enum Plain {
    Compare(Box<Comparison>),
    /// `and`, `or`: the node's own steps, then the two sides.
    And(Box<(Plain, Plain)>, u64),
    Or(Box<(Plain, Plain)>, u64),
    Not(Box<Plain>, u64),
    Quantifier(Box<Quantifier>),
}

pub(in crate::eval) struct Comparison {
    op: BinaryOp,
    left: Operand,
    right: Operand,
    /// The comparison's memo ([`Run::compare`]), for a `Compare` node.
    memo: Option<usize>,
    /// The node's steps and its operands'.
    steps: u64,
    /// The node's, the left operand's and the right operand's spans (an
    /// ordering is decided by [`apply_values`], which takes them).
    spans: [Span; 3],
}

pub(in crate::eval) struct Quantifier {
    kind: QuantKind,
    collection: Operand,
    /// The node's steps and its collection's.
    steps: u64,
    body: Plain,
}

/// Where a plain operand reads its value, and the field chain read from it.
struct Operand {
    root: Root,
    fields: Box<[Field]>,
}

enum Root {
    Const(Value),
    Evidence,
    Param(usize),
    /// An element bound inside the plain test: 0 for the element of the
    /// quantifier the test belongs to, 1 for one a quantifier in it binds...
    Bound(usize),
    /// A name bound in the frame before the quantifier, by its slot.
    Outer(usize),
}

struct Field {
    name: Rc<str>,
    /// The step's lookup memo ([`Run::seen`]).
    seen: usize,
}

/// How deep a plain test may nest: [`Run::plain_truth`] recurses without
/// the stack check, so its depth is bounded here.
const DEPTH: usize = 8;

/// How many elements in a row a quantifier lets the general path answer
/// before it stops reading them plainly first.
const MISSES: u8 = 8;

impl Plain {
    /// `body` lowered as a plain test, for a quantifier whose element is
    /// bound at `slot` of the frame; `None` when it is not one.
    pub(super) fn lower(body: &Node, slot: usize) -> Option<Plain> {
        Self::lower_at(body, slot, 1, 0)
    }

    /// `node` where `bound` elements are bound inside the test (the
    /// quantifier's own included), the first at `slot`.
    fn lower_at(node: &Node, slot: usize, bound: usize, depth: usize) -> Option<Plain> {
        if depth > DEPTH {
            return None;
        }
        let own = u64::from(node.steps);
        let both = |l: &Node, r: &Node| {
            let l = Self::lower_at(l, slot, bound, depth + 1)?;
            Some(Box::new((l, Self::lower_at(r, slot, bound, depth + 1)?)))
        };
        Some(match &node.kind {
            NodeKind::And(l, r) => Plain::And(both(l, r)?, own),
            NodeKind::Or(l, r) => Plain::Or(both(l, r)?, own),
            NodeKind::Not(inner) => Plain::Not(
                Box::new(Self::lower_at(inner, slot, bound, depth + 1)?),
                own,
            ),
            NodeKind::Compare { op, l, r, memo } => {
                Self::comparison(*op, (l, r), Some(*memo), node, (slot, bound))?
            }
            NodeKind::Binary(op, l, r) if op.is_comparison() => {
                Self::comparison(*op, (l, r), None, node, (slot, bound))?
            }
            NodeKind::Quantifier {
                kind,
                vars: 1,
                collection,
                body,
                ..
            } => {
                let (collection, steps) = Operand::lower(collection, slot, bound)?;
                // The body sees one more element: this quantifier's.
                let body = Self::lower_at(body, slot, bound + 1, depth + 1)?;
                Plain::Quantifier(Box::new(Quantifier {
                    kind: *kind,
                    collection,
                    steps: own + steps,
                    body,
                }))
            }
            _ => return None,
        })
    }

    fn comparison(
        op: BinaryOp,
        (l, r): (&Node, &Node),
        memo: Option<usize>,
        node: &Node,
        (slot, bound): (usize, usize),
    ) -> Option<Plain> {
        let (left, left_steps) = Operand::lower(l, slot, bound)?;
        let (right, right_steps) = Operand::lower(r, slot, bound)?;
        Some(Plain::Compare(Box::new(Comparison {
            op,
            left,
            right,
            memo,
            steps: u64::from(node.steps) + left_steps + right_steps,
            spans: [node.span, l.span, r.span],
        })))
    }
}

impl Operand {
    /// `node` as a plain operand where `bound` elements are bound (the
    /// first at `slot`), with the steps evaluating it charges.
    fn lower(node: &Node, slot: usize, bound: usize) -> Option<(Operand, u64)> {
        let (root, fields): (&Node, &[FieldStep]) = match &node.kind {
            NodeKind::Path { root, fields } => (root, fields),
            _ => (node, &[]),
        };
        let root_steps = if fields.is_empty() {
            0
        } else {
            u64::from(root.steps)
        };
        let root = match &root.kind {
            NodeKind::Const(v) => Root::Const(v.clone()),
            NodeKind::Evidence => Root::Evidence,
            NodeKind::Param(i) => Root::Param(*i),
            NodeKind::Local(i) if *i >= slot => {
                let inside = *i - slot;
                // A name the checker resolved past the test's own elements
                // is left to the general path.
                if inside >= bound {
                    return None;
                }
                Root::Bound(inside)
            }
            NodeKind::Local(i) => Root::Outer(*i),
            _ => return None,
        };
        let fields = fields
            .iter()
            .map(|f| Field {
                name: f.name.clone(),
                seen: f.id,
            })
            .collect();
        Some((Operand { root, fields }, u64::from(node.steps) + root_steps))
    }
}

/// The elements bound inside a plain test, innermost first: `depth` 0 is
/// the element of the quantifier the test belongs to.
struct Bound<'b, 'a> {
    value: &'a Value,
    depth: usize,
    outer: Option<&'b Bound<'b, 'a>>,
}

impl<'a, const TRACE: bool> Run<'a, TRACE> {
    /// One element at a time, as [`Self::bind_each`] would, for a
    /// quantifier of `kind` over borrowed `items` whose body is `plain`.
    pub(super) fn plain_each(
        &self,
        kind: QuantKind,
        items: &'a [Value],
        (plain, (collection, body)): (&'a Plain, (&'a Node, &'a Node)),
        frame: &mut Frame<'a>,
        verdict: &mut bool,
    ) -> Result<()> {
        let slot = frame.len();
        let mut misses = 0;
        for (index, element) in items.iter().enumerate() {
            let room = self.budget.max.saturating_sub(self.budget.used());
            let answered = match room.checked_sub(2) {
                Some(room) if misses < MISSES => {
                    let bound = Bound {
                        value: element,
                        depth: 0,
                        outer: None,
                    };
                    self.plain_truth(plain, &bound, frame, room)
                }
                _ => None,
            };
            let holds = match answered {
                Some((holds, steps)) => {
                    misses = 0;
                    // Within the room left: this cannot run out.
                    self.budget.charge(2 + steps, collection.span)?;
                    holds
                }
                None => {
                    misses += 1;
                    self.budget.charge(2, collection.span)?;
                    frame.values.push(Val::Ref(element));
                    let holds = self.truth(body, frame, QUANTIFIER_BODY);
                    frame.truncate(slot);
                    holds?
                }
            };
            if !super::super::quantifier_step(kind, holds, verdict) {
                self.stopped_at.set(index);
                break;
            }
        }
        Ok(())
    }

    /// A plain test's answer for the elements `bound`, and the steps
    /// evaluating it would charge, if they are at most `room`; `None` when
    /// the general evaluation must answer (see the module comment).
    fn plain_truth(
        &self,
        plain: &'a Plain,
        bound: &Bound<'_, 'a>,
        frame: &Frame<'a>,
        room: u64,
    ) -> Option<(bool, u64)> {
        match plain {
            Plain::Compare(c) => self.plain_comparison(c, bound, frame, room),
            Plain::And(both, own) | Plain::Or(both, own) => {
                // `and` goes on while true, `or` while false.
                let goes_on = matches!(plain, Plain::And(..));
                let room = room.checked_sub(*own)?;
                let (left, steps) = self.plain_truth(&both.0, bound, frame, room)?;
                if left != goes_on {
                    return Some((left, own + steps));
                }
                let (right, more) = self.plain_truth(&both.1, bound, frame, room - steps)?;
                Some((right, own + steps + more))
            }
            Plain::Not(inner, own) => {
                let (holds, steps) =
                    self.plain_truth(inner, bound, frame, room.checked_sub(*own)?)?;
                Some((!holds, own + steps))
            }
            Plain::Quantifier(q) => {
                let room = room.checked_sub(q.steps)?;
                let Value::List(items) = self.plain_read(&q.collection, bound, frame)? else {
                    return None;
                };
                // An empty `all` or `none` is noted as vacuous: the general
                // evaluation does that.
                if items.is_empty() && q.kind != QuantKind::Any {
                    return None;
                }
                let unbroken = q.kind != QuantKind::Any;
                let mut verdict = unbroken;
                let mut steps = 0;
                for element in items.iter() {
                    steps += 2;
                    let inner = Bound {
                        value: element,
                        depth: bound.depth + 1,
                        outer: Some(bound),
                    };
                    let (holds, more) =
                        self.plain_truth(&q.body, &inner, frame, room.checked_sub(steps)?)?;
                    steps += more;
                    if !super::super::quantifier_step(q.kind, holds, &mut verdict) {
                        break;
                    }
                }
                Some((verdict, q.steps + steps))
            }
        }
    }

    /// A comparison answered as [`Self::compare`] answers it, with the steps
    /// it charges, if they are at most `room`.
    fn plain_comparison(
        &self,
        c: &'a Comparison,
        bound: &Bound<'_, 'a>,
        frame: &Frame<'a>,
        room: u64,
    ) -> Option<(bool, u64)> {
        let lv = self.plain_read(&c.left, bound, frame)?;
        let rv = self.plain_read(&c.right, bound, frame)?;
        let mut steps = c.steps;
        if let (BinaryOp::In | BinaryOp::NotIn, Value::List(items)) = (c.op, rv) {
            steps += items.len() as u64;
        }
        if steps > room {
            return None;
        }
        // A borrowed string lives as long as the run: its address stands
        // for its text (see `Run::compared`).
        let remembered = match (c.memo.and_then(|i| self.compared.get(i)), lv) {
            (Some(cell), Value::Str(s)) => Some((cell, s.as_ptr() as usize)),
            _ => None,
        };
        if let Some((cell, address)) = remembered {
            let (last, answer) = cell.get();
            if last == address {
                return Some((answer, steps));
            }
        }
        let answer = match (c.op, rv) {
            (BinaryOp::Eq, _) => lv.deep_eq(rv),
            (BinaryOp::Ne, _) => !lv.deep_eq(rv),
            (BinaryOp::In | BinaryOp::NotIn, Value::List(items)) => {
                items.iter().any(|x| x.deep_eq(lv)) == (c.op == BinaryOp::In)
            }
            (op, _) => {
                // Ordering (and `in` a string or an object): what it
                // charges is counted aside; an error is the general path's
                // to say.
                let aside = Budget::new(u64::MAX);
                let [at, l, r] = c.spans;
                match apply_values(op, lv, rv, l, r, at, &aside) {
                    Ok(Value::Bool(b)) => {
                        steps += aside.used();
                        if steps > room {
                            return None;
                        }
                        b
                    }
                    _ => return None,
                }
            }
        };
        if let Some((cell, address)) = remembered {
            cell.set((address, answer));
        }
        Some((answer, steps))
    }

    /// A plain operand's value: borrowed from the evidence, a constant or a
    /// param, all of which live as long as the run.
    #[inline(always)]
    fn plain_read(
        &self,
        operand: &'a Operand,
        bound: &Bound<'_, 'a>,
        frame: &Frame<'a>,
    ) -> Option<&'a Value> {
        let mut v = match &operand.root {
            Root::Const(v) => v,
            Root::Bound(depth) => {
                let mut b = bound;
                while b.depth != *depth {
                    b = b.outer?;
                }
                b.value
            }
            Root::Evidence => self.evidence,
            Root::Param(i) => self.params.get(*i)?.as_ref()?,
            // Only a borrowed value lives as long as the run (see `seen`
            // and `compared`); a computed one is the general path's.
            Root::Outer(slot) => match frame.values.get(*slot)? {
                Val::Ref(v) => v,
                Val::Own(_) => return None,
            },
        };
        for f in operand.fields.iter() {
            let Value::Object(map) = v else {
                return None;
            };
            v = map.get_remembered(&f.name, self.seen.get(f.seen)?, true)?;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Compiled;
    use super::*;

    /// Which quantifiers of each rule's `require`s, outermost first, were
    /// lowered as plain tests.
    fn plain_quantifiers(policy: &str) -> Vec<Vec<bool>> {
        fn walk(n: &Node, out: &mut Vec<bool>) {
            match &n.kind {
                NodeKind::Quantifier { plain, body, .. } => {
                    out.push(plain.is_some());
                    walk(body, out);
                }
                NodeKind::And(l, r) | NodeKind::Or(l, r) | NodeKind::Binary(_, l, r) => {
                    walk(l, out);
                    walk(r, out);
                }
                NodeKind::Not(inner) => walk(inner, out),
                NodeKind::Builtin { args, .. } => args.iter().for_each(|a| walk(a, out)),
                NodeKind::Comprehension { collection, .. } => walk(collection, out),
                _ => {}
            }
        }
        let program = crate::compile_str("t.clr", policy)
            .unwrap_or_else(|f| unreachable!("test policy does not compile: {:?}", f.errors));
        let gate = &program.gates[0];
        let compiled = Compiled::new(&program, &gate.lets, &gate.rules);
        compiled
            .rules
            .iter()
            .map(|r| {
                let mut out = Vec::new();
                r.requires.iter().for_each(|n| walk(n, &mut out));
                out
            })
            .collect()
    }

    #[test]
    fn the_workload_quantifiers_are_plain_tests() {
        let policy = include_str!("../../../policies/bench/workload.clr");
        // signed, suites-green, cases-green and no-critical (an outer and
        // an inner quantifier each); approvals' comprehension has none.
        let found = plain_quantifiers(policy);
        let none = Vec::<bool>::new();
        assert_eq!(found[1], [true]);
        assert_eq!(found[2], [true]);
        assert_eq!(found[3], [true, true]);
        assert_eq!(found[5], [true, true]);
        assert_eq!(found[7], none);
        assert_eq!(found.len(), 10);
    }

    #[test]
    fn what_needs_the_general_path_is_not_lowered_plainly() {
        let policy = r#"
stages a -> b
def f(x) = x
gate a -> b {
  let limit = 3
  rule lets { require all c in evidence.cs: c.n < limit }
  rule calls { require all c in evidence.cs: f(c.n) == 1 }
  rule pairs { require all i, c in evidence.cs: c.n == i }
  rule built { require all c in evidence.cs: [c.n] == [1] }
  rule exists { require all c in evidence.cs: exists c.n }
  rule plain { require all c in evidence.cs: not (c.n == 1) or c.m in ["a"] }
  rule nested { require all c in evidence.cs: any d in c.ds: d.k == c.k }
}
"#;
        let found = plain_quantifiers(policy);
        assert_eq!(
            found,
            [
                vec![false],
                vec![false],
                vec![false],
                vec![false],
                vec![false],
                vec![true],
                // The inner quantifier is read inside the outer's test; its
                // own form is plain too, for when it is evaluated alone.
                vec![true, true],
            ]
        );
    }
}
