//! Criterion benches: compile, load, evaluate and end to end, on the
//! workload bundles (../shared/bench/WORKLOAD.md). The bundles are generated in
//! memory by `workload::generate`; set `CLEARANCE_BENCH_LARGE=1` to include
//! the ~100 MB bundle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod workload;

// The binary's allocator (src/main.rs), so these figures are those of a
// run of `clearance`; under glibc's, freeing the 5,000-rule policy's trees
// (`malloc_consolidate`) was a third of the compile bench.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clearance::eval::{self, Decision, EvalOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const POLICY: &str = include_str!("../policies/bench/workload.clr");

fn options() -> EvalOptions {
    EvalOptions::at("2026-11-20T12:00:00Z".parse().unwrap())
}

fn sizes() -> Vec<workload::Size> {
    let mut v = vec![workload::Size::Small, workload::Size::Medium];
    if std::env::var_os("CLEARANCE_BENCH_LARGE").is_some() {
        v.push(workload::Size::Large);
    }
    v
}

/// A policy of `n` rules over generated evidence paths.
fn many_rules(n: usize) -> String {
    let mut s = String::from("stages staging -> prod\nparam floor = 80\ngate staging -> prod {\n");
    for i in 0..n {
        s.push_str(&format!(
            "  rule r{i} {{\n    title \"rule {i}\"\n    when exists evidence.services[\"svc-{i}\"]\n    require evidence.services[\"svc-{i}\"].coverage >= floor and all t in evidence.services[\"svc-{i}\"].tests: t.status == \"passed\"\n  }}\n"
        ));
    }
    s.push_str("}\n");
    s
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.bench_function("workload policy", |b| {
        b.iter(|| clearance::compile_str("workload.clr", black_box(POLICY)).unwrap())
    });
    let big = many_rules(5_000);
    g.sample_size(20);
    g.bench_function("5000 rules", |b| {
        b.iter(|| clearance::compile_str("big.clr", black_box(&big)).unwrap())
    });
    // What issue 19's target counts: parse, check and lower to the form
    // that decides.
    g.bench_function("5000 rules, parse + check + lower", |b| {
        b.iter(|| {
            let program = clearance::compile_str("big.clr", black_box(&big)).unwrap();
            let gate = program.gates.first().unwrap();
            let compiled =
                clearance::eval::compiled::Compiled::new(&program, &gate.lets, &gate.rules);
            black_box(&compiled);
        })
    });
    g.finish();
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    for size in sizes() {
        let text = workload::generate(size, false);
        g.throughput(Throughput::Bytes(text.len() as u64));
        if size == workload::Size::Large {
            g.sample_size(10);
        }
        g.bench_with_input(BenchmarkId::from_parameter(size.name()), &text, |b, t| {
            b.iter(|| eval::parse_json(black_box(t), Default::default()).unwrap())
        });
    }
    g.finish();
}

fn evaluate(c: &mut Criterion) {
    let program = clearance::compile_str("workload.clr", POLICY).unwrap();
    let gate = program.gates.first().unwrap();
    let mut g = c.benchmark_group("evaluate");
    for size in sizes() {
        for denied in [false, true] {
            let evidence =
                eval::parse_json(&workload::generate(size, denied), Default::default()).unwrap();
            let expected = if denied {
                Decision::Denied
            } else {
                Decision::Allowed
            };
            let id = format!(
                "{}-{}",
                size.name(),
                if denied { "denied" } else { "allowed" }
            );
            if size == workload::Size::Large {
                g.sample_size(10);
            }
            g.bench_function(&id, |b| {
                b.iter(|| {
                    let r = eval::evaluate_gate(&program, gate, black_box(&evidence), &options());
                    assert_eq!(r.decision, expected);
                    r
                })
            });
        }
    }
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let mut g = c.benchmark_group("end_to_end");
    for size in sizes() {
        let text = workload::generate(size, true);
        if size == workload::Size::Large {
            g.sample_size(10);
        }
        g.bench_with_input(BenchmarkId::new("denied", size.name()), &text, |b, t| {
            b.iter(|| {
                let program = clearance::compile_str("workload.clr", POLICY).unwrap();
                let evidence = eval::parse_json(black_box(t), Default::default()).unwrap();
                let gate = program.gates.first().unwrap();
                let r = eval::evaluate_gate(&program, gate, &evidence, &options());
                clearance::report::gate_json(
                    &program,
                    &r,
                    &clearance::report::JsonContext {
                        command: "check",
                        subject: "staging -> prod",
                        gate: None,
                        now: "2026-11-20T12:00:00Z".into(),
                        params: Vec::new(),
                        evidence: &Default::default(),
                        record: None,
                    },
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, compile, load, evaluate, end_to_end);
criterion_main!(benches);
