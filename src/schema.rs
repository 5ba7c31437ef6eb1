//! The evidence a policy reads, as a JSON Schema: inferred from the paths its
//! rules use and how they use them, so teams producing evidence know what to
//! emit, and `check --strict-evidence` can reject a bundle that does not fit
//! before evaluating it.

use crate::check::{Program, Resolved, Ty};
use crate::syntax::ast::*;
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, HashMap};

/// What the policy needs at one point of the evidence tree.
#[derive(Default, Debug, Clone)]
struct Node {
    /// JSON types this value may have (empty: unconstrained).
    types: Vec<&'static str>,
    format: Option<&'static str>,
    /// Fields read with `.name` / `["name"]`.
    fields: BTreeMap<String, Node>,
    /// Every field is read as a value (`all k, v in obj`).
    values: Option<Box<Node>>,
    /// Elements of an array.
    items: Option<Box<Node>>,
    /// Some use tolerates its absence (`exists`, `??`).
    optional: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Seg {
    Key(String),
    Item,
    Value,
}

pub(crate) type Path = Vec<Seg>;

struct Infer<'p> {
    program: &'p Program,
    root: Node,
    /// What each binding in scope stands for, by where it is bound (the
    /// checker's resolution says which binding a name use means, so
    /// shadowing and the order of declarations cannot change the answer).
    bound: HashMap<(u32, usize), Bound>,
    /// `def` calls already analysed, by `def` and argument paths: the same
    /// call learns nothing new, so nested `def`s that each call the one
    /// below twice are analysed once a level, not 2^levels times.
    calls_seen: std::collections::HashSet<(String, Vec<Option<Path>>)>,
}

/// A binding's evidence path, known once analysed.
#[derive(Clone, Debug)]
enum Bound {
    /// A `let` no use has reached yet: analysed the first time one does,
    /// so a `let` no rule uses adds nothing to the schema.
    Pending(Expr),
    /// Being analysed (the checker refuses `let` cycles; this only keeps a
    /// bug from recursing forever).
    Busy,
    /// The path it denotes, if it is one.
    Path(Option<Path>),
}

fn key(span: crate::syntax::Span) -> (u32, usize) {
    (span.file.0, span.start)
}

