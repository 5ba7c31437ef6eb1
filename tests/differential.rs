//! Differential tests: the compiled evaluator (the fast path of every rule)
//! against the AST interpreter (the reference). Over every example policy and
//! evidence file, the benchmark workload, the runtime snapshots and the
//! hostile evidence corpus, under evaluation budgets from 1 step up, and over
//! generated evidence, both must give the same outcome per rule, the same
//! failing or erroring clauses with the same kinds of error, and the same
//! vacuous `all`s. (The case tables in `tests/cases/` compare the two on
//! every expression too.)

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::check::Program;
use clearance::eval::{self, compiled, EvalOptions};
use proptest::prelude::*;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

mod common;
use common::pointers;

/// Budgets small enough to run out at every depth of the example rules, and
/// the default.
const BUDGETS: &[u64] = &[
    1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 1000, 10_000,
];

fn options(max_steps: Option<u64>) -> EvalOptions {
    let mut o = EvalOptions::at("2026-11-20T12:00:00Z".parse().unwrap());
    if let Some(steps) = max_steps {
        o.limits.max_steps = steps;
    }
    o
}

/// Compares both evaluators on every gate and trigger block of `program`;
/// returns how many rule verdicts were compared.
fn assert_agree(program: &Program, evidence: &eval::Value, what: &str) -> usize {
    let mut compared = 0;
    let blocks = program
        .gates
        .iter()
        .map(|g| (g.label(), &g.lets, &g.rules))
        .chain(
            program
                .stages
                .iter()
                .map(|s| (s.name.clone(), &s.lets, &s.triggers)),
        );
    for (label, lets, rules) in blocks {
        for budget in BUDGETS.iter().copied().map(Some).chain([None]) {
            let (fast, reference) =
                compiled::both_verdicts(program, lets, rules, evidence, &options(budget));
            assert_eq!(
                fast, reference,
                "{what}: `{label}` with a budget of {budget:?} steps"
            );
            // The tracing mode explanations run in decides the same, even
            // on when the budget runs out.
            let traced =
                compiled::traced_verdicts(program, lets, rules, evidence, &options(budget));
            assert_eq!(
                fast, traced,
                "{what}: `{label}` traced, with a budget of {budget:?} steps"
            );
            compared += fast.len();
        }
    }
    compared
}

