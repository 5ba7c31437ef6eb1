//! The formatter: one canonical layout for `.clr` files.
//!
//! It prints the AST, not the text, so layout is canonical: two-space
//! indentation, one item per line, spaces around operators, a blank line
//! around blocks. Literals are printed as written (`24h` stays `24h`, string
//! escapes stay as the author wrote them). Comments are kept: a comment on its
//! own line stays before the item that followed it, a comment at the end of a
//! line stays at the end of that item's line. Long conditions break before
//! `and`/`or` and after a quantifier's `:`, the same way every time.

use crate::syntax::ast::*;
use crate::syntax::{FileId, Span, SyntaxError};

/// Lines longer than this are broken at operators where possible.
pub const WIDTH: usize = 100;
const INDENT: &str = "  ";

struct Comment {
    start: usize,
    text: String,
    end: usize,
    /// Nothing but whitespace before it on its line.
    own_line: bool,
}

fn comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    crate::syntax::trivia::scan(text, |piece| {
        if let crate::syntax::trivia::Piece::Comment { start, end } = piece {
            let line_start = text
                .get(..start)
                .and_then(|t| t.rfind('\n'))
                .map(|n| n + 1)
                .unwrap_or(0);
            out.push(Comment {
                start,
                end,
                text: text.get(start..end).unwrap_or("#").trim_end().to_string(),
                own_line: text.get(line_start..start).unwrap_or("").trim().is_empty(),
            });
        }
    });
    out
}

struct Printer<'s> {
    src: &'s str,
    comments: Vec<Comment>,
    next_comment: usize,
    /// Comments already printed inside a list or object literal (by their
    /// start), which the statement-level passes skip.
    used: std::cell::RefCell<std::collections::HashSet<usize>>,
    out: String,
    /// End of the last thing printed, in the source: a blank line in the
    /// source after it is kept (one at most).
    last_end: Option<usize>,
}

impl<'s> Printer<'s> {
    fn snippet(&self, span: Span) -> &'s str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    /// Keeps one blank line where the source had one between the last thing
    /// printed and `start`.
    fn keep_blank(&mut self, start: usize) {
        if let Some(end) = self.last_end {
            // A blank line is a whole line of whitespace strictly inside the gap
            // (not the rest of the previous line, not the start of this one).
            let blank_line = self.src.get(end..start).is_some_and(|gap| {
                let lines: Vec<&str> = gap.split('\n').collect();
                lines.len() > 2
                    && lines
                        .get(1..lines.len() - 1)
                        .is_some_and(|mid| mid.iter().any(|l| l.trim().is_empty()))
            });
            if blank_line {
                self.blank();
            }
        }
    }

    /// Moves past comments a literal has printed already.
    fn skip_used(&mut self) {
        while self
            .comments
            .get(self.next_comment)
            .is_some_and(|c| self.used.borrow().contains(&c.start))
        {
            self.next_comment += 1;
        }
    }

    /// Whether a comment not yet printed lies inside `span`.
    fn has_comment_in(&self, span: Span) -> bool {
        let used = self.used.borrow();
        self.comments
            .iter()
            .any(|c| c.start > span.start && c.end <= span.end && !used.contains(&c.start))
    }

    /// The comments not yet printed that start in `from..to`, marked printed.
    fn take_comments(&self, from: usize, to: usize) -> Vec<(String, bool)> {
        let mut used = self.used.borrow_mut();
        self.comments
            .iter()
            .filter(|c| c.start >= from && c.start < to && used.insert(c.start))
            .map(|c| (c.text.clone(), c.own_line))
            .collect()
    }

