//! The reference interpreter: evaluates the AST directly, as the language
//! reads. It is a test oracle only. Every rule in the product is decided
//! and explained by the compiled evaluator ([`super::compiled`]); the
//! differential tests, the case tables and the `eval` fuzz target hold the
//! two to the same outcomes, failing clauses, kinds of error, vacuous
//! `all`s and, by charging the same steps, the same point where the budget
//! runs out.

use super::access;
use super::ops::{self, apply_values, const_value, quantifier_step};
use super::{builtins, value, Budget, ErrorKind, EvalError, EvalOptions, Value};
use crate::check::Program;
use crate::syntax::ast::*;
use crate::syntax::Span;
use jiff::Timestamp;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A `let`'s memo: evaluated at most once per scope, errors included.
enum Slot {
    Empty,
    InProgress,
    Done(Result<Value, EvalError>),
}

/// A block of `let`s, evaluated lazily: a `let` that reads missing
/// evidence only errors the rules that use it.
pub(crate) struct LetScope<'p> {
    bindings: &'p [Binding],
    slots: RefCell<Vec<Slot>>,
}

impl<'p> LetScope<'p> {
    pub(crate) fn new(bindings: &'p [Binding]) -> Self {
        LetScope {
            bindings,
            slots: RefCell::new(bindings.iter().map(|_| Slot::Empty).collect()),
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.bindings.iter().position(|b| b.name.name == name)
    }
}

/// Scopes at run time: a chain of frames on the Rust stack.
pub(crate) enum Env<'a> {
    /// `evidence`, `now`, `ledger`, params and file-level `let`s.
    Root,
    Var {
        name: &'a str,
        value: Value,
        parent: &'a Env<'a>,
    },
    Lets {
        scope: &'a LetScope<'a>,
        parent: &'a Env<'a>,
    },
}

/// The AST interpreter (see the module docs).
pub struct Evaluator<'p> {
    program: &'p Program,
    evidence: Value,
    now: Timestamp,
    ledger: Option<Value>,
    params: HashMap<String, Value>,
    budget: Budget,
    global: LetScope<'p>,
    /// Spans of `all` quantifiers that held over an empty collection.
    vacuous: RefCell<Vec<(Span, QuantKind)>>,
    /// Compiled regexes and globs, by pattern.
    cache: builtins::Cache,
    /// The values of constant strings, lists and objects, by expression address.
    constants: rustc_hash::FxHashMap<usize, Value>,
    /// Recursion depth of `eval`.
    depth: crate::stack::Depth,
}

impl<'p> Evaluator<'p> {
    pub fn new(program: &'p Program, evidence: Value, options: &EvalOptions) -> Self {
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
            ledger: options.ledger.clone(),
            params,
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
    }

    /// Decides one rule: its `when`s, then its `require`s, as the compiled
    /// evaluator does.
    pub(crate) fn run_rule(&self, rule: &RuleDecl, parent: &Env<'_>) -> super::Verdict {
        self.budget.reset();
        self.vacuous.borrow_mut().clear();
        let scope = LetScope::new(&rule.lets);
        let env = Env::Lets {
            scope: &scope,
            parent,
        };
        super::verdict::run_clauses(
            &self.budget,
            (&rule.whens, &rule.requires),
            |e, what| self.eval_bool(e, &env, what),
            || self.vacuous.borrow().clone(),
        )
    }

    // ───── names ─────

