//! Properties, with a bounded number of cases so they run in CI:
//! - determinism: the same inputs give byte-identical JSON, whatever TZ and LANG;
//! - the evaluator never panics on arbitrary evidence for the example policies;
//! - fail closed: removing evidence a rule requires (read directly, not through
//!   `exists` or `??`) always makes that rule error, never pass.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::check::Program;
use clearance::eval::{self, EvalOptions, Outcome};
use clearance::report::{self, Evidence, JsonContext};
use proptest::prelude::*;
use serde_json::Value as Json;
use std::path::Path;
use std::sync::OnceLock;

mod common;
use common::{pointers, reports};

const POLICY: &str = "policies/payments/policy.clr";
const BUNDLES: &[&str] = &["allowed", "denied", "missing-evidence"];

fn program() -> &'static Program {
    static P: OnceLock<Program> = OnceLock::new();
    P.get_or_init(|| clearance::compile_path(Path::new(POLICY), &[]).unwrap())
}

fn bundle(name: &str) -> Json {
    serde_json::from_str(
        &std::fs::read_to_string(format!("policies/payments/evidence/{name}.json")).unwrap(),
    )
    .unwrap()
}

fn options() -> EvalOptions {
    EvalOptions::at("2026-11-20T12:00:00Z".parse().unwrap())
}

/// Every outcome of every gate and trigger, by (block, rule).
fn outcomes(evidence: &Json) -> Vec<(String, String, Outcome)> {
    let p = program();
    let v = eval::parse_json(&evidence.to_string(), Default::default()).unwrap();
    let mut out = Vec::new();
    for g in &p.gates {
        for r in eval::evaluate_gate(p, g, &v, &options()).rules {
            out.push((g.label(), r.name, r.outcome));
        }
    }
    for s in &p.stages {
        for r in eval::evaluate_triggers(p, s, &v, &options()).rules {
            out.push((s.name.clone(), r.name, r.outcome));
        }
    }
    out
}

/// Rules that look at missing evidence on purpose.
fn tolerates_missing(block: &str, rule: &str) -> bool {
    let p = program();
    let decl = p
        .gates
        .iter()
        .filter(|g| g.label() == block)
        .flat_map(|g| g.rules.iter())
        .chain(
            p.stages
                .iter()
                .filter(|s| s.name == block)
                .flat_map(|s| s.triggers.iter()),
        )
        .find(|r| r.name.name == rule)
        .unwrap();
    let mut found = false;
    for e in decl
        .whens
        .iter()
        .chain(&decl.requires)
        .chain(decl.lets.iter().map(|l| &l.value))
    {
        e.walk(&mut |x| {
            if matches!(
                x.kind,
                clearance::syntax::ast::ExprKind::Exists(_)
                    | clearance::syntax::ast::ExprKind::Binary(
                        clearance::syntax::ast::BinaryOp::Coalesce,
                        _,
                        _
                    )
            ) {
                found = true;
            }
        });
    }
    found
}

/// Pointers of the required fields of an inferred schema, through objects only.
fn required_pointers(schema: &Json, at: String, out: &mut Vec<String>) {
    let Some(req) = schema.get("required").and_then(Json::as_array) else {
        return;
    };
    for k in req.iter().filter_map(Json::as_str) {
        let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
        out.push(p.clone());
        if let Some(sub) = schema.get("properties").and_then(|props| props.get(k)) {
            required_pointers(sub, p, out);
        }
    }
}

