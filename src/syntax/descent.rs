//! The fast path of the parser: recursive descent over the bytes of a
//! policy, straight to the AST the pest grammar and its lowering build,
//! spans and all.
//!
//! pest stays the definition of the language and of every syntax error.
//! This parser gives up (`None`) at the first thing it does not accept, or
//! anything it is unsure of (a byte-order mark past the start, a literal out
//! of range, a bad escape, a tree past the depth limit), and the caller then
//! parses the text again with pest, which says what is wrong. So it only has
//! to agree with pest on the texts it accepts, and to accept the texts users
//! write; `tests/parser_agreement.rs` and the `parse` fuzz target hold both
//! (the same AST, compared with its spans, or a refusal where pest refuses).
//!
//! Why it exists: pest pays per rule call (a stack probe, a call-limit
//! check, a snapshot for backtracking, keywords and operators tried as
//! strings), and an operand goes through ten precedence levels, so parsing
//! was about 80% of compiling a large policy (docs/performance.md).
//!
//! Conventions: `pos` is always at the start of a token (whitespace and
//! comments after each token are skipped as it is taken), and `end` is where
//! the last token taken ends, so a node spans from the position it started
//! at to `end`: the first and last tokens it holds, which is what the pest
//! lowering's spans are once trailing whitespace and comments are trimmed.

use super::ast::*;
use super::parser::{number, unescape};
use super::span::{FileId, Span};

/// The words the grammar's `keyword` rule reserves: never a name.
const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "all", "any", "none", "exists", "if", "then", "else", "for", "true",
    "false", "null",
];

/// What a step returns: `None` gives the text to pest.
type Step<T> = Option<T>;

/// A whole policy file, or `None` where pest must decide.
pub(super) fn file(file: FileId, text: &str, max_depth: usize) -> Option<PolicyFile> {
    let mut p = Descent::new(file, text, max_depth)?;
    p.skip();
    let mut items = Vec::new();
    while p.pos < p.bytes.len() {
        items.push(p.item()?);
    }
    Some(PolicyFile { items })
}

/// A lone expression (`expr_only`), or `None` where pest must decide.
pub(super) fn expr(file: FileId, text: &str, max_depth: usize) -> Option<Expr> {
    let mut p = Descent::new(file, text, max_depth)?;
    p.skip();
    let e = p.expr()?;
    (p.pos == p.bytes.len()).then_some(e)
}