    fn lookup(&self, name: &str, span: Span, env: &Env<'_>) -> Result<Value, EvalError> {
        let mut frame = env;
        loop {
            match frame {
                Env::Var {
                    name: n,
                    value,
                    parent,
                } => {
                    if *n == name {
                        return Ok(value.clone());
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
    ) -> Result<Value, EvalError> {
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
            Some(b) => self.eval(&b.value, frame),
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

    fn root(&self, name: &str, span: Span) -> Result<Value, EvalError> {
        match name {
            "evidence" => Ok(self.evidence.clone()),
            "now" => Ok(Value::Time(self.now)),
            "ledger" => match &self.ledger {
                Some(v) => Ok(v.clone()),
                None => Err(EvalError::no_ledger(span)),
            },
            _ => match self.params.get(name) {
                Some(v) => Ok(v.clone()),
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

    fn eval_bool(&self, e: &Expr, env: &Env<'_>, what: &str) -> Result<bool, EvalError> {
        match self.eval(e, env)? {
            Value::Bool(b) => Ok(b),
            other => Err(access::not_boolean(&other, e.span, what)),
        }
    }

    fn eval(&self, e: &Expr, env: &Env<'_>) -> Result<Value, EvalError> {
        self.depth.descend(|| self.eval_node(e, env))
    }

    fn eval_node(&self, e: &Expr, env: &Env<'_>) -> Result<Value, EvalError> {
        self.budget.charge(1, e.span)?;
        // Literal strings, lists and objects are built once per evaluation.
        if matches!(
            e.kind,
            ExprKind::Str(_) | ExprKind::List(_) | ExprKind::Object(_)
        ) {
            if let Some(v) = self.constants.get(&(e as *const Expr as usize)) {
                return Ok(v.clone());
            }
        }
        Ok(match &e.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_) => const_value(e)?,
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
                Value::Object(map.into())
            }
            ExprKind::Name(name) => self.lookup(name, e.span, env)?,
            ExprKind::Paren(inner) => self.eval(inner, env)?,
            ExprKind::Field(base, field) => {
                let b = self.eval(base, env)?;
                access::field(self.program, &b, base.span, &field.name, field.span, &None)?
                    .into_value()
            }
            ExprKind::Index(base, index) => {
                let b = self.eval(base, env)?;
                let i = self.eval(index, env)?;
                access::index(self.program, &b, base.span, &i, index.span, &None)?
                    .0
                    .clone()
            }
            ExprKind::Exists(inner) => match self.eval(inner, env) {
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
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, e.span, env)?,
            ExprKind::If(c, t, f) => {
                if self.eval_bool(c, env, "the condition of `if`")? {
                    self.eval(t, env)?
                } else {
                    self.eval(f, env)?
                }
            }
            ExprKind::Quantifier(q) => Value::Bool(self.quantifier(q, e.span, env)?),
            ExprKind::Comprehension(c) => self.comprehension(c, env)?,
            ExprKind::Call(name, args) => self.call(name, args, e.span, env)?,
        })
    }

    fn binary(
        &self,
        op: BinaryOp,
        l: &Expr,
        r: &Expr,
        span: Span,
        env: &Env<'_>,
    ) -> Result<Value, EvalError> {
        use BinaryOp::*;
        Ok(match op {
            And => Value::Bool(
                self.eval_bool(l, env, "the left side of `and`")?
                    && self.eval_bool(r, env, "the right side of `and`")?,
            ),
            Or => Value::Bool(
                self.eval_bool(l, env, "the left side of `or`")?
                    || self.eval_bool(r, env, "the right side of `or`")?,
            ),
            Coalesce => match self.eval(l, env) {
                Ok(Value::Null) => self.eval(r, env)?,
                Ok(found) => found,
                Err(err) if err.access => self.eval(r, env)?,
                Err(err) => return Err(err),
            },
            _ => {
                let lv = self.eval(l, env)?;
                let rv = self.eval(r, env)?;
                let v = apply_values(op, &lv, &rv, l.span, r.span, span, &self.budget)?;
                access::check_string_length(&v, &self.cache.limits, span)?;
                v
            }
        })
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
                parent: env,
            };
            let vf = Env::Var {
                name: &v.name,
                value: item.clone(),
                parent: &kf,
            };
            if !f(&vf)? {
                break;
            }
        }
        Ok(())
    }

    /// Runs `f` once per element of `collection` with the names bound. `f`
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
            // No names to bind: only the elements are counted. Anything else
            // cannot be iterated with these names.
            (Value::List(items), []) => Ok(items.len()),
            (other, _) => Err(access::not_iterable(self.program, other, collection.span)),
        }
    }

    fn quantifier(&self, q: &Quantifier, span: Span, env: &Env<'_>) -> Result<bool, EvalError> {
        let mut verdict = q.kind != QuantKind::Any;
        let n = self.for_each_element(&q.vars, &q.collection, env, &mut |inner| {
            self.budget.charge(1, span)?;
            let holds = self.eval_bool(&q.body, inner, "the body of a quantifier")?;
            Ok(quantifier_step(q.kind, holds, &mut verdict))
        })?;
        if n == 0 && q.kind != QuantKind::Any {
            self.vacuous.borrow_mut().push((q.collection.span, q.kind));
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
            let element = self.eval(&c.element, inner)?;
            self.budget.charge(ops::ELEMENT_BYTES, c.element.span)?;
            out.push(element);
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
            .collect::<Result<_, EvalError>>()?;
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
                    parent: env,
                };
                self.bind_params(rest, values, &frame, f)
            }
        }
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
    program.for_each_expr(&mut add);
    out
}