fn example_pairs() -> Vec<(PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pairs = Vec::new();
    for bundle in ["allowed", "denied", "missing-evidence"] {
        pairs.push((
            root.join("policies/payments/policy.clr"),
            root.join(format!("policies/payments/evidence/{bundle}.json")),
        ));
    }
    for metrics in ["healthy", "firing"] {
        pairs.push((
            root.join("policies/payments/policy.clr"),
            root.join(format!("policies/payments/metrics/{metrics}.json")),
        ));
    }
    for bundle in ["small-allowed", "small-denied"] {
        pairs.push((
            root.join("policies/bench/workload.clr"),
            root.join(format!("tests/data/workload/{bundle}.json")),
        ));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("policies/cookbook"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        for b in ["pass.json", "fail.json"] {
            pairs.push((dir.join("policy.clr"), dir.join(b)));
        }
    }
    let mut runtime: Vec<PathBuf> = std::fs::read_dir(root.join("tests/runtime"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "clr"))
        .collect();
    runtime.sort();
    for p in runtime {
        pairs.push((p.clone(), p.with_extension("json")));
    }
    let mut hostile: Vec<PathBuf> = std::fs::read_dir(root.join("tests/hostile/evidence"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    hostile.sort();
    for p in hostile {
        pairs.push((root.join("tests/hostile/evidence_policy.clr"), p));
    }
    pairs
}

#[test]
fn evaluators_agree_on_every_example() {
    let mut compared = 0;
    let mut loaded = 0;
    for (policy, evidence) in example_pairs() {
        let program = clearance::compile_path(&policy, &[]).unwrap();
        // Hostile evidence that does not load never reaches an evaluator.
        let Ok(text) = std::fs::read_to_string(&evidence) else {
            continue;
        };
        let Ok(value) = eval::parse_json(text.trim_start_matches('\u{FEFF}'), Default::default())
        else {
            continue;
        };
        loaded += 1;
        compared += assert_agree(&program, &value, &evidence.display().to_string());
    }
    // Guard against the walk silently finding nothing.
    assert!(loaded >= 60, "only {loaded} evidence files loaded");
    assert!(compared >= 3_000, "only {compared} verdicts compared");
    eprintln!("{loaded} evidence files, {compared} verdicts compared");
}

/// The differential check itself notices a disagreement: a budget of one
/// step lets the reference fail where the default budget passes, and the two
/// runs of the compiled evaluator differ the same way.
#[test]
fn budgets_change_verdicts_the_same_way() {
    let program = clearance::compile_path(Path::new("policies/bench/workload.clr"), &[]).unwrap();
    let text = std::fs::read_to_string("tests/data/workload/small-allowed.json").unwrap();
    let value = eval::parse_json(&text, Default::default()).unwrap();
    let gate = &program.gates[0];
    let (roomy, _) =
        compiled::both_verdicts(&program, &gate.lets, &gate.rules, &value, &options(None));
    let (tight, tight_reference) =
        compiled::both_verdicts(&program, &gate.lets, &gate.rules, &value, &options(Some(1)));
    assert!(roomy.iter().all(|v| v.outcome == eval::Outcome::Pass));
    assert!(tight.iter().all(|v| v.outcome == eval::Outcome::Error));
    assert_eq!(tight, tight_reference);
    assert_ne!(roomy, tight);
}

/// Quantifiers over elements that are the very same value again and
/// again (a test report's cases loaded for their status alone are one
/// shared object per status; short strings and integers repeat): the
/// compiled evaluator reuses the body's answer for a repeat, and must
/// decide, and run out of budget, exactly where the reference does, at
/// every budget from one step to past what the rules need. The bodies
/// read a `let` the first time only, nest quantifiers that are vacuous or
/// break, and mix repeats with elements seen once.
#[test]
fn repeated_elements_decide_as_the_reference_at_every_budget() {
    let policy = r#"
stages a -> b

let passing = ["passed", "skipped"]

gate a -> b {
  let threshold = 5

  rule statuses {
    require all c in evidence.cases: c.status in passing
  }

  rule any-failed {
    require not (any c in evidence.cases: c.status == "failed")
  }

  rule tags {
    require none t in evidence.tags: t == "forbidden"
  }

  rule numbers {
    require all n in evidence.numbers: n < threshold
  }

  rule nested {
    require all c in evidence.groups: all x in c.items: x != 3
  }

  rule nested-any {
    require any c in evidence.groups: none x in c.items: x == 1
  }

  rule empties {
    require all g in evidence.lists: all x in g: x != 3
  }

  rule count-built {
    require count([c for c in evidence.cases if c.status == "passed"]) >= 3
  }
}
"#;
    let program = clearance::compile_str("repeats.clr", policy).unwrap();
    let case = |status: &str| format!(r#"{{"status":"{status}"}}"#);
    let mut cases = vec![case("passed"); 12];
    cases.insert(5, case("skipped"));
    cases.insert(9, case("skipped"));
    cases.extend([case("passed"), case("failed"), case("passed")]);
    let texts = [
        format!(
            r#"{{"cases":[{}],"tags":["a","a","a","b","a","a"],"numbers":[1,1,1,2,1,1,4,4,4],
               "groups":[{{"items":[]}},{{"items":[]}},{{"items":[1,1,2]}},{{"items":[1,1,2]}},{{"items":[2,2]}}],
               "lists":[[],[],[],[],[]]}}"#,
            cases.join(",")
        ),
        format!(
            r#"{{"cases":[{}],"tags":["a","a","forbidden","a"],"numbers":[1,1,9,1],
               "groups":[{{"items":[2,2]}},{{"items":[3]}},{{"items":[2,2]}}],
               "lists":[[],[],[2],[],[3],[]]}}"#,
            cases[..12].join(",")
        ),
    ];
    agree_at_every_budget(&program, &texts, 3000);
}

