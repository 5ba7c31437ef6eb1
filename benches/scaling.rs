//! How cost grows with input size, for the inputs that used to grow faster
//! than linearly (issue 11): a chain of `let`s or `def`s, `def`s that each
//! call the one below twice, many failing rules explained over one large
//! file, `fmt --check` on a file whose every line changes, and `lint` of a
//! gate whose every rule has a finding, locating the last element of a large
//! array. Each group
//! runs three sizes, doubling: linear growth doubles the time.
//!
//! `cargo bench --bench scaling`; figures in docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::decide::{self, Request, Target};
use clearance::eval::EvalOptions;
use clearance::evidence::{self, Source};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn let_chain(n: usize) -> String {
    let mut s = String::from("stages a -> b\nlet l0 = evidence.x\n");
    for i in 1..n {
        s.push_str(&format!("let l{i} = l{}\n", i - 1));
    }
    s.push_str(&format!(
        "gate a -> b {{\n  rule r {{\n    require l{} == 1\n  }}\n}}\n",
        n - 1
    ));
    s
}

fn def_chain(n: usize) -> String {
    let mut s = String::from("stages a -> b\ndef d0(x) = x\n");
    for i in 1..n {
        s.push_str(&format!("def d{i}(x) = d{}(x)\n", i - 1));
    }
    s.push_str(&format!(
        "gate a -> b {{\n  rule r {{\n    require d{}(evidence.x) == 1\n  }}\n}}\n",
        n - 1
    ));
    s
}

/// `depth` defs, each calling the one below twice: 2^depth calls if bodies
/// were analysed once per call.
fn def_fan_out(depth: usize) -> String {
    let mut s = String::from("stages a -> b\ndef f0(x) = x.value\n");
    for i in 1..=depth {
        s.push_str(&format!("def f{i}(x) = f{}(x) + f{}(x)\n", i - 1, i - 1));
    }
    s.push_str(&format!(
        "gate a -> b {{\n  rule r {{\n    require f{depth}(evidence.x) > 0\n  }}\n}}\n"
    ));
    s
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile chain");
    g.sample_size(10);
    for n in [5_000, 10_000, 20_000] {
        let lets = let_chain(n);
        g.bench_with_input(BenchmarkId::new("lets", n), &lets, |b, text| {
            b.iter(|| clearance::compile_str("lets.clr", black_box(text)).unwrap())
        });
        let defs = def_chain(n);
        g.bench_with_input(BenchmarkId::new("defs", n), &defs, |b, text| {
            b.iter(|| clearance::compile_str("defs.clr", black_box(text)).unwrap())
        });
    }
    g.finish();
    // Compile, then what `check` and `schema` derive from the program.
    let mut g = c.benchmark_group("def fan-out");
    for depth in [10, 20, 40] {
        let text = def_fan_out(depth);
        g.bench_with_input(BenchmarkId::from_parameter(depth), &text, |b, text| {
            b.iter(|| {
                let program = clearance::compile_str("fan.clr", black_box(text)).unwrap();
                let gate = &program.gates[0];
                let lean =
                    clearance::eval::projection::for_decision(&program, &gate.lets, &gate.rules);
                let full = clearance::eval::projection::of_rules(&program, &gate.lets, &gate.rules);
                let schema = clearance::schema::infer(&program, Some(gate));
                (lean, full, schema)
            })
        });
    }
    g.finish();
}

/// `rules` rules, each failing on its own element near the end of one
/// array of `elements` elements (about 200 bytes each, one line).
fn failing(rules: usize, elements: usize) -> (String, String) {
    let mut policy = String::from("stages a -> b\ngate a -> b {\n");
    for r in 0..rules {
        policy.push_str(&format!(
            "  rule r{r} {{\n    require evidence.items[{}].ok\n  }}\n",
            elements - rules + r
        ));
    }
    policy.push_str("}\n");
    let items: Vec<String> = (0..elements)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"pad\": \"{}\", \"ok\": {}}}",
                "x".repeat(180),
                i < elements - rules
            )
        })
        .collect();
    (policy, format!("{{\"items\": [{}]}}", items.join(", ")))
}

