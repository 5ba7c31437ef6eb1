//! pest Pairs -> spanned AST. Nothing of pest leaves this module.

use super::ast::*;
use super::error::SyntaxError;
use super::rule_names::describe;
use super::span::{FileId, Span};
use pest::iterators::{Pair, Pairs};
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/clearance.pest"]
pub(crate) struct PolicyParser;

/// Deepest bracket nesting accepted before parsing. The grammar is recursive
/// descent, so this bound is what keeps hostile input off the stack limit.
pub const MAX_NESTING: usize = 128;

/// Deepest expression tree accepted (operators, calls, quantifiers, brackets
/// all count). Every later pass recurses at most this deep.
pub const MAX_EXPR_DEPTH: usize = 256;

/// Parses one policy file with the default depth limit.
pub fn parse_file(file: FileId, text: &str) -> Result<PolicyFile, SyntaxError> {
    parse_file_with(file, text, MAX_EXPR_DEPTH)
}

/// Parses one policy file, refusing expression trees deeper than `max_depth`.
pub fn parse_file_with(
    file: FileId,
    text: &str,
    max_depth: usize,
) -> Result<PolicyFile, SyntaxError> {
    refuse_lone_cr(file, text)?;
    // A text the fast path accepts nests no deeper than `check_nesting`
    // allows: its tree is at most `max_depth` deep, every bracket of an
    // expression opens a node of it, and blocks add two braces. So the
    // bracket count is only needed before pest, which recurses per bracket.
    if let Some(parsed) = super::descent::file(file, text, max_depth) {
        return Ok(parsed);
    }
    // Every bracket adds a level to the tree, except the few braces of blocks.
    check_nesting(file, text, max_depth)?;
    pest_file(file, text, max_depth)
}

/// [`parse_file_with`] by the pest grammar alone: the definition of the
/// language the fast path (src/syntax/descent.rs) is held to. For the
/// differential tests and the `parse` fuzz target.
#[doc(hidden)]
pub fn parse_file_reference(
    file: FileId,
    text: &str,
    max_depth: usize,
) -> Result<PolicyFile, SyntaxError> {
    refuse_lone_cr(file, text)?;
    check_nesting(file, text, max_depth)?;
    pest_file(file, text, max_depth)
}

/// [`parse_file_with`] by the fast path alone: `None` where it leaves the
/// text to pest. For the differential tests and the `parse` fuzz target.
#[doc(hidden)]
pub fn parse_file_fast(file: FileId, text: &str, max_depth: usize) -> Option<PolicyFile> {
    refuse_lone_cr(file, text).ok()?;
    super::descent::file(file, text, max_depth)
}

fn pest_file(file: FileId, text: &str, max_depth: usize) -> Result<PolicyFile, SyntaxError> {
    let mut pairs = PolicyParser::parse(Rule::file, text).map_err(|e| from_pest(file, text, e))?;
    let lower = Lower {
        file,
        max_depth,
        text,
        comments: comment_ends(text),
        depth: Default::default(),
    };
    let root = pairs
        .next()
        .ok_or_else(|| internal(file, 0, "empty parse"))?;
    let mut items = Vec::new();
    for pair in root.into_inner() {
        if pair.as_rule() == Rule::EOI {
            break;
        }
        items.push(lower.item(pair)?);
    }
    Ok(PolicyFile { items })
}

/// Parses a single expression (used by tests, the case table and `--param`).
pub fn parse_expr(file: FileId, text: &str) -> Result<Expr, SyntaxError> {
    check_nesting(file, text, MAX_NESTING)?;
    if let Some(parsed) = super::descent::expr(file, text, MAX_EXPR_DEPTH) {
        return Ok(parsed);
    }
    let mut pairs =
        PolicyParser::parse(Rule::expr_only, text).map_err(|e| from_pest(file, text, e))?;
    let root = pairs
        .next()
        .ok_or_else(|| internal(file, 0, "empty parse"))?;
    let pair = root
        .into_inner()
        .next()
        .ok_or_else(|| internal(file, 0, "empty parse"))?;
    Lower {
        file,
        max_depth: MAX_EXPR_DEPTH,
        text,
        comments: comment_ends(text),
        depth: Default::default(),
    }
    .expr(pair)
}

fn next_char_len(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|s| s.chars().next())
        .map(char::len_utf8)
        .unwrap_or(0)
}

/// Control characters other than tab and line breaks are refused anywhere in
/// a policy, and so is a carriage return not followed by a line feed:
/// terminals and editors disagree on whether a lone CR ends a line (so
/// positions would differ between outputs), and in a terminal it, an ESC
/// sequence or a backspace can hide the text around it. A string that needs
/// one writes it as an escape (`\u{1b}`).
fn refuse_lone_cr(file: FileId, text: &str) -> Result<(), SyntaxError> {
    let bytes = text.as_bytes();
    // Every control character but tab and LF starts with a byte below 0x20,
    // 0x7F, or 0xC2 (U+0080 to U+009F): only the 64-byte blocks that hold
    // one of those are decoded, and a block is tested in one vectorized pass.
    let suspect = |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7F || b == 0xC2;
    const BLOCK: usize = 64;
    let bad = bytes
        .chunks(BLOCK)
        .enumerate()
        .filter(|(_, block)| block.iter().fold(false, |any, &b| any | suspect(b)))
        .flat_map(|(k, block)| {
            let start = k * BLOCK;
            block
                .iter()
                .enumerate()
                .filter(|&(_, &b)| suspect(b))
                .map(move |(j, _)| start + j)
        })
        .filter_map(|i| Some((i, text.get(i..)?.chars().next()?)))
        .find(|&(i, c)| match c {
            '\r' => bytes.get(i + 1) != Some(&b'\n'),
            c => c.is_control(),
        });
    match bad {
        Some((i, '\r')) => Err(SyntaxError::BadText {
            message: "a carriage return (CR) that does not end a CRLF line break".into(),
            span: Span::new(file, i, i + 1),
            label: "lone CR".into(),
            help: Some("end lines with LF or CRLF; a lone CR moves a terminal's cursor back over the line and can hide what comes before it".into()),
        }),
        Some((i, c)) => Err(SyntaxError::BadText {
            message: format!("control character U+{:04X} in the policy text", u32::from(c)),
            span: Span::new(file, i, i + c.len_utf8()),
            label: "control character".into(),
            help: Some("write it as an escape inside a string (`\\u{...}`); raw, a terminal would act on it instead of showing it".into()),
        }),
        None => Ok(()),
    }
}

