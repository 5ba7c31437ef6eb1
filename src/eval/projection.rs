//! Projection loading: from a checked program, the parts of the evidence its
//! rules can read, so loading builds only those and skips the rest without
//! materializing it. A projected load keeps every key, a value no rule can
//! read loaded as `null` in its place; a decision's load leaves those
//! fields out. The loads are made by the fast reader (`json`) first; the
//! serde_json loads here read every file it gives up on, and say what is
//! wrong with it.
//!
//! The analysis is conservative: an evidence path used in any way other than
//! as the base of a field access, a collection to iterate, the argument of
//! `count` or the operand of `exists` is loaded whole.

use super::value::{LoadLimits, Value};
use crate::check::Program;
use crate::syntax::ast::*;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// What to load at one point of the evidence tree.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Projection {
    /// Load this value and everything under it.
    pub whole: bool,
    /// Fields read by name.
    pub fields: BTreeMap<String, Projection>,
    /// Every element of an array (or value of an object iterated with `k, v`).
    pub items: Option<Box<Projection>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Seg {
    Key(String),
    Item,
}

type Path = Vec<Seg>;
/// The evidence path each binding in scope denotes, by where the binding
/// is declared: the checker's resolution says which binding a name use
/// means, so shadowing is never decided here again.
type Env = HashMap<BindingId, Option<Path>>;
type BindingId = (u32, usize);

fn binding(span: crate::syntax::Span) -> BindingId {
    (span.file.0, span.start)
}

/// The path a name use denotes in `env`, by the checker's resolution.
fn name_path(program: &Program, use_span: crate::syntax::Span, env: &Env) -> Option<Path> {
    use crate::check::Resolved;
    match program.resolution.of(use_span)? {
        Resolved::Evidence => Some(Vec::new()),
        Resolved::Let(at) | Resolved::Var(at) => env.get(&binding(at)).cloned().flatten(),
        Resolved::Param(_) | Resolved::Now | Resolved::Ledger => None,
    }
}

struct Analysis<'p> {
    program: &'p Program,
    root: Projection,
    /// Also keep what explanations name elements by (`name`, `id`...).
    for_explanations: bool,
    /// The `def` calls already analysed, by `def` and the paths of their
    /// arguments: the same call adds nothing new, so a `def` called twice
    /// by each of forty nested `def`s is analysed forty times, not 2^40.
    calls_seen: std::collections::HashSet<(usize, Vec<Option<Path>>)>,
    /// The file-level lets' paths, computed on first use.
    globals: Option<Env>,
}