/// Quantifiers whose bodies are plain tests (comparisons of fields, `and`,
/// `or`, `not`, quantifiers nested in them) are answered by reading alone,
/// and an element that reading cannot answer is evaluated the general way.
/// Over elements that take every way out of the plain reading (a missing
/// field, a value of another type, an ordering that fails, an empty `all`
/// inside, a name bound to a computed value, a def's parameter) the
/// compiled evaluator must decide, fail and run out of budget exactly where
/// the reference does, at every budget up to past what the rules need.
#[test]
fn plain_tests_decide_as_the_reference_at_every_budget() {
    let policy = r#"
stages a -> b

param keys = ["k1", "k2"]

def none_is(s) = all c in evidence.cases: c.status != s

gate a -> b {
  rule statuses {
    require all c in evidence.cases: c.status in ["passed", "skipped"] and c.ms < 100
  }

  rule signed {
    require any s in evidence.sigs: s.digest == evidence.artifact.digest and s.keyid in keys
  }

  rule no-critical {
    require none c in evidence.comps: any v in c.vulns: v.severity == "critical"
  }

  rule nested-all {
    require all s in evidence.suites: all c in s.cases: not (c.status == "failed")
  }

  rule outer-name {
    require all s in evidence.suites: all c in s.cases: c.suite == s.name or c.suite == null
  }

  rule deep {
    require all s in evidence.suites: any c in s.cases: any t in c.tags: t.x.y >= 2
  }

  rule mixed {
    require all x in evidence.mixed: x.a.b == 1 or not (x.a.b != 2)
  }

  rule ordered {
    require all c in evidence.cases: c.ms > 0 or c.status == "skipped"
  }

  rule built-outside {
    require all s in [x for x in evidence.suites]: all c in s.cases: c.status != "failed"
  }

  rule helper {
    require none_is("failed")
  }
}
"#;
    let program = clearance::compile_str("plain.clr", policy).unwrap();
    // A case's own `name` differs from its suite's: reading the wrong
    // element's `name` changes the answer.
    let case = |status: &str, ms: &str, suite: &str| {
        format!(
            r#"{{"name":"case","status":"{status}","ms":{ms},"suite":{suite},"tags":[{{"x":{{"y":3}}}}]}}"#
        )
    };
    let cases: Vec<String> = (0..14)
        .map(|i| {
            case(
                ["passed", "skipped"][i % 2],
                &(i * 7).to_string(),
                r#""unit""#,
            )
        })
        .collect();
    let odd = [
        case("passed", "\"slow\"", "null"),
        case("failed", "1.5", r#""other""#),
        r#"{"status":"passed"}"#.to_string(),
        r#"[1]"#.to_string(),
        case("passed", "250", r#""unit""#),
    ];
    let suites = |cases: &[String]| {
        format!(
            r#"[{{"name":"unit","cases":[{}]}},{{"name":"int","cases":[]}},{{"name":"unit","cases":[{}]}}]"#,
            cases.join(","),
            cases[..3].join(",")
        )
    };
    let comps = r#"[{"vulns":[]},{"vulns":[{"severity":"low"},{"severity":"high"}]},{"vulns":[]}]"#;
    let mut texts = vec![format!(
        r#"{{"cases":[{c}],"sigs":[{{"digest":"d0","keyid":"k1"}},{{"digest":"d1","keyid":"k3"}},{{"digest":"d1","keyid":"k2"}}],
           "artifact":{{"digest":"d1"}},"comps":{comps},"suites":{s},
           "mixed":[{{"a":{{"b":1}}}},{{"a":{{"b":2}}}},{{"a":{{"b":1}}}}]}}"#,
        c = cases.join(","),
        s = suites(&cases),
    )];
    // Each odd element in turn, in the middle of the cases.
    for odd in &odd {
        let mut with = cases.clone();
        with.insert(7, odd.clone());
        texts.push(format!(
            r#"{{"cases":[{c}],"sigs":[{{"digest":"d1","keyid":"k9"}},3],"artifact":{{"digest":"d1"}},
               "comps":[{{"vulns":[{{"severity":"critical"}}]}},{{"vulns":"none"}}],"suites":{s},
               "mixed":[{{"a":{{"b":1}}}},{{"a":null}},{{"a":{{"b":"2"}}}}]}}"#,
            c = with.join(","),
            s = suites(&with),
        ));
    }
    agree_at_every_budget(&program, &texts, 1500);
}

