//! The Sigstore conformance suite's `bundle-verify` cases (issue 15),
//! copied into tests/data/conformance/ (see its SOURCE.md), run against the
//! real `clearance attest verify` the way the suite's `verify-bundle`
//! protocol runs a client: the bundle, the artifact (as a file, and again
//! as its `sha256:` digest), the key or the
//! identity and issuer, and the case's trusted root when it has one.
//!
//! A happy path must exit 0; a `_fail` case must exit 2 with the stable
//! code `expected-codes.tsv` gives it (a table read and agreed with: each
//! code is the check the case's README says it breaks), so a case that
//! fails for a wrong reason is caught too.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/bundle-verify")
}

/// `case<TAB>code` rows: the code each `_fail` case must fail with, or
/// `ok` for a happy path.
fn expected() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/expected-codes.tsv"),
    )
    .unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (case, code) = l.split_once('\t').unwrap();
            (case.to_string(), code.to_string())
        })
        .collect()
}

/// How the artifact is given: as a file, or as its digest (the suite runs
/// every case both ways).
#[derive(Clone, Copy, Debug)]
enum Input {
    Path,
    Digest,
}

/// Runs one case as the conformance suite would; returns the exit code,
/// stdout and stderr.
fn verify(case: &Path, input: Input) -> (i32, String, String) {
    let file = |name: &str| Some(case.join(name)).filter(|p| p.exists());
    let artifact = file("artifact").unwrap_or_else(|| suite().join("a.txt"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_clearance"));
    command
        .args(["attest", "verify"])
        .arg(case.join("bundle.sigstore.json"));
    match input {
        Input::Path => {
            command.arg("--artifact").arg(artifact);
        }
        Input::Digest => {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(std::fs::read(artifact).unwrap());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            command.arg("--digest").arg(format!("sha256:{hex}"));
        }
    }
    match file("key.pub") {
        Some(key) => {
            command.arg("--key").arg(key);
        }
        None => {
            let read = |name: &str, default: &str| {
                file(name)
                    .map(|p| std::fs::read_to_string(p).unwrap().trim().to_string())
                    .unwrap_or_else(|| default.to_string())
            };
            command
                .arg("--identity")
                .arg(read("identity", DEFAULT_IDENTITY))
                .arg("--issuer")
                .arg(read("issuer", DEFAULT_ISSUER));
        }
    }
    if let Some(root) = file("trusted_root.json") {
        command.arg("--trusted-root").arg(root);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_bundle_verify_case_of_the_conformance_suite() {
    let expected = expected();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(suite())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    // Every case of the copy is in the table and the other way round, so
    // a case cannot be dropped or added without a look.
    let names: Vec<String> = cases
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        expected.keys().cloned().collect::<Vec<_>>(),
        "the table and the suite's cases differ"
    );
    assert_eq!(cases.len(), 70);
    let mut wrong = Vec::new();
    for (case, name) in cases.iter().zip(&names) {
        for input in [Input::Path, Input::Digest] {
            let (code, stdout, stderr) = verify(case, input);
            let want = &expected[name];
            let ok = if name.ends_with("_fail") {
                code == 2
                    && stderr.contains(&format!("error: {want}:"))
                    && !stderr.contains("panick")
            } else {
                want == "ok" && code == 0 && stdout.starts_with("verified: ")
            };
            if !ok {
                wrong.push(format!(
                    "{name} ({input:?}): exit {code}, wanted {want}\n{stdout}{stderr}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The same bundle and artifact give byte-identical output on every run.
#[test]
fn verification_output_is_deterministic() {
    for name in ["rekor2-happy-path", "intoto-expired-certificate_fail"] {
        let case = suite().join(name);
        let first = verify(&case, Input::Path);
        assert_eq!(first, verify(&case, Input::Path), "{name}");
    }
}