impl Analysis<'_> {
    fn node(&mut self, path: &[Seg]) -> &mut Projection {
        let mut n = &mut self.root;
        for seg in path {
            n = match seg {
                Seg::Key(k) => n.fields.entry(k.clone()).or_default(),
                Seg::Item => n.items.get_or_insert_with(Default::default),
            };
        }
        n
    }

    fn whole(&mut self, path: &[Seg]) {
        self.node(path).whole = true;
    }

    /// The evidence path `e` denotes, if it is an access chain; any other
    /// expression is visited as a value.
    fn path(&mut self, e: &Expr, env: &Env) -> Option<Path> {
        match &e.kind {
            ExprKind::Name(_) => name_path(self.program, e.span, env),
            ExprKind::Paren(inner) => self.path(inner, env),
            ExprKind::Field(base, f) => {
                let mut p = self.path(base, env)?;
                p.push(Seg::Key(f.name.clone()));
                self.node(&p);
                Some(p)
            }
            ExprKind::Index(base, index) => {
                let bp = self.path(base, env);
                match (&index.unparen().kind, bp) {
                    (ExprKind::Str(k), Some(mut p)) => {
                        p.push(Seg::Key(k.clone()));
                        self.node(&p);
                        Some(p)
                    }
                    (ExprKind::Int(_) | ExprKind::Unary(UnaryOp::Neg, _), Some(mut p)) => {
                        p.push(Seg::Item);
                        self.node(&p);
                        Some(p)
                    }
                    (_, bp) => {
                        // A computed index or key: any element may be read.
                        self.value(index, env);
                        if let Some(p) = bp {
                            self.whole(&p);
                        }
                        None
                    }
                }
            }
            _ => {
                self.value(e, env);
                None
            }
        }
    }

    /// `e` is used as a value: whatever evidence it denotes is loaded whole.
    fn value(&mut self, e: &Expr, env: &Env) {
        match &e.kind {
            ExprKind::Name(_) | ExprKind::Field(..) | ExprKind::Index(..) | ExprKind::Paren(_) => {
                if let Some(p) = self.path(e, env) {
                    self.whole(&p);
                }
            }
            ExprKind::Exists(inner) => {
                // Only whether it resolves: keep the path, not its value.
                self.path(inner, env);
            }
            ExprKind::Call(name, args) if name.name == "count" && args.len() == 1 => {
                if let Some(p) = self.path(&args[0], env) {
                    // The elements must be there to be counted; their contents need not.
                    let n = self.node(&p);
                    n.items.get_or_insert_with(Default::default);
                }
            }
            ExprKind::Call(name, args) => match self.program.def_index.get(&name.name) {
                Some(&index) => {
                    let Some(def) = self.program.defs.get(index) else {
                        return;
                    };
                    let paths: Vec<Option<Path>> =
                        args.iter().map(|arg| self.path(arg, env)).collect();
                    if !self.calls_seen.insert((index, paths.clone())) {
                        return;
                    }
                    // A def sees the globals and its own parameters.
                    let mut inner: Env = self.globals();
                    for (param, p) in def.params.iter().zip(paths) {
                        inner.insert(binding(param.span), p);
                    }
                    self.value(&def.body, &inner);
                }
                None => {
                    for a in args {
                        self.value(a, env);
                    }
                }
            },
            ExprKind::Quantifier(q) => {
                let inner = self.bind(&q.vars, &q.collection, env);
                self.value(&q.body, &inner);
            }
            ExprKind::Comprehension(c) => {
                let inner = self.bind(&c.vars, &c.collection, env);
                self.value(&c.element, &inner);
                if let Some(f) = &c.filter {
                    self.value(f, &inner);
                }
            }
            other => {
                let mut children = Vec::new();
                other.for_each_child(&mut |c| children.push(c));
                for c in children {
                    self.value(c, env);
                }
            }
        }
    }

    fn bind(&mut self, vars: &[Ident], collection: &Expr, env: &Env) -> Env {
        let cp = self.path(collection, env);
        let mut inner = env.clone();
        let for_explanations = self.for_explanations;
        let element = cp.map(|mut p| {
            p.push(Seg::Item);
            let node = self.node(&p);
            if for_explanations {
                // Explanations name the elements they show by these fields.
                for name in super::explain::NAME_FIELDS {
                    node.fields.entry(name.to_string()).or_default().whole = true;
                }
            }
            p
        });
        match vars {
            [single] => {
                inner.insert(binding(single.span), element);
            }
            [k, v, ..] => {
                inner.insert(binding(k.span), None);
                inner.insert(binding(v.span), element);
            }
            [] => {}
        }
        inner
    }

    /// File-level lets that denote evidence paths (analysed once).
    fn globals(&mut self) -> Env {
        if let Some(env) = &self.globals {
            return env.clone();
        }
        let mut env = Env::new();
        let program = self.program;
        self.lets(&program.lets, &mut env);
        self.globals = Some(env.clone());
        env
    }

    fn lets(&mut self, lets: &[Binding], env: &mut Env) {
        // Lets may refer to each other in any order: settle chains first,
        // then visit every value once with the final environment.
        for _ in 0..2 {
            for l in lets {
                let p = path_only(self.program, &l.value, env);
                env.insert(binding(l.name.span), p);
            }
        }
        for l in lets {
            if env.get(&binding(l.name.span)).cloned().flatten().is_none() {
                self.value(&l.value, env);
            } else {
                self.path(&l.value, env);
            }
        }
    }

    fn rules<'r>(&mut self, rules: impl IntoIterator<Item = &'r RuleDecl>, env: &Env) {
        for r in rules {
            let mut env = env.clone();
            self.lets(&r.lets, &mut env);
            for e in r.whens.iter().chain(&r.requires) {
                self.value(e, &env);
            }
        }
    }
}

/// The path an access chain denotes, without recording anything.
fn path_only(program: &Program, e: &Expr, env: &Env) -> Option<Path> {
    match &e.kind {
        ExprKind::Name(_) => name_path(program, e.span, env),
        ExprKind::Paren(inner) => path_only(program, inner, env),
        ExprKind::Field(base, f) => {
            let mut p = path_only(program, base, env)?;
            p.push(Seg::Key(f.name.clone()));
            Some(p)
        }
        ExprKind::Index(base, index) => {
            let mut p = path_only(program, base, env)?;
            match &index.unparen().kind {
                ExprKind::Str(k) => p.push(Seg::Key(k.clone())),
                ExprKind::Int(_) | ExprKind::Unary(UnaryOp::Neg, _) => p.push(Seg::Item),
                _ => return None,
            }
            Some(p)
        }
        _ => None,
    }
}

