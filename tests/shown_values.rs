//! Every value a report shows as evidence is the value in the file: for
//! every denied example and for generated evidence, decided the way `check`
//! decides (a lean load, explained on the same load), each value
//! the JSON report cites at a pointer equals the value at that pointer in
//! the fully parsed file, and each value the human report prints after a
//! pointer is a prefix of that value's text.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::decide::{self, Request, Target};
use clearance::eval::{self, EvalOptions};
use clearance::evidence::{self, Source};
use clearance::report::{self, JsonContext};
use proptest::prelude::*;
use std::path::Path;

fn options() -> EvalOptions {
    EvalOptions::at("2026-11-20T12:00:00Z".parse().unwrap())
}

/// The reports of one decision, and the checks on what they show.
fn check_shown_values(
    program: &clearance::check::Program,
    target: Target<'_>,
    name: &str,
    text: &str,
) -> usize {
    let sources = [Source::Text {
        mount: None,
        name: name.to_string(),
        text: text.to_string().into(),
    }];
    check_shown_values_of(program, target, name, &sources, Vec::new())
}

/// [`check_shown_values`] for any sources (YAML and JUnit mounts too): the
/// file values are the bundle loaded whole by its readers.
fn check_shown_values_of(
    program: &clearance::check::Program,
    target: Target<'_>,
    name: &str,
    sources: &[Source],
    params: Vec<(String, eval::Value)>,
) -> usize {
    let mut options = options();
    options.params = params;
    let files = evidence::read(sources, &options.limits).unwrap();
    let result = decide::decide(&Request::new(program, target, &files, &options)).unwrap();
    let full = evidence::assemble(&files, &options.limits, evidence::Load::Full)
        .unwrap()
        .to_json();
    let (human, json) = reports_of(program, &result, &files);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut checked = 0;
    for rule in report["rules"].as_array().unwrap() {
        for problem in rule["problems"].as_array().into_iter().flatten() {
            for cited in problem["evidence"].as_array().into_iter().flatten() {
                let pointer = cited["pointer"].as_str().unwrap();
                let in_file = full
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("{name}: no {pointer}"));
                assert_eq!(
                    &cited["value"], in_file,
                    "{name}: JSON cites {pointer} as another value"
                );
                checked += 1;
            }
        }
    }
    // The human report: `  /pointer = VALUE` and `/pointer ("name"): VALUE`.
    for line in human.lines() {
        let line = line.trim_start().trim_start_matches("evidence: ");
        if !line.starts_with('/') {
            continue;
        }
        let line = line.split("  (at ").next().unwrap();
        let (pointer, shown) = match line.split_once(" = ") {
            Some((p, v)) if !p.contains(' ') => (p, v),
            _ => match line.split_once("): ") {
                Some((head, v)) if v.starts_with(['{', '[']) => {
                    (head.split(' ').next().unwrap(), v)
                }
                _ => continue,
            },
        };
        let Some(in_file) = full.pointer(pointer) else {
            continue;
        };
        let value = eval::parse_json(&in_file.to_string(), Default::default()).unwrap();
        let whole = value.to_string();
        let prefix = shown.trim_end_matches('…');
        assert!(
            whole.starts_with(prefix),
            "{name}: the report shows {pointer} as {shown}, the file holds {whole}"
        );
        checked += 1;
    }
    checked
}

