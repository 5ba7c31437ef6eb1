//! A deterministic generator of the promotion workload (../shared/bench/WORKLOAD.md):
//! small (~10 KB), medium (~1 MB) and large (~100 MB) evidence bundles, in an
//! allowed and a denied variant. The denied variant flips rules 3, 6 and 7
//! deep inside the data: the last suite fails, the last component has a
//! critical vulnerability, and one more config key drifts.
//!
//! Shared by the criterion benches, the `gen_workload` example and the peer
//! comparison crate (`bench/peers`), so every engine reads the same bytes.

#![allow(dead_code)]

use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Small,
    Medium,
    Large,
}

impl Size {
    pub fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Medium => "medium",
            Size::Large => "large",
        }
    }

    /// (suites, cases per suite, components, config keys)
    fn shape(self) -> (usize, usize, usize, usize) {
        match self {
            Size::Small => (3, 28, 16, 12),
            Size::Medium => (10, 1_100, 2_000, 250),
            Size::Large => (40, 28_000, 190_000, 6_000),
        }
    }
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const DIGEST: &str = "sha256:4f5b6e0c9a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f";
const PREVIOUS: &str = "sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b";
const SEVERITIES: [&str; 3] = ["low", "medium", "high"];

/// The bundle as JSON text.
pub fn generate(size: Size, denied: bool) -> String {
    let (suites, cases, components, keys) = size.shape();
    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    let mut s = String::with_capacity(match size {
        Size::Small => 16 << 10,
        Size::Medium => 2 << 20,
        Size::Large => 110 << 20,
    });
    s.push_str("{\"promotion\":{\"from\":\"staging\",\"to\":\"prod\",\"requested_at\":\"2026-11-20T12:00:00Z\"},");
    let _ = write!(
        s,
        "\"artifact\":{{\"name\":\"payments-api\",\"version\":\"1.4.2\",\"digest\":\"{DIGEST}\",\"signatures\":[{{\"keyid\":\"dev-key\",\"digest\":\"{DIGEST}\"}},{{\"keyid\":\"release-key-1\",\"digest\":\"{DIGEST}\"}}]}},"
    );
    let _ = write!(
        s,
        "\"stages\":{{\"staging\":{{\"artifact\":{{\"digest\":\"{DIGEST}\"}},\"deployed_at\":\"2026-11-18T09:00:00Z\",\"metrics\":{{\"error_rate\":0.002,\"p99_ms\":180}}}}}},"
    );
    s.push_str("\"tests\":{\"coverage\":84.5,\"suites\":[");
    for i in 0..suites {
        if i > 0 {
            s.push(',');
        }
        let last = i + 1 == suites;
        let failed = usize::from(denied && last);
        let _ = write!(s, "{{\"name\":\"suite-{i:03}\",\"passed\":{},\"failed\":{failed},\"skipped\":1,\"cases\":[", cases - 1 - failed);
        for j in 0..cases {
            if j > 0 {
                s.push(',');
            }
            let status = if j == 0 { "skipped" } else { "passed" };
            let _ = write!(
                s,
                "{{\"name\":\"test_{i:03}_{j:06}\",\"status\":\"{status}\",\"duration_ms\":{}}}",
                rng.below(250)
            );
        }
        s.push_str("]}");
    }
    s.push_str("]},\"sbom\":{\"components\":[");
    for i in 0..components {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "{{\"name\":\"component-{i:06}\",\"version\":\"{}.{}.{}\",\"purl\":\"pkg:cargo/component-{i:06}@1.0.0\",\"vulnerabilities\":[",
            rng.below(5),
            rng.below(20),
            rng.below(50)
        );
        let n = rng.below(3);
        for k in 0..n {
            if k > 0 {
                s.push(',');
            }
            let sev = SEVERITIES[rng.below(3) as usize];
            let _ = write!(
                s,
                "{{\"id\":\"CVE-2026-{:05}\",\"severity\":\"{sev}\"}}",
                rng.below(99_999)
            );
        }
        if denied && i + 1 == components {
            if n > 0 {
                s.push(',');
            }
            s.push_str("{\"id\":\"CVE-2026-99999\",\"severity\":\"critical\"}");
        }
        s.push_str("]}");
    }
    s.push_str("]},\"config\":{");
    for (e, env) in ["staging", "prod"].iter().enumerate() {
        if e > 0 {
            s.push(',');
        }
        let _ = write!(s, "\"{env}\":{{");
        let _ = write!(s, "\"endpoint.db\":\"db.{env}.internal\",\"endpoint.cache\":\"cache.{env}.internal\",\"replicas\":{}", if e == 0 { 2 } else { 6 });
        for k in 0..keys {
            // Two keys drift by design; the denied variant drifts a third, the last one.
            let drift = *env == "prod" && (k < 2 || (denied && k + 1 == keys));
            let value = if drift {
                format!("prod-{k}")
            } else {
                format!("value-{k}")
            };
            let _ = write!(s, ",\"setting.{k:05}\":\"{value}\"");
        }
        s.push('}');
    }
    s.push_str("},\"approvals\":[{\"user\":\"alice\",\"role\":\"release-manager\",\"at\":\"2026-11-20T10:00:00Z\"},{\"user\":\"bob\",\"role\":\"release-manager\",\"at\":\"2026-11-20T11:00:00Z\"},{\"user\":\"carol\",\"role\":\"developer\",\"at\":\"2026-11-20T11:30:00Z\"}],");
    let _ = write!(s, "\"rollback\":{{\"previous_digest\":\"{PREVIOUS}\",\"plan\":\"helm rollback payments 41\"}}}}");
    s
}

/// Writes every variant under `dir` and returns the paths.
pub fn write_all(
    dir: &std::path::Path,
    sizes: &[Size],
) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for size in sizes {
        for denied in [false, true] {
            let path = dir.join(format!(
                "{}-{}.json",
                size.name(),
                if denied { "denied" } else { "allowed" }
            ));
            std::fs::write(&path, generate(*size, denied))?;
            out.push(path);
        }
    }
    Ok(out)
}