    /// A list or object literal that holds comments, one entry a line:
    /// a comment at the end of an entry's line stays on that entry, any
    /// other before the entry it preceded (or before the closing bracket).
    fn commented_entries(
        &self,
        open: &str,
        close: &str,
        span: Span,
        entries: &[(Span, String)],
        indent: usize,
    ) -> String {
        let pad = INDENT.repeat(indent + 1);
        let mut out = format!(
            "{open}
"
        );
        let mut from = span.start + 1;
        for (i, (entry, text)) in entries.iter().enumerate() {
            for (comment, _) in self.take_comments(from, entry.start) {
                out.push_str(&format!(
                    "{pad}{comment}
"
                ));
            }
            out.push_str(&format!("{pad}{text},"));
            let next = entries.get(i + 1).map_or(span.end, |(s, _)| s.start);
            let line_end = self
                .src
                .get(entry.end..)
                .and_then(|t| t.find('\n'))
                .map_or(self.src.len(), |n| entry.end + n);
            let same_line: Vec<(String, bool)> = self
                .comments
                .iter()
                .filter(|c| !c.own_line && c.start >= entry.end && c.start < next.min(line_end))
                .map(|c| c.start)
                .collect::<Vec<_>>()
                .into_iter()
                .flat_map(|start| self.take_comments(start, start + 1))
                .collect();
            for (comment, _) in same_line {
                out.push_str(&format!("  {comment}"));
            }
            out.push('\n');
            from = entry.end;
        }
        for (comment, _) in self.take_comments(from, span.end) {
            out.push_str(&format!("{pad}{comment}\n"));
        }
        out.push_str(&INDENT.repeat(indent));
        out.push_str(close);
        out
    }

    /// Emits own-line comments that come before `pos`, then keeps a blank
    /// line before `pos` if the source had one.
    fn flush_before(&mut self, pos: usize, indent: usize) {
        self.skip_used();
        while let Some(c) = self.comments.get(self.next_comment) {
            if c.start >= pos {
                break;
            }
            let (start, end, text) = (c.start, c.end, c.text.clone());
            self.keep_blank(start);
            self.line(indent, &text);
            self.next_comment += 1;
            self.last_end = Some(end);
            self.skip_used();
        }
        if pos != usize::MAX {
            self.keep_blank(pos);
        }
    }

    /// Emits the comments left inside a block, then its closing brace.
    fn close(&mut self, end: usize, indent: usize) {
        self.skip_used();
        while let Some(c) = self.comments.get(self.next_comment) {
            if c.start >= end {
                break;
            }
            let (start, cend, text) = (c.start, c.end, c.text.clone());
            self.keep_blank(start);
            self.line(indent + 1, &text);
            self.next_comment += 1;
            self.last_end = Some(cend);
            self.skip_used();
        }
        self.line(indent, "}");
        self.last_end = Some(end);
    }

