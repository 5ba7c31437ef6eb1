//! Verified attestations (TRUST.md section 2, issue 15): envelopes signed in
//! the test with Ed25519, ECDSA P-256 (DER and raw r||s) and P-384 keys,
//! verified, mounted and decided on; a tamper matrix in which every edit
//! has its own stable code; trust files that cannot be used; and the real
//! corpus attestations, which this version refuses (fail closed) because
//! their signers are keyless.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use clearance::attest::{self, Code, Trust};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const DIGEST: &str = "4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f";

fn statement() -> String {
    serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "payments-api", "digest": {"sha256": DIGEST}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"externalParameters": {"source": "git+https://github.com/acme/payments@refs/tags/v1.4.2"}},
            "runDetails": {"builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0"}}
        }
    })
    .to_string()
}

/// A test signing key of one of the three kinds, from a fixed seed.
enum Key {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey, bool),
    P384(p384::ecdsa::SigningKey),
}

impl Key {
    fn ed25519(seed: u8) -> Key {
        Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }
    fn p256(seed: u8, der: bool) -> Key {
        Key::P256(
            p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap(),
            der,
        )
    }
    fn p384(seed: u8) -> Key {
        Key::P384(p384::ecdsa::SigningKey::from_slice(&[seed; 48]).unwrap())
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer;
        match self {
            Key::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            Key::P256(k, true) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
            Key::P256(k, false) => {
                let s: p256::ecdsa::Signature = k.sign(message);
                s.to_bytes().to_vec()
            }
            Key::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(message);
                s.to_der().as_bytes().to_vec()
            }
        }
    }

    fn public_pem(&self) -> String {
        match self {
            Key::Ed25519(k) => ed25519_dalek::pkcs8::EncodePublicKey::to_public_key_pem(
                &k.verifying_key(),
                LineEnding::LF,
            )
            .unwrap(),
            Key::P256(k, _) => k.verifying_key().to_public_key_pem(LineEnding::LF).unwrap(),
            Key::P384(k) => k.verifying_key().to_public_key_pem(LineEnding::LF).unwrap(),
        }
    }

    /// The key id TRUST.md names: hex SHA-256 of the SubjectPublicKeyInfo DER.
    fn key_id(&self) -> String {
        let pem = self.public_pem();
        let (_, der) = spki::der::pem::decode_vec(pem.as_bytes()).unwrap();
        Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn envelope(key: &Key, payload_type: &str, payload: &str) -> serde_json::Value {
    let sig = key.sign(&attest::pae(payload_type, payload.as_bytes()));
    serde_json::json!({
        "payloadType": payload_type,
        "payload": B64.encode(payload),
        "signatures": [{"keyid": key.key_id(), "sig": B64.encode(sig)}]
    })
}

/// A directory with `release.pub` and a trust file naming it.
fn trust_dir(key: &Key) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("release.pub"), key.public_pem()).unwrap();
    std::fs::write(
        dir.path().join("trust.toml"),
        "[[signer]]\nname = \"release-key\"\nkey = \"release.pub\"\n",
    )
    .unwrap();
    dir
}