/// Refuses text whose brackets nest deeper than the expression depth limit
/// allows (with a margin: every bracket adds a level, except the few braces
/// of blocks), before pest recurses into it. The message names the limit
/// the user set, not the margin.
fn check_nesting(file: FileId, text: &str, max_depth: usize) -> Result<(), SyntaxError> {
    let limit = max_depth + 4;
    let mut depth = 0usize;
    let mut too_deep = None;
    super::trivia::scan(text, |piece| {
        if let super::trivia::Piece::Code(i, c) = piece {
            match c {
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth > limit && too_deep.is_none() {
                        too_deep = Some(i);
                    }
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    });
    match too_deep {
        Some(i) => Err(SyntaxError::TooDeep {
            limit: max_depth,
            span: Span::new(file, i, i + 1),
        }),
        None => Ok(()),
    }
}

fn internal(file: FileId, at: usize, what: &str) -> SyntaxError {
    SyntaxError::Invalid {
        message: format!("internal parser error: {what}"),
        span: Span::new(file, at, at),
    }
}

/// What the parser found at `at`, in words.
fn describe_found(text: &str, at: usize) -> String {
    let rest = text.get(at..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of file".into();
    };
    if first.is_alphanumeric() || first == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
            .collect();
        let word = word.trim_end_matches(['-', '.']);
        return format!("`{word}`");
    }
    if first == '"' {
        return "a string".into();
    }
    if first == '\n' || first == '\r' {
        return "end of line".into();
    }
    // Show two-character operators whole.
    let two: String = rest.chars().take(2).collect();
    if ["->", "==", "!=", "<=", ">=", "??"].contains(&two.as_str()) {
        return format!("`{two}`");
    }
    format!("`{first}`")
}

/// What is wrong at or after `at` that pest can only describe as "expected
/// a string": a string not closed before its line ends, or a character that
/// no token may hold (a name is ASCII). Checked before pest's own message,
/// which names the item the failure backed out of, not the culprit.
fn odd_text(file: FileId, text: &str, at: usize) -> Option<SyntaxError> {
    let line_start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |n| n + 1);
    // A string opened at the failure that its line does not close.
    if text.get(at..).is_some_and(|t| t.starts_with('"')) {
        let rest = text.get(at + 1..).unwrap_or("");
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return None,
                '\n' | '\r' => {
                    let end = at + 1 + i;
                    return Some(SyntaxError::BadText {
                        message: "this string is not closed before the end of its line".into(),
                        span: Span::new(file, at, end),
                        label: "opened here, not closed on this line".into(),
                        help: Some("strings cannot span lines: close it with `\"`, or write a line break as `\\n`".into()),
                    });
                }
                _ => {}
            }
        }
        return Some(SyntaxError::BadText {
            message: "this string is not closed: the file ends inside it".into(),
            span: Span::new(file, at, text.len()),
            label: "opened here, never closed".into(),
            help: Some("close it with `\"`".into()),
        });
    }
    // The first character outside strings and comments that no token holds.
    let mut found = None;
    super::trivia::scan(text, |piece| {
        if let super::trivia::Piece::Code(i, c) = piece {
            if found.is_none() && i >= line_start && !c.is_ascii() {
                found = Some((i, c));
            }
        }
    });
    let (i, c) = found?;
    Some(SyntaxError::BadText {
        message: format!(
            "`{c}` (U+{:04X}) cannot appear in a name or an operator",
            u32::from(c)
        ),
        span: Span::new(file, i, i + c.len_utf8()),
        label: "not ASCII".into(),
        help: Some("names are ASCII letters, digits and `_`; text belongs in a \"string\"".into()),
    })
}

fn from_pest(file: FileId, text: &str, e: pest::error::Error<Rule>) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let at = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if matches!(e.variant, ErrorVariant::ParsingError { .. }) {
        if let Some(odd) = odd_text(file, text, at) {
            return odd;
        }
    }
    match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().map(|r| describe(*r)).collect();
            names.sort_unstable();
            names.dedup();
            let mut names = group_expected(names);
            // Keep "an expression" first: it is the most useful guess.
            if let Some(i) = names.iter().position(|n| *n == "an expression") {
                let n = names.remove(i);
                names.insert(0, n);
            }
            let expected = join_or(&names);
            let found = describe_found(text, at);
            let help = hint_for(text, at, &names);
            let first: Vec<&str> = names.iter().take(3).copied().collect();
            let expected_short = if names.len() > 3 {
                format!("expected {}, …", first.join(", "))
            } else {
                format!("expected {expected}")
            };
            // At the end of the file there is no character to underline (a
            // report would draw the line with no label): underline the last
            // token instead, and say that the file ends after it.
            let rest_is_blank = text.get(at..).is_some_and(|t| t.trim().is_empty());
            if rest_is_blank {
                let end = text.trim_end().len();
                let start = text
                    .get(..end)
                    .and_then(|t| t.rfind(char::is_whitespace))
                    .map_or(0, |i| i + 1);
                return SyntaxError::Unexpected {
                    expected_short: format!("the file ends after this; {expected_short}"),
                    expected,
                    found: "end of file".into(),
                    span: Span::new(file, start, end.max(start)),
                    help,
                };
            }
            SyntaxError::Unexpected {
                expected_short,
                expected,
                found,
                span: Span::new(file, at, at + next_char_len(text, at)),
                help,
            }
        }
        // pest's own stack guard: report it like our nesting limit.
        ErrorVariant::CustomError { message } if message.contains("stack") => {
            SyntaxError::TooDeep {
                limit: MAX_EXPR_DEPTH,
                span: Span::new(file, at, at + next_char_len(text, at)),
            }
        }
        ErrorVariant::CustomError { message } => SyntaxError::Invalid {
            message: message.clone(),
            span: Span::new(file, at, at),
        },
    }
}

