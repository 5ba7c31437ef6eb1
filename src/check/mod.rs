//! Check: parsed files -> a [`Program`] ready to evaluate, or every compile
//! error at once. Resolves names (with "did you mean" hints), checks arity and
//! the types visible without evidence, the stage graph and gate edges,
//! duplicates and definition cycles.

pub mod error;
pub mod ledger;
pub mod types;

pub use error::{suggest, CheckError};
pub use types::{ArgTy, Signature, Ty};

use crate::syntax::ast::*;
use crate::syntax::{SourceMap, Span};
use std::collections::{BTreeMap, HashMap};

/// Names the language defines; they cannot be rebound.
pub const RESERVED: &[&str] = &["evidence", "now", "ledger"];

/// A checked policy: every name resolves, every call has the right arity.
#[derive(Clone, Debug)]
pub struct Program {
    pub sources: SourceMap,
    pub stages: Vec<Stage>,
    pub edges: Vec<(String, String)>,
    pub params: Vec<Param>,
    pub lets: Vec<Binding>,
    pub defs: Vec<DefDecl>,
    pub gates: Vec<GateDecl>,
    pub waivers: Vec<WaiverDecl>,
    /// Position of each `def` in `defs` by name, so a call finds its `def`
    /// in constant time however many there are.
    pub def_index: HashMap<String, usize>,
    /// The same for file-level `let`s and `param`s.
    pub let_index: HashMap<String, usize>,
    pub param_index: HashMap<String, usize>,
    /// What every name use refers to, decided once here: later passes
    /// (lints, schema inference) read it instead of looking names up again,
    /// so they cannot disagree with the checker about shadowing.
    pub resolution: Resolution,
}

/// What one use of a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// `program.params[i]`.
    Param(usize),
    /// A `let` (global, gate, stage or rule), by the span of its name.
    Let(Span),
    /// A quantifier or comprehension variable, or a `def` parameter, by the
    /// span where it is bound.
    Var(Span),
    /// The evidence root.
    Evidence,
    /// The evaluation time.
    Now,
    /// The signed promotion history (TRUST.md section 4).
    Ledger,
}

/// The binding of every name use in a program, by the use's position.
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    uses: HashMap<NodeId, Resolved>,
}

impl Resolution {
    /// What the name written at `span` refers to (`None` for a position
    /// that holds no name use).
    pub fn of(&self, span: Span) -> Option<Resolved> {
        self.uses.get(&node_id(span)).copied()
    }

    /// Every use's binding, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = Resolved> + '_ {
        self.uses.values().copied()
    }
}

#[derive(Clone, Debug)]
pub struct Stage {
    pub name: String,
    pub span: Span,
    pub purpose: Option<String>,
    /// `risk "..."`: the residual risks the stage accepts.
    pub risks: Vec<String>,
    pub lets: Vec<Binding>,
    pub triggers: Vec<RuleDecl>,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub span: Span,
    pub default: Expr,
    pub ty: Ty,
}

impl Program {
    pub fn gate(&self, from: &str, to: &str) -> Option<&GateDecl> {
        self.gates
            .iter()
            .find(|g| g.from.name == from && g.to.name == to)
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    pub fn def(&self, name: &str) -> Option<&DefDecl> {
        self.def_index.get(name).and_then(|&i| self.defs.get(i))
    }

    /// Every rule and rollback trigger of the program.
    pub fn rules(&self) -> impl Iterator<Item = &RuleDecl> {
        self.gates
            .iter()
            .flat_map(|g| g.rules.iter())
            .chain(self.stages.iter().flat_map(|s| s.triggers.iter()))
    }

    /// Calls `f` on every expression of the program (lets, defs, rules,
    /// triggers), each once: the one whole-program walk.
    pub fn for_each_expr<'p>(&'p self, f: &mut dyn FnMut(&'p Expr)) {
        let lets = self
            .lets
            .iter()
            .chain(self.gates.iter().flat_map(|g| g.lets.iter()))
            .chain(self.stages.iter().flat_map(|s| s.lets.iter()));
        for l in lets {
            l.value.walk(f);
        }
        for d in &self.defs {
            d.body.walk(f);
        }
        for g in &self.gates {
            if let Some(subject) = &g.subject {
                subject.walk(f);
            }
        }
        for r in self.rules() {
            for l in &r.lets {
                l.value.walk(f);
            }
            for e in r.whens.iter().chain(&r.requires) {
                e.walk(f);
            }
        }
    }

    /// The param that `e` (a name, possibly in parentheses) refers to, as
    /// the checker resolved it: `None` for a `let` or variable that shadows
    /// a param of the same name.
    pub fn param_of(&self, e: &Expr) -> Option<&Param> {
        let e = e.unparen();
        if !matches!(e.kind, ExprKind::Name(_)) {
            return None;
        }
        match self.resolution.of(e.span)? {
            Resolved::Param(i) => self.params.get(i),
            _ => None,
        }
    }
}

/// Checks the items of a policy (the root file's items followed by those of
/// its imports and waiver files).
pub fn check(
    sources: SourceMap,
    items: Vec<Item>,
    builtins: &[Signature],
) -> Result<Program, Vec<CheckError>> {
    let mut c = Checker {
        builtins,
        errors: Vec::new(),
        deps: BTreeMap::new(),
        node_names: HashMap::new(),
        current: None,
        param_types: HashMap::new(),
        def_sigs: Vec::new(),
        def_index: HashMap::new(),
        sources: sources.clone(),
        depth: 0,
        resolution: Resolution::default(),
    };
    let mut program = c.run(sources, items);
    program.resolution = std::mem::take(&mut c.resolution);
    // On resolved names: which uses are `ledger`, and what is bound to it.
    c.errors.extend(ledger::check(&program));
    for (i, d) in program.defs.iter().enumerate() {
        program.def_index.entry(d.name.name.clone()).or_insert(i);
    }
    for (i, l) in program.lets.iter().enumerate() {
        program.let_index.entry(l.name.name.clone()).or_insert(i);
    }
    for (i, p) in program.params.iter().enumerate() {
        program.param_index.entry(p.name.clone()).or_insert(i);
    }
    if c.errors.is_empty() {
        Ok(program)
    } else {
        let mut errors = c.errors;
        errors.sort_by_key(|e| {
            let s = e.span();
            (s.file, s.start, s.end)
        });
        Err(errors)
    }
}

/// Identity of a `let` or `def` for the cycle check: where its name is written.
type NodeId = (u32, usize);

fn node_id(span: Span) -> NodeId {
    (span.file.0, span.start)
}

#[derive(Clone, Copy)]
enum Binder {
    Let(Span),
    /// The param's type and its index in `Program::params`.
    Param(Ty, usize),
    Var(Span),
    Reserved,
}

struct Scope<'s> {
    names: Vec<(String, Binder)>,
    /// Position of each name in `names` (the last one of a name wins, as in
    /// a backwards search), so a lookup in a scope of 50,000 `let`s is not
    /// a walk over all of them: checking stays linear in the policy.
    index: HashMap<String, usize>,
    parent: Option<&'s Scope<'s>>,
}

