//! `clearance lint`: coded findings over policies.

use super::check::parse_now;
use super::{plain_error, style, ColorChoice, NoDecision};
use crate::lint::{self, Finding, Level};
use crate::report;
use clap::{Args, ValueEnum};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Policy files or directories (walked for `*.clr`); default `.`.
    pub paths: Vec<PathBuf>,
    /// Print the documentation of one lint (e.g. `CL016`) and exit.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,
    /// `--deny warnings` makes warnings fail the run (exit 1).
    #[arg(long, value_name = "warnings")]
    pub deny: Option<DenyLevel>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: LintFormat,
    /// The time waiver expiries are compared with (RFC 3339); defaults to the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// A file of `waive` lines (repeatable), linted with every policy as
    /// `check --waivers` would apply it. A file named `NAME.waivers.clr`
    /// found in a walk is used for `NAME.clr` beside it the same way.
    #[arg(long = "waivers", value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// `NAME.clr` for a file named `NAME.waivers.clr`.
fn policy_of_waivers_file(path: &std::path::Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".waivers.clr")?;
    Some(path.with_file_name(format!("{stem}.clr")))
}

/// `NAME.waivers.clr` beside the policy `NAME.clr`.
fn waivers_file_of(policy: &std::path::Path) -> PathBuf {
    let stem = policy
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    policy.with_file_name(format!("{stem}.waivers.clr"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DenyLevel {
    Warnings,
}

pub fn run(args: LintArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    if let Some(code) = &args.explain {
        let Some(l) = lint::find(code) else {
            let codes: Vec<&str> = lint::all().iter().map(|l| l.code).collect();
            return Err(plain_error(format!(
                "unknown lint `{code}`; lints: {}",
                codes.join(", ")
            )));
        };
        super::emit(&format!(
            "{} {} ({})\n\n{}\n\n{}\n",
            l.code,
            l.name,
            lint::level_name(l.level),
            l.summary,
            l.doc.trim()
        ))?;
        return Ok(0);
    }
    let style = style(args.color);
    let now = parse_now(args.now.as_deref())?;
    let found = super::policy_files(&args.paths)?;
    let explicit: BTreeSet<PathBuf> = args
        .waivers
        .iter()
        .filter_map(|w| std::fs::canonicalize(w).ok())
        .collect();
    // Waivers files are not policies: `--waivers` ones, and `NAME.waivers.clr`
    // (the convention for a waivers file another team owns), which must have
    // its `NAME.clr` beside it.
    let mut files = Vec::new();
    for f in found {
        if std::fs::canonicalize(&f).is_ok_and(|c| explicit.contains(&c)) {
            continue;
        }
        if let Some(policy) = policy_of_waivers_file(&f) {
            if !policy.is_file() {
                return Err(plain_error(format!(
                    "`{}` is named as the waivers file of `{}`, which does not exist (a waivers file `NAME.waivers.clr` goes beside its policy `NAME.clr`; pass others with `--waivers`)",
                    f.display(),
                    policy.display()
                )));
            }
            continue;
        }
        files.push(f);
    }
    let mut compiled = Vec::new();
    let mut broken = String::new();
    // Files another linted policy imports are libraries: linted through their importers.
    let mut imported: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &files {
        let mut waivers = args.waivers.clone();
        let beside = waivers_file_of(f);
        if beside.is_file() {
            waivers.push(beside);
        }
        match crate::compile_path_with(f, &waivers, limits) {
            Ok(p) => {
                for src in p.sources.files().iter().skip(1) {
                    if let Ok(c) = std::fs::canonicalize(&src.name) {
                        imported.insert(c);
                    }
                }
                compiled.push((f.clone(), p));
            }
            Err(failure) => broken.push_str(&report::render_compile_failure(&failure, style)),
        }
    }
    if !broken.is_empty() {
        return Err(NoDecision(broken));
    }
    let mut seen = BTreeSet::new();
    let mut rendered = String::new();
    let mut json = Vec::new();
    let (mut errors, mut warnings) = (0, 0);
    for (path, program) in &compiled {
        if std::fs::canonicalize(path).is_ok_and(|c| imported.contains(&c)) {
            continue;
        }
        for f in lint::run(program, now) {
            let (file, line, column) = program.sources.location(f.span);
            if !seen.insert((file.clone(), line, column, f.code)) {
                continue;
            }
            match f.level {
                Level::Error => errors += 1,
                Level::Warning => warnings += 1,
            }
            json.push(finding_json(&f, file, line, column));
            rendered.push_str(&report::render_diagnostic(
                f.clone(),
                Some(f.span),
                &program.sources,
                style,
            ));
            rendered.push('\n');
        }
    }
    match args.format {
        LintFormat::Human => {
            super::emit(&rendered)?;
            super::emit(&format!(
                "{errors} error{}, {warnings} warning{} in {} file{}\n",
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" },
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ))?;
        }
        LintFormat::Sarif => {
            let rules: Vec<serde_json::Value> = lint::all()
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "id": l.code,
                        "name": l.name,
                        "shortDescription": {"text": l.summary},
                        "fullDescription": {"text": l.doc.trim()},
                        "defaultConfiguration": {"level": lint::level_name(l.level)},
                    })
                })
                .collect();
            let results: Vec<serde_json::Value> = json
                .iter()
                .map(|f| {
                    let index = lint::all()
                        .iter()
                        .position(|l| l.code == f["code"])
                        .unwrap_or(0);
                    let at = |k: &str| f[k].as_u64().unwrap_or(0) as usize;
                    serde_json::json!({
                        "ruleId": f["code"],
                        "ruleIndex": index,
                        "level": f["level"],
                        "message": {"text": f["message"]},
                        "locations": [{"physicalLocation": report::sarif::location(
                            f["file"].as_str().unwrap_or(""),
                            (at("line"), at("column")),
                            None,
                        )}],
                    })
                })
                .collect();
            super::emit(&report::sarif::log(
                report::sarif::Driver {
                    name: "clearance-lint",
                    information_uri: None,
                    rules,
                },
                None,
                results,
            ))?;
        }
        LintFormat::Json => {
            let doc = serde_json::json!({
                "version": 1,
                "findings": json,
                "summary": {"errors": errors, "warnings": warnings, "files": files.len()},
            });
            super::emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            ))?;
        }
    }
    let fail = errors > 0 || (args.deny.is_some() && warnings > 0);
    Ok(u8::from(fail))
}

fn finding_json(f: &Finding, file: String, line: usize, column: usize) -> serde_json::Value {
    serde_json::json!({
        "code": f.code,
        "level": f.level,
        "message": f.message,
        "file": file,
        "line": line,
        "column": column,
        "label": f.label,
        "help": f.help,
    })
}
