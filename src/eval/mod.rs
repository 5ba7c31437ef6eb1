//! Eval: a checked [`Program`] and evidence -> rule outcomes and a decision.
//!
//! Every rule is first evaluated on the fast path (no provenance tracking).
//! Only a rule that fails or errors is evaluated again in trace mode, which
//! records where each value came from and builds the explanation; evaluation
//! is pure, so both passes see the same values.

mod access;
pub mod builtins;
pub mod compiled;
mod env;
pub mod error;
pub mod explain;
mod outcome;
pub mod projection;
pub mod value;

pub use env::Origin;
pub use error::{ErrorKind, EvalError};
pub use explain::{Cited, Explanation, Label};
pub use outcome::*;
pub use value::{format_duration, parse_json, LoadLimits, Value};

use crate::check::Program;
use crate::syntax::ast::*;
use crate::syntax::Span;
use access::Val;
use env::{pointer_child, Env, LetScope, Slot};
use jiff::{SignedDuration, Timestamp};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// One element of an iterated collection: (index or key, value, pointer).
pub(crate) type Element = (Value, Value, Origin);

/// Default evaluation budget per condition, in steps (see docs/guarantees.md).
pub const DEFAULT_MAX_STEPS: u64 = crate::limits::DEFAULT.max_steps;

/// Counts evaluation steps; running out is an `error` outcome, never a pass.
pub struct Budget {
    used: Cell<u64>,
    max: u64,
}

impl Budget {
    pub fn new(max: u64) -> Self {
        Budget {
            used: Cell::new(0),
            max,
        }
    }

    #[inline]
    pub fn charge(&self, steps: u64, at: Span) -> Result<(), EvalError> {
        let used = self.used.get().saturating_add(steps);
        self.used.set(used);
        if used > self.max {
            return Err(self.exceeded(at));
        }
        Ok(())
    }

    #[cold]
    fn exceeded(&self, at: Span) -> EvalError {
        EvalError::new(
            ErrorKind::BudgetExceeded,
            at,
            format!("evaluation budget exceeded after {} steps", self.max),
        )
        .with_note("the budget bounds every evaluation so that it ends; raise it with `--max-steps` if this evidence is legitimately this large")
    }

    fn reset(&self) {
        self.used.set(0);
    }

    pub fn used(&self) -> u64 {
        self.used.get()
    }
}

/// What an evaluation needs besides the program and the evidence.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    pub now: Timestamp,
    /// Param values that override the defaults, already type-checked.
    pub params: Vec<(String, Value)>,
    /// Evaluation-time limits: steps, regex size, string length.
    pub limits: crate::limits::Limits,
}

impl EvalOptions {
    pub fn at(now: Timestamp) -> Self {
        EvalOptions {
            now,
            params: Vec::new(),
            limits: crate::limits::Limits::default(),
        }
    }
}

pub struct Evaluator<'p> {
    pub(crate) program: &'p Program,
    pub(crate) evidence: Value,
    pub(crate) now: Timestamp,
    params: HashMap<String, Value>,
    pub(crate) trace: bool,
    pub(crate) budget: Budget,
    global: LetScope<'p>,
    /// Spans of `all` quantifiers that held over an empty collection.
    pub(crate) vacuous: RefCell<Vec<Span>>,
    /// Compiled regexes and globs, by pattern.
    cache: builtins::Cache,
    /// The values of constant strings, lists and objects, by expression address.
    constants: rustc_hash::FxHashMap<usize, Value>,
    /// Recursion depth of `eval_t`.
    depth: crate::stack::Depth,
}

impl<'p> Evaluator<'p> {
    pub fn new(program: &'p Program, evidence: Value, options: &EvalOptions) -> Self {
        Self::with_trace(program, evidence, options, false)
    }

