//! The reference interpreter: evaluates the AST directly, and in trace mode
//! records where each value came from, which is what explanations are made
//! of. Every rule is decided by the compiled evaluator
//! ([`super::compiled`]); this one explains the rules that failed and
//! reports the errors, and tests hold the two to the same outcomes.

use super::access::{self, Val};
use super::env::{pointer_child, Env, LetScope, Slot};
use super::ops::{self, apply_values, const_value, quantifier_step};
use super::{builtins, value, Budget, Element, ErrorKind, EvalError, EvalOptions, Origin, Value};
use crate::check::Program;
use crate::syntax::ast::*;
use crate::syntax::Span;
use jiff::{SignedDuration, Timestamp};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// The AST interpreter (see the module docs).
pub struct Evaluator<'p> {
    pub(crate) program: &'p Program,
    pub(crate) evidence: Value,
    pub(crate) now: Timestamp,
    ledger: Option<Value>,
    params: HashMap<String, Value>,
    pub(crate) trace: bool,
    pub(crate) budget: Budget,
    global: LetScope<'p>,
    /// Spans of `all` quantifiers that held over an empty collection.
    pub(crate) vacuous: RefCell<Vec<(Span, QuantKind)>>,
    /// Compiled regexes and globs, by pattern.
    cache: builtins::Cache,
    /// The values of constant strings, lists and objects, by expression address.
    constants: rustc_hash::FxHashMap<usize, Value>,
    /// Recursion depth of `eval_t`.
    depth: crate::stack::Depth,
    /// The evidence files as read, when explaining: a value an explanation
    /// shows or cites is taken from its file by its pointer, because the
    /// tree this evaluator reads is a projected load whose unread fields
    /// are placeholders (see [`Evaluator::file_value`]).
    pub(crate) texts: Option<crate::report::Evidence>,
    /// YAML and JUnit files of `texts` parsed whole, by file index.
    whole_files: RefCell<HashMap<usize, Option<Value>>>,
    /// Trace mode: where each element of a list built by a comprehension
    /// came from, by the list's address (the list is kept with them, so the
    /// address cannot be reused): an element reached through a filter is
    /// reported at its pointer in the evidence, not as "element 1".
    list_origins: RefCell<rustc_hash::FxHashMap<usize, BuiltList>>,
}

