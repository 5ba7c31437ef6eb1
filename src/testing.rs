//! `clearance test`: policy test files, their cases, and rule coverage.
//!
//! A test file (`*.test.toml`, next to the policy) names the policy and holds
//! cases. Each case picks a gate (or a stage, for rollback triggers), an
//! evidence fixture, optional RFC 6902 patches that derive a variant from it,
//! `now` and params, and what is expected: the decision and rule outcomes, or
//! a compile error by code. Format: docs/testing.md.

use crate::check::Program;
use crate::decide::{self, Target};
use crate::eval::{self, EvalOptions, GateResult, Outcome};
use crate::evidence::{self, Load, Source};
use crate::limits::Limits;
use crate::report::{self, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The policy under test, relative to the test file.
    pub policy: Option<String>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(rename = "case", default)]
    pub cases: Vec<CaseSpec>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub gate: Option<String>,
    pub stage: Option<String>,
    pub evidence: Option<String>,
    /// A JSON fixture of the `ledger` value rules read (`{"decisions": [...]}`).
    pub ledger: Option<String>,
    pub now: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub waivers: Vec<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub name: String,
    pub policy: Option<String>,
    pub gate: Option<String>,
    pub stage: Option<String>,
    pub evidence: Option<String>,
    /// A JSON fixture of the `ledger` value, as in [`Defaults::ledger`].
    pub ledger: Option<String>,
    pub now: Option<String>,
    pub params: Option<BTreeMap<String, toml::Value>>,
    pub waivers: Option<Vec<String>>,
    /// RFC 6902 operations applied to the fixture before evaluating.
    #[serde(default)]
    pub patch: Vec<serde_json::Value>,
    /// `allowed` / `denied` for a gate; `rollback` / `stay` for a stage.
    pub expect: Option<String>,
    /// Exactly these rules fail (every rule not listed in any outcome list passes).
    pub fails: Option<Vec<String>>,
    /// Alias of `fails` for rollback triggers: exactly these triggers fire.
    pub fires: Option<Vec<String>>,
    pub errors: Option<Vec<String>>,
    pub skipped: Option<Vec<String>>,
    pub waived: Option<Vec<String>>,
    /// Expected outcomes of some rules, leaving the others unchecked.
    pub outcomes: Option<BTreeMap<String, String>>,
    /// The policy must not compile, with an error of this code.
    pub expect_error: Option<String>,
}

/// A problem with a test file itself (not a failing case): exit 2.
#[derive(Debug)]
pub struct TestFileError(pub String);

/// The result of one case.
#[derive(Debug)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    pub passed: bool,
    /// What differed, one line each.
    pub mismatches: Vec<String>,
    /// Diagnostics of the rules that differed.
    pub details: String,
}

/// What the cases saw of each rule, for `--coverage`.
#[derive(Default, Debug)]
pub struct Coverage {
    /// (policy, block, rule) -> seen outcomes and the requires that were false
    pub rules: BTreeMap<(String, String, String), RuleCoverage>,
}

#[derive(Default, Debug, Clone)]
pub struct RuleCoverage {
    pub pass: bool,
    pub fail: bool,
    pub error: bool,
    /// (line, text) of each `require`, and whether a case saw it false.
    pub requires: Vec<(usize, String, bool)>,
}

impl Coverage {
    fn register(&mut self, policy: &str, program: &Program) {
        let blocks = program.gates.iter().map(|g| (g.label(), &g.rules)).chain(
            program
                .stages
                .iter()
                .map(|s| (format!("stage {}", s.name), &s.triggers)),
        );
        for (block, rules) in blocks {
            for r in rules.iter() {
                let key = (policy.to_string(), block.clone(), r.name.name.clone());
                self.rules.entry(key).or_insert_with(|| RuleCoverage {
                    requires: r
                        .requires
                        .iter()
                        .map(|e| {
                            let (_, line, _) = program.sources.location(e.span);
                            (line, program.sources.snippet(e.span).to_string(), false)
                        })
                        .collect(),
                    ..RuleCoverage::default()
                });
            }
        }
    }

