//! The YAML and JUnit XML readers on real reports (tests/data/corpus/, with
//! their sources in SOURCES.md): every report reads with the counts an
//! independent XML parser finds, each dialect's attributes land in the
//! normalised shape, and a promotion over a JUnit report and two YAML
//! configs explains itself with locations in the original files, in every
//! output format.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::evidence::{self, Source};
use std::path::{Path, PathBuf};

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus")
        .join(path)
}

/// The evidence loaded whole, as rules see it.
fn load(path: &Path) -> serde_json::Value {
    let source = Source::File {
        mount: None,
        path: path.to_path_buf(),
    };
    let (value, _) = evidence::load(&[source], &clearance::limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    value.to_json()
}

#[test]
fn every_report_reads_with_the_counts_of_an_independent_parser() {
    let table: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(corpus("junit/expected-counts.json")).unwrap(),
    )
    .unwrap();
    let reports = table["reports"].as_object().unwrap();
    let on_disk = std::fs::read_dir(corpus("junit"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "xml")
        })
        .count();
    assert_eq!(reports.len(), on_disk, "every report has a row");
    assert!(reports.len() >= 8);
    for (file, want) in reports {
        let got = load(&corpus(&format!("junit/{file}")));
        for key in ["tests", "passed", "failures", "errors", "skipped", "flaky"] {
            assert_eq!(got[key], want[key], "{file}: {key}");
        }
        assert_eq!(
            got["suites"].as_array().unwrap().len() as u64,
            want["suites"],
            "{file}: suites"
        );
        assert_eq!(
            got["cases"].as_array().unwrap().len() as u64,
            want["tests"],
            "{file}: cases"
        );
        // Every case's status is one of the four, and the totals add up.
        let statuses: Vec<&str> = got["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect();
        for (status, key) in [
            ("passed", "passed"),
            ("failed", "failures"),
            ("error", "errors"),
            ("skipped", "skipped"),
        ] {
            assert_eq!(
                statuses.iter().filter(|s| **s == status).count() as u64,
                want[key],
                "{file}: {status}"
            );
        }
    }
}

#[test]
fn each_dialect_lands_in_the_normalised_shape() {
    // TestNG: a bare <testsuite> root; its own attributes.
    let testng = load(&corpus(
        "junit/apache-pulsar-TEST-AddMissingPatchVersionTest.xml",
    ));
    assert_eq!(testng["suites"][0]["hostname"], "fv-az96-723");
    assert_eq!(testng["time"], 0.116);
    assert_eq!(
        testng["cases"][1]["message"],
        "expected [1.2.1] but found [1.2.0]"
    );
    assert_eq!(testng["cases"][1]["type"], "java.lang.AssertionError");
    assert_eq!(testng["cases"][0]["status"], "skipped");

    // PHPUnit: suites nested three deep, `file` and `line` on cases.
    let phpunit = load(&corpus("junit/phpcheckstyle-phpunit.xml"));
    let suite = &phpunit["suites"][2];
    assert_eq!(
        suite["path"],
        "/workspace/phpcheckstyle/phpunit.xml / PHPUnitTestSuite / CommentsTest"
    );
    assert_eq!(
        phpunit["suites"][0]["tests"], 30,
        "an outer suite counts its nested cases"
    );
    let case = &phpunit["cases"][0];
    assert_eq!(
        case["file"],
        "/workspace/phpcheckstyle/test/CommentsTest.php"
    );
    assert_eq!(case["line"], 12);
    assert_eq!(case["suite"], suite["path"]);

    // pytest: the root's `tests="15"` counts subtests; the cases are 10.
    let pytest = load(&corpus("junit/pytest-junitxml-with-failures.xml"));
    assert_eq!(pytest["tests"], 10);
    assert_eq!(
        pytest["suites"][0]["timestamp"],
        "2025-11-15T11:51:49.548396-05:00"
    );

    // jest-junit: a failure with a body and no message; escaped quotes in a name.
    let jest = load(&corpus("junit/jest-junit.xml"));
    assert_eq!(jest["cases"][1]["status"], "failed");
    assert_eq!(jest["cases"][1]["message"], serde_json::Value::Null);
    assert_eq!(jest["cases"][3]["name"], "Calculator formats \"1,000\"");
    assert_eq!(jest["cases"][0]["file"], "src/calc.test.js");
    assert_eq!(jest["time"], 1.234);

    // gotestsum: one suite per package; the skip message kept as written.
    let go = load(&corpus("junit/gotestsum.xml"));
    assert_eq!(go["suites"][1]["name"], "example.com/acme/payments/api");
    assert_eq!(go["cases"][2]["status"], "skipped");
    assert!(go["cases"][2]["message"]
        .as_str()
        .unwrap()
        .contains("needs PostgreSQL"));
    assert_eq!(go["cases"][1]["type"], "");

    // Surefire: the header says failures="0"; the cases say otherwise.
    let surefire = load(&corpus("junit/surefire-flaky.xml"));
    assert_eq!(surefire["failures"], 1);
    assert_eq!(surefire["cases"][0]["status"], "passed");
    assert_eq!(surefire["cases"][0]["flaky"], true);
    assert_eq!(surefire["cases"][2]["status"], "failed");
    assert_eq!(surefire["cases"][2]["flaky"], false);
}

#[test]
fn yaml_manifests_read_as_json_would_hold_them() {
    let staging = load(&corpus("deploy/bank-of-anthos-configmap-staging.yaml"));
    assert_eq!(staging["kind"], "ConfigMap");
    assert_eq!(
        staging["data"]["connectionName"],
        "boa-tf-max-6:europe-west1:bank-of-anthos-db-staging"
    );
    let images = load(&corpus("deploy/k8s-metrics-server-images.yaml"));
    let first = &images[0];
    assert_eq!(first["name"], "metrics-server");
    assert!(first["dmap"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| k.starts_with("sha256:")));
    let manifest = load(&corpus("deploy/k8s-metrics-server-promoter-manifest.yaml"));
    assert_eq!(manifest["registries"][0]["src"], true);
}

