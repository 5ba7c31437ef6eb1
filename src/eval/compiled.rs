//! The compiled evaluator: the fast path of every rule.
//!
//! A checked block of rules is lowered once into nodes: every name is
//! resolved to a slot (bound variables by position in a frame, `let`s by scope
//! and index, params by index), literal strings, lists and objects are built
//! once, operators over constants are folded, builtins and helpers are bound
//! by reference, parentheses disappear, and a chain of `.field`s becomes one
//! node whose steps remember the evidence key they last matched. Evaluation
//! borrows what it reads from the evidence, constants and params
//! (`Val::Ref`) and never clones a subtree it only reads. A quantifier whose
//! body only compares fields of its elements (a plain test) answers each
//! element by reading alone and charges the body's steps at once (see
//! `plain`).
//!
//! The same evaluator explains: [`Compiled::traced`] lowers a block with a
//! node for every expression, and `Run<TRACE = true>` carries each value's
//! JSON pointer, which [`super::explain`] turns into labels and citations.
//!
//! The step budget is defined here, on the form that runs
//! (docs/guarantees.md, "What a step is"): one step per expression, so a
//! node charges every step of the expressions it stands for (a
//! parenthesized expression one more, a folded or chained one all of its
//! parts), before anything in it can fail. The tracing form and the AST
//! interpreter kept as the test oracle ([`super::Evaluator`]) charge the
//! same, and tests hold all three to the same verdicts.

use super::access::{self, Val};
use super::builtins::{self, Builtin};
use super::projection::Projection;
use super::verdict::{Clause, Outcome, Verdict};
use super::{apply_values, const_value, Budget, ErrorKind, EvalError, EvalOptions, Origin, Value};
use crate::check::Program;
use crate::syntax::ast::*;
use crate::syntax::Span;
use jiff::{SignedDuration, Timestamp};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

mod plain;

/// Which block of `let`s a name refers to.
#[derive(Clone, Copy, Debug)]
pub(super) enum Level {
    /// File-level `let`s.
    Global,
    /// The `let`s of the gate (or stage) being decided.
    Block,
    /// The `let`s of the rule being evaluated.
    Rule,
}

pub(super) struct Node {
    pub(super) kind: NodeKind,
    pub(super) span: Span,
    /// Budget steps charged on entry (see the module comment).
    steps: u32,
}

pub(super) enum NodeKind {
    Const(Value),
    Evidence,
    Now,
    /// The signed history, when the run has one.
    Ledger,
    Param(usize),
    /// A bound variable: its position in the current frame.
    Local(usize),
    Let(Level, usize),
    /// A name that resolves to nothing (the checker prevents it; kept fail-closed).
    Unbound(String),
    List(Vec<Node>),
    Object(Vec<(Rc<str>, Node)>),
    /// `root.a.b.c`: a chain of field steps, walked in one node.
    Path {
        root: Box<Node>,
        fields: Vec<FieldStep>,
    },
    Index(Box<Node>, Box<Node>),
    Exists(Box<Node>),
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Coalesce(Box<Node>, Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    /// `x == "s"`, `x != "s"`, `x in [...]`, `x not in [...]` against a
    /// constant: the result for the last evidence string compared is
    /// remembered by its address (see [`Run::compared`]).
    Compare {
        op: BinaryOp,
        l: Box<Node>,
        r: Box<Node>,
        memo: usize,
    },
    If(Box<Node>, Box<Node>, Box<Node>),
    Quantifier {
        kind: QuantKind,
        vars: usize,
        collection: Box<Node>,
        body: Box<Node>,
        /// The body lowered as a plain test (see [`plain`]), when it is one
        /// and the quantifier binds one name (deciding only).
        plain: Option<Box<plain::Plain>>,
    },
    Comprehension {
        vars: usize,
        collection: Box<Node>,
        filter: Option<Box<Node>>,
        element: Box<Node>,
    },
    Builtin {
        builtin: &'static Builtin,
        args: Vec<Node>,
        spans: Vec<Span>,
        /// The function's name in the call, where explanations put its value.
        name: Span,
    },
    /// A call of a `def` helper, by its index in [`Compiled::defs`].
    Def {
        def: usize,
        args: Vec<Node>,
        name: Span,
    },
    UnknownFunction(Ident, Vec<Node>),
    /// `(inner)`, kept only in the tracing form (see [`Compiled::traced`]),
    /// whose nodes stand one for one for the expressions an explanation
    /// labels; the deciding form drops parentheses.
    Paren(Box<Node>),
}

/// One `.name` of a [`NodeKind::Path`], innermost first.
pub(super) struct FieldStep {
    name: Rc<str>,
    name_span: Span,
    /// The expression the field is read from, for error messages.
    base_span: Span,
    /// This step's slot in [`Run::seen`].
    id: usize,
}

pub(super) struct CompiledRule {
    lets: Vec<Node>,
    pub(super) whens: Vec<Node>,
    pub(super) requires: Vec<Node>,
}

struct CompiledDef {
    params: usize,
    body: Node,
}

/// A block of rules (a gate, or a stage's rollback triggers) ready to evaluate.
pub struct Compiled<'p> {
    program: &'p Program,
    globals: Vec<Node>,
    block: Vec<Node>,
    defs: Vec<CompiledDef>,
    rules: Vec<CompiledRule>,
    /// How many field steps the nodes hold.
    field_steps: usize,
    /// How many [`NodeKind::Compare`] nodes they hold.
    compare_memos: usize,
}

/// What a name can resolve to at one point of the program, innermost first.
struct Scope<'p> {
    program: &'p Program,
    /// Bound variables of the current frame, outermost first.
    /// The bound variables in scope, innermost last: name and where bound.
    locals: Vec<(&'p str, crate::syntax::Span)>,
    rule: Option<&'p [Binding]>,
    block: Option<&'p [Binding]>,
    /// In a `def` body the file-level `let`s come before `evidence`, `now` and
    /// params, as they do in the interpreter's environment.
    in_def: bool,
    /// Steps of the expressions folded into the node being lowered.
    extra_steps: u32,
    /// Field steps lowered so far (each gets a lookup memo at run time).
    field_steps: usize,
    /// [`NodeKind::Compare`] nodes lowered so far (each gets a memo too).
    compare_memos: usize,
    /// Recursion depth of `lower`, for the stack check.
    depth: usize,
    /// Lowering for explanations: a node for every expression (parentheses
    /// and each `.field` kept, nothing folded; see [`Compiled::traced`]).
    trace: bool,
}

fn position(bindings: &[Binding], name: &str) -> Option<usize> {
    bindings.iter().position(|b| b.name.name == name)
}

impl<'p> Scope<'p> {
    fn new(program: &'p Program) -> Self {
        Scope {
            program,
            locals: Vec::new(),
            rule: None,
            block: None,
            in_def: false,
            extra_steps: 0,
            field_steps: 0,
            compare_memos: 0,
            depth: 0,
            trace: false,
        }
    }

    /// The slot of the name used at `span`, from the checker's resolution
    /// (which binding the name means is decided there, once); `None` for a
    /// use the checker did not resolve, which [`Self::resolve`] looks up.
    fn resolved(&self, span: crate::syntax::Span) -> Option<NodeKind> {
        use crate::check::Resolved;
        let same =
            |a: crate::syntax::Span, b: crate::syntax::Span| a.file == b.file && a.start == b.start;
        Some(match self.program.resolution.of(span)? {
            Resolved::Evidence => NodeKind::Evidence,
            Resolved::Now => NodeKind::Now,
            Resolved::Ledger => NodeKind::Ledger,
            Resolved::Param(i) => NodeKind::Param(i),
            Resolved::Var(at) => {
                NodeKind::Local(self.locals.iter().rposition(|(_, s)| same(*s, at))?)
            }
            Resolved::Let(at) => {
                let in_block = |b: &[Binding]| b.iter().position(|l| same(l.name.span, at));
                if let Some(i) = self.rule.and_then(in_block) {
                    NodeKind::Let(Level::Rule, i)
                } else if let Some(i) = self.block.and_then(in_block) {
                    NodeKind::Let(Level::Block, i)
                } else {
                    NodeKind::Let(Level::Global, in_block(&self.program.lets)?)
                }
            }
        })
    }

    fn resolve(&self, name: &str) -> NodeKind {
        if let Some(i) = self.locals.iter().rposition(|(n, _)| *n == name) {
            return NodeKind::Local(i);
        }
        if let Some(i) = self.rule.and_then(|r| position(r, name)) {
            return NodeKind::Let(Level::Rule, i);
        }
        if let Some(i) = self.block.and_then(|b| position(b, name)) {
            return NodeKind::Let(Level::Block, i);
        }
        if self.in_def {
            if let Some(&i) = self.program.let_index.get(name) {
                return NodeKind::Let(Level::Global, i);
            }
        }
        match name {
            "evidence" => NodeKind::Evidence,
            "now" => NodeKind::Now,
            "ledger" => NodeKind::Ledger,
            _ => {
                if let Some(&i) = self.program.param_index.get(name) {
                    NodeKind::Param(i)
                } else if let Some(&i) = self.program.let_index.get(name) {
                    NodeKind::Let(Level::Global, i)
                } else {
                    NodeKind::Unbound(name.to_string())
                }
            }
        }
    }

    fn lower(&mut self, e: &'p Expr) -> Node {
        // Lowering recurses as deep as the expression.
        crate::stack::descend_mut(self, |s| &mut s.depth, |s| s.lower_node(e))
    }

