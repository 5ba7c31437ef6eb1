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
    pub paths: Vec<PathBuf>,
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

pub fn run(args: TestArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    for r in &roots {
        super::walk_files(
            r,
            &|p: &Path| p.to_string_lossy().ends_with(".test.toml"),
            &mut files,
        )?;
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