    pub(crate) fn with_trace(
        program: &'p Program,
        evidence: Value,
        options: &EvalOptions,
        trace: bool,
    ) -> Self {
        let mut params = HashMap::new();
        for p in &program.params {
            if let Ok(v) = const_value(&p.default) {
                params.insert(p.name.clone(), v);
            }
        }
        for (name, value) in &options.params {
            params.insert(name.clone(), value.clone());
        }
        Evaluator {
            program,
            evidence,
            now: options.now,
            params,
            trace,
            budget: Budget::new(options.limits.max_steps),
            global: LetScope::new(&program.lets),
            vacuous: RefCell::new(Vec::new()),
            cache: builtins::Cache::new(options.limits),
            constants: constants(program),
            depth: Default::default(),
        }
    }

    /// The value of a file-level `let` (used by the case table and tooling).
    pub fn global_let(&self, name: &str) -> Result<Value, EvalError> {
        self.lookup(name, Span::default(), &Env::Root)
            .map(|(v, _)| v)
    }

    pub(crate) fn snippet(&self, span: Span) -> &str {
        self.program.sources.snippet(span)
    }

    // ───── names ─────

    fn lookup(&self, name: &str, span: Span, env: &Env<'_>) -> Result<(Value, Origin), EvalError> {
        let mut frame = env;
        loop {
            match frame {
                Env::Var {
                    name: n,
                    value,
                    origin,
                    parent,
                } => {
                    if *n == name {
                        return Ok((value.clone(), origin.clone()));
                    }
                    frame = parent;
                }
                Env::Lets { scope, parent } => {
                    if let Some(i) = scope.position(name) {
                        return self.let_value(scope, i, frame, span);
                    }
                    frame = parent;
                }
                Env::Root => return self.root(name, span),
            }
        }
    }

    fn let_value(
        &self,
        scope: &LetScope<'_>,
        i: usize,
        frame: &Env<'_>,
        span: Span,
    ) -> Result<(Value, Origin), EvalError> {
        {
            let slots = scope.slots.borrow();
            match slots.get(i) {
                Some(Slot::Done(r)) => return r.clone(),
                Some(Slot::InProgress) => {
                    return Err(EvalError::new(
                        ErrorKind::InvalidValue,
                        span,
                        "definition depends on itself",
                    ))
                }
                _ => {}
            }
        }
        if let Some(s) = scope.slots.borrow_mut().get_mut(i) {
            *s = Slot::InProgress;
        }
        let result = match scope.bindings.get(i) {
            Some(b) => self.eval_t(&b.value, frame),
            None => Err(EvalError::new(
                ErrorKind::InvalidValue,
                span,
                "unbound name",
            )),
        };
        if let Some(s) = scope.slots.borrow_mut().get_mut(i) {
            *s = Slot::Done(result.clone());
        }
        result
    }

    fn root(&self, name: &str, span: Span) -> Result<(Value, Origin), EvalError> {
        match name {
            "evidence" => Ok((self.evidence.clone(), self.trace.then(|| Rc::from("")))),
            "now" => Ok((Value::Time(self.now), None)),
            _ => match self.params.get(name) {
                Some(v) => Ok((v.clone(), None)),
                None => match self.global.position(name) {
                    Some(i) => self.let_value(&self.global, i, &Env::Root, span),
                    None => Err(EvalError::new(
                        ErrorKind::InvalidValue,
                        span,
                        format!("unbound name `{name}`"),
                    )),
                },
            },
        }
    }

    // ───── expressions ─────

    pub(crate) fn eval(&self, e: &Expr, env: &Env<'_>) -> Result<Value, EvalError> {
        self.eval_t(e, env).map(|(v, _)| v)
    }

    pub(crate) fn eval_bool(&self, e: &Expr, env: &Env<'_>, what: &str) -> Result<bool, EvalError> {
        match self.eval(e, env)? {
            Value::Bool(b) => Ok(b),
            other => Err(access::not_boolean(&other, e.span, what)),
        }
    }

    /// Evaluates `e` and, in trace mode, where its value came from.
    pub(crate) fn eval_t(&self, e: &Expr, env: &Env<'_>) -> Result<(Value, Origin), EvalError> {
        self.depth.descend(|| self.eval_node(e, env))
    }