/// Folds long lists of alternatives into the words a user thinks in.
fn group_expected(names: Vec<&'static str>) -> Vec<&'static str> {
    const OPERATORS: &[&str] = &[
        "`.`",
        "`[`",
        "`??`",
        "`and`",
        "`or`",
        "a comparison",
        "an operator",
    ];
    const CLAUSES: &[&str] = &["`help`", "`let`", "`require`", "`title`", "`when`"];
    let ops = names.iter().filter(|n| OPERATORS.contains(n)).count();
    let clauses = names.iter().filter(|n| CLAUSES.contains(n)).count();
    let mut out: Vec<&'static str> = Vec::new();
    for n in names {
        if ops >= 3 && OPERATORS.contains(&n) {
            if !out.contains(&"an operator") {
                out.push("an operator");
            }
        } else if clauses >= 3 && CLAUSES.contains(&n) {
            let group = "a rule clause (`require`, `when`, `title`, `help`, `let`)";
            if !out.contains(&group) {
                out.push(group);
            }
        } else {
            out.push(n);
        }
    }
    out
}

/// Where the last `{` that is never closed was opened, if any.
fn unclosed_brace(text: &str) -> Option<usize> {
    let mut open = Vec::new();
    super::trivia::scan(text, |piece| match piece {
        super::trivia::Piece::Code(i, '{') => open.push(i),
        super::trivia::Piece::Code(_, '}') => {
            open.pop();
        }
        _ => {}
    });
    open.pop()
}

/// A targeted hint for frequent mistakes.
fn hint_for(text: &str, at: usize, expected: &[&str]) -> Option<String> {
    let rest = text.get(at..).unwrap_or("");
    if rest.trim().is_empty() {
        if let Some(open) = unclosed_brace(text) {
            let (line, col) = super::span::line_col(text, open);
            return Some(format!(
                "the `{{` at line {line}, column {col} is never closed"
            ));
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if word.contains('_') && expected.contains(&"a rule name (kebab-case)") {
        return Some(format!(
            "rule names are kebab-case: `{}`",
            word.replace('_', "-")
        ));
    }
    if word.chars().any(|c| c.is_ascii_uppercase()) && expected.contains(&"a name") {
        return Some(format!("names are snake_case: `{}`", snake_case(&word)));
    }
    if word.chars().any(|c| c.is_ascii_uppercase()) && expected.contains(&"an expression") {
        return Some(
            "names are snake_case; to read a camelCase evidence field write `evidence.someField` or `x[\"someField\"]`".into(),
        );
    }
    if rest.starts_with("&&") || rest.starts_with("||") {
        return Some("use `and` / `or` for boolean logic".into());
    }
    if rest.starts_with('!') && !rest.starts_with("!=") {
        return Some("use `not` to negate".into());
    }
    if rest.starts_with('=') && !rest.starts_with("==") && expected.contains(&"a comparison") {
        return Some("use `==` to compare".into());
    }
    if rest.starts_with('\'') {
        return Some("strings use double quotes".into());
    }
    None
}

fn snake_case(word: &str) -> String {
    let mut out = String::new();
    for (i, c) in word.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn join_or(names: &[&str]) -> String {
    match names {
        [] => "something else".into(),
        [one] => (*one).into(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

struct Lower<'t> {
    file: FileId,
    max_depth: usize,
    text: &'t str,
    comments: Vec<(usize, usize)>,
    depth: crate::stack::Depth,
}

type Res<T> = Result<T, SyntaxError>;

impl Lower<'_> {
    /// The pair's span without the whitespace and comments pest lets a
    /// repetition swallow at its end.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let bytes = self.text.as_bytes();
        let mut end = s.end();
        loop {
            while end > s.start() && bytes.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
                end -= 1;
            }
            // The comment `end` is in, if any: the first to end at or after
            // it, if it starts before it. Not only one that ends exactly
            // there: a comment's own text can end in spaces (`# note  `),
            // which the loop above has already stripped.
            let first_ending_after = self.comments.partition_point(|&(c_end, _)| c_end < end);
            match self.comments.get(first_ending_after) {
                Some(&(_, start)) if start >= s.start() && start < end => end = start,
                _ => break,
            }
        }
        Span::new(self.file, s.start(), end)
    }

    /// Builds a node, refusing trees deeper than [`MAX_EXPR_DEPTH`] before
    /// they exist, so no later pass (checker, evaluator, drop) recurses deeper.
    fn node(&self, kind: ExprKind, span: Span) -> Res<Expr> {
        let e = Expr::new(kind, span);
        if e.depth as usize > self.max_depth {
            return Err(SyntaxError::TooDeep {
                limit: self.max_depth,
                span,
            });
        }
        Ok(e)
    }

    fn unexpected_rule(&self, pair: &Pair<'_, Rule>) -> SyntaxError {
        internal(
            self.file,
            pair.as_span().start(),
            &format!("unexpected {}", describe(pair.as_rule())),
        )
    }

    fn next<'i>(&self, pairs: &mut Pairs<'i, Rule>, parent: Span) -> Res<Pair<'i, Rule>> {
        pairs
            .next()
            .ok_or_else(|| internal(self.file, parent.start, "missing child"))
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            span: self.span(&pair),
            name: pair.as_str().to_string(),
        }
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Res<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        Ok(match rule {
            Rule::stages_decl => {
                let path = inner
                    .filter(|p| p.as_rule() == Rule::stage_name)
                    .map(|p| self.ident(p))
                    .collect();
                Item::Stages(StagesDecl { path, span })
            }
            Rule::stage_decl => {
                self.next(&mut inner, span)?; // keyword
                let name = self.ident(self.next(&mut inner, span)?);
                let mut stage = StageDecl::new(name, span);
                for p in inner {
                    match p.as_rule() {
                        Rule::purpose if stage.purpose.is_some() => stage.repeated.push(Repeated {
                            clause: "purpose",
                            span: self.span(&p),
                        }),
                        Rule::purpose => stage.purpose = Some(self.keyword_string(p)?),
                        Rule::risk => stage.risks.push(self.keyword_string(p)?),
                        Rule::let_decl => stage.lets.push(self.binding(p)?),
                        Rule::trigger_decl => stage.triggers.push(self.rule_decl(p)?),
                        _ => return Err(self.unexpected_rule(&p)),
                    }
                }
                Item::Stage(stage)
            }
            Rule::param_decl => Item::Param(self.binding_inner(inner, span)?),
            Rule::let_decl => Item::Let(self.binding_inner(inner, span)?),
            Rule::def_decl => {
                self.next(&mut inner, span)?;
                let name = self.ident(self.next(&mut inner, span)?);
                let params = self
                    .next(&mut inner, span)?
                    .into_inner()
                    .map(|p| self.ident(p))
                    .collect();
                let body = self.expr(self.next(&mut inner, span)?)?;
                Item::Def(DefDecl {
                    name,
                    params,
                    body,
                    span,
                })
            }
            Rule::import_decl => {
                self.next(&mut inner, span)?;
                let path = self.str_lit(self.next(&mut inner, span)?)?;
                Item::Import(ImportDecl { path, span })
            }
            Rule::gate_decl => {
                self.next(&mut inner, span)?;
                let from = self.ident(self.next(&mut inner, span)?);
                self.next(&mut inner, span)?; // arrow
                let to = self.ident(self.next(&mut inner, span)?);
                let mut gate = GateDecl::new(from, to, span);
                for p in inner {
                    match p.as_rule() {
                        Rule::subject_decl if gate.subject.is_some() => {
                            gate.repeated.push(Repeated {
                                clause: "subject",
                                span: self.span(&p),
                            })
                        }
                        Rule::subject_decl => {
                            let mut parts = p.into_inner();
                            self.next(&mut parts, span)?; // keyword
                            gate.subject = Some(self.expr(self.next(&mut parts, span)?)?);
                        }
                        Rule::level_decl => gate.levels.push(self.keyword_string(p)?),
                        Rule::let_decl => gate.lets.push(self.binding(p)?),
                        Rule::rule_decl => gate.rules.push(self.rule_decl(p)?),
                        _ => return Err(self.unexpected_rule(&p)),
                    }
                }
                Item::Gate(gate)
            }
            Rule::waive_decl => {
                self.next(&mut inner, span)?;
                let from = self.ident(self.next(&mut inner, span)?);
                self.next(&mut inner, span)?;
                let to = self.ident(self.next(&mut inner, span)?);
                let rule = self.ident(self.next(&mut inner, span)?);
                self.next(&mut inner, span)?; // until
                let expiry = self.next(&mut inner, span)?;
                let expiry_inner = self.next(&mut expiry.into_inner(), span)?;
                let until = if expiry_inner.as_rule() == Rule::string {
                    self.str_lit(expiry_inner)?
                } else {
                    Str {
                        value: expiry_inner.as_str().to_string(),
                        span: self.span(&expiry_inner),
                    }
                };
                self.next(&mut inner, span)?; // reason
                let reason = self.str_lit(self.next(&mut inner, span)?)?;
                let mut waiver = WaiverDecl::new((from, to, rule), until, reason, span);
                for p in inner {
                    let clause = match p.as_rule() {
                        Rule::waive_owner => "owner",
                        Rule::waive_ticket => "ticket",
                        _ => return Err(self.unexpected_rule(&p)),
                    };
                    let slot = if clause == "owner" {
                        &mut waiver.owner
                    } else {
                        &mut waiver.ticket
                    };
                    if slot.is_some() {
                        waiver.repeated.push(Repeated {
                            clause,
                            span: self.span(&p),
                        });
                    } else {
                        *slot = Some(self.keyword_string(p)?);
                    }
                }
                Item::Waive(waiver)
            }
            _ => return Err(internal(self.file, span.start, "unknown item")),
        })
    }

    /// `keyword "string"` pairs such as `title "..."`.
    fn keyword_string(&self, pair: Pair<'_, Rule>) -> Res<Str> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        self.next(&mut inner, span)?;
        self.str_lit(self.next(&mut inner, span)?)
    }

    fn binding(&self, pair: Pair<'_, Rule>) -> Res<Binding> {
        let span = self.span(&pair);
        self.binding_inner(pair.into_inner(), span)
    }

    fn binding_inner(&self, mut inner: Pairs<'_, Rule>, span: Span) -> Res<Binding> {
        self.next(&mut inner, span)?;
        let name = self.ident(self.next(&mut inner, span)?);
        let value = self.expr(self.next(&mut inner, span)?)?;
        Ok(Binding { name, value, span })
    }

    fn rule_decl(&self, pair: Pair<'_, Rule>) -> Res<RuleDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        self.next(&mut inner, span)?; // `rule` / `rollback`
        let name = self.ident(self.next(&mut inner, span)?);
        let mut rule = RuleDecl::new(name, false, span);
        for p in inner {
            match p.as_rule() {
                Rule::advisory => rule.advisory = true,
                Rule::rule_body => {
                    for item in p.into_inner() {
                        match item.as_rule() {
                            Rule::title => {
                                // A second title is reported by the checker; keep the first.
                                let second = rule.title.is_some().then(|| self.span(&item));
                                let s = self.keyword_string(item)?;
                                rule.order.push(RuleItemKind::Title);
                                match second {
                                    Some(span) => rule.repeated.push(Repeated {
                                        clause: "title",
                                        span,
                                    }),
                                    None => rule.title = Some(s),
                                }
                            }
                            Rule::help => {
                                let second = rule.help.is_some().then(|| self.span(&item));
                                let s = self.keyword_string(item)?;
                                rule.order.push(RuleItemKind::Help);
                                match second {
                                    Some(span) => rule.repeated.push(Repeated {
                                        clause: "help",
                                        span,
                                    }),
                                    None => rule.help = Some(s),
                                }
                            }
                            Rule::when_clause => {
                                rule.whens.push(self.clause(item)?);
                                rule.order.push(RuleItemKind::When);
                            }
                            Rule::require_clause => {
                                rule.requires.push(self.clause(item)?);
                                rule.order.push(RuleItemKind::Require);
                            }
                            Rule::let_decl => {
                                rule.lets.push(self.binding(item)?);
                                rule.order.push(RuleItemKind::Let);
                            }
                            _ => return Err(self.unexpected_rule(&item)),
                        }
                    }
                }
                _ => return Err(self.unexpected_rule(&p)),
            }
        }
        Ok(rule)
    }

    fn clause(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        self.next(&mut inner, span)?;
        self.expr(self.next(&mut inner, span)?)
    }

    fn str_lit(&self, pair: Pair<'_, Rule>) -> Res<Str> {
        let span = self.span(&pair);
        Ok(Str {
            value: unescape(self.file, span.start, pair.as_str())?,
            span,
        })
    }

    // ───── expressions ─────

    fn expr(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        self.depth.descend(|| {
            let span = self.span(&pair);
            match pair.as_rule() {
                Rule::expr | Rule::paren => {
                    let inner = self.next(&mut pair.into_inner(), span)?;
                    let e = self.expr(inner)?;
                    Ok(if span.start != e.span.start || span.end != e.span.end {
                        self.node(ExprKind::Paren(Box::new(e)), span)?
                    } else {
                        e
                    })
                }
                Rule::disjunction => self.disjunction(pair),
                Rule::negation => self.negation(pair),
                Rule::coalesce => self.coalesce(pair),
                Rule::postfix => self.postfix(pair),
                _ => self.primary(pair),
            }
        })
    }

    /// `a and b or c and d`: the grammar's `conjunction` level is silent,
    /// so the pair holds the `negation` operands and the `and`/`or` between
    /// them in order; `and` binds tighter, both group to the left.
    fn disjunction(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let mut or_left: Option<Expr> = None;
        let mut and_left = self.expr(self.next(&mut inner, span)?)?;
        while let Some(op) = inner.next() {
            let right = self.expr(self.next(&mut inner, span)?)?;
            match op.as_rule() {
                Rule::kw_and => and_left = self.binary(BinaryOp::And, and_left, right)?,
                Rule::kw_or => {
                    let done = match or_left.take() {
                        Some(l) => self.binary(BinaryOp::Or, l, and_left)?,
                        None => and_left,
                    };
                    or_left = Some(done);
                    and_left = right;
                }
                _ => return Err(self.unexpected_rule(&op)),
            }
        }
        match or_left {
            Some(l) => self.binary(BinaryOp::Or, l, and_left),
            None => Ok(and_left),
        }
    }

    fn binary(&self, op: BinaryOp, left: Expr, right: Expr) -> Res<Expr> {
        let span = left.span.to(right.span);
        self.node(ExprKind::Binary(op, Box::new(left), Box::new(right)), span)
    }

    /// `not not a == b`: the `not`s, then the silent `comparison` level's
    /// one or two `coalesce` operands with the comparison between them.
    fn negation(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let mut nots = Vec::new();
        let mut inner = pair.into_inner().peekable();
        while let Some(p) = inner.next_if(|p| p.as_rule() == Rule::kw_not) {
            nots.push(self.span(&p));
        }
        let mut e = self.expr(self.next_of(&mut inner, span)?)?;
        if let Some(op) = inner.next() {
            let op_inner = self.next(&mut op.into_inner(), span)?;
            let op =
                binary_op(op_inner.as_rule()).ok_or_else(|| self.unexpected_rule(&op_inner))?;
            let right = self.expr(self.next_of(&mut inner, span)?)?;
            e = self.binary(op, e, right)?;
        }
        self.prefixed(UnaryOp::Not, nots, e)
    }

    /// `e` under prefix operators written at `ops` (outermost first), each
    /// node spanning from its operator to the end of `e`.
    fn prefixed(&self, op: UnaryOp, ops: Vec<Span>, mut e: Expr) -> Res<Expr> {
        for op_span in ops.into_iter().rev() {
            let span = op_span.to(e.span);
            e = self.node(ExprKind::Unary(op, Box::new(e)), span)?;
        }
        Ok(e)
    }

    /// `-a * b + c ?? d`: the silent `additive`, `multiplicative` and
    /// `unary` levels leave a flat run of operands (each a `postfix` after
    /// its `-`s) and operators, grouped here by precedence (`??` loosest,
    /// then `+ -`, then `* / %`), each level to the left.
    fn coalesce(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let precedence = |op: BinaryOp| match op {
            BinaryOp::Coalesce => 1,
            BinaryOp::Add | BinaryOp::Sub => 2,
            _ => 3,
        };
        // Shunting-yard over the run: operands wait on `operands` until an
        // operator of lower or equal precedence closes them.
        let mut operands: Vec<Expr> = Vec::new();
        let mut operators: Vec<BinaryOp> = Vec::new();
        let mut negations: Vec<Span> = Vec::new();
        let reduce = |operands: &mut Vec<Expr>, op: BinaryOp| -> Res<()> {
            let (Some(right), Some(left)) = (operands.pop(), operands.pop()) else {
                return Err(internal(self.file, span.start, "operator without operands"));
            };
            operands.push(self.binary(op, left, right)?);
            Ok(())
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::op_neg => negations.push(self.span(&p)),
                Rule::postfix => {
                    operands.push(self.negated(std::mem::take(&mut negations), p)?);
                }
                _ => {
                    let op = binary_op(p.as_rule()).ok_or_else(|| self.unexpected_rule(&p))?;
                    while let Some(&top) = operators.last() {
                        if precedence(top) < precedence(op) {
                            break;
                        }
                        operators.pop();
                        reduce(&mut operands, top)?;
                    }
                    operators.push(op);
                }
            }
        }
        while let Some(top) = operators.pop() {
            reduce(&mut operands, top)?;
        }
        match (operands.pop(), operands.is_empty()) {
            (Some(e), true) => Ok(e),
            _ => Err(internal(
                self.file,
                span.start,
                "an operand run that does not reduce",
            )),
        }
    }

    /// A `postfix` operand under its `-`s.
    fn negated(&self, mut ops: Vec<Span>, operand: Pair<'_, Rule>) -> Res<Expr> {
        // `-9223372036854775808` must lex as one literal: i64::MIN has no positive twin.
        if is_number_literal(&operand) {
            if let Some(op_span) = ops.pop() {
                // The operand's pair can end with the whitespace and comments
                // after the number (`-5 # note`): read the number's own span.
                let number_span = self.span(&operand);
                let digits = self
                    .text
                    .get(number_span.start..number_span.end)
                    .unwrap_or("");
                let text = format!("-{digits}");
                let span = op_span.to(number_span);
                return self.prefixed(UnaryOp::Neg, ops, number(self.file, span, &text)?);
            }
        }
        self.prefixed(UnaryOp::Neg, ops, self.expr(operand)?)
    }

    fn postfix(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let mut e = self.expr(self.next(&mut inner, span)?)?;
        for access in inner {
            let aspan = self.span(&access);
            match access.as_rule() {
                Rule::field_access => {
                    let name = self.ident(self.next(&mut access.into_inner(), aspan)?);
                    let span = e.span.to(aspan);
                    e = self.node(ExprKind::Field(Box::new(e), name), span)?;
                }
                Rule::index_access => {
                    let index = self.expr(self.next(&mut access.into_inner(), aspan)?)?;
                    let span = e.span.to(aspan);
                    e = self.node(ExprKind::Index(Box::new(e), Box::new(index)), span)?;
                }
                _ => return Err(self.unexpected_rule(&access)),
            }
        }
        Ok(e)
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::kw_null => ExprKind::Null,
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::number => return number(self.file, span, pair.as_str()),
            Rule::duration => {
                ExprKind::Duration(duration_nanos(pair.as_str()).ok_or_else(|| {
                    SyntaxError::NumberOutOfRange {
                        text: pair.as_str().to_string(),
                        span,
                    }
                })?)
            }
            Rule::string => ExprKind::Str(unescape(self.file, span.start, pair.as_str())?),
            Rule::ident => ExprKind::Name(pair.as_str().to_string()),
            Rule::list_or_comprehension => {
                let mut inner = pair.into_inner();
                match inner.next() {
                    None => ExprKind::List(Vec::new()),
                    Some(first) => {
                        let first = self.expr(first)?;
                        match inner.next() {
                            Some(tail) if tail.as_rule() == Rule::comprehension => {
                                let (vars, rest) = self.bound_vars(tail.into_inner().skip(1));
                                let mut rest = rest.into_iter();
                                let collection = self.expr(self.next_of(&mut rest, span)?)?;
                                let filter = match rest.next() {
                                    Some(p) => Some(Box::new(self.expr(p)?)),
                                    None => None,
                                };
                                ExprKind::Comprehension(Comprehension {
                                    element: Box::new(first),
                                    vars,
                                    collection: Box::new(collection),
                                    filter,
                                })
                            }
                            Some(tail) => {
                                let mut items = vec![first];
                                for p in tail.into_inner() {
                                    items.push(self.expr(p)?);
                                }
                                ExprKind::List(items)
                            }
                            None => ExprKind::List(vec![first]),
                        }
                    }
                }
            }
            Rule::object_lit => {
                let mut entries = Vec::new();
                for entry in pair.into_inner() {
                    let espan = self.span(&entry);
                    let mut inner = entry.into_inner();
                    let key = self.next(&mut inner, espan)?;
                    let key = if key.as_rule() == Rule::string {
                        let s = self.str_lit(key)?;
                        Ident {
                            name: s.value,
                            span: s.span,
                        }
                    } else {
                        self.ident(key)
                    };
                    entries.push((key, self.expr(self.next(&mut inner, espan)?)?));
                }
                ExprKind::Object(entries)
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let name = self.ident(self.next(&mut inner, span)?);
                let args = inner.map(|p| self.expr(p)).collect::<Res<_>>()?;
                ExprKind::Call(name, args)
            }
            Rule::exists_expr => {
                let mut inner = pair.into_inner();
                self.next(&mut inner, span)?;
                ExprKind::Exists(Box::new(self.expr(self.next(&mut inner, span)?)?))
            }
            Rule::conditional => {
                let mut parts = pair.into_inner().filter(|p| p.as_rule() == Rule::expr);
                let c = self.expr(self.next_of(&mut parts, span)?)?;
                let t = self.expr(self.next_of(&mut parts, span)?)?;
                let e = self.expr(self.next_of(&mut parts, span)?)?;
                ExprKind::If(Box::new(c), Box::new(t), Box::new(e))
            }
            Rule::quantifier => {
                let mut inner = pair.into_inner();
                let kind_pair = self.next(&mut inner, span)?;
                let kind = match self.next(&mut kind_pair.into_inner(), span)?.as_rule() {
                    Rule::kw_all => QuantKind::All,
                    Rule::kw_any => QuantKind::Any,
                    _ => QuantKind::None,
                };
                let (vars, rest) = self.bound_vars(inner);
                let mut rest = rest.into_iter();
                let collection = self.expr(self.next_of(&mut rest, span)?)?;
                let body = self.expr(self.next_of(&mut rest, span)?)?;
                ExprKind::Quantifier(Quantifier {
                    kind,
                    vars,
                    collection: Box::new(collection),
                    body: Box::new(body),
                })
            }
            _ => return self.expr_fallback(pair),
        };
        self.node(kind, span)
    }

    fn expr_fallback(&self, pair: Pair<'_, Rule>) -> Res<Expr> {
        match pair.as_rule() {
            Rule::expr
            | Rule::paren
            | Rule::disjunction
            | Rule::negation
            | Rule::coalesce
            | Rule::postfix => self.expr(pair),
            _ => Err(self.unexpected_rule(&pair)),
        }
    }

    /// Splits `x, y in coll ...` into the bound names and the remaining expression pairs.
    fn bound_vars<'i>(
        &self,
        inner: impl Iterator<Item = Pair<'i, Rule>>,
    ) -> (Vec<Ident>, Vec<Pair<'i, Rule>>) {
        let mut vars = Vec::new();
        let mut rest = Vec::new();
        let mut seen_in = false;
        for p in inner {
            match p.as_rule() {
                Rule::ident if !seen_in => vars.push(self.ident(p)),
                Rule::kw_in if !seen_in => seen_in = true,
                Rule::kw_if => {}
                _ => rest.push(p),
            }
        }
        (vars, rest)
    }

    fn next_of<'i>(
        &self,
        it: &mut impl Iterator<Item = Pair<'i, Rule>>,
        parent: Span,
    ) -> Res<Pair<'i, Rule>> {
        it.next()
            .ok_or_else(|| internal(self.file, parent.start, "missing child"))
    }
}

