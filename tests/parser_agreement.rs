//! The fast parser (src/syntax/descent.rs) against the pest grammar it
//! stands in for: on every policy in the repository, and on texts made from
//! them by one small edit at many places (most of which do not parse), the
//! fast path either builds exactly the AST pest's lowering builds (spans and
//! depths included, compared by their `Debug` form) or leaves the text to
//! pest. It never accepts a text pest refuses. On the repository's own
//! policies that parse, it must not leave them to pest either: that is the
//! speed it exists for.

use clearance::syntax::{parse_file_fast, parse_file_reference, FileId, MAX_EXPR_DEPTH};
mod common;

fn all_policies() -> Vec<(String, String)> {
    let policies = common::repository_files(&["policies", "tests", "fuzz/regressions"], "clr");
    assert!(
        policies.len() > 400,
        "found only {} policies",
        policies.len()
    );
    policies
}

/// What the two parsers make of `text`: `Err` says how they disagree.
/// `Ok(true)` when the fast path built the AST, `Ok(false)` when it left
/// the text to pest.
fn agree(text: &str) -> Result<bool, String> {
    let fast = parse_file_fast(FileId(0), text, MAX_EXPR_DEPTH);
    let reference = parse_file_reference(FileId(0), text, MAX_EXPR_DEPTH);
    match (fast, reference) {
        (None, _) => Ok(false),
        (Some(fast), Ok(reference)) => {
            let (fast, reference) = (format!("{fast:#?}"), format!("{reference:#?}"));
            if fast == reference {
                Ok(true)
            } else {
                let line = fast
                    .lines()
                    .zip(reference.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                Err(format!(
                    "different trees, from line {line} of their Debug form:\nfast:\n{}\npest:\n{}",
                    fast.lines()
                        .skip(line.saturating_sub(8))
                        .take(16)
                        .collect::<Vec<_>>()
                        .join("\n"),
                    reference
                        .lines()
                        .skip(line.saturating_sub(8))
                        .take(16)
                        .collect::<Vec<_>>()
                        .join("\n"),
                ))
            }
        }
        (Some(_), Err(e)) => Err(format!("the fast path accepted a text pest refuses: {e}")),
    }
}

#[test]
fn every_policy_in_the_repository_parses_the_same_on_the_fast_path() {
    let mut failures = Vec::new();
    let (mut fast, mut valid) = (0, 0);
    for (name, text) in all_policies() {
        let valid_here = parse_file_reference(FileId(0), &text, MAX_EXPR_DEPTH).is_ok();
        valid += usize::from(valid_here);
        match agree(&text) {
            Ok(true) => fast += 1,
            // Valid, yet left to pest: allowed only where the fast path
            // gives up on purpose (an integer literal it cannot tell is
            // negated, a depth it leaves pest to report).
            Ok(false) if valid_here && !leaves_to_pest_on_purpose(&text) => {
                failures.push(format!("{name}: valid, but left to pest"))
            }
            Ok(false) => {}
            Err(why) => failures.push(format!("{name}: {why}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!("{fast} of {valid} valid on the fast path");
    assert!(
        valid > 100 && fast + 3 >= valid,
        "{fast} of {valid} valid policies on the fast path"
    );
}

/// `-9223372036854775808` (its digits alone do not fit), a tree as deep as
/// the limit, or U+FEFF past the start (pest's whitespace, not the span
/// trimming's).
fn leaves_to_pest_on_purpose(text: &str) -> bool {
    text.contains("9223372036854775808")
        || text.matches('(').count() > MAX_EXPR_DEPTH / 2
        || text.char_indices().any(|(i, c)| c == '\u{FEFF}' && i > 0)
}

/// Edits that make near-misses of valid text: each is tried at many
/// places of every valid policy.
const EDITS: &[&str] = &[
    "",
    " ",
    "\n",
    "-",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    "\"",
    "#",
    "=",
    "<",
    "!",
    "?",
    "not ",
    "in ",
    "and ",
    "all x in xs: ",
    "if ",
    "else ",
    "1",
    "1.",
    "e",
    "ms",
    "->",
    "\\",
    "_",
    "A",
];

#[test]
fn near_misses_of_every_policy_are_refused_or_parsed_the_same() {
    let mut failures = Vec::new();
    let mut tried = 0usize;
    let mut accepted = 0usize;
    for (name, text) in all_policies() {
        if parse_file_reference(FileId(0), &text, MAX_EXPR_DEPTH).is_err() || text.len() > 20_000 {
            continue;
        }
        // A few places in every policy, spread over its length, and a
        // different edit at each, so the whole table is run about 60 times
        // in all and the test stays within seconds in a debug build.
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let places = 24.min(boundaries.len());
        for k in 0..places {
            let at = boundaries[(k * 7919 + name.len()) % boundaries.len()];
            let edit = EDITS[(k + tried) % EDITS.len()];
            // Even edits insert; odd ones replace the next character.
            let next = text[at..].chars().next().map_or(0, char::len_utf8);
            let cut = if k % 2 == 0 { at } else { at + next };
            let mutated = format!("{}{edit}{}", &text[..at], &text[cut..]);
            tried += 1;
            match agree(&mutated) {
                Ok(true) => accepted += 1,
                Ok(false) => {}
                Err(why) => failures.push(format!("{name} with {edit:?} at byte {at}: {why}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Both outcomes were reached: some edits leave valid text, most do not.
    eprintln!("{accepted} of {tried} accepted");
    assert!(tried > 2_000, "only {tried} texts tried");
    assert!(
        accepted > 100 && accepted < tried,
        "{accepted} of {tried} accepted"
    );
}

/// The lexical corners where a hand-written scanner is most likely to
/// differ from the grammar, each as a whole policy.
#[test]
fn lexical_corners_parse_the_same() {
    let corners = [
        "1.e5",
        "1e5",
        "1E+5",
        "1e",
        "1.5",
        "5m30s",
        "5m30",
        "1h2",
        "500ms",
        "5mh",
        "0.5s",
        "x.y",
        "x . y",
        "x.Y_1",
        "x.1",
        "x[0][1].z",
        "-5",
        "- 5",
        "-5 # c\n + 1",
        "--5",
        "- -5",
        "-5.x",
        "-(5)",
        "-9223372036854775807",
        "a-b",
        "a - -b",
        "a ?? b ?? c",
        "a?b",
        "not a",
        "not not a",
        "a not in b",
        "not a in b",
        "a in b",
        "a notin b",
        "a == b == c",
        "a <= b",
        "a < = b",
        "a =< b",
        "a != b",
        "a ! = b",
        "f()",
        "f(a,)",
        "f(,)",
        "f (a)",
        "f\n(a)",
        "[]",
        "[a,]",
        "[,]",
        "[a, , b]",
        "[a for a in xs]",
        "[a for a, b in xs if a]",
        "[a for a in xs if]",
        "{}",
        "{a: 1,}",
        "{,}",
        "{\"k\": 1, true: 2, Up: 3}",
        "{a 1}",
        "all x in xs: x",
        "all x, y in xs: x or y",
        "any x in a ?? b: x",
        "none x in a == b: x",
        "all in xs: x",
        "if a then b else c",
        "if a then b",
        "exists a.b and c",
        "exists exists a",
        "exists (a)",
        "\"a\\u{41}\"",
        "\"\\q\"",
        "\"a\\\"b\"",
        "android",
        "in_x",
        "notX",
        "andy",
        "True",
        "nulls",
        "x_1",
        "_",
        "__x",
        "a.and",
        "a.true",
        "(a)",
        "((a))",
        "( a )",
        "a # c\n and b",
        "a # c  \n",
        "(a # c \n)",
        "a # \n # d\t\n",
        "a and # c\n b",
        "a\n.b",
        "#only a comment",
        "a -> b",
        "-all x in xs: x",
        "- if a then 1 else 2",
        "1 +",
        "* 2",
        "a % b / c",
        "é",
        "\"é\"",
        "a\u{FEFF}",
        // precedence: every pair of levels, both ways round
        "a or b and c",
        "a and b or c and d or e",
        "not a == b and c",
        "a + b * c - d",
        "a * b + c",
        "a - b - c",
        "a / b % c * d",
        "a ?? b + c ?? d",
        "a + b ?? c * d",
        "-a * -b",
        "a + b == c * d",
        "x.y[0] * 2 >= z ?? 1 and w in ws",
        "a not in b or c",
        "a and not b or not c",
        "a == b and c != d or e < f",
    ];
    let mut failures = Vec::new();
    for expr in corners {
        let text =
            format!("stages a -> b\ngate a -> b {{\n  rule r {{\n    require {expr}\n  }}\n}}\n");
        failures.extend(disagreement(&text).map(|why| format!("require {expr:?}: {why}")));
    }
    let items = [
        "stages a->b->c", "stages a - > b", "stages a", "stages a-b -> c_d", "stages A -> b",
        "stage a { purpose \"p\" purpose \"q\" risk \"r\" let x = 1 rollback r { require x } }",
        "stage a-> { }", "param p = 1 let l = p def f(a, b,) = a def g() = 1 def h(,) = 1",
        "import \"x.clr\"", "import x",
        "gate a -> b { subject s subject t level \"l\" let x = 1 rule r advisory { title \"t\" title \"u\" help \"h\" help \"i\" when x require x let y = 2 } }",
        "gate a -> b { rule advisory advisory { } rule r_s { } }", "gate a -> b { rule r-1 { } }",
        "waive a -> b r until 2026-12-31 reason \"x\" owner \"o\" owner \"p\" ticket \"t\"",
        "waive a -> b r until 2026-12-31T00:00:00Z reason \"x\"",
        "waive a -> b r until \"2026-12-31\" reason \"x\"", "waive a -> b r until 2026-12-3 reason \"x\"",
        "waive a -> b r until 2026-12-31T reason \"x\"", "waive a -> b r until 2026-12-31x reason \"x\"",
        "\u{FEFF}stages a -> b", "stages a -> b\r\n", "stages a -> b # end", "",
    ];
    for item in items {
        failures.extend(disagreement(item).map(|why| format!("{item:?}: {why}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// How the parsers disagree on `text`, counting a valid text the fast path
/// leaves to pest unless it gives that text up on purpose.
fn disagreement(text: &str) -> Option<String> {
    match agree(text) {
        Err(why) => Some(why),
        Ok(false)
            if parse_file_reference(FileId(0), text, MAX_EXPR_DEPTH).is_ok()
                && !leaves_to_pest_on_purpose(text) =>
        {
            Some("valid, but left to pest".into())
        }
        Ok(_) => None,
    }
}
