//! One scanner for what is code and what is not: string literals and `#`
//! comments. The parser's pre-checks, its span trimming and the formatter
//! all need the same answer, so they ask here.

/// A piece of source text outside string literals.
pub(crate) enum Piece {
    /// A character of code (not in a string, not in a comment) at a byte offset.
    Code(usize, char),
    /// A `#` comment: from its `#` to the end of its line (the newline excluded).
    Comment { start: usize, end: usize },
}

/// Calls `f` for every code character and every comment, in order. An
/// unterminated string ends at the end of its line, as the grammar says.
pub(crate) fn scan(text: &str, mut f: impl FnMut(Piece)) {
    let mut in_string = false;
    let mut escaped = false;
    let mut skip_until = 0usize;
    for (i, c) in text.char_indices() {
        if i < skip_until {
            continue;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => {
                let end = text
                    .get(i..)
                    .and_then(|t| t.find('\n'))
                    .map(|n| i + n)
                    .unwrap_or(text.len());
                f(Piece::Comment { start: i, end });
                skip_until = end;
            }
            _ => f(Piece::Code(i, c)),
        }
    }
}