/// Comments of a file, by the offset where each ends (its start as the
/// value), so trimming trailing trivia off a span never rescans text.
/// (end, start) of every comment, in text order, so sorted by end: found by
/// binary search for every node's span, cheaper than hashing.
fn comment_ends(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    super::trivia::scan(text, |piece| {
        if let super::trivia::Piece::Comment { start, end } = piece {
            out.push((end, start));
        }
    });
    out
}

fn is_number_literal(pair: &Pair<'_, Rule>) -> bool {
    // postfix -> number (with no accessors)
    let mut p = pair.clone();
    loop {
        match p.as_rule() {
            Rule::number => return true,
            Rule::postfix => {
                let mut inner = p.into_inner();
                match (inner.next(), inner.next()) {
                    (Some(only), None) => p = only,
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
}

fn binary_op(rule: Rule) -> Option<BinaryOp> {
    Some(match rule {
        Rule::kw_or => BinaryOp::Or,
        Rule::kw_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::kw_in => BinaryOp::In,
        Rule::op_not_in => BinaryOp::NotIn,
        Rule::op_coalesce => BinaryOp::Coalesce,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        Rule::op_rem => BinaryOp::Rem,
        _ => return None,
    })
}

pub(super) fn number(file: FileId, span: Span, text: &str) -> Res<Expr> {
    let is_float = text.contains(['.', 'e', 'E']);
    let kind = if is_float {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => ExprKind::Float(f),
            _ => {
                return Err(SyntaxError::NumberOutOfRange {
                    text: text.into(),
                    span,
                })
            }
        }
    } else {
        match text.parse::<i64>() {
            Ok(i) => ExprKind::Int(i),
            Err(_) => {
                return Err(SyntaxError::NumberOutOfRange {
                    text: text.into(),
                    span: Span::new(file, span.start, span.end),
                })
            }
        }
    };
    Ok(Expr::new(kind, span))
}

/// `1h30m` -> nanoseconds; None on overflow.
pub fn duration_nanos(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1_000_000
            }
            's' => 1_000_000_000,
            'm' => 60_000_000_000,
            'h' => 3_600_000_000_000,
            'd' => 86_400_000_000_000,
            'w' => 604_800_000_000_000,
            _ => return None,
        };
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        digits.clear();
    }
    Some(total)
}