/// What the rules of `rules` (with their block's `lets`) can read, and what
/// explanations of failing rules show.
pub fn of_rules<'r>(
    program: &Program,
    lets: &[Binding],
    rules: impl IntoIterator<Item = &'r RuleDecl>,
) -> Projection {
    analyse(program, lets, rules, None, true)
}

/// What the rules can read, and nothing else: enough to decide, not to
/// explain (see [`parse_for_decision`]).
pub fn for_decision<'r>(
    program: &Program,
    lets: &[Binding],
    rules: impl IntoIterator<Item = &'r RuleDecl>,
) -> Projection {
    analyse(program, lets, rules, None, false)
}

/// What deciding `gate` reads: its rules and its `subject` (evaluated on
/// the same load), and with `for_explanations` what explanations show.
pub fn of_gate(program: &Program, gate: &GateDecl, for_explanations: bool) -> Projection {
    analyse(
        program,
        &gate.lets,
        &gate.rules,
        gate.subject.as_ref(),
        for_explanations,
    )
}

/// What a gate's `subject` alone reads (with the lets it uses).
pub fn of_subject(program: &Program, gate: &GateDecl) -> Projection {
    analyse(program, &gate.lets, &[], gate.subject.as_ref(), false)
}

fn analyse<'r>(
    program: &Program,
    lets: &[Binding],
    rules: impl IntoIterator<Item = &'r RuleDecl>,
    subject: Option<&Expr>,
    for_explanations: bool,
) -> Projection {
    let mut a = Analysis {
        program,
        root: Projection::default(),
        calls_seen: Default::default(),
        globals: None,
        for_explanations,
    };
    let mut env = a.globals();
    a.lets(lets, &mut env);
    a.rules(rules, &env);
    if let Some(subject) = subject {
        a.value(subject, &env);
    }
    a.root
}

/// Parses evidence, building only what `projection` says can be read.
pub fn parse_projected(
    text: &str,
    limits: LoadLimits,
    projection: &Projection,
) -> Result<Value, super::value::LoadError> {
    parse_with(text, limits, projection, false, None)
}

/// Parses evidence for a decision only: like [`parse_projected`], but the
/// fields no rule reads are left out of their objects instead of kept as
/// `null`. Rules decide the same on it (anything that depends on which keys
/// an object has, such as `count`, `keys` or iterating `k, v`, loads that
/// object whole), but the "fields present" notes of errors and the names of
/// elements in explanations would be missing: a failing or erroring rule
/// must be explained on a [`parse_projected`] load. Accepts and rejects
/// exactly the same files.
pub fn parse_for_decision(
    text: &str,
    limits: LoadLimits,
    projection: &Projection,
) -> Result<Value, super::value::LoadError> {
    parse_with(text, limits, projection, true, None)
}

/// [`parse_projected`] (or with `drop_unread` [`parse_for_decision`]),
/// noting where large values are for reports (left as they were when
/// serde_json has to read the file).
pub(crate) fn parse_with(
    text: &str,
    limits: LoadLimits,
    projection: &Projection,
    drop_unread: bool,
    landmarks: Option<&mut super::json::Landmarks>,
) -> Result<Value, super::value::LoadError> {
    if projection.whole {
        return super::value::parse_json_noting(text, limits, landmarks);
    }
    let shape = super::json::Shape::Projected {
        projection,
        drop_unread,
    };
    if let Some(value) = super::json::load_noting(text, limits, shape, landmarks) {
        return Ok(value);
    }
    parse_with_serde(text, limits, projection, drop_unread)
}

/// [`parse_with`] by serde_json alone (see `json`).
pub(crate) fn parse_with_serde(
    text: &str,
    limits: LoadLimits,
    projection: &Projection,
    drop_unread: bool,
) -> Result<Value, super::value::LoadError> {
    if projection.whole {
        return super::value::parse_json_with_serde(text, limits);
    }
    super::value::load_text(text, |de| {
        let loading = super::value::Loading::new();
        let value = Seed {
            node: projection,
            depth: 0,
            limits,
            loading: &loading,
            drop_unread,
        }
        .deserialize(de);
        super::value::Loading::finish(loading);
        value
    })
}

#[derive(Clone, Copy)]
struct Seed<'a> {
    node: &'a Projection,
    depth: usize,
    limits: LoadLimits,
    loading: &'a std::cell::RefCell<super::value::Loading>,
    /// Leave unread fields out instead of loading them as `null`.
    drop_unread: bool,
}

impl<'a> Seed<'a> {
    fn child(self, node: &'a Projection) -> Self {
        Seed {
            node,
            depth: self.depth + 1,
            ..self
        }
    }

