//! Signed decisions (TRUST.md section 3, issue 16), through the real
//! binary: `keygen`, `check --sign-key ... --output vsa=/attestation=`,
//! `verify-decision`, and `batch`. The envelopes are checked by a second,
//! independent Ed25519 implementation (ed25519-compact, not the
//! ed25519-dalek that signs), and by the SLSA "how to verify a VSA" steps
//! applied here, each failing on the field it checks.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const DIGEST: &str = "4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f";
const NOW: &str = "2026-12-01T09:30:00Z";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/signing")
        .join(name)
}

fn clearance() -> Command {
    let mut cmd = Command::cargo_bin("clearance").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `check` on the signing policy with the test key; returns the exit code,
/// stderr and the two envelopes (None when not written).
fn signed_check(
    dir: &Path,
    evidence: &str,
    extra: &[&str],
) -> (i32, String, Option<String>, Option<String>) {
    let (vsa, att) = (dir.join("out.vsa.json"), dir.join("out.decision.json"));
    let out = clearance()
        .args([
            "check",
            "tests/data/signing/policy.clr",
            "--gate",
            "staging->prod",
        ])
        .args(["--evidence", &format!("tests/data/signing/{evidence}")])
        .args(["--now", NOW, "--sign-key", "tests/data/signing/test.key"])
        .arg("--output")
        .arg(format!("vsa={}", vsa.display()))
        .arg("--output")
        .arg(format!("attestation={}", att.display()))
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        std::fs::read_to_string(&vsa).ok(),
        std::fs::read_to_string(&att).ok(),
    )
}

fn payload(envelope: &str) -> Value {
    let e: Value = serde_json::from_str(envelope).unwrap();
    serde_json::from_slice(&B64.decode(e["payload"].as_str().unwrap()).unwrap()).unwrap()
}

/// DSSE v1 pre-authentication encoding, written out here again rather than
/// taken from the crate, so the check is independent of the signer.
fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The 32-byte Ed25519 key of a SubjectPublicKeyInfo PEM (its last bytes).
fn raw_public_key(pem: &str) -> [u8; 32] {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = B64.decode(b64).unwrap();
    der[der.len() - 32..].try_into().unwrap()
}