/// Removes the quotes and resolves escapes; `offset` is the literal's start.
pub(super) fn unescape(file: FileId, offset: usize, quoted: &str) -> Res<String> {
    let body = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(quoted);
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let start = offset + 1 + i;
        let bad = |len: usize| SyntaxError::BadEscape {
            escape: body.get(i..i + len).unwrap_or("\\").to_string(),
            span: Span::new(file, start, start + len),
        };
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 'u')) => {
                let rest = body.get(i + 2..).unwrap_or("");
                let close = rest.find('}');
                let hex = match (rest.strip_prefix('{'), close) {
                    (Some(_), Some(close)) => rest.get(1..close).unwrap_or(""),
                    _ => return Err(bad(2)),
                };
                let len = 2 + close.unwrap_or(0) + 1;
                let c = u32::from_str_radix(hex, 16)
                    .ok()
                    .filter(|_| !hex.is_empty() && hex.len() <= 6)
                    .and_then(char::from_u32)
                    .ok_or_else(|| bad(len))?;
                out.push(c);
                for _ in 0..(len - 2) {
                    chars.next();
                }
            }
            Some((_, other)) => return Err(bad(1 + other.len_utf8())),
            None => return Err(bad(1)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(src: &str) -> ExprKind {
        parse_expr(FileId(0), src).expect("parses").kind
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let ExprKind::Binary(BinaryOp::Or, _, r) = e("a or b and c") else {
            panic!("expected or at the top")
        };
        assert!(matches!(r.kind, ExprKind::Binary(BinaryOp::And, _, _)));
    }

    /// The expression fully parenthesized, each node checked to span the
    /// text from its first operand to its last.
    fn grouped(src: &str) -> String {
        fn show(src: &str, e: &Expr) -> String {
            let text = src.get(e.span.start..e.span.end).unwrap_or("?");
            match &e.kind {
                ExprKind::Binary(op, l, r) => {
                    assert_eq!(e.span.start, l.span.start, "{text}");
                    assert_eq!(e.span.end, r.span.end, "{text}");
                    format!("({} {} {})", show(src, l), op.symbol(), show(src, r))
                }
                ExprKind::Unary(UnaryOp::Not, x) => format!("(not {})", show(src, x)),
                ExprKind::Unary(UnaryOp::Neg, x) => format!("(-{})", show(src, x)),
                _ => text.to_string(),
            }
        }
        let expr = parse_expr(FileId(0), src).expect("parses");
        show(src, &expr)
    }

    /// Precedence and grouping over the flat runs the silent levels leave
    /// (`conjunction`, `comparison`, `additive`, `multiplicative`, `unary`).
    #[test]
    fn operators_group_by_precedence_to_the_left() {
        for (src, want) in [
            ("a or b and c", "(a or (b and c))"),
            ("a and b or c and d or e", "(((a and b) or (c and d)) or e)"),
            ("a and b and c", "((a and b) and c)"),
            ("not a == b", "(not (a == b))"),
            ("not not a and b", "((not (not a)) and b)"),
            ("a + b * c - d", "((a + (b * c)) - d)"),
            ("a - b - c", "((a - b) - c)"),
            ("a / b % c * d", "(((a / b) % c) * d)"),
            ("a ?? b + c ?? d", "((a ?? (b + c)) ?? d)"),
            ("-a * -b", "((-a) * (-b))"),
            ("- -a", "(-(-a))"),
            ("a + b == c * d", "((a + b) == (c * d))"),
            (
                "x.y[0] * 2 >= z ?? 1 and w in ws",
                "(((x.y[0] * 2) >= (z ?? 1)) and (w in ws))",
            ),
            ("a not in b or c", "((a not in b) or c)"),
        ] {
            assert_eq!(grouped(src), want, "{src}");
        }
        // A negated number literal is one literal, before any operator.
        assert!(
            matches!(e("-5 * 2"), ExprKind::Binary(BinaryOp::Mul, l, _) if l.kind == ExprKind::Int(-5))
        );
        assert!(parse_expr(FileId(0), "a == b == c").is_err());
    }

    #[test]
    fn quantifier_body_runs_right() {
        let ExprKind::Binary(BinaryOp::And, _, r) = e("a and all x in xs: x or y") else {
            panic!("expected and at the top")
        };
        let ExprKind::Quantifier(q) = &r.kind else {
            panic!("expected quantifier")
        };
        assert!(matches!(q.body.kind, ExprKind::Binary(BinaryOp::Or, _, _)));
    }

    #[test]
    fn exists_takes_only_the_chain() {
        assert!(matches!(
            e("exists a.b and c"),
            ExprKind::Binary(BinaryOp::And, _, _)
        ));
    }

    #[test]
    fn literals() {
        assert_eq!(e("-9223372036854775808"), ExprKind::Int(i64::MIN));
        assert_eq!(e("1h30m"), ExprKind::Duration(5_400_000_000_000));
        assert_eq!(e("500ms"), ExprKind::Duration(500_000_000));
        assert_eq!(e(r#""a\u{41}\n""#), ExprKind::Str("aA\n".into()));
        assert_eq!(e("-1.5"), ExprKind::Float(-1.5));
    }

    #[test]
    fn errors_name_tokens_in_words() {
        let err = parse_expr(FileId(0), "a ==").unwrap_err();
        assert!(err.to_string().contains("expected an expression"), "{err}");
        let err = parse_expr(FileId(0), r#""\q""#).unwrap_err();
        assert!(matches!(err, SyntaxError::BadEscape { .. }));
    }

    /// The block scan finds what decoding every character finds, wherever
    /// the character falls against the 64-byte blocks.
    #[test]
    fn control_characters_are_found_across_block_edges() {
        let naive = |text: &str| {
            let bytes = text.as_bytes();
            text.char_indices()
                .find(|&(i, c)| match c {
                    '\t' | '\n' => false,
                    '\r' => bytes.get(i + 1) != Some(&b'\n'),
                    c => c.is_control(),
                })
                .map(|(i, _)| i)
        };
        let found = |text: &str| match refuse_lone_cr(FileId(0), text) {
            Err(SyntaxError::BadText { span, .. }) => Some(span.start),
            _ => None,
        };
        for inserted in [
            "\r\n", "\r", "\u{1b}", "\u{7f}", "\u{85}", "\u{a0}", "\t", "\n", "\0", "é",
        ] {
            for at in [0, 1, 62, 63, 64, 65, 127, 128, 200] {
                let text = format!("{}{inserted}{}", "a".repeat(at), "b".repeat(70));
                assert_eq!(found(&text), naive(&text), "{inserted:?} at {at}");
            }
        }
        assert_eq!(found("a\r"), Some(1));
    }

    #[test]
    fn deep_nesting_is_a_diagnostic() {
        let src = "(".repeat(100_000) + "1" + &")".repeat(100_000);
        assert!(matches!(
            parse_expr(FileId(0), &src),
            Err(SyntaxError::TooDeep { .. })
        ));
    }
}