impl Infer<'_> {
    fn node(&mut self, path: &[Seg]) -> &mut Node {
        let mut n = &mut self.root;
        for seg in path {
            n = match seg {
                Seg::Key(k) => {
                    add_type(n, "object");
                    n.fields.entry(k.clone()).or_default()
                }
                Seg::Item => {
                    add_type(n, "array");
                    n.items.get_or_insert_with(Default::default)
                }
                Seg::Value => {
                    add_type(n, "object");
                    n.values.get_or_insert_with(Default::default)
                }
            };
        }
        n
    }

    fn mark(&mut self, path: &Option<Path>, ty: &'static str) {
        if let Some(p) = path {
            add_type(self.node(p), ty);
        }
    }

    /// The evidence path an expression denotes, if any; records what it learns.
    fn expr(&mut self, e: &Expr) -> Option<Path> {
        match &e.kind {
            ExprKind::Name(_) => match self.program.resolution.of(e.span)? {
                Resolved::Evidence => Some(Vec::new()),
                Resolved::Let(at) | Resolved::Var(at) => self.binding(at),
                Resolved::Param(_) | Resolved::Now | Resolved::Ledger => None,
            },
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Field(base, f) => {
                let p = self.expr(base)?;
                let mut p = p;
                p.push(Seg::Key(f.name.clone()));
                self.node(&p);
                Some(p)
            }
            ExprKind::Index(base, index) => {
                let bp = self.expr(base);
                self.expr(index);
                let mut p = bp?;
                match &index.unparen().kind {
                    ExprKind::Str(k) => p.push(Seg::Key(k.clone())),
                    ExprKind::Int(_) | ExprKind::Unary(UnaryOp::Neg, _) => p.push(Seg::Item),
                    _ => return None,
                }
                self.node(&p);
                Some(p)
            }
            ExprKind::Exists(inner) => {
                if let Some(p) = self.expr(inner) {
                    self.node(&p).optional = true;
                }
                None
            }
            ExprKind::Binary(BinaryOp::Coalesce, l, r) => {
                if let Some(p) = self.expr(l) {
                    self.node(&p).optional = true;
                }
                self.expr(r);
                None
            }
            ExprKind::Binary(op, l, r) => {
                let lp = self.expr(l);
                let rp = self.expr(r);
                if op.is_comparison()
                    || matches!(
                        op,
                        BinaryOp::Add
                            | BinaryOp::Sub
                            | BinaryOp::Mul
                            | BinaryOp::Div
                            | BinaryOp::Rem
                    )
                {
                    if matches!(op, BinaryOp::In | BinaryOp::NotIn) {
                        // `x in evidence.list`: an array (a string key may also look up an object).
                        if rp.is_some() && static_ty(self.program, l) != Ty::Str {
                            self.mark(&rp, "array");
                        }
                        // `evidence.x in ["a", "b"]`: x has the type of the list's elements.
                        if let Some(first) = constant_list_type(self.program, r) {
                            self.mark(&lp, first);
                        }
                        return None;
                    }
                    self.learn(&lp, r);
                    self.learn(&rp, l);
                    if matches!(
                        op,
                        BinaryOp::Lt
                            | BinaryOp::Le
                            | BinaryOp::Gt
                            | BinaryOp::Ge
                            | BinaryOp::Mul
                            | BinaryOp::Div
                            | BinaryOp::Rem
                    ) {
                        // Ordering and arithmetic on evidence: numbers unless the other side says otherwise.
                        for (p, other) in [(&lp, r), (&rp, l)] {
                            if p.is_some()
                                && matches!(static_ty(self.program, other), Ty::Num | Ty::Unknown)
                                && !is_conversion(other)
                            {
                                self.mark(p, "number");
                            }
                        }
                    }
                }
                None
            }
            ExprKind::Call(name, args) => {
                let paths: Vec<Option<Path>> = args.iter().map(|a| self.expr(a)).collect();
                let first = paths.first().cloned().flatten();
                match name.name.as_str() {
                    "time" => {
                        if let Some(p) = &first {
                            let n = self.node(p);
                            add_type(n, "string");
                            n.format = Some("date-time");
                        }
                    }
                    "time_unix" => {
                        self.mark(&first, "number");
                        self.mark(&first, "string");
                    }
                    "semver" | "lower" | "upper" | "starts_with" | "ends_with" | "split"
                    | "matches" | "glob" | "json" | "purl" | "spdx_ids" | "replace" => {
                        self.mark(&first, "string")
                    }
                    "sum" | "min" | "max" | "sort" | "distinct" | "join" | "flatten" => {
                        self.mark(&first, "array")
                    }
                    "keys" | "values" => self.mark(&first, "object"),
                    "diff" => {
                        for p in paths.iter().take(2) {
                            self.mark(p, "object");
                        }
                    }
                    _ => {
                        // A `def`: follow its body with the parameters bound to the arguments' paths.
                        let call = (name.name.clone(), paths.clone());
                        if let Some(d) = self
                            .program
                            .def(&name.name)
                            .filter(|_| self.calls_seen.insert(call))
                        {
                            let mut saved = Vec::new();
                            for (param, p) in d.params.iter().zip(&paths) {
                                let old =
                                    self.bound.insert(key(param.span), Bound::Path(p.clone()));
                                saved.push((key(param.span), old));
                            }
                            let body = d.body.clone();
                            self.expr(&body);
                            // Restore the caller's view: a call inside an
                            // argument of the same def bound these too.
                            for (k, old) in saved {
                                match old {
                                    Some(b) => self.bound.insert(k, b),
                                    None => self.bound.remove(&k),
                                };
                            }
                        }
                    }
                }
                None
            }
            ExprKind::Quantifier(q) => {
                self.bind(&q.vars, &q.collection);
                self.expr(&q.body);
                None
            }
            ExprKind::Comprehension(c) => {
                self.bind(&c.vars, &c.collection);
                self.expr(&c.element);
                if let Some(f) = &c.filter {
                    self.expr(f);
                }
                None
            }
            other => {
                let mut children = Vec::new();
                other.for_each_child(&mut |c| children.push(c.clone()));
                for c in children {
                    self.expr(&c);
                }
                None
            }
        }
    }

    /// The path a `let` or variable stands for (see [`Bound`]).
    fn binding(&mut self, at: crate::syntax::Span) -> Option<Path> {
        match self.bound.get(&key(at)).cloned()? {
            Bound::Path(p) => p,
            Bound::Busy => None,
            Bound::Pending(value) => {
                self.bound.insert(key(at), Bound::Busy);
                let p = self.expr(&value);
                self.bound.insert(key(at), Bound::Path(p.clone()));
                p
            }
        }
    }

    /// Binds quantifier or comprehension variables to the elements (or
    /// keys and values) of `collection`.
    fn bind(&mut self, vars: &[Ident], collection: &Expr) {
        let cp = self.expr(collection);
        match (vars, cp) {
            ([single], Some(mut p)) => {
                p.push(Seg::Item);
                self.node(&p);
                self.bound.insert(key(single.span), Bound::Path(Some(p)));
            }
            ([single], None) => {
                self.bound.insert(key(single.span), Bound::Path(None));
            }
            ([k, v, ..], p) => {
                self.bound.insert(key(k.span), Bound::Path(None));
                let vp = p.map(|mut p| {
                    p.push(Seg::Value);
                    p
                });
                if let Some(vp) = &vp {
                    self.node(vp);
                }
                self.bound.insert(key(v.span), Bound::Path(vp));
            }
            _ => {}
        }
    }

    /// `path` compared with `other`: take the type of `other` when it is known.
    fn learn(&mut self, path: &Option<Path>, other: &Expr) {
        let ty = match static_ty(self.program, other) {
            Ty::Num => "number",
            Ty::Str => "string",
            Ty::Bool => "boolean",
            _ => return,
        };
        self.mark(path, ty);
    }

    /// Lets are read lazily: each is analysed when a use first reaches it.
    fn lets(&mut self, lets: &[Binding]) {
        for l in lets {
            self.bound
                .insert(key(l.name.span), Bound::Pending(l.value.clone()));
        }
    }

    fn rules(&mut self, rules: &[RuleDecl]) {
        for r in rules {
            self.lets(&r.lets);
            for e in r.whens.iter().chain(&r.requires) {
                self.expr(e);
            }
        }
    }
}

