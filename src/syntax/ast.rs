//! The abstract syntax tree. Every node carries a [`Span`]; spans are left out
//! of equality so tests (and the formatter's round-trip property) compare structure.

use super::span::Span;

/// Structural equality that leaves out `span`, so the formatter's round trip
/// (and tests) compare meaning, not position.
macro_rules! eq_ignoring_span {
    ($t:ty: $($field:ident),*) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                true $(&& self.$field == other.$field)*
            }
        }
    };
}
eq_ignoring_span!(StagesDecl: path);
eq_ignoring_span!(StageDecl: name, purpose, lets, triggers);
eq_ignoring_span!(Binding: name, value);
eq_ignoring_span!(DefDecl: name, params, body);
eq_ignoring_span!(ImportDecl: path);
eq_ignoring_span!(GateDecl: from, to, lets, rules);
eq_ignoring_span!(RuleDecl: name, advisory, title, help, whens, requires, lets, order);
eq_ignoring_span!(WaiverDecl: from, to, rule, until, reason, owner, ticket);

/// A name with the place it was written.
#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl PartialEq for Ident {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// One parsed `.clr` file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyFile {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Stages(StagesDecl),
    Stage(StageDecl),
    Param(Binding),
    Let(Binding),
    Def(DefDecl),
    Import(ImportDecl),
    Gate(GateDecl),
    Waive(WaiverDecl),
}

impl Item {
    /// The whole item, from its keyword to its end.
    pub fn span(&self) -> Span {
        match self {
            Item::Stages(s) => s.span,
            Item::Stage(s) => s.span,
            Item::Param(b) | Item::Let(b) => b.span,
            Item::Def(d) => d.span,
            Item::Import(i) => i.span,
            Item::Gate(g) => g.span,
            Item::Waive(w) => w.span,
        }
    }
}

/// `stages dev -> staging -> prod`
#[derive(Clone, Debug)]
pub struct StagesDecl {
    pub path: Vec<Ident>,
    pub span: Span,
}

/// `stage prod { purpose "..." rollback name { ... } }`
#[derive(Clone, Debug)]
pub struct StageDecl {
    pub name: Ident,
    pub purpose: Option<Str>,
    /// `risk "..."`: residual risks the stage accepts, in source order.
    pub risks: Vec<Str>,
    pub lets: Vec<Binding>,
    pub triggers: Vec<RuleDecl>,
    /// Singular clauses written more than once (the first is kept above):
    /// the checker refuses them and `fmt` will not drop their text.
    pub repeated: Vec<Repeated>,
    pub span: Span,
}

impl StageDecl {
    /// A stage with no clauses yet (both parsers fill them in).
    pub(crate) fn new(name: Ident, span: Span) -> Self {
        StageDecl {
            name,
            purpose: None,
            risks: Vec::new(),
            lets: Vec::new(),
            triggers: Vec::new(),
            repeated: Vec::new(),
            span,
        }
    }
}

/// A second `purpose`, `owner`, `ticket` (or rule `title`/`help`) where one is allowed.
#[derive(Clone, Debug, PartialEq)]
pub struct Repeated {
    pub clause: &'static str,
    pub span: Span,
}

/// A string literal in an item position (title, help, purpose, reason).
#[derive(Clone, Debug)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// `let name = expr` or `param name = default`.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `def name(a, b) = expr`
#[derive(Clone, Debug)]
pub struct DefDecl {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Expr,
    pub span: Span,
}

/// `import "common.clr"`
#[derive(Clone, Debug)]
pub struct ImportDecl {
    pub path: Str,
    pub span: Span,
}

/// `gate staging -> prod { ... }`
#[derive(Clone, Debug)]
pub struct GateDecl {
    pub from: Ident,
    pub to: Ident,
    /// `subject EXPR`: the artifact digest(s) the decision is about.
    pub subject: Option<Expr>,
    /// `level "..."`: the verified levels a signed summary claims.
    pub levels: Vec<Str>,
    pub lets: Vec<Binding>,
    pub rules: Vec<RuleDecl>,
    /// A second `subject` (the first is kept above): refused by the checker.
    pub repeated: Vec<Repeated>,
    pub span: Span,
}

impl GateDecl {
    /// A gate with no clauses yet (both parsers fill them in).
    pub(crate) fn new(from: Ident, to: Ident, span: Span) -> Self {
        GateDecl {
            from,
            to,
            subject: None,
            levels: Vec::new(),
            lets: Vec::new(),
            rules: Vec::new(),
            repeated: Vec::new(),
            span,
        }
    }
}

impl GateDecl {
    pub fn label(&self) -> String {
        format!("{} -> {}", self.from.name, self.to.name)
    }
}

/// A gate rule or a stage's rollback trigger; both have the same body.
#[derive(Clone, Debug)]
pub struct RuleDecl {
    pub name: Ident,
    pub advisory: bool,
    pub title: Option<Str>,
    pub help: Option<Str>,
    pub whens: Vec<Expr>,
    pub requires: Vec<Expr>,
    pub lets: Vec<Binding>,
    /// Items of the body in source order (the formatter keeps the author's order).
    pub order: Vec<RuleItemKind>,
    /// Second `title`s and `help`s (the first is kept above).
    pub repeated: Vec<Repeated>,
    pub span: Span,
}