/// Verifies an envelope's signature with ed25519-compact.
fn independently_verified(envelope: &str, public_pem: &str) -> bool {
    let e: Value = serde_json::from_str(envelope).unwrap();
    let body = B64.decode(e["payload"].as_str().unwrap()).unwrap();
    let sig = B64
        .decode(e["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let key = ed25519_compact::PublicKey::new(raw_public_key(public_pem));
    let Ok(sig) = ed25519_compact::Signature::from_slice(&sig) else {
        return false;
    };
    key.verify(pae(e["payloadType"].as_str().unwrap(), &body), &sig)
        .is_ok()
}

/// Re-signs `statement` with the test key using ed25519-compact: a validly
/// signed envelope whose content the test chose.
fn resigned(statement: &Value) -> String {
    // The RFC 8032 test 1 seed, the same key as tests/data/signing/test.key.
    let seed: [u8; 32] = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
    let body = serde_json::to_vec(statement).unwrap();
    let sig = pair
        .sk
        .sign(pae("application/vnd.in-toto+json", &body), None);
    json!({
        "payloadType": "application/vnd.in-toto+json",
        "payload": B64.encode(&body),
        "signatures": [{"keyid": "", "sig": B64.encode(sig.as_ref())}],
    })
    .to_string()
}

fn hex<const N: usize>(text: &str) -> [u8; N] {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

fn verify_decision(file: &Path, key: &str, subject: Option<&str>) -> (i32, String) {
    let mut cmd = clearance();
    cmd.arg("verify-decision").arg(file).args(["--key", key]);
    if let Some(s) = subject {
        cmd.args(["--subject", s]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn an_allowed_decision_is_signed_deterministically_and_verifies_with_another_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, vsa, att) = signed_check(dir.path(), "allowed.json", &[]);
    assert_eq!(code, 0, "{stderr}");
    let (vsa, att) = (vsa.unwrap(), att.unwrap());
    let public = std::fs::read_to_string(data("test.pub")).unwrap();
    assert!(independently_verified(&vsa, &public));
    assert!(independently_verified(&att, &public));
    let other = std::fs::read_to_string(data("other.pub")).unwrap();
    assert!(!independently_verified(&vsa, &other));

    // The same inputs, key and --now: the same bytes.
    let again = tempfile::tempdir().unwrap();
    let (_, _, vsa2, att2) = signed_check(again.path(), "allowed.json", &[]);
    assert_eq!(Some(vsa.clone()), vsa2);
    assert_eq!(Some(att.clone()), att2);

    // The keyid is the hex SHA-256 of the public key's SPKI DER.
    let envelope: Value = serde_json::from_str(&vsa).unwrap();
    let der: String = public.lines().filter(|l| !l.starts_with("-----")).collect();
    let id: String = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
        B64.decode(der).unwrap(),
    ))
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    assert_eq!(envelope["signatures"][0]["keyid"], json!(id));

    // The decision predicate is the report `check --format json` prints.
    let report = clearance()
        .args([
            "check",
            "tests/data/signing/policy.clr",
            "--gate",
            "staging->prod",
        ])
        .args([
            "--evidence",
            "tests/data/signing/allowed.json",
            "--now",
            NOW,
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(payload(&att)["predicate"], report);

    insta::assert_snapshot!(
        "vsa_payload_allowed",
        serde_json::to_string_pretty(&payload(&vsa)).unwrap()
    );
    insta::assert_snapshot!(
        "decision_payload_allowed",
        serde_json::to_string_pretty(&payload(&att)).unwrap()
    );
}

#[test]
fn a_denied_decision_is_signed_as_failed_with_no_level() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, vsa, _) = signed_check(dir.path(), "denied.json", &[]);
    assert_eq!(code, 1, "{stderr}");
    let vsa = payload(&vsa.unwrap());
    assert_eq!(vsa["predicate"]["verificationResult"], "FAILED");
    assert_eq!(vsa["predicate"]["verifiedLevels"], json!(["FAILED"]));
    insta::assert_snapshot!(
        "vsa_payload_denied",
        serde_json::to_string_pretty(&vsa).unwrap()
    );
}

#[test]
fn verify_decision_exits_by_result_and_refuses_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, allowed, _) = signed_check(dir.path(), "allowed.json", &[]);
    let allowed_path = dir.path().join("allowed.vsa.json");
    std::fs::write(&allowed_path, allowed.unwrap()).unwrap();
    let (_, _, denied, denied_att) = signed_check(dir.path(), "denied.json", &[]);
    let denied_path = dir.path().join("denied.vsa.json");
    std::fs::write(&denied_path, denied.unwrap()).unwrap();
    let denied_att_path = dir.path().join("denied.decision.json");
    std::fs::write(&denied_att_path, denied_att.unwrap()).unwrap();
    let key = "tests/data/signing/test.pub";
    let subject = format!("sha256:{DIGEST}");

    let (code, out) = verify_decision(&allowed_path, key, Some(&subject));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("result PASSED"), "{out}");
    assert_eq!(verify_decision(&denied_path, key, Some(&subject)).0, 1);
    assert_eq!(verify_decision(&denied_att_path, key, None).0, 1);

    // Another key, another subject, a malformed subject, a tampered payload.
    let (code, out) = verify_decision(&allowed_path, "tests/data/signing/other.pub", None);
    assert_eq!(code, 2);
    assert!(out.contains("no signature verifies under the key"), "{out}");
    let other = format!("sha256:{}", "0".repeat(64));
    let (code, out) = verify_decision(&allowed_path, key, Some(&other));
    assert_eq!(code, 2);
    assert!(
        out.contains(&format!("is about sha256:{DIGEST}, not {other}")),
        "{out}"
    );
    let (code, out) = verify_decision(&allowed_path, key, Some("sha256:abc"));
    assert_eq!(code, 2);
    assert!(out.contains("`--subject`"), "{out}");
    let mut envelope: Value =
        serde_json::from_str(&std::fs::read_to_string(&denied_path).unwrap()).unwrap();
    let mut statement = payload(&envelope.to_string());
    statement["predicate"]["verificationResult"] = json!("PASSED");
    envelope["payload"] = json!(B64.encode(serde_json::to_vec(&statement).unwrap()));
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, envelope.to_string()).unwrap();
    let (code, out) = verify_decision(&tampered, key, None);
    assert_eq!(code, 2, "a FAILED turned PASSED must not verify: {out}");
    // Not an envelope at all, and a private key given as the public one.
    let (code, _) = verify_decision(&data("allowed.json"), key, None);
    assert_eq!(code, 2);
    let (code, out) = verify_decision(&allowed_path, "tests/data/signing/test.key", None);
    assert_eq!(code, 2);
    assert!(out.contains("PUBLIC KEY"), "{out}");
}