const NOW: &str = "2026-11-20T12:00:00Z";

/// `clearance check` from the repository root, with `--now` fixed.
fn check(args: &[&str], format: &str) -> (Option<i32>, String) {
    let out = assert_cmd::Command::cargo_bin("clearance")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .arg("check")
        .args(args)
        .args(["--now", NOW, "--format", format])
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

fn promotion(format: &str) -> (Option<i32>, String) {
    check(
        &[
            "tests/data/readers/policy.clr",
            "--evidence",
            "junit=tests/data/corpus/junit/pytest-junitxml-with-failures.xml",
            "--evidence",
            "staging=tests/data/corpus/deploy/bank-of-anthos-configmap-staging.yaml",
            "--evidence",
            "prod=tests/data/corpus/deploy/bank-of-anthos-configmap-production.yaml",
        ],
        format,
    )
}

/// TRUST.md section 1: a pointer into a YAML or XML mount is shown as
/// `FILE:LINE:COL` of the value (for JUnit, of the element or attribute it
/// came from), in every output format that shows evidence locations.
#[test]
fn a_promotion_over_junit_and_yaml_explains_with_locations_in_the_files() {
    const FAILURE_AT: &str = "tests/data/corpus/junit/pytest-junitxml-with-failures.xml:17:7";
    const PROD_AT: &str = "tests/data/corpus/deploy/bank-of-anthos-configmap-production.yaml:19:19";

    let (code, human) = promotion("human");
    assert_eq!(code, Some(1));
    insta::assert_snapshot!("readers_promotion_human", human);
    assert!(
        human.contains(FAILURE_AT) && human.contains(PROD_AT),
        "{human}"
    );

    let (_, json) = promotion("json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cited: Vec<(String, String)> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["problems"].as_array().unwrap().iter())
        .flat_map(|p| p["evidence"].as_array().unwrap().iter())
        .filter(|e| !e["location"].is_null())
        .map(|e| {
            let l = &e["location"];
            (
                e["pointer"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}:{}",
                    l["file"].as_str().unwrap(),
                    l["line"],
                    l["column"]
                ),
            )
        })
        .collect();
    assert!(
        cited.contains(&("/junit/cases/5/status".into(), FAILURE_AT.into())),
        "{cited:?}"
    );
    assert!(
        cited.contains(&("/prod/data/connectionName".into(), PROD_AT.into())),
        "{cited:?}"
    );

    let (_, sarif) = promotion("sarif");
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let places: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["relatedLocations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|l| {
            let p = &l["physicalLocation"];
            format!(
                "{}:{}:{}",
                p["artifactLocation"]["uri"].as_str().unwrap(),
                p["region"]["startLine"],
                p["region"]["startColumn"]
            )
        })
        .collect();
    assert!(places.iter().any(|p| p == FAILURE_AT), "{places:?}");
    assert!(places.iter().any(|p| p == PROD_AT), "{places:?}");

    for format in ["github", "markdown"] {
        let (_, out) = promotion(format);
        assert!(
            out.contains(FAILURE_AT) && out.contains(PROD_AT),
            "{format}:\n{out}"
        );
    }
}

/// Issue 13 item 5: each drifted path carries both values and pointers with
/// line:col into both files, in every output format (SARIF and GitHub used
/// to end with "1 drifted path:" and list none).
#[test]
fn drift_explains_itself_in_every_format() {
    let run = |format: &str| {
        let (code, out) = check(
            &[
                "policies/cookbook/17-yaml-config-drift/policy.clr",
                "--evidence",
                "staging=tests/data/corpus/deploy/bank-of-anthos-configmap-staging.yaml",
                "--evidence",
                "prod=tests/data/corpus/deploy/bank-of-anthos-configmap-production.yaml",
                "--param",
                "expected_drift=[]",
            ],
            format,
        );
        assert_eq!(code, Some(1));
        out
    };
    const STAGING_AT: &str = "tests/data/corpus/deploy/bank-of-anthos-configmap-staging.yaml:19:19";
    const PROD_AT: &str = "tests/data/corpus/deploy/bank-of-anthos-configmap-production.yaml:19:19";
    for format in ["human", "github", "markdown"] {
        let out = run(format);
        for want in [
            "data.connectionName",
            "/staging/data/connectionName",
            "/prod/data/connectionName",
            STAGING_AT,
            PROD_AT,
        ] {
            assert!(out.contains(want), "{format} lacks {want}:\n{out}");
        }
    }
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let cited = &json["rules"][0]["problems"][0]["evidence"];
    assert_eq!(cited[0]["pointer"], "/staging/data/connectionName");
    assert_eq!(
        cited[0]["value"],
        "boa-tf-max-6:europe-west1:bank-of-anthos-db-staging"
    );
    assert_eq!(cited[0]["location"]["line"], 19);
    assert_eq!(cited[1]["pointer"], "/prod/data/connectionName");
    assert_eq!(
        cited[1]["value"],
        "bank-of-anthos-aablsk:europe-west1:bank-of-anthos-db-production"
    );
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert!(result["message"]["text"]
        .as_str()
        .unwrap()
        .contains("data.connectionName"));
    let uris: Vec<&str> = result["relatedLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        uris,
        [
            "tests/data/corpus/deploy/bank-of-anthos-configmap-staging.yaml",
            "tests/data/corpus/deploy/bank-of-anthos-configmap-production.yaml"
        ]
    );
}