    /// Appends a trailing comment that sits on the same source line as `end`.
    fn trailing(&mut self, end: usize) {
        self.skip_used();
        self.last_end = Some(end);
        let line_end = self
            .src
            .get(end..)
            .and_then(|t| t.find('\n'))
            .map(|n| end + n)
            .unwrap_or(self.src.len());
        if let Some(c) = self.comments.get(self.next_comment) {
            if !c.own_line && c.start >= end && c.start < line_end {
                if self.out.ends_with('\n') {
                    self.out.pop();
                }
                self.out.push_str("  ");
                self.out.push_str(&c.text.clone());
                self.out.push('\n');
                self.next_comment += 1;
                self.last_end = Some(line_end);
            }
        }
    }

    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str(INDENT);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") && !self.out.ends_with("{\n") {
            self.out.push('\n');
        }
    }

    // ───── items ─────

    fn file(&mut self, file: &PolicyFile) {
        let mut prev: Option<(&Item, usize)> = None;
        for item in &file.items {
            let span = item.span();
            let is_block = matches!(item, Item::Gate(_) | Item::Stage(_));
            let prev_block = prev.is_some_and(|(p, _)| matches!(p, Item::Gate(_) | Item::Stage(_)));
            // Blocks always stand apart; other items keep the author's grouping.
            if prev.is_some() && (is_block || prev_block) {
                self.blank();
            }
            self.flush_before(span.start, 0);
            self.item(item);
            self.trailing(span.end);
            prev = Some((item, span.end));
        }
        self.flush_before(usize::MAX, 0);
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Stages(s) => {
                let names: Vec<&str> = s.path.iter().map(|i| i.name.as_str()).collect();
                self.line(0, &format!("stages {}", names.join(" -> ")));
            }
            Item::Import(i) => {
                let path = self.snippet(i.path.span);
                self.line(0, &format!("import {path}"));
            }
            Item::Param(b) => self.binding(0, "param", b),
            Item::Let(b) => self.binding(0, "let", b),
            Item::Def(d) => {
                let params: Vec<&str> = d.params.iter().map(|p| p.name.as_str()).collect();
                let head = format!("def {}({}) =", d.name.name, params.join(", "));
                self.expr_line(0, &head, &d.body);
            }
            Item::Stage(s) => self.stage(s),
            Item::Gate(g) => self.gate(g),
            Item::Waive(w) => self.waiver(w),
        }
    }

    fn binding(&mut self, indent: usize, keyword: &str, b: &Binding) {
        self.flush_before(b.span.start, indent);
        let head = format!("{keyword} {} =", b.name.name);
        self.expr_line(indent, &head, &b.value);
        self.trailing(b.span.end);
    }

    fn stage(&mut self, s: &StageDecl) {
        self.line(0, &format!("stage {} {{", s.name.name));
        self.last_end = Some(s.name.span.end);
        // `purpose` and `risk` lines in the order written, so each keeps
        // the comments around it.
        let mut heads: Vec<(&str, &Str)> = s.purpose.iter().map(|p| ("purpose", p)).collect();
        heads.extend(s.risks.iter().map(|r| ("risk", r)));
        heads.sort_by_key(|(_, s)| s.span.start);
        for (keyword, text) in heads {
            self.keyword_string(1, keyword, text);
        }
        for l in &s.lets {
            self.binding(1, "let", l);
        }
        for t in &s.triggers {
            self.blank_if_needed();
            self.rule(t, "rollback");
        }
        self.close(s.span.end, 0);
    }

    fn blank_if_needed(&mut self) {
        if !self.out.ends_with("{\n") {
            self.blank();
        }
    }

    fn gate(&mut self, g: &GateDecl) {
        self.line(0, &format!("gate {} -> {} {{", g.from.name, g.to.name));
        self.last_end = Some(g.to.span.end);
        // `subject` and `level` lines in the order written (see `stage`).
        let subject_at = g.subject.as_ref().map(|e| e.span.start);
        let mut subject_done = false;
        for l in &g.levels {
            if let (Some(at), Some(subject)) = (subject_at, &g.subject) {
                if !subject_done && at < l.span.start {
                    self.clause(1, "subject", subject);
                    subject_done = true;
                }
            }
            self.keyword_string(1, "level", l);
        }
        if let (false, Some(subject)) = (subject_done, &g.subject) {
            self.clause(1, "subject", subject);
        }
        for l in &g.lets {
            self.binding(1, "let", l);
        }
        for r in &g.rules {
            self.blank_if_needed();
            self.rule(r, "rule");
        }
        self.close(g.span.end, 0);
    }

    fn rule(&mut self, r: &RuleDecl, keyword: &str) {
        self.flush_before(r.span.start, 1);
        let advisory = if r.advisory { " advisory" } else { "" };
        self.line(1, &format!("{keyword} {}{advisory} {{", r.name.name));
        self.last_end = Some(r.name.span.end);
        let (mut whens, mut requires, mut lets) =
            (r.whens.iter(), r.requires.iter(), r.lets.iter());
        for kind in &r.order {
            match kind {
                RuleItemKind::Title => {
                    if let Some(t) = &r.title {
                        self.keyword_string(2, "title", t);
                    }
                }
                RuleItemKind::Help => {
                    if let Some(h) = &r.help {
                        self.keyword_string(2, "help", h);
                    }
                }
                RuleItemKind::When => {
                    if let Some(e) = whens.next() {
                        self.clause(2, "when", e);
                    }
                }
                RuleItemKind::Require => {
                    if let Some(e) = requires.next() {
                        self.clause(2, "require", e);
                    }
                }
                RuleItemKind::Let => {
                    if let Some(l) = lets.next() {
                        self.binding(2, "let", l);
                    }
                }
            }
        }
        self.close(r.span.end, 1);
    }

    fn keyword_string(&mut self, indent: usize, keyword: &str, s: &Str) {
        self.flush_before(s.span.start, indent);
        let text = format!("{keyword} {}", self.snippet(s.span));
        self.line(indent, &text);
        self.trailing(s.span.end);
    }

    fn clause(&mut self, indent: usize, keyword: &str, e: &Expr) {
        self.flush_before(e.span.start, indent);
        self.expr_line(indent, keyword, e);
        self.trailing(e.span.end);
    }

    fn waiver(&mut self, w: &WaiverDecl) {
        let mut parts = vec![format!(
            "waive {} -> {} {} until {}",
            w.from.name,
            w.to.name,
            w.rule.name,
            self.snippet(w.until.span)
        )];
        parts.push(format!("reason {}", self.snippet(w.reason.span)));
        if let Some(o) = &w.owner {
            parts.push(format!("owner {}", self.snippet(o.span)));
        }
        if let Some(t) = &w.ticket {
            parts.push(format!("ticket {}", self.snippet(t.span)));
        }
        let one = parts.join(" ");
        if one.len() <= WIDTH {
            self.line(0, &one);
        } else {
            let mut it = parts.into_iter();
            if let Some(first) = it.next() {
                self.line(0, &first);
            }
            for p in it {
                self.line(1, &p);
            }
        }
    }

    /// `head expr`, broken over lines when it is too long.
    fn expr_line(&mut self, indent: usize, head: &str, e: &Expr) {
        let col = indent * INDENT.len() + head.len() + 1;
        let text = layout(self, e, indent, col);
        if !text.contains('\n') && col + text.len() > WIDTH {
            // Nothing to break at: move the whole expression to its own line.
            let below = layout(self, e, indent + 1, (indent + 1) * INDENT.len());
            self.line(indent, head);
            self.line(indent + 1, &below);
        } else {
            self.line(indent, &format!("{head} {text}"));
        }
    }

    // ───── expressions ─────

    fn expr(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_) => self.snippet(e.span).to_string(),
            ExprKind::List(items) => {
                let items: Vec<String> = items.iter().map(|i| self.expr(i)).collect();
                format!("[{}]", items.join(", "))
            }
            ExprKind::Object(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.key(k), self.expr(v)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
            ExprKind::Name(n) => n.clone(),
            ExprKind::Field(base, f) => format!("{}.{}", self.expr(base), f.name),
            ExprKind::Index(base, i) => format!("{}[{}]", self.expr(base), self.expr(i)),
            ExprKind::Call(name, args) => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{}({})", name.name, args.join(", "))
            }
            ExprKind::Unary(UnaryOp::Not, x) => format!("not {}", self.expr(x)),
            ExprKind::Unary(UnaryOp::Neg, x) => format!("-{}", self.expr(x)),
            ExprKind::Binary(op, l, r) => {
                format!("{} {} {}", self.expr(l), op.symbol(), self.expr(r))
            }
            ExprKind::Exists(x) => format!("exists {}", self.expr(x)),
            ExprKind::Paren(x) => format!("({})", self.expr(x)),
            ExprKind::If(c, t, f) => format!(
                "if {} then {} else {}",
                self.expr(c),
                self.expr(t),
                self.expr(f)
            ),
            ExprKind::Quantifier(q) => format!(
                "{} {} in {}: {}",
                q.kind.keyword(),
                vars(&q.vars),
                self.expr(&q.collection),
                self.expr(&q.body)
            ),
            ExprKind::Comprehension(c) => {
                let filter = c
                    .filter
                    .as_ref()
                    .map(|f| format!(" if {}", self.expr(f)))
                    .unwrap_or_default();
                format!(
                    "[{} for {} in {}{filter}]",
                    self.expr(&c.element),
                    vars(&c.vars),
                    self.expr(&c.collection)
                )
            }
        }
    }

    /// An object key: as written when it was a string, bare when it was a name.
    fn key(&self, k: &Ident) -> String {
        let written = self.snippet(k.span);
        if written.starts_with('"') {
            written.to_string()
        } else {
            k.name.clone()
        }
    }
}