/// What SLSA's "how to verify a VSA" asks of a summary, applied by a
/// verifier that expects these values.
struct Expected<'a> {
    subject: &'a str,
    verifier_id: &'a str,
    resource_uri: &'a str,
    level: &'a str,
}

fn slsa_verify(envelope: &str, public_pem: &str, want: &Expected<'_>) -> Result<(), String> {
    if !independently_verified(envelope, public_pem) {
        return Err("signature".into());
    }
    let s = payload(envelope);
    let p = &s["predicate"];
    let subjects: Vec<&str> = s["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["digest"]["sha256"].as_str())
        .collect();
    if !subjects.contains(&want.subject) {
        return Err("subject digest".into());
    }
    if s["predicateType"] != "https://slsa.dev/verification_summary/v1" {
        return Err("predicateType".into());
    }
    if p["verifier"]["id"] != want.verifier_id {
        return Err("verifier id".into());
    }
    if p["resourceUri"] != want.resource_uri {
        return Err("resourceUri".into());
    }
    if p["verificationResult"] != "PASSED" {
        return Err("verificationResult".into());
    }
    if !p["verifiedLevels"]
        .as_array()
        .is_some_and(|l| l.iter().any(|x| x == want.level))
    {
        return Err("levels".into());
    }
    Ok(())
}

#[test]
fn the_slsa_verification_steps_pass_on_the_summary_and_fail_on_each_wrong_field() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, vsa, _) = signed_check(
        dir.path(),
        "allowed.json",
        &[
            "--verifier-id",
            "https://ci.acme.example/clearance",
            "--resource-uri",
            "oci://ghcr.io/acme/payments",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let vsa = vsa.unwrap();
    let public = std::fs::read_to_string(data("test.pub")).unwrap();
    let want = Expected {
        subject: DIGEST,
        verifier_id: "https://ci.acme.example/clearance",
        resource_uri: "oci://ghcr.io/acme/payments",
        level: "SLSA_BUILD_LEVEL_3",
    };
    assert_eq!(slsa_verify(&vsa, &public, &want), Ok(()));

    let statement = payload(&vsa);
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit); 6] = [
        ("subject digest", |s| {
            s["subject"][0]["digest"]["sha256"] = json!("0".repeat(64))
        }),
        ("predicateType", |s| {
            s["predicateType"] = json!("https://slsa.dev/provenance/v1")
        }),
        ("verifier id", |s| {
            s["predicate"]["verifier"]["id"] = json!("https://evil.example")
        }),
        ("resourceUri", |s| {
            s["predicate"]["resourceUri"] = json!("oci://ghcr.io/evil/payments")
        }),
        ("verificationResult", |s| {
            s["predicate"]["verificationResult"] = json!("FAILED")
        }),
        ("levels", |s| {
            s["predicate"]["verifiedLevels"] = json!(["SLSA_BUILD_LEVEL_1"])
        }),
    ];
    for (field, edit) in cases {
        let mut wrong = statement.clone();
        edit(&mut wrong);
        // Validly signed, wrong in one field: only the step for it catches it.
        let envelope = resigned(&wrong);
        assert_eq!(
            slsa_verify(&envelope, &public, &want),
            Err(field.to_string())
        );
    }
    // The re-signing itself is sound: the unchanged statement passes.
    assert_eq!(slsa_verify(&resigned(&statement), &public, &want), Ok(()));
    // verify-decision refuses a statement of another predicate type.
    let mut provenance = statement.clone();
    provenance["predicateType"] = json!("https://slsa.dev/provenance/v1");
    let path = dir.path().join("provenance.json");
    std::fs::write(&path, resigned(&provenance)).unwrap();
    let (code, out) = verify_decision(&path, "tests/data/signing/test.pub", None);
    assert_eq!(code, 2);
    assert!(out.contains("is not a Clearance decision"), "{out}");
}

