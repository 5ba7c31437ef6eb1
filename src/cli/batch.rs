//! `clearance batch`: one compiled policy, many evidence bundles, all cores.
//! One JSON line per bundle, in the order given; exit status is the worst
//! decision (0 all allowed, 1 some denied, 2 some could not be decided).

use super::check::{parse_now, parse_params, select_gate};
use super::{style, ColorChoice, NoDecision};
use crate::decide;
use crate::eval::{Decision, EvalOptions, Outcome};
use crate::evidence::Source;
use crate::limits::Limits;
use crate::report;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// The policy file (`.clr`).
    pub policy: PathBuf,
    /// Evidence files, or directories to walk for `*.json` (sorted).
    #[arg(required = true, value_name = "BUNDLE|DIR")]
    pub bundles: Vec<PathBuf>,
    /// The gate to decide; may be left out when the policy has one gate.
    #[arg(long, value_name = "FROM->TO")]
    pub gate: Option<String>,
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The evaluation time (RFC 3339); defaults to the clock, read once for every bundle.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// A file of `waive` lines (repeatable), as for `check`.
    #[arg(long = "waivers", value_name = "FILE")]
    pub waivers: Vec<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// With `--sign-key`, one signed decision per bundle into DIR
    /// (created if missing): `vsa=DIR` writes `BUNDLE.vsa.json`,
    /// `attestation=DIR` writes `BUNDLE.attestation.json` (BUNDLE is the
    /// bundle's file name without `.json`). Repeatable.
    #[arg(long = "output", short = 'o', value_name = "vsa|attestation=DIR")]
    pub outputs: Vec<String>,
    #[command(flatten)]
    pub signing: super::output::SigningArgs,
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// What a worker needs to sign each bundle's decision.
struct SignedOutputs<'a> {
    signing: &'a super::output::Signing,
    vsa: Option<PathBuf>,
    attestation: Option<PathBuf>,
    policy: String,
    gate_label: String,
    waivers: Vec<String>,
    raw_params: &'a [String],
}

/// One bundle's outcome: its JSON line, exit status, and the envelopes to
/// write (path, text).
type Decided = (String, u8, Vec<(PathBuf, String)>);

/// Decides one bundle: the JSON line, its exit status, and with signing
/// the envelopes to write.
fn decide(
    prepared: &decide::Prepared<'_>,
    options: &EvalOptions,
    path: &Path,
    signed: Option<&SignedOutputs<'_>>,
) -> Decided {
    let file = path.display().to_string();
    let source = [Source::File {
        mount: None,
        path: path.to_path_buf(),
    }];
    let refused = |message: String| {
        let line = json!({"file": file, "decision": null, "error": message});
        (line.to_string(), 2, Vec::new())
    };
    let evidence = match crate::evidence::read(&source, &options.limits) {
        Ok(evidence) => evidence,
        Err(e) => return refused(e.message()),
    };
    let result = match signed {
        // A signed attestation carries the full report, explanations
        // included: decide it the way `check` does.
        Some(s) if s.attestation.is_some() => decide::decide(&decide::Request::new(
            prepared.program(),
            decide::Target::Gate(prepared.gate()),
            &evidence,
            options,
        ))
        .map_err(|e| e.to_string()),
        _ => prepared
            .outcomes(&evidence, options)
            .map_err(|e| e.message()),
    };
    let result = match result {
        Ok(result) => result,
        Err(message) => return refused(message),
    };
    let envelopes = match signed {
        None => Vec::new(),
        Some(s) => match sign_bundle(prepared, options, path, &evidence, &result, s) {
            Ok(envelopes) => envelopes,
            Err(message) => return refused(message),
        },
    };
    let names = |o: Outcome| -> Vec<&str> {
        result
            .rules
            .iter()
            .filter(|r| r.outcome == o && r.blocks())
            .map(|r| r.name.as_str())
            .collect()
    };
    let line = json!({
        "file": file,
        "decision": result.decision.as_str(),
        "failed": names(Outcome::Fail),
        "errors": names(Outcome::Error),
        "summary": result.summary,
    });
    let code = match result.decision {
        Decision::Allowed => 0,
        Decision::Denied => 1,
    };
    (line.to_string(), code, envelopes)
}