fn vars(vars: &[Ident]) -> String {
    vars.iter()
        .map(|v| v.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The chain of operands of a left-associative `and`/`or`.
fn chain<'e>(e: &'e Expr, op: BinaryOp, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary(o, l, r) if *o == op => {
            chain(l, op, out);
            out.push(r);
        }
        _ => out.push(e),
    }
}

/// Lays out `e` starting at column `col`, breaking lines at `indent + 1`
/// levels when it does not fit.
fn layout(p: &Printer<'_>, e: &Expr, indent: usize, col: usize) -> String {
    if p.has_comment_in(e.span) {
        match &e.kind {
            ExprKind::List(items) if !items.is_empty() => {
                let entries: Vec<(Span, String)> = items
                    .iter()
                    .map(|i| {
                        (
                            i.span,
                            layout(p, i, indent + 1, (indent + 1) * INDENT.len()),
                        )
                    })
                    .collect();
                return p.commented_entries("[", "]", e.span, &entries, indent);
            }
            ExprKind::Object(fields) if !fields.is_empty() => {
                let entries: Vec<(Span, String)> = fields
                    .iter()
                    .map(|(k, v)| {
                        let key = format!("{}: ", p.key(k));
                        let col = (indent + 1) * INDENT.len() + key.len();
                        let span = Span {
                            end: v.span.end,
                            ..k.span
                        };
                        (span, format!("{key}{}", layout(p, v, indent + 1, col)))
                    })
                    .collect();
                return p.commented_entries("{", "}", e.span, &entries, indent);
            }
            // `x == [1, # one` : the literal inside keeps its comments.
            ExprKind::Binary(op, l, r) if !matches!(op, BinaryOp::And | BinaryOp::Or) => {
                let left = layout(p, l, indent, col);
                let sym = op.symbol();
                let last = left.rsplit('\n').next().unwrap_or(&left).len();
                let right = layout(p, r, indent, last + sym.len() + 2);
                return format!("{left} {sym} {right}");
            }
            _ => {}
        }
    }
    let flat = p.expr(e);
    if col + flat.len() <= WIDTH {
        return flat;
    }
    let inner = indent + 1;
    let pad = INDENT.repeat(inner);
    match &e.kind {
        ExprKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), _, _) => {
            let mut parts = Vec::new();
            chain(e, *op, &mut parts);
            let mut out = String::new();
            for (i, part) in parts.iter().enumerate() {
                if i == 0 {
                    out.push_str(&layout(p, part, inner, col));
                } else {
                    let prefix = format!("{} ", op.symbol());
                    out.push('\n');
                    out.push_str(&pad);
                    out.push_str(&prefix);
                    out.push_str(&layout(p, part, inner, pad.len() + prefix.len()));
                }
            }
            out
        }
        ExprKind::List(items) if !items.is_empty() => {
            let close = INDENT.repeat(indent);
            let mut out = String::from("[\n");
            for item in items {
                out.push_str(&pad);
                out.push_str(&layout(p, item, inner, pad.len()));
                out.push_str(",\n");
            }
            out.push_str(&close);
            out.push(']');
            out
        }
        ExprKind::Object(entries) if !entries.is_empty() => {
            let close = INDENT.repeat(indent);
            let mut out = String::from("{\n");
            for (k, v) in entries {
                let key = format!("{}: ", p.key(k));
                out.push_str(&pad);
                out.push_str(&key);
                out.push_str(&layout(p, v, inner, pad.len() + key.len()));
                out.push_str(",\n");
            }
            out.push_str(&close);
            out.push('}');
            out
        }
        ExprKind::Quantifier(q) => {
            let head = format!(
                "{} {} in {}:",
                q.kind.keyword(),
                vars(&q.vars),
                p.expr(&q.collection)
            );
            format!("{head}\n{pad}{}", layout(p, &q.body, inner, pad.len()))
        }
        _ => flat,
    }
}

