//! Drift between two configurations: the changed leaf paths.

use super::{checked, sig, Args, Builtin};
use crate::check::{ArgTy, Ty};
use crate::eval::error::EvalError;
use crate::eval::value::{Object, Value};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

pub(super) fn builtins() -> Vec<Builtin> {
    vec![Builtin {
        sig: checked(
            sig(
                "diff",
                &[("from", ArgTy::Any), ("to", ArgTy::Any), ("ignore", ArgTy::List)],
                1,
                Ty::List,
            ),
            |i, s| if i == 2 { ignore_glob(s).map(|_| ()) } else { Ok(()) },
        ),
        doc: "The leaf paths where `to` differs from `from`, each as `{path, kind, old, new}` with `kind` one of `added`, `removed`, `changed` (`old` is null for added paths, `new` for removed ones). Objects are compared key by key and lists index by index; a change of type is a change at that path. Paths are dotted (`feature_flags.new-checkout`, `servers.0.host`). `ignore` is a list of globs over paths: a path is left out when it or one of its parents matches (`\"endpoint.*\"`, `\"replicas\"`). A failing rule lists every drifted path with both values.\n\n    count(diff(evidence.config.staging, evidence.config.prod, [\"endpoint.*\", \"replicas\"])) <= 2",
        run: diff,
    }]
}

fn ignore_glob(pattern: &str) -> Result<Glob, String> {
    Glob::new(pattern).map_err(|e| format!("invalid ignore glob `{pattern}`: {}", e.kind()))
}

/// Compiled ignore sets, by their patterns, shared by every evaluation in
/// the process: `batch` and the service decide the same gate over many
/// bundles, and building a set (an Aho-Corasick automaton and a regex per
/// pattern) cost more than the rest of a small bundle's evaluation. A set
/// is a pure function of its patterns, and building one is not charged to
/// the evaluation budget, so sharing it changes no outcome. Bounded: at
/// most [`MAX_SHARED_SETS`] sets of at most [`MAX_SHARED_PATTERN_BYTES`]
/// each (larger ones, which only evidence could supply, are built per call).
static SHARED_SETS: OnceLock<Mutex<HashMap<Vec<String>, Arc<Ignore>>>> = OnceLock::new();
const MAX_SHARED_SETS: usize = 256;
const MAX_SHARED_PATTERN_BYTES: usize = 16 * 1024;

fn shared_set(
    patterns: &[String],
    build: impl FnOnce() -> Result<GlobSet, EvalError>,
) -> Result<Arc<Ignore>, EvalError> {
    let bytes: usize = patterns.iter().map(String::len).sum();
    if bytes > MAX_SHARED_PATTERN_BYTES {
        return build().map(|set| Arc::new(Ignore::new(patterns, set)));
    }
    let sets = SHARED_SETS.get_or_init(Default::default);
    // A poisoned lock (a panic elsewhere while holding it) only loses the
    // cache: the set is built here instead.
    if let Some(set) = sets.lock().ok().and_then(|m| m.get(patterns).cloned()) {
        return Ok(set);
    }
    let set = Arc::new(Ignore::new(patterns, build()?));
    if let Ok(mut map) = sets.lock() {
        if map.len() >= MAX_SHARED_SETS {
            map.clear();
        }
        map.insert(patterns.to_vec(), Arc::clone(&set));
    }
    Ok(set)
}

/// An ignore list, compiled.
struct Ignore {
    set: GlobSet,
    /// The same patterns as exact paths and path prefixes, when each is a
    /// plain string or a plain string and a final `*` (as `"replicas"` and
    /// `"endpoint.*"`): matched by comparing, where the set makes a
    /// candidate (an allocation) and runs its strategies for every path and
    /// parent the walk meets.
    plain: Option<Vec<Plain>>,
}

enum Plain {
    Exact(String),
    Prefix(String),
}

impl Ignore {
    fn new(patterns: &[String], set: GlobSet) -> Self {
        let plain = patterns.iter().map(|p| Plain::of(p)).collect();
        Ignore { set, plain }
    }

    fn is_match(&self, path: &str) -> bool {
        match &self.plain {
            // globset reads `\` as a separator on some systems: such a path
            // is left to it.
            Some(plain) if !path.contains('\\') => plain.iter().any(|p| match p {
                Plain::Exact(exact) => path == exact,
                Plain::Prefix(prefix) => path.starts_with(prefix.as_str()),
            }),
            _ => self.set.is_match(path),
        }
    }
}

impl Plain {
    /// `pattern` as a plain path or prefix, if it is one: no glob syntax
    /// but a final `*` (which matches any rest, dots and slashes included).
    fn of(pattern: &str) -> Option<Plain> {
        let syntax = |c: char| matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\');
        match pattern.strip_suffix('*') {
            Some(prefix) if !prefix.contains(syntax) => Some(Plain::Prefix(prefix.to_string())),
            _ if !pattern.contains(syntax) => Some(Plain::Exact(pattern.to_string())),
            _ => None,
        }
    }
}

struct Walk<'a> {
    ignore: Option<Arc<Ignore>>,
    out: Vec<Value>,
    args: &'a Args<'a>,
}