impl<'s> Scope<'s> {
    fn child(parent: &'s Scope<'s>) -> Scope<'s> {
        Scope {
            names: Vec::new(),
            index: HashMap::new(),
            parent: Some(parent),
        }
    }

    fn push(&mut self, name: String, binder: Binder) {
        self.index.insert(name.clone(), self.names.len());
        self.names.push((name, binder));
    }

    fn lookup(&self, name: &str) -> Option<Binder> {
        let mut scope = Some(self);
        while let Some(s) = scope {
            if let Some((_, b)) = s.index.get(name).and_then(|&i| s.names.get(i)) {
                return Some(*b);
            }
            scope = s.parent;
        }
        None
    }

    fn all_names(&self, out: &mut Vec<String>) {
        out.extend(self.names.iter().map(|(n, _)| n.clone()));
        if let Some(p) = self.parent {
            p.all_names(out);
        }
    }
}

struct Checker<'b> {
    builtins: &'b [Signature],
    errors: Vec<CheckError>,
    /// let/def -> the lets/defs its body uses, for the cycle check
    deps: BTreeMap<NodeId, Vec<(NodeId, Span)>>,
    node_names: HashMap<NodeId, (String, Span)>,
    current: Option<NodeId>,
    param_types: HashMap<String, Ty>,
    /// name, parameter count and name span of every `def`
    def_sigs: Vec<(String, usize, Span)>,
    /// Position in `def_sigs` by name (the first declaration).
    def_index: HashMap<String, usize>,
    sources: SourceMap,
    /// Recursion depth of `expr`, for the stack check.
    depth: usize,
    resolution: Resolution,
}

