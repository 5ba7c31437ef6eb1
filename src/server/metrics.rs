//! Prometheus metrics of the service, in the text exposition format:
//! decisions by policy, gate and verdict; request latency; reloads; ledger
//! errors. Series are kept sorted, so the output is deterministic.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Inner {
    decisions: BTreeMap<(String, String, String), u64>,
    responses: BTreeMap<u16, u64>,
    latency_counts: [u64; BUCKETS.len()],
    latency_sum: f64,
    latency_count: u64,
    reloads_ok: u64,
    reloads_failed: u64,
    ledger_errors: u64,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        if let Ok(mut m) = self.inner.lock() {
            f(&mut m);
        }
    }

    pub fn decision(&self, policy: &str, gate: &str, verdict: &str) {
        self.with(|m| {
            *m.decisions
                .entry((policy.into(), gate.into(), verdict.into()))
                .or_default() += 1;
        });
    }

    pub fn response(&self, status: u16, seconds: f64) {
        self.with(|m| {
            *m.responses.entry(status).or_default() += 1;
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    m.latency_counts[i] += 1;
                }
            }
            m.latency_sum += seconds;
            m.latency_count += 1;
        });
    }

    pub fn reload(&self, ok: bool) {
        self.with(|m| {
            if ok {
                m.reloads_ok += 1;
            } else {
                m.reloads_failed += 1;
            }
        });
    }

    pub fn ledger_error(&self) {
        self.with(|m| m.ledger_errors += 1);
    }

    /// The exposition text; `policy_errors` is how many policies of the
    /// current set do not compile (served from their last good version).
    pub fn render(&self, policies: usize, policy_errors: usize) -> String {
        let mut out = String::new();
        let Ok(m) = self.inner.lock() else {
            return out;
        };
        let _ = writeln!(
            out,
            "# HELP clearance_decisions_total Decisions made, by policy, gate and verdict."
        );
        let _ = writeln!(out, "# TYPE clearance_decisions_total counter");
        for ((policy, gate, verdict), n) in &m.decisions {
            let _ = writeln!(
                out,
                "clearance_decisions_total{{policy=\"{}\",gate=\"{}\",verdict=\"{}\"}} {n}",
                label(policy),
                label(gate),
                label(verdict)
            );
        }
        let _ = writeln!(
            out,
            "# HELP clearance_http_responses_total Responses of /v1/check, by status."
        );
        let _ = writeln!(out, "# TYPE clearance_http_responses_total counter");
        for (status, n) in &m.responses {
            let _ = writeln!(
                out,
                "clearance_http_responses_total{{status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP clearance_check_duration_seconds Time to answer /v1/check."
        );
        let _ = writeln!(out, "# TYPE clearance_check_duration_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "clearance_check_duration_seconds_bucket{{le=\"{b}\"}} {}",
                m.latency_counts[i]
            );
        }
        let _ = writeln!(
            out,
            "clearance_check_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            m.latency_count
        );
        let _ = writeln!(
            out,
            "clearance_check_duration_seconds_sum {}",
            m.latency_sum
        );
        let _ = writeln!(
            out,
            "clearance_check_duration_seconds_count {}",
            m.latency_count
        );
        let _ = writeln!(
            out,
            "# HELP clearance_policy_reloads_total Reloads of the policy directory, by result."
        );
        let _ = writeln!(out, "# TYPE clearance_policy_reloads_total counter");
        let _ = writeln!(
            out,
            "clearance_policy_reloads_total{{result=\"ok\"}} {}",
            m.reloads_ok
        );
        let _ = writeln!(
            out,
            "clearance_policy_reloads_total{{result=\"error\"}} {}",
            m.reloads_failed
        );
        let _ = writeln!(out, "# HELP clearance_policies Policies being served.");
        let _ = writeln!(out, "# TYPE clearance_policies gauge");
        let _ = writeln!(out, "clearance_policies {policies}");
        let _ = writeln!(out, "# HELP clearance_policy_errors Policies that do not compile (their last good version is served).");
        let _ = writeln!(out, "# TYPE clearance_policy_errors gauge");
        let _ = writeln!(out, "clearance_policy_errors {policy_errors}");
        let _ = writeln!(out, "# HELP clearance_ledger_errors_total Appends to the ledger that failed (answered 503).");
        let _ = writeln!(out, "# TYPE clearance_ledger_errors_total counter");
        let _ = writeln!(out, "clearance_ledger_errors_total {}", m.ledger_errors);
        out
    }
}

/// A label value escaped as the exposition format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