    fn lower_node(&mut self, e: &'p Expr) -> Node {
        if let (true, ExprKind::Paren(inner)) = (self.trace, &e.kind) {
            return Node {
                kind: NodeKind::Paren(Box::new(self.lower(inner))),
                span: e.span,
                steps: 1,
            };
        }
        let outer_extra = std::mem::take(&mut self.extra_steps);
        let mut steps = 1;
        let mut e = e;
        let span = e.span;
        while let ExprKind::Paren(inner) = &e.kind {
            steps += 1;
            e = inner;
        }
        let constant = matches!(
            e.kind,
            ExprKind::Str(_) | ExprKind::List(_) | ExprKind::Object(_)
        ) && e.is_literal();
        let kind = match &e.kind {
            _ if constant => match const_value(e) {
                Ok(v) => NodeKind::Const(v),
                Err(_) => self.lower_composite(e),
            },
            ExprKind::Null => NodeKind::Const(Value::Null),
            ExprKind::Bool(b) => NodeKind::Const(Value::Bool(*b)),
            ExprKind::Int(i) => NodeKind::Const(Value::Int(*i)),
            ExprKind::Float(f) => NodeKind::Const(Value::Float(*f)),
            ExprKind::Str(s) => NodeKind::Const(Value::str(s)),
            ExprKind::Duration(n) => {
                NodeKind::Const(Value::Duration(SignedDuration::from_nanos(*n)))
            }
            _ => self.lower_composite(e),
        };
        let steps = steps + std::mem::replace(&mut self.extra_steps, outer_extra);
        let node = Node { kind, span, steps };
        if self.trace {
            node
        } else {
            fold(node)
        }
    }

    fn lower_composite(&mut self, e: &'p Expr) -> NodeKind {
        let boxed = |s: &mut Self, e: &'p Expr| Box::new(s.lower(e));
        match &e.kind {
            ExprKind::List(items) => NodeKind::List(items.iter().map(|i| self.lower(i)).collect()),
            ExprKind::Object(entries) => NodeKind::Object(
                entries
                    .iter()
                    .map(|(k, v)| (Rc::from(k.name.as_str()), self.lower(v)))
                    .collect(),
            ),
            ExprKind::Name(name) => self.resolved(e.span).unwrap_or_else(|| self.resolve(name)),
            ExprKind::Field(..) => self.lower_path(e),
            ExprKind::Index(base, index) => NodeKind::Index(boxed(self, base), boxed(self, index)),
            ExprKind::Exists(inner) => NodeKind::Exists(boxed(self, inner)),
            ExprKind::Unary(UnaryOp::Not, inner) => NodeKind::Not(boxed(self, inner)),
            ExprKind::Unary(UnaryOp::Neg, inner) => NodeKind::Neg(boxed(self, inner)),
            ExprKind::Binary(op, l, r) => {
                let (l, r) = (boxed(self, l), boxed(self, r));
                match op {
                    BinaryOp::And => NodeKind::And(l, r),
                    BinaryOp::Or => NodeKind::Or(l, r),
                    BinaryOp::Coalesce => NodeKind::Coalesce(l, r),
                    op @ (BinaryOp::Eq | BinaryOp::Ne | BinaryOp::In | BinaryOp::NotIn)
                        if !self.trace
                            && matches!(
                                r.kind,
                                NodeKind::Const(Value::Str(_) | Value::List(_))
                            )
                            && !matches!(l.kind, NodeKind::Const(_)) =>
                    {
                        let memo = self.compare_memos;
                        self.compare_memos += 1;
                        NodeKind::Compare {
                            op: *op,
                            l,
                            r,
                            memo,
                        }
                    }
                    op => NodeKind::Binary(*op, l, r),
                }
            }
            ExprKind::If(c, t, f) => NodeKind::If(boxed(self, c), boxed(self, t), boxed(self, f)),
            ExprKind::Quantifier(q) => {
                let collection = boxed(self, &q.collection);
                // Where the element is bound in the frame.
                let slot = self.locals.len();
                let body = self.with_vars(&q.vars, |s| s.lower(&q.body));
                let plain = match (self.trace, q.vars.len()) {
                    (false, 1) => plain::Plain::lower(&body, slot).map(Box::new),
                    _ => None,
                };
                NodeKind::Quantifier {
                    kind: q.kind,
                    vars: q.vars.len(),
                    collection,
                    plain,
                    body: Box::new(body),
                }
            }
            ExprKind::Comprehension(c) => {
                let collection = boxed(self, &c.collection);
                let (filter, element) = self.with_vars(&c.vars, |s| {
                    (
                        c.filter.as_ref().map(|f| Box::new(s.lower(f))),
                        s.lower(&c.element),
                    )
                });
                NodeKind::Comprehension {
                    vars: c.vars.len(),
                    collection,
                    filter,
                    element: Box::new(element),
                }
            }
            ExprKind::Call(name, args) => {
                let args: Vec<Node> = args.iter().map(|a| self.lower(a)).collect();
                if let Some(builtin) = builtins::find(&name.name) {
                    let spans = args.iter().map(|a| a.span).collect();
                    NodeKind::Builtin {
                        builtin,
                        args,
                        spans,
                        name: name.span,
                    }
                } else if let Some(&i) = self.program.def_index.get(&name.name) {
                    NodeKind::Def {
                        def: i,
                        args,
                        name: name.span,
                    }
                } else {
                    NodeKind::UnknownFunction(name.clone(), args)
                }
            }
            // Literals and parentheses are handled by `lower`.
            ExprKind::Paren(inner) => self.lower(inner).kind,
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_) => match const_value(e) {
                Ok(v) => NodeKind::Const(v),
                Err(_) => NodeKind::Unbound(String::new()),
            },
        }
    }

    /// Lowers a chain of field steps into one [`NodeKind::Path`]. Every
    /// `.field` and parenthesis of the chain is a step, charged before the
    /// root is evaluated; the path node charges them all on entry. (The
    /// tracing form keeps one node per `.field`.)
    fn lower_path(&mut self, e: &'p Expr) -> NodeKind {
        if let (true, ExprKind::Field(base, field)) = (self.trace, &e.kind) {
            // One step a node: explanations and errors say where each
            // `.field` of a chain led.
            let step = FieldStep {
                name: Rc::from(field.name.as_str()),
                name_span: field.span,
                base_span: base.span,
                id: self.field_steps,
            };
            self.field_steps += 1;
            return NodeKind::Path {
                root: Box::new(self.lower(base)),
                fields: vec![step],
            };
        }
        let mut fields = Vec::new();
        let mut current = e;
        loop {
            match &current.kind {
                ExprKind::Field(base, field) => {
                    fields.push(FieldStep {
                        name: Rc::from(field.name.as_str()),
                        name_span: field.span,
                        base_span: base.span,
                        id: self.field_steps,
                    });
                    self.field_steps += 1;
                    current = base;
                }
                ExprKind::Paren(inner) => {
                    self.extra_steps += 1;
                    current = inner;
                }
                _ => break,
            }
        }
        // The outermost `.field` is the node itself, already counted.
        self.extra_steps += fields.len().saturating_sub(1) as u32;
        fields.reverse();
        NodeKind::Path {
            root: Box::new(self.lower(current)),
            fields,
        }
    }

    /// Lowers `f` with one-name or two-name bindings in scope.
    fn with_vars<T>(&mut self, vars: &'p [Ident], f: impl FnOnce(&mut Self) -> T) -> T {
        let mark = self.locals.len();
        // The interpreter binds `k, v` as two frames; more names bind the first two.
        self.locals
            .extend(vars.iter().take(2).map(|v| (v.name.as_str(), v.span)));
        let out = f(self);
        self.locals.truncate(mark);
        out
    }
}

/// Folds an operator over constants into its value, charging on entry every
/// step evaluating it unfolded would charge (its operands', and one per
/// element for `in` over a list). Leaves alone what fails (the error belongs to
/// run time) and what makes a string (its length limit is a run-time option).
fn fold(node: Node) -> Node {
    let Node { kind, span, steps } = node;
    let folded = match &kind {
        NodeKind::Neg(inner) => match &inner.kind {
            NodeKind::Const(v) => super::ops::negate(v.clone(), span)
                .ok()
                .map(|v| (v, u64::from(inner.steps))),
            _ => None,
        },
        NodeKind::Binary(op, l, r) => match (&l.kind, &r.kind) {
            (NodeKind::Const(lv), NodeKind::Const(rv)) => {
                let budget = Budget::new(u64::MAX);
                apply_values(*op, lv, rv, l.span, r.span, span, &budget)
                    .ok()
                    .filter(|v| !matches!(v, Value::Str(_)))
                    .map(|v| (v, u64::from(l.steps) + u64::from(r.steps) + budget.used()))
            }
            _ => None,
        },
        _ => None,
    };
    match folded.and_then(|(v, more)| Some((v, steps.checked_add(u32::try_from(more).ok()?)?))) {
        Some((value, steps)) => Node {
            kind: NodeKind::Const(value),
            span,
            steps,
        },
        None => Node { kind, span, steps },
    }
}

impl<'p> Compiled<'p> {
    /// Lowers the rules of one block (a gate's or a stage's triggers) with the
    /// block's `let`s, the file-level `let`s and every `def`.
    pub fn new(program: &'p Program, block_lets: &'p [Binding], rules: &'p [RuleDecl]) -> Self {
        Self::lower(program, block_lets, rules, false)
    }

    /// The tracing form of the same block: the same evaluator runs it, but
    /// every expression keeps a node of its own (parentheses and each
    /// `.field` included, no constant folded), so an explanation can label
    /// any sub-expression with its value. It charges the budget the same
    /// steps as the deciding form.
    pub(crate) fn traced(
        program: &'p Program,
        block_lets: &'p [Binding],
        rules: &'p [RuleDecl],
    ) -> Self {
        Self::lower(program, block_lets, rules, true)
    }

