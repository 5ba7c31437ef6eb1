//! `clearance serve` under load (issue 18): a bounded load generator on
//! loopback, keep-alive connections each sending a fixed number of
//! `POST /v1/check`, for the small and medium workload bundles, with the
//! ledger off, on SQLite and on PostgreSQL. Prints throughput and p50/p99
//! latency (figures in docs/performance.md).
//!
//! `cargo bench --bench serve`. Under `cargo test` (no `--bench`) it sends a
//! few requests per configuration, to keep it working.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/postgres.rs"]
mod postgres;
#[path = "workload/mod.rs"]
mod workload;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clearance"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["serve", "--listen", "127.0.0.1:0", "--policies"])
            .arg(dir)
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first: serde_json::Value =
            serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        // Keep draining the log so the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            addr: first["addr"].as_str().unwrap().to_string(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// One keep-alive connection: sends `n` requests, returns each latency.
fn connection(addr: &str, request: &[u8], n: usize) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        writer.write_all(request).unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        latencies.push(start.elapsed());
    }
    latencies
}

fn run(label: &str, addr: &str, policy: &str, evidence: &str, connections: usize, per: usize) {
    let body = format!(
        "{{\"policy\":\"{policy}\",\"gate\":\"staging->prod\",\"now\":\"2026-11-20T12:00:00Z\",\"evidence\":{evidence}}}"
    );
    let request = format!(
        "POST /v1/check HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    // Warm up: compile caches, first connections.
    connection(addr, &request, 5.min(per));
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (addr, request) = (addr.to_string(), request.clone());
            std::thread::spawn(move || connection(&addr, &request, per))
        })
        .collect();
    let mut all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{label:<34} {:>7} requests  {:>9.0}/s  p50 {:>8.3} ms  p99 {:>8.3} ms",
        all.len(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

fn main() {
    let bench = bench_mode();
    let (connections, per_small, per_medium) = if bench { (8, 2500, 100) } else { (2, 10, 2) };
    let dir = tempfile::tempdir().unwrap();
    // The workload policy, and a copy whose gate declares its subject (the
    // ledger records a decision about a digest).
    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/bench/workload.clr"),
    )
    .unwrap();
    std::fs::write(dir.path().join("workload.clr"), &policy).unwrap();
    let with_subject = policy.replacen(
        "gate staging -> prod {",
        "gate staging -> prod {\n  subject evidence.artifact.digest\n",
        1,
    );
    assert_ne!(with_subject, policy);
    std::fs::write(dir.path().join("recorded.clr"), with_subject).unwrap();
    let small = workload::generate(workload::Size::Small, false);
    let medium = workload::generate(workload::Size::Medium, false);
    let compact = |t: &str| {
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(t).unwrap()).unwrap()
    };
    let (small, medium) = (compact(&small), compact(&medium));
    println!("clearance serve on 127.0.0.1, {connections} keep-alive connections");
    {
        let server = Server::start(dir.path(), &[]);
        run(
            "small, ledger off",
            &server.addr,
            "workload.clr",
            &small,
            connections,
            per_small,
        );
        run(
            "medium, ledger off",
            &server.addr,
            "workload.clr",
            &medium,
            connections,
            per_medium,
        );
    }
    let key = "tests/data/signing/test.key";
    {
        let spec = dir.path().join("ledger.db").display().to_string();
        assert!(Command::new(env!("CARGO_BIN_EXE_clearance"))
            .args(["ledger", "init", &spec])
            .status()
            .unwrap()
            .success());
        let server = Server::start(dir.path(), &["--ledger", &spec, "--sign-key", key]);
        run(
            "small, recorded in SQLite",
            &server.addr,
            "recorded.clr",
            &small,
            connections,
            per_small / 5,
        );
    }
    {
        let pg = postgres::TempPostgres::start();
        assert!(Command::new(env!("CARGO_BIN_EXE_clearance"))
            .args(["ledger", "init", &pg.url])
            .status()
            .unwrap()
            .success());
        let server = Server::start(dir.path(), &["--ledger", &pg.url, "--sign-key", key]);
        run(
            "small, recorded in PostgreSQL",
            &server.addr,
            "recorded.clr",
            &small,
            connections,
            per_small / 5,
        );
    }
}
