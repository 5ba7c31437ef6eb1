//! Any JSON evidence against the example policies (every gate and rollback
//! trigger), and any policy text against fixed evidence: never panic, every
//! outcome renders, and the compiled evaluator agrees with the reference
//! interpreter on every rule (outcome, failing clauses, kinds of error), in
//! its deciding form and in the tracing form explanations run in.
#![no_main]
use clearance::eval::{self, compiled, EvalOptions};
use clearance::report::{self, Evidence};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const POLICY: &str = include_str!("../../policies/payments/policy.clr");
const COMMON: &str = include_str!("../../policies/payments/shared/common.clr");
const EVIDENCE: &str = include_str!("../../policies/payments/evidence/allowed.json");

fn example() -> &'static clearance::check::Program {
    static P: OnceLock<clearance::check::Program> = OnceLock::new();
    P.get_or_init(|| {
        // The example imports a file; inline it for an in-memory compile.
        let text = POLICY.replace("import \"shared/common.clr\"", COMMON);
        clearance::compile_str("policy.clr", &text).unwrap_or_else(|_| std::process::abort())
    })
}

fn decide_all(program: &clearance::check::Program, evidence: &eval::Value) {
    let now = "2026-11-20T12:00:00Z".parse().unwrap_or_default();
    let mut options = EvalOptions::at(now);
    options.limits.max_steps = 200_000;
    for gate in &program.gates {
        let (fast, reference) =
            compiled::both_verdicts(program, &gate.lets, &gate.rules, evidence, &options);
        assert_eq!(fast, reference, "evaluators disagree on {}", gate.label());
        let traced = compiled::traced_verdicts(program, &gate.lets, &gate.rules, evidence, &options);
        assert_eq!(fast, traced, "tracing disagrees on {}", gate.label());
        let r = eval::evaluate_gate(program, gate, evidence, &options);
        let _ = report::render_gate(program, &gate.label(), &r, Default::default(), &Evidence::default());
    }
    for stage in &program.stages {
        let (fast, reference) =
            compiled::both_verdicts(program, &stage.lets, &stage.triggers, evidence, &options);
        assert_eq!(fast, reference, "evaluators disagree on {}", stage.name);
        let traced = compiled::traced_verdicts(program, &stage.lets, &stage.triggers, evidence, &options);
        assert_eq!(fast, traced, "tracing disagrees on {}", stage.name);
        let r = eval::evaluate_triggers(program, stage, evidence, &options);
        let _ = report::render_rollback(program, &stage.name, &r, Default::default(), &Evidence::default());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Half the inputs are evidence for the example; the other half policies for fixed evidence.
    if let Ok(evidence) = eval::parse_json(text, Default::default()) {
        decide_all(example(), &evidence);
    } else if let Ok(program) = clearance::compile_str("fuzz.clr", text) {
        if let Ok(evidence) = eval::parse_json(EVIDENCE, Default::default()) {
            decide_all(&program, &evidence);
        }
    }
});