fn explain(c: &mut Criterion) {
    let mut g = c.benchmark_group("explain failing rules");
    g.sample_size(10);
    let options = EvalOptions::at("2026-11-20T12:00:00Z".parse().unwrap());
    for rules in [250, 500, 1_000] {
        let (policy, bundle) = failing(rules, 20_000);
        let program = clearance::compile_str("many.clr", &policy).unwrap();
        let gate = &program.gates[0];
        let sources = [Source::Text {
            mount: None,
            name: "bundle.json".into(),
            text: bundle.into(),
        }];
        g.bench_function(BenchmarkId::from_parameter(rules), |b| {
            b.iter(|| {
                // Read anew each time: locations are cached per read.
                let files = evidence::read(&sources, &options.limits).unwrap();
                let request = Request::new(&program, Target::Gate(gate), &files, &options);
                let result = decide::decide(&request).unwrap();
                clearance::report::render_gate(
                    &program,
                    "a -> b",
                    &result,
                    Default::default(),
                    &files,
                )
            })
        });
    }
    g.finish();
}

fn fmt_check(c: &mut Criterion) {
    let mut g = c.benchmark_group("fmt --check diff");
    g.sample_size(10);
    for rules in [2_000, 4_000, 8_000] {
        let mut text = String::from("stages a -> b\ngate a -> b {\n");
        for i in 0..rules {
            text.push_str(&format!("rule r{i} {{\nrequire evidence.x{i} == {i}\n}}\n"));
        }
        text.push_str("}\n");
        let formatted = clearance::fmt::format_source(&text).unwrap();
        g.bench_function(BenchmarkId::from_parameter(rules), |b| {
            b.iter(|| clearance::fmt::unified_diff(black_box(&text), &formatted, "p.clr"))
        });
    }
    g.finish();
}

/// `clearance lint`'s work on a gate whose every rule has a finding (no
/// title, CL004) and a twin-free condition: run the lints, locate and draw
/// every finding. Was quadratic in the findings three ways (allow comments,
/// duplicate conditions, snippets and locations read from the file start).
fn lint_findings(c: &mut Criterion) {
    let mut g = c.benchmark_group("lint, a finding per rule");
    g.sample_size(10);
    for rules in [1_000, 2_000, 4_000] {
        let mut text = String::from("stages a -> b\ngate a -> b {\n");
        for i in 0..rules {
            text.push_str(&format!(
                "  rule r{i} {{\n    require evidence.x{i} == {i}\n  }}\n"
            ));
        }
        text.push_str("}\n");
        let program = clearance::compile_str("p.clr", &text).unwrap();
        let now = "2026-11-20T12:00:00Z".parse().unwrap();
        g.bench_function(BenchmarkId::from_parameter(rules), |b| {
            b.iter(|| {
                let findings = clearance::lint::run(black_box(&program), now);
                let mut drawn = 0;
                for f in findings {
                    let _ = program.sources.location(f.span);
                    drawn += clearance::report::render_diagnostic(
                        f.clone(),
                        Some(f.span),
                        &program.sources,
                        clearance::report::Style::default(),
                    )
                    .len();
                }
                drawn
            })
        });
    }
    g.finish();
}

/// An SBOM-like file of `n` components, each with a few vulnerabilities.
fn components(n: usize) -> String {
    let mut s = String::from("{\"sbom\": {\"components\": [");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"name\":\"component-{i}\",\"version\":\"1.{i}.0\",\"purl\":\"pkg:cargo/component-{i}@1.{i}.0\",\"vulnerabilities\":[{{\"id\":\"CVE-2026-{i}\",\"severity\":\"low\"}},{{\"id\":\"CVE-2025-{i}\",\"severity\":\"medium\",\"note\":\"a \\\"quoted\\\" word\"}}]}}"
        ));
    }
    s.push_str("]}}");
    s
}

/// Finding the evidence a report cites, when it is the last element of a
/// large array: the scan skips every element before it.
fn locate_deep(c: &mut Criterion) {
    let mut g = c.benchmark_group("locate the last of n components");
    g.sample_size(20);
    for n in [50_000, 100_000, 200_000] {
        let text = components(n);
        let pointer = format!("/sbom/components/{}/vulnerabilities/1/severity", n - 1);
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, t| {
            b.iter(|| clearance::report::locate::locate(black_box(t), &pointer).unwrap())
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    compile,
    explain,
    fmt_check,
    lint_findings,
    locate_deep
);
criterion_main!(benches);