/// A list a comprehension or `flatten` built, and where each element came from.
type BuiltList = (Rc<Vec<Value>>, Vec<Origin>);

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
            ledger: options.ledger.clone(),
            params,
            trace,
            budget: Budget::new(options.limits.max_steps),
            global: LetScope::new(&program.lets),
            vacuous: RefCell::new(Vec::new()),
            cache: builtins::Cache::new(options.limits),
            constants: constants(program),
            depth: Default::default(),
            texts: None,
            whole_files: Default::default(),
            list_origins: Default::default(),
        }
    }

    /// The value at `origin` exactly as its evidence file holds it (parsed
    /// whole from the file's text), when the files are known; `None` for a
    /// value that did not come from evidence or the evidence root itself.
    pub(crate) fn file_value(&self, origin: &Origin) -> Option<Value> {
        let pointer = origin.as_deref().filter(|p| !p.is_empty())?;
        let texts = self.texts.as_ref()?;
        let (i, inner) = texts.resolve(pointer)?;
        let file = texts.files.get(i)?;
        if file.format != crate::evidence::Format::Json {
            // YAML and JUnit values are not JSON text: take them from the
            // file parsed whole, once per file.
            let mut parsed = self.whole_files.borrow_mut();
            let whole = parsed.entry(i).or_insert_with(|| {
                file.format
                    .parse(
                        &file.name,
                        &file.text,
                        &self.cache.limits,
                        crate::evidence::Load::Full,
                    )
                    .ok()
            });
            return crate::evidence::tree::at_pointer(whole.as_ref()?, &inner);
        }
        let at = texts.locate(pointer)?;
        let text = file.text.get(at.start..at.end)?;
        let limits = super::LoadLimits {
            max_depth: self.cache.limits.evidence_depth,
            max_string: self.cache.limits.string_bytes,
        };
        super::parse_json(text, limits).ok()
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
            "ledger" => match &self.ledger {
                Some(v) => Ok((v.clone(), None)),
                None => Err(EvalError::no_ledger(span)),
            },
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
        let step = |b: &Value| {
            access::field(self.program, b, base.span, &field.name, field.span, &origin)
                .map(|_| ())
                .err()
        };
        let got = access::field(
            self.program,
            &b,
            base.span,
            &field.name,
            field.span,
            &origin,
        )
        .map_err(|e| self.as_in_file(e, &origin, step))?;
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
        let again = |b: &Value| {
            access::index(self.program, b, base.span, &i, index.span, &origin)
                .map(|_| ())
                .err()
        };
        let (v, step) = access::index(self.program, &b, base.span, &i, index.span, &origin)
            .map(|(v, step)| (v.clone(), step))
            .map_err(|e| self.as_in_file(e, &origin, again))?;
        let origin = match step {
            access::Step::At(at) => pointer_child(&origin, &at.to_string()),
            access::Step::Key(k) => pointer_child(&origin, k),
        };
        Ok((v, origin))
    }

    /// `err`, about a value that came from evidence at `origin`, said of the
    /// value as the file holds it (`again` re-runs the failing step on it).
    /// Explanations run on a projected load whose unread fields are
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
                self.apply(op, &lv, &rv, l, r, span).map_err(|err| {
                    // Say it of the operands as their files hold them, and
                    // which evidence they came from (trace mode only).
                    let (flv, frv) = (self.file_value(&lo), self.file_value(&ro));
                    let mut err = match (&flv, &frv) {
                        (None, None) => err,
                        _ => {
                            let (a, b) = (flv.as_ref().unwrap_or(&lv), frv.as_ref().unwrap_or(&rv));
                            self.apply(op, a, b, l, r, span)
                                .err()
                                .filter(|e| e.kind == err.kind)
                                .unwrap_or(err)
                        }
                    };
                    let lv = flv.unwrap_or(lv);
                    let rv = frv.unwrap_or(rv);
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
                    // Without `with_origins`, only the elements of a list a
                    // comprehension built (whose origins are at hand).
                    let o = if self.trace && (with_origins || origin.is_none()) {
                        self.element_origin(items, &origin, i)
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

    /// Where element `i` of `items` (found at `origin`) came from: its
    /// pointer under the list's, or, for a list a comprehension built, the
    /// pointer of the evidence element it was.
    fn element_origin(&self, items: &Rc<Vec<Value>>, origin: &Origin, i: usize) -> Origin {
        if origin.is_none() {
            let address = Rc::as_ptr(items) as usize;
            if let Some((_, origins)) = self.list_origins.borrow().get(&address) {
                return origins.get(i).cloned().flatten();
            }
        }
        pointer_child(origin, &i.to_string())
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
                    origins.extend((0..inner.len()).map(|j| pointer_child(&at, &j.to_string())))
                }
                _ => origins.push(at),
            }
        }
        if origins.iter().any(Option::is_some) {
            self.list_origins
                .borrow_mut()
                .insert(Rc::as_ptr(flat) as usize, (flat.clone(), origins));
        }
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
    ///
    /// `with_origins` (trace mode only) binds each element with its evidence
    /// pointer: a comprehension needs them to keep its elements' pointers,
    /// while a quantifier's explanation points at the elements it shows
    /// itself, so the hot loop does not build a pointer per element.
    fn for_each_element(
        &self,
        vars: &[Ident],
        collection: &Expr,
        env: &Env<'_>,
        with_origins: bool,
        f: &mut dyn FnMut(&Env<'_>) -> Result<bool, EvalError>,
    ) -> Result<usize, EvalError> {
        let (coll, origin) = self.eval_t(collection, env)?;
        let with_origins = with_origins && self.trace;
        match (&coll, vars) {
            (Value::List(items), [single]) => {
                for (i, v) in items.iter().enumerate() {
                    self.budget.charge(1, collection.span)?;
                    let frame = Env::Var {
                        name: &single.name,
                        value: v.clone(),
                        // Elements carry their pointers through comprehensions.
                        origin: if with_origins {
                            self.element_origin(items, &origin, i)
                        } else {
                            None
                        },
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
        let n = self.for_each_element(&q.vars, &q.collection, env, false, &mut |inner| {
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
        let mut origins = Vec::new();
        self.for_each_element(&c.vars, &c.collection, env, true, &mut |inner| {
            if let Some(filter) = &c.filter {
                if !self.eval_bool(filter, inner, "the filter of a comprehension")? {
                    return Ok(true);
                }
            }
            let (element, origin) = self.eval_t(&c.element, inner)?;
            self.budget.charge(ops::ELEMENT_BYTES, c.element.span)?;
            out.push(element);
            if self.trace {
                origins.push(origin);
            }
            Ok(true)
        })?;
        let list = Value::list(out);
        if let Value::List(items) = &list {
            if origins.iter().any(Option::is_some) {
                self.list_origins
                    .borrow_mut()
                    .insert(Rc::as_ptr(items) as usize, (items.clone(), origins));
            }
        }
        Ok(list)
    }

    fn call(
        &self,
        name: &Ident,
        args: &[Expr],
        span: Span,
        env: &Env<'_>,
    ) -> Result<Value, EvalError> {
        // Only `flatten` in trace mode keeps where its argument came from.
        let keep_origins = self.trace && name.name == "flatten";
        let mut arg_origins: Vec<Origin> = Vec::new();
        let values: Vec<Value> = args
            .iter()
            .map(|a| {
                let (v, o) = self.eval_t(a, env)?;
                if keep_origins {
                    arg_origins.push(o);
                }
                Ok(v)
            })
            .collect::<Result<_, EvalError>>()?;
        if let Some(b) = builtins::find(&name.name) {
            let spans: Vec<Span> = args.iter().map(|a| a.span).collect();
            let result = (b.run)(&builtins::Args {
                values: &values,
                spans: &spans,
                call: span,
                sig: &b.sig,
                budget: &self.budget,
                cache: &self.cache,
            })?;
            if keep_origins {
                self.note_flattened(&values, &arg_origins, &result);
            }
            return Ok(result);
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