    fn lower(
        program: &'p Program,
        block_lets: &'p [Binding],
        rules: &'p [RuleDecl],
        trace: bool,
    ) -> Self {
        let mut scope = Scope::new(program);
        scope.trace = trace;
        let globals = program.lets.iter().map(|b| scope.lower(&b.value)).collect();
        let mut defs = Vec::with_capacity(program.defs.len());
        for d in &program.defs {
            let mut s = Scope::new(program);
            s.trace = trace;
            s.in_def = true;
            s.locals = d.params.iter().map(|p| (p.name.as_str(), p.span)).collect();
            s.field_steps = scope.field_steps;
            s.compare_memos = scope.compare_memos;
            defs.push(CompiledDef {
                params: d.params.len(),
                body: s.lower(&d.body),
            });
            scope.field_steps = s.field_steps;
            scope.compare_memos = s.compare_memos;
        }
        scope.block = Some(block_lets);
        let block = block_lets.iter().map(|b| scope.lower(&b.value)).collect();
        let rules = rules
            .iter()
            .map(|r| {
                scope.rule = Some(&r.lets);
                CompiledRule {
                    lets: r.lets.iter().map(|b| scope.lower(&b.value)).collect(),
                    whens: r.whens.iter().map(|e| scope.lower(e)).collect(),
                    requires: r.requires.iter().map(|e| scope.lower(e)).collect(),
                }
            })
            .collect();
        Compiled {
            program,
            globals,
            block,
            defs,
            rules,
            field_steps: scope.field_steps,
            compare_memos: scope.compare_memos,
        }
    }

    /// The program the block belongs to.
    pub fn program(&self) -> &'p Program {
        self.program
    }

    /// Evaluates every rule on the fast path, in order.
    pub(crate) fn verdicts(&self, evidence: &Value, options: &EvalOptions) -> Vec<Verdict> {
        let params = param_values(self.program, options);
        let run = Run::<false>::new(self, evidence, &params, options);
        (0..self.rules.len()).map(|i| run.rule(i)).collect()
    }
}

/// Each param's value: the `--param` override, else its declared default.
pub(super) fn param_values(program: &Program, options: &EvalOptions) -> Vec<Option<Value>> {
    program
        .params
        .iter()
        .map(|p| {
            options
                .params
                .iter()
                .rev()
                .find(|(name, _)| *name == p.name)
                .map(|(_, v)| v.clone())
                .or_else(|| const_value(&p.default).ok())
        })
        .collect()
}

const QUANTIFIER_BODY: &str = "the body of a quantifier";

/// What a one-variable quantifier's body answered for the last two
/// elements it saw that have an [`Identity`], newest first, while deciding.
///
/// A test report's cases loaded for their `status` alone are one shared
/// object per status (`Loading`'s shared objects), so `all c in s.cases:`
/// meets the same value thousands of times in a row. The body is a pure
/// function of the element and of what is bound outside the quantifier,
/// which does not change during it: the same element gets the same answer
/// for the same steps. An element seen for the first time is only noted
/// (that evaluation may also evaluate a `let` that later ones find done,
/// and its steps are not the ones to repeat); its answer is reused once
/// two evaluations after that gave it for the same steps, and never for a
/// body that noted anything besides its answer. Tracing always evaluates.
///
/// Elements that are each new (a whole load's test cases, each its own
/// object) cost a comparison, and are not looked for past
/// [`Repeats::GIVE_UP`] in a row.
struct Repeats {
    seen: [Option<Repeat>; 2],
    /// Elements in a row that were neither of the two seen.
    strangers: u16,
}

#[derive(Clone, Copy)]
struct Repeat {
    element: Identity,
    /// The answer and steps of its last evaluation, once it had one that
    /// noted nothing else; `confirmed` once two in a row agreed.
    answer: Option<(bool, u64)>,
    confirmed: bool,
}

/// What [`Repeats::sighting`] says of an element.
enum Sighting {
    /// Seen for the first time (or again after others): evaluate.
    New,
    /// Seen just before: evaluate, and note what it answers.
    Again,
    /// Answered twice the same: this answer, for these steps.
    Known(bool, u64),
}

impl Repeats {
    const GIVE_UP: u16 = 64;

    fn new(looking: bool) -> Self {
        Repeats {
            seen: [None, None],
            strangers: if looking { 0 } else { Self::GIVE_UP },
        }
    }

    /// Whether repeats are still looked for.
    #[inline(always)]
    fn looking(&self) -> bool {
        self.strangers < Self::GIVE_UP
    }

    fn sighting(&mut self, element: Identity) -> Sighting {
        let [first, second] = &mut self.seen;
        if second.is_some_and(|r| r.element == element) {
            std::mem::swap(first, second);
        }
        match first {
            Some(r) if r.element == element => {
                self.strangers = 0;
                match r.answer {
                    Some((holds, steps)) if r.confirmed => Sighting::Known(holds, steps),
                    _ => Sighting::Again,
                }
            }
            _ => {
                self.strangers = self.strangers.saturating_add(1);
                *second = first.take();
                *first = Some(Repeat {
                    element,
                    answer: None,
                    confirmed: false,
                });
                Sighting::New
            }
        }
    }

    /// After [`Sighting::Again`]: what the newest element's evaluation
    /// answered, in `steps`, and whether it noted nothing else.
    fn answered(&mut self, holds: bool, steps: u64, quiet: bool) {
        if let [Some(r), _] = &mut self.seen {
            let answer = quiet.then_some((holds, steps));
            r.confirmed = answer.is_some() && r.answer == answer;
            r.answer = answer;
        }
    }
}

/// Which value an element is, where that is cheap to tell: a string, list
/// or object by its allocation (alive, and so not reused, while the
/// collection that holds it is iterated), and `null`, a boolean or an
/// integer by itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Identity {
    Shared(usize, usize),
    Null,
    Bool(bool),
    Int(i64),
}

impl Identity {
    fn of(value: &Value) -> Option<Identity> {
        Some(match value {
            Value::Object(o) => Identity::Shared(o.address(), 0),
            Value::List(l) => Identity::Shared(Rc::as_ptr(l) as *const u8 as usize, l.len()),
            Value::Str(s) => Identity::Shared(Rc::as_ptr(s) as *const u8 as usize, s.len()),
            Value::Null => Identity::Null,
            Value::Bool(b) => Identity::Bool(*b),
            Value::Int(i) => Identity::Int(*i),
            _ => return None,
        })
    }
}

fn same_broke<'a>(a: Option<(&'a Node, usize)>, b: Option<(&'a Node, usize)>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some((x, i)), Some((y, j))) => std::ptr::eq(x, y) && i == j,
        _ => false,
    }
}

/// A `let`'s memo: evaluated at most once per scope, errors included, with
/// where its value came from (tracing only; `None` when deciding).
enum Slot<'a> {
    Empty,
    InProgress,
    Done(Result<Val<'a>>, Origin),
}

fn slots<'a>(n: usize) -> RefCell<Vec<Slot<'a>>> {
    RefCell::new((0..n).map(|_| Slot::Empty).collect())
}

/// The bound variables in scope, outermost first; a `def` call starts a
/// new frame. `origins` runs beside `values` when tracing (empty otherwise).
pub(super) struct Frame<'a> {
    values: Vec<Val<'a>>,
    origins: Vec<Origin>,
}