#[test]
fn every_denied_example_shows_the_values_in_its_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let payments =
        clearance::compile_path(&root.join("policies/payments/policy.clr"), &[]).unwrap();
    let mut checked = 0;
    for bundle in ["denied", "missing-evidence"] {
        let text =
            std::fs::read_to_string(root.join(format!("policies/payments/evidence/{bundle}.json")))
                .unwrap();
        for gate in &payments.gates {
            checked += check_shown_values(&payments, Target::Gate(gate), bundle, &text);
        }
    }
    let firing =
        std::fs::read_to_string(root.join("policies/payments/metrics/firing.json")).unwrap();
    let prod = payments.stage("prod").unwrap();
    checked += check_shown_values(&payments, Target::Rollback(prod), "firing", &firing);
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("policies/cookbook"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let mut on_real_formats = 0;
    for dir in dirs {
        let program = clearance::compile_path(&dir.join("policy.clr"), &[]).unwrap();
        if !dir.join("fail.json").exists() {
            // A recipe on real formats: its runs name the files as mounts.
            on_real_formats += recipe_runs(&program, &dir);
            continue;
        }
        let text = std::fs::read_to_string(dir.join("fail.json")).unwrap();
        match program.gates.first() {
            Some(gate) => {
                checked += check_shown_values(&program, Target::Gate(gate), "fail", &text)
            }
            None => {
                for stage in program.stages.iter().filter(|s| !s.triggers.is_empty()) {
                    checked += check_shown_values(&program, Target::Rollback(stage), "fail", &text);
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked} shown values checked");
    // JUnit XML, CycloneDX, SPDX and VEX values cited by the real-format recipes.
    assert!(
        on_real_formats >= 10,
        "only {on_real_formats} values of real formats checked"
    );
}

/// The denied runs of a recipe whose `runs.json` mounts real files (YAML,
/// JUnit XML, JSON), with the params its arguments set.
fn recipe_runs(program: &clearance::check::Program, dir: &Path) -> usize {
    let runs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runs.json")).unwrap()).unwrap();
    if runs.get("setup").is_some() {
        // A recipe that records into a ledger first: what its denials show
        // comes from the signed history, not from an evidence file
        // (tests/ledger.rs checks those decisions end to end).
        return 0;
    }
    let mut checked = 0;
    for run in runs["runs"].as_array().unwrap() {
        if run["exit"] != 1 {
            continue;
        }
        let sources: Vec<Source> = run["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let (mount, file) = m.as_str().unwrap().split_once('=').unwrap();
                Source::File {
                    mount: Some(mount.to_string()),
                    path: dir.join(file),
                }
            })
            .collect();
        let args: Vec<&str> = run["args"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default();
        // A verified statement is mounted as generated JSON, checked by
        // tests/attestations.rs; this test reads files as their readers do.
        if args.contains(&"--attestation") {
            continue;
        }
        let params = args
            .chunks(2)
            .map(|pair| {
                assert_eq!(pair[0], "--param");
                let (name, json) = pair[1].split_once('=').unwrap();
                (
                    name.to_string(),
                    eval::parse_json(json, Default::default()).unwrap(),
                )
            })
            .collect();
        let gate = program.gates.first().unwrap();
        checked += check_shown_values_of(
            program,
            Target::Gate(gate),
            &dir.display().to_string(),
            &sources,
            params,
        );
    }
    checked
}

const SBOM_POLICY: &str = r#"
stages a -> b
gate a -> b {
  rule licensed {
    require all c in evidence.components: exists c.licenses
  }
  rule no-critical {
    require none c in evidence.components: any v in c.vulnerabilities ?? []: v.severity == "critical"
  }
  rule release-tag {
    require evidence.invocation.parameters.inputs.release_tag == "v15"
  }
}
"#;

fn component() -> impl Strategy<Value = serde_json::Value> {
    (
        prop::option::of("[a-z]{1,8}"),
        "[a-z]{1,6}",
        prop::bool::ANY,
        prop::option::of(prop::collection::vec(prop_oneof!["critical", "high", "low"], 0..3)),
        0i64..1000,
    )
        .prop_map(|(name, kind, licensed, vulns, extra)| {
            let mut c = serde_json::json!({"type": kind, "bom-ref": format!("pkg:x/{kind}@{extra}"), "extra": {"n": extra, "s": "unread"}});
            if let Some(n) = name {
                c["name"] = serde_json::json!(n);
            }
            if licensed {
                c["licenses"] = serde_json::json!([{"id": "MIT"}]);
            }
            if let Some(v) = vulns {
                c["vulnerabilities"] = serde_json::json!(v.iter().map(|s| serde_json::json!({"severity": s, "cvss": 7.5})).collect::<Vec<_>>());
            }
            c
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Generated SBOM-like evidence, with fields no rule reads beside the
    /// ones they do.
    #[test]
    fn generated_evidence_is_shown_as_it_is(
        components in prop::collection::vec(component(), 1..6),
        tag in "v[0-9]{1,2}",
        pretty in prop::bool::ANY,
    ) {
        let program = clearance::compile_str("sbom.clr", SBOM_POLICY).unwrap();
        let doc = serde_json::json!({
            "components": components,
            "invocation": {"parameters": {"inputs": {"release_tag": tag, "other": "x"}, "more": 2}},
        });
        let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        check_shown_values(&program, Target::Gate(&program.gates[0]), "generated.json", &text);
    }
}

/// Issue 13 item 3: an element reached through a comprehension's filter, or
/// through `flatten`, is cited at its pointer in the evidence, not as
/// "element 1" of the list the rule built.
#[test]
fn elements_reached_through_filters_keep_their_pointers() {
    let policy = r#"
stages a -> b
gate a -> b {
  rule libraries-have-purls {
    require all c in [c for c in evidence.comps if c.type == "library"]: c.purl != null
  }
  rule no-gpl {
    require none l in flatten([c.licenses for c in evidence.comps]): l == "GPL"
  }
}
"#;
    let evidence = r#"{"comps": [
  {"type": "app", "name": "x", "licenses": ["MIT"]},
  {"type": "library", "name": "a", "purl": "pkg:npm/a", "licenses": []},
  {"type": "library", "name": "b", "purl": null, "licenses": ["GPL"]}
]}"#;
    let program = clearance::compile_str("filters.clr", policy).unwrap();
    let gate = program.gates.first().unwrap();
    let checked = check_shown_values(&program, Target::Gate(gate), "filters.json", evidence);
    assert!(checked >= 2, "{checked}");
    let sources = [Source::Text {
        mount: None,
        name: "filters.json".into(),
        text: evidence.to_string().into(),
    }];
    let options = options();
    let files = evidence::read(&sources, &options.limits).unwrap();
    let result = decide::decide(&Request::new(
        &program,
        Target::Gate(gate),
        &files,
        &options,
    ))
    .unwrap();
    let human = report::render_gate(&program, "x", &result, Default::default(), &files);
    assert!(
        human.contains("/comps/2 (\"b\"): purl = null  (at filters.json:4:3)"),
        "{human}"
    );
    assert!(
        human.contains("/comps/2/licenses/0: \"GPL\"  (at filters.json:4:63)"),
        "{human}"
    );
    assert!(!human.contains("element 1"), "{human}");
}

/// The reports of one decided gate, human and JSON.
fn reports_of(
    program: &clearance::check::Program,
    result: &eval::GateResult,
    files: &evidence::Evidence,
) -> (String, String) {
    let json = report::gate_json(
        program,
        result,
        &JsonContext {
            command: "check",
            subject: "x",
            gate: None,
            now: "now".into(),
            params: Vec::new(),
            evidence: files,
            record: None,
        },
    );
    let human = report::render_gate(program, "x", result, Default::default(), files);
    (human, json)
}

/// `check` explains the failing rules on the lean load it decided on (only
/// what the rules read, unread fields left out), reading every value it
/// shows from the file: its reports must be those of explaining on the
/// evidence loaded whole. Over every denied example and cookbook recipe,
/// and policies that reach evidence only through helpers, sorting,
/// `distinct`, `k, v` pairs and lets, where no pointer is at hand unless the
/// evaluator carries it.
#[test]
fn explanations_on_the_lean_load_are_those_of_a_whole_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases: Vec<(clearance::check::Program, String, String)> = Vec::new();
    let payments =
        clearance::compile_path(&root.join("policies/payments/policy.clr"), &[]).unwrap();
    for bundle in ["denied", "missing-evidence"] {
        let text =
            std::fs::read_to_string(root.join(format!("policies/payments/evidence/{bundle}.json")))
                .unwrap();
        cases.push((payments.clone(), bundle.to_string(), text));
    }
    for dir in std::fs::read_dir(root.join("policies/cookbook")).unwrap() {
        let dir = dir.unwrap().path();
        if let Ok(text) = std::fs::read_to_string(dir.join("fail.json")) {
            let program = clearance::compile_path(&dir.join("policy.clr"), &[]).unwrap();
            cases.push((program, dir.display().to_string(), text));
        }
    }
    // One policy a rule, so no other rule's reads load the evidence whole.
    let rules = [
        "all s in evidence.suites: bad(s)",
        "all s in evidence.suites: missing(s)",
        "first(evidence.suites).nope == 1",
        "bad(evidence.suites[0])",
        "all n in sort([s.name for s in evidence.suites]): n == \"zzz\"",
        "all s in distinct(evidence.suites): s.status == \"ok\"",
        "all k, v in evidence.config: v.mode == \"strict\"",
        "all k, v in evidence.config: v.nope == 1",
        "all i, s in evidence.suites: s.status == \"ok\" or i > 5",
        "all i, s in evidence.suites: s.nope == 1",
        "picked.nope == 1",
        "all s in evidence.suites: all c in s.cases: c.ok",
        "all s in evidence.suites: all c in s.cases: c.nope",
        "all s in [x for x in evidence.suites if x.extra > 0]: s.nope == 1",
    ];
    let text = r#"{"suites": [
  {"name": "a", "status": "bad", "extra": 1, "more": {"k": 2}, "cases": [{"ok": true, "id": 1}, {"ok": false, "id": 2}]},
  {"name": "b", "status": "ok", "extra": 3, "cases": [{"ok": false, "why": "x"}]}],
 "config": {"db": {"mode": "lax", "port": 5432}, "cache": {"mode": "strict"}}}"#;
    for (i, rule) in rules.iter().enumerate() {
        let policy = format!(
            "stages a -> b\ndef bad(s) = s.status == \"ok\"\ndef missing(s) = s.nope == 1\ndef first(xs) = xs[0]\ngate a -> b {{\n  let picked = evidence.suites[1]\n  rule r {{ require {rule} }}\n}}\n"
        );
        cases.push((
            clearance::compile_str("helpers.clr", &policy).unwrap(),
            format!("helpers {i}: {rule}"),
            text.into(),
        ));
    }
    let mut compared = 0;
    for (program, name, text) in &cases {
        let options = options();
        let sources = [Source::Text {
            mount: None,
            name: format!("{name}.json"),
            text: text.clone().into(),
        }];
        let files = evidence::read(&sources, &options.limits).unwrap();
        let whole = evidence::assemble(&files, &options.limits, evidence::Load::Full).unwrap();
        for gate in &program.gates {
            let lean = decide::decide(&Request::new(program, Target::Gate(gate), &files, &options))
                .unwrap();
            let mut reference = eval::evaluate_gate_in(program, gate, &whole, &options, &files);
            reference.subject = lean.subject.clone();
            assert_eq!(
                reports_of(program, &lean, &files),
                reports_of(program, &reference, &files),
                "{name}: {}",
                gate.label()
            );
            compared += lean.rules.iter().filter(|r| !r.problems.is_empty()).count();
        }
    }
    assert!(compared >= 30, "only {compared} explained rules compared");
}
