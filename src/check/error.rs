//! Compile errors found after parsing. All of them are collected and reported
//! together; each carries a span, a label and, where one helps, a hint.

use crate::syntax::Span;
use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum CheckError {
    /// `require usr.role == "admin"` where `usr` is not bound
    #[error("unknown name `{name}`")]
    #[diagnostic(code(clearance::check::unknown_name))]
    UnknownName {
        name: String,
        #[label("not defined here")]
        span: Span,
        #[help]
        hint: Option<String>,
    },
    /// `require cnt(xs) > 0`
    #[error("unknown function `{name}`")]
    #[diagnostic(code(clearance::check::unknown_function))]
    UnknownFunction {
        name: String,
        #[label("no builtin or `def` has this name")]
        span: Span,
        #[help]
        hint: Option<String>,
    },
    /// `count(a, b)`
    #[error("`{name}` takes {expected}, got {got}")]
    #[diagnostic(code(clearance::check::arity), help("signature: {signature}"))]
    Arity {
        name: String,
        expected: String,
        got: usize,
        signature: String,
        #[label("called with {got} argument(s)")]
        span: Span,
    },
    /// `require "a" - 1 > 0`
    #[error("{message}")]
    #[diagnostic(code(clearance::check::type_mismatch))]
    TypeMismatch {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        hint: Option<String>,
    },
    /// `gate staging -> qa` where `qa` is not a stage
    #[error("unknown stage `{name}`")]
    #[diagnostic(code(clearance::check::unknown_stage))]
    UnknownStage {
        name: String,
        #[label("not declared in any `stages` line")]
        span: Span,
        #[help]
        hint: Option<String>,
    },
    /// `gate dev -> prod` when the path is `dev -> staging -> prod`
    #[error("no promotion edge `{from} -> {to}`")]
    #[diagnostic(code(clearance::check::undeclared_edge))]
    UndeclaredEdge {
        from: String,
        to: String,
        #[label("gates may only join stages along a declared edge")]
        span: Span,
        #[help]
        hint: String,
    },
    /// `stages dev -> staging -> dev`
    #[error("the promotion path has a cycle: {cycle}")]
    #[diagnostic(
        code(clearance::check::stage_cycle),
        help("promotion moves one way; remove the edge that leads back")
    )]
    StageCycle {
        cycle: String,
        #[label("this edge closes the cycle")]
        span: Span,
    },
    /// two rules named `coverage` in one gate, two `let x`, two gates `a -> b`
    #[error("{what} `{name}` is declared twice")]
    #[diagnostic(code(clearance::check::duplicate))]
    Duplicate {
        what: &'static str,
        name: String,
        #[label("second declaration")]
        span: Span,
        /// The first declaration, when it is in the same file.
        #[label("first declared here")]
        first: Option<Span>,
        /// Where the first declaration is, when it is in another (imported) file.
        #[help]
        elsewhere: Option<String>,
    },
    /// `rule r { title "x" }` without any `require`
    #[error("rule `{name}` has no `require`")]
    #[diagnostic(
        code(clearance::check::no_require),
        help("a rule states at least one condition: add `require <condition>`")
    )]
    NoRequire {
        name: String,
        #[label("nothing to check")]
        span: Span,
    },
    /// two `when` lines, or two `title`s, in one rule; two `purpose`s in a
    /// stage; two `owner`s in a waiver
    #[error("{what} `{rule}` has more than one `{clause}`")]
    #[diagnostic(code(clearance::check::repeated_clause))]
    RepeatedClause {
        /// `rule`, `stage` or `waiver for`
        what: &'static str,
        rule: String,
        clause: &'static str,
        #[label("second `{clause}`")]
        span: Span,
        #[help]
        hint: Option<String>,
    },
    /// `waive ... reason ""`: a waiver must say why it exists
    #[error("waiver for `{rule}` has a blank reason")]
    #[diagnostic(
        code(clearance::check::waiver_reason),
        help("say why the rule may fail and where that was decided, e.g. `reason \"CVE-2026-1234 unreachable, SEC-42\"`")
    )]
    BlankWaiverReason {
        rule: String,
        #[label("no reason given")]
        span: Span,
    },
    /// `param min = evidence.x`
    #[error("the default of param `{name}` must be a literal")]
    #[diagnostic(
        code(clearance::check::param_not_literal),
        help("params are fixed before evaluation; use `let` for values computed from evidence")
    )]
    ParamNotLiteral {
        name: String,
        #[label("not a literal")]
        span: Span,
    },
    /// `let evidence = 1`
    #[error("`{name}` is reserved")]
    #[diagnostic(code(clearance::check::reserved_name))]
    ReservedName {
        name: String,
        #[label("cannot be redefined")]
        span: Span,
        #[help]
        hint: Option<String>,
    },
    /// `require helper > 1` where `helper` is a `def`
    #[error("`{name}` is a function, not a value")]
    #[diagnostic(code(clearance::check::not_a_value), help("call it: `{name}(...)`"))]
    NotAValue {
        name: String,
        #[label("used as a value")]
        span: Span,
    },
    /// `let a = b + 1` and `let b = a`; `def f(x) = f(x)`
    #[error("{what} depend on themselves: {cycle}")]
    #[diagnostic(
        code(clearance::check::cycle),
        help("Clearance has no recursion so that every evaluation ends; unfold the definition or compute it from evidence")
    )]
    Cycle {
        what: &'static str,
        cycle: String,
        #[label("the cycle starts here")]
        span: Span,
    },
    /// a `waive` for a gate or rule that does not exist
    #[error("waiver for unknown {what} `{name}`")]
    #[diagnostic(code(clearance::check::unknown_waiver_target))]
    UnknownWaiverTarget {
        what: &'static str,
        name: String,
        #[label("matches nothing in the policy")]
        span: Span,
        #[help]
        hint: Option<String>,
    },
    /// an invalid literal argument (`matches(x, "(")`, `time("yesterday")`)
    #[error("{message}")]
    #[diagnostic(code(clearance::check::invalid_literal))]
    InvalidLiteral {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        hint: Option<String>,
    },
    /// `ledger.decision` and other fields a value of known shape lacks
    #[error("{message}")]
    #[diagnostic(code(clearance::check::unknown_field))]
    UnknownField {
        message: String,
        #[label("no such field")]
        span: Span,
        #[help]
        hint: Option<String>,
    },
    /// `import "../x.clr"` and other import problems
    #[error("{message}")]
    #[diagnostic(code(clearance::check::import))]
    Import {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        hint: Option<String>,
    },
}

impl CheckError {
    pub fn span(&self) -> Span {
        match self {
            CheckError::UnknownName { span, .. }
            | CheckError::UnknownFunction { span, .. }
            | CheckError::Arity { span, .. }
            | CheckError::TypeMismatch { span, .. }
            | CheckError::UnknownStage { span, .. }
            | CheckError::UndeclaredEdge { span, .. }
            | CheckError::StageCycle { span, .. }
            | CheckError::Duplicate { span, .. }
            | CheckError::NoRequire { span, .. }
            | CheckError::RepeatedClause { span, .. }
            | CheckError::BlankWaiverReason { span, .. }
            | CheckError::ParamNotLiteral { span, .. }
            | CheckError::ReservedName { span, .. }
            | CheckError::NotAValue { span, .. }
            | CheckError::Cycle { span, .. }
            | CheckError::UnknownWaiverTarget { span, .. }
            | CheckError::InvalidLiteral { span, .. }
            | CheckError::UnknownField { span, .. }
            | CheckError::Import { span, .. } => *span,
        }
    }
}

/// The closest candidate to `name`, for "did you mean" hints.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let d = strsim::levenshtein(name, c);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}