impl<'a> Frame<'a> {
    pub(super) fn new() -> Self {
        Frame {
            values: Vec::new(),
            origins: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    pub(super) fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.origins.truncate(len);
    }

    /// Binds one more variable (with its origin, when tracing).
    pub(super) fn push<const TRACE: bool>(&mut self, value: Val<'a>, origin: Origin) {
        self.values.push(value);
        if TRACE {
            self.origins.push(origin);
        }
    }
}

// Errors are boxed on the fast path: a small `Result` keeps every node's
// return cheap, and errors are rare.
type Result<T, E = Box<EvalError>> = std::result::Result<T, E>;

/// What a tracing run keeps besides the values (see [`Run`]).
#[derive(Default)]
pub(super) struct Tracing<'a> {
    /// Where the value the last `eval` returned came from in the evidence.
    origin: RefCell<Origin>,
    /// Where each element of a list a comprehension or `flatten` built came
    /// from, by the list's address (the list is kept with them, so the
    /// address cannot be reused): an element reached through a filter is
    /// reported at its pointer in the evidence, not as "element 1".
    list_origins: RefCell<rustc_hash::FxHashMap<usize, BuiltList>>,
    /// The evidence files as read: a value an explanation shows or cites is
    /// taken from its file by its pointer, because the tree a run reads may
    /// be a projected load whose unread fields are placeholders (see
    /// [`Run::file_value`]).
    pub(super) texts: Option<crate::report::Evidence>,
    /// While a failing condition is explained: the condition, and the
    /// element at which deciding found it broken ([`Verdict::broke_at`]).
    pub(super) broke_at: Cell<Option<(&'a Node, usize)>>,
    /// YAML and JUnit files of `texts` parsed whole, by file index.
    whole_files: RefCell<std::collections::HashMap<usize, Option<Value>>>,
}

/// A list a comprehension or `flatten` built, and where each element came from.
type BuiltList = (Rc<[Value]>, Vec<Origin>);

/// The state of one evaluation of a compiled block against one bundle.
///
/// `TRACE` is the tracing mode explanations run in: every value carries
/// where it came from in the evidence (a JSON pointer, handed from each
/// `eval` to its caller in [`Tracing::origin`]), and errors say which
/// evidence their operands were. Deciding runs with `TRACE = false`, where
/// all of that compiles away.
pub(super) struct Run<'a, const TRACE: bool> {
    pub(super) compiled: &'a Compiled<'a>,
    evidence: &'a Value,
    params: &'a [Option<Value>],
    now: Timestamp,
    ledger: Option<Value>,
    pub(super) budget: Budget,
    pub(super) cache: builtins::Cache,
    global: RefCell<Vec<Slot<'a>>>,
    block: RefCell<Vec<Slot<'a>>>,
    rule: RefCell<Vec<Slot<'a>>>,
    current_rule: Cell<usize>,
    vacuous: RefCell<Vec<(Span, QuantKind)>>,
    depth: crate::stack::Depth,
    /// Per field step, the address of the evidence key it last matched (see
    /// [`super::value::SharedObject::get_remembered`]). Per run: the addresses
    /// belong to this run's evidence.
    seen: Vec<Cell<usize>>,
    /// Per [`NodeKind::Compare`], the address of the borrowed string it last
    /// compared and the answer, under the same rule as `seen`: evidence
    /// strings are interned, so each test case's `"passed"` is one
    /// allocation and is compared once per run, not once per case.
    compared: Vec<Cell<(usize, bool)>>,
    pub(super) tracing: Tracing<'a>,
    /// Deciding: the quantifier that last stopped early, and at which
    /// element (see [`Verdict::broke_at`]).
    broke: Cell<Option<(&'a Node, usize)>>,
    /// Deciding: the element at which the last iteration was stopped.
    stopped_at: Cell<usize>,
}

impl<'a, const TRACE: bool> Run<'a, TRACE> {
    pub(super) fn new(
        compiled: &'a Compiled<'a>,
        evidence: &'a Value,
        params: &'a [Option<Value>],
        options: &EvalOptions,
    ) -> Self {
        let budget = Budget::new(options.limits.max_steps);
        let (now, ledger) = (options.now, options.ledger.clone());
        Run::start(
            compiled,
            (evidence, params),
            (now, ledger),
            budget,
            options.limits,
        )
    }

    /// A run before anything is evaluated in it.
    fn start(
        compiled: &'a Compiled<'a>,
        (evidence, params): (&'a Value, &'a [Option<Value>]),
        (now, ledger): (Timestamp, Option<Value>),
        budget: Budget,
        limits: crate::limits::Limits,
    ) -> Self {
        Run {
            compiled,
            evidence,
            params,
            now,
            ledger,
            budget,
            cache: builtins::Cache::new(limits),
            global: slots(compiled.globals.len()),
            block: slots(compiled.block.len()),
            rule: slots(0),
            current_rule: Cell::new(0),
            vacuous: RefCell::new(Vec::new()),
            depth: Default::default(),
            seen: (0..compiled.field_steps).map(|_| Cell::new(0)).collect(),
            compared: (0..compiled.compare_memos)
                .map(|_| Cell::new((0, false)))
                .collect(),
            tracing: Tracing::default(),
            broke: Cell::new(None),
            stopped_at: Cell::new(0),
        }
    }