    fn record(&mut self, policy: &str, block: &str, program: &Program, result: &GateResult) {
        for r in &result.rules {
            let key = (policy.to_string(), block.to_string(), r.name.clone());
            let Some(c) = self.rules.get_mut(&key) else {
                continue;
            };
            let outcome = r.waiver.as_ref().map(|w| w.covered).unwrap_or(r.outcome);
            match outcome {
                Outcome::Pass => c.pass = true,
                Outcome::Fail => c.fail = true,
                Outcome::Error => c.error = true,
                _ => {}
            }
            for p in r.problems.iter().filter(|p| p.error.is_none()) {
                let (_, line, _) = program.sources.location(p.span);
                for req in c.requires.iter_mut().filter(|(l, _, _)| *l == line) {
                    req.2 = true;
                }
            }
        }
    }

    /// Percentage of rules seen both passing and failing.
    pub fn percent(&self) -> f64 {
        if self.rules.is_empty() {
            return 100.0;
        }
        let both = self.rules.values().filter(|c| c.pass && c.fail).count();
        both as f64 * 100.0 / self.rules.len() as f64
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut current = (String::new(), String::new());
        let mark = |b: bool| if b { "✓" } else { "·" };
        for ((policy, block, rule), c) in &self.rules {
            if current.0 != *policy {
                out.push_str(&format!("coverage of {policy}\n"));
            }
            if current != (policy.clone(), block.clone()) {
                out.push_str(&format!("  {block}\n"));
                current = (policy.clone(), block.clone());
            }
            out.push_str(&format!(
                "    {rule:<36} pass {}  fail {}  error {}\n",
                mark(c.pass),
                mark(c.fail),
                mark(c.error)
            ));
            for (line, text, seen) in &c.requires {
                if !seen {
                    out.push_str(&format!("      never false: line {line}: require {text}\n"));
                }
            }
        }
        let both = self.rules.values().filter(|c| c.pass && c.fail).count();
        out.push_str(&format!(
            "rule coverage: {both} of {} rules seen passing and failing ({:.1}%)\n",
            self.rules.len(),
            self.percent()
        ));
        out
    }
}

fn resolve(base: &Path, rel: &str) -> PathBuf {
    base.join(rel)
}

/// Parses a test file, with a diagnostic pointing into it on error.
pub fn read_test_file(path: &Path) -> Result<TestFile, TestFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        TestFileError(format!(
            "error: cannot read test file `{}`: {e}\n",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| crate::syntax::span::line_col(&text, s.start))
            .unwrap_or((0, 0));
        TestFileError(format!(
            "error: invalid test file `{}` at {line}:{col}: {}\n",
            path.display(),
            e.message()
        ))
    })
}

struct Context<'a> {
    file: &'a Path,
    dir: &'a Path,
    style: Style,
    limits: &'a Limits,
}

impl Context<'_> {
    fn error(&self, case: &str, message: impl std::fmt::Display) -> TestFileError {
        TestFileError(format!(
            "error: {} case `{case}`: {message}\n",
            self.file.display()
        ))
    }
}