/// The envelopes of one bundle's decision, named after the bundle.
fn sign_bundle(
    prepared: &decide::Prepared<'_>,
    options: &EvalOptions,
    path: &Path,
    evidence: &crate::evidence::Evidence,
    result: &crate::eval::GateResult,
    s: &SignedOutputs<'_>,
) -> Result<Vec<(PathBuf, String)>, String> {
    let program = prepared.program();
    let gate = prepared.gate();
    let stem = bundle_stem(path);
    let invocation = decide::Invocation {
        command: "check",
        policy: s.policy.clone(),
        target: s.gate_label.clone(),
        now: options.now,
        params: s.raw_params.to_vec(),
        waivers: s.waivers.clone(),
        evidence: vec![path.display().to_string()],
        attestations: Vec::new(),
        trust: None,
        strict_evidence: false,
        limits: options.limits,
        ledger: None,
    };
    let record = decide::record(program, evidence, &invocation, result);
    let mut out = Vec::new();
    if let Some(dir) = &s.vsa {
        let text = crate::sign::vsa_envelope(
            gate,
            result,
            &record,
            &s.policy,
            options.now,
            &s.signing.vsa,
            &s.signing.key,
        )
        .map_err(|e| e.message())?;
        out.push((dir.join(format!("{stem}.vsa.json")), text));
    }
    if let Some(dir) = &s.attestation {
        let report = crate::report::gate_json(
            program,
            result,
            &crate::report::JsonContext {
                evidence,
                record: Some(record),
                command: "check",
                subject: &s.gate_label,
                gate: Some(gate),
                now: options.now.to_string(),
                params: crate::params::effective(program, &options.params),
            },
        );
        let text = crate::sign::attestation_envelope(gate, result, &report, &s.signing.key)
            .map_err(|e| e.message())?;
        out.push((dir.join(format!("{stem}.attestation.json")), text));
    }
    Ok(out)
}

/// `payments-1` for `bundles/payments-1.json`.
fn bundle_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into())
}

