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

#[cfg(test)]
mod tests {
    use super::*;

    /// The code characters and the comments of `text`, as strings.
    fn pieces(text: &str) -> (String, Vec<&str>) {
        let mut code = String::new();
        let mut comments = Vec::new();
        scan(text, |p| match p {
            Piece::Code(_, c) => code.push(c),
            Piece::Comment { start, end } => comments.push(&text[start..end]),
        });
        (code, comments)
    }

    #[test]
    fn strings_and_their_quotes_are_neither_code_nor_comments() {
        let (code, comments) = pieces("a = \"x # not a comment\" # real\nb");
        assert_eq!(code, "a =  \nb");
        assert_eq!(comments, ["# real"]);
    }

    #[test]
    fn escaped_quotes_stay_inside_the_string() {
        let (code, comments) = pieces(r#"f("a \" ( # b") + 1"#);
        assert_eq!(code, "f() + 1");
        assert!(comments.is_empty());
    }

    #[test]
    fn an_unterminated_string_ends_at_its_line() {
        // The newline closes the string and belongs to it.
        let (code, _) = pieces("\"open ( \n(x)");
        assert_eq!(code, "(x)");
    }

    #[test]
    fn a_comment_at_the_end_of_the_file_has_no_newline() {
        let (code, comments) = pieces("x # last");
        assert_eq!(code, "x ");
        assert_eq!(comments, ["# last"]);
    }

    #[test]
    fn offsets_are_byte_offsets() {
        let mut offsets = Vec::new();
        scan("é(", |p| {
            if let Piece::Code(i, c) = p {
                offsets.push((i, c));
            }
        });
        assert_eq!(offsets, [(0, 'é'), (2, '(')]);
    }
}
