//! The promotion ledger (TRUST.md section 4, issue 17) on real stores: an
//! SQLite file, and a throw-away PostgreSQL cluster started by the test.
//! Appends go through the real binary (`check --record`) or the library;
//! tampering goes around Clearance, straight to the database, the way a
//! database administrator could.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/postgres.rs"]
mod postgres;

use assert_cmd::Command;
use clearance::ledger::{self, TrustedKey, Verdict};
use clearance::sign::SigningKey;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::Path;

const RECIPE: &str = "policies/cookbook/20-soak-from-history";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn clearance() -> Command {
    let mut cmd = Command::cargo_bin("clearance").unwrap();
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

fn key(name: &str) -> SigningKey {
    let path = root().join("tests/data/signing").join(name);
    SigningKey::from_pem(&std::fs::read_to_string(&path).unwrap(), name).unwrap()
}

fn trusted(name: &str) -> TrustedKey {
    TrustedKey::load(&root().join("tests/data/signing").join(name)).unwrap()
}

fn init(spec: &str) {
    let out = clearance()
        .args(["ledger", "init", spec, "--origin", "clearance.example/test"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `check --record` of the recipe's dev -> staging gate at `now`.
fn record(spec: &str, now: &str, key: &str) -> std::process::Output {
    clearance()
        .args([
            "check",
            &format!("{RECIPE}/policy.clr"),
            "--gate",
            "dev->staging",
        ])
        .args([
            "--evidence",
            &format!("{RECIPE}/artifact.json"),
            "--now",
            now,
        ])
        .args(["--ledger", spec, "--record", "--sign-key"])
        .arg(root().join("tests/data/signing").join(key))
        .output()
        .unwrap()
}

/// The recipe's staging -> prod decision reading the ledger.
fn prod(spec: &str, now: &str, extra: &[&str]) -> std::process::Output {
    clearance()
        .args([
            "check",
            &format!("{RECIPE}/policy.clr"),
            "--gate",
            "staging->prod",
        ])
        .args([
            "--evidence",
            &format!("{RECIPE}/artifact.json"),
            "--now",
            now,
        ])
        .args([
            "--ledger",
            spec,
            "--ledger-trust",
            "tests/data/signing/test.pub",
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn verify_cli(spec: &str, trust: &[&str], checkpoint: Option<&Path>) -> (i32, String) {
    let mut cmd = clearance();
    cmd.args(["ledger", "verify", spec]);
    for t in trust {
        cmd.args(["--trust", &format!("tests/data/signing/{t}")]);
    }
    if let Some(c) = checkpoint {
        cmd.arg("--checkpoint").arg(c);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A decision statement like `check --output attestation` signs, minimal.
fn decision(n: usize, digest: &str) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("sha256:{digest}"), "digest": {"sha256": digest}}],
        "predicateType": "https://clearance.dev/decision/v1",
        "predicate": {
            "version": 1,
            "command": "check",
            "decision": if n % 3 == 2 { "denied" } else { "allowed" },
            "subject": "dev -> staging",
            "now": format!("2026-11-{:02}T12:00:00Z", 1 + n % 28),
            "record": {"policy_files": [{"file": "p.clr", "sha256": "ab".repeat(32)}]},
        }
    })
}

fn digest_of(n: usize) -> String {
    format!("{:064x}", n + 1)
}

/// A new SQLite ledger of `n` entries appended through the library.
fn sqlite_ledger(dir: &Path, n: usize) -> String {
    let spec = dir.join("ledger.db").display().to_string();
    let mut store = ledger::open(&spec, true).unwrap();
    ledger::init(&mut *store, Some("clearance.example/test")).unwrap();
    let k = key("test.key");
    for i in 0..n {
        let envelope = clearance::sign::envelope(&decision(i, &digest_of(i % 3)), &k).unwrap();
        assert_eq!(
            ledger::record(&mut *store, &envelope, &k).unwrap(),
            i as u64
        );
    }
    spec
}

fn sql(spec: &str) -> rusqlite::Connection {
    rusqlite::Connection::open(spec).unwrap()
}

/// What a database administrator must do first: the triggers refuse edits.
fn drop_triggers(c: &rusqlite::Connection) {
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    for n in names {
        c.execute_batch(&format!("DROP TRIGGER {n}")).unwrap();
    }
}

#[test]
fn the_soak_rule_reads_only_history_signed_by_a_trusted_key() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("l.db").display().to_string();
    init(&spec);
    // Staging allowed this digest, but the decision is signed by a key
    // prod does not trust: it is no history at all for prod.
    assert_eq!(
        record(&spec, "2026-11-19T12:00:00Z", "other.key")
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        prod(&spec, "2026-11-25T12:00:00Z", &[]).status.code(),
        Some(1)
    );
    let (code, out) = verify_cli(&spec, &["test.pub"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("seq 0: signed by no trusted key"), "{out}");
    assert_eq!(verify_cli(&spec, &["test.pub", "other.pub"], None).0, 0);
    // Signed by the trusted key: 23h59m is short, 24h is enough.
    assert_eq!(
        record(&spec, "2026-11-19T12:00:00Z", "test.key")
            .status
            .code(),
        Some(0)
    );
    let short = prod(&spec, "2026-11-20T11:59:00Z", &["--format", "json"]);
    assert_eq!(short.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&short.stdout).unwrap();
    assert_eq!(report["record"]["ledger"]["size"], 2);
    assert!(report["record"]["command"]
        .as_str()
        .unwrap()
        .ends_with("--ledger-trust tests/data/signing/test.pub --ledger-at 2"));
    // The report with its ledger snapshot fits the published schema.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/schema/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        prod(&spec, "2026-11-20T12:00:00Z", &[]).status.code(),
        Some(0)
    );
}

#[test]
fn a_replayed_decision_is_byte_identical_after_more_appends() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("l.db").display().to_string();
    init(&spec);
    record(&spec, "2026-11-18T12:00:00Z", "test.key");
    let first = prod(&spec, "2026-11-20T12:00:00Z", &["--format", "json"]);
    assert_eq!(first.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&first.stdout).unwrap();
    let command = report["record"]["command"].as_str().unwrap().to_string();
    for _ in 0..3 {
        record(&spec, "2026-11-19T12:00:00Z", "test.key");
    }
    let again = prod(
        &spec,
        "2026-11-20T12:00:00Z",
        &["--format", "json", "--ledger-at", "1"],
    );
    assert_eq!(
        again.stdout, first.stdout,
        "--ledger-at replays byte for byte"
    );
    // The recorded command itself replays it.
    let shell = std::process::Command::new("bash")
        .current_dir(root())
        .env(
            "PATH",
            format!(
                "{}:{}",
                assert_cmd::cargo::cargo_bin("clearance")
                    .parent()
                    .unwrap()
                    .display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(format!("{command} --format json"))
        .output()
        .unwrap();
    assert_eq!(shell.stdout, first.stdout, "{command}");
    // Without the replay flag the newer history is read (and named).
    let now = prod(&spec, "2026-11-20T12:00:00Z", &["--format", "json"]);
    let now: Value = serde_json::from_slice(&now.stdout).unwrap();
    assert_eq!(now["record"]["ledger"]["size"], 4);
    assert_eq!(
        prod(&spec, "2026-11-20T12:00:00Z", &["--ledger-at", "9"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn without_a_ledger_or_with_a_bad_one_nothing_is_decided_or_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("l.db").display().to_string();
    // Not initialised: a mistyped ledger is never an empty history.
    let out = prod(&spec, "2026-11-20T12:00:00Z", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such ledger"));
    assert!(!Path::new(&spec).exists());
    init(&spec);
    // --record without a key, --ledger without a use, --ledger-at without trust.
    for args in [
        vec!["--ledger", spec.as_str(), "--record"],
        vec!["--ledger", spec.as_str()],
        vec!["--record"],
    ] {
        let out = clearance()
            .args([
                "check",
                &format!("{RECIPE}/policy.clr"),
                "--gate",
                "dev->staging",
            ])
            .args(["--evidence", &format!("{RECIPE}/artifact.json")])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    // An append that fails (here a trigger plays a full disk) prints no decision.
    let c = sql(&spec);
    c.execute_batch("CREATE TRIGGER stop BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .unwrap();
    drop(c);
    let out = record(&spec, "2026-11-19T12:00:00Z", "test.key");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "no decision is printed when the append fails"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("disk full"));
    let mut store = ledger::open(&spec, false).unwrap();
    assert_eq!(store.entries(u64::MAX).unwrap().len(), 0);
}

#[test]
fn sqlite_refuses_update_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sqlite_ledger(dir.path(), 2);
    let c = sql(&spec);
    for statement in [
        "UPDATE ledger_entries SET verdict = 'allowed'",
        "DELETE FROM ledger_entries WHERE seq = 1",
        "DELETE FROM ledger_checkpoints",
        "UPDATE ledger_subjects SET digest = 'x'",
        "UPDATE ledger_meta SET value = 'other'",
    ] {
        let err = c.execute_batch(statement).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{statement}: {err}");
    }
}

#[derive(Clone, Debug)]
enum Tamper {
    EditEnvelope(usize),
    EditIndexed(usize, &'static str),
    Delete(usize),
    Swap(usize, usize),
    Truncate(usize),
    EditSubjectIndex(usize),
    DeleteCheckpoint(usize),
    ForeignEntry,
}

fn tamper(n: usize) -> impl Strategy<Value = (Tamper, u64)> {
    let i = 0..n;
    prop_oneof![
        i.clone().prop_map(|i| (Tamper::EditEnvelope(i), i as u64)),
        (
            i.clone(),
            prop::sample::select(vec![
                "gate",
                "verdict",
                "decided_at",
                "policy_sha256",
                "signer"
            ])
        )
            .prop_map(|(i, f)| (Tamper::EditIndexed(i, f), i as u64)),
        i.clone().prop_map(|i| (Tamper::Delete(i), i as u64)),
        (0..n - 1)
            .prop_flat_map(move |i| (Just(i), i + 1..n))
            .prop_map(|(i, j)| (Tamper::Swap(i, j), i as u64)),
        i.clone().prop_map(|i| (Tamper::Truncate(i), i as u64)),
        i.clone()
            .prop_map(|i| (Tamper::EditSubjectIndex(i), i as u64)),
        i.prop_map(|i| (Tamper::DeleteCheckpoint(i + 1), i as u64)),
        Just((Tamper::ForeignEntry, n as u64)),
    ]
}

fn apply(spec: &str, t: &Tamper) {
    let c = sql(spec);
    drop_triggers(&c);
    match t {
        Tamper::EditEnvelope(i) => {
            c.execute(
                "UPDATE ledger_entries SET envelope = replace(envelope, '\"payload\": \"ey', '\"payload\": \"EY') WHERE seq = ?1",
                [*i as i64],
            )
            .unwrap();
        }
        Tamper::EditIndexed(i, field) => {
            c.execute(
                &format!("UPDATE ledger_entries SET {field} = {field} || 'x' WHERE seq = ?1"),
                [*i as i64],
            )
            .unwrap();
        }
        Tamper::Delete(i) => {
            c.execute("DELETE FROM ledger_entries WHERE seq = ?1", [*i as i64])
                .unwrap();
        }
        Tamper::Swap(i, j) => {
            c.execute_batch(&format!(
                "UPDATE ledger_entries SET seq = -1 WHERE seq = {i};
                 UPDATE ledger_entries SET seq = {i} WHERE seq = {j};
                 UPDATE ledger_entries SET seq = {j} WHERE seq = -1;
                 UPDATE ledger_subjects SET seq = -1 WHERE seq = {i};
                 UPDATE ledger_subjects SET seq = {i} WHERE seq = {j};
                 UPDATE ledger_subjects SET seq = {j} WHERE seq = -1;"
            ))
            .unwrap();
        }
        Tamper::Truncate(k) => {
            // A careful administrator removes the entries and every trace:
            // only a checkpoint kept elsewhere can tell.
            c.execute_batch(&format!(
                "DELETE FROM ledger_entries WHERE seq >= {k};
                 DELETE FROM ledger_subjects WHERE seq >= {k};
                 DELETE FROM ledger_checkpoints WHERE size > {k};"
            ))
            .unwrap();
        }
        Tamper::EditSubjectIndex(i) => {
            c.execute(
                "UPDATE ledger_subjects SET digest = 'sha256:' || substr(digest, 9, 63) || 'f' WHERE seq = ?1",
                [*i as i64],
            )
            .unwrap();
        }
        Tamper::DeleteCheckpoint(size) => {
            c.execute(
                "DELETE FROM ledger_checkpoints WHERE size = ?1",
                [*size as i64],
            )
            .unwrap();
        }
        Tamper::ForeignEntry => {
            drop(c);
            // Appended the normal way, but signed by a key nobody trusts.
            let mut store = ledger::open(spec, false).unwrap();
            let other = key("other.key");
            let envelope = clearance::sign::envelope(&decision(0, &digest_of(0)), &other).unwrap();
            ledger::record(&mut *store, &envelope, &other).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every edit, deletion, reordering or truncation of stored rows is
    /// detected by `ledger verify`, which names the first bad seq. The
    /// verifier holds a checkpoint taken before the tampering (without one,
    /// deleting the newest entries together with their checkpoints is
    /// undetectable: docs/ledger.md says so, and the next test shows it).
    #[test]
    fn verify_names_the_first_tampered_seq((n, (t, seq)) in (2usize..7).prop_flat_map(|n| (Just(n), tamper(n)))) {
        let dir = tempfile::tempdir().unwrap();
        let spec = sqlite_ledger(dir.path(), n);
        let trust = [trusted("test.pub")];
        let mut store = ledger::open(&spec, false).unwrap();
        let kept = store.head().unwrap().unwrap().note;
        let before = ledger::verify(&mut *store, &trust, Some(&kept)).unwrap();
        prop_assert!(matches!(before, Verdict::Intact { .. }), "{:?}", before);
        drop(store);
        apply(&spec, &t);
        let mut store = ledger::open(&spec, false).unwrap();
        match ledger::verify(&mut *store, &trust, Some(&kept)).unwrap() {
            Verdict::Tampered { seq: found, what } => prop_assert_eq!(found, seq, "{:?}: {}", t, what),
            intact => prop_assert!(false, "{:?} went unnoticed: {:?}", t, intact),
        }
    }
}

#[test]
fn truncation_needs_an_external_checkpoint_and_verify_says_which_seq() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sqlite_ledger(dir.path(), 5);
    let kept = dir.path().join("checkpoint.txt");
    let out = clearance()
        .args(["ledger", "checkpoint", &spec])
        .output()
        .unwrap();
    std::fs::write(&kept, &out.stdout).unwrap();
    assert_eq!(verify_cli(&spec, &["test.pub"], Some(&kept)).0, 0);
    apply(&spec, &Tamper::Truncate(3));
    // Alone, the shortened ledger is consistent with itself...
    let (code, out) = verify_cli(&spec, &["test.pub"], None);
    assert_eq!(code, 0, "{out}");
    // ...and the kept checkpoint shows what was removed.
    let (code, out) = verify_cli(&spec, &["test.pub"], Some(&kept));
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "tampered: seq 3: the external checkpoint commits to 5 entries, but 3 are stored"
        ),
        "{out}"
    );
    assert_eq!(
        verify_cli(
            &dir.path().join("nope.db").display().to_string(),
            &["test.pub"],
            None
        )
        .0,
        2
    );
}

#[test]
fn untrusted_entries_are_left_out_of_the_ledger_value() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sqlite_ledger(dir.path(), 4);
    apply(&spec, &Tamper::ForeignEntry);
    let mut store = ledger::open(&spec, false).unwrap();
    let snap = ledger::snapshot(&mut *store, None).unwrap();
    assert_eq!(snap.size, 5);
    let digest = format!("sha256:{}", digest_of(0));
    let v = ledger::value(&mut *store, &[digest], &snap, &[trusted("test.pub")]).unwrap();
    let seqs: Vec<i64> = v.to_json()["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["seq"].as_i64().unwrap())
        .collect();
    // seq 0 and 3 are about digest 0 and signed by the trusted key; seq 4 is not trusted.
    assert_eq!(seqs, [0, 3]);
}

/// Runs `clearance check --record` from 8 processes at once.
fn parallel_records(spec: &str) {
    let bin = assert_cmd::cargo::cargo_bin("clearance");
    let children: Vec<_> = (0..8)
        .map(|i| {
            std::process::Command::new(&bin)
                .current_dir(root())
                .args([
                    "check",
                    &format!("{RECIPE}/policy.clr"),
                    "--gate",
                    "dev->staging",
                ])
                .args(["--evidence", &format!("{RECIPE}/artifact.json")])
                .args(["--now", &format!("2026-11-19T12:00:{i:02}Z")])
                .args([
                    "--ledger",
                    spec,
                    "--record",
                    "--sign-key",
                    "tests/data/signing/test.key",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Gapless seqs, an intact ledger, and the same root as the same envelopes
/// appended one by one into a new ledger.
fn assert_gapless_and_replayable(spec: &str, n: usize, dir: &Path) {
    let mut store = ledger::open(spec, false).unwrap();
    let entries = store.entries(u64::MAX).unwrap();
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..n as u64).collect::<Vec<_>>());
    let Verdict::Intact { root, .. } =
        ledger::verify(&mut *store, &[trusted("test.pub")], None).unwrap()
    else {
        panic!("not intact")
    };
    let fresh_dir = tempfile::tempdir_in(dir).unwrap();
    let replay = fresh_dir.path().join("replay.db").display().to_string();
    let mut fresh = ledger::open(&replay, true).unwrap();
    ledger::init(&mut *fresh, Some("clearance.example/replay")).unwrap();
    let k = key("test.key");
    for e in &entries {
        ledger::record(&mut *fresh, &e.envelope, &k).unwrap();
    }
    let Verdict::Intact { root: replayed, .. } =
        ledger::verify(&mut *fresh, &[trusted("test.pub")], None).unwrap()
    else {
        panic!("replay not intact")
    };
    assert_eq!(root, replayed);
}

#[test]
fn eight_concurrent_appends_to_sqlite_are_gapless() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("l.db").display().to_string();
    init(&spec);
    parallel_records(&spec);
    assert_gapless_and_replayable(&spec, 8, dir.path());
}

/// SIGKILL at random moments of `check --record` processes: every append
/// is all or nothing, and the ledger verifies.
fn kill_appenders(spec: &str) -> usize {
    let bin = assert_cmd::cargo::cargo_bin("clearance");
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..12 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut child = std::process::Command::new(&bin)
            .current_dir(root())
            .args([
                "check",
                &format!("{RECIPE}/policy.clr"),
                "--gate",
                "dev->staging",
            ])
            .args([
                "--evidence",
                &format!("{RECIPE}/artifact.json"),
                "--now",
                "2026-11-19T12:00:00Z",
            ])
            .args([
                "--ledger",
                spec,
                "--record",
                "--sign-key",
                "tests/data/signing/test.key",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(rng % 40));
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
    }
    let mut store = ledger::open(spec, false).unwrap();
    store.entries(u64::MAX).unwrap().len()
}

#[test]
fn a_killed_appender_leaves_no_partial_entry_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("l.db").display().to_string();
    init(&spec);
    let n = kill_appenders(&spec);
    let mut store = ledger::open(&spec, false).unwrap();
    let head = store.head().unwrap().map_or(0, |c| c.size);
    assert_eq!(
        head as usize, n,
        "one checkpoint per entry, none half-written"
    );
    assert_gapless_and_replayable(&spec, n, dir.path());
}

#[test]
fn a_proof_checks_without_the_database_in_an_independent_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sqlite_ledger(dir.path(), 11);
    let script = r#"
import base64, hashlib, json, sys
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()
proof = json.load(sys.stdin)
leaf = hashlib.sha256(b"\x00" + proof["envelope"].encode()).digest()
assert leaf.hex() == proof["leaf_hash"]
# RFC 9162 2.1.3.2, as written there.
fn, sn, r = proof["seq"], proof["tree_size"] - 1, leaf
for p in map(bytes.fromhex, proof["inclusion_proof"]):
    if sn == 0: sys.exit("proof too long")
    if fn & 1 or fn == sn:
        r = node(p, r)
        while not fn & 1 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        r = node(r, p)
    fn >>= 1; sn >>= 1
origin, size, root = proof["checkpoint"].split("\n")[:3]
assert sn == 0 and int(size) == proof["tree_size"]
assert r == base64.b64decode(root), "root"
print("ok")
"#;
    for seq in [0, 5, 10] {
        let out = clearance()
            .args(["ledger", "prove", &spec, &seq.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut py = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        py.stdin.take().unwrap().write_all(&out.stdout).unwrap();
        let done = py.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&done.stdout).trim(),
            "ok",
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        // The checkpoint's signature, checked with another Ed25519 implementation.
        let proof: Value = serde_json::from_slice(&out.stdout).unwrap();
        let note = proof["checkpoint"].as_str().unwrap();
        let (body, sigline) = note.split_once("\n\n").unwrap();
        let sig = base64_decode(sigline.trim().rsplit_once(' ').unwrap().1);
        let public = key("test.key").public_raw();
        let pk = ed25519_compact::PublicKey::new(public);
        let s = ed25519_compact::Signature::from_slice(&sig[4..]).unwrap();
        assert!(pk.verify(format!("{body}\n"), &s).is_ok());
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn the_merkle_root_matches_an_independent_implementation() {
    // Python's hashlib, RFC 6962's recursive definition, on leaves of
    // every size from 0 to 40.
    let script = r#"
import hashlib, sys
def mth(d):
    if len(d) == 0: return hashlib.sha256(b"").digest()
    if len(d) == 1: return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d): k *= 2
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()
for n in range(41):
    print(mth([bytes([i, i ^ 0x5a]) * (i % 4) for i in range(n)]).hex())
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    for (n, want) in theirs.iter().enumerate() {
        let leaves: Vec<[u8; 32]> = (0..n)
            .map(|i| {
                let data: Vec<u8> = [i as u8, i as u8 ^ 0x5a].repeat(i % 4);
                ledger::merkle::leaf_hash(&data)
            })
            .collect();
        let ours: String = ledger::merkle::root(&leaves)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(&ours, want, "size {n}");
    }
}

#[test]
fn postgres_ledger_end_to_end() {
    let pg = postgres::TempPostgres::start();
    let spec = pg.url.clone();
    init(&spec);
    init(&spec); // idempotent
                 // The triggers refuse UPDATE, DELETE and TRUNCATE, for the owner too.
    let mut client = ::postgres::Client::connect(&spec, ::postgres::NoTls).unwrap();
    assert_eq!(
        record(&spec, "2026-11-19T12:00:00Z", "test.key")
            .status
            .code(),
        Some(0)
    );
    for statement in [
        "UPDATE ledger_entries SET verdict = 'allowed'",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_checkpoints",
        "UPDATE ledger_meta SET value = 'x'",
    ] {
        let err = client.batch_execute(statement).unwrap_err();
        let message = err
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| err.to_string());
        assert!(
            message.contains("append-only") || message.contains("permission denied"),
            "{statement}: {message}"
        );
    }
    // The soak rule on PostgreSQL, through the binary.
    assert_eq!(
        prod(&spec, "2026-11-20T11:59:00Z", &[]).status.code(),
        Some(1)
    );
    assert_eq!(
        prod(&spec, "2026-11-20T12:00:00Z", &[]).status.code(),
        Some(0)
    );
    // Concurrent appends from 8 processes: gapless, and the same root as a
    // sequential replay.
    parallel_records(&spec);
    let dir = tempfile::tempdir().unwrap();
    assert_gapless_and_replayable(&spec, 9, dir.path());
    let (code, out) = verify_cli(&spec, &["test.pub"], None);
    assert_eq!(code, 0, "{out}");
    // Killed appenders leave no partial entry.
    let n = kill_appenders(&spec);
    assert!(n >= 9);
    assert_gapless_and_replayable(&spec, n, dir.path());
    // A superuser who drops the triggers and rewrites history is caught.
    let kept = clearance()
        .args(["ledger", "checkpoint", &spec])
        .output()
        .unwrap()
        .stdout;
    let kept_path = dir.path().join("kept.txt");
    std::fs::write(&kept_path, kept).unwrap();
    client
        .batch_execute(
            "ALTER TABLE ledger_entries DISABLE TRIGGER ALL;
             GRANT UPDATE ON ledger_entries TO CURRENT_USER;
             UPDATE ledger_entries SET verdict = 'denied' WHERE seq = 3;",
        )
        .unwrap();
    let (code, out) = verify_cli(&spec, &["test.pub"], Some(&kept_path));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("tampered: seq 3: the indexed `verdict` is \"denied\""),
        "{out}"
    );
}
