//! The command line: argument parsing, file I/O, printing and exit codes.
//! Exit status: 0 allowed, 1 denied, 2 no decision (LANGUAGE.md section 5).

mod attest;
mod batch;
mod check;
mod describe;
mod evidence;
mod files;
mod fmt;
mod ledger;
mod lint;
mod output;
mod rollback;
mod serve;
mod sign;
mod test;

use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Clearance: promotion contracts for dev -> staging -> prod.
#[derive(Parser, Debug)]
#[command(name = "clearance", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The named limits (docs/guarantees.md). Each applies to every command.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Largest policy file, in bytes.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = crate::limits::DEFAULT.policy_bytes)]
    pub max_policy_bytes: u64,
    /// Most lines in one policy file.
    #[arg(long, global = true, value_name = "N", default_value_t = crate::limits::DEFAULT.policy_lines)]
    pub max_policy_lines: usize,
    /// Deepest expression (operators, calls, quantifiers, brackets all count).
    #[arg(long, global = true, value_name = "N", default_value_t = crate::limits::DEFAULT.expr_depth,
          value_parser = clap::value_parser!(u64).range(2..=4096).map(|v| v as usize))]
    pub max_expr_depth: usize,
    /// Largest evidence file, in bytes.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = crate::limits::DEFAULT.evidence_bytes)]
    pub max_evidence_bytes: u64,
    /// Deepest nesting of arrays and objects in evidence (1 to 128).
    #[arg(long, global = true, value_name = "N", default_value_t = crate::limits::DEFAULT.evidence_depth,
          value_parser = clap::value_parser!(u64).range(1..=crate::limits::JSON_PARSER_DEPTH as u64).map(|v| v as usize))]
    pub max_evidence_depth: usize,
    /// Largest compiled regular expression, in bytes.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = crate::limits::DEFAULT.regex_bytes)]
    pub max_regex_bytes: usize,
    /// Longest single string value, in bytes.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = crate::limits::DEFAULT.string_bytes)]
    pub max_string_bytes: usize,
    /// Evaluation budget per condition, in steps; running out is an `error` (denies).
    #[arg(long, global = true, value_name = "N", default_value_t = crate::limits::DEFAULT.max_steps)]
    pub max_steps: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> crate::limits::Limits {
        crate::limits::Limits {
            policy_bytes: self.max_policy_bytes,
            policy_lines: self.max_policy_lines,
            expr_depth: self.max_expr_depth,
            evidence_bytes: self.max_evidence_bytes,
            evidence_depth: self.max_evidence_depth,
            regex_bytes: self.max_regex_bytes,
            string_bytes: self.max_string_bytes,
            max_steps: self.max_steps,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Decide whether evidence satisfies a gate of a policy.
    ///
    /// Exit status: 0 allowed, 1 denied, 2 no decision (bad arguments,
    /// unreadable or invalid policy or evidence).
    Check(check::CheckArgs),
    /// Decide whether a stage must roll back: evaluate its rollback triggers
    /// against live metrics.
    ///
    /// A trigger fires when one of its `require` conditions fails or cannot be
    /// evaluated. Exit status: 0 no trigger fired, 1 a trigger fired (roll
    /// back), 2 no decision.
    Rollback(rollback::RollbackArgs),
    /// Report coded findings about policies: unused names, constant
    /// conditions, vacuous `all`, waivers about to expire, and more.
    ///
    /// Exit status: 0 clean or only warnings, 1 an error-level finding (or a
    /// warning with `--deny warnings`), 2 a file cannot be read or compiled.
    /// `--explain CODE` prints what a lint finds and how to fix it.
    Lint(lint::LintArgs),
    /// Rewrite policies in the one canonical layout (comments kept).
    ///
    /// With `--check`, change nothing: print a unified diff and exit 1 if any
    /// file would change. Exit 2 when a file cannot be read or parsed.
    Fmt(fmt::FmtArgs),
    /// Run policy test files (`*.test.toml`): each case evaluates a fixture,
    /// possibly patched, and checks the decision and rule outcomes.
    ///
    /// Exit status: 0 all cases passed, 1 a case failed (or coverage is below
    /// `--coverage-min`), 2 a test file, fixture or patch is invalid.
    Test(test::TestArgs),
    /// Print the contract in plain Markdown: stages, each gate's rules with
    /// their conditions in words, waivers in force, rollback triggers.
    Explain(describe::ExplainArgs),
    /// Draw the promotion path (Mermaid or Graphviz), gates labelled with their
    /// rule counts; with `--evidence` and `--gate`, the gate coloured by its decision.
    Graph(describe::GraphArgs),
    /// Print the JSON Schema of the evidence the policy reads, inferred from
    /// the paths its rules use and how they use them.
    Schema(describe::SchemaArgs),
    /// Decide many evidence bundles against one policy, on every core: one
    /// JSON line per bundle, in order.
    ///
    /// Exit status: the worst decision: 0 every bundle allowed, 1 some denied,
    /// 2 some bundle could not be decided (its line says why).
    Batch(batch::BatchArgs),
    /// Verify attestations on their own: `clearance attest verify BUNDLE
    /// (--artifact FILE | --digest sha256:HEX) --key PUBKEY.pem`.
    ///
    /// Exit status: 0 verified, 2 not verified (the code and the reason on stderr).
    Attest(attest::AttestArgs),
    /// Make an Ed25519 key pair for signed decisions: PREFIX.key (PKCS#8
    /// PEM, mode 0600) and PREFIX.pub (SubjectPublicKeyInfo PEM).
    ///
    /// Never overwrites: exit 2, both files unchanged, when either exists.
    Keygen(sign::KeygenArgs),
    /// Verify a signed decision (`check --output vsa=` or `attestation=`)
    /// against the signer's public key, and optionally its subject.
    ///
    /// Exit status: 0 the signature is valid and the result PASSED, 1 valid
    /// and FAILED, 2 the signature, format or subject is wrong.
    VerifyDecision(sign::VerifyDecisionArgs),
    /// The promotion ledger: `init`, `verify`, `show`, `prove`, `checkpoint`
    /// (LEDGER is `sqlite:PATH`, `PATH.db` or `postgres://USER@HOST/DB`).
    Ledger(ledger::LedgerArgs),
    /// Run the decision service: `POST /v1/check` decides like `check
    /// --format json`, with tokens, hot-reloaded policies, metrics, and
    /// every decision signed and recorded by the service (docs/service.md).
    ///
    /// Exit status: 0 after SIGTERM (requests in flight finish first), 2 when
    /// it cannot start.
    Serve(serve::ServeArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics for people, with the policy text underlined.
    Human,
    /// The stable JSON report with its decision record (docs/report.md).
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// JUnit XML: one test case per rule.
    Junit,
    /// GitHub Actions annotations (and a summary in $GITHUB_STEP_SUMMARY).
    Github,
    /// A Markdown summary for pull-request comments.
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Why no decision could be made: printed to stderr, exit status 2.
pub struct NoDecision(pub String);

pub(crate) fn style(color: ColorChoice) -> crate::report::Style {
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    crate::report::Style { color, width }
}

/// A plain, uncoloured "error: ..." line for problems outside any source file.
pub(crate) fn plain_error(message: impl std::fmt::Display) -> NoDecision {
    NoDecision(format!("error: {message}\n"))
}

/// Stack for the worker thread. Expression depth is bounded by the parser,
/// so this is a margin, not a requirement (see docs/guarantees.md).
const WORKER_STACK: usize = 64 * 1024 * 1024;

/// Runs the CLI and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let worker = std::thread::Builder::new()
        .stack_size(WORKER_STACK)
        .spawn(move || dispatch(cli));
    let result = match worker.map(|h| h.join()) {
        Ok(Ok(result)) => result,
        // A panic is a bug; still never a decision: report it and exit 2.
        _ => Err(plain_error("internal error: the evaluation thread failed")),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(NoDecision(message)) => {
            eprint!("{message}");
            ExitCode::from(2)
        }
    }
}

/// Writes `text` to standard output. When the reader has gone
/// (`clearance batch ... | head`) the output cannot be delivered, so the run
/// ends with exit 2 and no further message instead of a panic.
pub(crate) fn emit(text: &str) -> Result<(), NoDecision> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => NoDecision(String::new()),
            _ => plain_error(format!("cannot write to standard output: {e}")),
        })
}