impl RuleDecl {
    /// A rule with an empty body (both parsers fill it in).
    pub(crate) fn new(name: Ident, advisory: bool, span: Span) -> Self {
        RuleDecl {
            name,
            advisory,
            title: None,
            help: None,
            whens: Vec::new(),
            requires: Vec::new(),
            lets: Vec::new(),
            order: Vec::new(),
            repeated: Vec::new(),
            span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleItemKind {
    Title,
    Help,
    When,
    Require,
    Let,
}

/// `waive staging -> prod rule-name until 2026-12-31 reason "..." owner "..." ticket "..."`
#[derive(Clone, Debug)]
pub struct WaiverDecl {
    pub from: Ident,
    pub to: Ident,
    pub rule: Ident,
    pub until: Str,
    pub reason: Str,
    pub owner: Option<Str>,
    pub ticket: Option<Str>,
    /// Singular clauses written more than once (the first is kept above).
    pub repeated: Vec<Repeated>,
    pub span: Span,
}

impl WaiverDecl {
    /// A waiver with its required clauses and none of the optional ones.
    pub(crate) fn new(
        (from, to, rule): (Ident, Ident, Ident),
        until: Str,
        reason: Str,
        span: Span,
    ) -> Self {
        WaiverDecl {
            from,
            to,
            rule,
            until,
            reason,
            owner: None,
            ticket: None,
            repeated: Vec::new(),
            span,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Height of this subtree (1 for a leaf), computed at construction from
    /// the children's, so depth limits never need a recursive walk.
    pub depth: u32,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A duration literal, in nanoseconds.
    Duration(i64),
    List(Vec<Expr>),
    Object(Vec<(Ident, Expr)>),
    /// A bare name: `evidence`, `now`, a let, param, def parameter or bound variable.
    Name(String),
    /// `base.field`; the ident's span covers the field name only.
    Field(Box<Expr>, Ident),
    /// `base[index]`
    Index(Box<Expr>, Box<Expr>),
    Call(Ident, Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Exists(Box<Expr>),
    Quantifier(Quantifier),
    Comprehension(Comprehension),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `( expr )`: kept so the formatter can reproduce the author's parentheses.
    Paren(Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantKind {
    All,
    Any,
    None,
}

impl QuantKind {
    pub fn keyword(self) -> &'static str {
        match self {
            QuantKind::All => "all",
            QuantKind::Any => "any",
            QuantKind::None => "none",
        }
    }
}

/// `all x in xs: body` or `all k, v in obj: body`
#[derive(Clone, Debug, PartialEq)]
pub struct Quantifier {
    pub kind: QuantKind,
    pub vars: Vec<Ident>,
    pub collection: Box<Expr>,
    pub body: Box<Expr>,
}

/// `[elem for x in xs if cond]`
#[derive(Clone, Debug, PartialEq)]
pub struct Comprehension {
    pub element: Box<Expr>,
    pub vars: Vec<Ident>,
    pub collection: Box<Expr>,
    pub filter: Option<Box<Expr>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::In
                | BinaryOp::NotIn
        )
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        let mut deepest = 0;
        kind.for_each_child(&mut |c| deepest = deepest.max(c.depth));
        Expr {
            kind,
            span,
            depth: deepest.saturating_add(1),
        }
    }

    /// Strips redundant parentheses.
    pub fn unparen(&self) -> &Expr {
        match &self.kind {
            ExprKind::Paren(inner) => inner.unparen(),
            _ => self,
        }
    }

    /// True for literals whose value is known without evidence.
    pub fn is_literal(&self) -> bool {
        match &self.unparen().kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_) => true,
            ExprKind::Unary(UnaryOp::Neg, e) => e.is_literal(),
            ExprKind::List(items) => items.iter().all(Expr::is_literal),
            ExprKind::Object(entries) => entries.iter().all(|(_, e)| e.is_literal()),
            _ => false,
        }
    }

    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        self.kind.for_each_child(&mut |c| c.walk(f));
    }
}

impl ExprKind {
    /// Calls `f` on each direct child expression, in source order.
    pub fn for_each_child<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        match self {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_)
            | ExprKind::Name(_) => {}
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                for e in items {
                    f(e);
                }
            }
            ExprKind::Object(entries) => {
                for (_, e) in entries {
                    f(e);
                }
            }
            ExprKind::Field(base, _) => f(base),
            ExprKind::Index(base, index) => {
                f(base);
                f(index);
            }
            ExprKind::Unary(_, e) | ExprKind::Exists(e) | ExprKind::Paren(e) => f(e),
            ExprKind::Binary(_, l, r) => {
                f(l);
                f(r);
            }
            ExprKind::Quantifier(q) => {
                f(&q.collection);
                f(&q.body);
            }
            ExprKind::Comprehension(c) => {
                f(&c.collection);
                f(&c.element);
                if let Some(filter) = &c.filter {
                    f(filter);
                }
            }
            ExprKind::If(c, t, e) => {
                f(c);
                f(t);
                f(e);
            }
        }
    }
}