    fn eval_node(&self, e: &Expr, env: &Env<'_>) -> Result<(Value, Origin), EvalError> {
        {
            self.budget.charge(1, e.span)?;
            // Literal strings, lists and objects are built once per evaluation.
            if matches!(
                e.kind,
                ExprKind::Str(_) | ExprKind::List(_) | ExprKind::Object(_)
            ) {
                if let Some(v) = self.constants.get(&(e as *const Expr as usize)) {
                    return Ok((v.clone(), None));
                }
            }
            let v = match &e.kind {
                ExprKind::Null => Value::Null,
                ExprKind::Bool(b) => Value::Bool(*b),
                ExprKind::Int(i) => Value::Int(*i),
                ExprKind::Float(f) => Value::Float(*f),
                ExprKind::Str(s) => Value::str(s),
                ExprKind::Duration(n) => Value::Duration(SignedDuration::from_nanos(*n)),
                ExprKind::List(items) => Value::list(
                    items
                        .iter()
                        .map(|i| self.eval(i, env))
                        .collect::<Result<_, _>>()?,
                ),
                ExprKind::Object(entries) => {
                    let mut map = value::object_with_capacity(entries.len());
                    for (k, v) in entries {
                        map.insert(Rc::from(k.name.as_str()), self.eval(v, env)?);
                    }
                    Value::Object(Rc::new(map))
                }
                ExprKind::Name(name) => return self.lookup(name, e.span, env),
                ExprKind::Paren(inner) => return self.eval_t(inner, env),
                ExprKind::Field(base, field) => return self.field(base, field, env),
                ExprKind::Index(base, index) => return self.index(base, index, env),
                ExprKind::Exists(inner) => match self.eval_t(inner, env) {
                    Ok(_) => Value::Bool(true),
                    Err(err) if err.access => Value::Bool(false),
                    Err(err) => return Err(err),
                },
                ExprKind::Unary(UnaryOp::Not, operand) => {
                    Value::Bool(!self.eval_bool(operand, env, "the operand of `not`")?)
                }
                ExprKind::Unary(UnaryOp::Neg, operand) => {
                    let v = self.eval(operand, env)?;
                    ops::negate(v, e.span)?
                }
                ExprKind::Binary(op, l, r) => return self.binary(*op, l, r, e.span, env),
                ExprKind::If(c, t, f) => {
                    return if self.eval_bool(c, env, "the condition of `if`")? {
                        self.eval_t(t, env)
                    } else {
                        self.eval_t(f, env)
                    }
                }
                ExprKind::Quantifier(q) => Value::Bool(self.quantifier(q, e.span, env)?),
                ExprKind::Comprehension(c) => self.comprehension(c, env)?,
                ExprKind::Call(name, args) => self.call(name, args, e.span, env)?,
            };
            Ok((v, None))
        }
    }

    fn field(
        &self,
        base: &Expr,
        field: &Ident,
        env: &Env<'_>,
    ) -> Result<(Value, Origin), EvalError> {
        let (b, origin) = self.eval_t(base, env)?;
        let got = access::field(
            self.program,
            &b,
            base.span,
            &field.name,
            field.span,
            &origin,
        )?;
        let origin = match got {
            Val::Ref(_) => pointer_child(&origin, &field.name),
            Val::Own(_) => None,
        };
        Ok((got.into_value(), origin))
    }

    fn index(
        &self,
        base: &Expr,
        index: &Expr,
        env: &Env<'_>,
    ) -> Result<(Value, Origin), EvalError> {
        let (b, origin) = self.eval_t(base, env)?;
        let i = self.eval(index, env)?;
        let (v, step) = access::index(self.program, &b, base.span, &i, index.span, &origin)?;
        let origin = match step {
            access::Step::At(at) => pointer_child(&origin, &at.to_string()),
            access::Step::Key(k) => pointer_child(&origin, k),
        };
        Ok((v.clone(), origin))
    }