fn dispatch(cli: Cli) -> Result<u8, NoDecision> {
    let limits = cli.limits.limits();
    match cli.command {
        Command::Check(args) => check::run(args, &limits),
        Command::Rollback(args) => rollback::run(args, &limits),
        Command::Lint(args) => lint::run(args, &limits),
        Command::Fmt(args) => fmt::run(args, &limits),
        Command::Test(args) => test::run(args, &limits),
        Command::Explain(args) => describe::explain(args, &limits),
        Command::Graph(args) => describe::graph(args, &limits),
        Command::Schema(args) => describe::schema(args, &limits),
        Command::Batch(args) => batch::run(args, &limits),
        Command::Attest(args) => attest::run(args, &limits),
        Command::Keygen(args) => sign::keygen(args),
        Command::VerifyDecision(args) => sign::verify_decision(args),
        Command::Ledger(args) => ledger::run(args),
        Command::Serve(args) => serve::run(args, &limits),
    }
}

/// The files under `path` that `keep` accepts (or `path` itself if it is a
/// file), sorted so output is deterministic; `target/` directories are skipped.
///
/// Each real directory is walked once, however many symlinks lead to it (a
/// link to a parent would otherwise never end), and only regular files are
/// taken from a walk: a FIFO or device among them would block or never end.
/// A path named explicitly may also be a pipe (`<(...)`).
pub(crate) fn walk_files(
    path: &std::path::Path,
    keep: &dyn Fn(&std::path::Path) -> bool,
    out: &mut Vec<std::path::PathBuf>,
) -> Result<(), NoDecision> {
    let meta = std::fs::metadata(path)
        .map_err(|e| plain_error(format!("cannot read `{}`: {e}", path.display())))?;
    if meta.is_dir() {
        let mut visited = std::collections::HashSet::new();
        return walk_dir(path, keep, out, &mut visited);
    }
    if meta.is_file() || crate::evidence::source::is_fifo(&meta) {
        out.push(path.to_path_buf());
        return Ok(());
    }
    Err(plain_error(format!(
        "cannot read `{}`: it is a device or socket, not a file or directory",
        path.display()
    )))
}