/// The first gate of `program` over each of `texts`, loaded whole and for
/// a decision (only what the rules read; a test report's cases shared):
/// deciding and tracing agree with the reference at every budget from one
/// step to `enough`, which is enough for every rule.
fn agree_at_every_budget(program: &Program, texts: &[String], enough: u64) {
    let gate = &program.gates[0];
    let projection = clearance::eval::projection::for_decision(program, &gate.lets, &gate.rules);
    for text in texts {
        let loads = [
            eval::parse_json(text, Default::default()).unwrap(),
            clearance::eval::json::readers::fast(text, Default::default(), Some(&projection), true)
                .unwrap(),
        ];
        for value in &loads {
            let (_, roomy) =
                compiled::both_verdicts(program, &gate.lets, &gate.rules, value, &options(None));
            for budget in 1..=enough {
                let options = options(Some(budget));
                let (fast, reference) =
                    compiled::both_verdicts(program, &gate.lets, &gate.rules, value, &options);
                assert_eq!(fast, reference, "{text}: a budget of {budget} steps");
                let traced =
                    compiled::traced_verdicts(program, &gate.lets, &gate.rules, value, &options);
                assert_eq!(fast, traced, "{text}: traced, a budget of {budget} steps");
                if budget == enough {
                    assert_eq!(fast, roomy, "{enough} steps are enough");
                }
            }
        }
    }
}

fn payments() -> &'static Program {
    static P: std::sync::OnceLock<Program> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        clearance::compile_path(Path::new("policies/payments/policy.clr"), &[]).unwrap()
    })
}

fn arb_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        (-1e6f64..1e6).prop_map(|f| serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null)),
        prop::sample::select(vec![
            "2026-11-18T09:00:00Z",
            "1.4.2",
            "v2.0.0-rc.1",
            "sha256:ab",
            "critical",
            "passed",
            "release-manager",
            "unit",
            "",
        ])
        .prop_map(|s| Json::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "name", "status", "digest", "passed", "failed", "severity", "user", "role",
                        "at", "version"
                    ]),
                    inner
                ),
                0..4
            )
            .prop_map(|kv| Json::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Generated evidence: a value grafted anywhere into an example bundle
    /// (or deleted), under a random budget.
    #[test]
    fn evaluators_agree_on_generated_evidence(
        graft in arb_json(),
        pick in any::<prop::sample::Index>(),
        bundle in prop::sample::select(vec!["allowed", "denied", "missing-evidence"]),
        delete in any::<bool>(),
        budget in prop::option::of(1u64..2_000),
        min_coverage in prop::option::of(0i64..100),
        soak_hours in prop::option::of(0i64..100),
    ) {
        let text = std::fs::read_to_string(format!("policies/payments/evidence/{bundle}.json")).unwrap();
        let mut doc: Json = serde_json::from_str(&text).unwrap();
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pointer = pick.get(&all).clone();
        if delete {
            let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", ""));
            if let Some(Json::Object(m)) = doc.pointer_mut(parent) {
                m.remove(&last.replace("~1", "/").replace("~0", "~"));
            }
        } else if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = graft;
        }
        let value = eval::parse_json(&doc.to_string(), Default::default()).unwrap();
        let p = payments();
        // `--param` overrides reach both evaluators the same way.
        let mut options = options(budget);
        if let Some(c) = min_coverage {
            options.params.push(("min_coverage".into(), eval::Value::Int(c)));
        }
        if let Some(h) = soak_hours {
            options.params.push((
                "soak".into(),
                eval::Value::Duration(jiff::SignedDuration::from_hours(h)),
            ));
        }
        let options = &options;
        for g in &p.gates {
            let (fast, reference) = compiled::both_verdicts(p, &g.lets, &g.rules, &value, options);
            prop_assert_eq!(&fast, &reference);
            prop_assert_eq!(fast, compiled::traced_verdicts(p, &g.lets, &g.rules, &value, options));
        }
        for s in &p.stages {
            let (fast, reference) = compiled::both_verdicts(p, &s.lets, &s.triggers, &value, options);
            prop_assert_eq!(&fast, &reference);
            prop_assert_eq!(fast, compiled::traced_verdicts(p, &s.lets, &s.triggers, &value, options));
        }
    }
}
