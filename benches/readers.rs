//! Loading the formats CI writes (issue 14): a ~100 MB JUnit XML report and
//! a ~10 MB YAML file, each beside a parse-only pass of the same parser
//! (every event read, every attribute decoded, nothing built), so the figure
//! that matters is the ratio. The JUnit report is loaded three ways: whole,
//! for a decision whose rules read only the totals, and for one that reads
//! every case's status.
//!
//! `cargo bench --bench readers`; figures in docs/performance.md. Under
//! `cargo test` (no `--bench`) the inputs are 1% of the size.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::eval::projection::Projection;
use clearance::evidence::{Format, Load};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;

fn scale() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        100
    } else {
        1
    }
}

/// A Surefire-like report of about `mb` megabytes: suites of 100 cases, one
/// case in 50 failing with a message and a stack trace, one in 40 skipped.
pub fn junit_report(mb: usize) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    let mut suite = 0;
    while s.len() < mb * 1_000_000 {
        s.push_str(&format!(
            "  <testsuite name=\"com.acme.module{suite}.ServiceTest\" tests=\"100\" failures=\"2\" errors=\"0\" skipped=\"3\" time=\"12.5\" timestamp=\"2026-11-20T12:00:00\" hostname=\"runner-7\">\n    <properties><property name=\"java.version\" value=\"17.0.10\"/></properties>\n"
        ));
        for case in 0..100 {
            let attrs = format!(
                "name=\"test_case_{case}_handles_the_input\" classname=\"com.acme.module{suite}.ServiceTest\" time=\"0.{case:03}\""
            );
            if case % 50 == 7 {
                s.push_str(&format!(
                    "    <testcase {attrs}>\n      <failure message=\"expected &lt;200&gt; but was &lt;503&gt;\" type=\"org.opentest4j.AssertionFailedError\">org.opentest4j.AssertionFailedError: expected &lt;200&gt; but was &lt;503&gt;\n\tat com.acme.module{suite}.ServiceTest.test_case_{case}(ServiceTest.java:{case})\n\tat java.base/java.lang.reflect.Method.invoke(Method.java:568)</failure>\n      <system-out>request id 7f3a-{case}</system-out>\n    </testcase>\n"
                ));
            } else if case % 40 == 3 {
                s.push_str(&format!("    <testcase {attrs}>\n      <skipped message=\"needs a database\"/>\n    </testcase>\n"));
            } else {
                s.push_str(&format!("    <testcase {attrs}/>\n"));
            }
        }
        s.push_str("  </testsuite>\n");
        suite += 1;
    }
    s.push_str("</testsuites>\n");
    s
}

/// About `mb` megabytes of Kubernetes-like YAML: a list of deployments with
/// labels, containers, env lists and resource limits.
pub fn yaml_file(mb: usize) -> String {
    let mut s = String::from("deployments:\n");
    let mut i = 0;
    while s.len() < mb * 1_000_000 {
        s.push_str(&format!(
            "  - name: service-{i}\n    namespace: payments\n    replicas: {}\n    labels:\n      app: service-{i}\n      tier: \"backend\"\n      version: v1.{i}.0\n    containers:\n      - image: registry.example/acme/service-{i}@sha256:{i:064x}\n        env:\n          - {{name: LOG_LEVEL, value: info}}\n          - {{name: TIMEOUT_MS, value: \"2500\"}}\n        resources: {{limits: {{cpu: 500m, memory: 256Mi}}, requests: {{cpu: 0.25}}}}\n        enabled: true\n",
            i % 5 + 1
        ));
        i += 1;
    }
    s
}

/// quick-xml alone: every event, every attribute unescaped, nothing kept.
fn xml_parse_only(text: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut n = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                for a in e.attributes() {
                    n += a
                        .unwrap()
                        .decode_and_unescape_value(reader.decoder())
                        .unwrap()
                        .len();
                }
            }
            quick_xml::events::Event::Eof => return n,
            _ => n += 1,
        }
    }
}

/// saphyr-parser alone: every event, nothing built.
fn yaml_parse_only(text: &str) -> usize {
    let mut n = 0;
    for event in saphyr_parser::Parser::new_from_str(text) {
        n += matches!(event.unwrap().0, saphyr_parser::Event::Scalar(..)) as usize;
    }
    n
}

fn field(name: &str) -> Projection {
    let mut p = Projection::default();
    p.fields.entry(name.into()).or_default();
    p
}

fn junit(c: &mut Criterion) {
    let text = Arc::new(junit_report(scale()));
    let limits = clearance::limits::DEFAULT;
    let totals = field("failures");
    let statuses = Projection {
        fields: [(
            "cases".to_string(),
            Projection {
                items: Some(Box::new(field("status"))),
                ..Default::default()
            },
        )]
        .into(),
        ..Default::default()
    };
    let mut g = c.benchmark_group(format!("junit {} MB", text.len() / 1_000_000));
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("quick-xml parse only", |b| {
        b.iter(|| xml_parse_only(black_box(&text)))
    });
    g.bench_function("load whole", |b| {
        b.iter(|| {
            Format::Junit
                .parse("r.xml", &text, &limits, Load::Full)
                .unwrap()
        })
    });
    g.bench_function("load for totals", |b| {
        b.iter(|| {
            Format::Junit
                .parse("r.xml", &text, &limits, Load::Decide(&totals))
                .unwrap()
        })
    });
    g.bench_function("load for case statuses", |b| {
        b.iter(|| {
            Format::Junit
                .parse("r.xml", &text, &limits, Load::Decide(&statuses))
                .unwrap()
        })
    });
    g.finish();
}

fn yaml(c: &mut Criterion) {
    let text = Arc::new(yaml_file(scale() / 10 + usize::from(scale() < 10)));
    let limits = clearance::limits::DEFAULT;
    let mut g = c.benchmark_group(format!("yaml {} MB", text.len() / 1_000_000));
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("saphyr parse only", |b| {
        b.iter(|| yaml_parse_only(black_box(&text)))
    });
    g.bench_function("load whole", |b| {
        b.iter(|| {
            Format::Yaml
                .parse("c.yaml", &text, &limits, Load::Full)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, junit, yaml);
criterion_main!(benches);