fn write(dir: &Path, name: &str, value: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

fn verify(dir: &Path, file: &Path) -> Result<attest::Verified, attest::AttestError> {
    let trust = Trust::load(&dir.join("trust.toml")).unwrap();
    attest::verify_file("provenance", file, &trust, &clearance::limits::DEFAULT)
}

#[test]
fn every_key_kind_verifies_and_mounts_the_statement() {
    for key in [
        Key::ed25519(7),
        Key::p256(7, true),
        Key::p256(9, false),
        Key::p384(7),
    ] {
        let dir = trust_dir(&key);
        let file = write(
            dir.path(),
            "p.intoto.json",
            &envelope(&key, attest::IN_TOTO, &statement()),
        );
        let verified = verify(dir.path(), &file).unwrap();
        let mount = &verified.value;
        assert_eq!(mount["statement_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(mount["predicate_type"], "https://slsa.dev/provenance/v1");
        assert_eq!(mount["subjects"][0]["digest"]["sha256"], DIGEST);
        assert_eq!(mount["signer"]["name"], "release-key");
        assert_eq!(mount["signer"]["kind"], "key");
        assert_eq!(mount["signer"]["key_id"], key.key_id());
        assert_eq!(mount["log"], serde_json::Value::Null);
        let bytes = std::fs::read(&file).unwrap();
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(mount["sha256"], sha);
        assert_eq!(verified.sha256, sha);
    }
}

/// Every edit is noticed, each with its code.
#[test]
fn the_tamper_matrix() {
    let key = Key::ed25519(7);
    let other = Key::ed25519(8);
    let dir = trust_dir(&key);
    let good = envelope(&key, attest::IN_TOTO, &statement());
    let mut cases: Vec<(&str, serde_json::Value, Code)> = Vec::new();

    let mut flipped = good.clone();
    let mut payload = statement().into_bytes();
    payload[40] ^= 0x01;
    flipped["payload"] = B64.encode(&payload).into();
    cases.push(("payload bit flip", flipped, Code::Signature));

    let mut swapped = good.clone();
    swapped["payloadType"] = "application/json".into();
    cases.push(("payloadType swap", swapped, Code::Signature));

    cases.push((
        "signature from another key",
        envelope(&other, attest::IN_TOTO, &statement()),
        Code::Untrusted,
    ));

    let mut truncated = good.clone();
    let sig = B64
        .decode(good["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    truncated["signatures"][0]["sig"] = B64.encode(&sig[..sig.len() - 1]).into();
    cases.push(("truncated signature", truncated, Code::Signature));

    let mut unsigned = good.clone();
    unsigned["signatures"] = serde_json::json!([{"keyid": key.key_id(), "sig": ""}]);
    cases.push((
        "an unsigned signature entry only",
        unsigned,
        Code::Signature,
    ));

    cases.push((
        "signed, but not an in-toto payload",
        envelope(&key, "application/vnd.cyclonedx+json", &statement()),
        Code::Payload,
    ));
    cases.push((
        "signed, but not a statement",
        envelope(
            &key,
            attest::IN_TOTO,
            r#"{"_type": "https://example.com/Other", "subject": []}"#,
        ),
        Code::Payload,
    ));
    cases.push((
        "signed, but no subject",
        envelope(
            &key,
            attest::IN_TOTO,
            r#"{"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "x", "predicate": {}}"#,
        ),
        Code::Payload,
    ));

    let mut bad_base64 = good.clone();
    bad_base64["payload"] = "%%% not base64 %%%".into();
    cases.push(("payload not base64", bad_base64, Code::Format));
    cases.push((
        "not an envelope",
        serde_json::json!({"hello": "world"}),
        Code::Format,
    ));
    cases.push((
        "a Sigstore bundle",
        serde_json::json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": good}),
        Code::Format,
    ));

    for (what, value, code) in cases {
        let file = write(dir.path(), "t.json", &value);
        let err = verify(dir.path(), &file)
            .err()
            .unwrap_or_else(|| panic!("{what}: verified"));
        assert_eq!(err.code(), Some(code), "{what}: {err}");
        assert!(err.to_string().contains("t.json"), "{what}: {err}");
    }

    // Duplicate keys are ambiguous: refused before any signature is read.
    let file = dir.path().join("dup.json");
    let text = good.to_string();
    std::fs::write(&file, text.replacen('{', "{\"payload\": \"e30=\", ", 1)).unwrap();
    assert_eq!(
        verify(dir.path(), &file).err().unwrap().code(),
        Some(Code::Format)
    );

    // A co-signer the trust file does not know does not stop a valid signature.
    let mut cosigned = good.clone();
    cosigned["signatures"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"keyid": "someone-else", "sig": B64.encode([0u8; 64])}));
    let file = write(dir.path(), "cosigned.json", &cosigned);
    assert!(verify(dir.path(), &file).is_ok());
}

#[test]
fn json_lines_are_a_list_in_line_order() {
    let key = Key::p256(7, true);
    let dir = trust_dir(&key);
    let one = envelope(&key, attest::IN_TOTO, &statement());
    let path = dir.path().join("p.intoto.jsonl");
    std::fs::write(&path, format!("{one}\n\n{one}\n")).unwrap();
    let verified = verify(dir.path(), &path).unwrap();
    assert_eq!(verified.value.as_array().unwrap().len(), 2);
    std::fs::write(&path, format!("{one}\n")).unwrap();
    let verified = verify(dir.path(), &path).unwrap();
    assert_eq!(
        verified.value.as_array().unwrap().len(),
        1,
        "one line is still a list"
    );
}

#[test]
fn trust_files_that_cannot_be_used_are_refused() {
    let key = Key::ed25519(7);
    let dir = trust_dir(&key);
    for (text, message) in [
        ("[[signer]]\nname = \"a\"\nkey = \"release.pub\"\n[[signer]]\nname = \"a\"\nkey = \"release.pub\"\n", "two signers"),
        ("[[signer]]\nname = \"a\"\nidentity = \"x\"\n", "needs `issuer`"),
        ("[[signer]]\nname = \"a\"\nidentity = \"x\"\nidentity_regex = \"y\"\nissuer = \"z\"\n", "not both"),
        ("[[signer]]\nname = \"a\"\nidentity_regex = \"(\"\nissuer = \"z\"\n", "not a regex"),
        ("trusted_root = \"missing.json\"\n[[signer]]\nname = \"a\"\nidentity = \"x\"\nissuer = \"y\"\n", "cannot read the trusted root"),
        ("[[signer]]\nname = \"a\"\nkey = \"missing.pub\"\n", "cannot read"),
        ("[[signer]]\nname = \"a\"\nkey = \"trust.toml\"\n", "not a PEM"),
        ("[[signer]]\nname = \"a\"\n", "neither a `key`"),
        ("", "no `[[signer]]`"),
        ("[[signer]]\nname = \"a\"\nkey = \"release.pub\"\ncolour = 1\n", "unknown field"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let err = Trust::load(&path).err().unwrap_or_else(|| panic!("{text}: accepted"));
        assert!(err.code().is_none());
        assert!(err.to_string().contains(message), "{text}: {err}");
    }
}

/// The real envelope of the corpus is signed by a keyless signer with no
/// bundle around it (no certificate or log entry to check): with key
/// signers only it fails closed. The real Sigstore bundle verifies through
/// the log and the certificate, and then fails at the signer: the trust
/// file allows no keyless identity.
#[test]
fn corpus_attestations_fail_closed_without_a_matching_signer() {
    let key = Key::ed25519(7);
    let dir = trust_dir(&key);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/attestation");
    let envelope = corpus.join("slsa-v0.2-dsse-gha-generic-binary-push-v14.intoto.jsonl");
    let err = verify(dir.path(), &envelope).err().unwrap();
    assert!(
        matches!(err.code(), Some(Code::Signature | Code::Untrusted)),
        "{err}"
    );
    let bundle = corpus.join("slsa-v1-sigstore-bundle-bcr-module-bazel.intoto.jsonl");
    let err = verify(dir.path(), &bundle).err().unwrap();
    assert_eq!(err.code(), Some(Code::Untrusted), "{err}");
    assert!(
        err.to_string()
            .contains("https://token.actions.githubusercontent.com"),
        "{err}"
    );
}

const BUNDLE: &str =
    "tests/data/corpus/attestation/slsa-v1-sigstore-bundle-bcr-module-bazel.intoto.jsonl";

fn keyless_trust(dir: &Path, identity: &str, issuer: &str) -> Trust {
    let path = dir.join("keyless.toml");
    std::fs::write(
        &path,
        format!("[[signer]]\nname = \"bcr-publish\"\n{identity}\n{issuer}\n"),
    )
    .unwrap();
    Trust::load(&path).unwrap()
}

fn corpus_bundle() -> serde_json::Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLE)).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

/// The corpus's Sigstore bundle (the Bazel Central Registry's real
/// provenance) verifies offline against the built-in public-good root:
/// Rekor entry, checkpoint and SET, Fulcio chain and SCT, the envelope's
/// signature, and a keyless signer by identity regex and exact issuer; the
/// mount carries the identity, issuer, CI claims and log position.
#[test]
fn the_corpus_sigstore_bundle_verifies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let trust = keyless_trust(
        dir.path(),
        "identity_regex = \"^https://github\\\\.com/.+$\"",
        "issuer = \"https://token.actions.githubusercontent.com\"",
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLE);
    let verified =
        attest::verify_file("provenance", &path, &trust, &clearance::limits::DEFAULT).unwrap();
    let mount = &verified.value[0];
    assert_eq!(mount["statement_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(mount["predicate_type"], "https://slsa.dev/provenance/v1");
    assert_eq!(mount["subjects"][0]["name"], "MODULE.bazel");
    assert_eq!(mount["signer"]["kind"], "keyless");
    assert_eq!(mount["signer"]["name"], "bcr-publish");
    assert_eq!(
        mount["signer"]["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    assert!(mount["signer"]["identity"]
        .as_str()
        .unwrap()
        .starts_with("https://github.com/"));
    assert!(
        mount["signer"]["source_repository"].is_string(),
        "{}",
        mount["signer"]
    );
    assert_eq!(mount["log"]["log_index"], 188622862);
    assert_eq!(mount["log"]["integrated_time"], "2025-03-26T23:47:30Z");
    assert_eq!(verified.log_indexes, [Some(188622862)]);
}

/// An edit of a bundle, for the tamper matrix.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

/// Every edit of the corpus bundle is noticed, with its code.
#[test]
fn the_bundle_tamper_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = "issuer = \"https://token.actions.githubusercontent.com\"";
    let anyone = "identity_regex = \".*\"";
    let trust = keyless_trust(dir.path(), anyone, issuer);
    let good = corpus_bundle();
    let run = |bundle: &serde_json::Value, trust: &Trust| {
        let path = dir.path().join("b.sigstore.json");
        std::fs::write(&path, bundle.to_string()).unwrap();
        attest::verify_file("p", &path, trust, &clearance::limits::DEFAULT).map(|_| ())
    };
    assert!(run(&good, &trust).is_ok());
    let entry = "/verificationMaterial/tlogEntries/0";
    let edits: Vec<(&str, Edit, Code)> = vec![
        (
            "edited integrated time",
            Box::new(move |b| {
                *b.pointer_mut(&format!("{entry}/integratedTime")).unwrap() = "1743032851".into();
            }),
            Code::Tlog,
        ),
        (
            "negative log index",
            Box::new(move |b| {
                *b.pointer_mut(&format!("{entry}/logIndex")).unwrap() = "-1".into();
            }),
            Code::Tlog,
        ),
        (
            "edited canonicalized body",
            Box::new(move |b| {
                let body = b
                    .pointer(&format!("{entry}/canonicalizedBody"))
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string();
                let mut bytes = B64.decode(body).unwrap();
                bytes[60] ^= 1;
                *b.pointer_mut(&format!("{entry}/canonicalizedBody"))
                    .unwrap() = B64.encode(bytes).into();
            }),
            Code::Tlog,
        ),
        (
            "corrupted inclusion proof",
            Box::new(move |b| {
                *b.pointer_mut(&format!("{entry}/inclusionProof/hashes/0"))
                    .unwrap() = B64.encode([7u8; 32]).into();
            }),
            Code::Tlog,
        ),
        (
            "edited checkpoint",
            Box::new(move |b| {
                let p = format!("{entry}/inclusionProof/checkpoint/envelope");
                let note = b
                    .pointer(&p)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .replace("rekor.sigstore.dev - ", "rekor.sigstore.dev - 1");
                *b.pointer_mut(&p).unwrap() = note.into();
            }),
            Code::Tlog,
        ),
        (
            "another log",
            Box::new(move |b| {
                *b.pointer_mut(&format!("{entry}/logId/keyId")).unwrap() =
                    B64.encode([1u8; 32]).into();
            }),
            Code::Tlog,
        ),
        (
            "edited payload",
            Box::new(|b| {
                let payload = b["dsseEnvelope"]["payload"].as_str().unwrap().to_string();
                let mut bytes = B64.decode(payload).unwrap();
                bytes[30] ^= 1;
                b["dsseEnvelope"]["payload"] = B64.encode(bytes).into();
            }),
            Code::Tlog,
        ),
        (
            "unknown bundle version",
            Box::new(|b| {
                b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.9+json".into();
            }),
            Code::Format,
        ),
    ];
    for (what, edit, code) in edits {
        let mut bundle = good.clone();
        edit(&mut bundle);
        let err = run(&bundle, &trust)
            .err()
            .unwrap_or_else(|| panic!("{what}: verified"));
        assert_eq!(err.code(), Some(code), "{what}: {err}");
    }
    let wrong_identity = keyless_trust(
        dir.path(),
        "identity = \"https://github.com/someone/else\"",
        issuer,
    );
    assert_eq!(
        run(&good, &wrong_identity).err().unwrap().code(),
        Some(Code::Untrusted)
    );
    let wrong_issuer = keyless_trust(
        dir.path(),
        anyone,
        "issuer = \"https://accounts.google.com\"",
    );
    let err = run(&good, &wrong_issuer).err().unwrap();
    assert_eq!(err.code(), Some(Code::Untrusted));
    assert!(err.to_string().contains("accounts.google.com"), "{err}");
    // A certificate that does not chain: another trusted root (one without
    // the authority that issued it) refuses it as a certificate problem.
    let root = clearance::attest::certificate::PUBLIC_GOOD_TRUSTED_ROOT;
    let mut other: serde_json::Value = serde_json::from_str(root).unwrap();
    other["certificateAuthorities"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    std::fs::write(dir.path().join("root.json"), other.to_string()).unwrap();
    let path = dir.path().join("rooted.toml");
    std::fs::write(
        &path,
        format!("trusted_root = \"root.json\"\n[[signer]]\nname = \"x\"\n{anyone}\n{issuer}\n"),
    )
    .unwrap();
    let rooted = Trust::load(&path).unwrap();
    assert_eq!(
        run(&good, &rooted).err().unwrap().code(),
        Some(Code::Certificate)
    );
}

/// End to end: a gate requires that the artifact it promotes is a subject of
/// provenance signed by the release key; the JSON record lists the
/// attestation; an edited attestation is exit 2 with no decision.
#[test]
fn a_gate_decides_on_verified_provenance() {
    let key = Key::p384(3);
    let dir = trust_dir(&key);
    let root = dir.path();
    std::fs::write(
        root.join("p.clr"),
        r#"stages staging -> prod
gate staging -> prod {
  rule built-by-the-release-workflow {
    require any s in evidence.provenance.subjects: digest(s.digest.sha256) == digest(evidence.artifact.digest)
    require evidence.provenance.signer.name == "release-key"
  }
}
"#,
    )
    .unwrap();
    std::fs::write(
        root.join("bundle.json"),
        format!(r#"{{"artifact": {{"digest": "sha256:{DIGEST}"}}}}"#),
    )
    .unwrap();
    write(
        root,
        "provenance.intoto.json",
        &envelope(&key, attest::IN_TOTO, &statement()),
    );
    let run = |extra: &[&str]| {
        assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .current_dir(root)
            .env("NO_COLOR", "1")
            .args([
                "check",
                "p.clr",
                "--evidence",
                "bundle.json",
                "--now",
                "2026-11-20T12:00:00Z",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let args = [
        "--attestation",
        "provenance=provenance.intoto.json",
        "--trust",
        "trust.toml",
    ];
    let out = run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("verified: evidence.provenance from provenance.intoto.json"),
        "{stdout}"
    );
    let json = run(&[&args[..], &["--format", "json"]].concat());
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let record = &report["record"];
    assert_eq!(record["attestations"][0]["file"], "provenance.intoto.json");
    assert_eq!(record["attestations"][0]["signers"][0], "release-key");
    assert!(record["command"]
        .as_str()
        .unwrap()
        .contains("--attestation provenance=provenance.intoto.json --trust trust.toml"));
    // Byte-identical for the same inputs.
    assert_eq!(
        json.stdout,
        run(&[&args[..], &["--format", "json"]].concat()).stdout
    );

    // Another artifact: the rule fails (exit 1) on verified evidence.
    std::fs::write(
        root.join("bundle.json"),
        r#"{"artifact": {"digest": "sha256:00"}}"#,
    )
    .unwrap();
    assert_eq!(run(&args).status.code(), Some(1));

    // An edited attestation: exit 2, the code named, nothing printed on stdout.
    let mut edited = envelope(&key, attest::IN_TOTO, &statement());
    edited["payload"] = B64.encode(statement().replace("v1.4.2", "v1.4.3")).into();
    write(root, "provenance.intoto.json", &edited);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("attestation::signature") && stderr.contains("provenance.intoto.json"),
        "{stderr}"
    );

    // `--attestation` without `--trust` is refused.
    let out = run(&args[..2]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs `--trust"));
}

/// `clearance attest verify`: exit 0 when the envelope verifies under the key
/// and a subject is the artifact; 2 with the code otherwise.
#[test]
fn attest_verify_checks_one_attestation_against_one_artifact() {
    let key = Key::p256(5, false);
    let dir = trust_dir(&key);
    let root = dir.path();
    let artifact = b"the release binary\n";
    let sha: String = Sha256::digest(artifact)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(root.join("app.bin"), artifact).unwrap();
    write(
        root,
        "app.intoto.json",
        &envelope(&key, attest::IN_TOTO, &statement().replace(DIGEST, &sha)),
    );
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .current_dir(root)
            .args(["attest", "verify", "app.intoto.json"])
            .args(args)
            .output()
            .unwrap()
    };
    let ok = run(&["--artifact", "app.bin", "--key", "release.pub"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let digest = format!("sha256:{sha}");
    assert_eq!(
        run(&["--digest", &digest, "--key", "release.pub"])
            .status
            .code(),
        Some(0)
    );
    let other = run(&[
        "--digest",
        &format!("sha256:{DIGEST}"),
        "--key",
        "release.pub",
    ]);
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("attestation::payload"));
    std::fs::write(root.join("other.pub"), Key::p256(6, false).public_pem()).unwrap();
    let wrong_key = run(&["--artifact", "app.bin", "--key", "other.pub"]);
    assert_eq!(wrong_key.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("attestation::untrusted"));
    // A bare envelope has no certificate: a keyless identity cannot match it.
    let keyless = run(&["--artifact", "app.bin", "--identity", "x", "--issuer", "y"]);
    assert_eq!(keyless.status.code(), Some(2));
}

/// `attest verify` on the corpus Sigstore bundle, keyless: exit 0 with its
/// identity and issuer and MODULE.bazel's digest; 2 with another identity.
#[test]
fn attest_verify_a_keyless_bundle() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLE);
    let run_for = |digest: &str, identity: &str| {
        assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .arg("attest")
            .arg("verify")
            .arg(&bundle)
            .args([
                "--digest",
                digest,
                "--identity",
                identity,
                "--issuer",
                "https://token.actions.githubusercontent.com",
            ])
            .output()
            .unwrap()
    };
    const MODULE: &str = "sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b";
    let run = |identity: &str| run_for(MODULE, identity);
    let release = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1";
    let wrong_digest = run_for(&MODULE.replace("06ce", "06cf"), release);
    assert_eq!(wrong_digest.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong_digest.stderr).contains("attestation::payload"));
    let ok = run("https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let other = run("https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.2");
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("attestation::untrusted"));
}

/// A production bundle v0.2 with a message signature (sigstore-python's test
/// asset): `attest verify --digest` checks the hashedrekord entry, the
/// certificate and the signature over the artifact's digest; another digest,
/// another identity or an edited signature fails; `--attestation` refuses it
/// (it has no statement to mount).
#[test]
fn attest_verify_a_message_signature_bundle() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus/attestation/sigstore-python-bundle_v3_github.whl.sigstore");
    const DIGEST: &str = "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201";
    const IDENTITY: &str =
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    let run = |file: &Path, digest: &str, identity: &str| {
        assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .args(["attest", "verify"])
            .arg(file)
            .args(["--digest", digest, "--identity", identity])
            .args(["--issuer", "https://token.actions.githubusercontent.com"])
            .output()
            .unwrap()
    };
    let code = |out: &std::process::Output| {
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert_eq!(code(&run(&bundle, DIGEST, IDENTITY)).0, Some(0));
    let other = code(&run(&bundle, &DIGEST.replace("c4e9", "c4ea"), IDENTITY));
    assert!(
        other.0 == Some(2) && other.1.contains("attestation::payload"),
        "{other:?}"
    );
    let someone = code(&run(&bundle, DIGEST, "https://github.com/someone/else"));
    assert!(
        someone.0 == Some(2) && someone.1.contains("attestation::untrusted"),
        "{someone:?}"
    );
    let mut edited: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    edited["messageSignature"]["signature"] = B64.encode([3u8; 71]).into();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "edited.sigstore", &edited);
    let tampered = code(&run(&path, DIGEST, IDENTITY));
    assert!(
        tampered.0 == Some(2) && tampered.1.contains("attestation::tlog"),
        "{tampered:?}"
    );
    let trust = keyless_trust(
        dir.path(),
        "identity_regex = \".*\"",
        "issuer_regex = \".*\"",
    );
    let err = attest::verify_file("a", &bundle, &trust, &clearance::limits::DEFAULT)
        .err()
        .unwrap();
    assert_eq!(err.code(), Some(Code::Format), "{err}");
}

/// A Sigstore bundle v0.1 (the `x509CertificateChain` layout), from the
/// staging instance, checked against the staging trusted root given with
/// `--trusted-root`. That root holds a CT log key this version does not
/// verify (RSA, PKCS#1): the log is left out and the rest of the root is
/// used. Another artifact, another identity, or the built-in production
/// root: not verified.
#[test]
fn attest_verify_a_v0_1_staging_bundle_with_its_trusted_root() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/attestation");
    let run = |artifact: &str, identity: &str, root: bool| {
        let mut cmd = assert_cmd::Command::cargo_bin("clearance").unwrap();
        cmd.args(["attest", "verify"])
            .arg(corpus.join("sigstore-python-bundle.txt.sigstore"))
            .arg("--artifact")
            .arg(corpus.join(artifact))
            .args([
                "--identity",
                identity,
                "--issuer",
                "https://github.com/login/oauth",
            ]);
        if root {
            cmd.arg("--trusted-root")
                .arg(corpus.join("sigstore-staging-trusted-root.json"));
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert_eq!(
        run("sigstore-python-bundle.txt", "a@tny.town", true).0,
        Some(0)
    );
    let other = run("sigstore-python-bundle.txt.sigstore", "a@tny.town", true);
    assert!(
        other.0 == Some(2) && other.1.contains("attestation::payload"),
        "{other:?}"
    );
    let someone = run("sigstore-python-bundle.txt", "b@tny.town", true);
    assert!(
        someone.0 == Some(2) && someone.1.contains("attestation::untrusted"),
        "{someone:?}"
    );
    let production = run("sigstore-python-bundle.txt", "a@tny.town", false);
    assert!(
        production.0 == Some(2) && production.1.contains("attestation::tlog"),
        "{production:?}"
    );
}

/// `check --attestation` mounts a Rekor v2 bundle (the conformance suite's
/// DSSE happy path: a `hashedrekord` 0.0.2 entry, no integrated time, its
/// signing time from an RFC 3161 timestamp of the staging authority) when
/// the trust file names its trusted root and identity; the mount's
/// `log.integrated_time` is null, as the entry states none. With the
/// public-good root instead, the same bundle is refused: the production
/// timestamp authority did not sign its timestamp.
#[test]
fn a_rekor_v2_bundle_mounts_with_its_timestamp() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conformance/bundle-verify/rekor2-dsse-happy-path");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(
        case.join("bundle.sigstore.json"),
        root.join("a.sigstore.json"),
    )
    .unwrap();
    std::fs::copy(
        case.join("trusted_root.json"),
        root.join("staging-root.json"),
    )
    .unwrap();
    let signer = r#"
[[signer]]
name = "conformance-beacon"
identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
issuer = "https://token.actions.githubusercontent.com"
"#;
    std::fs::write(
        root.join("trust.toml"),
        format!("trusted_root = \"staging-root.json\"\n{signer}"),
    )
    .unwrap();
    std::fs::write(root.join("public-good.toml"), signer).unwrap();
    std::fs::write(
        root.join("p.clr"),
        r#"stages staging -> prod
gate staging -> prod {
  rule provenance-of-this-artifact {
    require any s in evidence.provenance.subjects: s.digest.sha256 == evidence.artifact.digest
    require evidence.provenance.signer.name == "conformance-beacon"
    require evidence.provenance.log.integrated_time == null
  }
}
"#,
    )
    .unwrap();
    std::fs::write(
        root.join("bundle.json"),
        r#"{"artifact": {"digest": "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"}}"#,
    )
    .unwrap();
    let run = |trust: &str| {
        assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .current_dir(root)
            .env("NO_COLOR", "1")
            .args(["check", "p.clr", "--evidence", "bundle.json"])
            .args(["--now", "2026-11-20T12:00:00Z"])
            .args([
                "--attestation",
                "provenance=a.sigstore.json",
                "--trust",
                trust,
            ])
            .output()
            .unwrap()
    };
    let out = run("trust.toml");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("verified: evidence.provenance from a.sigstore.json"),
        "{text}"
    );
    let out = run("public-good.toml");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("attestation::tlog")
            && stderr.contains("no timestamp authority of the trusted root signed the timestamp"),
        "{stderr}"
    );
}

/// Hostile edits of a real Rekor v2 bundle (the conformance suite's happy
/// path), each refused with `attestation::tlog` and its own reason: its
/// timestamp twice, 33 timestamps, a timestamp that is not DER, and two
/// log entries. The unedited bundle verifies.
#[test]
fn hostile_timestamps_and_entries_are_refused() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conformance/bundle-verify/rekor2-happy-path");
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("bundle.sigstore.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let verify = |edited: &serde_json::Value| {
        let path = dir.path().join("b.sigstore.json");
        std::fs::write(&path, edited.to_string()).unwrap();
        let out = assert_cmd::Command::cargo_bin("clearance")
            .unwrap()
            .args(["attest", "verify"])
            .arg(&path)
            .arg("--artifact")
            .arg(case.join("../a.txt"))
            .args(["--identity", "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"])
            .args(["--issuer", "https://token.actions.githubusercontent.com"])
            .arg("--trusted-root")
            .arg(case.join("trusted_root.json"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(verify(&bundle), (Some(0), String::new()));
    let stamps = "/verificationMaterial/timestampVerificationData/rfc3161Timestamps";
    let one = bundle.pointer(stamps).unwrap()[0].clone();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut b = bundle.clone();
        f(&mut b);
        b
    };
    let cases: [(serde_json::Value, &str); 4] = [
        (
            with(&|b| *b.pointer_mut(stamps).unwrap() = serde_json::json!([one, one])),
            "the same signed timestamp twice",
        ),
        (
            with(&|b| {
                let many: Vec<serde_json::Value> = (0..33)
                    .map(|i| serde_json::json!({"signedTimestamp": B64.encode([i as u8; 40])}))
                    .collect();
                *b.pointer_mut(stamps).unwrap() = many.into();
            }),
            "33 signed timestamps (at most 32 are read)",
        ),
        (
            with(&|b| {
                *b.pointer_mut(stamps).unwrap() =
                    serde_json::json!([{"signedTimestamp": B64.encode(b"not DER at all")}])
            }),
            "the signed timestamp is not a DER TimeStampResp",
        ),
        (
            with(&|b| {
                let entries = b.pointer_mut("/verificationMaterial/tlogEntries").unwrap();
                let first = entries[0].clone();
                entries.as_array_mut().unwrap().push(first);
            }),
            "2 transparency-log entries; one is verified",
        ),
    ];
    for (edited, reason) in cases {
        let (code, stderr) = verify(&edited);
        assert_eq!(code, Some(2), "{reason}: {stderr}");
        assert!(
            stderr.contains("error: attestation::tlog:") && stderr.contains(reason),
            "{reason}: {stderr}"
        );
    }
}