impl Walk<'_> {
    fn ignored(&self, path: &str) -> bool {
        let Some(set) = &self.ignore else {
            return false;
        };
        // A path is ignored when it or any parent matches.
        let mut prefix = path;
        loop {
            if set.is_match(prefix) {
                return true;
            }
            match prefix.rfind('.') {
                Some(i) => prefix = prefix.get(..i).unwrap_or(""),
                None => return false,
            }
        }
    }

    fn record(&mut self, path: &str, kind: &str, old: Option<&Value>, new: Option<&Value>) {
        let mut entry = Object::default();
        entry.insert(Rc::from("path"), Value::str(path));
        entry.insert(Rc::from("kind"), Value::str(kind));
        entry.insert(Rc::from("old"), old.cloned().unwrap_or(Value::Null));
        entry.insert(Rc::from("new"), new.cloned().unwrap_or(Value::Null));
        self.out.push(Value::Object(entry.into()));
    }

    fn walk(
        &mut self,
        path: &str,
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> Result<(), EvalError> {
        self.args.budget.charge(1, self.args.call)?;
        if !path.is_empty() && self.ignored(path) {
            return Ok(());
        }
        let join = |k: &str| {
            if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            }
        };
        match (old, new) {
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                for (k, v) in a.iter() {
                    self.walk(&join(k), Some(v), b.get(k))?;
                }
                for (k, v) in b.iter().filter(|(k, _)| !a.contains_key(k)) {
                    self.walk(&join(k), None, Some(v))?;
                }
            }
            (Some(Value::List(a)), Some(Value::List(b))) => {
                for i in 0..a.len().max(b.len()) {
                    self.walk(&join(&i.to_string()), a.get(i), b.get(i))?;
                }
            }
            (Some(a), Some(b)) => {
                if !a.deep_eq(b) {
                    self.record(path, "changed", Some(a), Some(b));
                }
            }
            (Some(a), None) => self.record(path, "removed", Some(a), None),
            (None, Some(b)) => self.record(path, "added", None, Some(b)),
            (None, None) => {}
        }
        Ok(())
    }
}

fn diff(a: &Args<'_>) -> Result<Value, EvalError> {
    let ignore = match a.values.get(2) {
        None => None,
        Some(Value::List(patterns)) => {
            let mut texts = Vec::with_capacity(patterns.len());
            for p in patterns.iter() {
                match p {
                    Value::Str(s) => texts.push(s.to_string()),
                    other => {
                        return Err(a.invalid(
                            2,
                            format!(
                                "ignore patterns are strings; got {} {}",
                                other.type_name(),
                                other.short(40)
                            ),
                        ))
                    }
                }
            }
            Some(shared_set(&texts, || {
                let mut builder = GlobSetBuilder::new();
                for s in &texts {
                    builder.add(ignore_glob(s).map_err(|m| a.invalid(2, m))?);
                }
                builder.build().map_err(|e| a.invalid(2, e.to_string()))
            })?)
        }
        Some(_) => return Err(a.type_error(2, "list of glob strings")),
    };
    let mut walk = Walk {
        ignore,
        out: Vec::new(),
        args: a,
    };
    walk.walk("", Some(a.get(0)?), Some(a.get(1)?))?;
    Ok(Value::list(walk.out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain patterns match exactly what globset matches them with, and
    /// any other pattern is left to globset.
    #[test]
    fn plain_patterns_match_as_globset_does() {
        let patterns = [
            "replicas",
            "endpoint.*",
            "*",
            "",
            "a.b",
            "x*",
            "a.*.c",
            "a?",
            "[ab]",
            "{a,b}",
            "a\\*",
            "**",
            "a/b*",
            "\u{e9}*",
            "a*b",
            "a.**",
            "!a",
            "a]",
            "a,b",
        ];
        let paths = [
            "replicas",
            "replicas.x",
            "xreplicas",
            "endpoint",
            "endpoint.",
            "endpoint.url",
            "endpoint.a.b",
            "a.b",
            "a.b.c",
            "a.x.c",
            "x",
            "xy",
            "",
            "a/b/c",
            "a/b",
            "\u{e9}",
            "\u{e9}t\u{e9}",
            "a\\b",
            "a*",
            "ab",
            "a",
            "b",
            "!a",
            "a]",
            "a,b",
        ];
        let mut plain = 0;
        for (i, first) in patterns.iter().enumerate() {
            for second in patterns.iter().skip(i) {
                let list = vec![first.to_string(), second.to_string()];
                let mut builder = GlobSetBuilder::new();
                for p in &list {
                    builder.add(ignore_glob(p).unwrap());
                }
                let set = builder.build().unwrap();
                let ignore = Ignore::new(&list, set.clone());
                plain += usize::from(ignore.plain.is_some());
                for path in paths {
                    assert_eq!(
                        ignore.is_match(path),
                        set.is_match(path),
                        "{list:?} on {path:?}"
                    );
                }
            }
        }
        assert!(plain > 20, "only {plain} lists were plain");
    }
}
