//! The policy directory the service decides with: every `.clr` file under
//! it (hidden entries such as a ConfigMap's `..data` skipped, symlinks
//! followed), compiled, and recompiled when the directory's content
//! changes. A policy that stops compiling keeps its last good version; the
//! error is reported by `/readyz`, `/metrics` and the log. Each request
//! takes the set current when it starts (an `Arc`), so it finishes on the
//! version it started with however often the set is replaced meanwhile.

use crate::check::Program;
use crate::limits::Limits;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One compiled policy.
pub struct Policy {
    pub program: Program,
    /// The policy digest of TRUST.md section 3 (the policy and its imports).
    pub sha256: String,
}

/// Every policy, by its path under the directory (`payments/policy.clr`).
#[derive(Default)]
pub struct PolicySet {
    pub policies: BTreeMap<String, Arc<Policy>>,
    /// Files that do not compile now, with the first line of the error.
    pub errors: BTreeMap<String, String>,
    /// The content fingerprint this set was built from.
    pub fingerprint: String,
}

/// The `.clr` files under `dir` (relative paths, sorted), skipping hidden
/// entries and `target/`; each real directory is walked once.
fn policy_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    walk(dir, dir, &mut out, &mut seen);
    out.sort();
    out
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
    seen: &mut std::collections::HashSet<PathBuf>,
) {
    let Ok(real) = std::fs::canonicalize(dir) else {
        return;
    };
    if !seen.insert(real) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = e.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, out, seen);
        } else if meta.is_file() && name.ends_with(".clr") {
            if let Ok(rel) = path.strip_prefix(root) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
}

/// What the directory holds now: every `.clr` path with its content hash.
/// Cheap next to a compile, and it sees a ConfigMap swap (the symlink now
/// leads to other files) as well as an edit in place.
pub fn fingerprint(dir: &Path) -> String {
    let mut h = Sha256::new();
    for (rel, path) in policy_files(dir) {
        h.update(rel.as_bytes());
        h.update([0]);
        match std::fs::read(&path) {
            Ok(bytes) => h.update(Sha256::digest(&bytes)),
            Err(_) => h.update(b"unreadable"),
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl PolicySet {
    /// Compiles the directory; a file that does not compile keeps its
    /// version from `previous`, if it had one.
    pub fn load(dir: &Path, limits: &Limits, previous: Option<&PolicySet>) -> PolicySet {
        let fingerprint = fingerprint(dir);
        let mut set = PolicySet {
            fingerprint,
            ..PolicySet::default()
        };
        for (rel, path) in policy_files(dir) {
            match crate::compile_path_named(&path, &rel, &[], limits) {
                Ok(program) => {
                    // Files without a gate are libraries for imports, not
                    // policies a request can name.
                    if program.gates.is_empty() {
                        continue;
                    }
                    let sha256 = policy_digest(&program);
                    set.policies
                        .insert(rel, Arc::new(Policy { program, sha256 }));
                }
                Err(failure) => {
                    let first = crate::report::render_compile_failure(
                        &failure,
                        crate::report::Style {
                            color: false,
                            width: 100,
                        },
                    );
                    let summary = failure
                        .errors
                        .first()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| first.lines().next().unwrap_or_default().to_string());
                    if let Some(old) = previous.and_then(|p| p.policies.get(&rel)) {
                        set.policies.insert(rel.clone(), old.clone());
                    }
                    set.errors.insert(rel, summary);
                }
            }
        }
        set
    }
}

/// TRUST.md section 3's policy digest of a compiled program.
fn policy_digest(program: &Program) -> String {
    let files: Vec<(String, String)> = program
        .sources
        .files()
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                Sha256::digest(f.text.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    crate::sign::statement::policy_digest_of(&pairs)
}