pub fn run(args: BatchArgs, limits: &Limits) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let program = crate::compile_path_with(&args.policy, &args.waivers, limits)
        .map_err(|f| NoDecision(report::render_compile_failure(&f, style)))?;
    let gate = select_gate(&program, args.gate.as_deref())?;
    super::output::check_signing(&args.outputs, args.signing.sign_key.is_some(), false)?;
    let signing = args.signing.load()?;
    let now = parse_now(args.now.as_deref())?;
    // Params are checked once here; each worker parses its own copy, since
    // values are not shared between threads.
    parse_params(&program, &args.params)?;
    let raw_params = &args.params;
    let mut files = Vec::new();
    for b in &args.bundles {
        super::walk_files(
            b,
            &|p: &Path| p.extension().is_some_and(|e| e == "json"),
            &mut files,
        )?;
    }
    let signed = match &signing {
        None => None,
        Some(signing) => Some(signed_outputs(&args, signing, gate, &files)?),
    };
    let signed = signed.as_ref();
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .clamp(1, 256);
    // Each worker takes every `jobs`-th bundle; results are printed in input order.
    let mut results: Vec<Decided> = vec![(String::new(), 0, Vec::new()); files.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|w| {
                let (program, files) = (&program, &files);
                std::thread::Builder::new()
                    .stack_size(16 * 1024 * 1024)
                    .spawn_scoped(scope, move || {
                        let options = EvalOptions {
                            now,
                            params: parse_params(program, raw_params).unwrap_or_default(),
                            limits: *limits,
                            ledger: None,
                        };
                        let options = &options;
                        // Prepared once per worker: compiled code is not shared between threads.
                        let prepared = match signed {
                            Some(_) => decide::Prepared::with_subject(program, gate),
                            None => decide::Prepared::new(program, gate),
                        };
                        files
                            .iter()
                            .enumerate()
                            .skip(w)
                            .step_by(jobs)
                            .map(|(i, f)| (i, decide(&prepared, options, f, signed)))
                            .collect::<Vec<_>>()
                    })
            })
            .collect();
        for h in handles {
            match h.map(|h| h.join()) {
                Ok(Ok(done)) => {
                    for (i, r) in done {
                        if let Some(slot) = results.get_mut(i) {
                            *slot = r;
                        }
                    }
                }
                _ => {
                    for slot in results.iter_mut().filter(|s| s.0.is_empty()) {
                        *slot = (
                            json!({"decision": null, "error": "internal error: a worker failed"})
                                .to_string(),
                            2,
                            Vec::new(),
                        );
                    }
                }
            }
        }
    });
    let mut worst = 0;
    let mut out = String::new();
    let mut staged = Vec::new();
    // No envelope may replace the policy, an import, a waiver file or a
    // bundle. Resolved only when envelopes are written: resolving every
    // bundle's path (a `readlink` per component and a `stat`) cost a tenth
    // of an unsigned run of small bundles, which writes nothing.
    let writes_envelopes = results
        .iter()
        .any(|(_, _, envelopes)| !envelopes.is_empty());
    let inputs = if writes_envelopes {
        super::files::inputs(
            program
                .sources
                .files()
                .iter()
                .map(|f| f.name.as_str())
                .chain(files.iter().filter_map(|f| f.to_str())),
        )
    } else {
        Vec::new()
    };
    for (line, code, envelopes) in results {
        out.push_str(&line);
        out.push('\n');
        worst = worst.max(code);
        for (path, text) in envelopes {
            let target = super::files::target(&path, &inputs, "--output")?;
            staged.push(super::files::Staged::new(target, text)?);
        }
    }
    super::emit(&out)?;
    for s in staged {
        s.commit()?;
    }
    Ok(worst)
}

/// The output directories, created if missing; refuses two bundles with
/// the same file name (their envelopes would replace each other).
fn signed_outputs<'a>(
    args: &'a BatchArgs,
    signing: &'a super::output::Signing,
    gate: &crate::syntax::ast::GateDecl,
    files: &[PathBuf],
) -> Result<SignedOutputs<'a>, NoDecision> {
    use super::output::Output;
    let (mut vsa, mut attestation) = (None, None);
    for spec in &args.outputs {
        let (kind, dir) = super::output::parse_output(spec)?;
        let slot = match kind {
            Output::Vsa => &mut vsa,
            Output::Attestation => &mut attestation,
            Output::Report(_) => {
                return Err(super::plain_error(format!(
                    "`--output {spec}`: batch writes signed decisions (vsa=DIR, attestation=DIR); its report is the JSON lines on standard output"
                )))
            }
        };
        std::fs::create_dir_all(&dir).map_err(|e| {
            super::plain_error(format!(
                "cannot create the directory `{}`: {e}",
                dir.display()
            ))
        })?;
        *slot = Some(dir);
    }
    let mut seen = std::collections::HashMap::new();
    for f in files {
        if let Some(first) = seen.insert(bundle_stem(f), f) {
            return Err(super::plain_error(format!(
                "`{}` and `{}` have the same name; their signed decisions would replace each other in the output directory",
                first.display(),
                f.display()
            )));
        }
    }
    Ok(SignedOutputs {
        signing,
        vsa,
        attestation,
        policy: args.policy.display().to_string(),
        gate_label: gate.label(),
        waivers: args
            .waivers
            .iter()
            .map(|w| w.display().to_string())
            .collect(),
        raw_params: &args.params,
    })
}
