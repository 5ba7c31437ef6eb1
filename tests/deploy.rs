//! The deployment files cannot rot: the Kubernetes manifests pass a
//! schema-aware validator (kubernetes-validate, from PyPI; `.ci/run`
//! installs it), the ConfigMap holds the repository's policies, the
//! Deployment's arguments are flags `clearance serve` has, the Dockerfile
//! is multi-stage and non-root, and the GitHub Actions step that calls the
//! service runs as written against a real `clearance serve`.

// Test helpers may panic: a failing assertion is how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clearance::evidence::{self, Source};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &Path) -> Value {
    let source = Source::File {
        mount: None,
        path: path.to_path_buf(),
    };
    let (value, _) = evidence::load(&[source], &clearance::limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    value.to_json()
}

fn manifests() -> Vec<std::path::PathBuf> {
    let k = yaml(&root().join("deploy/kubernetes/kustomization.yaml"));
    k["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| root().join("deploy/kubernetes").join(r.as_str().unwrap()))
        .collect()
}

#[test]
fn the_manifests_pass_a_schema_aware_validator() {
    let files = manifests();
    let kinds: Vec<String> = files
        .iter()
        .map(|f| yaml(f)["kind"].as_str().unwrap().to_string())
        .collect();
    for kind in [
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    let out = Command::new("python3")
        .args(["-m", "kubernetes_validate", "--strict"])
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("kubernetes-validate is needed (`pip install kubernetes-validate`; .ci/run installs it): {e}")
        });
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.matches(" passed for resource ").count(),
        files.len(),
        "{text}"
    );
    // The validator does check: a wrong type is refused.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let deployment =
        std::fs::read_to_string(root().join("deploy/kubernetes/deployment.yaml")).unwrap();
    std::fs::write(&bad, deployment.replace("replicas: 2", "replicas: two")).unwrap();
    let out = Command::new("python3")
        .args(["-m", "kubernetes_validate", "--strict"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_deployment_runs_the_repository_policies_with_real_flags() {
    let cm = yaml(&root().join("deploy/kubernetes/configmap-policies.yaml"));
    let d = yaml(&root().join("deploy/kubernetes/deployment.yaml"));
    let pod = &d["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    // The projected ConfigMap is the payments example, file for file.
    let items = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "policies")
        .unwrap()["configMap"]["items"]
        .as_array()
        .unwrap()
        .clone();
    let dir = tempfile::tempdir().unwrap();
    for item in &items {
        let (key, path) = (
            item["key"].as_str().unwrap(),
            item["path"].as_str().unwrap(),
        );
        let text = cm["data"][key].as_str().unwrap();
        let repo = std::fs::read_to_string(root().join("policies").join(path)).unwrap();
        assert_eq!(text, repo, "{key} is not policies/{path}");
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    clearance::compile_path(&dir.path().join("payments/policy.clr"), &[]).unwrap();
    // Probes on the service's endpoints, limits set, never root.
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    // Every flag of the arguments is one `clearance serve` has.
    let help = Command::new(assert_cmd::cargo::cargo_bin("clearance"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "serve");
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        assert!(
            help.contains(&format!("{flag} ")),
            "`clearance serve` has no {flag}"
        );
    }
    // The Dockerfile: a build stage and a small non-root runtime stage.
    let docker = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert_eq!(docker.lines().filter(|l| l.starts_with("FROM ")).count(), 2);
    assert!(docker.contains("cargo build --release --locked"));
    assert!(docker.contains("USER nonroot"));
    assert!(docker.contains("CMD [\"serve\""));
}

#[test]
fn the_kargo_and_argo_examples_call_the_check_endpoint() {
    let kargo = yaml(&root().join("docs/ci/kargo-stage-http.yaml"));
    let step = &kargo["spec"]["promotionTemplate"]["spec"]["steps"][0];
    assert_eq!(step["uses"], "http");
    assert!(step["config"]["url"]
        .as_str()
        .unwrap()
        .ends_with("/v1/check"));
    assert!(step["config"]["successExpression"]
        .as_str()
        .unwrap()
        .contains("'allowed'"));
    let argo = yaml(&root().join("docs/ci/argo-rollouts-analysis.yaml"));
    let metric = &argo["spec"]["metrics"][0];
    assert!(metric["provider"]["web"]["url"]
        .as_str()
        .unwrap()
        .ends_with("/v1/check"));
    assert_eq!(
        metric["provider"]["web"]["jsonBody"]["policy"],
        "payments/policy.clr"
    );
    assert_eq!(metric["successCondition"], "result.decision == \"allowed\"");
}

#[test]
fn the_github_actions_step_runs_as_written_against_the_service() {
    let workflow = yaml(&root().join("docs/ci/serve-github-actions.yml"));
    let job = &workflow["jobs"]["gate"];
    let script = job["steps"][1]["run"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token = "job-token";
    let hash: String = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
        token.as_bytes(),
    ))
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(
        &tokens,
        format!(
            "[[token]]\nname = \"payments-ci\"\nsha256 = \"{hash}\"\npolicies = [\"payments/*\"]\n"
        ),
    )
    .unwrap();
    let mut server = Command::new(assert_cmd::cargo::cargo_bin("clearance"))
        .current_dir(root())
        .args([
            "serve",
            "--policies",
            "policies",
            "--listen",
            "127.0.0.1:0",
            "--tokens",
        ])
        .arg(&tokens)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let listening: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let url = format!("http://{}", listening["addr"].as_str().unwrap());
    std::thread::spawn(move || for _ in lines {});
    let run = |bundle: &str| {
        std::fs::copy(
            root().join(format!("policies/payments/evidence/{bundle}.json")),
            dir.path().join("evidence.json"),
        )
        .unwrap();
        let mut cmd = Command::new("bash");
        cmd.current_dir(dir.path()).args(["-e", "-c", script]);
        for (k, v) in job["env"].as_object().unwrap() {
            cmd.env(k, v.as_str().unwrap());
        }
        cmd.env("CLEARANCE_URL", &url).env("CLEARANCE_TOKEN", token);
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = run("allowed");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("allowed: staging -> prod"), "{out}");
    let (code, out) = run("denied");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.starts_with("denied: staging -> prod"), "{out}");
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    assert_eq!(server.wait().unwrap().code(), Some(0));
}
