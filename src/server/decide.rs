//! One `/v1/check` request, decided: the request body in, the JSON report
//! (or a problem) out. Runs on a blocking thread; it calls the library's
//! decision driver exactly as `clearance check --evidence - --format json`
//! does, so the report is the same bytes.

use super::policies::Policy;
use super::problem::Problem;
use super::State;
use crate::decide::{self, Invocation, Request, Target};
use crate::eval::EvalOptions;
use crate::evidence::Source;
use crate::report::{Evidence, EvidenceText, JsonContext, Style};
use serde_json::Value as Json;
use std::sync::Arc;

const PLAIN: Style = Style {
    color: false,
    width: 100,
};

/// What a request asks for, parsed.
pub struct Asked {
    pub policy: String,
    pub gate: Option<String>,
    body: serde_json::Map<String, Json>,
    /// `evidence` as sent, compacted: the text `check --evidence -` reads.
    evidence: Option<String>,
}

/// The body's top-level members, each as its raw JSON text, in order; a
/// member given twice is refused (serde_json would keep the last).
struct Members(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut out: Vec<(String, Box<serde_json::value::RawValue>)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate key `{key}` (ambiguous evidence is rejected)"
                        )));
                    }
                    out.push((key, map.next_value()?));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `text` (valid JSON) without the whitespace between tokens: the same
/// tokens, byte for byte, so every value is the one the client sent.
fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

/// Parses the body far enough to authorise it (policy and gate).
pub fn parse(body: &[u8], limits: &crate::limits::Limits) -> Result<Asked, Problem> {
    let Members(members) = serde_json::from_slice(body).map_err(|e| {
        Problem::unprocessable("the request body is not a JSON object", format!("{e}"))
    })?;
    let mut evidence = None;
    let mut fields = serde_json::Map::new();
    for (key, raw) in members {
        if key == "evidence" {
            // Read once, by the decision's own load, which refuses
            // duplicate keys and keeps every position, as for a file.
            evidence = Some(compact(raw.get()));
            continue;
        }
        // serde_json keeps the last of two equal keys: the evidence reader
        // checks these (small) members first, with the same limits.
        crate::eval::parse_json(
            raw.get(),
            crate::eval::LoadLimits {
                max_depth: limits.evidence_depth + 1,
                max_string: limits.string_bytes,
            },
        )
        .map_err(|e| {
            Problem::unprocessable(
                "the request body is not valid evidence JSON",
                format!("`{key}`: {}", e.message()),
            )
        })?;
        let value: Json = serde_json::from_str(raw.get())
            .map_err(|e| Problem::unprocessable("the request body is not JSON", format!("{e}")))?;
        fields.insert(key, value);
    }
    let body = fields;
    for key in body.keys() {
        if !matches!(
            key.as_str(),
            "policy" | "gate" | "evidence" | "mounts" | "attestations" | "params" | "now"
        ) {
            return Err(Problem::unprocessable(
                "the request has an unknown field",
                format!("`{key}` is not one of policy, gate, evidence, mounts, attestations, params, now"),
            ));
        }
    }
    let policy = match body.get("policy") {
        Some(Json::String(p)) => p.clone(),
        _ => {
            return Err(Problem::unprocessable(
                "the request names no policy",
                "`policy` is the path of a policy under the service's policy directory, e.g. \"payments/policy.clr\"".into(),
            ))
        }
    };
    let gate = match body.get("gate") {
        None | Some(Json::Null) => None,
        Some(Json::String(g)) => Some(g.clone()),
        Some(_) => {
            return Err(Problem::unprocessable(
                "`gate` is not a string",
                "a gate is \"FROM->TO\"".into(),
            ))
        }
    };
    Ok(Asked {
        policy,
        gate,
        body,
        evidence,
    })
}

/// The gate a request means (as `check --gate` chooses it).
pub fn gate<'p>(
    policy: &'p Policy,
    asked: &Asked,
) -> Result<&'p crate::syntax::ast::GateDecl, Problem> {
    decide::select_gate(&policy.program, asked.gate.as_deref())
        .map_err(|message| Problem::unprocessable("the gate cannot be chosen", message))
}