/// The JSON type of the elements of a literal (or param) list, when they agree.
fn constant_list_type(program: &Program, e: &Expr) -> Option<&'static str> {
    let expr = match &e.unparen().kind {
        ExprKind::Name(_) => &program.param_of(e)?.default,
        _ => e,
    };
    let ExprKind::List(items) = &expr.unparen().kind else {
        return None;
    };
    let mut ty = None;
    for i in items {
        let t = match crate::check::static_type_of_literal(i) {
            Ty::Num => "number",
            Ty::Str => "string",
            Ty::Bool => "boolean",
            _ => return None,
        };
        if ty.is_some_and(|x| x != t) {
            return None;
        }
        ty = Some(t);
    }
    ty
}

fn is_conversion(e: &Expr) -> bool {
    matches!(&e.unparen().kind, ExprKind::Call(n, _) if matches!(n.name.as_str(), "time" | "time_unix" | "semver"))
}

fn static_ty(program: &Program, e: &Expr) -> Ty {
    match &e.unparen().kind {
        ExprKind::Name(_) => program.param_of(e).map_or(Ty::Unknown, |p| p.ty),
        _ => crate::check::static_type_of_literal(e),
    }
}

fn add_type(n: &mut Node, ty: &'static str) {
    if !n.types.contains(&ty) {
        n.types.push(ty);
    }
}

fn to_schema(n: &Node) -> Json {
    let mut s = Map::new();
    let mut types: Vec<&str> = n.types.clone();
    types.sort_unstable();
    match types.as_slice() {
        [] => {}
        [one] => {
            s.insert("type".into(), json!(one));
        }
        many => {
            s.insert("type".into(), json!(many));
        }
    }
    if let Some(f) = n.format {
        s.insert("format".into(), json!(f));
    }
    if !n.fields.is_empty() {
        let props: Map<String, Json> = n
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), to_schema(v)))
            .collect();
        let required: Vec<&String> = n
            .fields
            .iter()
            .filter(|(_, v)| !v.optional)
            .map(|(k, _)| k)
            .collect();
        s.insert("properties".into(), Json::Object(props));
        if !required.is_empty() {
            s.insert("required".into(), json!(required));
        }
    }
    if let Some(v) = &n.values {
        s.insert("additionalProperties".into(), to_schema(v));
    }
    if let Some(i) = &n.items {
        s.insert("items".into(), to_schema(i));
    }
    Json::Object(s)
}

