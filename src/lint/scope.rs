//! Name resolution for lints: which declaration each name refers to, how
//! often each declaration is used, and which declarations shadow others.

use crate::check::Program;
use crate::syntax::ast::*;
use crate::syntax::Span;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeclKind {
    Param,
    Let,
    Def,
    /// A quantifier, comprehension or def parameter.
    Var,
}

#[derive(Clone, Debug)]
pub(crate) struct Decl {
    pub kind: DeclKind,
    pub name: String,
    pub span: Span,
}

#[derive(Default)]
pub(crate) struct Analysis {
    pub decls: Vec<Decl>,
    uses: HashMap<(u32, usize), usize>,
    /// (inner declaration, outer declaration it hides)
    pub shadows: Vec<(Decl, Decl)>,
}

impl Analysis {
    pub fn uses(&self, decl: &Decl) -> usize {
        self.uses
            .get(&(decl.span.file.0, decl.span.start))
            .copied()
            .unwrap_or(0)
    }
}

/// The declarations of one scope, with an index by name (the last of a
/// name wins), so lookups cost the nesting depth, not the number of
/// declarations: 50,000 `let`s lint in linear time.
#[derive(Default)]
struct ScopeDecls {
    decls: Vec<Decl>,
    index: HashMap<String, usize>,
}

impl ScopeDecls {
    fn get(&self, name: &str) -> Option<&Decl> {
        self.index.get(name).and_then(|&i| self.decls.get(i))
    }

    fn push(&mut self, decl: Decl) {
        self.index.insert(decl.name.clone(), self.decls.len());
        self.decls.push(decl);
    }
}

struct Walker<'a> {
    out: Analysis,
    scopes: Vec<ScopeDecls>,
    program: &'a Program,
}

impl Walker<'_> {
    fn declare(&mut self, kind: DeclKind, ident: &Ident) {
        let decl = Decl {
            kind,
            name: ident.name.clone(),
            span: ident.span,
        };
        // Shadowing: the name is already visible from an enclosing scope.
        let depth = self.scopes.len();
        let outer = self
            .scopes
            .iter()
            .take(depth.saturating_sub(1))
            .rev()
            .find_map(|s| s.get(&ident.name))
            .cloned();
        if let Some(outer) = outer {
            self.out.shadows.push((decl.clone(), outer));
        }
        self.out.decls.push(decl.clone());
        if let Some(top) = self.scopes.last_mut() {
            top.push(decl);
        }
    }

    fn use_name(&mut self, name: &str) {
        let found = self
            .scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name))
            .map(|d| (d.span.file.0, d.span.start));
        if let Some(key) = found {
            *self.out.uses.entry(key).or_insert(0) += 1;
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) => self.use_name(n),
            ExprKind::Call(name, args) => {
                self.use_name(&name.name);
                for a in args {
                    self.expr(a);
                }
            }
            ExprKind::Quantifier(q) => {
                self.expr(&q.collection);
                self.scopes.push(ScopeDecls::default());
                for v in &q.vars {
                    self.declare(DeclKind::Var, v);
                }
                self.expr(&q.body);
                self.scopes.pop();
            }
            ExprKind::Comprehension(c) => {
                self.expr(&c.collection);
                self.scopes.push(ScopeDecls::default());
                for v in &c.vars {
                    self.declare(DeclKind::Var, v);
                }
                self.expr(&c.element);
                if let Some(f) = &c.filter {
                    self.expr(f);
                }
                self.scopes.pop();
            }
            other => other.for_each_child(&mut |c| self.expr(c)),
        }
    }

    fn lets(&mut self, lets: &[Binding]) {
        for l in lets {
            self.declare(DeclKind::Let, &l.name);
        }
        for l in lets {
            self.expr(&l.value);
        }
    }

    fn rule(&mut self, r: &RuleDecl) {
        self.scopes.push(ScopeDecls::default());
        self.lets(&r.lets);
        for e in r.whens.iter().chain(&r.requires) {
            self.expr(e);
        }
        self.scopes.pop();
    }

    fn run(mut self) -> Analysis {
        let p = self.program;
        self.scopes.push(ScopeDecls::default());
        for param in &p.params {
            self.declare(
                DeclKind::Param,
                &Ident {
                    name: param.name.clone(),
                    span: param.span,
                },
            );
        }
        for d in &p.defs {
            self.declare(DeclKind::Def, &d.name);
        }
        self.lets(&p.lets);
        for d in &p.defs {
            self.scopes.push(ScopeDecls::default());
            for param in &d.params {
                self.declare(DeclKind::Var, param);
            }
            self.expr(&d.body);
            self.scopes.pop();
        }
        for g in &p.gates {
            self.scopes.push(ScopeDecls::default());
            self.lets(&g.lets);
            if let Some(subject) = &g.subject {
                self.expr(subject);
            }
            for r in &g.rules {
                self.rule(r);
            }
            self.scopes.pop();
        }
        for s in &p.stages {
            self.scopes.push(ScopeDecls::default());
            self.lets(&s.lets);
            for t in &s.triggers {
                self.rule(t);
            }
            self.scopes.pop();
        }
        self.out
    }
}

pub(crate) fn analyse(program: &Program) -> Analysis {
    Walker {
        out: Analysis::default(),
        scopes: Vec::new(),
        program,
    }
    .run()
}