    fn binary(
        &self,
        op: BinaryOp,
        l: &Expr,
        r: &Expr,
        span: Span,
        env: &Env<'_>,
    ) -> Result<(Value, Origin), EvalError> {
        use BinaryOp::*;
        let v = match op {
            And => Value::Bool(
                self.eval_bool(l, env, "the left side of `and`")?
                    && self.eval_bool(r, env, "the right side of `and`")?,
            ),
            Or => Value::Bool(
                self.eval_bool(l, env, "the left side of `or`")?
                    || self.eval_bool(r, env, "the right side of `or`")?,
            ),
            Coalesce => {
                return match self.eval_t(l, env) {
                    Ok((Value::Null, _)) => self.eval_t(r, env),
                    Ok(found) => Ok(found),
                    Err(err) if err.access => self.eval_t(r, env),
                    Err(err) => Err(err),
                }
            }
            _ => {
                let (lv, lo) = self.eval_t(l, env)?;
                let (rv, ro) = self.eval_t(r, env)?;
                self.apply(op, &lv, &rv, l, r, span).map_err(|mut err| {
                    // Say which evidence the operands came from (trace mode only).
                    for (e, v, o) in [(l, &lv, lo), (r, &rv, ro)] {
                        if let Some(p) = o.filter(|p| !p.is_empty()) {
                            err.notes.push(format!(
                                "`{}` is {} at {p}",
                                self.snippet(e.span),
                                v.short(60)
                            ));
                            err.pointers.push(p.to_string());
                        }
                    }
                    err
                })?
            }
        };
        Ok((v, None))
    }

    /// Applies a non-short-circuiting binary operator to two values.
    pub(crate) fn apply(
        &self,
        op: BinaryOp,
        lv: &Value,
        rv: &Value,
        l: &Expr,
        r: &Expr,
        span: Span,
    ) -> Result<Value, EvalError> {
        let v = apply_values(op, lv, rv, l.span, r.span, span, &self.budget)?;
        access::check_string_length(&v, &self.cache.limits, span)?;
        Ok(v)
    }

