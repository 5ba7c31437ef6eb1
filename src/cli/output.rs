//! Writing a decision in every requested format: the primary `--format` on
//! standard output, and each `--output FORMAT=PATH` to its file.

use super::{files, plain_error, Format, NoDecision};
use crate::check::Program;
use crate::eval::{GateResult, Value};
use crate::report::{self, ci, Evidence, JsonContext, Style};

pub struct Run<'a> {
    pub program: &'a Program,
    pub result: &'a GateResult,
    pub subject: &'a str,
    /// `check` or `rollback`.
    pub command: &'a str,
    pub evidence: &'a Evidence,
    pub now: String,
    pub params: &'a [(String, Value)],
    /// What re-runs this decision: the decision record is built from it
    /// only when a JSON report needs it (hashing a 100 MB bundle is not free).
    pub invocation: &'a crate::decide::Invocation,
    pub style: Style,
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
                record: Some(crate::decide::record(
                    run.program,
                    run.evidence,
                    run.invocation,
                    run.result,
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
            // The summary is a convenience next to the decision, not part
            // of it: a runner whose summary file cannot be written still
            // gets the decision, with a warning.
            if let Err(e) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&summary)
                .and_then(|mut f| f.write_all(md.as_bytes()))
            {
                eprintln!("warning: cannot append the summary to $GITHUB_STEP_SUMMARY: {e}");
            }
        }
    }
    super::emit(&render(format, run))?;
    for s in staged {
        s.commit()?;
    }
    Ok(())
}