/// What a schema is for: one decision's evidence.
#[derive(Clone, Copy, Debug)]
pub enum Decided<'p> {
    Gate(&'p GateDecl),
    /// A stage's rollback triggers (the metrics `clearance rollback` reads).
    Rollback(&'p crate::check::Stage),
}

impl Decided<'_> {
    fn title(&self) -> String {
        match self {
            Decided::Gate(g) => format!("Evidence read by gate {}", g.label()),
            Decided::Rollback(s) => {
                format!("Metrics read by the rollback triggers of stage {}", s.name)
            }
        }
    }
}

/// The schema body (no `$schema`, no title) of what `blocks` read.
fn body(program: &Program, blocks: &[(&[Binding], &[RuleDecl])], subject: Option<&Expr>) -> Json {
    let mut inf = Infer {
        program,
        root: Node::default(),
        bound: HashMap::new(),
        calls_seen: Default::default(),
    };
    inf.lets(&program.lets);
    for (lets, rules) in blocks {
        inf.lets(lets);
        inf.rules(rules);
    }
    // The gate's `subject` is read from the same bundle as its rules.
    if let Some(subject) = subject {
        inf.expr(subject);
    }
    add_type(&mut inf.root, "object");
    to_schema(&inf.root)
}

fn with_header(title: String, schema: Json) -> Json {
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    out.insert("title".into(), json!(title));
    if let Json::Object(m) = schema {
        out.extend(m);
    }
    Json::Object(out)
}

/// The schema body of what one decision reads.
fn body_of(program: &Program, what: Decided<'_>) -> Json {
    match what {
        Decided::Gate(g) => body(program, &[(&g.lets, &g.rules)], g.subject.as_ref()),
        Decided::Rollback(s) => body(program, &[(&s.lets, &s.triggers)], None),
    }
}

/// The JSON Schema of the evidence one decision reads.
pub fn infer_for(program: &Program, what: Decided<'_>) -> Json {
    with_header(what.title(), body_of(program, what))
}

/// The JSON Schema of the evidence one gate reads, or, with `None`, of what
/// any one decision of the policy reads: one alternative (`anyOf`) per gate
/// and per stage with rollback triggers, since one bundle is evidence for
/// one decision, and no bundle has to satisfy them all at once.
pub fn infer(program: &Program, gate: Option<&GateDecl>) -> Json {
    if let Some(g) = gate {
        return infer_for(program, Decided::Gate(g));
    }
    let decisions: Vec<Decided<'_>> = program
        .gates
        .iter()
        .map(Decided::Gate)
        .chain(
            program
                .stages
                .iter()
                .filter(|s| !s.triggers.is_empty())
                .map(Decided::Rollback),
        )
        .collect();
    match decisions.as_slice() {
        [only] => infer_for(program, *only),
        many => {
            let alternatives: Vec<Json> = many
                .iter()
                .map(|d| {
                    let mut alt = Map::new();
                    alt.insert("title".into(), json!(d.title()));
                    let schema = match d {
                        Decided::Gate(g) => {
                            body(program, &[(&g.lets, &g.rules)], g.subject.as_ref())
                        }
                        Decided::Rollback(s) => body(program, &[(&s.lets, &s.triggers)], None),
                    };
                    if let Json::Object(m) = schema {
                        alt.extend(m);
                    }
                    Json::Object(alt)
                })
                .collect();
            let mut out = Map::new();
            out.insert(
                "$schema".into(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
            out.insert(
                "title".into(),
                json!("Evidence read by one decision of the policy"),
            );
            out.insert("anyOf".into(), json!(alternatives));
            Json::Object(out)
        }
    }
}

/// Checks evidence against an inferred schema; each violation is a JSON pointer and what is wrong.
pub fn validate(schema: &Json, evidence: &crate::eval::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    check(schema, evidence, String::new(), &mut out);
    out
}

fn json_type(v: &crate::eval::Value) -> &'static str {
    use crate::eval::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) | Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::List(_) => "array",
        Value::Object(_) => "object",
        _ => "string",
    }
}

