//! `clearance serve` (TRUST.md section 5, issue 18) as a real process on
//! 127.0.0.1, through a real HTTP client: byte-identical reports against
//! `clearance check`, the status-code matrix, the OpenAPI description
//! checked against real responses, hot reload under load (a ConfigMap-style
//! symlink swap), recording into SQLite and into PostgreSQL (two servers,
//! one ledger; the database stopped mid-run), slow clients, and SIGTERM
//! during load. Every request count and wait is bounded.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/postgres.rs"]
mod postgres;

use serde_json::{json, Value};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("clearance")
}

/// A running `clearance serve`, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .current_dir(root())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr)
                    .lines()
                    .map_while(Result::ok)
                {
                    if line.contains("\"msg\":\"listening\"") {
                        let _ = tx.send(line.clone());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server did not start: {:?}", log.lock().unwrap()));
        let v: Value = serde_json::from_str(&line).unwrap();
        Server {
            child,
            addr: v["addr"].as_str().unwrap().to_string(),
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// (status, content type, body) of a request.
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String, String) {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let mut req = agent.request(method, &self.url(path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let result = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(b),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let kind = response.content_type().to_string();
        (status, kind, response.into_string().unwrap())
    }

    fn check(&self, token: Option<&str>, body: &Value) -> (u16, String, String) {
        self.call("POST", "/v1/check", token, Some(&body.to_string()))
    }

    fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// What `clearance check POLICY --evidence - ... --format json` prints when
/// run in DIR with the compact JSON of `evidence` on standard input.
fn cli_report(dir: &Path, policy: &str, gate: Option<&str>, evidence: &Value, now: &str) -> String {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir).args([
        "check",
        policy,
        "--evidence",
        "-",
        "--now",
        now,
        "--format",
        "json",
    ]);
    if let Some(g) = gate {
        cmd.args(["--gate", g]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(evidence).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const NOW: &str = "2026-11-20T12:00:00Z";

#[test]
fn every_example_decides_byte_for_byte_as_check() {
    let server = Server::start(&["--policies", "policies"]);
    let dir = root().join("policies");
    let mut compared = 0;
    // The payments example: every bundle against every gate.
    for bundle in ["allowed", "denied", "missing-evidence"] {
        let evidence = read_json(&dir.join(format!("payments/evidence/{bundle}.json")));
        for gate in ["dev->staging", "staging->prod"] {
            let body = json!({"policy": "payments/policy.clr", "gate": gate, "evidence": evidence, "now": NOW});
            let (status, kind, served) = server.check(None, &body);
            assert_eq!(status, 200, "{served}");
            assert_eq!(kind, "application/json");
            assert_eq!(
                served,
                cli_report(&dir, "payments/policy.clr", Some(gate), &evidence, NOW),
                "{bundle} {gate}"
            );
            compared += 1;
        }
    }
    // Every cookbook recipe with pass and fail bundles.
    let mut recipes: Vec<PathBuf> = std::fs::read_dir(dir.join("cookbook"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    recipes.sort();
    for recipe in recipes.iter().filter(|r| r.join("pass.json").exists()) {
        let name = recipe.file_name().unwrap().to_string_lossy();
        let policy = format!("cookbook/{name}/policy.clr");
        for bundle in ["pass", "fail"] {
            let evidence = read_json(&recipe.join(format!("{bundle}.json")));
            let program = clearance::compile_path(&recipe.join("policy.clr"), &[]).unwrap();
            if program.gates.is_empty() {
                continue; // the rollback recipe: `serve` decides gates
            }
            let body = json!({"policy": policy, "evidence": evidence, "now": NOW});
            let (status, _, served) = server.check(None, &body);
            assert_eq!(status, 200, "{policy}: {served}");
            assert_eq!(
                served,
                cli_report(&dir, &policy, None, &evidence, NOW),
                "{policy} {bundle}"
            );
            compared += 1;
        }
    }
    // Params travel as `--param NAME=VALUE` would.
    let evidence = read_json(&dir.join("payments/evidence/denied.json"));
    let body = json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": evidence, "now": NOW, "params": {"min_coverage": 10}});
    let (_, _, served) = server.check(None, &body);
    let report: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(report["params"]["min_coverage"], 10);
    assert!(report["record"]["command"]
        .as_str()
        .unwrap()
        .contains("--param min_coverage=10"));
    assert!(compared >= 20, "{compared}");
}

#[test]
fn statuses_problems_and_the_openapi_description() {
    let dir = tempfile::tempdir().unwrap();
    // sha256("ci-token") and sha256("other-token")
    let hash = |t: &str| -> String {
        sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
            t.as_bytes(),
        ))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
    };
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(
        &tokens,
        format!(
            "[[token]]\nname = \"payments-ci\"\nsha256 = \"{}\"\npolicies = [\"payments/*\"]\ngates = [\"staging->prod\"]\n\n[[token]]\nname = \"admin\"\nsha256 = \"{}\"\n",
            hash("ci-token"),
            hash("admin-token")
        ),
    )
    .unwrap();
    let server = Server::start(&[
        "--policies",
        "policies",
        "--tokens",
        tokens.to_str().unwrap(),
        "--max-body-bytes",
        "200000",
    ]);
    let evidence = read_json(&root().join("policies/payments/evidence/allowed.json"));
    let ok = json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": evidence, "now": NOW});
    let openapi: Value =
        serde_json::from_str(&server.call("GET", "/openapi.json", None, None).2).unwrap();
    let check_against = |schema: &str, body: &str| {
        let doc: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let root_schema = json!({"$ref": format!("#/components/schemas/{schema}"), "components": openapi["components"]});
        let v = jsonschema::validator_for(&root_schema).unwrap();
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{schema}: {errors:?} in {body}");
    };
    // 200: allowed, with the scoped token, described as a Report.
    let (status, _, body) = server.check(Some("ci-token"), &ok);
    assert_eq!(status, 200, "{body}");
    check_against("Report", &body);
    let cases: Vec<(Option<&str>, Value, u16, &str)> = vec![
        (None, ok.clone(), 401, "a bearer token is required"),
        (Some("wrong"), ok.clone(), 401, "the token is not known"),
        (
            Some("ci-token"),
            json!({"policy": "payments/policy.clr", "gate": "dev->staging", "evidence": evidence}),
            403,
            "may not decide",
        ),
        (
            Some("ci-token"),
            json!({"policy": "cookbook/01-same-artifact/policy.clr", "evidence": {}}),
            403,
            "may not decide",
        ),
        (
            Some("admin-token"),
            json!({"policy": "nope/policy.clr", "evidence": {}}),
            404,
            "no such policy",
        ),
        (
            Some("admin-token"),
            json!({"policy": "../policies/payments/policy.clr", "evidence": {}}),
            404,
            "no such policy",
        ),
        (
            Some("admin-token"),
            json!({"policy": "payments/shared/common.clr", "evidence": {}}),
            404,
            "no such policy",
        ),
        (
            Some("admin-token"),
            json!({"policy": "payments/policy.clr", "gate": "staging->prod"}),
            422,
            "no evidence",
        ),
        (
            Some("admin-token"),
            json!({"policy": "payments/policy.clr", "evidence": {}}),
            422,
            "the gate cannot be chosen",
        ),
        (
            Some("admin-token"),
            json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": {}, "params": {"min_coverage": "lots"}}),
            422,
            "a param is not valid",
        ),
        (
            Some("admin-token"),
            json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": {}, "now": "yesterday"}),
            422,
            "not an RFC 3339 time",
        ),
        (
            Some("admin-token"),
            json!({"policy": "payments/policy.clr", "evidence": {}, "colour": 1}),
            422,
            "unknown field",
        ),
        (
            Some("admin-token"),
            json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": {}, "attestations": {"p": {}}}),
            422,
            "verifies no attestations",
        ),
    ];
    for (token, body, want, title) in cases {
        let (status, kind, text) = server.check(token, &body);
        assert_eq!(status, want, "{body}: {text}");
        assert_eq!(kind, "application/problem+json", "{text}");
        assert!(text.contains(title), "{title}: {text}");
        check_against("Problem", &text);
    }
    // Malformed JSON, and a body past --max-body-bytes.
    let (status, _, text) = server.call(
        "POST",
        "/v1/check",
        Some("admin-token"),
        Some("{\"policy\": "),
    );
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("not a JSON object"), "{text}");
    let big = json!({"policy": "payments/policy.clr", "evidence": {"x": "a".repeat(300_000)}})
        .to_string();
    let (status, kind, text) = server.call("POST", "/v1/check", Some("admin-token"), Some(&big));
    assert_eq!(
        (status, kind.as_str()),
        (413, "application/problem+json"),
        "{text}"
    );
    // A key given twice is ambiguous evidence, refused as `check` refuses it.
    let twice = r#"{"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": {"artifact": {"digest": "a", "digest": "b"}}}"#;
    let (status, _, text) = server.call("POST", "/v1/check", Some("admin-token"), Some(twice));
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("duplicate key `digest`"), "{text}");
    // The policy list needs a token, and shows only what it may decide.
    let (status, kind, _) = server.call("GET", "/v1/policies", None, None);
    assert_eq!((status, kind.as_str()), (401, "application/problem+json"));
    let (status, _, body) = server.call("GET", "/v1/policies", Some("ci-token"), None);
    assert_eq!(status, 200);
    check_against("Policies", &body);
    let listed: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = listed["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["payments/policy.clr"]);
    let (_, _, all) = server.call("GET", "/v1/policies", Some("admin-token"), None);
    assert!(all.contains("cookbook/01-same-artifact/policy.clr"));
    // The open endpoints need no token, and answer as described.
    for (path, schema) in [
        ("/readyz", Some("Ready")),
        ("/healthz", None),
        ("/metrics", None),
        ("/openapi.json", None),
    ] {
        let (status, _, body) = server.call("GET", path, None, None);
        assert_eq!(status, 200, "{path}");
        assert!(
            openapi["paths"][path]["get"]["responses"]["200"].is_object(),
            "{path} is described"
        );
        if let Some(s) = schema {
            check_against(s, &body);
        }
    }
    let (status, _, _) = server.call("GET", "/v1/nothing", None, None);
    assert_eq!(status, 404);
    // Every documented path is served.
    for path in openapi["paths"].as_object().unwrap().keys() {
        let method = if path == "/v1/check" { "POST" } else { "GET" };
        let (status, _, _) = server.call(
            method,
            path,
            Some("admin-token"),
            (method == "POST").then_some("{}"),
        );
        assert_ne!(status, 404, "{path}");
    }
    // Metrics count the decisions, by policy, gate and verdict.
    let (_, _, metrics) = server.call("GET", "/metrics", None, None);
    assert!(metrics.contains("clearance_decisions_total{policy=\"payments/policy.clr\",gate=\"staging -> prod\",verdict=\"allowed\"} 1"), "{metrics}");
    assert!(
        metrics.contains("clearance_http_responses_total{status=\"401\"} 2"),
        "{metrics}"
    );
    // The log is JSON lines with a request id, never a token.
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.iter().all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{log:?}"
    );
    assert!(log
        .iter()
        .any(|l| l.contains("\"request_id\"") && l.contains("\"status\":403")));
    assert!(!log
        .iter()
        .any(|l| l.contains("ci-token") || l.contains("admin-token")));
}

/// A ConfigMap-style policy directory: `..data` -> a version directory,
/// and `payments` -> `..data/payments`.
fn configmap(dir: &Path, version: &str, policy_text: &str) {
    let v = dir.join(format!("..{version}"));
    std::fs::create_dir_all(v.join("payments/shared")).unwrap();
    std::fs::write(v.join("payments/policy.clr"), policy_text).unwrap();
    std::fs::copy(
        root().join("policies/payments/shared/common.clr"),
        v.join("payments/shared/common.clr"),
    )
    .unwrap();
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap(); // atomic swap, as the kubelet does
    if !dir.join("payments").exists() {
        std::os::unix::fs::symlink("..data/payments", dir.join("payments")).unwrap();
    }
}

#[test]
fn policies_reload_under_load_and_a_broken_one_keeps_its_last_good_version() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(root().join("policies/payments/policy.clr")).unwrap();
    configmap(dir.path(), "v1", &original);
    let server = Arc::new(Server::start(&[
        "--policies",
        dir.path().to_str().unwrap(),
        "--reload-interval",
        "0.2",
    ]));
    let evidence = read_json(&root().join("policies/payments/evidence/allowed.json"));
    let body = json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": evidence, "now": NOW});
    let sha = |report: &str| -> String {
        let v: Value = serde_json::from_str(report).unwrap();
        v["record"]["policy_files"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (_, _, first) = server.check(None, &body);
    let v1 = sha(&first);
    // Load from two threads while the directory is swapped twice.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (server, body, stop) = (server.clone(), body.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut shas = Vec::new();
                for _ in 0..400 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let (status, _, report) = server.check(None, &body);
                    assert_eq!(status, 200, "{report}");
                    shas.push(sha(&report));
                }
                shas
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let edited = original.replace("param min_coverage = 80", "param min_coverage = 75");
    assert_ne!(edited, original);
    configmap(dir.path(), "v2", &edited);
    let v2 = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
        edited.as_bytes(),
    ))
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect::<String>();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, _, report) = server.check(None, &body);
        if sha(&report) == v2 {
            break;
        }
        assert!(Instant::now() < deadline, "the new policy was never served");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Now a version that does not compile: the last good one stays.
    configmap(dir.path(), "v3", "gate staging -> {");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, ready) = server.call("GET", "/readyz", None, None);
        if ready.contains("degraded") {
            assert_eq!(status, 200);
            assert!(ready.contains("payments/policy.clr"), "{ready}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the broken policy was never reported: {ready}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = std::collections::BTreeSet::new();
    for l in load {
        seen.extend(l.join().unwrap());
    }
    assert!(
        seen.contains(&v1) && seen.iter().all(|s| *s == v1 || *s == v2),
        "{seen:?}"
    );
    let (status, _, report) = server.check(None, &body);
    assert_eq!(status, 200);
    assert_eq!(sha(&report), v2, "the last good version is served");
    let (_, _, metrics) = server.call("GET", "/metrics", None, None);
    assert!(metrics.contains("clearance_policy_errors 1"), "{metrics}");
    assert!(
        metrics.contains("clearance_policy_reloads_total{result=\"error\"} 1"),
        "{metrics}"
    );
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.iter()
            .any(|l| l.contains("policies reloaded") && l.contains("\"level\":\"error\"")),
        "{log:?}"
    );
}

#[test]
fn slow_clients_time_out_and_sigterm_drains_requests_in_flight() {
    let mut server = Server::start(&["--policies", "policies", "--request-timeout", "1"]);
    // A client that sends half a body and stalls gets 408.
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(stream, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"policy\":").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // Requests in flight when SIGTERM arrives all complete.
    let evidence = read_json(&root().join("policies/payments/evidence/denied.json"));
    let body = json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": evidence, "now": NOW}).to_string();
    let addr = server.addr.clone();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (addr, body) = (addr.clone(), body.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                (0..5)
                    .map(|_| {
                        match agent
                            .post(&format!("http://{addr}/v1/check"))
                            .send_string(&body)
                        {
                            Ok(r) => r.status(),
                            Err(ureq::Error::Status(s, _)) => s,
                            // After the drain the listener is closed: a refused
                            // connection is a request never accepted, not a lost one.
                            Err(_) => 0,
                        }
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(server.terminate(), Some(0), "exit 0 after draining");
    let statuses: Vec<u16> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 0),
        "{statuses:?}"
    );
    assert!(statuses.contains(&200));
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.iter().any(|l| l.contains("draining")) && log.iter().any(|l| l.contains("stopped"))
    );
}

fn ledger_entries(spec: &str) -> Vec<u64> {
    let mut store = clearance::ledger::open(spec, false).unwrap();
    store
        .entries(u64::MAX)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect()
}

fn verify(spec: &str) -> (i32, String) {
    let out = Command::new(bin())
        .current_dir(root())
        .args([
            "ledger",
            "verify",
            spec,
            "--trust",
            "tests/data/signing/test.pub",
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_service_records_every_decision_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("ledger.db").display().to_string();
    let init = Command::new(bin())
        .args(["ledger", "init", &spec])
        .output()
        .unwrap();
    assert!(init.status.success());
    let server = Server::start(&[
        "--policies",
        "policies",
        "--ledger",
        &spec,
        "--sign-key",
        "tests/data/signing/test.key",
        "--ledger-trust",
        "tests/data/signing/test.pub",
    ]);
    let artifact = read_json(&root().join("policies/cookbook/20-soak-from-history/artifact.json"));
    let policy = "cookbook/20-soak-from-history/policy.clr";
    let (status, _, _) = server.check(None, &json!({"policy": policy, "gate": "dev->staging", "evidence": artifact, "now": "2026-11-19T12:00:00Z"}));
    assert_eq!(status, 200);
    // The history the service signed is what the next gate reads.
    let (_, _, early) = server.check(None, &json!({"policy": policy, "gate": "staging->prod", "evidence": artifact, "now": "2026-11-20T11:59:00Z"}));
    let (_, _, late) = server.check(None, &json!({"policy": policy, "gate": "staging->prod", "evidence": artifact, "now": "2026-11-20T12:00:00Z"}));
    let early: Value = serde_json::from_str(&early).unwrap();
    let late: Value = serde_json::from_str(&late).unwrap();
    assert_eq!(
        (early["decision"].as_str(), late["decision"].as_str()),
        (Some("denied"), Some("allowed"))
    );
    assert_eq!(
        ledger_entries(&spec),
        [0, 1, 2],
        "denied decisions are recorded too"
    );
    assert_eq!(verify(&spec).0, 0);
}

#[test]
fn two_services_share_one_postgres_ledger_and_survive_its_restart() {
    let pg = postgres::TempPostgres::start();
    let spec = pg.url.clone();
    let init = Command::new(bin())
        .args(["ledger", "init", &spec])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let args = [
        "--policies",
        "policies",
        "--ledger",
        &spec,
        "--sign-key",
        "tests/data/signing/test.key",
    ];
    let servers = [
        Arc::new(Server::start(&args)),
        Arc::new(Server::start(&args)),
    ];
    let artifact = read_json(&root().join("policies/cookbook/20-soak-from-history/artifact.json"));
    let body = json!({"policy": "cookbook/20-soak-from-history/policy.clr", "gate": "dev->staging", "evidence": artifact, "now": "2026-11-19T12:00:00Z"});
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let (server, body) = (servers[i % 2].clone(), body.clone());
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| server.check(None, &body).0)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        ledger_entries(&spec),
        (0..60).collect::<Vec<_>>(),
        "gapless across two services"
    );
    assert_eq!(verify(&spec).0, 0);
    // The database stops: no decision is given (503), none is recorded.
    pg.stop();
    let (status, kind, text) = servers[0].check(None, &body);
    assert_eq!(
        (status, kind.as_str()),
        (503, "application/problem+json"),
        "{text}"
    );
    let (status, _, _) = servers[0].call("GET", "/readyz", None, None);
    assert_eq!(status, 503);
    // It comes back: the services reconnect.
    pg.restart();
    let (status, _, text) = servers[0].check(None, &body);
    assert_eq!(status, 200, "{text}");
    let (status, _, _) = servers[1].check(None, &body);
    assert_eq!(status, 200);
    assert_eq!(ledger_entries(&spec), (0..62).collect::<Vec<_>>());
    assert_eq!(verify(&spec).0, 0);
    let (_, _, metrics) = servers[0].call("GET", "/metrics", None, None);
    assert!(
        metrics.contains("clearance_ledger_errors_total 1"),
        "{metrics}"
    );
}

/// Certificates for a test: a CA, a server certificate for 127.0.0.1 and a
/// client certificate, all made with the openssl command.
fn certificates(dir: &Path) {
    let sh = |script: &str| {
        let out = Command::new("bash")
            .current_dir(dir)
            .args(["-e", "-c", script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
          -subj /CN=test-ca -keyout ca.key -out ca.pem 2>/dev/null
        for who in server client; do
          openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=$who \
            -keyout $who.key -out $who.csr 2>/dev/null
        done
        printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
        printf 'extendedKeyUsage=clientAuth\\n' > client.ext
        for who in server client; do
          openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile $who.ext -out $who.pem 2>/dev/null
        done",
    );
}

/// `curl` over TLS: (exit code, HTTP status or 0, body).
fn curl(dir: &Path, url: &str, extra: &[&str]) -> (i32, u16, String) {
    let out = Command::new("curl")
        .current_dir(dir)
        .args([
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            "ca.pem",
            "-w",
            "\n%{http_code}",
        ])
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        out.status.code().unwrap_or(-1),
        status.trim().parse().unwrap_or(0),
        body.to_string(),
    )
}

#[test]
fn tls_and_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let file = |n: &str| dir.path().join(n).display().to_string();
    let evidence = read_json(&root().join("policies/payments/evidence/allowed.json"));
    let body = json!({"policy": "payments/policy.clr", "gate": "staging->prod", "evidence": evidence, "now": NOW}).to_string();
    std::fs::write(dir.path().join("body.json"), &body).unwrap();
    let post = [
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        "@body.json",
    ];
    {
        let server = Server::start(&[
            "--policies",
            "policies",
            "--tls-cert",
            &file("server.pem"),
            "--tls-key",
            &file("server.key"),
        ]);
        let https = format!("https://{}", server.addr);
        let (code, status, report) = curl(dir.path(), &format!("{https}/v1/check"), &post);
        assert_eq!((code, status), (0, 200), "{report}");
        assert_eq!(
            report.trim_end(),
            cli_report(
                &root().join("policies"),
                "payments/policy.clr",
                Some("staging->prod"),
                &evidence,
                NOW
            )
            .trim_end()
        );
        // Plain HTTP on the TLS port gets no answer.
        let (code, _, _) = curl(dir.path(), &format!("http://{}/healthz", server.addr), &[]);
        assert_ne!(code, 0);
    }
    let server = Server::start(&[
        "--policies",
        "policies",
        "--tls-cert",
        &file("server.pem"),
        "--tls-key",
        &file("server.key"),
        "--client-ca",
        &file("ca.pem"),
    ]);
    let https = format!("https://{}", server.addr);
    // Without a client certificate: the handshake fails, nothing is answered.
    let (code, status, _) = curl(dir.path(), &format!("{https}/healthz"), &[]);
    assert!(
        code != 0 && status == 0,
        "answered without a client certificate"
    );
    // With a certificate of the client CA: answered.
    let client = ["--cert", "client.pem", "--key", "client.key"];
    let (code, status, text) = curl(dir.path(), &format!("{https}/healthz"), &client);
    assert_eq!((code, status), (0, 200), "{text}");
    let mut both: Vec<&str> = client.to_vec();
    both.extend(post);
    let (_, status, report) = curl(dir.path(), &format!("{https}/v1/check"), &both);
    assert_eq!(status, 200, "{report}");
    // A certificate from another CA is refused.
    let other = tempfile::tempdir().unwrap();
    certificates(other.path());
    std::fs::copy(
        other.path().join("client.pem"),
        dir.path().join("stranger.pem"),
    )
    .unwrap();
    std::fs::copy(
        other.path().join("client.key"),
        dir.path().join("stranger.key"),
    )
    .unwrap();
    let (code, status, _) = curl(
        dir.path(),
        &format!("{https}/healthz"),
        &["--cert", "stranger.pem", "--key", "stranger.key"],
    );
    assert!(code != 0 && status == 0, "answered a client of another CA");
    // Bad certificate files stop the start (exit 2).
    let out = Command::new(bin())
        .current_dir(root())
        .args([
            "serve",
            "--policies",
            "policies",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &file("ca.key"),
            "--tls-key",
            &file("server.key"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert"));
}