struct Descent<'t> {
    file: FileId,
    text: &'t str,
    bytes: &'t [u8],
    /// The start of the next token.
    pos: usize,
    /// The end of the last token taken.
    end: usize,
    max_depth: usize,
    /// How many primaries are open: every cycle of the recursion goes
    /// through one, and each holds its sub-expressions as children, so
    /// past `max_depth` the tree is too deep and pest reports it.
    open: usize,
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'t> Descent<'t> {
    fn new(file: FileId, text: &'t str, max_depth: usize) -> Option<Self> {
        // The grammar's whitespace includes U+FEFF. At the start of a file it
        // is a byte-order mark and is skipped like whitespace; anywhere else
        // the lowering's span trimming does not treat it as whitespace, so
        // pest decides.
        let start = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
        if text.get(start..)?.contains('\u{FEFF}') {
            return None;
        }
        Some(Descent {
            file,
            text,
            bytes: text.as_bytes(),
            pos: start,
            end: start,
            max_depth,
            open: 0,
        })
    }

    // ───── tokens ─────

    /// Whitespace and `#` comments (up to, not including, the line's end).
    fn skip(&mut self) {
        loop {
            match self.bytes.get(self.pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'#') => {
                    let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
                    self.pos =
                        memchr::memchr(b'\n', rest).map_or(self.bytes.len(), |n| self.pos + n);
                }
                _ => break,
            }
        }
    }

    /// Takes the next `len` bytes as a token.
    fn take(&mut self, len: usize) {
        self.end = self.pos + len;
        self.pos = self.end;
        self.skip();
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(self.file, start, self.end)
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn at(&self, token: &str) -> bool {
        self.bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(token.as_bytes()))
    }

    /// Takes `token` if it is next.
    fn eat(&mut self, token: &str) -> bool {
        let found = self.at(token);
        if found {
            self.take(token.len());
        }
        found
    }

    fn expect(&mut self, token: &str) -> Step<()> {
        self.eat(token).then_some(())
    }

    /// Whether the keyword `word` is next: the word, then no letter, digit or `_`.
    fn at_keyword(&self, word: &str) -> bool {
        self.at(word) && !self.byte(self.pos + word.len()).is_some_and(is_ident_char)
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.at_keyword(word);
        if found {
            self.take(word.len());
        }
        found
    }

    /// The length of the run of bytes from `pos` that `keep` accepts.
    fn run(&self, from: usize, keep: impl Fn(u8) -> bool) -> usize {
        self.bytes
            .get(from..)
            .map_or(0, |rest| rest.iter().take_while(|&&b| keep(b)).count())
    }

    fn ident_token(&mut self, len: usize) -> Ident {
        let start = self.pos;
        let name = self.text.get(start..start + len).unwrap_or("").to_string();
        self.take(len);
        Ident {
            name,
            span: self.span_from(start),
        }
    }

    /// `ident`: lower case, digits and `_`, not starting with a digit, not
    /// followed by an upper-case letter, not a reserved word.
    fn ident_len(&self) -> Option<usize> {
        let first = self.byte(self.pos)?;
        if !(first.is_ascii_lowercase() || first == b'_') {
            return None;
        }
        let len = self.run(self.pos, |b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
        });
        if self.byte(self.pos + len).is_some_and(is_ident_char) {
            return None;
        }
        let word = self.text.get(self.pos..self.pos + len)?;
        (!RESERVED.contains(&word)).then_some(len)
    }

    fn ident(&mut self) -> Step<Ident> {
        let len = self.ident_len()?;
        Some(self.ident_token(len))
    }

    /// `field_name` (after `.`, and an object key): a letter or `_`, then
    /// letters, digits and `_`.
    fn field_name(&mut self) -> Step<Ident> {
        let first = self.byte(self.pos)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let len = self.run(self.pos, is_ident_char);
        Some(self.ident_token(len))
    }

    /// `rule_name`: kebab-case.
    fn rule_name(&mut self) -> Step<Ident> {
        if !self.byte(self.pos)?.is_ascii_lowercase() {
            return None;
        }
        let len = self.run(self.pos, |b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
        });
        if self.byte(self.pos + len).is_some_and(is_ident_char) {
            return None;
        }
        Some(self.ident_token(len))
    }

    /// `stage_name`: lower case, digits, `_` and `-` not starting `->`.
    fn stage_name(&mut self) -> Step<Ident> {
        if !self.byte(self.pos)?.is_ascii_lowercase() {
            return None;
        }
        let mut len = 1;
        while let Some(b) = self.byte(self.pos + len) {
            let dash_not_arrow = b == b'-' && self.byte(self.pos + len + 1) != Some(b'>');
            if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || dash_not_arrow {
                len += 1;
            } else {
                break;
            }
        }
        if self.byte(self.pos + len).is_some_and(is_ident_char) {
            return None;
        }
        Some(self.ident_token(len))
    }

    /// A string literal: its span (quotes included) and its value.
    fn string(&mut self) -> Step<Str> {
        if self.byte(self.pos)? != b'"' {
            return None;
        }
        let start = self.pos;
        let mut at = start + 1;
        loop {
            match self.byte(at)? {
                b'"' => break,
                b'\n' => return None,
                // An escape takes the next character whole, whatever it is.
                b'\\' => {
                    let next = self.text.get(at + 1..)?.chars().next()?;
                    at += 1 + next.len_utf8();
                }
                _ => at += 1,
            }
        }
        let quoted = self.text.get(start..at + 1)?;
        let value = unescape(self.file, start, quoted).ok()?;
        self.take(at + 1 - start);
        Some(Str {
            value,
            span: self.span_from(start),
        })
    }

    fn digits(&self, from: usize) -> usize {
        self.run(from, |b| b.is_ascii_digit())
    }

    /// `duration`: one or more runs of digits each with its unit, then no
    /// letter, digit or `_`. Its length, if one is next.
    fn duration_len(&self) -> Option<usize> {
        let mut len = 0;
        loop {
            let digits = self.digits(self.pos + len);
            if digits == 0 {
                break;
            }
            let unit_at = self.pos + len + digits;
            let unit = match (self.byte(unit_at), self.byte(unit_at + 1)) {
                (Some(b'm'), Some(b's')) => 2,
                (Some(b's' | b'm' | b'h' | b'd' | b'w'), _) => 1,
                _ => break,
            };
            len += digits + unit;
        }
        (len > 0 && !self.byte(self.pos + len).is_some_and(is_ident_char)).then_some(len)
    }

    /// `number`: digits, an optional fraction and exponent, then no letter,
    /// digit or `_`. Its length, if one is next.
    fn number_len(&self) -> Option<usize> {
        let mut len = self.digits(self.pos);
        if len == 0 {
            return None;
        }
        if self.byte(self.pos + len) == Some(b'.') {
            let fraction = self.digits(self.pos + len + 1);
            if fraction > 0 {
                len += 1 + fraction;
            }
        }
        if matches!(self.byte(self.pos + len), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.byte(self.pos + len + 1), Some(b'+' | b'-')));
            let exponent = self.digits(self.pos + len + 1 + sign);
            if exponent > 0 {
                len += 1 + sign + exponent;
            }
        }
        (!self.byte(self.pos + len).is_some_and(is_ident_char)).then_some(len)
    }

    /// `date`: `YYYY-MM-DD`, optionally `T` and a time (checked later).
    fn date(&mut self) -> Step<Str> {
        let shape = b"dddd-dd-dd";
        let fits = shape.iter().enumerate().all(|(i, &want)| {
            self.byte(self.pos + i).is_some_and(|b| {
                if want == b'd' {
                    b.is_ascii_digit()
                } else {
                    b == want
                }
            })
        });
        if !fits {
            return None;
        }
        let mut len = shape.len();
        if self.byte(self.pos + len) == Some(b'T') {
            let time = self.run(self.pos + len + 1, |b| {
                b.is_ascii_digit() || matches!(b, b':' | b'.' | b'+' | b'-' | b'Z')
            });
            if time > 0 {
                len += 1 + time;
            }
        }
        let start = self.pos;
        let value = self.text.get(start..start + len)?.to_string();
        self.take(len);
        Some(Str {
            value,
            span: self.span_from(start),
        })
    }

    // ───── items ─────

    fn item(&mut self) -> Step<Item> {
        let start = self.pos;
        if self.eat_keyword("stages") {
            let mut path = vec![self.stage_name()?];
            while self.eat("->") {
                path.push(self.stage_name()?);
            }
            if path.len() < 2 {
                return None;
            }
            return Some(Item::Stages(StagesDecl {
                path,
                span: self.span_from(start),
            }));
        }
        if self.eat_keyword("stage") {
            return self.stage(start).map(Item::Stage);
        }
        if self.eat_keyword("param") {
            return self.binding_rest(start).map(Item::Param);
        }
        if self.eat_keyword("let") {
            return self.binding_rest(start).map(Item::Let);
        }
        if self.eat_keyword("def") {
            let name = self.ident()?;
            self.expect("(")?;
            let mut params = Vec::new();
            if let Some(first) = self.ident() {
                params.push(first);
                while self.eat(",") {
                    match self.ident() {
                        Some(p) => params.push(p),
                        None => break,
                    }
                }
            }
            self.expect(")")?;
            self.expect("=")?;
            let body = self.expr()?;
            return Some(Item::Def(DefDecl {
                name,
                params,
                body,
                span: self.span_from(start),
            }));
        }
        if self.eat_keyword("import") {
            let path = self.string()?;
            return Some(Item::Import(ImportDecl {
                path,
                span: self.span_from(start),
            }));
        }
        if self.eat_keyword("gate") {
            return self.gate(start).map(Item::Gate);
        }
        if self.eat_keyword("waive") {
            return self.waiver(start).map(Item::Waive);
        }
        None
    }

    fn stage(&mut self, start: usize) -> Step<StageDecl> {
        let name = self.stage_name()?;
        self.expect("{")?;
        let mut stage = StageDecl::new(name, Span::new(self.file, start, start));
        loop {
            let clause = self.pos;
            if self.eat_keyword("purpose") {
                let purpose = self.string()?;
                if stage.purpose.is_some() {
                    stage.repeated.push(Repeated {
                        clause: "purpose",
                        span: self.span_from(clause),
                    });
                } else {
                    stage.purpose = Some(purpose);
                }
            } else if self.eat_keyword("risk") {
                stage.risks.push(self.string()?);
            } else if self.eat_keyword("let") {
                stage.lets.push(self.binding_rest(clause)?);
            } else if self.eat_keyword("rollback") {
                let name = self.rule_name()?;
                stage.triggers.push(self.rule_body(clause, name, false)?);
            } else {
                break;
            }
        }
        self.expect("}")?;
        stage.span = self.span_from(start);
        Some(stage)
    }

    /// `name = expr` after `let` or `param`.
    fn binding_rest(&mut self, start: usize) -> Step<Binding> {
        let name = self.ident()?;
        self.expect("=")?;
        let value = self.expr()?;
        Some(Binding {
            name,
            value,
            span: self.span_from(start),
        })
    }

    fn gate(&mut self, start: usize) -> Step<GateDecl> {
        let from = self.stage_name()?;
        self.expect("->")?;
        let to = self.stage_name()?;
        self.expect("{")?;
        let mut gate = GateDecl::new(from, to, Span::new(self.file, start, start));
        loop {
            let clause = self.pos;
            if self.eat_keyword("subject") {
                let subject = self.expr()?;
                if gate.subject.is_some() {
                    gate.repeated.push(Repeated {
                        clause: "subject",
                        span: self.span_from(clause),
                    });
                } else {
                    gate.subject = Some(subject);
                }
            } else if self.eat_keyword("level") {
                gate.levels.push(self.string()?);
            } else if self.eat_keyword("let") {
                gate.lets.push(self.binding_rest(clause)?);
            } else if self.eat_keyword("rule") {
                let name = self.rule_name()?;
                let advisory = self.eat_keyword("advisory");
                gate.rules.push(self.rule_body(clause, name, advisory)?);
            } else {
                break;
            }
        }
        self.expect("}")?;
        gate.span = self.span_from(start);
        Some(gate)
    }

    /// `{ title ... when ... require ... }` of a rule or a rollback trigger.
    fn rule_body(&mut self, start: usize, name: Ident, advisory: bool) -> Step<RuleDecl> {
        self.expect("{")?;
        let mut rule = RuleDecl::new(name, advisory, Span::new(self.file, start, start));
        loop {
            let clause = self.pos;
            if self.eat_keyword("title") {
                let title = self.string()?;
                rule.order.push(RuleItemKind::Title);
                if rule.title.is_some() {
                    rule.repeated.push(Repeated {
                        clause: "title",
                        span: self.span_from(clause),
                    });
                } else {
                    rule.title = Some(title);
                }
            } else if self.eat_keyword("help") {
                let help = self.string()?;
                rule.order.push(RuleItemKind::Help);
                if rule.help.is_some() {
                    rule.repeated.push(Repeated {
                        clause: "help",
                        span: self.span_from(clause),
                    });
                } else {
                    rule.help = Some(help);
                }
            } else if self.eat_keyword("when") {
                rule.whens.push(self.expr()?);
                rule.order.push(RuleItemKind::When);
            } else if self.eat_keyword("require") {
                rule.requires.push(self.expr()?);
                rule.order.push(RuleItemKind::Require);
            } else if self.eat_keyword("let") {
                rule.lets.push(self.binding_rest(clause)?);
                rule.order.push(RuleItemKind::Let);
            } else {
                break;
            }
        }
        self.expect("}")?;
        rule.span = self.span_from(start);
        Some(rule)
    }

    fn waiver(&mut self, start: usize) -> Step<WaiverDecl> {
        let from = self.stage_name()?;
        self.expect("->")?;
        let to = self.stage_name()?;
        let rule = self.rule_name()?;
        if !self.eat_keyword("until") {
            return None;
        }
        let until = match self.date() {
            Some(date) => date,
            None => self.string()?,
        };
        if !self.eat_keyword("reason") {
            return None;
        }
        let reason = self.string()?;
        let mut waiver = WaiverDecl::new(
            (from, to, rule),
            until,
            reason,
            Span::new(self.file, start, start),
        );
        loop {
            let clause_start = self.pos;
            let clause = if self.eat_keyword("owner") {
                "owner"
            } else if self.eat_keyword("ticket") {
                "ticket"
            } else {
                break;
            };
            let value = self.string()?;
            let slot = if clause == "owner" {
                &mut waiver.owner
            } else {
                &mut waiver.ticket
            };
            if slot.is_some() {
                waiver.repeated.push(Repeated {
                    clause,
                    span: self.span_from(clause_start),
                });
            } else {
                *slot = Some(value);
            }
        }
        waiver.span = self.span_from(start);
        Some(waiver)
    }

    // ───── expressions ─────

    /// A node, refused (for pest to report) past the depth limit.
    fn node(&self, kind: ExprKind, span: Span) -> Step<Expr> {
        let e = Expr::new(kind, span);
        (e.depth as usize <= self.max_depth).then_some(e)
    }

    fn binary(&self, op: BinaryOp, left: Expr, right: Expr) -> Step<Expr> {
        let span = left.span.to(right.span);
        self.node(ExprKind::Binary(op, Box::new(left), Box::new(right)), span)
    }

    /// `expr`: `or` of `and`s of negations, `and` binding tighter, both to
    /// the left.
    fn expr(&mut self) -> Step<Expr> {
        let mut or_left: Option<Expr> = None;
        let mut and_left = self.negation()?;
        loop {
            if self.eat_keyword("and") {
                let right = self.negation()?;
                and_left = self.binary(BinaryOp::And, and_left, right)?;
            } else if self.eat_keyword("or") {
                let right = self.negation()?;
                let done = match or_left.take() {
                    Some(l) => self.binary(BinaryOp::Or, l, and_left)?,
                    None => and_left,
                };
                or_left = Some(done);
                and_left = right;
            } else {
                break;
            }
        }
        match or_left {
            Some(l) => self.binary(BinaryOp::Or, l, and_left),
            None => Some(and_left),
        }
    }

    /// `not* coalesce (compare coalesce)?`
    fn negation(&mut self) -> Step<Expr> {
        let mut nots = Vec::new();
        while self.at_keyword("not") {
            let start = self.pos;
            self.take(3);
            nots.push(self.span_from(start));
        }
        let mut e = self.coalesce()?;
        if let Some(op) = self.compare_op() {
            let right = self.coalesce()?;
            e = self.binary(op, e, right)?;
        }
        self.prefixed(UnaryOp::Not, nots, e)
    }

    /// Takes a comparison operator if one is next.
    fn compare_op(&mut self) -> Option<BinaryOp> {
        for (token, op) in [
            ("==", BinaryOp::Eq),
            ("!=", BinaryOp::Ne),
            ("<=", BinaryOp::Le),
            (">=", BinaryOp::Ge),
            ("<", BinaryOp::Lt),
            (">", BinaryOp::Gt),
        ] {
            if self.eat(token) {
                return Some(op);
            }
        }
        if self.at_keyword("not") {
            // `not in` only: a `not` before anything else is not taken.
            let (pos, end) = (self.pos, self.end);
            self.take(3);
            if self.eat_keyword("in") {
                return Some(BinaryOp::NotIn);
            }
            self.pos = pos;
            self.end = end;
            return None;
        }
        self.eat_keyword("in").then_some(BinaryOp::In)
    }

    fn prefixed(&self, op: UnaryOp, ops: Vec<Span>, mut e: Expr) -> Step<Expr> {
        for op_span in ops.into_iter().rev() {
            let span = op_span.to(e.span);
            e = self.node(ExprKind::Unary(op, Box::new(e)), span)?;
        }
        Some(e)
    }

    /// A run of operands (each under its `-`s) and `?? + - * / %`,
    /// grouped by precedence (`??` loosest, then `+ -`, then `* / %`),
    /// each level to the left: the lowering's shunting-yard.
    fn coalesce(&mut self) -> Step<Expr> {
        let precedence = |op: BinaryOp| match op {
            BinaryOp::Coalesce => 1,
            BinaryOp::Add | BinaryOp::Sub => 2,
            _ => 3,
        };
        let mut operands = vec![self.operand()?];
        let mut operators: Vec<BinaryOp> = Vec::new();
        loop {
            let op = if self.eat("??") {
                BinaryOp::Coalesce
            } else if self.eat("+") {
                BinaryOp::Add
            } else if self.eat("-") {
                BinaryOp::Sub
            } else if self.eat("*") {
                BinaryOp::Mul
            } else if self.eat("/") {
                BinaryOp::Div
            } else if self.eat("%") {
                BinaryOp::Rem
            } else {
                break;
            };
            while let Some(&top) = operators.last() {
                if precedence(top) < precedence(op) {
                    break;
                }
                operators.pop();
                self.reduce(&mut operands, top)?;
            }
            operators.push(op);
            operands.push(self.operand()?);
        }
        while let Some(top) = operators.pop() {
            self.reduce(&mut operands, top)?;
        }
        let e = operands.pop()?;
        operands.is_empty().then_some(e)
    }

    fn reduce(&self, operands: &mut Vec<Expr>, op: BinaryOp) -> Step<()> {
        let right = operands.pop()?;
        let left = operands.pop()?;
        operands.push(self.binary(op, left, right)?);
        Some(())
    }

    /// `-* postfix`. Under a `-`, a number with no accessor is one literal
    /// (`-9223372036854775808` has no positive twin).
    fn operand(&mut self) -> Step<Expr> {
        let mut negations = Vec::new();
        while self.at("-") {
            let start = self.pos;
            self.take(1);
            negations.push(self.span_from(start));
        }
        let e = self.postfix()?;
        // Only a number literal makes these kinds, and one with an accessor
        // is a field or an index.
        if matches!(e.kind, ExprKind::Int(_) | ExprKind::Float(_)) {
            if let Some(op_span) = negations.pop() {
                let digits = self.text.get(e.span.start..e.span.end)?;
                let span = op_span.to(e.span);
                let literal = number(self.file, span, &format!("-{digits}")).ok()?;
                return self.prefixed(UnaryOp::Neg, negations, literal);
            }
        }
        self.prefixed(UnaryOp::Neg, negations, e)
    }

    /// `primary (.field | [index])*`
    fn postfix(&mut self) -> Step<Expr> {
        let mut e = self.primary()?;
        loop {
            let access = self.pos;
            if self.eat(".") {
                let name = self.field_name()?;
                let span = e.span.to(self.span_from(access));
                e = self.node(ExprKind::Field(Box::new(e), name), span)?;
            } else if self.eat("[") {
                let index = self.expr()?;
                self.expect("]")?;
                let span = e.span.to(self.span_from(access));
                e = self.node(ExprKind::Index(Box::new(e), Box::new(index)), span)?;
            } else {
                break;
            }
        }
        Some(e)
    }

    fn primary(&mut self) -> Step<Expr> {
        if self.open >= self.max_depth {
            return None;
        }
        // The recursion grows the stack when it runs low, as the lowering does.
        crate::stack::descend_mut(self, |s| &mut s.open, Self::primary_inner)
    }

    fn primary_inner(&mut self) -> Step<Expr> {
        let start = self.pos;
        let first = self.byte(start)?;
        let kind = match first {
            b'0'..=b'9' => {
                if let Some(len) = self.duration_len() {
                    let text = self.text.get(start..start + len)?;
                    let nanos = super::parser::duration_nanos(text)?;
                    self.take(len);
                    ExprKind::Duration(nanos)
                } else {
                    let len = self.number_len()?;
                    let text = self.text.get(start..start + len)?;
                    self.take(len);
                    return number(self.file, self.span_from(start), text).ok();
                }
            }
            b'"' => ExprKind::Str(self.string()?.value),
            b'[' => {
                self.take(1);
                self.list_rest()?
            }
            b'{' => {
                self.take(1);
                self.object_rest()?
            }
            b'(' => {
                self.take(1);
                let inner = self.expr()?;
                self.expect(")")?;
                ExprKind::Paren(Box::new(inner))
            }
            _ if self.eat_keyword("null") => ExprKind::Null,
            _ if self.eat_keyword("true") => ExprKind::Bool(true),
            _ if self.eat_keyword("false") => ExprKind::Bool(false),
            _ if self.quantifier_next().is_some() => {
                let (kind, word) = self.quantifier_next()?;
                self.take(word.len());
                let vars = self.bound_vars()?;
                let collection = self.coalesce()?;
                self.expect(":")?;
                let body = self.expr()?;
                ExprKind::Quantifier(Quantifier {
                    kind,
                    vars,
                    collection: Box::new(collection),
                    body: Box::new(body),
                })
            }
            _ if self.eat_keyword("if") => {
                let condition = self.expr()?;
                if !self.eat_keyword("then") {
                    return None;
                }
                let then = self.expr()?;
                if !self.eat_keyword("else") {
                    return None;
                }
                let otherwise = self.expr()?;
                ExprKind::If(Box::new(condition), Box::new(then), Box::new(otherwise))
            }
            _ if self.eat_keyword("exists") => ExprKind::Exists(Box::new(self.postfix()?)),
            _ => {
                let name = self.ident()?;
                if self.eat("(") {
                    let mut args = Vec::new();
                    if !self.at(")") {
                        args.push(self.expr()?);
                        while self.eat(",") {
                            if self.at(")") {
                                break;
                            }
                            args.push(self.expr()?);
                        }
                    }
                    self.expect(")")?;
                    ExprKind::Call(name, args)
                } else {
                    ExprKind::Name(name.name)
                }
            }
        };
        self.node(kind, self.span_from(start))
    }

    /// The quantifier keyword next (`all`, `any` or `none`), if one is.
    fn quantifier_next(&self) -> Option<(QuantKind, &'static str)> {
        [
            (QuantKind::All, "all"),
            (QuantKind::Any, "any"),
            (QuantKind::None, "none"),
        ]
        .into_iter()
        .find(|(_, word)| self.at_keyword(word))
    }

    /// `x` or `k, v`, then `in`: the names a quantifier or comprehension binds.
    fn bound_vars(&mut self) -> Step<Vec<Ident>> {
        let mut vars = vec![self.ident()?];
        if self.eat(",") {
            vars.push(self.ident()?);
        }
        self.eat_keyword("in").then_some(vars)
    }

    /// After `[`: a list, or a comprehension (`[e for x in xs if p]`).
    fn list_rest(&mut self) -> Step<ExprKind> {
        if self.eat("]") {
            return Some(ExprKind::List(Vec::new()));
        }
        let first = self.expr()?;
        if self.eat_keyword("for") {
            let vars = self.bound_vars()?;
            let collection = self.coalesce()?;
            let filter = if self.eat_keyword("if") {
                Some(Box::new(self.expr()?))
            } else {
                None
            };
            self.expect("]")?;
            return Some(ExprKind::Comprehension(Comprehension {
                element: Box::new(first),
                vars,
                collection: Box::new(collection),
                filter,
            }));
        }
        let mut items = vec![first];
        while self.eat(",") {
            if self.at("]") {
                break;
            }
            items.push(self.expr()?);
        }
        self.expect("]")?;
        Some(ExprKind::List(items))
    }

    /// After `{`: `key: value` entries, a key a name or a string.
    fn object_rest(&mut self) -> Step<ExprKind> {
        let mut entries = Vec::new();
        while !self.at("}") {
            let key = match self.byte(self.pos)? {
                b'"' => {
                    let s = self.string()?;
                    Ident {
                        name: s.value,
                        span: s.span,
                    }
                }
                _ => self.field_name()?,
            };
            self.expect(":")?;
            entries.push((key, self.expr()?));
            if !self.eat(",") {
                break;
            }
        }
        self.expect("}")?;
        Some(ExprKind::Object(entries))
    }
}