fn check(schema: &Json, v: &crate::eval::Value, pointer: String, out: &mut Vec<(String, String)>) {
    use crate::eval::Value;
    if out.len() >= 50 {
        return;
    }
    let ty = json_type(v);
    let allowed: Vec<&str> = match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    if !allowed.is_empty() && !allowed.contains(&ty) {
        out.push((
            pointer,
            format!(
                "is {} {ty} {}, expected {}",
                article(ty),
                v.short(40),
                allowed.join(" or ")
            ),
        ));
        return;
    }
    if let (Some("date-time"), Value::Str(s)) = (schema.get("format").and_then(Json::as_str), v) {
        if crate::eval::builtins::parse_rfc3339(s).is_err() {
            out.push((
                pointer.clone(),
                format!("{} is not an RFC 3339 date-time", v.short(40)),
            ));
        }
    }
    match v {
        Value::Object(map) => {
            if let Some(Json::Array(req)) = schema.get("required") {
                for k in req.iter().filter_map(Json::as_str) {
                    if !map.contains_key(k) {
                        out.push((pointer.clone(), format!("lacks the required field `{k}`")));
                    }
                }
            }
            if let Some(Json::Object(props)) = schema.get("properties") {
                for (k, sub) in props {
                    if let Some(child) = map.get(k.as_str()) {
                        check(
                            sub,
                            child,
                            format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                            out,
                        );
                    }
                }
            }
            if let Some(sub @ Json::Object(_)) = schema.get("additionalProperties") {
                for (k, child) in map.iter() {
                    check(
                        sub,
                        child,
                        format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
        }
        Value::List(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, child) in items.iter().enumerate() {
                    check(sub, child, format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn article(t: &str) -> &'static str {
    if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    // Test helpers may panic: a failing assertion is how a test reports.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn schema_of(text: &str) -> Json {
        let program = crate::compile_str("p.clr", text).expect("compiles");
        infer(&program, None)
    }

    /// A rule-level `let` shadowing a numeric param was typed as the param,
    /// so `--strict-evidence` refused a string that the rule accepts.
    #[test]
    fn a_shadowing_let_is_not_the_param() {
        let schema = schema_of(
            "stages a -> b\nparam limit = 5\ngate a -> b {\n  rule r {\n    let limit = \"x\"\n    require evidence.v == limit\n  }\n}\n",
        );
        assert_eq!(schema["properties"]["v"], json!({}), "{schema}");
        let program = crate::compile_str(
            "p.clr",
            "stages a -> b\nparam limit = 5\ngate a -> b {\n  rule r {\n    require evidence.v == limit\n  }\n}\n",
        )
        .unwrap();
        let unshadowed = infer(&program, None);
        assert_eq!(unshadowed["properties"]["v"]["type"], "number");
    }

    /// A chain of `let`s gives the same schema in every order of declaration.
    #[test]
    fn the_order_of_lets_does_not_matter() {
        let lets = ["let a = b.x", "let b = c.y", "let c = evidence.z"];
        let orders = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        let schemas: Vec<Json> = orders
            .iter()
            .map(|order| {
                let decls: Vec<&str> = order.iter().map(|&i| lets[i]).collect();
                schema_of(&format!(
                    "stages a -> b\n{}\ngate a -> b {{\n  rule r {{\n    require a == \"s\"\n  }}\n}}\n",
                    decls.join("\n")
                ))
            })
            .collect();
        assert_eq!(
            schemas[0]["properties"]["z"]["properties"]["y"]["properties"]["x"]["type"],
            "string"
        );
        for s in &schemas {
            assert_eq!(s, &schemas[0]);
        }
    }

    /// Global lets are visible in `def` bodies, and a def parameter means
    /// the argument's path, not a global of the same name.
    #[test]
    fn def_bodies_see_globals_and_their_parameters() {
        let schema = schema_of(
            "stages a -> b\nlet cfg = evidence.config\nlet x = evidence.other\ndef ok(x) = x.enabled == true and cfg.mode == \"on\"\ngate a -> b {\n  rule r {\n    require ok(evidence.feature)\n  }\n}\n",
        );
        let props = &schema["properties"];
        assert_eq!(
            props["feature"]["properties"]["enabled"]["type"], "boolean",
            "{schema}"
        );
        assert_eq!(
            props["config"]["properties"]["mode"]["type"], "string",
            "{schema}"
        );
        assert!(props.get("other").is_none(), "{schema}");
    }
}