fn toml_params(params: &BTreeMap<String, toml::Value>) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// Runs every case of one test file (filtered by name), recording coverage.
/// Policies, fixtures and evaluation are held to `limits`, as `check` holds them.
pub fn run_file(
    path: &Path,
    filter: Option<&str>,
    style: Style,
    limits: &Limits,
    coverage: &mut Coverage,
) -> Result<Vec<CaseResult>, TestFileError> {
    let spec = read_test_file(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let ctx = Context {
        file: path,
        dir,
        style,
        limits,
    };
    let mut programs: BTreeMap<String, Result<Program, String>> = BTreeMap::new();
    let mut results = Vec::new();
    for case in &spec.cases {
        if filter.is_some_and(|f| !case.name.contains(f)) {
            continue;
        }
        let policy_rel = case
            .policy
            .clone()
            .or_else(|| spec.policy.clone())
            .ok_or_else(|| ctx.error(&case.name, "no `policy` for this case or the file"))?;
        let policy_path = resolve(dir, &policy_rel);
        let policy_key = policy_path.display().to_string();
        let waivers: Vec<PathBuf> = case
            .waivers
            .clone()
            .unwrap_or_else(|| spec.defaults.waivers.clone())
            .iter()
            .map(|w| resolve(dir, w))
            .collect();
        let compiled = programs
            .entry(format!("{policy_key}|{waivers:?}"))
            .or_insert_with(|| {
                crate::compile_path_with(&policy_path, &waivers, limits).map_err(|f| {
                    let codes: Vec<String> = f.errors.iter().map(|e| e.code()).collect();
                    format!(
                        "{}\n{}",
                        codes.join(","),
                        report::render_compile_failure(&f, style)
                    )
                })
            });
        let result = match (compiled, &case.expect_error) {
            (Err(text), Some(code)) => {
                let codes = text.lines().next().unwrap_or("");
                let passed = codes.split(',').any(|c| c == code);
                CaseResult {
                    file: path.display().to_string(),
                    name: case.name.clone(),
                    passed,
                    mismatches: if passed {
                        Vec::new()
                    } else {
                        vec![format!("expected compile error {code}, got {codes}")]
                    },
                    details: if passed { String::new() } else { text.clone() },
                }
            }
            (Ok(_), Some(code)) => CaseResult {
                file: path.display().to_string(),
                name: case.name.clone(),
                passed: false,
                mismatches: vec![format!(
                    "expected compile error {code}, but the policy compiles"
                )],
                details: String::new(),
            },
            (Err(text), None) => {
                return Err(ctx.error(
                    &case.name,
                    format!(
                        "the policy `{policy_rel}` does not compile:\n{}",
                        text.split_once('\n').map(|x| x.1).unwrap_or(text)
                    ),
                ))
            }
            (Ok(program), None) => {
                coverage.register(&policy_key, program);
                run_case(&ctx, &spec.defaults, case, program, &policy_key, coverage)?
            }
        };
        results.push(result);
    }
    Ok(results)
}

fn run_case(
    ctx: &Context<'_>,
    defaults: &Defaults,
    case: &CaseSpec,
    program: &Program,
    policy_key: &str,
    coverage: &mut Coverage,
) -> Result<CaseResult, TestFileError> {
    let err = |m: String| ctx.error(&case.name, m);
    // The fixture, patched.
    let evidence_rel = case
        .evidence
        .clone()
        .or_else(|| defaults.evidence.clone())
        .ok_or_else(|| err("no `evidence` fixture for this case or in [defaults]".into()))?;
    let evidence_path = resolve(ctx.dir, &evidence_rel);
    let shown = evidence_path.display().to_string();
    // The fixture goes through the reader `check` uses, so a fixture that
    // `check` would refuse (duplicate keys, too deep, over a limit) is
    // refused here too, with the same message.
    let fixture_source = [Source::File {
        mount: None,
        path: evidence_path.clone(),
    }];
    let fixture = evidence::read(&fixture_source, ctx.limits)
        .map_err(|e| err(format!("fixture: {}", e.message())))?;
    let loaded = evidence::assemble(&fixture, ctx.limits, Load::Full)
        .map_err(|e| err(format!("fixture: {}", e.message())))?;
    // A patched fixture is decided on its patched text; locations point
    // into the fixture on disk, so only an unpatched one has them.
    let (decided_on, shown_in_reports) = if case.patch.is_empty() {
        (fixture.clone(), fixture)
    } else {
        // Patched as its reader loaded it, so a YAML or JUnit fixture is
        // patched in the shape rules see (and decided on as JSON).
        let mut doc = loaded.to_json();
        let patch: json_patch::Patch =
            serde_json::from_value(serde_json::Value::Array(case.patch.clone()))
                .map_err(|e| err(format!("invalid patch: {e}")))?;
        json_patch::patch(&mut doc, &patch.0)
            .map_err(|e| err(format!("patch does not apply: {e}")))?;
        let patched = [Source::Text {
            mount: None,
            name: format!("{shown} (patched)"),
            text: std::sync::Arc::new(doc.to_string()),
        }];
        let decided_on = evidence::read(&patched, ctx.limits).map_err(|e| {
            err(format!(
                "patched fixture is not valid evidence: {}",
                e.message()
            ))
        })?;
        (decided_on, report::Evidence::default())
    };
    let now_text = case
        .now
        .clone()
        .or_else(|| defaults.now.clone())
        .unwrap_or_else(|| "2026-01-01T00:00:00Z".into());
    let now = now_text
        .parse()
        .map_err(|e| err(format!("`now = \"{now_text}\"` is not RFC 3339: {e}")))?;
    let mut raw = toml_params(&defaults.params);
    if let Some(p) = &case.params {
        raw.extend(toml_params(p));
    }
    let params = crate::params::parse_overrides(program, &raw).map_err(err)?;
    let ledger = match case.ledger.as_ref().or(defaults.ledger.as_ref()) {
        None => None,
        Some(rel) => Some(ledger_fixture(&resolve(ctx.dir, rel), ctx.limits).map_err(err)?),
    };
    let options = EvalOptions {
        now,
        params,
        limits: *ctx.limits,
        ledger,
    };
    let stage = case.stage.clone().or_else(|| {
        if case.gate.is_some() {
            None
        } else {
            defaults.stage.clone()
        }
    });
    let (block, target, rollback) = if let Some(stage_name) = stage {
        let stage = program
            .stage(&stage_name)
            .ok_or_else(|| err(format!("the policy has no stage `{stage_name}`")))?;
        (
            format!("stage {}", stage.name),
            Target::Rollback(stage),
            true,
        )
    } else {
        let wanted = case
            .gate
            .clone()
            .or_else(|| defaults.gate.clone())
            .ok_or_else(|| err("no `gate` (or `stage`) for this case or in [defaults]".into()))?;
        let (from, to) = wanted
            .split_once("->")
            .ok_or_else(|| err(format!("gate `{wanted}` is not FROM -> TO")))?;
        let gate = program
            .gate(from.trim(), to.trim())
            .ok_or_else(|| err(format!("the policy has no gate `{wanted}`")))?;
        (gate.label(), Target::Gate(gate), false)
    };
    let result = decide::decide(&decide::Request::new(
        program,
        target,
        &decided_on,
        &options,
    ))
    .map_err(|e| err(format!("cannot decide: {e}")))?;
    coverage.record(policy_key, &block, program, &result);
    let mut mismatches = Vec::new();
    let mut differing = Vec::new();
    // A misspelt expectation is a broken test file, not a failing case.
    let decisions: &[&str] = if rollback {
        &["rollback", "stay"]
    } else {
        &["allowed", "denied"]
    };
    if let Some(want) = case.expect.as_deref().filter(|w| !decisions.contains(w)) {
        return Err(err(format!(
            "`expect = \"{want}\"` is not a decision of `{block}`; write {}",
            decisions
                .iter()
                .map(|d| format!("\"{d}\""))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    const OUTCOMES: &[&str] = &["pass", "fail", "error", "skipped", "waived"];
    if let Some((rule, outcome)) = case
        .outcomes
        .iter()
        .flatten()
        .find(|(_, o)| !OUTCOMES.contains(&o.as_str()))
    {
        return Err(err(format!(
            "`{rule} = \"{outcome}\"` in `outcomes` is not an outcome; write one of {}",
            OUTCOMES.join(", ")
        )));
    }
    if let Some(want) = &case.expect {
        let got = match (rollback, result.decision) {
            (true, eval::Decision::Denied) => "rollback",
            (true, eval::Decision::Allowed) => "stay",
            (false, d) => d.as_str(),
        };
        if want != got {
            mismatches.push(format!("decision: expected {want}, got {got}"));
        }
    }
    // Expected outcome of each rule.
    let mut expected: BTreeMap<String, &str> = BTreeMap::new();
    let exact = [
        &case.fails,
        &case.fires,
        &case.errors,
        &case.skipped,
        &case.waived,
    ]
    .iter()
    .any(|l| l.is_some());
    for (list, outcome) in [
        (&case.fails, "fail"),
        (&case.fires, "fail"),
        (&case.errors, "error"),
        (&case.skipped, "skipped"),
        (&case.waived, "waived"),
    ] {
        for name in list.iter().flatten() {
            expected.insert(name.clone(), outcome);
        }
    }
    for (name, outcome) in case.outcomes.iter().flatten() {
        expected.insert(name.clone(), outcome.as_str());
    }
    for name in expected.keys() {
        if !result.rules.iter().any(|r| r.name == *name) {
            return Err(err(format!("`{name}` is not a rule of `{block}`")));
        }
    }
    for r in &result.rules {
        let want = match expected.get(&r.name) {
            Some(w) => Some(*w),
            None if exact => Some("pass"),
            None => None,
        };
        if let Some(want) = want {
            if want != r.outcome.as_str() {
                mismatches.push(format!(
                    "{}: expected {want}, got {}",
                    r.name,
                    r.outcome.as_str()
                ));
                differing.push(r);
            }
        }
    }
    let mut details = String::new();
    for r in differing {
        if !r.problems.is_empty() {
            details.push_str(&report::render_rule(
                program,
                r,
                ctx.style,
                &shown_in_reports,
            ));
        }
    }
    Ok(CaseResult {
        file: ctx.file.display().to_string(),
        name: case.name.clone(),
        passed: mismatches.is_empty(),
        mismatches,
        details,
    })
}

/// JUnit XML for a run: one test suite per test file, one test case per case.
pub fn junit(results: &[CaseResult]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("clearance test");
    let mut suites: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        suites.entry(r.file.as_str()).or_default().push(r);
    }
    for (file, cases) in suites {
        let mut suite = TestSuite::new(file);
        for c in cases {
            let status = if c.passed {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(c.mismatches.join("; "));
                s.set_description(format!("{}\n{}", c.mismatches.join("\n"), c.details));
                s
            };
            let mut tc = TestCase::new(c.name.as_str(), status);
            tc.set_classname(file);
            suite.add_test_case(tc);
        }
        report.add_test_suite(suite);
    }
    report::text::xml_chars(&report.to_string().unwrap_or_default()).into_owned()
}

/// A `ledger` fixture: read by the JSON evidence reader (so duplicate keys
/// and limits are refused as for evidence), and of the shape `check`
/// builds: an object whose `decisions` is a list of objects with `seq`,
/// `gate`, `verdict`, `decided_at`, `policy_sha256` and `signer`. A policy
/// test can then decide a rule that reads signed history without a ledger.
fn ledger_fixture(
    path: &Path,
    limits: &crate::limits::Limits,
) -> Result<crate::eval::Value, String> {
    let shown = path.display().to_string();
    let source = [Source::File {
        mount: None,
        path: path.to_path_buf(),
    }];
    let read =
        evidence::read(&source, limits).map_err(|e| format!("ledger fixture: {}", e.message()))?;
    let value = evidence::assemble(&read, limits, Load::Full)
        .map_err(|e| format!("ledger fixture: {}", e.message()))?;
    let json = value.to_json();
    let decisions = json
        .get("decisions")
        .and_then(|d| d.as_array())
        .ok_or_else(|| {
            format!("ledger fixture {shown}: an object with a `decisions` list, as `ledger` is")
        })?;
    for (i, d) in decisions.iter().enumerate() {
        for field in crate::check::ledger::DECISION_FIELDS {
            if d.get(field).is_none() {
                return Err(format!(
                    "ledger fixture {shown}: decision {i} has no `{field}` (a decision has {})",
                    crate::check::ledger::DECISION_FIELDS.join(", ")
                ));
            }
        }
    }
    Ok(value)
}