impl Checker<'_> {
    fn run(&mut self, sources: SourceMap, items: Vec<Item>) -> Program {
        let mut program = Program {
            sources,
            stages: Vec::new(),
            edges: Vec::new(),
            params: Vec::new(),
            lets: Vec::new(),
            defs: Vec::new(),
            gates: Vec::new(),
            waivers: Vec::new(),
            resolution: Resolution::default(),
            def_index: HashMap::new(),
            let_index: HashMap::new(),
            param_index: HashMap::new(),
        };
        let mut stage_lines = Vec::new();
        let mut stage_blocks = Vec::new();
        let mut params = Vec::new();
        for item in items {
            match item {
                Item::Stages(s) => stage_lines.push(s),
                Item::Stage(s) => stage_blocks.push(s),
                Item::Param(p) => params.push(p),
                Item::Let(l) => program.lets.push(l),
                Item::Def(d) => program.defs.push(d),
                // Imports are resolved by the loader before checking.
                Item::Import(_) => {}
                Item::Gate(g) => program.gates.push(g),
                Item::Waive(w) => program.waivers.push(w),
            }
        }
        self.stage_graph(&mut program, stage_lines, stage_blocks);
        self.params(&mut program, params);

        // Global names: params, lets, defs.
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut global = Scope {
            names: Vec::new(),
            index: HashMap::new(),
            parent: None,
        };
        for n in RESERVED {
            global.push(n.to_string(), Binder::Reserved);
        }
        for (i, p) in program.params.iter().enumerate() {
            self.declare(&mut seen, "name", &p.name, p.span);
            global.push(p.name.clone(), Binder::Param(p.ty, i));
        }
        for l in &program.lets {
            self.declare(&mut seen, "name", &l.name.name, l.name.span);
            self.node_names
                .insert(node_id(l.name.span), (l.name.name.clone(), l.name.span));
            global.push(l.name.name.clone(), Binder::Let(l.name.span));
        }
        for d in &program.defs {
            self.def_index
                .entry(d.name.name.clone())
                .or_insert(self.def_sigs.len());
            self.def_sigs
                .push((d.name.name.clone(), d.params.len(), d.name.span));
            self.declare(&mut seen, "name", &d.name.name, d.name.span);
            self.node_names
                .insert(node_id(d.name.span), (d.name.name.clone(), d.name.span));
            for b in self.builtins {
                if b.name == d.name.name {
                    self.errors.push(CheckError::ReservedName {
                        name: d.name.name.clone(),
                        span: d.name.span,
                        hint: Some(format!("`{}` is a builtin; pick another name", b.name)),
                    });
                }
            }
        }

        for l in &program.lets {
            self.current = Some(node_id(l.name.span));
            self.expr(&l.value, &global);
        }
        for d in &program.defs {
            self.current = Some(node_id(d.name.span));
            let mut scope = Scope::child(&global);
            let mut seen_params: HashMap<String, Span> = HashMap::new();
            for p in &d.params {
                self.declare(&mut seen_params, "parameter", &p.name, p.span);
                scope.push(p.name.clone(), Binder::Var(p.span));
            }
            self.expr(&d.body, &scope);
        }
        self.current = None;

        let mut gates_seen: HashMap<String, Span> = HashMap::new();
        for g in &program.gates {
            self.declare(&mut gates_seen, "gate", &g.label(), g.span);
            self.gate_edge(&program, g);
            let scope = self.let_scope(&g.lets, &global);
            self.subject(g, &scope);
            let mut rules_seen: HashMap<String, Span> = HashMap::new();
            for r in &g.rules {
                self.declare(&mut rules_seen, "rule", &r.name.name, r.name.span);
                self.rule(r, &scope);
            }
        }
        for s in &program.stages {
            let scope = self.let_scope(&s.lets, &global);
            let mut seen: HashMap<String, Span> = HashMap::new();
            for t in &s.triggers {
                self.declare(&mut seen, "rollback trigger", &t.name.name, t.name.span);
                self.rule(t, &scope);
            }
        }
        self.waivers(&program);
        self.cycles();
        program
    }

    fn declare(
        &mut self,
        seen: &mut HashMap<String, Span>,
        what: &'static str,
        name: &str,
        span: Span,
    ) {
        if RESERVED.contains(&name) && what == "name" {
            self.errors.push(CheckError::ReservedName {
                name: name.into(),
                span,
                hint: Some(match name {
                    "evidence" => "`evidence` is the root of the evidence bundle".into(),
                    "ledger" => "`ledger` is the signed promotion history (`--ledger`)".into(),
                    _ => "`now` is the evaluation time (set with `--now`)".into(),
                }),
            });
            return;
        }
        if let Some(first) = seen.get(name).copied() {
            // miette shows one file per report: cite another file by position.
            let (first, elsewhere) = if first.file == span.file {
                (Some(first), None)
            } else {
                let (file, line, col) = self.sources.location(first);
                (
                    None,
                    Some(format!(
                        "first declared at {file}:{line}:{col}; imported names never shadow each other"
                    )),
                )
            };
            self.errors.push(CheckError::Duplicate {
                what,
                name: name.into(),
                span,
                first,
                elsewhere,
            });
        } else {
            seen.insert(name.into(), span);
        }
    }

    fn stage_graph(
        &mut self,
        program: &mut Program,
        lines: Vec<StagesDecl>,
        blocks: Vec<StageDecl>,
    ) {
        let mut spans: HashMap<String, Span> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for line in &lines {
            for s in &line.path {
                if !spans.contains_key(&s.name) {
                    spans.insert(s.name.clone(), s.span);
                    order.push(s.name.clone());
                }
            }
            for pair in line.path.windows(2) {
                if let [a, b] = pair {
                    if a.name == b.name {
                        self.errors.push(CheckError::StageCycle {
                            cycle: format!("{} -> {}", a.name, b.name),
                            span: b.span,
                        });
                        continue;
                    }
                    let edge = (a.name.clone(), b.name.clone());
                    if !program.edges.contains(&edge) {
                        if let Some(path) = path_between(&program.edges, &b.name, &a.name) {
                            self.errors.push(CheckError::StageCycle {
                                cycle: format!("{} -> {}", path.join(" -> "), b.name),
                                span: b.span,
                            });
                            continue;
                        }
                        program.edges.push(edge);
                    }
                }
            }
        }
        let mut blocks_seen: HashMap<String, Span> = HashMap::new();
        let mut stages: Vec<Stage> = order
            .iter()
            .map(|name| Stage {
                name: name.clone(),
                span: spans.get(name).copied().unwrap_or_default(),
                purpose: None,
                risks: Vec::new(),
                lets: Vec::new(),
                triggers: Vec::new(),
            })
            .collect();
        for block in blocks {
            self.declare(&mut blocks_seen, "stage", &block.name.name, block.name.span);
            for second in &block.repeated {
                self.errors.push(CheckError::RepeatedClause {
                    what: "stage",
                    rule: block.name.name.clone(),
                    clause: second.clause,
                    span: second.span,
                    hint: Some("a stage has one purpose: keep the one that is true".into()),
                });
            }
            match stages.iter_mut().find(|s| s.name == block.name.name) {
                Some(stage) => {
                    stage.purpose = block.purpose.map(|p| p.value);
                    stage.risks = block.risks.into_iter().map(|r| r.value).collect();
                    stage.lets = block.lets;
                    stage.triggers = block.triggers;
                }
                None => self.unknown_stage(&block.name, &order),
            }
        }
        program.stages = stages;
    }

    fn unknown_stage(&mut self, name: &Ident, known: &[String]) {
        let hint = match suggest(&name.name, known.iter().map(String::as_str)) {
            Some(s) => Some(format!("did you mean `{s}`?")),
            None if known.is_empty() => {
                Some("declare the promotion path first: `stages dev -> staging -> prod`".into())
            }
            None => Some(format!("declared stages: {}", known.join(", "))),
        };
        self.errors.push(CheckError::UnknownStage {
            name: name.name.clone(),
            span: name.span,
            hint,
        });
    }

    fn gate_edge(&mut self, program: &Program, g: &GateDecl) {
        let known: Vec<String> = program.stages.iter().map(|s| s.name.clone()).collect();
        let mut ok = true;
        for s in [&g.from, &g.to] {
            if !known.contains(&s.name) {
                self.unknown_stage(s, &known);
                ok = false;
            }
        }
        if ok
            && !program
                .edges
                .iter()
                .any(|(a, b)| *a == g.from.name && *b == g.to.name)
        {
            let edges: Vec<String> = program
                .edges
                .iter()
                .map(|(a, b)| format!("{a} -> {b}"))
                .collect();
            self.errors.push(CheckError::UndeclaredEdge {
                from: g.from.name.clone(),
                to: g.to.name.clone(),
                span: g.from.span.to(g.to.span),
                hint: format!(
                    "declared edges: {}; add `stages {} -> {}` if this promotion is intended",
                    edges.join(", "),
                    g.from.name,
                    g.to.name
                ),
            });
        }
    }

    fn params(&mut self, program: &mut Program, params: Vec<Binding>) {
        for p in params {
            let ty = if p.value.is_literal() {
                static_type_of_literal(&p.value)
            } else {
                self.errors.push(CheckError::ParamNotLiteral {
                    name: p.name.name.clone(),
                    span: p.value.span,
                });
                Ty::Unknown
            };
            self.param_types.insert(p.name.name.clone(), ty);
            program.params.push(Param {
                name: p.name.name,
                span: p.name.span,
                default: p.value,
                ty,
            });
        }
    }

    /// A scope holding a block's `let`s (mutually visible, in any order).
    fn let_scope<'s>(&mut self, lets: &[Binding], parent: &'s Scope<'s>) -> Scope<'s> {
        let mut scope = Scope::child(parent);
        let mut seen: HashMap<String, Span> = HashMap::new();
        for l in lets {
            self.declare(&mut seen, "name", &l.name.name, l.name.span);
            self.node_names
                .insert(node_id(l.name.span), (l.name.name.clone(), l.name.span));
            scope.push(l.name.name.clone(), Binder::Let(l.name.span));
        }
        let saved = self.current;
        for l in lets {
            self.current = Some(node_id(l.name.span));
            self.expr(&l.value, &scope);
        }
        self.current = saved;
        scope
    }

    fn rule(&mut self, r: &RuleDecl, parent: &Scope<'_>) {
        if r.requires.is_empty() {
            self.errors.push(CheckError::NoRequire {
                name: r.name.name.clone(),
                span: r.name.span,
            });
        }
        if let Some(second) = r.whens.get(1) {
            self.errors.push(CheckError::RepeatedClause {
                what: "rule",
                rule: r.name.name.clone(),
                clause: "when",
                span: second.span,
                hint: Some("combine the guards with `and`".into()),
            });
        }
        for (kind, name) in [(RuleItemKind::Title, "title"), (RuleItemKind::Help, "help")] {
            if r.order.iter().filter(|k| **k == kind).count() > 1 {
                self.errors.push(CheckError::RepeatedClause {
                    what: "rule",
                    rule: r.name.name.clone(),
                    clause: name,
                    span: r.name.span,
                    hint: None,
                });
            }
        }
        let scope = self.let_scope(&r.lets, parent);
        for e in r.whens.iter().chain(&r.requires) {
            let ty = self.expr(e, &scope);
            self.expect_bool(e, ty, "a condition");
        }
    }

    /// A gate's `subject`: one of them, of a type that can hold a digest
    /// (a string, an object or a list of these), and a literal digest
    /// written in the policy must be well formed.
    fn subject(&mut self, g: &GateDecl, scope: &Scope<'_>) {
        for second in &g.repeated {
            self.errors.push(CheckError::RepeatedClause {
                what: "gate",
                rule: g.label(),
                clause: second.clause,
                span: second.span,
                hint: Some(
                    "a gate decides about one subject; list several digests in one `subject [...]`"
                        .into(),
                ),
            });
        }
        let Some(subject) = &g.subject else { return };
        let ty = self.expr(subject, scope);
        if ty.known() && !matches!(ty, Ty::Str | Ty::Object | Ty::List) {
            self.errors.push(CheckError::TypeMismatch {
                message: format!(
                    "a subject must be a `sha256:` digest, an object with `name` and `digest`, or a list of these; this is a {}",
                    ty.name()
                ),
                span: subject.span,
                label: format!("{}, not a digest", ty.name()),
                hint: Some("for example `subject evidence.artifact.digest`".into()),
            });
        }
        if let ExprKind::Str(text) = &subject.kind {
            if let Err(why) = crate::sign::subject::parse_digest(text) {
                self.errors.push(CheckError::InvalidLiteral {
                    message: format!("the subject is not a digest: {why}"),
                    span: subject.span,
                    label: "not `sha256:` and 64 lowercase hex digits".into(),
                    hint: None,
                });
            }
        }
    }

    fn expect_bool(&mut self, e: &Expr, ty: Ty, what: &str) {
        if ty.known() && ty != Ty::Bool {
            self.errors.push(CheckError::TypeMismatch {
                message: format!("{what} must be a boolean, this is a {}", ty.name()),
                span: e.span,
                label: format!("{}, not a boolean", ty.name()),
                hint: None,
            });
        }
    }

    fn waivers(&mut self, program: &Program) {
        for w in &program.waivers {
            if w.reason.value.trim().is_empty() {
                self.errors.push(CheckError::BlankWaiverReason {
                    rule: w.rule.name.clone(),
                    span: w.reason.span,
                });
            }
            for second in &w.repeated {
                self.errors.push(CheckError::RepeatedClause {
                    what: "waiver for",
                    rule: w.rule.name.clone(),
                    clause: second.clause,
                    span: second.span,
                    hint: Some(format!("a waiver has one `{}`", second.clause)),
                });
            }
            if let Err(message) = waiver_expiry(&w.until.value) {
                self.errors.push(CheckError::InvalidLiteral {
                    message,
                    span: w.until.span,
                    label: "not a date".into(),
                    hint: Some(
                        "write a date (`2026-12-31`, in force through the end of that day, UTC) or an RFC 3339 time".into(),
                    ),
                });
            }
            let Some(gate) = program.gate(&w.from.name, &w.to.name) else {
                let gates: Vec<String> = program.gates.iter().map(GateDecl::label).collect();
                let wanted = format!("{} -> {}", w.from.name, w.to.name);
                self.errors.push(CheckError::UnknownWaiverTarget {
                    what: "gate",
                    name: wanted.clone(),
                    span: w.from.span.to(w.to.span),
                    hint: suggest(&wanted, gates.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| Some(format!("gates: {}", gates.join(", ")))),
                });
                continue;
            };
            if !gate.rules.iter().any(|r| r.name.name == w.rule.name) {
                self.errors.push(CheckError::UnknownWaiverTarget {
                    what: "rule",
                    name: w.rule.name.clone(),
                    span: w.rule.span,
                    hint: suggest(
                        &w.rule.name,
                        gate.rules.iter().map(|r| r.name.name.as_str()),
                    )
                    .map(|s| format!("did you mean `{s}`?")),
                });
            }
        }
    }

    fn cycles(&mut self) {
        // Depth-first search in a fixed order so the reported cycle is deterministic.
        let mut state: HashMap<NodeId, u8> = HashMap::new(); // 1 = on stack, 2 = done
        let nodes: Vec<NodeId> = self.deps.keys().copied().collect();
        for n in nodes {
            let mut stack = Vec::new();
            self.visit(n, &mut state, &mut stack);
        }
    }

    fn visit(&mut self, n: NodeId, state: &mut HashMap<NodeId, u8>, stack: &mut Vec<NodeId>) {
        match state.get(&n) {
            Some(2) => return,
            Some(1) => {
                let start = stack.iter().position(|x| *x == n).unwrap_or(0);
                let mut names: Vec<String> = stack
                    .get(start..)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|id| self.node_names.get(id).map(|(n, _)| format!("`{n}`")))
                    .collect();
                if let Some((name, span)) = self.node_names.get(&n).cloned() {
                    names.push(format!("`{name}`"));
                    self.errors.push(CheckError::Cycle {
                        what: "definitions",
                        cycle: names.join(" -> "),
                        span,
                    });
                }
                return;
            }
            _ => {}
        }
        state.insert(n, 1);
        stack.push(n);
        let next: Vec<NodeId> = self
            .deps
            .get(&n)
            .map(|v| v.iter().map(|(id, _)| *id).collect())
            .unwrap_or_default();
        for m in next {
            self.visit(m, state, stack);
        }
        stack.pop();
        state.insert(n, 2);
    }

    fn depend(&mut self, on: NodeId, span: Span) {
        if let Some(cur) = self.current {
            self.deps.entry(cur).or_default().push((on, span));
        }
    }

    /// Resolves names in `e` and returns its static type.
    fn expr(&mut self, e: &Expr, scope: &Scope<'_>) -> Ty {
        crate::stack::descend_mut(self, |c| &mut c.depth, |c| c.expr_node(e, scope))
    }

    fn expr_node(&mut self, e: &Expr, scope: &Scope<'_>) -> Ty {
        match &e.kind {
            ExprKind::Null => Ty::Null,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Int(_) | ExprKind::Float(_) => Ty::Num,
            ExprKind::Str(_) => Ty::Str,
            ExprKind::Duration(_) => Ty::Duration,
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i, scope);
                }
                Ty::List
            }
            ExprKind::Object(entries) => {
                let mut seen: HashMap<String, Span> = HashMap::new();
                for (k, v) in entries {
                    self.declare(&mut seen, "key", &k.name, k.span);
                    self.expr(v, scope);
                }
                Ty::Object
            }
            ExprKind::Name(name) => self.name(name, e.span, scope),
            ExprKind::Field(base, _) => {
                self.expr(base, scope);
                Ty::Unknown
            }
            ExprKind::Index(base, index) => {
                self.expr(base, scope);
                self.expr(index, scope);
                Ty::Unknown
            }
            ExprKind::Paren(inner) => self.expr(inner, scope),
            ExprKind::Exists(inner) => {
                self.expr(inner, scope);
                Ty::Bool
            }
            ExprKind::Call(name, args) => self.call(name, args, e.span, scope),
            ExprKind::Unary(op, operand) => {
                let ty = self.expr(operand, scope);
                match op {
                    UnaryOp::Not => {
                        self.expect_bool(operand, ty, "the operand of `not`");
                        Ty::Bool
                    }
                    UnaryOp::Neg => {
                        if ty.known() && !matches!(ty, Ty::Num | Ty::Duration) {
                            self.mismatch(operand, ty, "`-` negates numbers and durations");
                        }
                        ty
                    }
                }
            }
            ExprKind::Binary(op, l, r) => {
                let lt = self.expr(l, scope);
                let rt = self.expr(r, scope);
                self.binary(*op, l, lt, r, rt, e.span)
            }
            ExprKind::If(c, t, f) => {
                let ct = self.expr(c, scope);
                self.expect_bool(c, ct, "the condition of `if`");
                let tt = self.expr(t, scope);
                let ft = self.expr(f, scope);
                if tt == ft {
                    tt
                } else {
                    Ty::Unknown
                }
            }
            ExprKind::Quantifier(q) => {
                let ct = self.expr(&q.collection, scope);
                self.collection(&q.collection, ct);
                let inner = self.bind_vars(&q.vars, scope);
                let bt = self.expr(&q.body, &inner);
                self.expect_bool(&q.body, bt, "the body of a quantifier");
                Ty::Bool
            }
            ExprKind::Comprehension(c) => {
                let ct = self.expr(&c.collection, scope);
                self.collection(&c.collection, ct);
                let inner = self.bind_vars(&c.vars, scope);
                self.expr(&c.element, &inner);
                if let Some(f) = &c.filter {
                    let ft = self.expr(f, &inner);
                    self.expect_bool(f, ft, "the filter of a comprehension");
                }
                Ty::List
            }
        }
    }

    fn bind_vars<'s>(&mut self, vars: &[Ident], scope: &'s Scope<'s>) -> Scope<'s> {
        let mut inner = Scope::child(scope);
        let mut seen: HashMap<String, Span> = HashMap::new();
        for v in vars {
            self.declare(&mut seen, "name", &v.name, v.span);
            inner.push(v.name.clone(), Binder::Var(v.span));
        }
        inner
    }

    fn collection(&mut self, e: &Expr, ty: Ty) {
        if ty.known() && !matches!(ty, Ty::List | Ty::Object) {
            self.mismatch(
                e,
                ty,
                "quantifiers and comprehensions iterate over a list or an object",
            );
        }
    }

    fn mismatch(&mut self, e: &Expr, ty: Ty, message: &str) {
        self.errors.push(CheckError::TypeMismatch {
            message: message.into(),
            span: e.span,
            label: format!("this is a {}", ty.name()),
            hint: None,
        });
    }

    fn name(&mut self, name: &str, span: Span, scope: &Scope<'_>) -> Ty {
        let binder = scope.lookup(name);
        let resolved = match binder {
            Some(Binder::Let(at)) => Some(Resolved::Let(at)),
            Some(Binder::Param(_, i)) => Some(Resolved::Param(i)),
            Some(Binder::Var(at)) => Some(Resolved::Var(at)),
            Some(Binder::Reserved) if name == "now" => Some(Resolved::Now),
            Some(Binder::Reserved) if name == "ledger" => Some(Resolved::Ledger),
            Some(Binder::Reserved) => Some(Resolved::Evidence),
            None => None,
        };
        if let Some(r) = resolved {
            self.resolution.uses.insert(node_id(span), r);
        }
        match binder {
            Some(Binder::Let(at)) => {
                self.depend(node_id(at), span);
                Ty::Unknown
            }
            Some(Binder::Param(ty, _)) => ty,
            Some(Binder::Var(_)) => Ty::Unknown,
            Some(Binder::Reserved) => {
                if name == "now" {
                    Ty::Time
                } else {
                    Ty::Object
                }
            }
            None => {
                if self.builtins.iter().any(|b| b.name == name) || self.is_def(name) {
                    self.errors.push(CheckError::NotAValue {
                        name: name.into(),
                        span,
                    });
                    return Ty::Unknown;
                }
                let mut names = Vec::new();
                scope.all_names(&mut names);
                let hint = match suggest(name, names.iter().map(String::as_str)) {
                    Some(s) => Some(format!("did you mean `{s}`?")),
                    None => Some(format!(
                        "evidence is read through `evidence`: did you mean `evidence.{name}`?"
                    )),
                };
                self.errors.push(CheckError::UnknownName {
                    name: name.into(),
                    span,
                    hint,
                });
                Ty::Unknown
            }
        }
    }

    fn is_def(&self, name: &str) -> bool {
        self.def_index.contains_key(name)
    }

    fn call(&mut self, name: &Ident, args: &[Expr], span: Span, scope: &Scope<'_>) -> Ty {
        let arg_types: Vec<Ty> = args.iter().map(|a| self.expr(a, scope)).collect();
        if let Some(sig) = self.builtins.iter().find(|b| b.name == name.name).copied() {
            let min = sig.min_args();
            let max = sig.params.len();
            if args.len() < min || args.len() > max {
                self.errors.push(CheckError::Arity {
                    name: name.name.clone(),
                    expected: arity_text(min, max),
                    got: args.len(),
                    signature: sig.render(),
                    span,
                });
                return sig.returns;
            }
            if let Some(validate) = sig.validate {
                for (i, arg) in args.iter().enumerate() {
                    let literals: Vec<(&str, Span)> = match &arg.unparen().kind {
                        ExprKind::Str(s) => vec![(s.as_str(), arg.span)],
                        ExprKind::List(items) => items
                            .iter()
                            .filter_map(|it| match &it.kind {
                                ExprKind::Str(s) => Some((s.as_str(), it.span)),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    for (lit, lit_span) in literals {
                        if let Err(message) = validate(i, lit) {
                            self.errors.push(CheckError::InvalidLiteral {
                                message,
                                span: lit_span,
                                label: format!("invalid argument of `{}`", name.name),
                                hint: None,
                            });
                        }
                    }
                }
            }
            for ((arg, ty), (pname, want)) in args.iter().zip(&arg_types).zip(sig.params) {
                if !want.accepts(*ty) {
                    self.errors.push(CheckError::TypeMismatch {
                        message: format!(
                            "argument `{pname}` of `{}` must be a {}, this is a {}",
                            name.name,
                            want.name(),
                            ty.name()
                        ),
                        span: arg.span,
                        label: format!("{}, expected {}", ty.name(), want.name()),
                        hint: Some(format!("signature: {}", sig.render())),
                    });
                }
            }
            return sig.returns;
        }
        if let Some((_, params, def_span)) = self
            .def_index
            .get(&name.name)
            .and_then(|&i| self.def_sigs.get(i))
            .cloned()
        {
            self.depend(node_id(def_span), name.span);
            if params != args.len() {
                self.errors.push(CheckError::Arity {
                    name: name.name.clone(),
                    expected: arity_text(params, params),
                    got: args.len(),
                    signature: format!("def {}", name.name),
                    span,
                });
            }
            return Ty::Unknown;
        }
        let mut candidates: Vec<&str> = self.builtins.iter().map(|b| b.name).collect();
        candidates.extend(self.def_sigs.iter().map(|(n, _, _)| n.as_str()));
        let alias = suggest(&name.name, ALIASES.iter().map(|(a, _)| *a))
            .and_then(|a| ALIASES.iter().find(|(x, _)| *x == a))
            .map(|(_, target)| *target);
        let hint = suggest(&name.name, candidates)
            .or(alias)
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| {
                scope
                    .lookup(&name.name)
                    .map(|_| format!("`{}` is a value, not a function", name.name))
            });
        self.errors.push(CheckError::UnknownFunction {
            name: name.name.clone(),
            span: name.span,
            hint,
        });
        Ty::Unknown
    }

    fn binary(&mut self, op: BinaryOp, l: &Expr, lt: Ty, r: &Expr, rt: Ty, span: Span) -> Ty {
        use BinaryOp::*;
        match op {
            Or | And => {
                self.expect_bool(l, lt, &format!("the left side of `{}`", op.symbol()));
                self.expect_bool(r, rt, &format!("the right side of `{}`", op.symbol()));
                Ty::Bool
            }
            Eq | Ne => Ty::Bool,
            Lt | Le | Gt | Ge => {
                let orderable =
                    |t: Ty| matches!(t, Ty::Num | Ty::Str | Ty::Duration | Ty::Time | Ty::Version);
                if lt.known() && rt.known() && (lt != rt || !orderable(lt)) {
                    self.binary_mismatch(
                        op,
                        lt,
                        rt,
                        span,
                        "ordering compares two numbers, strings, durations, times or versions",
                    );
                } else if lt.known() && !orderable(lt) {
                    self.mismatch(l, lt, "this value has no order");
                } else if rt.known() && !orderable(rt) {
                    self.mismatch(r, rt, "this value has no order");
                }
                Ty::Bool
            }
            In | NotIn => {
                if rt.known() && !matches!(rt, Ty::List | Ty::Object) {
                    self.errors.push(CheckError::TypeMismatch {
                        message: format!(
                            "`{}` needs a list or an object on its right",
                            op.symbol()
                        ),
                        span: r.span,
                        label: format!("this is a {}", rt.name()),
                        hint: (rt == Ty::Str)
                            .then(|| "to look for a substring use `contains(text, part)`".into()),
                    });
                }
                Ty::Bool
            }
            Coalesce => {
                if lt == rt {
                    lt
                } else {
                    Ty::Unknown
                }
            }
            Add | Sub | Mul | Div | Rem => {
                if !lt.known() || !rt.known() {
                    return Ty::Unknown;
                }
                match arithmetic_type(op, lt, rt) {
                    Some(t) => t,
                    None => {
                        self.binary_mismatch(op, lt, rt, span, arithmetic_help(op));
                        Ty::Unknown
                    }
                }
            }
        }
    }

    fn binary_mismatch(&mut self, op: BinaryOp, lt: Ty, rt: Ty, span: Span, help: &str) {
        self.errors.push(CheckError::TypeMismatch {
            message: format!(
                "`{}` cannot combine a {} with a {}",
                op.symbol(),
                lt.name(),
                rt.name()
            ),
            span,
            label: format!("{} {} {}", lt.name(), op.symbol(), rt.name()),
            hint: Some(help.into()),
        });
    }
}

/// The first instant at which a waiver no longer applies.
///
/// A date (`2026-12-31`) is inclusive and read in UTC: the waiver is in force
/// until `2027-01-01T00:00:00Z`. A full RFC 3339 time is in force up to and
/// including that instant.
pub fn waiver_expiry(until: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(date) = until.parse::<jiff::civil::Date>() {
        if until.len() == 10 {
            // The last day jiff can represent has no tomorrow: a waiver
            // until then is in force until the end of representable time.
            return Ok(date
                .tomorrow()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
                .map(|z| z.timestamp())
                .unwrap_or(jiff::Timestamp::MAX));
        }
    }
    crate::eval::builtins::parse_rfc3339(until)
        .map(|t| {
            t.checked_add(jiff::SignedDuration::from_nanos(1))
                .unwrap_or(t)
        })
        .map_err(|e| format!("`{until}` is neither a date (YYYY-MM-DD) nor an RFC 3339 time: {e}"))
}

/// Names other policy languages use, and the builtin that does the same here.
const ALIASES: &[(&str, &str)] = &[
    ("len", "count"),
    ("length", "count"),
    ("size", "count"),
    ("cnt", "count"),
    ("startswith", "starts_with"),
    ("endswith", "ends_with"),
    ("lowercase", "lower"),
    ("uppercase", "upper"),
    ("unique", "distinct"),
    ("uniq", "distinct"),
    ("regex_match", "matches"),
    ("re_match", "matches"),
    ("object_keys", "keys"),
];

/// The result type of arithmetic on two known types; None when undefined.
pub fn arithmetic_type(op: BinaryOp, lt: Ty, rt: Ty) -> Option<Ty> {
    use BinaryOp::*;
    use Ty::*;
    Some(match (op, lt, rt) {
        (Add | Sub | Mul | Div | Rem, Num, Num) => Num,
        (Add, Str, Str) => Str,
        (Add, List, List) => List,
        (Add | Sub, Duration, Duration) => Duration,
        (Add | Sub, Time, Duration) => Time,
        (Add, Duration, Time) => Time,
        (Sub, Time, Time) => Duration,
        (Mul, Duration, Num) | (Mul, Num, Duration) | (Div, Duration, Num) => Duration,
        (Div, Duration, Duration) => Num,
        _ => return None,
    })
}

fn arithmetic_help(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "`+` adds numbers, durations (also to a time), and joins strings or lists",
        BinaryOp::Sub => "`-` subtracts numbers or durations; `time - time` is a duration",
        BinaryOp::Mul => "`*` multiplies numbers, or a duration by a number",
        BinaryOp::Div => "`/` divides numbers, or a duration by a number or a duration",
        _ => "`%` takes two numbers",
    }
}