    /// A deciding run beside this one, for work whose values matter and
    /// whose origins do not (explaining a quantifier counts the elements
    /// its body holds for before it explains the few it shows): same
    /// evidence, rule and `let`s evaluated so far, and the budget this one
    /// has left, so it runs out where this one would. What it spends is
    /// charged back with [`Run::charge_for`].
    pub(super) fn deciding_beside(&self) -> Run<'a, false> {
        let copy = |slots: &RefCell<Vec<Slot<'a>>>| {
            RefCell::new(
                slots
                    .borrow()
                    .iter()
                    .map(|slot| match slot {
                        Slot::Empty => Slot::Empty,
                        Slot::InProgress => Slot::InProgress,
                        // Deciding runs keep no origins.
                        Slot::Done(value, _) => Slot::Done(value.clone(), None),
                    })
                    .collect(),
            )
        };
        let mut run = Run::start(
            self.compiled,
            (self.evidence, self.params),
            (self.now, self.ledger.clone()),
            Budget::new(self.budget.max.saturating_sub(self.budget.used())),
            self.cache.limits,
        );
        run.global = copy(&self.global);
        run.block = copy(&self.block);
        run.rule = copy(&self.rule);
        run.current_rule.set(self.current_rule.get());
        run
    }

    /// Charges this run's budget with what `beside` (made by
    /// [`Run::deciding_beside`]) spent, up to the budget's end: the steps
    /// are this run's, done by the other.
    pub(super) fn charge_for(&self, beside: &Run<'a, false>) {
        let used = self.budget.used().saturating_add(beside.budget.used());
        self.budget
            .used
            .set(used.min(self.budget.max.saturating_add(1)));
    }

    /// Starts rule `i`: its `let`s not evaluated yet, the budget full.
    /// Returns the rule.
    pub(super) fn enter_rule(&self, i: usize) -> Option<&'a CompiledRule> {
        let rule = self.compiled.rules.get(i)?;
        self.budget.reset();
        self.vacuous.borrow_mut().clear();
        self.current_rule.set(i);
        *self.rule.borrow_mut() = slots(rule.lets.len()).into_inner();
        Some(rule)
    }

    /// Forgets the block's `let`s, so a rule explained evaluates them in its
    /// own budget, as it did when it was decided.
    pub(super) fn forget_block_lets(&self) {
        *self.block.borrow_mut() = slots(self.compiled.block.len()).into_inner();
    }

    /// The fast pass over one rule: its `when`s, then its `require`s.
    fn rule(&self, i: usize) -> Verdict {
        let Some(rule) = self.enter_rule(i) else {
            return Verdict {
                outcome: Outcome::Error,
                problems: Vec::new(),
                vacuous: Vec::new(),
                broke_at: Vec::new(),
            };
        };
        let mut broke_at = Vec::new();
        let mut verdict = super::verdict::run_clauses(
            &self.budget,
            (&rule.whens, &rule.requires),
            |node, what| {
                self.broke.set(None);
                let holds = self.truth(node, &mut Frame::new(), what).map_err(|e| *e);
                // Only the condition's own quantifier: one inside it broke
                // under bindings an explanation does not start from.
                if let (Ok(false), Some((quantifier, element))) = (&holds, self.broke.get()) {
                    let require = rule.requires.iter().position(|r| std::ptr::eq(r, node));
                    if let (true, Some(require)) = (std::ptr::eq(quantifier, node), require) {
                        broke_at.push((require, element));
                    }
                }
                holds
            },
            || self.vacuous.borrow().clone(),
        );
        verdict.broke_at = broke_at;
        verdict
    }

    /// Records where the value about to be returned came from (tracing).
    #[inline(always)]
    fn set_origin(&self, origin: impl FnOnce() -> Origin) {
        if TRACE {
            *self.tracing.origin.borrow_mut() = origin();
        }
    }

    /// Where the value the last `eval` returned came from (tracing; `None`
    /// when deciding).
    #[inline(always)]
    pub(super) fn take_origin(&self) -> Origin {
        if TRACE {
            self.tracing.origin.borrow_mut().take()
        } else {
            None
        }
    }

    fn let_value(&self, level: Level, i: usize, span: Span) -> Result<Val<'a>> {
        let (memo, nodes) = match level {
            Level::Global => (&self.global, &self.compiled.globals),
            Level::Block => (&self.block, &self.compiled.block),
            Level::Rule => (
                &self.rule,
                match self.compiled.rules.get(self.current_rule.get()) {
                    Some(r) => &r.lets,
                    None => &self.compiled.globals,
                },
            ),
        };
        match memo.borrow().get(i) {
            Some(Slot::Done(r, origin)) => {
                self.set_origin(|| origin.clone());
                return r.clone();
            }
            Some(Slot::InProgress) => {
                return Err(Box::new(EvalError::new(
                    ErrorKind::InvalidValue,
                    span,
                    "definition depends on itself",
                )))
            }
            _ => {}
        }
        if let Some(s) = memo.borrow_mut().get_mut(i) {
            *s = Slot::InProgress;
        }
        let result = match nodes.get(i) {
            Some(node) => self.eval(node, &mut Frame::new()),
            None => Err(Box::new(EvalError::new(
                ErrorKind::InvalidValue,
                span,
                "unbound name",
            ))),
        };
        let origin = if result.is_ok() {
            self.take_origin()
        } else {
            None
        };
        if let Some(s) = memo.borrow_mut().get_mut(i) {
            *s = Slot::Done(result.clone(), origin.clone());
        }
        self.set_origin(|| origin);
        result
    }

    /// Evaluates a condition that must be a boolean. Connectives,
    /// comparisons and quantifiers answer without building a value.
    pub(super) fn truth(&self, node: &'a Node, frame: &mut Frame<'a>, what: &str) -> Result<bool> {
        self.depth.descend(|| {
            let fast = match &node.kind {
                NodeKind::And(l, r) => Some((BinaryOp::And, l, r, None)),
                NodeKind::Or(l, r) => Some((BinaryOp::Or, l, r, None)),
                NodeKind::Binary(op, l, r) if op.is_comparison() => Some((*op, l, r, None)),
                NodeKind::Compare { op, l, r, memo } => Some((*op, l, r, Some(*memo))),
                _ => None,
            };
            let Some((op, l, r, memo)) = fast else {
                return match &*self.eval_node(node, frame)? {
                    Value::Bool(b) => Ok(*b),
                    other => Err(Box::new(access::not_boolean(other, node.span, what))),
                };
            };
            self.budget.charge(u64::from(node.steps), node.span)?;
            match op {
                BinaryOp::And => Ok(self.truth(l, frame, "the left side of `and`")?
                    && self.truth(r, frame, "the right side of `and`")?),
                BinaryOp::Or => Ok(self.truth(l, frame, "the left side of `or`")?
                    || self.truth(r, frame, "the right side of `or`")?),
                op => {
                    let lv = self.operand(l, frame)?;
                    let lo = self.take_origin();
                    let rv = self.operand(r, frame)?;
                    let ro = self.take_origin();
                    self.compare(op, (&lv, &rv), (l, r), node, memo, what)
                        .map_err(|err| {
                            self.in_evidence_terms(err, op, (&lv, &rv), (l, r, node.span), (lo, ro))
                        })
                }
            }
        })
    }

    /// The truth of a one-variable quantifier's body for the element just
    /// bound: that of the last time, for an element that is the very same
    /// value as one of the last two seen (see [`Repeats`]).
    /// (Not inlined: the quantifier's loop, which calls it, stays small
    /// enough to be inlined itself.)
    #[inline(never)]
    fn body_truth(
        &self,
        body: &'a Node,
        frame: &mut Frame<'a>,
        repeats: &mut Repeats,
    ) -> Result<bool> {
        if TRACE || !repeats.looking() {
            return self.truth(body, frame, QUANTIFIER_BODY);
        }
        let Some(element) = frame.values.last().and_then(|v| Identity::of(v)) else {
            return self.truth(body, frame, QUANTIFIER_BODY);
        };
        match repeats.sighting(element) {
            Sighting::New => return self.truth(body, frame, QUANTIFIER_BODY),
            // Charged as the evaluation it stands for; where the budget
            // would run out, the body runs instead, to stop where it does.
            Sighting::Known(holds, steps)
                if self.budget.used().saturating_add(steps) <= self.budget.max =>
            {
                self.budget.charge(steps, body.span)?;
                return Ok(holds);
            }
            Sighting::Known(..) | Sighting::Again => {}
        }
        let used = self.budget.used();
        let vacuous = self.vacuous.borrow().len();
        let broke = self.broke.get();
        let holds = self.truth(body, frame, QUANTIFIER_BODY)?;
        // A body that noted a vacuous or broken quantifier of its own did
        // more than answer: it is run again each time.
        let quiet = self.vacuous.borrow().len() == vacuous && same_broke(self.broke.get(), broke);
        let steps = self.budget.used().saturating_sub(used);
        repeats.answered(holds, steps, quiet);
        Ok(holds)
    }

    /// A comparison or membership test, answered as a boolean. Equality and
    /// membership in a list are decided here, exactly as [`apply_values`]
    /// decides them (same steps charged); everything else, errors included,
    /// goes through it.
    fn compare(
        &self,
        op: BinaryOp,
        (lv, rv): (&Val<'a>, &Value),
        (l, r): (&Node, &Node),
        node: &Node,
        memo: Option<usize>,
        what: &str,
    ) -> Result<bool> {
        // A borrowed string lives as long as the run, so its address stands
        // for its text (see `compared`).
        let remembered = match (memo.and_then(|i| self.compared.get(i)), lv) {
            (Some(cell), Val::Ref(Value::Str(s))) => Some((cell, s.as_ptr() as usize)),
            _ => None,
        };
        let steps = match (op, rv) {
            (BinaryOp::In | BinaryOp::NotIn, Value::List(items)) => items.len() as u64,
            _ => 0,
        };
        if let Some((cell, address)) = remembered {
            let (last, answer) = cell.get();
            if last == address {
                self.budget.charge(steps, node.span)?;
                return Ok(answer);
            }
        }
        let lv: &Value = lv;
        let answer = match (op, rv) {
            (BinaryOp::Eq, _) => lv.deep_eq(rv),
            (BinaryOp::Ne, _) => !lv.deep_eq(rv),
            (BinaryOp::In | BinaryOp::NotIn, Value::List(items)) => {
                self.budget.charge(steps, node.span)?;
                items.iter().any(|x| x.deep_eq(lv)) == (op == BinaryOp::In)
            }
            _ => match apply_values(op, lv, rv, l.span, r.span, node.span, &self.budget)? {
                Value::Bool(b) => b,
                other => return Err(Box::new(access::not_boolean(&other, node.span, what))),
            },
        };
        if let Some((cell, address)) = remembered {
            cell.set((address, answer));
        }
        Ok(answer)
    }

    /// `root.a.b`: walks the fields (the path node's steps are charged).
    fn path(
        &self,
        root: &'a Node,
        fields: &'a [FieldStep],
        frame: &mut Frame<'a>,
    ) -> Result<Val<'a>> {
        let program = self.compiled.program;
        let mut v = match &root.kind {
            // A bound variable: read in place, no recursion.
            NodeKind::Local(i) => {
                self.budget.charge(u64::from(root.steps), root.span)?;
                match frame.values.get(*i) {
                    Some(v) => {
                        self.set_origin(|| frame.origins.get(*i).cloned().flatten());
                        v.clone()
                    }
                    None => return Err(unbound(root.span, "a variable outside its scope")),
                }
            }
            _ => self.eval(root, frame)?,
        };
        if TRACE {
            return self.traced_fields(v, fields);
        }
        for f in fields {
            // The common case, a field of a borrowed object that is there.
            if let Val::Ref(Value::Object(map)) = v {
                let seen = self.seen.get(f.id);
                if let Some(found) = seen.and_then(|s| map.get_remembered(&f.name, s, true)) {
                    v = Val::Ref(found);
                    continue;
                }
            }
            v = v.step(|x| access::field(program, x, f.base_span, &f.name, f.name_span, &None))?;
        }
        Ok(v)
    }

    /// The field steps of [`Self::path`] when tracing: each knows the
    /// pointer of what it read, and an error is said of the value as the
    /// file holds it.
    fn traced_fields(&self, mut v: Val<'a>, fields: &'a [FieldStep]) -> Result<Val<'a>> {
        let program = self.compiled.program;
        let mut origin = self.take_origin();
        for f in fields {
            let of_object = matches!(&*v, Value::Object(_));
            v = v
                .step(|x| access::field(program, x, f.base_span, &f.name, f.name_span, &origin))
                .map_err(|err| {
                    self.as_in_file(err, &origin, |x| {
                        access::field(program, x, f.base_span, &f.name, f.name_span, &origin).err()
                    })
                })?;
            origin = if of_object {
                super::env::pointer_child(&origin, &f.name)
            } else {
                None
            };
        }
        self.set_origin(|| origin);
        Ok(v)
    }

    /// An operand of a comparison: constants answered in place, the rest
    /// evaluated.
    #[inline]
    fn operand(&self, node: &'a Node, frame: &mut Frame<'a>) -> Result<Val<'a>> {
        match &node.kind {
            NodeKind::Const(v) => {
                self.budget.charge(u64::from(node.steps), node.span)?;
                self.set_origin(|| None);
                Ok(Val::Ref(v))
            }
            NodeKind::Path { root, fields } => {
                self.budget.charge(u64::from(node.steps), node.span)?;
                self.path(root, fields, frame)
            }
            _ => self.eval(node, frame),
        }
    }

    pub(super) fn eval(&self, node: &'a Node, frame: &mut Frame<'a>) -> Result<Val<'a>> {
        self.depth.descend(|| self.eval_node(node, frame))
    }

    /// Evaluates `node`. When tracing, the value's origin is left in
    /// [`Tracing::origin`]: arms that pass on what another node returned
    /// (a name, a branch, a field) leave that node's; every other arm
    /// computes a new value and sets none.
    fn eval_node(&self, node: &'a Node, frame: &mut Frame<'a>) -> Result<Val<'a>> {
        self.budget.charge(u64::from(node.steps), node.span)?;
        let value = match &node.kind {
            NodeKind::Const(v) => Val::Ref(v),
            NodeKind::Evidence => {
                self.set_origin(|| Some(Rc::from("")));
                return Ok(Val::Ref(self.evidence));
            }
            NodeKind::Now => Val::Own(Value::Time(self.now)),
            NodeKind::Ledger => match &self.ledger {
                Some(v) => Val::Own(v.clone()),
                None => return Err(Box::new(EvalError::no_ledger(node.span))),
            },
            NodeKind::Param(i) => match self.params.get(*i) {
                Some(Some(v)) => Val::Ref(v),
                _ => return Err(unbound(node.span, "a param without a value")),
            },
            NodeKind::Local(i) => match frame.values.get(*i) {
                Some(v) => {
                    self.set_origin(|| frame.origins.get(*i).cloned().flatten());
                    return Ok(v.clone());
                }
                None => return Err(unbound(node.span, "a variable outside its scope")),
            },
            NodeKind::Let(level, i) => return self.let_value(*level, *i, node.span),
            NodeKind::Unbound(name) => return Err(unbound(node.span, name)),
            NodeKind::Paren(inner) => return self.eval(inner, frame),
            NodeKind::List(items) => Val::Own(Value::list(
                items
                    .iter()
                    .map(|i| self.eval(i, frame).map(Val::into_value))
                    .collect::<Result<_>>()?,
            )),
            NodeKind::Object(entries) => {
                let mut map = super::value::object_with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.clone(), self.eval(v, frame)?.into_value());
                }
                Val::Own(Value::Object(map.into()))
            }
            NodeKind::Path { root, fields } => return self.path(root, fields, frame),
            NodeKind::Index(base, index) => return self.index(base, index, frame),
            NodeKind::Exists(inner) => match self.eval(inner, frame) {
                Ok(_) => Val::Own(Value::Bool(true)),
                Err(err) if err.access => Val::Own(Value::Bool(false)),
                Err(err) => return Err(err),
            },
            NodeKind::Not(inner) => Val::Own(Value::Bool(!self.truth(
                inner,
                frame,
                "the operand of `not`",
            )?)),
            NodeKind::Neg(inner) => {
                let v = self.eval(inner, frame)?.into_value();
                Val::Own(super::ops::negate(v, node.span)?)
            }
            NodeKind::And(l, r) => Val::Own(Value::Bool(
                self.truth(l, frame, "the left side of `and`")?
                    && self.truth(r, frame, "the right side of `and`")?,
            )),
            NodeKind::Or(l, r) => Val::Own(Value::Bool(
                self.truth(l, frame, "the left side of `or`")?
                    || self.truth(r, frame, "the right side of `or`")?,
            )),
            NodeKind::Coalesce(l, r) => match self.eval(l, frame) {
                Ok(v) if matches!(*v, Value::Null) => return self.eval(r, frame),
                Ok(found) => return Ok(found),
                Err(err) if err.access => return self.eval(r, frame),
                Err(err) => return Err(err),
            },
            NodeKind::Binary(op, l, r) | NodeKind::Compare { op, l, r, .. } => {
                let lv = self.eval(l, frame)?;
                let lo = self.take_origin();
                let rv = self.eval(r, frame)?;
                let ro = self.take_origin();
                let v = apply_values(*op, &lv, &rv, l.span, r.span, node.span, &self.budget)
                    .map_err(|err| {
                        let at = (&**l, &**r, node.span);
                        self.in_evidence_terms(Box::new(err), *op, (&lv, &rv), at, (lo, ro))
                    })?;
                // Only `+` makes strings.
                if *op == BinaryOp::Add {
                    access::check_string_length(&v, &self.cache.limits, node.span)?;
                }
                Val::Own(v)
            }
            NodeKind::If(c, t, f) => {
                return if self.truth(c, frame, "the condition of `if`")? {
                    self.eval(t, frame)
                } else {
                    self.eval(f, frame)
                }
            }
            NodeKind::Quantifier {
                kind,
                vars,
                collection,
                body,
                plain,
            } => {
                let unbroken = *kind != QuantKind::Any;
                let mut verdict = unbroken;
                let coll = self.eval(collection, frame)?;
                let n = match (&coll, plain) {
                    (Val::Ref(Value::List(items)), Some(plain)) if !TRACE => {
                        let at = (&**collection, &**body);
                        self.plain_each(*kind, items, (plain, at), frame, &mut verdict)?;
                        items.len()
                    }
                    _ => {
                        // Repeats are looked for when one element is bound.
                        let mut repeats = Repeats::new(*vars == 1);
                        // Each element costs two steps: one to bind it, one
                        // for the body. When tracing, it is bound with its
                        // pointer, so an error in the body is said of the
                        // element in the file.
                        let coll = (coll, &**collection);
                        self.each_of(coll, *vars, 2, true, frame, |run, frame| {
                            let holds = run.body_truth(body, frame, &mut repeats)?;
                            Ok(super::quantifier_step(*kind, holds, &mut verdict))
                        })?
                    }
                };
                if !TRACE && verdict != unbroken {
                    self.broke.set(Some((node, self.stopped_at.get())));
                }
                if n == 0 && *kind != QuantKind::Any {
                    self.vacuous.borrow_mut().push((collection.span, *kind));
                }
                Val::Own(Value::Bool(verdict))
            }
            NodeKind::Comprehension {
                vars,
                collection,
                filter,
                element,
            } => {
                let mut out = Vec::new();
                let mut origins = Vec::new();
                self.each(*vars, collection, 1, true, frame, |run, frame| {
                    if let Some(filter) = filter {
                        if !run.truth(filter, frame, "the filter of a comprehension")? {
                            return Ok(true);
                        }
                    }
                    let value = run.eval(element, frame)?.into_value();
                    if TRACE {
                        origins.push(run.take_origin());
                    }
                    run.budget.charge(super::ops::ELEMENT_BYTES, element.span)?;
                    out.push(value);
                    Ok(true)
                })?;
                let list = Value::list(out);
                if TRACE {
                    self.note_built(&list, origins);
                }
                Val::Own(list)
            }
            NodeKind::Builtin {
                builtin,
                args,
                spans,
                ..
            } => {
                let (values, origins) = self.arguments(args, frame)?;
                let result = (builtin.run)(&builtins::Args {
                    values: &values,
                    spans,
                    call: node.span,
                    sig: &builtin.sig,
                    budget: &self.budget,
                    cache: &self.cache,
                })?;
                // `flatten` keeps where each element came from.
                if TRACE && builtin.sig.name == "flatten" {
                    self.note_flattened(&values, &origins, &result);
                }
                Val::Own(result)
            }
            NodeKind::Def { def, args, .. } => {
                let (values, origins) = self.arguments(args, frame)?;
                let Some(def) = self.compiled.defs.get(*def) else {
                    return Err(unbound(node.span, "an unknown helper"));
                };
                // A def sees file-level names and its own parameters only: a
                // new frame. When tracing, each parameter keeps where its
                // argument came from, and the result where the body's did, so
                // evidence read through a helper is still said of the file.
                let mut values = values.into_iter();
                let mut origins = origins.into_iter();
                let mut inner = Frame::new();
                for _ in 0..def.params {
                    let value = Val::Own(values.next().unwrap_or(Value::Null));
                    inner.push::<TRACE>(value, origins.next().flatten());
                }
                return self.eval(&def.body, &mut inner);
            }
            NodeKind::UnknownFunction(name, args) => {
                self.arguments(args, frame)?;
                return Err(Box::new(EvalError::new(
                    ErrorKind::InvalidValue,
                    name.span,
                    format!("unknown function `{}`", name.name),
                )));
            }
        };
        self.set_origin(|| None);
        Ok(value)
    }

    /// `base[index]`, with the element's pointer when tracing.
    fn index(&self, base: &'a Node, index: &'a Node, frame: &mut Frame<'a>) -> Result<Val<'a>> {
        let program = self.compiled.program;
        let b = self.eval(base, frame)?;
        let origin = self.take_origin();
        let i = self.eval(index, frame)?;
        if !TRACE {
            return Ok(b.step(|v| {
                access::index(program, v, base.span, &i, index.span, &None)
                    .map(|(got, _)| Val::Ref(got))
            })?);
        }
        let mut pointer = None;
        let got = b
            .step(|v| {
                access::index(program, v, base.span, &i, index.span, &origin).map(|(got, at)| {
                    pointer = Some(match at {
                        access::Step::At(at) => super::env::pointer_index(&origin, at),
                        access::Step::Key(k) => super::env::pointer_child(&origin, k),
                    });
                    Val::Ref(got)
                })
            })
            .map_err(|err| {
                self.as_in_file(err, &origin, |v| {
                    access::index(program, v, base.span, &i, index.span, &origin).err()
                })
            })?;
        self.set_origin(|| pointer.flatten());
        Ok(got)
    }

    /// The arguments of a call, with their origins when tracing.
    fn arguments(
        &self,
        args: &'a [Node],
        frame: &mut Frame<'a>,
    ) -> Result<(Vec<Value>, Vec<Origin>)> {
        let mut values = Vec::with_capacity(args.len());
        let mut origins = Vec::new();
        for a in args {
            values.push(self.eval(a, frame)?.into_value());
            if TRACE {
                origins.push(self.take_origin());
            }
        }
        Ok((values, origins))
    }

    /// Runs `f` once per element of `collection` with `vars` names bound
    /// (the element; or the index or key, then the element), charging
    /// `per_element` steps per element. `f` returns `false` to stop. Returns
    /// the number of elements. When tracing and `with_origins`, a single
    /// bound element carries its pointer (comprehensions keep their
    /// elements'; quantifiers do not need them).
    fn each(
        &self,
        vars: usize,
        collection: &'a Node,
        per_element: u64,
        with_origins: bool,
        frame: &mut Frame<'a>,
        f: impl FnMut(&Self, &mut Frame<'a>) -> Result<bool>,
    ) -> Result<usize> {
        let coll = self.eval(collection, frame)?;
        self.each_of(
            (coll, collection),
            vars,
            per_element,
            with_origins,
            frame,
            f,
        )
    }

    /// [`Self::each`] over `coll`, the value `collection` evaluated to (its
    /// origin, when tracing, not taken yet).
    fn each_of(
        &self,
        (coll, collection): (Val<'a>, &'a Node),
        vars: usize,
        per_element: u64,
        with_origins: bool,
        frame: &mut Frame<'a>,
        mut f: impl FnMut(&Self, &mut Frame<'a>) -> Result<bool>,
    ) -> Result<usize> {
        let coll_origin = self.take_origin();
        if let (Value::List(items), 0) = (&*coll, vars) {
            // No names to bind: the interpreter only counts the elements.
            return Ok(items.len());
        }
        let with_origins = TRACE && with_origins;
        let element_origin = |items: &Rc<[Value]>, i: usize| {
            if with_origins {
                self.element_origin(items, &coll_origin, i)
            } else {
                None
            }
        };
        let member_origin = |key: &str| {
            if with_origins {
                super::env::pointer_child(&coll_origin, key)
            } else {
                None
            }
        };
        let mark = frame.len();
        let at = (collection, per_element);
        let result = match (coll, vars) {
            (Val::Ref(Value::List(items)), 1) => self
                .bind_each(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| ([Val::Ref(v)], element_origin(items, i))),
                    at,
                    frame,
                    &mut f,
                )
                .map(|()| items.len()),
            (Val::Ref(Value::List(items)), 2..) => self
                .bind_each(
                    items.iter().enumerate().map(|(i, v)| {
                        (
                            [Val::Own(Value::Int(i as i64)), Val::Ref(v)],
                            element_origin(items, i),
                        )
                    }),
                    at,
                    frame,
                    &mut f,
                )
                .map(|()| items.len()),
            (Val::Ref(Value::Object(map)), 2..) => self
                .bind_each(
                    map.iter().map(|(k, v)| {
                        (
                            [Val::Own(Value::Str(k.clone())), Val::Ref(v)],
                            member_origin(k),
                        )
                    }),
                    at,
                    frame,
                    &mut f,
                )
                .map(|()| map.len()),
            // Computed collections: their elements are shared, not borrowed.
            (Val::Own(Value::List(items)), 1) => self
                .bind_each(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| ([Val::Own(v.clone())], element_origin(&items, i))),
                    at,
                    frame,
                    &mut f,
                )
                .map(|()| items.len()),
            (Val::Own(Value::List(items)), 2..) => self
                .bind_each(
                    items.iter().enumerate().map(|(i, v)| {
                        (
                            [Val::Own(Value::Int(i as i64)), Val::Own(v.clone())],
                            element_origin(&items, i),
                        )
                    }),
                    at,
                    frame,
                    &mut f,
                )
                .map(|()| items.len()),
            (Val::Own(Value::Object(map)), 2..) => self
                .bind_each(
                    map.iter().map(|(k, v)| {
                        (
                            [Val::Own(Value::Str(k.clone())), Val::Own(v.clone())],
                            member_origin(k),
                        )
                    }),
                    at,
                    frame,
                    &mut f,
                )
                .map(|()| map.len()),
            (other, _) => Err(Box::new(access::not_iterable(
                self.compiled.program,
                &other,
                collection.span,
            ))),
        };
        frame.truncate(mark);
        result
    }

    /// Binds each group of values in turn (the last one with `origin`, when
    /// tracing) and runs `f`.
    fn bind_each<const N: usize>(
        &self,
        elements: impl Iterator<Item = ([Val<'a>; N], Origin)>,
        (collection, per_element): (&Node, u64),
        frame: &mut Frame<'a>,
        f: &mut impl FnMut(&Self, &mut Frame<'a>) -> Result<bool>,
    ) -> Result<()> {
        let mark = frame.len();
        for (index, (bound, origin)) in elements.enumerate() {
            self.budget.charge(per_element, collection.span)?;
            frame.truncate(mark);
            frame.values.extend(bound);
            if TRACE {
                // Only the element itself has a pointer; an index or key has none.
                frame
                    .origins
                    .resize(frame.values.len().saturating_sub(1), None);
                frame.origins.push(origin);
            }
            if !f(self, frame)? {
                if !TRACE {
                    self.stopped_at.set(index);
                }
                break;
            }
        }
        Ok(())
    }
}

/// What tracing adds to a run: where values came from, and errors said of
/// the evidence as its files hold it. Every method is a no-op when deciding.
impl<'a, const TRACE: bool> Run<'a, TRACE> {
    /// The value at `origin` exactly as its evidence file holds it (parsed
    /// from the file's text), when the files are known; `None` for a value
    /// that did not come from evidence, or the evidence root itself.
    pub(super) fn file_value(&self, origin: &Origin) -> Option<Value> {
        self.file_value_of(origin, None)
    }

    /// The fields of the value at `origin` that name it (`NAME_FIELDS`), as
    /// the file holds them, and no others: an explanation that cites an
    /// element's fields shows only its name beside them, and the element
    /// can be large (a test suite of 28,000 cases, loaded whole, was 44 M
    /// of the 540 M instructions explaining the large denied bundle took).
    pub(super) fn file_names(&self, origin: &Origin) -> Option<Value> {
        let mut names = Projection::default();
        for field in super::explain::NAME_FIELDS {
            let whole = Projection {
                whole: true,
                ..Projection::default()
            };
            names.fields.insert(field.to_string(), whole);
        }
        self.file_value_of(origin, Some(&names))
    }

    fn file_value_of(&self, origin: &Origin, only: Option<&Projection>) -> Option<Value> {
        let pointer = origin.as_deref().filter(|p| !p.is_empty())?;
        let texts = self.tracing.texts.as_ref()?;
        let (i, inner) = texts.resolve(pointer)?;
        let file = texts.files.get(i)?;
        if file.format != crate::evidence::Format::Json {
            // YAML and JUnit values are not JSON text: take them from the
            // file parsed whole, once per file.
            let mut parsed = self.tracing.whole_files.borrow_mut();
            let whole = parsed.entry(i).or_insert_with(|| {
                file.format
                    .parse(
                        &file.name,
                        file.text(),
                        &self.cache.limits,
                        crate::evidence::Load::Full,
                    )
                    .ok()
            });
            return crate::evidence::tree::at_pointer(whole.as_ref()?, &inner);
        }
        let at = texts.locate(pointer)?;
        // The value's own text (read again from a streamed file's pieces).
        let region = file.region(at.start, at.end)?;
        let text = region.text.as_ref();
        let limits = super::LoadLimits {
            max_depth: self.cache.limits.evidence_depth,
            max_string: self.cache.limits.string_bytes,
        };
        match only {
            Some(projection) => {
                super::projection::parse_for_decision(text, limits, projection).ok()
            }
            None => super::parse_json(text, limits).ok(),
        }
    }

    /// `err`, about a value that came from evidence at `origin`, said of the
    /// value as the file holds it (`again` re-runs the failing step on it).
    /// Explanations may run on a projected load whose unread fields are
    /// placeholders; an error message must not show those as evidence.
    fn as_in_file(
        &self,
        err: EvalError,
        origin: &Origin,
        again: impl FnOnce(&Value) -> Option<EvalError>,
    ) -> EvalError {
        match self.file_value(origin) {
            Some(v) => again(&v).filter(|e| e.kind == err.kind).unwrap_or(err),
            None => err,
        }
    }

    /// An operator's error said of its operands as their files hold them,
    /// with a note and a pointer for each operand that came from evidence.
    fn in_evidence_terms(
        &self,
        err: Box<EvalError>,
        op: BinaryOp,
        (lv, rv): (&Value, &Value),
        (l, r, at): (&Node, &Node, Span),
        (lo, ro): (Origin, Origin),
    ) -> Box<EvalError> {
        if !TRACE {
            return err;
        }
        let (flv, frv) = (self.file_value(&lo), self.file_value(&ro));
        let mut err = match (&flv, &frv) {
            (None, None) => err,
            _ => {
                let (a, b) = (flv.as_ref().unwrap_or(lv), frv.as_ref().unwrap_or(rv));
                let budget = Budget::new(self.budget.max);
                apply_values(op, a, b, l.span, r.span, at, &budget)
                    .err()
                    .filter(|e| e.kind == err.kind)
                    .map(Box::new)
                    .unwrap_or(err)
            }
        };
        let lv = flv.as_ref().unwrap_or(lv);
        let rv = frv.as_ref().unwrap_or(rv);
        for (node, v, o) in [(l, lv, lo), (r, rv, ro)] {
            if let Some(p) = o.filter(|p| !p.is_empty()) {
                err.notes.push(format!(
                    "`{}` is {} at {p}",
                    self.compiled.program.sources.snippet(node.span),
                    v.short(60)
                ));
                err.pointers.push(p.to_string());
            }
        }
        err
    }

    /// Where element `i` of `items` (found at `origin`) came from: its
    /// pointer under the list's, or, for a list a comprehension built, the
    /// pointer of the evidence element it was.
    pub(super) fn element_origin(&self, items: &Rc<[Value]>, origin: &Origin, i: usize) -> Origin {
        if !TRACE {
            return None;
        }
        if origin.is_none() {
            let address = Rc::as_ptr(items) as *const Value as usize;
            if let Some((_, origins)) = self.tracing.list_origins.borrow().get(&address) {
                return origins.get(i).cloned().flatten();
            }
        }
        super::env::pointer_index(origin, i)
    }

    /// Remembers where each element of a list just built came from.
    fn note_built(&self, list: &Value, origins: Vec<Origin>) {
        if let Value::List(items) = list {
            if origins.iter().any(Option::is_some) {
                self.tracing.list_origins.borrow_mut().insert(
                    Rc::as_ptr(items) as *const Value as usize,
                    (items.clone(), origins),
                );
            }
        }
    }

    /// `flatten` keeps each element's pointer: an element of an inner list
    /// is found under that list's.
    fn note_flattened(&self, args: &[Value], arg_origins: &[Origin], result: &Value) {
        let (Some(Value::List(outer)), Value::List(flat)) = (args.first(), result) else {
            return;
        };
        let outer_origin = arg_origins.first().cloned().flatten();
        let mut origins = Vec::with_capacity(flat.len());
        for (i, element) in outer.iter().enumerate() {
            let at = self.element_origin(outer, &outer_origin, i);
            match element {
                Value::List(inner) => {
                    origins.extend((0..inner.len()).map(|j| super::env::pointer_index(&at, j)))
                }
                _ => origins.push(at),
            }
        }
        self.note_built(result, origins);
    }
}

fn unbound(span: Span, what: &str) -> Box<EvalError> {
    Box::new(EvalError::new(
        ErrorKind::InvalidValue,
        span,
        format!("unbound name `{what}`"),
    ))
}

/// A rule's fast-pass verdict, in a form two evaluators can be compared by:
/// outcome, the clauses that failed or errored with the kind of each error,
/// and the vacuous `all`s and `none`s of a passing rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparable {
    pub rule: String,
    pub outcome: Outcome,
    pub problems: Vec<(Clause, usize, Option<ErrorKind>)>,
    pub vacuous: Vec<(Span, QuantKind)>,
}

fn comparable(rule: &RuleDecl, v: Verdict) -> Comparable {
    Comparable {
        rule: rule.name.name.clone(),
        outcome: v.outcome,
        problems: v
            .problems
            .into_iter()
            .map(|(clause, i, e)| (clause, i, e.map(|e| e.kind)))
            .collect(),
        vacuous: v.vacuous,
    }
}

/// Decides a block of rules with both evaluators, for differential tests:
/// (compiled, reference interpreter). The product uses only the compiled
/// evaluator; the interpreter is the oracle it is held to.
pub fn both_verdicts(
    program: &Program,
    lets: &[Binding],
    rules: &[RuleDecl],
    evidence: &Value,
    options: &EvalOptions,
) -> (Vec<Comparable>, Vec<Comparable>) {
    let compiled = Compiled::new(program, lets, rules)
        .verdicts(evidence, options)
        .into_iter()
        .zip(rules)
        .map(|(v, r)| comparable(r, v))
        .collect();
    let reference = super::Evaluator::new(program, evidence.clone(), options);
    let scope = super::interp::LetScope::new(lets);
    let env = super::interp::Env::Lets {
        scope: &scope,
        parent: &super::interp::Env::Root,
    };
    let reference = rules
        .iter()
        .map(|r| comparable(r, reference.run_rule(r, &env)))
        .collect();
    (compiled, reference)
}

/// Decides a block of rules in the tracing mode explanations run in (the
/// tracing form, origins carried), for differential tests: it must decide
/// exactly as the deciding form, or an explanation could describe an
/// evaluation that is not the one that decided.
pub fn traced_verdicts(
    program: &Program,
    lets: &[Binding],
    rules: &[RuleDecl],
    evidence: &Value,
    options: &EvalOptions,
) -> Vec<Comparable> {
    let traced = Compiled::traced(program, lets, rules);
    let params = param_values(program, options);
    let run = Run::<true>::new(&traced, evidence, &params, options);
    (0..rules.len())
        .map(|i| run.rule(i))
        .zip(rules)
        .map(|(v, r)| comparable(r, v))
        .collect()
}

/// The value of `expr` (a gate's `subject`) in the scope of a block whose
/// `let`s are `lets`: those, the file-level `let`s, params and `now`.
pub fn evaluate_in_block(
    program: &Program,
    lets: &[Binding],
    expr: &Expr,
    evidence: &Value,
    options: &EvalOptions,
) -> Result<Value, EvalError> {
    let mut compiled = Compiled::new(program, lets, &[]);
    let mut scope = Scope::new(program);
    scope.block = Some(lets);
    scope.field_steps = compiled.field_steps;
    scope.compare_memos = compiled.compare_memos;
    let node = scope.lower(expr);
    compiled.field_steps = scope.field_steps;
    compiled.compare_memos = scope.compare_memos;
    let params = param_values(program, options);
    let run = Run::<false>::new(&compiled, evidence, &params, options);
    run.eval(&node, &mut Frame::new())
        .map(Val::into_value)
        .map_err(|e| *e)
}

/// The value of a file-level `let`, computed by the compiled evaluator (the
/// case tables compare it with [`super::Evaluator::global_let`]).
pub fn global_let(
    program: &Program,
    name: &str,
    evidence: &Value,
    options: &EvalOptions,
) -> Result<Value, EvalError> {
    let compiled = Compiled::new(program, &[], &[]);
    let params = param_values(program, options);
    let run = Run::<false>::new(&compiled, evidence, &params, options);
    let Some(i) = position(&program.lets, name) else {
        return Err(*unbound(Span::default(), name));
    };
    run.let_value(Level::Global, i, Span::default())
        .map(Val::into_value)
        .map_err(|e| *e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Program {
        crate::compile_str("t.clr", text)
            .unwrap_or_else(|f| unreachable!("test policy does not compile: {:?}", f.errors))
    }

    fn compiled(p: &Program) -> Compiled<'_> {
        let gate = &p.gates[0];
        Compiled::new(p, &gate.lets, &gate.rules)
    }

    /// The compiled form of the single `require` of the single rule.
    fn first_require<'c>(c: &'c Compiled<'_>) -> &'c Node {
        &c.rules[0].requires[0]
    }

    fn policy(require: &str, extra: &str) -> String {
        format!(
            "stages a -> b\n{extra}\ngate a -> b {{\n  let g = evidence.x\n  rule r {{\n    let l = 1\n    require {require}\n  }}\n}}\n"
        )
    }

    #[test]
    fn names_resolve_to_slots_innermost_first() {
        let p = program(&policy(
            "all x in evidence.xs: x == l and g == p and limit == now",
            "param p = 1\nlet limit = 2",
        ));
        let c = compiled(&p);
        let mut kinds = Vec::new();
        fn walk(n: &Node, out: &mut Vec<String>) {
            match &n.kind {
                NodeKind::Local(i) => out.push(format!("local {i}")),
                NodeKind::Let(level, i) => out.push(format!("{level:?} let {i}")),
                NodeKind::Param(i) => out.push(format!("param {i}")),
                NodeKind::Now => out.push("now".into()),
                NodeKind::Evidence => out.push("evidence".into()),
                NodeKind::Quantifier {
                    collection, body, ..
                } => {
                    walk(collection, out);
                    walk(body, out);
                }
                NodeKind::Path { root, .. } => walk(root, out),
                NodeKind::And(l, r) | NodeKind::Binary(_, l, r) => {
                    walk(l, out);
                    walk(r, out);
                }
                _ => {}
            }
        }
        walk(first_require(&c), &mut kinds);
        assert_eq!(
            kinds,
            [
                "evidence",
                "local 0",
                "Rule let 0",
                "Block let 0",
                "param 0",
                "Global let 0",
                "now"
            ]
        );
    }

    #[test]
    fn parentheses_and_field_chains_keep_the_interpreters_step_count() {
        // `((evidence.a.b))`: two parentheses, two fields, one name.
        let p = program(&policy("((evidence.a.b)) == 1", ""));
        let c = compiled(&p);
        let node = first_require(&c);
        let NodeKind::Binary(_, l, _) = &node.kind else {
            unreachable!("not a comparison")
        };
        let NodeKind::Path { root, fields } = &l.kind else {
            unreachable!("not a path")
        };
        assert_eq!(fields.len(), 2);
        assert_eq!(l.steps + root.steps, 5);
    }

    #[test]
    fn operators_over_constants_fold_with_their_steps() {
        let p = program(&policy("2 * (3 + 4) == 14", ""));
        let c = compiled(&p);
        let node = first_require(&c);
        // Every node of the comparison was a constant: it folds to `true`,
        // costing what evaluating its 8 nodes costs (`==`, `*`, `2`, the
        // parenthesis, `+`, `3`, `4`, `14`).
        assert!(matches!(node.kind, NodeKind::Const(Value::Bool(true))));
        assert_eq!(node.steps, 8);
        // `in` over a constant list also charges one step per element.
        let p = program(&policy("\"b\" in [\"a\", \"b\", \"c\"]", ""));
        let c = compiled(&p);
        let node = first_require(&c);
        assert!(matches!(node.kind, NodeKind::Const(Value::Bool(true))));
        assert_eq!(node.steps, 3 + 3);
    }

    #[test]
    fn what_fails_or_makes_strings_is_left_to_run_time() {
        for require in ["1 / 0 == 1", "\"a\" + \"b\" == \"ab\""] {
            let p = program(&policy(require, ""));
            let c = compiled(&p);
            let node = first_require(&c);
            let (NodeKind::Binary(_, l, _) | NodeKind::Compare { l, .. }) = &node.kind else {
                unreachable!("{require} folded whole")
            };
            assert!(matches!(l.kind, NodeKind::Binary(..)), "{require}");
        }
    }

    #[test]
    fn field_lookups_remember_interned_keys_and_fall_back_to_text() {
        let evidence = crate::eval::parse_json(
            r#"{"xs": [{"name": "a", "status": "passed"}, {"status": "passed", "name": "b"}]}"#,
            Default::default(),
        )
        .unwrap_or(Value::Null);
        let Value::Object(root) = &evidence else {
            unreachable!("not an object")
        };
        let Some(Value::List(xs)) = root.get("xs") else {
            unreachable!("no list")
        };
        let seen = Cell::new(0);
        for x in xs.iter() {
            let Value::Object(o) = x else {
                unreachable!("not an object")
            };
            // Same key text from a different allocation than the evidence's.
            let found = o.get_remembered(&String::from("status"), &seen, true);
            assert!(matches!(found, Some(Value::Str(s)) if s.as_ref() == "passed"));
        }
        // Interned: both objects' `status` keys are one allocation.
        assert_ne!(seen.get(), 0);
        let other =
            crate::eval::parse_json(r#"{"status": 1}"#, Default::default()).unwrap_or(Value::Null);
        let Value::Object(o) = &other else {
            unreachable!("not an object")
        };
        // A key from another load is found by its text.
        assert!(matches!(
            o.get_remembered("status", &seen, false),
            Some(Value::Int(1))
        ));
        assert!(o.get_remembered("missing", &seen, false).is_none());
    }
}
