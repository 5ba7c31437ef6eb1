//! The evidence a policy reads, as a JSON Schema: inferred from the paths its
//! rules use and how they use them, so teams producing evidence know what to
//! emit, and `check --strict-evidence` can reject a bundle that does not fit
//! before evaluating it.

use crate::check::{Program, Ty};
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

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Item,
    Value,
}

pub(crate) type Path = Vec<Seg>;

struct Infer<'p> {
    program: &'p Program,
    root: Node,
    /// Lets not yet analysed, by name.
    pending: HashMap<String, Expr>,
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
    fn expr(&mut self, e: &Expr, env: &HashMap<String, Option<Path>>) -> Option<Path> {
        match &e.kind {
            ExprKind::Name(n) if n == "evidence" => Some(Vec::new()),
            ExprKind::Name(n) => {
                if let Some(value) = self.pending.remove(n) {
                    self.expr(&value, env);
                }
                env.get(n).cloned().flatten()
            }
            ExprKind::Paren(inner) => self.expr(inner, env),
            ExprKind::Field(base, f) => {
                let p = self.expr(base, env)?;
                let mut p = p;
                p.push(Seg::Key(f.name.clone()));
                self.node(&p);
                Some(p)
            }
            ExprKind::Index(base, index) => {
                let bp = self.expr(base, env);
                self.expr(index, env);
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
                if let Some(p) = self.expr(inner, env) {
                    self.node(&p).optional = true;
                }
                None
            }
            ExprKind::Binary(BinaryOp::Coalesce, l, r) => {
                if let Some(p) = self.expr(l, env) {
                    self.node(&p).optional = true;
                }
                self.expr(r, env);
                None
            }
            ExprKind::Binary(op, l, r) => {
                let lp = self.expr(l, env);
                let rp = self.expr(r, env);
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
                let paths: Vec<Option<Path>> = args.iter().map(|a| self.expr(a, env)).collect();
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
                    | "matches" | "glob" | "json" => self.mark(&first, "string"),
                    "sum" | "min" | "max" | "sort" | "distinct" | "join" => {
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
                        if let Some(d) = self.program.def(&name.name) {
                            let mut inner: HashMap<String, Option<Path>> = HashMap::new();
                            for (param, p) in d.params.iter().zip(&paths) {
                                inner.insert(param.name.clone(), p.clone());
                            }
                            let body = d.body.clone();
                            self.expr(&body, &inner);
                        }
                    }
                }
                None
            }
            ExprKind::Quantifier(q) => {
                let inner = self.bind(&q.vars, &q.collection, env);
                self.expr(&q.body, &inner);
                None
            }
            ExprKind::Comprehension(c) => {
                let inner = self.bind(&c.vars, &c.collection, env);
                self.expr(&c.element, &inner);
                if let Some(f) = &c.filter {
                    self.expr(f, &inner);
                }
                None
            }
            other => {
                let mut children = Vec::new();
                other.for_each_child(&mut |c| children.push(c.clone()));
                for c in children {
                    self.expr(&c, env);
                }
                None
            }
        }
    }

    fn bind(
        &mut self,
        vars: &[Ident],
        collection: &Expr,
        env: &HashMap<String, Option<Path>>,
    ) -> HashMap<String, Option<Path>> {
        let cp = self.expr(collection, env);
        let mut inner = env.clone();
        match (vars, cp) {
            ([single], Some(mut p)) => {
                p.push(Seg::Item);
                self.node(&p);
                inner.insert(single.name.clone(), Some(p));
            }
            ([single], None) => {
                inner.insert(single.name.clone(), None);
            }
            ([k, v, ..], p) => {
                inner.insert(k.name.clone(), None);
                let vp = p.map(|mut p| {
                    p.push(Seg::Value);
                    p
                });
                if let Some(vp) = &vp {
                    self.node(vp);
                }
                inner.insert(v.name.clone(), vp);
            }
            _ => {}
        }
        inner
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

    /// Lets are read lazily: a `let` no rule uses adds nothing to the schema.
    /// A `let` that is an access chain stands for its path; any other is
    /// analysed the first time a name refers to it.
    fn lets(&mut self, lets: &[Binding], env: &mut HashMap<String, Option<Path>>) {
        // Lets may refer to each other in any order: two passes settle chains.
        for _ in 0..2 {
            for l in lets {
                let p = crate::eval::projection::access_path(&l.value, env);
                env.insert(l.name.name.clone(), p);
            }
        }
        for l in lets {
            if env.get(&l.name.name).cloned().flatten().is_none() {
                self.pending.insert(l.name.name.clone(), l.value.clone());
            }
        }
    }

    fn rules(&mut self, rules: &[RuleDecl], env: &HashMap<String, Option<Path>>) {
        for r in rules {
            let mut env = env.clone();
            self.lets(&r.lets, &mut env);
            for e in r.whens.iter().chain(&r.requires) {
                self.expr(e, &env);
            }
        }
    }
}

/// The JSON type of the elements of a literal (or param) list, when they agree.
fn constant_list_type(program: &Program, e: &Expr) -> Option<&'static str> {
    let expr = match &e.unparen().kind {
        ExprKind::Name(n) => &program.params.iter().find(|p| p.name == *n)?.default,
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
        ExprKind::Name(n) => program
            .params
            .iter()
            .find(|p| p.name == *n)
            .map(|p| p.ty)
            .unwrap_or(Ty::Unknown),
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

/// The JSON Schema of the evidence one gate (or, with `None`, every gate and
/// rollback trigger) reads.
pub fn infer(program: &Program, gate: Option<&GateDecl>) -> Json {
    let mut inf = Infer {
        program,
        root: Node::default(),
        pending: HashMap::new(),
    };
    let mut env: HashMap<String, Option<Path>> = HashMap::new();
    inf.lets(&program.lets, &mut env);
    for g in program
        .gates
        .iter()
        .filter(|g| gate.is_none_or(|only| std::ptr::eq(*g, only)))
    {
        let mut genv = env.clone();
        inf.lets(&g.lets, &mut genv);
        inf.rules(&g.rules, &genv);
    }
    if gate.is_none() {
        for s in &program.stages {
            let mut senv = env.clone();
            inf.lets(&s.lets, &mut senv);
            inf.rules(&s.triggers, &senv);
        }
    }
    add_type(&mut inf.root, "object");
    let mut schema = to_schema(&inf.root);
    if let Json::Object(m) = &mut schema {
        let title = match gate {
            Some(g) => format!("Evidence read by gate {}", g.label()),
            None => "Evidence read by the policy".to_string(),
        };
        let mut out = Map::new();
        out.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        out.insert("title".into(), json!(title));
        out.extend(std::mem::take(m));
        return Json::Object(out);
    }
    schema
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
        if s.parse::<jiff::Timestamp>().is_err() {
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