fn arity_text(min: usize, max: usize) -> String {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    if min == max {
        format!("{min} {}", plural(min))
    } else {
        format!("{min} to {max} {}", plural(max))
    }
}

/// Type of a literal expression.
pub fn static_type_of_literal(e: &Expr) -> Ty {
    match &e.unparen().kind {
        ExprKind::Null => Ty::Null,
        ExprKind::Bool(_) => Ty::Bool,
        ExprKind::Int(_) | ExprKind::Float(_) => Ty::Num,
        ExprKind::Str(_) => Ty::Str,
        ExprKind::Duration(_) => Ty::Duration,
        ExprKind::List(_) => Ty::List,
        ExprKind::Object(_) => Ty::Object,
        ExprKind::Unary(UnaryOp::Neg, inner) => static_type_of_literal(inner),
        _ => Ty::Unknown,
    }
}

/// Shortest path of stage names from `from` to `to` along `edges`.
fn path_between(edges: &[(String, String)], from: &str, to: &str) -> Option<Vec<String>> {
    let mut queue = std::collections::VecDeque::from([vec![from.to_string()]]);
    let mut seen = vec![from.to_string()];
    while let Some(path) = queue.pop_front() {
        let last = path.last()?.clone();
        if last == to {
            return Some(path);
        }
        for (a, b) in edges {
            if *a == last && !seen.contains(b) {
                seen.push(b.clone());
                let mut p = path.clone();
                p.push(b.clone());
                queue.push_back(p);
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn suggest_picks_the_nearest_name_within_a_third_of_its_length() {
        let names = ["coverage", "covered", "owner"];
        assert_eq!(suggest("coverge", names), Some("coverage"));
        assert_eq!(suggest("ownr", names), Some("owner"));
        assert_eq!(suggest("latency", names), None);
    }

    #[test]
    fn suggest_breaks_ties_alphabetically_so_hints_are_deterministic() {
        assert_eq!(suggest("cat", ["cot", "bat"]), Some("bat"));
        assert_eq!(suggest("cat", ["bat", "cot"]), Some("bat"));
    }

    #[test]
    fn a_waiver_date_is_inclusive_in_utc() {
        let end = waiver_expiry("2026-12-31").unwrap();
        assert_eq!(end.to_string(), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn a_waiver_time_includes_its_instant() {
        let end = waiver_expiry("2026-12-31T18:00:00+02:00").unwrap();
        assert_eq!(end.to_string(), "2026-12-31T16:00:00.000000001Z");
    }

    #[test]
    fn a_waiver_expiry_that_is_neither_date_nor_time_is_explained() {
        let err = waiver_expiry("next friday").unwrap_err();
        assert!(err.starts_with("`next friday` is neither a date"), "{err}");
    }

    #[test]
    fn arithmetic_types_follow_the_table_in_the_language_reference() {
        use BinaryOp::*;
        use Ty::*;
        assert_eq!(arithmetic_type(Sub, Time, Time), Some(Duration));
        assert_eq!(arithmetic_type(Add, Duration, Time), Some(Time));
        assert_eq!(arithmetic_type(Mul, Num, Duration), Some(Duration));
        assert_eq!(arithmetic_type(Div, Duration, Duration), Some(Num));
        assert_eq!(arithmetic_type(Add, Str, Str), Some(Str));
        assert_eq!(arithmetic_type(Add, Time, Time), None);
        assert_eq!(arithmetic_type(Mul, Duration, Duration), None);
        assert_eq!(arithmetic_type(Sub, Str, Str), None);
    }

    #[test]
    fn arity_text_reads_as_english() {
        assert_eq!(arity_text(1, 1), "1 argument");
        assert_eq!(arity_text(2, 2), "2 arguments");
        assert_eq!(arity_text(2, 3), "2 to 3 arguments");
    }

    #[test]
    fn path_between_finds_the_shortest_route() {
        let edges: Vec<(String, String)> =
            [("dev", "staging"), ("staging", "prod"), ("dev", "prod")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        assert_eq!(
            path_between(&edges, "dev", "prod").unwrap(),
            ["dev", "prod"]
        );
        assert_eq!(
            path_between(&edges, "staging", "prod").unwrap(),
            ["staging", "prod"]
        );
        assert_eq!(path_between(&edges, "prod", "dev"), None);
    }
}