/// Formats policy text. Fails only when the text does not parse.
pub fn format_source(text: &str) -> Result<String, SyntaxError> {
    format_source_with(text, crate::limits::DEFAULT.expr_depth)
}

/// [`format_source`], refusing expressions deeper than `max_expr_depth`
/// (`--max-expr-depth`), as `check` would.
pub fn format_source_with(text: &str, max_expr_depth: usize) -> Result<String, SyntaxError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let file = crate::syntax::parse_file_with(FileId(0), text, max_expr_depth)?;
    refuse_repeated_clauses(&file)?;
    let mut p = Printer {
        src: text,
        comments: comments(text),
        next_comment: 0,
        used: Default::default(),
        out: String::new(),
        last_end: None,
    };
    p.file(&file);
    let mut out = p.out.trim_end().to_string();
    out.push('\n');
    Ok(out)
}

/// The AST keeps one `title`, `help`, `purpose`, `owner` or `ticket` per
/// block, so printing a block that has two would silently drop the second
/// one's text. Refuse instead: the author decides which one is true.
fn refuse_repeated_clauses(file: &PolicyFile) -> Result<(), SyntaxError> {
    let rules = |rules: &[RuleDecl]| -> Vec<Repeated> {
        rules
            .iter()
            .flat_map(|r| r.repeated.iter().cloned())
            .collect()
    };
    let mut repeated: Vec<Repeated> = Vec::new();
    for item in &file.items {
        match item {
            Item::Stage(s) => {
                repeated.extend(s.repeated.iter().cloned());
                repeated.extend(rules(&s.triggers));
            }
            Item::Gate(g) => {
                repeated.extend(g.repeated.iter().cloned());
                repeated.extend(rules(&g.rules));
            }
            Item::Waive(w) => repeated.extend(w.repeated.iter().cloned()),
            _ => {}
        }
    }
    match repeated.into_iter().min_by_key(|r| r.span.start) {
        Some(second) => Err(SyntaxError::Invalid {
            message: format!(
                "a second `{}` where only one is allowed; remove one before formatting (fmt keeps every word you wrote)",
                second.clause
            ),
            span: second.span,
        }),
        None => Ok(()),
    }
}