#[test]
fn keys_that_cannot_sign_and_subjects_that_are_not_digests_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            vec!["--sign-key".into(), "tests/data/signing/missing.key".into()],
            "allowed.json",
            "cannot read the signing key `tests/data/signing/missing.key`",
        ),
        (
            vec!["--sign-key".into(), "tests/data/signing".into()],
            "allowed.json",
            "cannot read the signing key",
        ),
        (
            vec!["--sign-key".into(), "tests/data/signing/test.pub".into()],
            "allowed.json",
            "is a public key",
        ),
        (
            vec!["--sign-key".into(), "tests/data/signing/ec.key".into()],
            "allowed.json",
            "is a PEM `EC PRIVATE KEY`",
        ),
        (
            vec!["--sign-key".into(), "tests/data/signing/policy.clr".into()],
            "allowed.json",
            "is not a PEM key",
        ),
        (
            vec!["--sign-key".into(), "env:CLEARANCE_TEST_UNSET_KEY".into()],
            "allowed.json",
            "`CLEARANCE_TEST_UNSET_KEY` is not set",
        ),
        (
            vec!["--sign-key".into(), "tests/data/signing/test.key".into()],
            "not-a-digest.json",
            "the subject is not a digest: \"4f4f\" does not start with `sha256:`",
        ),
        (vec![], "allowed.json", "needs `--sign-key FILE`"),
    ];
    for (flags, evidence, wanted) in cases {
        let vsa = dir.path().join("prod.vsa.json");
        let out = clearance()
            .args([
                "check",
                "tests/data/signing/policy.clr",
                "--gate",
                "staging->prod",
            ])
            .args([
                "--evidence",
                &format!("tests/data/signing/{evidence}"),
                "--now",
                NOW,
            ])
            .args(&flags)
            .arg("--output")
            .arg(format!("vsa={}", vsa.display()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(wanted), "{flags:?}: {stderr}");
        assert!(out.stdout.is_empty(), "no decision is printed with exit 2");
        assert!(!vsa.exists(), "{flags:?} left a file");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(leftovers.is_empty(), "{flags:?} left {leftovers:?}");
    }
    // A gate without a subject: the diagnostic points at the gate.
    let out = clearance()
        .args([
            "check",
            "tests/data/signing/policy.clr",
            "--gate",
            "prod->dr",
        ])
        .args([
            "--evidence",
            "tests/data/signing/allowed.json",
            "--now",
            NOW,
        ])
        .args([
            "--sign-key",
            "tests/data/signing/test.key",
            "--color",
            "never",
        ])
        .arg("--output")
        .arg(format!(
            "attestation={}",
            dir.path().join("a.json").display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("gate_without_subject", String::from_utf8_lossy(&out.stderr));
    // A key without a signed output is a mistake worth reporting.
    let out = clearance()
        .args([
            "check",
            "tests/data/signing/policy.clr",
            "--gate",
            "staging->prod",
        ])
        .args([
            "--evidence",
            "tests/data/signing/allowed.json",
            "--now",
            NOW,
        ])
        .args(["--sign-key", "tests/data/signing/test.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_env_form_of_the_key_signs_the_same_bytes_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, from_file, _) = signed_check(dir.path(), "allowed.json", &[]);
    let out = dir.path().join("env.vsa.json");
    let status = clearance()
        .env(
            "CLEARANCE_TEST_KEY",
            std::fs::read_to_string(data("test.key")).unwrap(),
        )
        .args([
            "check",
            "tests/data/signing/policy.clr",
            "--gate",
            "staging->prod",
        ])
        .args([
            "--evidence",
            "tests/data/signing/allowed.json",
            "--now",
            NOW,
        ])
        .args(["--sign-key", "env:CLEARANCE_TEST_KEY"])
        .arg("--output")
        .arg(format!("vsa={}", out.display()))
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(out).ok(), from_file);
}

#[test]
fn keygen_makes_a_pair_that_signs_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("release");
    let out = clearance().arg("keygen").arg(&prefix).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (key, public) = (
        dir.path().join("release.key"),
        dir.path().join("release.pub"),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(key_text.starts_with("-----BEGIN PRIVATE KEY-----"));
    let public_text = std::fs::read_to_string(&public).unwrap();
    assert!(public_text.starts_with("-----BEGIN PUBLIC KEY-----"));

    // The pair signs and verifies end to end.
    let vsa = dir.path().join("prod.vsa.json");
    let status = clearance()
        .args([
            "check",
            "tests/data/signing/policy.clr",
            "--gate",
            "staging->prod",
        ])
        .args([
            "--evidence",
            "tests/data/signing/allowed.json",
            "--now",
            NOW,
        ])
        .arg("--sign-key")
        .arg(&key)
        .arg("--output")
        .arg(format!("vsa={}", vsa.display()))
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0));
    let (code, _) = verify_decision(
        &vsa,
        public.to_str().unwrap(),
        Some(&format!("sha256:{DIGEST}")),
    );
    assert_eq!(code, 0);
    assert!(independently_verified(
        &std::fs::read_to_string(&vsa).unwrap(),
        &public_text
    ));

    // Either file existing refuses, both unchanged.
    for existing in [&key, &public] {
        let other = if existing == &key { &public } else { &key };
        let saved = std::fs::read(other).unwrap();
        std::fs::remove_file(other).unwrap();
        let out = clearance().arg("keygen").arg(&prefix).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("never overwrites"));
        assert!(
            !other.exists(),
            "a refused keygen wrote {}",
            other.display()
        );
        std::fs::write(other, saved).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_text);
}