    fn full(self) -> super::value::ValueSeed<'a> {
        super::value::ValueSeed::at(self.depth, self.limits, self.loading)
    }

    fn skip(self) -> Skip {
        Skip {
            depth: self.depth + 1,
            limits: self.limits,
        }
    }

    fn check_depth<E: de::Error>(&self) -> Result<(), E> {
        if self.depth >= self.limits.max_depth {
            return Err(E::custom(format!(
                "evidence nested deeper than {} levels",
                self.limits.max_depth
            )));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.node.whole {
            return self.full().deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.full().visit_unit()
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.full().visit_bool(b)
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        self.full().visit_i64(i)
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        self.full().visit_u64(u)
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.full().visit_f64(f)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.full().visit_str(s)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // Read as an object, found a list: the rules will stop at it with a
        // type error that shows it, so load it as it is.
        if !self.node.fields.is_empty() {
            return self.full().visit_seq(seq);
        }
        self.check_depth()?;
        match &self.node.items {
            Some(n) => {
                let start = self.loading.borrow().begin_list();
                while let Some(v) = seq.next_element_seed(self.child(n))? {
                    self.loading.borrow_mut().add_item(v);
                }
                Ok(self.loading.borrow_mut().end_list(start))
            }
            None => {
                // Not read element by element: keep the count, check but do not build the contents.
                let mut count = 0usize;
                while seq.next_element_seed(self.skip())?.is_some() {
                    count += 1;
                }
                Ok(Value::nulls(count))
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.check_depth()?;
        let mut object = self.loading.borrow().begin_object();
        // Keys left out (`drop_unread`), still checked for duplicates.
        let mut dropped = SeenKeys::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let child = self
                .node
                .fields
                .get(key.as_ref())
                .or(self.node.items.as_deref());
            let value = match child {
                Some(n) => map.next_value_seed(self.child(n))?,
                None if self.drop_unread => {
                    map.next_value_seed(self.skip())?;
                    if dropped.contains(&key) || self.loading.borrow().has_key(&object, &key) {
                        return Err(duplicate_key(&key));
                    }
                    dropped.insert(key);
                    continue;
                }
                None => {
                    map.next_value_seed(self.skip())?;
                    Value::Null
                }
            };
            if dropped.contains(&key) {
                return Err(duplicate_key(&key));
            }
            let mut loading = self.loading.borrow_mut();
            let interned = loading.key(&key);
            if let Err(key) = loading.add_entry(&mut object, interned, value) {
                return Err(duplicate_key(&key));
            }
        }
        Ok(self.loading.borrow_mut().end_object(object))
    }
}

/// Keys of one object seen without being kept (left out by a decision load,
/// or skipped): a short list, and a hash set once it is long, so that an
/// object of many keys is not checked for duplicates in quadratic time.
///
/// The few are kept in place, not in a vector: most skipped objects have a
/// handful of keys, and growing a vector for them was a reallocation per
/// doubling, for every skipped object.
#[derive(Default)]
struct SeenKeys<'de> {
    few: [Option<std::borrow::Cow<'de, str>>; SeenKeys::FEW],
    len: usize,
    many:
        Option<std::collections::HashSet<std::borrow::Cow<'de, str>, foldhash::fast::RandomState>>,
}

impl<'de> SeenKeys<'de> {
    const FEW: usize = 16;

    fn contains(&self, key: &str) -> bool {
        match &self.many {
            Some(set) => set.contains(key),
            None => self
                .few
                .iter()
                .take(self.len)
                .flatten()
                .any(|k| k.as_ref() == key),
        }
    }

    fn insert(&mut self, key: std::borrow::Cow<'de, str>) {
        match &mut self.many {
            Some(set) => {
                set.insert(key);
            }
            None if self.len < Self::FEW => {
                if let Some(slot) = self.few.get_mut(self.len) {
                    *slot = Some(key);
                }
                self.len += 1;
            }
            None => {
                let mut set: std::collections::HashSet<_, foldhash::fast::RandomState> =
                    self.few.iter_mut().filter_map(Option::take).collect();
                set.insert(key);
                self.many = Some(set);
            }
        }
    }
}

fn duplicate_key<E: de::Error>(key: &str) -> E {
    E::custom(format!(
        "duplicate key `{key}` (ambiguous evidence is rejected)"
    ))
}

/// Skips a value without building it, but checks it exactly as loading it
/// would (nesting depth, string length, integer range, duplicate keys), so a
/// projected load accepts and rejects the same files as a full one.
#[derive(Clone, Copy)]
struct Skip {
    depth: usize,
    limits: LoadLimits,
}

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<(), E> {
        i64::try_from(u).map(|_| ()).map_err(|_| {
            E::custom(format!(
                "integer {u} does not fit in 64 bits (Clearance keeps integers exact)"
            ))
        })
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<(), E> {
        if f.is_finite() {
            super::value::note_float(f);
            Ok(())
        } else {
            Err(E::custom("number out of range"))
        }
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        if s.len() > self.limits.max_string {
            return Err(E::custom(format!(
                "string of {} bytes exceeds the limit of {} bytes",
                s.len(),
                self.limits.max_string
            )));
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        // Most objects are small: their keys are compared in a list, and
        // hashed only past a few.
        let mut keys = SeenKeys::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            map.next_value_seed(inner)?;
            if keys.contains(&key) {
                return Err(duplicate_key(&key));
            }
            keys.insert(key);
        }
        Ok(())
    }
}

impl Skip {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        Ok(Skip {
            depth: self.limits.deeper(self.depth)?,
            limits: self.limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads_a() -> Projection {
        let mut p = Projection::default();
        p.fields.insert("a".into(), Projection::default());
        p
    }

    /// Names are the checker's: a quantifier variable or a `def` parameter
    /// that shadows a file-level `let` reads its own path, never the let's.
    #[test]
    fn shadowed_names_read_their_own_paths() {
        let program = crate::compile_str(
            "p.clr",
            "stages a -> b\nlet x = evidence.top\ndef f(x) = x.inner\ngate a -> b {\n  rule r {\n    require all x in evidence.items: x.flag\n    require f(evidence.other) == 1\n  }\n}\n",
        )
        .unwrap();
        let gate = program.gates.first().unwrap();
        let p = for_decision(&program, &program.lets, &gate.rules);
        // The unused let's path is known, but nothing under it is read.
        assert!(
            p.fields
                .get("top")
                .is_none_or(|t| !t.whole && t.fields.is_empty()),
            "{p:?}"
        );
        let items = p
            .fields
            .get("items")
            .and_then(|i| i.items.as_deref())
            .unwrap();
        assert!(items.fields.contains_key("flag"), "{p:?}");
        assert!(
            p.fields.get("other").unwrap().fields.contains_key("inner"),
            "{p:?}"
        );
    }

    #[test]
    fn decision_load_leaves_unread_fields_out() {
        let text = r#"{"a": 1, "b": {"deep": [1, 2]}, "c": "x"}"#;
        let lean =
            parse_for_decision(text, LoadLimits::default(), &reads_a()).unwrap_or(Value::Null);
        let kept = parse_projected(text, LoadLimits::default(), &reads_a()).unwrap_or(Value::Null);
        let Value::Object(lean) = lean else {
            panic!("not an object")
        };
        let Value::Object(kept) = kept else {
            panic!("not an object")
        };
        assert_eq!(
            lean.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
            ["a"]
        );
        assert_eq!(
            kept.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn decision_load_still_rejects_duplicate_unread_keys() {
        // Few keys (a list) and many (a hash set): both must see the duplicate.
        let few = r#"{"a": 1, "b": 1, "b": 2}"#;
        let mut many = String::from(r#"{"a": 1"#);
        for i in 0..40 {
            many.push_str(&format!(r#", "k{i}": {i}"#));
        }
        many.push_str(r#", "k7": 0}"#);
        let read_twice = r#"{"a": 1, "b": 1, "a": 2}"#;
        // Inside an object no rule reads (skipped whole), few keys and many.
        let skipped_few = r#"{"a": 1, "s": {"x": 1, "x": 2}}"#;
        let skipped_many = format!(r#"{{"a": 1, "s": {}}}"#, &many[..]);
        for text in [few, many.as_str(), read_twice, skipped_few, &skipped_many] {
            for parse in [parse_for_decision, parse_projected] {
                let err = parse(text, LoadLimits::default(), &reads_a());
                assert!(
                    err.is_err_and(|e| e.to_string().contains("duplicate key")),
                    "{text}"
                );
            }
        }
        // Every value read (`all k, v in evidence: ...`): the kept keys,
        // few and many, are checked too.
        let reads_every_value = Projection {
            items: Some(Box::default()),
            ..Projection::default()
        };
        for text in [few, many.as_str()] {
            for parse in [parse_for_decision, parse_projected] {
                let err = parse(text, LoadLimits::default(), &reads_every_value);
                assert!(
                    err.is_err_and(|e| e.to_string().contains("duplicate key")),
                    "{text}"
                );
            }
        }
    }
}
