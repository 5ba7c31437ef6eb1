//! Text patterns: regular expressions (linear time, size-limited) and globs.

use super::{checked, sig, Args, Builtin};
use crate::check::{ArgTy, Ty};
use crate::eval::error::EvalError;
use crate::eval::value::Value;
use globset::{Glob, GlobBuilder, GlobMatcher};
use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use std::cell::RefCell;
use std::collections::HashMap;

/// Largest compiled regex accepted, in bytes (regex's own size accounting).
pub const MAX_REGEX_SIZE: usize = crate::limits::DEFAULT.regex_bytes;

/// Most heap the compiled-regex cache of one evaluation holds.
pub const MAX_CACHED_REGEX_BYTES: usize = 64 * 1024 * 1024;

/// Budget steps charged for compiling a regex: a fixed cost, plus one step
/// for every 4 bytes the compiled form holds (compiling takes about as long
/// per byte as evaluation takes per step). Compiling is the expensive
/// part of a regex that is used once, so a condition that compiles many
/// distinct patterns from evidence runs out of budget (an `error`) instead
/// of running for minutes.
fn compile_steps(re: &Regex) -> u64 {
    10_000 + re.memory_usage() as u64 / 4
}

/// Compiled patterns of one evaluation, so a regex in a quantifier body is
/// compiled once, not once per element; and the limits that apply to values
/// builtins produce.
#[derive(Default)]
pub struct Cache {
    regexes: RefCell<HashMap<String, Regex>>,
    /// Heap bytes the cached regexes hold: past [`MAX_CACHED_REGEX_BYTES`]
    /// the cache starts over, so distinct patterns from evidence cannot
    /// accumulate without bound.
    regex_bytes: std::cell::Cell<usize>,
    globs: RefCell<HashMap<String, GlobMatcher>>,
    pub(crate) limits: crate::limits::Limits,
}

impl Cache {
    pub fn new(limits: crate::limits::Limits) -> Self {
        Cache {
            limits,
            ..Cache::default()
        }
    }
}

pub(super) fn builtins() -> Vec<Builtin> {
    vec![
        Builtin {
            sig: checked(
                sig("matches", &[("text", ArgTy::Str), ("regex", ArgTy::Str)], 0, Ty::Bool),
                |i, s| if i == 1 { compile_regex(s).map(|_| ()) } else { Ok(()) },
            ),
            doc: "True when the regular expression matches somewhere in the text (anchor with `^...$` for a whole match). The engine runs in linear time (no backtracking) and refuses patterns that compile to more than 1 MiB. A literal pattern is checked when the policy compiles; a pattern read from evidence is compiled once per evaluation, and compiling it is charged to the evaluation budget by its compiled size.\n\n    matches(evidence.artifact.version, \"^[0-9]+\\\\.[0-9]+\\\\.[0-9]+$\")",
            run: matches,
        },
        Builtin {
            sig: checked(
                sig("glob", &[("text", ArgTy::Str), ("pattern", ArgTy::Str)], 0, Ty::Bool),
                |i, s| if i == 1 { compile_glob(s).map(|_| ()) } else { Ok(()) },
            ),
            doc: "True when the whole text matches the glob: `*` any run of characters except `/`, `**` any run including `/`, `?` one character, `[abc]` a class, `{a,b}` alternatives.\n\n    glob(evidence.artifact.image, \"registry.example.com/payments/*\")",
            run: glob,
        },
    ]
}

pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    compile_regex_limited(pattern, MAX_REGEX_SIZE)
}

pub(crate) fn compile_regex_limited(pattern: &str, limit: usize) -> Result<Regex, String> {
    // The configuration `regex::RegexBuilder` uses (leftmost-first, UTF-8,
    // its size limits), built with regex-automata's meta engine directly
    // because it reports how much memory a compiled regex holds.
    let config = meta::Config::new()
        .nfa_size_limit(Some(limit))
        .hybrid_cache_capacity(limit)
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(true);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax::Config::new().utf8(true))
        .build(pattern)
        .map_err(|e| match (e.size_limit(), e.syntax_error()) {
            (Some(limit), _) => {
                format!("the regex compiles to more than {limit} bytes (the limit is `--max-regex-bytes`)")
            }
            (None, Some(syntax)) => format!("invalid regex: {syntax}"),
            (None, None) => format!("invalid regex: {e}"),
        })
}

/// A glob over text; `*` stops at `/` like a shell glob over paths.
pub(crate) fn compile_glob(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g: Glob| g.compile_matcher())
        .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
}

fn matches(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    let pattern = a.str(1)?;
    a.budget.charge(1 + text.len() as u64 / 64, a.call)?;
    let mut cache = a.cache.regexes.borrow_mut();
    if !cache.contains_key(pattern) {
        let re = compile_regex_limited(pattern, a.cache.limits.regex_bytes)
            .map_err(|m| a.invalid(1, m))?;
        a.budget.charge(compile_steps(&re), a.call)?;
        let held = a.cache.regex_bytes.get() + re.memory_usage() + pattern.len();
        if held > MAX_CACHED_REGEX_BYTES {
            cache.clear();
            a.cache.regex_bytes.set(re.memory_usage() + pattern.len());
        } else {
            a.cache.regex_bytes.set(held);
        }
        cache.insert(pattern.to_string(), re);
    }
    Ok(Value::Bool(
        cache.get(pattern).is_some_and(|re| re.is_match(text)),
    ))
}

fn glob(a: &Args<'_>) -> Result<Value, EvalError> {
    let text = a.str(0)?;
    let pattern = a.str(1)?;
    let mut cache = a.cache.globs.borrow_mut();
    if !cache.contains_key(pattern) {
        let g = compile_glob(pattern).map_err(|m| a.invalid(1, m))?;
        cache.insert(pattern.to_string(), g);
    }
    Ok(Value::Bool(
        cache.get(pattern).is_some_and(|g| g.is_match(text)),
    ))
}