fn remove(v: &mut Json, pointer: &str) {
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    let last = last.replace("~1", "/").replace("~0", "~");
    match v.pointer_mut(parent) {
        Some(Json::Object(m)) => {
            m.shift_remove(&last);
        }
        Some(Json::Array(a)) => {
            if let Ok(i) = last.parse::<usize>() {
                if i < a.len() {
                    a.remove(i);
                }
            }
        }
        _ => {}
    }
}

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        (-1e12f64..1e12).prop_map(|f| serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null)),
        "[a-z0-9:.-]{0,12}".prop_map(Json::String),
        prop::sample::select(vec![
            "2026-11-18T09:00:00Z",
            "1.4.2",
            "sha256:ab",
            "critical",
            "release-manager",
            "unit"
        ])
        .prop_map(|s| Json::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "tests", "suites", "failed", "passed", "name", "artifact", "digest",
                        "coverage", "x"
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Json::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Fail closed: removing evidence a rule requires (a path its conditions
    /// read directly, not through `exists` or `??`) never leaves it passing:
    /// the rule errors, and the promotion is denied.
    #[test]
    fn removing_required_evidence_errors_the_rule(rule_pick in any::<prop::sample::Index>(), path_pick in any::<prop::sample::Index>()) {
        let p = program();
        let gate = p.gates.iter().find(|g| g.label() == "staging -> prod").unwrap();
        let candidates: Vec<_> = gate.rules.iter().filter(|r| !tolerates_missing(&gate.label(), &r.name.name)).collect();
        let rule = *rule_pick.get(&candidates);
        // The paths this rule alone requires, from the schema of a gate holding only it.
        let mut single = p.clone();
        if let Some(g) = single.gates.iter_mut().find(|g| g.label() == gate.label()) {
            g.rules.retain(|r| r.name.name == rule.name.name);
            // What the gate's subject reads is not this rule's.
            g.subject = None;
        }
        let schema = clearance::schema::infer(&single, single.gates.iter().find(|g| g.label() == gate.label()));
        let mut required = Vec::new();
        required_pointers(&schema, String::new(), &mut required);
        prop_assume!(!required.is_empty());
        let pointer = path_pick.get(&required).clone();
        let mut reduced = bundle("allowed");
        remove(&mut reduced, &pointer);
        let after = outcomes(&reduced);
        let (_, _, now) = after.iter().find(|(b, r, _)| *b == gate.label() && *r == rule.name.name).unwrap();
        prop_assert!(
            *now == Outcome::Error,
            "removing required {pointer} left {} as {now:?}", rule.name.name
        );
    }

    /// Arbitrary evidence, whole or grafted into the example bundle, never
    /// panics the evaluator or the reports.
    #[test]
    fn arbitrary_evidence_never_panics(graft in arb_json(), pick in any::<prop::sample::Index>(), whole in any::<bool>()) {
        let evidence = if whole {
            graft
        } else {
            let mut doc = bundle("allowed");
            let mut all = Vec::new();
            pointers(&doc, String::new(), &mut all);
            let pointer = pick.get(&all).clone();
            if let Some(slot) = doc.pointer_mut(&pointer) {
                *slot = graft;
            }
            doc
        };
        let p = program();
        let v = eval::parse_json(&evidence.to_string(), Default::default()).unwrap();
        let text = std::sync::Arc::new(evidence.to_string());
        let files = Evidence { files: vec![report::EvidenceText::new(None, "e.json".into(), text)] };
        for g in &p.gates {
            let r = eval::evaluate_gate(p, g, &v, &options());
            let _ = report::render_gate(p, &g.label(), &r, Default::default(), &files);
            let _ = report::gate_json(p, &r, &JsonContext {
                command: "check", subject: "x", gate: None, now: "now".into(), params: Vec::new(), evidence: &files, record: None,
            });
        }
        for s in &p.stages {
            let _ = eval::evaluate_triggers(p, s, &v, &options());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The same inputs give byte-identical output in every environment.
    #[test]
    fn output_is_deterministic_across_environments(
        which in 0usize..3,
        format in prop::sample::select(vec!["json", "human", "sarif", "markdown"]),
        env in prop::sample::select(vec![("Pacific/Auckland", "de_DE.UTF-8"), ("America/Los_Angeles", "ja_JP.UTF-8"), ("Asia/Kolkata", "C")]),
    ) {
        let run = |tz: &str, lang: &str| {
            assert_cmd::Command::cargo_bin("clearance").unwrap()
                .env("TZ", tz).env("LANG", lang).env("LC_ALL", lang).env("NO_COLOR", "1")
                .args(["check", POLICY, "--gate", "staging->prod", "--now", "2026-11-20T12:00:00Z", "--format", format, "--evidence"])
                .arg(format!("policies/payments/evidence/{}.json", BUNDLES[which]))
                .output().unwrap()
        };
        let a = run("UTC", "C");
        let b = run(env.0, env.1);
        prop_assert_eq!(a.status.code(), b.status.code());
        prop_assert!(a.stdout == b.stdout, "{} output differs under TZ={} LANG={}", format, env.0, env.1);
    }
}

/// Projection loading (only what the rules read) decides and reports exactly
/// like loading everything.
fn assert_projection_is_invisible(program: &Program, text: &str) {
    for g in &program.gates {
        let projection = eval::projection::of_rules(program, &g.lets, &g.rules);
        let full = eval::parse_json(text, Default::default());
        let part = eval::projection::parse_projected(text, Default::default(), &projection);
        match (full, part) {
            (Ok(full), Ok(part)) => {
                let render = |v: &eval::Value| {
                    reports(program, &eval::evaluate_gate(program, g, v, &options()))
                };
                assert_eq!(
                    render(&full),
                    render(&part),
                    "projection changed the report of {}",
                    g.label()
                );
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "full load {:?} but projected load {:?}",
                a.is_ok(),
                b.is_ok()
            ),
        }
    }
}

/// The library's two passes for callers without the files' texts: every
/// rule on a lean load (unread fields left out), then, if some rule failed
/// or errored, those rules explained on a second load holding only what
/// their explanations show. (`clearance check` explains on the lean load
/// itself, with the texts: `tests/shown_values.rs`.)
/// The result must be the one a single load for explanations gives, in JSON
/// and in the human report; the first pass decides alone exactly when no rule
/// needs explaining.
fn assert_two_passes_agree(program: &Program, text: &str) {
    for g in &program.gates {
        let explained = eval::projection::of_rules(program, &g.lets, &g.rules);
        let lean = eval::projection::for_decision(program, &g.lets, &g.rules);
        let full = eval::projection::parse_projected(text, Default::default(), &explained);
        let part = eval::projection::parse_for_decision(text, Default::default(), &lean);
        match (full, part) {
            (Ok(full), Ok(part)) => {
                let reference = eval::evaluate_gate(program, g, &full, &options());
                let clean = reference.rules.iter().all(|r| {
                    !matches!(r.outcome, Outcome::Fail | Outcome::Error) && r.waiver.is_none()
                });
                let two = match eval::first_pass(program, g, &part, &options()) {
                    eval::FirstPass::Decided(result) => {
                        assert!(
                            clean,
                            "the first pass decided {} although a rule needs explaining",
                            g.label()
                        );
                        result
                    }
                    eval::FirstPass::Explain(pending) => {
                        assert!(
                            !clean,
                            "the first pass handed over {} although every rule passed",
                            g.label()
                        );
                        let projection =
                            eval::projection::of_rules(program, &g.lets, pending.rules());
                        let second = eval::projection::parse_projected(
                            text,
                            Default::default(),
                            &projection,
                        )
                        .expect("the second load accepts what the first accepted");
                        pending.finish(program, &second, &options())
                    }
                };
                assert_eq!(
                    reports(program, &two),
                    reports(program, &reference),
                    "two passes changed the reports of {}",
                    g.label()
                );
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "load for explanations {:?} but lean load {:?}",
                a.is_ok(),
                b.is_ok()
            ),
        }
    }
}

#[test]
fn projection_is_invisible_on_every_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pairs: Vec<(std::path::PathBuf, std::path::PathBuf)> = Vec::new();
    for bundle in BUNDLES {
        pairs.push((
            root.join(POLICY),
            root.join(format!("policies/payments/evidence/{bundle}.json")),
        ));
    }
    for dir in std::fs::read_dir(root.join("policies/cookbook")).unwrap() {
        let dir = dir.unwrap().path();
        for b in ["pass.json", "fail.json"] {
            pairs.push((dir.join("policy.clr"), dir.join(b)));
        }
    }
    for entry in std::fs::read_dir(root.join("tests/runtime")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "clr") {
            pairs.push((p.clone(), p.with_extension("json")));
        }
    }
    for entry in std::fs::read_dir(root.join("tests/hostile/evidence")).unwrap() {
        pairs.push((
            root.join("tests/hostile/evidence_policy.clr"),
            entry.unwrap().path(),
        ));
    }
    for (policy, evidence) in pairs {
        let program = clearance::compile_path(&policy, &[]).unwrap();
        let Ok(text) = std::fs::read_to_string(&evidence) else {
            continue;
        };
        assert_projection_is_invisible(&program, text.trim_start_matches('\u{FEFF}'));
        assert_two_passes_agree(&program, text.trim_start_matches('\u{FEFF}'));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn projection_is_invisible_on_arbitrary_evidence(graft in arb_json(), pick in any::<prop::sample::Index>()) {
        let mut doc = bundle("denied");
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pointer = pick.get(&all).clone();
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = graft;
        }
        assert_projection_is_invisible(program(), &doc.to_string());
        assert_two_passes_agree(program(), &doc.to_string());
    }
}