/// A unified diff from `old` to `new` (what `fmt --check` prints), in time
/// about linear in the files' size whatever changed.
///
/// Myers' algorithm costs (lines × differences): on a large file whose
/// every line formatting moves, that is quadratic (a 1 MB policy took 37 s).
/// When the lines the two sides have in common (after the shared first and
/// last lines) show that more than [`DIFF_DETAIL_LIMIT`] lines differ, the
/// differing middle is printed as one hunk that removes it and adds its
/// replacement, which is what a detailed diff of it would mostly say; the
/// output is the same on every machine.
pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let header = format!("{name} (formatted)");
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old_lines[prefix..]
        .iter()
        .rev()
        .zip(new_lines[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old_lines[prefix..old_lines.len() - suffix];
    let new_mid = &new_lines[prefix..new_lines.len() - suffix];
    let mut counts: std::collections::HashMap<&str, isize> = std::collections::HashMap::new();
    for l in old_mid {
        *counts.entry(l).or_default() += 1;
    }
    let mut common = 0usize;
    for l in new_mid {
        if let Some(c) = counts.get_mut(l).filter(|c| **c > 0) {
            *c -= 1;
            common += 1;
        }
    }
    let at_least_differing = old_mid.len() + new_mid.len() - 2 * common;
    if at_least_differing <= DIFF_DETAIL_LIMIT {
        return similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(name, &header)
            .to_string();
    }
    // One hunk: three lines of context either side of the differing middle.
    let before = prefix.min(3);
    let after = suffix.min(3);
    let start = prefix - before;
    let old_end = old_lines.len() - suffix + after;
    let new_end = new_lines.len() - suffix + after;
    let range = |start: usize, end: usize| {
        let len = end - start;
        if len == 0 {
            format!("{start},0")
        } else {
            format!("{},{len}", start + 1)
        }
    };
    let mut out = format!(
        "--- {name}\n+++ {header}\n@@ -{} +{} @@\n",
        range(start, old_end),
        range(start, new_end)
    );
    let mut line = |sign: char, l: &str| {
        out.push(sign);
        out.push_str(l);
        if !l.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    };
    for l in &old_lines[start..prefix] {
        line(' ', l);
    }
    for l in old_mid {
        line('-', l);
    }
    for l in new_mid {
        line('+', l);
    }
    for l in &old_lines[old_lines.len() - suffix..old_end] {
        line(' ', l);
    }
    out
}

/// Past this many differing lines, [`unified_diff`] shows the differing
/// middle as one hunk instead of line by line.
pub const DIFF_DETAIL_LIMIT: usize = 2_000;

/// One expression in canonical form on one line (for `clearance explain`).
pub fn expr_text(source: &str, e: &Expr) -> String {
    let p = Printer {
        src: source,
        comments: Vec::new(),
        next_comment: 0,
        used: Default::default(),
        out: String::new(),
        last_end: None,
    };
    p.expr(e)
}

#[cfg(test)]
mod tests {
    // Test helpers may panic: a failing assertion is how a test reports.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// Applies a unified diff to `old` (enough of `patch(1)` for ours).
    fn apply(old: &str, diff: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut at = 0usize;
        let mut lines = diff.lines().skip(2).peekable();
        while let Some(h) = lines.next() {
            let start: usize = h
                .trim_start_matches("@@ -")
                .split([',', ' '])
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let start = start.saturating_sub(1).max(at);
            for l in &old_lines[at..start] {
                out.push_str(l);
            }
            at = start;
            while let Some(l) = lines.next_if(|l| !l.starts_with("@@")) {
                match l.split_at(1) {
                    (" ", rest) => {
                        out.push_str(rest);
                        out.push('\n');
                        at += 1;
                    }
                    ("-", _) => at += 1,
                    ("+", rest) => {
                        out.push_str(rest);
                        out.push('\n');
                    }
                    _ => {}
                }
            }
        }
        for l in &old_lines[at..] {
            out.push_str(l);
        }
        out
    }

    fn policy(rules: usize, indent: &str) -> String {
        let mut s = String::from("stages a -> b\ngate a -> b {\n");
        for i in 0..rules {
            s.push_str(&format!(
                "{indent}rule r{i} {{\n{indent}{indent}require evidence.x{i} == {i}\n{indent}}}\n"
            ));
        }
        s.push_str("}\n");
        s
    }

    #[test]
    fn small_diffs_are_similars_own() {
        let old = policy(20, "   ");
        let new = old.replacen("   rule r3", "  rule r3", 1);
        let ours = unified_diff(&old, &new, "p.clr");
        let theirs = similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header("p.clr", "p.clr (formatted)")
            .to_string();
        assert_eq!(ours, theirs);
        assert_eq!(apply(&old, &ours), new);
    }

    #[test]
    fn a_diff_of_everything_is_one_hunk_that_applies() {
        // Every rule line moves: thousands of differing lines.
        let old = policy(3_000, "   ");
        let new = policy(3_000, "  ");
        let diff = unified_diff(&old, &new, "p.clr");
        assert_eq!(diff.lines().filter(|l| l.starts_with("@@")).count(), 1);
        assert_eq!(apply(&old, &diff), new);
        assert!(
            diff.starts_with("--- p.clr\n+++ p.clr (formatted)\n@@ -1,"),
            "{}",
            &diff[..80]
        );
    }
}
