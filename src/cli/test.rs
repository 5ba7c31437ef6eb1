//! `clearance test`: run policy test files.

use super::{style, ColorChoice, NoDecision};
use crate::testing::{self, Coverage};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Human,
    Junit,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Test files (`*.test.toml`) or directories to walk for them; default `.`.
    /// A walk skips what `.gitignore` files (and `.git/info/exclude`) ignore,
    /// `.git/` and `target/`.
    pub paths: Vec<PathBuf>,
    /// Skip test files whose path under a walked directory, or one of its
    /// directories, matches GLOB (repeatable): `--exclude 'fixtures/broken/**'`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Run only the cases whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: TestFormat,
    /// Report, for every rule, whether the cases saw it pass, fail and error,
    /// and which `require` lines were never false.
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when fewer than PCT percent of rules were seen both passing and failing.
    #[arg(long, value_name = "PCT")]
    pub coverage_min: Option<f64>,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

fn exclusions(globs: &[String]) -> Result<globset::GlobSet, NoDecision> {
    let mut set = globset::GlobSetBuilder::new();
    for g in globs {
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                super::plain_error(format!("invalid --exclude glob `{g}`: {}", e.kind()))
            })?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| super::plain_error(format!("invalid --exclude globs: {e}")))
}

/// The `*.test.toml` files under `root`, sorted: what `.gitignore` files
/// ignore is skipped (in or out of a git repository), and so are `.git/`,
/// `target/` and paths `excluded` matches. Symlinks are followed, each real
/// file taken once, and only regular files (a FIFO would block the walk).
fn test_files_under(root: &Path, excluded: &globset::GlobSet) -> Result<Vec<PathBuf>, NoDecision> {
    let mut walk = ignore::WalkBuilder::new(root);
    walk.follow_links(true)
        .hidden(false)
        .ignore(false)
        .git_global(false)
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| {
            let dir = e.file_type().is_some_and(|t| t.is_dir());
            !(dir && (e.file_name() == "target" || e.file_name() == ".git"))
        });
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for entry in walk.build() {
        // A symlink loop or an unreadable directory: skipped, as before.
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let is_file = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        if !is_file || !path.to_string_lossy().ends_with(".test.toml") {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(path);
        if relative
            .ancestors()
            .any(|a| !a.as_os_str().is_empty() && excluded.is_match(a))
        {
            continue;
        }
        if std::fs::canonicalize(path).is_ok_and(|real| seen.insert(real)) {
            out.push(path.to_path_buf());
        }
    }
    Ok(out)
}

pub fn run(args: TestArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let excluded = exclusions(&args.exclude)?;
    let mut files = Vec::new();
    for r in &roots {
        if r.is_dir() {
            files.extend(test_files_under(r, &excluded)?);
        } else {
            // A file named on the command line is run, whatever it is called.
            super::walk_files(r, &|_: &Path| true, &mut files)?;
        }
    }
    let mut coverage = Coverage::default();
    let mut results = Vec::new();
    for f in &files {
        let r = testing::run_file(f, args.filter.as_deref(), style, limits, &mut coverage)
            .map_err(|e| NoDecision(e.0))?;
        results.extend(r);
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    match args.format {
        TestFormat::Junit => super::emit(&testing::junit(&results))?,
        TestFormat::Human => {
            for r in &results {
                super::emit(&format!(
                    "{} {} › {}\n",
                    if r.passed { "ok  " } else { "FAIL" },
                    r.file,
                    r.name
                ))?;
                for m in &r.mismatches {
                    super::emit(&format!("       {m}\n"))?;
                }
                if !r.details.is_empty() {
                    for line in r.details.lines() {
                        super::emit(&format!("       {line}\n"))?;
                    }
                }
            }
            if args.coverage || args.coverage_min.is_some() {
                super::emit("\n")?;
                super::emit(&coverage.render())?;
            }
            super::emit(&format!("\n{passed} passed, {failed} failed\n"))?;
        }
    }
    let below = args
        .coverage_min
        .is_some_and(|min| coverage.percent() + 1e-9 < min);
    if below {
        eprintln!(
            "rule coverage {:.1}% is below the minimum of {:.1}%",
            coverage.percent(),
            args.coverage_min.unwrap_or(0.0)
        );
    }
    Ok(u8::from(failed > 0 || below))
}