/// The compact JSON text of a value, as `--evidence -` would read it.
fn text_of(v: &Json) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `--param` as the command line would carry the value: a string as
/// itself when it does not parse as JSON, anything else as compact JSON.
fn param_arg(name: &str, v: &Json) -> String {
    match v {
        Json::String(s) if serde_json::from_str::<Json>(s).is_err() => format!("{name}={s}"),
        other => format!("{name}={}", text_of(other)),
    }
}

/// Decides the request: the report text, and its decision for metrics.
pub fn decide_request(
    state: &State,
    policy: &Arc<Policy>,
    asked: &Asked,
    cancelled: &super::Cancel,
) -> Result<(String, &'static str, String), Problem> {
    let program = &policy.program;
    let gate = gate(policy, asked)?;
    let limits = state.config.limits;
    let body = &asked.body;
    let mut sources = Vec::new();
    let mut evidence_args = Vec::new();
    if let Some(evidence) = &asked.evidence {
        sources.push(Source::Text {
            mount: None,
            name: "<stdin>".into(),
            text: Arc::new(evidence.clone()),
        });
        evidence_args.push("-".to_string());
    }
    if let Some(mounts) = body.get("mounts") {
        let Json::Object(mounts) = mounts else {
            return Err(Problem::unprocessable(
                "`mounts` is not an object",
                "`mounts` maps NAME to the JSON mounted at evidence.NAME".into(),
            ));
        };
        for (name, v) in mounts {
            if crate::evidence::source::split_mount(&format!("{name}=x")).is_none() {
                return Err(Problem::unprocessable(
                    "a mount name is not valid",
                    format!("`{name}`: mount names are lower-case letters, digits and `_`"),
                ));
            }
            sources.push(Source::Text {
                mount: Some(name.clone()),
                name: format!("mounts/{name}.json"),
                text: Arc::new(text_of(v)),
            });
            evidence_args.push(format!("{name}=mounts/{name}.json"));
        }
    }
    if sources.is_empty() && body.get("attestations").is_none() {
        return Err(Problem::unprocessable(
            "the request has no evidence",
            "send `evidence` (the bundle) or `mounts` ({NAME: JSON})".into(),
        ));
    }
    let mut evidence = crate::evidence::read(&sources, &limits)
        .map_err(|e| Problem::unprocessable("the evidence cannot be read", e.render(PLAIN)))?;
    let mut attestation_args = Vec::new();
    if let Some(attestations) = body.get("attestations") {
        let Json::Object(attestations) = attestations else {
            return Err(Problem::unprocessable(
                "`attestations` is not an object",
                "`attestations` maps NAME to a Sigstore bundle or DSSE envelope".into(),
            ));
        };
        let Some(trust) = &state.trust else {
            return Err(Problem::unprocessable(
                "the service verifies no attestations",
                "start `clearance serve` with `--trust TRUST.toml` to accept `attestations`".into(),
            ));
        };
        for (name, v) in attestations {
            if evidence
                .files
                .iter()
                .any(|f| f.mount.as_deref() == Some(name))
            {
                return Err(Problem::unprocessable(
                    "an evidence mount is given twice",
                    format!("`{name}` is both a mount and an attestation"),
                ));
            }
            let file = format!("attestations/{name}.json");
            let bytes = text_of(v);
            let verified =
                crate::attest::verify_bytes(name, &file, bytes.as_bytes(), trust, &limits)
                    .map_err(|e| {
                        Problem::unprocessable("an attestation does not verify", e.to_string())
                    })?;
            evidence.files.push(EvidenceText::attested(&verified));
            attestation_args.push(format!("{name}={file}"));
        }
    }
    let now = match body.get("now") {
        None | Some(Json::Null) => jiff::Timestamp::now(),
        Some(Json::String(s)) => crate::eval::builtins::parse_rfc3339(s).map_err(|e| {
            Problem::unprocessable("`now` is not an RFC 3339 time", format!("`{s}`: {e}"))
        })?,
        Some(_) => {
            return Err(Problem::unprocessable(
                "`now` is not a string",
                "`now` is an RFC 3339 time with an offset".into(),
            ))
        }
    };
    let mut param_args = Vec::new();
    let mut pairs = Vec::new();
    match body.get("params") {
        None | Some(Json::Null) => {}
        Some(Json::Object(params)) => {
            for (name, v) in params {
                let arg = param_arg(name, v);
                let value = arg
                    .split_once('=')
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default();
                pairs.push((name.clone(), value));
                param_args.push(arg);
            }
        }
        Some(_) => {
            return Err(Problem::unprocessable(
                "`params` is not an object",
                "`params` maps a param's name to its value".into(),
            ))
        }
    }
    let params = crate::params::parse_overrides(program, &pairs)
        .map_err(|e| Problem::unprocessable("a param is not valid", e.to_string()))?;
    let mut options = EvalOptions {
        now,
        params: params.clone(),
        limits,
        ledger: None,
    };
    let mut ledger_read = None;
    if let (Some(_), Some(spec)) = (&state.ledger, &state.config.ledger) {
        if !state.ledger_trust.is_empty() {
            let request = Request::new(program, Target::Gate(gate), &evidence, &options);
            let digests = decide::subject_digests(&request, gate).map_err(|e| {
                let title = match e {
                    decide::NoSubject::Evidence(_) => "the evidence cannot be read",
                    decide::NoSubject::Subject(_) => "the gate's subject",
                };
                Problem::unprocessable(title, e.render(program, PLAIN))
            })?;
            let (value, snapshot) = state
                .with_ledger(|store| {
                    crate::ledger::read(store, &digests, None, &state.ledger_trust)
                })
                .map_err(|e| {
                    state.metrics.ledger_error();
                    Problem::unavailable(&e.to_string())
                })?;
            options.ledger = Some(value);
            ledger_read = Some(decide::LedgerRead {
                ledger: spec.clone(),
                trust: state
                    .config
                    .ledger_trust
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                snapshot,
            });
        }
    }
    let request = Request::new(program, Target::Gate(gate), &evidence, &options);
    let result = decide::decide(&request)
        .map_err(|e| Problem::unprocessable("the evidence cannot be decided", e.render(PLAIN)))?;
    let trust = if attestation_args.is_empty() {
        None
    } else {
        state.config.trust.as_ref().map(|t| t.display().to_string())
    };
    let invocation = Invocation {
        command: "check",
        policy: asked.policy.clone(),
        target: gate.label(),
        now,
        params: param_args,
        waivers: Vec::new(),
        evidence: evidence_args,
        attestations: attestation_args,
        // As `check` names `--trust` only with `--attestation`.
        trust,
        strict_evidence: false,
        limits,
        ledger: ledger_read,
    };
    let shown: Evidence = evidence;
    let report = crate::report::gate_json(
        program,
        &result,
        &JsonContext {
            evidence: &shown,
            record: Some(decide::record(program, &shown, &invocation, &result)),
            command: "check",
            subject: &gate.label(),
            gate: Some(gate),
            now: now.to_string(),
            params: crate::params::effective(program, &params),
        },
    );
    if let (Some(_), Some(key)) = (&state.ledger, &state.signing) {
        let envelope =
            crate::sign::attestation_envelope(gate, &result, &report, key).map_err(|e| {
                Problem::unprocessable(
                    "the decision cannot be recorded",
                    e.render(&program.sources, PLAIN),
                )
            })?;
        // Only a request still waited for is recorded: after a timeout
        // answered 503, nothing may be appended (no decision was given).
        if !cancelled.start_recording() {
            return Err(Problem::unavailable("the request timed out"));
        }
        state
            .with_ledger(|store| crate::ledger::record(store, &envelope, key))
            .map_err(|e| {
                state.metrics.ledger_error();
                Problem::unavailable(&format!("the ledger cannot be written: {e}"))
            })?;
    }
    Ok((report, result.decision.as_str(), gate.label()))
}
