//! Reading policies from disk: the root file, its imports (confined to the
//! root's directory tree), and waiver files.

use crate::check::{self, CheckError, Program};
use crate::syntax::ast::{Item, PolicyFile};
use crate::syntax::{parse_file_with, SourceMap, Span, SyntaxError};
use miette::Diagnostic;
use std::path::{Path, PathBuf};

use crate::evidence::source::{bounded, io_reason, is_fifo};
use crate::limits::Limits;

/// Anything that stops a policy from compiling.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
pub enum CompileError {
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(code(clearance::io))]
    Io { path: String, reason: String },
    /// a policy file over `--max-policy-bytes` or `--max-policy-lines`
    #[error("`{path}` has {actual} {what}, over the limit of {limit}")]
    #[diagnostic(
        code(clearance::limit::policy_size),
        help("raise it with `{flag}` if this policy is legitimately this large")
    )]
    Limit {
        path: String,
        what: &'static str,
        actual: u64,
        limit: u64,
        flag: &'static str,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Syntax(#[from] SyntaxError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Check(#[from] CheckError),
}

impl CompileError {
    pub fn span(&self) -> Option<Span> {
        match self {
            CompileError::Io { .. } | CompileError::Limit { .. } => None,
            CompileError::Syntax(e) => Some(e.span()),
            CompileError::Check(e) => Some(e.span()),
        }
    }

    /// The stable code of this error, e.g. `clearance::check::unknown_name`.
    pub fn code(&self) -> String {
        self.code_string()
    }

    fn code_string(&self) -> String {
        Diagnostic::code(self)
            .map(|c| c.to_string())
            .unwrap_or_else(|| "clearance::error".into())
    }
}

/// A failed compilation: every error, with the sources they point into.
#[derive(Debug)]
pub struct CompileFailure {
    pub sources: SourceMap,
    pub errors: Vec<CompileError>,
}

/// Reads one policy (or import, or waivers) file within the size and line
/// limits: a regular file or a pipe (`check <(...)`), never a directory or a
/// device (`/dev/zero` would never end); the byte limit holds however the
/// file grows while it is read.
pub fn read_policy(path: &Path, display: &str, limits: &Limits) -> Result<String, CompileError> {
    read_policy_file(path, display, limits, true)
}

