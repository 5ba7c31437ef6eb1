//! Text from policies, made safe for the output it goes into. Evidence
//! strings are shown JSON-escaped already; policy strings (titles, help,
//! waiver reasons, purposes) hold whatever their escapes wrote, so each
//! output format passes them through here.

use std::borrow::Cow;

/// Control characters (C0, DEL, C1) written as `\u{1b}`: a terminal or CI
/// log shows them instead of obeying them (an ESC sequence could recolour,
/// move the cursor or hide a line; a BEL rings).
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A Markdown table cell: printable, with `|` escaped so it cannot end the
/// cell and a backtick so it cannot open a code span (control characters,
/// newlines included, are already escaped).
pub fn md_cell(s: &str) -> String {
    printable(s).replace('|', "\\|").replace('`', "\\`")
}

/// Text inside HTML in Markdown (a `<summary>`): printable, `&`, `<` and
/// `>` as entities.
pub fn html_text(s: &str) -> String {
    printable(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Only the characters XML 1.0 allows (tab, LF, CR and everything from
/// U+0020 except U+FFFE and U+FFFF; surrogates cannot occur in a `str`):
/// a JUnit consumer refuses the whole report over one stray character.
pub fn xml_chars(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= '\u{20}' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| allowed(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(
            printable("\u{1b}[31mred\u{7}\0"),
            "\\u{1b}[31mred\\u{7}\\u{0}"
        );
        assert_eq!(printable("a\nb"), "a\\u{a}b");
        assert_eq!(printable("\u{9b}"), "\\u{9b}");
    }

    #[test]
    fn markdown_cells_keep_their_pipes() {
        assert_eq!(md_cell("a | b"), "a \\| b");
        assert_eq!(md_cell("run `make`"), "run \\`make\\`");
        assert_eq!(html_text("a<b & c>\n"), "a&lt;b &amp; c&gt;\\u{a}");
    }

    #[test]
    fn xml_drops_what_xml_forbids() {
        assert_eq!(xml_chars("ok\u{FFFE}\u{FFFF}\u{1}\tx"), "ok\tx");
        assert_eq!(xml_chars("é 漢"), "é 漢");
    }
}