#[test]
fn batch_writes_one_envelope_per_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let bundles = dir.path().join("bundles");
    std::fs::create_dir(&bundles).unwrap();
    for name in ["allowed", "denied", "not-a-digest"] {
        std::fs::copy(
            data(&format!("{name}.json")),
            bundles.join(format!("{name}.json")),
        )
        .unwrap();
    }
    let out_dir = dir.path().join("signed");
    let out = clearance()
        .args([
            "batch",
            "tests/data/signing/policy.clr",
            "--gate",
            "staging->prod",
            "--now",
            NOW,
        ])
        .arg(&bundles)
        .args(["--sign-key", "tests/data/signing/test.key"])
        .arg("--output")
        .arg(format!("vsa={}", out_dir.display()))
        .arg("--output")
        .arg(format!("attestation={}", out_dir.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the bundle without a digest is exit 2"
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["decision"], "allowed");
    assert_eq!(lines[1]["decision"], "denied");
    assert!(lines[2]["error"].as_str().unwrap().contains("not a digest"));
    let mut written: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "allowed.attestation.json",
            "allowed.vsa.json",
            "denied.attestation.json",
            "denied.vsa.json"
        ]
    );
    // Each envelope is what `check` signs for that bundle alone, byte for byte.
    let single = tempfile::tempdir().unwrap();
    let (_, _, vsa, _) = signed_check(single.path(), "denied.json", &[]);
    let batch_vsa = std::fs::read_to_string(out_dir.join("denied.vsa.json")).unwrap();
    let (a, b) = (payload(&batch_vsa), payload(&vsa.unwrap()));
    assert_eq!(
        a["predicate"]["verificationResult"],
        b["predicate"]["verificationResult"]
    );
    assert_eq!(a["subject"], b["subject"]);
    assert_eq!(a["predicate"]["policy"], b["predicate"]["policy"]);
}

#[test]
fn the_subject_is_part_of_what_the_gate_reads() {
    // `artifact.digest` is read by no rule, only by the subject: the schema
    // still requires it, so `--strict-evidence` and the lean load agree
    // with what signing needs.
    let out = clearance()
        .args([
            "schema",
            "tests/data/signing/policy.clr",
            "--gate",
            "staging->prod",
        ])
        .output()
        .unwrap();
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let artifact = &schema["properties"]["artifact"];
    assert_eq!(
        artifact["required"],
        json!(["branch", "digest"]),
        "{schema}"
    );
}