    /// The elements a quantifier or comprehension ranges over, with their
    /// pointers: (key-or-index value, element, origin).
    /// `with_origins` computes each element's JSON pointer (trace mode only);
    /// explanations leave it off and point only at the elements they show.
    pub(crate) fn iterate(
        &self,
        vars: &[Ident],
        collection: &Expr,
        env: &Env<'_>,
        with_origins: bool,
    ) -> Result<(Vec<Element>, Origin), EvalError> {
        let (coll, origin) = self.eval_t(collection, env)?;
        let items = match &coll {
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let o = if self.trace && with_origins {
                        pointer_child(&origin, &i.to_string())
                    } else {
                        None
                    };
                    (Value::Int(i as i64), v.clone(), o)
                })
                .collect(),
            Value::Object(map) => {
                if vars.len() < 2 {
                    return Err(access::not_iterable(self.program, &coll, collection.span));
                }
                map.iter()
                    .map(|(k, v)| {
                        let o = if self.trace {
                            pointer_child(&origin, k)
                        } else {
                            None
                        };
                        (Value::Str(k.clone()), v.clone(), o)
                    })
                    .collect()
            }
            other => return Err(access::not_iterable(self.program, other, collection.span)),
        };
        Ok((items, origin))
    }

    /// Runs `f` with the quantifier's names bound to one element.
    pub(crate) fn with_bound<T>(
        &self,
        vars: &[Ident],
        item: &Element,
        env: &Env<'_>,
        f: impl FnOnce(&Env<'_>) -> T,
    ) -> T {
        let (key, value, origin) = item;
        match vars {
            [single] => {
                let frame = Env::Var {
                    name: &single.name,
                    value: value.clone(),
                    origin: origin.clone(),
                    parent: env,
                };
                f(&frame)
            }
            [k, v, ..] => {
                let kf = Env::Var {
                    name: &k.name,
                    value: key.clone(),
                    origin: None,
                    parent: env,
                };
                let vf = Env::Var {
                    name: &v.name,
                    value: value.clone(),
                    origin: origin.clone(),
                    parent: &kf,
                };
                f(&vf)
            }
            [] => f(env),
        }
    }

    /// The two-name loop of [`Self::for_each_element`]: `k, v` bound to each
    /// (index or key, element) pair until `f` returns `false`.
    fn each_pair<'v>(
        &self,
        pairs: impl Iterator<Item = (Value, &'v Value)>,
        (k, v): (&Ident, &Ident),
        collection: &Expr,
        env: &Env<'_>,
        f: &mut dyn FnMut(&Env<'_>) -> Result<bool, EvalError>,
    ) -> Result<(), EvalError> {
        for (key, item) in pairs {
            self.budget.charge(1, collection.span)?;
            let kf = Env::Var {
                name: &k.name,
                value: key,
                origin: None,
                parent: env,
            };
            let vf = Env::Var {
                name: &v.name,
                value: item.clone(),
                origin: None,
                parent: &kf,
            };
            if !f(&vf)? {
                break;
            }
        }
        Ok(())
    }

    /// Runs `f` once per element of `collection` with the names bound, without
    /// materializing the elements (the hot loop of every quantifier). `f`
    /// returns `false` to stop early. Returns how many elements there were.
    fn for_each_element(
        &self,
        vars: &[Ident],
        collection: &Expr,
        env: &Env<'_>,
        f: &mut dyn FnMut(&Env<'_>) -> Result<bool, EvalError>,
    ) -> Result<usize, EvalError> {
        let coll = self.eval(collection, env)?;
        match (&coll, vars) {
            (Value::List(items), [single]) => {
                for v in items.iter() {
                    self.budget.charge(1, collection.span)?;
                    let frame = Env::Var {
                        name: &single.name,
                        value: v.clone(),
                        origin: None,
                        parent: env,
                    };
                    if !f(&frame)? {
                        break;
                    }
                }
                Ok(items.len())
            }
            (Value::List(items), [k, v, ..]) => {
                let pairs = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (Value::Int(i as i64), x));
                self.each_pair(pairs, (k, v), collection, env, f)?;
                Ok(items.len())
            }
            (Value::Object(map), [k, v, ..]) => {
                let pairs = map.iter().map(|(key, x)| (Value::Str(key.clone()), x));
                self.each_pair(pairs, (k, v), collection, env, f)?;
                Ok(map.len())
            }
            // Wrong shapes: the materializing path reports them with the full message.
            _ => self
                .iterate(vars, collection, env, false)
                .map(|(items, _)| items.len()),
        }
    }

    fn quantifier(&self, q: &Quantifier, span: Span, env: &Env<'_>) -> Result<bool, EvalError> {
        let mut verdict = q.kind != QuantKind::Any;
        let n = self.for_each_element(&q.vars, &q.collection, env, &mut |inner| {
            self.budget.charge(1, span)?;
            let holds = self.eval_bool(&q.body, inner, "the body of a quantifier")?;
            Ok(quantifier_step(q.kind, holds, &mut verdict))
        })?;
        if n == 0 && q.kind == QuantKind::All {
            self.vacuous.borrow_mut().push(q.collection.span);
        }
        Ok(verdict)
    }

    fn comprehension(&self, c: &Comprehension, env: &Env<'_>) -> Result<Value, EvalError> {
        let mut out = Vec::new();
        self.for_each_element(&c.vars, &c.collection, env, &mut |inner| {
            if let Some(filter) = &c.filter {
                if !self.eval_bool(filter, inner, "the filter of a comprehension")? {
                    return Ok(true);
                }
            }
            out.push(self.eval(&c.element, inner)?);
            Ok(true)
        })?;
        Ok(Value::list(out))
    }

    fn call(
        &self,
        name: &Ident,
        args: &[Expr],
        span: Span,
        env: &Env<'_>,
    ) -> Result<Value, EvalError> {
        let values: Vec<Value> = args
            .iter()
            .map(|a| self.eval(a, env))
            .collect::<Result<_, _>>()?;
        if let Some(b) = builtins::find(&name.name) {
            let spans: Vec<Span> = args.iter().map(|a| a.span).collect();
            return (b.run)(&builtins::Args {
                values: &values,
                spans: &spans,
                call: span,
                sig: &b.sig,
                budget: &self.budget,
                cache: &self.cache,
            });
        }
        let Some(def) = self.program.def(&name.name) else {
            return Err(EvalError::new(
                ErrorKind::InvalidValue,
                name.span,
                format!("unknown function `{}`", name.name),
            ));
        };
        // Lexical scope: a def sees globals and its own parameters only.
        let globals = Env::Lets {
            scope: &self.global,
            parent: &Env::Root,
        };
        self.bind_params(&def.params, values, &globals, |inner| {
            self.eval(&def.body, inner)
        })
    }

    fn bind_params<T>(
        &self,
        params: &[Ident],
        mut values: Vec<Value>,
        env: &Env<'_>,
        f: impl FnOnce(&Env<'_>) -> T,
    ) -> T {
        match params.split_first() {
            None => f(env),
            Some((first, rest)) => {
                let value = if values.is_empty() {
                    Value::Null
                } else {
                    values.remove(0)
                };
                let frame = Env::Var {
                    name: &first.name,
                    value,
                    origin: None,
                    parent: env,
                };
                self.bind_params(rest, values, &frame, f)
            }
        }
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

/// Every constant string, list and object of the program, evaluated once.
fn constants(program: &Program) -> rustc_hash::FxHashMap<usize, Value> {
    let mut out = rustc_hash::FxHashMap::default();
    let mut add = |e: &Expr| {
        if matches!(
            e.kind,
            ExprKind::Str(_) | ExprKind::List(_) | ExprKind::Object(_)
        ) && e.is_literal()
        {
            if let Ok(v) = const_value(e) {
                out.insert(e as *const Expr as usize, v);
            }
        }
    };
    let lets = program
        .lets
        .iter()
        .chain(program.gates.iter().flat_map(|g| g.lets.iter()))
        .chain(program.stages.iter().flat_map(|s| s.lets.iter()));
    for l in lets {
        l.value.walk(&mut add);
    }
    for d in &program.defs {
        d.body.walk(&mut add);
    }
    let rules = program
        .gates
        .iter()
        .flat_map(|g| g.rules.iter())
        .chain(program.stages.iter().flat_map(|s| s.triggers.iter()));
    for r in rules {
        for l in &r.lets {
            l.value.walk(&mut add);
        }
        for e in r.whens.iter().chain(&r.requires) {
            e.walk(&mut add);
        }
    }
    out
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
        ExprKind::Unary(UnaryOp::Neg, inner) => ops::negate(const_value(inner)?, e.span)?,
        ExprKind::List(items) => {
            Value::list(items.iter().map(const_value).collect::<Result<_, _>>()?)
        }
        ExprKind::Object(entries) => {
            let mut map = value::Object::default();
            for (k, v) in entries {
                map.insert(Rc::from(k.name.as_str()), const_value(v)?);
            }
            Value::Object(Rc::new(map))
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
        Add | Sub | Mul | Div | Rem => ops::arithmetic(op, lv, rv, span)?,
        And | Or | Coalesce => {
            return Err(EvalError::new(
                ErrorKind::InvalidValue,
                span,
                "internal: short-circuit operator applied eagerly",
            ))
        }
    })
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

mod ops {
    //! Arithmetic with checked integers and finite floats.
    use super::{ErrorKind, EvalError, Value};
    use crate::syntax::ast::BinaryOp;
    use crate::syntax::Span;
    use jiff::SignedDuration;

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
                let mut out = a.as_ref().clone();
                out.extend(b.iter().cloned());
                Ok(Value::list(out))
            }
            (Add, Value::Duration(a), Value::Duration(b)) => a
                .checked_add(*b)
                .map(Value::Duration)
                .ok_or_else(|| overflow(span, &text())),
            (Sub, Value::Duration(a), Value::Duration(b)) => a
                .checked_sub(*b)
                .map(Value::Duration)
                .ok_or_else(|| overflow(span, &text())),
            (Add, Value::Time(t), Value::Duration(d))
            | (Add, Value::Duration(d), Value::Time(t)) => t
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
}