fn walk_dir(
    dir: &std::path::Path,
    keep: &dyn Fn(&std::path::Path) -> bool,
    out: &mut Vec<std::path::PathBuf>,
    visited: &mut std::collections::HashSet<std::path::PathBuf>,
) -> Result<(), NoDecision> {
    let real = std::fs::canonicalize(dir)
        .map_err(|e| plain_error(format!("cannot read `{}`: {e}", dir.display())))?;
    if !visited.insert(real.clone()) {
        return Ok(());
    }
    let mut entries: Vec<(std::path::PathBuf, std::fs::DirEntry)> = std::fs::read_dir(dir)
        .map_err(|e| plain_error(format!("cannot read `{}`: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| (e.path(), e)))
        .collect();
    entries.sort_by(|(a, _), (b, _)| a.cmp(b));
    for (p, entry) in entries {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        // An entry that is not a link is what its name in this (real)
        // directory says: its real path needs no system call, and its type
        // comes with the directory listing. `batch` walks thousands of
        // files, and resolving each one's path (a `readlink` per component)
        // was a twentieth of its run.
        let (is_dir, is_file, real_path) = if kind.is_symlink() {
            // Following symlinks: a linked file or directory is walked like
            // a real one (once); a dangling link is skipped.
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            let Ok(target) = std::fs::canonicalize(&p) else {
                continue;
            };
            (meta.is_dir(), meta.is_file(), target)
        } else {
            (kind.is_dir(), kind.is_file(), real.join(entry.file_name()))
        };
        if is_dir {
            if !p.ends_with("target") {
                walk_dir(&p, keep, out, visited)?;
            }
        } else if is_file && keep(&p) {
            // A file reached again through a symlink is the same file.
            if visited.insert(real_path) {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// The `.clr` files under `paths` (the current directory when none is given),
/// for the commands that take many policies: `lint` and `fmt`.
pub(crate) fn policy_files(
    paths: &[std::path::PathBuf],
) -> Result<Vec<std::path::PathBuf>, NoDecision> {
    let current = [std::path::PathBuf::from(".")];
    let roots = if paths.is_empty() {
        &current[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for root in roots {
        walk_files(
            root,
            &|p| p.extension().is_some_and(|e| e == "clr"),
            &mut files,
        )?;
    }
    Ok(files)
}

/// `NAME=VALUE` of `--param` (the same rule as `--evidence NAME=FILE`).
pub(crate) use crate::evidence::source::split_mount as split_assignment;