/// [`read_policy`]; with `allow_pipe` false, only a regular file: an
/// import or a waivers file that is a FIFO nobody writes would block
/// forever on open.
fn read_policy_file(
    path: &Path,
    display: &str,
    limits: &Limits,
    allow_pipe: bool,
) -> Result<String, CompileError> {
    let io = |reason: String| CompileError::Io {
        path: display.to_string(),
        reason,
    };
    let over = |actual: u64| CompileError::Limit {
        path: display.to_string(),
        what: "bytes",
        actual,
        limit: limits.policy_bytes,
        flag: "--max-policy-bytes",
    };
    let meta = std::fs::metadata(path).map_err(|e| io(io_reason(&e)))?;
    if meta.is_dir() {
        return Err(io("it is a directory, not a policy file".into()));
    }
    if is_fifo(&meta) && !allow_pipe {
        return Err(io(
            "it is a named pipe, not a policy file (only the policy on the command line may be a pipe)".into(),
        ));
    }
    if !meta.is_file() && !is_fifo(&meta) {
        return Err(io("it is a device or socket, not a policy file".into()));
    }
    if meta.len() > limits.policy_bytes {
        return Err(over(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| io(io_reason(&e)))?;
    let bytes = bounded(file, limits.policy_bytes, meta.len()).map_err(|e| io(io_reason(&e)))?;
    if bytes.len() as u64 > limits.policy_bytes {
        // A pipe has no length up front: all we know is that it is longer.
        return Err(over(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        io(format!(
            "the file is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let lines = text.lines().count();
    if lines > limits.policy_lines {
        return Err(CompileError::Limit {
            path: display.to_string(),
            what: "lines",
            actual: lines as u64,
            limit: limits.policy_lines as u64,
            flag: "--max-policy-lines",
        });
    }
    Ok(text)
}

struct Loader {
    sources: SourceMap,
    errors: Vec<CompileError>,
    items: Vec<Item>,
    root_dir: Option<PathBuf>,
    limits: Limits,
    /// The root policy as given on the command line, for messages.
    root_display: String,
    /// The root policy is a pipe (`<(...)`): its imports resolve under
    /// `root_dir` (the current directory), not under `/dev/fd`.
    root_is_pipe: bool,
    loaded: Vec<PathBuf>,
}

impl Loader {
    fn parse(&mut self, name: String, text: String) -> Option<PolicyFile> {
        let id = self.sources.add(name, text);
        let text = self.sources.get(id).map(|f| f.text.clone())?;
        match parse_file_with(id, &text, self.limits.expr_depth) {
            Ok(f) => Some(f),
            Err(e) => {
                self.errors.push(e.into());
                None
            }
        }
    }

    /// Loads `path` (already canonical) and, depth first, everything it imports.
    fn load(
        &mut self,
        display: String,
        path: PathBuf,
        chain: &mut Vec<(PathBuf, String, Option<Span>)>,
    ) {
        if self.loaded.contains(&path) {
            return;
        }
        self.loaded.push(path.clone());
        let is_root = chain.is_empty();
        let text = match read_policy_file(&path, &display, &self.limits, is_root) {
            Ok(t) => t,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let Some(file) = self.parse(display.clone(), text) else {
            return;
        };
        for item in file.items {
            match item {
                Item::Import(import) => {
                    let base = match &self.root_dir {
                        Some(dir) if is_root && self.root_is_pipe => dir.as_path(),
                        _ => path.parent().unwrap_or(Path::new(".")),
                    };
                    let target = base.join(&import.path.value);
                    let shown = import.path.value.clone();
                    let display_child = display_path(&display, &import.path.value);
                    let resolved = match self.confine(&target, &display_child) {
                        Ok(p) => p,
                        Err((message, hint)) => {
                            self.errors.push(
                                CheckError::Import {
                                    message,
                                    span: import.path.span,
                                    label: "refused".into(),
                                    hint,
                                }
                                .into(),
                            );
                            continue;
                        }
                    };
                    if let Some(pos) = chain.iter().position(|(p, _, _)| *p == resolved)
                        .or_else(|| (resolved == path).then_some(usize::MAX))
                    {
                        let mut names: Vec<String> = chain
                            .get(pos.min(chain.len())..)
                            .unwrap_or(&[])
                            .iter()
                            .map(|(_, n, _)| n.clone())
                            .collect();
                        names.push(display.clone());
                        names.push(shown.clone());
                        self.errors.push(
                            CheckError::Import {
                                message: format!("import cycle: {}", names.join(" -> ")),
                                span: import.path.span,
                                label: "imports a file that imports this one".into(),
                                hint: Some("move the shared declarations into a third file both import".into()),
                            }
                            .into(),
                        );
                        continue;
                    }
                    chain.push((path.clone(), display.clone(), Some(import.path.span)));
                    self.load(display_child, resolved, chain);
                    chain.pop();
                }
                Item::Gate(g) if !is_root => self.errors.push(
                    CheckError::Import {
                        message: format!("imported file declares gate `{}`", g.label()),
                        span: g.from.span.to(g.to.span),
                        label: "gates belong to the policy named on the command line".into(),
                        hint: Some("imports bring `param`, `let`, `def`, `stages` and `stage` declarations".into()),
                    }
                    .into(),
                ),
                // Waivers turn a denial into an allow, so they may only come
                // from files the caller names (the root policy, `--waivers`):
                // an imported library must never be able to waive a rule.
                Item::Waive(w) if !is_root => self.errors.push(
                    CheckError::Import {
                        message: format!(
                            "imported file `{display}` declares a waiver for `{}`",
                            w.rule.name
                        ),
                        span: w.span,
                        label: "waivers are not honoured in imports".into(),
                        hint: Some("waivers belong in the policy named on the command line or a `--waivers` file".into()),
                    }
                    .into(),
                ),
                other => self.items.push(other),
            }
        }
    }

    /// Canonical path of an import, or why it is refused.
    /// `shown` is the path as the user would write it from where they ran Clearance.
    fn confine(&self, target: &Path, shown: &str) -> Result<PathBuf, (String, Option<String>)> {
        let canonical = std::fs::canonicalize(target)
            .map_err(|e| (format!("cannot import `{shown}`: {}", io_reason(&e)), None))?;
        match &self.root_dir {
            Some(root) if canonical.starts_with(root) => Ok(canonical),
            Some(_) => Err((
                format!(
                    "import `{shown}` leaves the directory of `{}`",
                    self.root_display
                ),
                Some("imports may only read files under the directory of the policy given on the command line (after following `..` and symlinks)".into()),
            )),
            None => Ok(canonical),
        }
    }
}

fn display_path(importer: &str, relative: &str) -> String {
    let base = Path::new(importer).parent().unwrap_or(Path::new(""));
    let joined = base.join(relative);
    joined.display().to_string()
}

/// Compiles the policy at `path` with its imports and any waiver files,
/// under the default limits.
pub fn compile_path(path: &Path, waiver_files: &[PathBuf]) -> Result<Program, CompileFailure> {
    compile_path_with(path, waiver_files, &Limits::default())
}

/// Compiles the policy at `path` with its imports and any waiver files.
pub fn compile_path_with(
    path: &Path,
    waiver_files: &[PathBuf],
    limits: &Limits,
) -> Result<Program, CompileFailure> {
    compile_path_named(path, &path.display().to_string(), waiver_files, limits)
}

/// [`compile_path_with`], with the policy shown (in diagnostics, reports
/// and the decision record) as `display` rather than as `path`: the
/// decision service reads `DIR/payments/policy.clr` and names it
/// `payments/policy.clr`, as `clearance check` run in DIR would; imports
/// are named relative to it the same way.
pub fn compile_path_named(
    path: &Path,
    display: &str,
    waiver_files: &[PathBuf],
    limits: &Limits,
) -> Result<Program, CompileFailure> {
    let display = display.to_string();
    let mut loader = Loader {
        sources: SourceMap::default(),
        errors: Vec::new(),
        items: Vec::new(),
        root_dir: None,
        limits: *limits,
        root_display: String::new(),
        root_is_pipe: false,
        loaded: Vec::new(),
    };
    let canonical = match std::fs::canonicalize(path) {
        Ok(p) => p,
        // `check <(cat policy.clr)`: the pipe's path cannot be resolved, but
        // it can be read; its imports resolve under the current directory.
        Err(_) if std::fs::metadata(path).is_ok_and(|m| is_fifo(&m)) => {
            loader.root_dir = std::env::current_dir().ok();
            loader.root_is_pipe = true;
            loader.root_display = display.clone();
            loader.load(display, path.to_path_buf(), &mut Vec::new());
            for w in waiver_files {
                load_waivers(&mut loader, w);
            }
            return finish(loader);
        }
        Err(e) => {
            return Err(CompileFailure {
                sources: loader.sources,
                errors: vec![CompileError::Io {
                    path: display,
                    reason: io_reason(&e),
                }],
            })
        }
    };
    loader.root_dir = canonical.parent().map(Path::to_path_buf);
    loader.root_display = display.clone();
    loader.load(display, canonical, &mut Vec::new());
    for w in waiver_files {
        load_waivers(&mut loader, w);
    }
    finish(loader)
}

fn load_waivers(loader: &mut Loader, path: &Path) {
    let display = path.display().to_string();
    let text = match read_policy_file(path, &display, &loader.limits, false) {
        Ok(t) => t,
        Err(e) => {
            loader.errors.push(e);
            return;
        }
    };
    let Some(file) = loader.parse(display, text) else {
        return;
    };
    for item in file.items {
        match item {
            Item::Waive(w) => loader.items.push(Item::Waive(w)),
            other => loader.errors.push(
                CheckError::Import {
                    message: "a waivers file may only hold `waive` lines".into(),
                    span: other.span(),
                    label: "not a waiver".into(),
                    hint: None,
                }
                .into(),
            ),
        }
    }
}

/// Compiles policy text held in memory (no imports).
pub fn compile_str(name: &str, text: &str) -> Result<Program, CompileFailure> {
    let mut loader = Loader {
        sources: SourceMap::default(),
        errors: Vec::new(),
        items: Vec::new(),
        root_dir: None,
        limits: Limits::default(),
        root_display: String::new(),
        root_is_pipe: false,
        loaded: Vec::new(),
    };
    if let Some(file) = loader.parse(name.to_string(), text.to_string()) {
        for item in file.items {
            match item {
                Item::Import(i) => loader.errors.push(
                    CheckError::Import {
                        message: "imports need a policy read from a file".into(),
                        span: i.span,
                        label: "cannot resolve".into(),
                        hint: None,
                    }
                    .into(),
                ),
                other => loader.items.push(other),
            }
        }
    }
    finish(loader)
}

fn finish(loader: Loader) -> Result<Program, CompileFailure> {
    let Loader {
        sources,
        mut errors,
        items,
        ..
    } = loader;
    if !errors.is_empty() {
        return Err(CompileFailure { sources, errors });
    }
    let builtins = crate::eval::builtins::signatures();
    match check::check(sources.clone(), items, &builtins) {
        Ok(p) => Ok(p),
        Err(es) => {
            errors.extend(es.into_iter().map(CompileError::from));
            Err(CompileFailure { sources, errors })
        }
    }
}
