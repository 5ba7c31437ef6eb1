//! The promotion ledger (issue 17): appends per second on SQLite and on a
//! throw-away PostgreSQL cluster (each append is one transaction with a
//! signed checkpoint, durable: SQLite `synchronous=FULL` in WAL mode), and
//! the time to read the `ledger` value of one subject in a ledger of
//! 1,000,000 entries, through the subject index.
//!
//! `cargo bench --bench ledger`; figures in docs/performance.md. Under
//! `cargo test` (no `--bench`) the ledger holds 10,000 entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/postgres.rs"]
mod postgres;

use clearance::ledger::{self, TrustedKey};
use clearance::sign::SigningKey;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use std::hint::black_box;
use std::path::Path;

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn key() -> SigningKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/signing/test.key");
    SigningKey::from_pem(&std::fs::read_to_string(path).unwrap(), "test.key").unwrap()
}

fn trusted() -> TrustedKey {
    TrustedKey::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/signing/test.pub"))
        .unwrap()
}

fn envelope(i: usize, digest: &str, key: &SigningKey) -> String {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("sha256:{digest}"), "digest": {"sha256": digest}}],
        "predicateType": "https://clearance.dev/decision/v1",
        "predicate": {
            "decision": "allowed",
            "subject": "dev -> staging",
            "now": format!("2026-11-20T12:{:02}:00Z", i % 60),
            "record": {"policy_files": [{"file": "p.clr", "sha256": "ab".repeat(32)}]},
        }
    });
    clearance::sign::envelope(&statement, key).unwrap()
}

fn appends(c: &mut Criterion) {
    let k = key();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("append.db").display().to_string();
    let mut store = ledger::open(&spec, true).unwrap();
    ledger::init(&mut *store, Some("bench")).unwrap();
    let env = envelope(0, &"cd".repeat(32), &k);
    let mut g = c.benchmark_group("ledger");
    g.sample_size(20);
    g.bench_function("append_sqlite", |b| {
        b.iter(|| ledger::record(&mut *store, black_box(&env), &k).unwrap())
    });
    let pg = postgres::TempPostgres::start();
    let mut store = ledger::open(&pg.url, false).unwrap();
    ledger::init(&mut *store, Some("bench")).unwrap();
    g.bench_function("append_postgres", |b| {
        b.iter(|| ledger::record(&mut *store, black_box(&env), &k).unwrap())
    });
    g.finish();
}

/// A ledger of `n` entries written straight into SQLite in one transaction
/// (a million signed appends would take hours of fsyncs): random subjects,
/// and three real signed entries about the target digest among them.
fn big_ledger(dir: &Path, n: usize, target: &str, key: &SigningKey) -> String {
    let spec = dir.join("big.db").display().to_string();
    let mut store = ledger::open(&spec, true).unwrap();
    ledger::init(&mut *store, Some("bench")).unwrap();
    drop(store);
    let mut conn = rusqlite::Connection::open(&spec).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut entry = tx
            .prepare("INSERT INTO ledger_entries VALUES (?1, ?2, ?3, 'dev -> staging', 'allowed', '2026-11-20T12:00:00Z', ?4, ?5)")
            .unwrap();
        let mut subject = tx
            .prepare("INSERT INTO ledger_subjects VALUES (?1, ?2)")
            .unwrap();
        let policy = "ab".repeat(32);
        for i in 0..n {
            let real = i % (n / 3).max(1) == n / 7;
            let digest = if real {
                target.to_string()
            } else {
                format!("{:064x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15) as u64)
            };
            let text = if real {
                envelope(i, &digest, key)
            } else {
                format!("{{\"entry\": {i}}}")
            };
            let leaf = ledger::merkle::leaf_hash(text.as_bytes());
            entry
                .execute(rusqlite::params![
                    i as i64,
                    text,
                    leaf.to_vec(),
                    policy,
                    key.key_id
                ])
                .unwrap();
            subject
                .execute(rusqlite::params![format!("sha256:{digest}"), i as i64])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    spec
}

fn read_value(c: &mut Criterion) {
    let n = if bench_mode() { 1_000_000 } else { 10_000 };
    let k = key();
    let target = "4f".repeat(32);
    let dir = tempfile::tempdir().unwrap();
    let spec = big_ledger(dir.path(), n, &target, &k);
    let trust = [trusted()];
    let digests = [format!("sha256:{target}")];
    let mut g = c.benchmark_group("ledger");
    g.bench_function(format!("value_one_subject_of_{n}"), |b| {
        // Opened per run, as `check` does: the figure is what a decision pays.
        b.iter(|| {
            let mut store = ledger::open(&spec, false).unwrap();
            let snap = ledger::Snapshot {
                size: n as u64,
                root: [0; 32],
            };
            let v = ledger::value(&mut *store, &digests, &snap, &trust).unwrap();
            assert_eq!(v.to_json()["decisions"].as_array().map(Vec::len), Some(3));
            v
        })
    });
    g.finish();
}

criterion_group!(benches, appends, read_value);
criterion_main!(benches);
