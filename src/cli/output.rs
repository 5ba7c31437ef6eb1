//! Writing a decision in every requested format: the primary `--format` on
//! standard output, and each `--output FORMAT=PATH` to its file.

use super::{files, plain_error, Format, NoDecision};
use crate::check::Program;
use crate::eval::{GateResult, Value};
use crate::report::{self, ci, DecisionRecord, Evidence, FileDigest, JsonContext, Style};
use sha2::{Digest, Sha256};

pub struct Run<'a> {
    pub program: &'a Program,
    pub result: &'a GateResult,
    pub subject: &'a str,
    /// `check` or `rollback`.
    pub command: &'a str,
    pub evidence: &'a Evidence,
    pub now: String,
    pub params: &'a [(String, Value)],
    /// The command line that re-runs this decision, and the waivers applied:
    /// the decision record is built from them only when a JSON report needs it
    /// (hashing a 100 MB bundle is not free).
    pub command_line: Vec<String>,
    pub waivers_applied: Vec<String>,
    pub style: Style,
}

fn sha256(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Quotes one argument for a POSIX shell, only when it needs it.
fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./=:@%+,-".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The decision record: digests of everything read, and the command to re-run it.
pub fn record(
    program: &Program,
    evidence: &Evidence,
    command: &[String],
    waivers_applied: Vec<String>,
) -> DecisionRecord {
    DecisionRecord {
        engine: format!("clearance {}", env!("CARGO_PKG_VERSION")),
        policy_files: program
            .sources
            .files()
            .iter()
            .map(|f| FileDigest {
                file: f.name.clone(),
                mount: None,
                sha256: sha256(&f.text),
            })
            .collect(),
        evidence_files: evidence
            .files
            .iter()
            .map(|f| FileDigest {
                file: f.name.clone(),
                mount: f.mount.clone(),
                sha256: sha256(&f.text),
            })
            .collect(),
        waivers_applied,
        command: command
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

pub fn render(format: Format, run: &Run<'_>) -> String {
    let ctx = ci::CiContext {
        program: run.program,
        result: run.result,
        subject: run.subject,
        command: run.command,
        evidence: run.evidence,
        now: run.now.clone(),
    };
    match format {
        Format::Human if run.command == "rollback" => report::render_rollback(
            run.program,
            run.subject,
            run.result,
            run.style,
            run.evidence,
        ),
        Format::Human => report::render_gate(
            run.program,
            run.subject,
            run.result,
            run.style,
            run.evidence,
        ),
        Format::Json => report::gate_json(
            run.program,
            run.result,
            &JsonContext {
                command: run.command,
                subject: run.subject,
                now: run.now.clone(),
                params: crate::params::effective(run.program, run.params),
                evidence: run.evidence,
                record: Some(record(
                    run.program,
                    run.evidence,
                    &run.command_line,
                    run.waivers_applied.clone(),
                )),
            },
        ),
        Format::Sarif => ci::sarif(&ctx),
        Format::Junit => ci::junit(&ctx),
        Format::Github => ci::github(&ctx),
        Format::Markdown => ci::markdown(&ctx),
    }
}

/// `FORMAT=PATH` of `--output`.
pub fn parse_output(spec: &str) -> Result<(Format, std::path::PathBuf), NoDecision> {
    use clap::ValueEnum;
    let (format, path) = spec.split_once('=').ok_or_else(|| {
        plain_error(format!(
            "`--output {spec}` is not of the form FORMAT=PATH (e.g. sarif=clearance.sarif)"
        ))
    })?;
    let format = Format::from_str(format, true).map_err(|_| {
        plain_error(format!(
            "unknown format `{format}` in `--output {spec}`; formats: human, json, sarif, junit, github, markdown"
        ))
    })?;
    Ok((format, std::path::PathBuf::from(path)))
}

/// Prints the primary format, writes every `--output`, and appends the
/// Markdown summary to `$GITHUB_STEP_SUMMARY` for the github format.
///
/// Every output is resolved and checked against the inputs before anything
/// is written, written to a temporary file, and put in place only after the
/// report reached standard output: a run that ends in exit 2 leaves no
/// report file behind, and no output can replace the policy, an import, a
/// waivers file or an evidence file.
pub fn emit(format: Format, outputs: &[String], run: &Run<'_>) -> Result<(), NoDecision> {
    let inputs = files::inputs(
        run.program
            .sources
            .files()
            .iter()
            .map(|f| f.name.as_str())
            .chain(run.evidence.files.iter().map(|f| f.name.as_str())),
    );
    let mut targets = Vec::new();
    let mut formats = Vec::new();
    for spec in outputs {
        let (f, path) = parse_output(spec)?;
        targets.push(files::target(&path, &inputs, &format!("--output {spec}"))?);
        formats.push(f);
    }
    files::distinct(&targets)?;
    let staged = targets
        .into_iter()
        .zip(&formats)
        .map(|(target, f)| files::Staged::new(target, render(*f, run)))
        .collect::<Result<Vec<_>, _>>()?;
    let github = format == Format::Github || formats.contains(&Format::Github);
    if github {
        if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            use std::io::Write;
            let md = render(Format::Markdown, run);
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&summary)
                .and_then(|mut f| f.write_all(md.as_bytes()))
                .map_err(|e| plain_error(format!("cannot append to $GITHUB_STEP_SUMMARY: {e}")))?;
        }
    }
    super::emit(&render(format, run))?;
    for s in staged {
        s.commit()?;
    }
    Ok(())
}
