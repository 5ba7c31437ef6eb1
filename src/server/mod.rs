//! `clearance serve` (TRUST.md section 5): the decision driver behind an
//! HTTP API, so one service holds the signing key and writes the ledger
//! for every pipeline.
//!
//! - `policies`: the policy directory, compiled and hot-reloaded;
//! - `decide`: one `/v1/check` request through the library's driver (the
//!   report is the bytes `clearance check --format json` prints);
//! - `tokens`: hashed bearer tokens scoped to policies and gates;
//! - `metrics`, `problem`: Prometheus text and problem details.
//!
//! Decisions run on tokio's blocking pool (evaluation is CPU work, and the
//! ledger clients are synchronous); the async side only moves bytes.

mod decide;
pub mod metrics;
pub mod policies;
mod problem;
pub mod tls;
pub mod tokens;

use crate::ledger::{Store, TrustedKey};
use crate::limits::Limits;
use crate::sign::SigningKey;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use policies::PolicySet;
use problem::Problem;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The OpenAPI description of every endpoint (served at `/openapi.json`).
pub const OPENAPI: &str = include_str!("openapi.json");

/// Everything `clearance serve` is started with.
#[derive(Clone, Debug)]
pub struct Config {
    pub policies: PathBuf,
    pub listen: SocketAddr,
    pub tokens: Option<PathBuf>,
    /// The trust file for `attestations` in requests.
    pub trust: Option<PathBuf>,
    pub ledger: Option<String>,
    pub sign_key: Option<String>,
    pub ledger_trust: Vec<PathBuf>,
    pub limits: Limits,
    pub max_body_bytes: usize,
    /// How long reading a request and deciding it may take.
    pub request_timeout: Duration,
    /// How often the policy directory is checked for changes.
    pub reload_interval: Duration,
    /// Serve HTTPS with these files (and ask for client certificates).
    pub tls: Option<tls::TlsFiles>,
}

/// The service's state, shared by every request.
pub struct State {
    pub config: Config,
    policies: RwLock<Arc<PolicySet>>,
    tokens: Option<tokens::Tokens>,
    trust: Option<crate::attest::Trust>,
    signing: Option<SigningKey>,
    ledger: Option<Mutex<Box<dyn Store>>>,
    ledger_trust: Vec<TrustedKey>,
    metrics: metrics::Metrics,
    requests: AtomicU64,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServeError(pub String);

/// One line of the structured log (JSON, on standard error).
fn log(fields: serde_json::Value) {
    let mut line = serde_json::json!({
        "ts": jiff::Timestamp::now().to_string(),
    });
    if let (Some(l), serde_json::Value::Object(f)) = (line.as_object_mut(), fields) {
        l.extend(f);
    }
    eprintln!("{line}");
}

impl State {
    /// Reads everything the configuration names; any problem stops the
    /// start (a service that cannot sign or record must not answer).
    pub fn new(config: Config) -> Result<State, ServeError> {
        let fail = |m: String| ServeError(m);
        if !config.policies.is_dir() {
            return Err(fail(format!(
                "--policies {}: not a directory",
                config.policies.display()
            )));
        }
        let tokens = match &config.tokens {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
                Some(tokens::Tokens::parse(&text, &path.display().to_string()).map_err(fail)?)
            }
            None => None,
        };
        let trust = match &config.trust {
            Some(path) => Some(crate::attest::Trust::load(path).map_err(|e| fail(e.to_string()))?),
            None => None,
        };
        let signing = match &config.sign_key {
            Some(spec) => Some(SigningKey::load(spec).map_err(|e| fail(e.to_string()))?),
            None => None,
        };
        let ledger = match &config.ledger {
            Some(spec) => {
                if signing.is_none() {
                    return Err(fail(
                        "--ledger needs --sign-key: the service signs every decision it records"
                            .into(),
                    ));
                }
                let mut store =
                    crate::ledger::open(spec, false).map_err(|e| fail(e.to_string()))?;
                store.origin().map_err(|e| fail(e.to_string()))?;
                Some(Mutex::new(store))
            }
            None => None,
        };
        if signing.is_some() && ledger.is_none() {
            return Err(fail(
                "--sign-key without --ledger: the key signs the decisions the service records"
                    .into(),
            ));
        }
        let ledger_trust = config
            .ledger_trust
            .iter()
            .map(|p| TrustedKey::load(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(e.to_string()))?;
        let tls = match &config.tls {
            Some(files) => Some(tls::acceptor(files)?),
            None => None,
        };
        let set = PolicySet::load(&config.policies, &config.limits, None);
        for (policy, error) in &set.errors {
            log(
                serde_json::json!({"level": "error", "msg": "policy does not compile", "policy": policy, "error": error}),
            );
        }
        Ok(State {
            policies: RwLock::new(Arc::new(set)),
            tokens,
            trust,
            signing,
            ledger,
            ledger_trust,
            metrics: metrics::Metrics::default(),
            requests: AtomicU64::new(0),
            tls,
            config,
        })
    }

    /// Runs `f` on the ledger. When the store is unavailable (a restarted
    /// database drops its connections), it reconnects once and runs `f`
    /// again; if that fails too, the error stands (and the caller answers
    /// 503 with no decision).
    pub(crate) fn with_ledger<T>(
        &self,
        f: impl Fn(&mut dyn Store) -> Result<T, crate::ledger::LedgerError>,
    ) -> Result<T, crate::ledger::LedgerError> {
        use crate::ledger::LedgerError;
        let (Some(slot), Some(spec)) = (&self.ledger, &self.config.ledger) else {
            return Err(LedgerError::Unavailable("no ledger is configured".into()));
        };
        let mut store = slot
            .lock()
            .map_err(|_| LedgerError::Unavailable("the ledger connection is unusable".into()))?;
        match f(&mut **store) {
            Err(LedgerError::Unavailable(first)) => {
                let fresh = crate::ledger::open(spec, false).map_err(|e| {
                    LedgerError::Unavailable(format!("{first}; reconnecting failed: {e}"))
                })?;
                *store = fresh;
                f(&mut **store)
            }
            other => other,
        }
    }

    fn current(&self) -> Arc<PolicySet> {
        match self.policies.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the policy set if the directory changed.
    fn reload_if_changed(&self) {
        let current = self.current();
        if policies::fingerprint(&self.config.policies) == current.fingerprint {
            return;
        }
        let next = PolicySet::load(&self.config.policies, &self.config.limits, Some(&current));
        let ok = next.errors.is_empty();
        self.metrics.reload(ok);
        log(serde_json::json!({
            "level": if ok { "info" } else { "error" },
            "msg": "policies reloaded",
            "policies": next.policies.keys().collect::<Vec<_>>(),
            "errors": next.errors,
        }));
        if let Ok(mut slot) = self.policies.write() {
            *slot = Arc::new(next);
        }
    }
}

/// The cancellation handshake between a timed-out request and its
/// decision still running on the blocking pool: the decision records into
/// the ledger only if the request was not answered yet.
#[derive(Default)]
pub struct Cancel {
    state: Mutex<(bool, bool)>, // (cancelled, recording)
}

impl Cancel {
    /// Called by the decision before appending: false if already cancelled.
    fn start_recording(&self) -> bool {
        match self.state.lock() {
            Ok(mut s) if !s.0 => {
                s.1 = true;
                true
            }
            _ => false,
        }
    }

    /// Called on timeout: false if the decision is already being recorded
    /// (then its answer must be waited for: the decision exists).
    fn cancel(&self) -> bool {
        match self.state.lock() {
            Ok(mut s) if !s.1 => {
                s.0 = true;
                true
            }
            _ => false,
        }
    }
}

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/check", post(check))
        .route("/v1/policies", get(list_policies))
        .route(
            "/healthz",
            get(|| async { json_response(StatusCode::OK, "{\"status\":\"ok\"}\n".into()) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route(
            "/openapi.json",
            get(|| async { json_response(StatusCode::OK, OPENAPI.to_string()) }),
        )
        .fallback(not_found)
        .with_state(state)
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn not_found() -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no such endpoint",
        "see /openapi.json for the endpoints".into(),
    )
    .into_response_with("")
}

fn request_id(state: &State, headers: &HeaderMap) -> String {
    // A caller's id (a CI run id) is kept when it is printable and short.
    if let Some(v) = headers.get("x-request-id").and_then(|v| v.to_str().ok()) {
        if !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()) {
            return v.to_string();
        }
    }
    let n = state.requests.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-{n:06}", std::process::id())
}

async fn check(Extract(state): Extract<Arc<State>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let id = request_id(&state, &headers);
    let (status, response, fields) = match answer(&state, &headers, body).await {
        Ok((report, verdict, policy, gate)) => {
            state.metrics.decision(&policy, &gate, verdict);
            let mut r = json_response(StatusCode::OK, report);
            if let Ok(v) = header::HeaderValue::from_str(&id) {
                r.headers_mut().insert("x-request-id", v);
            }
            (
                200,
                r,
                serde_json::json!({"policy": policy, "gate": gate, "decision": verdict}),
            )
        }
        Err(p) => {
            let status = p.status.as_u16();
            let fields = serde_json::json!({"problem": p.title});
            (status, p.into_response_with(&id), fields)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    state.metrics.response(status, seconds);
    let mut line = serde_json::json!({
        "level": "info",
        "msg": "check",
        "request_id": id,
        "status": status,
        "duration_ms": (seconds * 1000.0 * 1000.0).round() / 1000.0,
    });
    if let (Some(l), serde_json::Value::Object(f)) = (line.as_object_mut(), fields) {
        l.extend(f);
    }
    log(line);
    response
}

/// The caller's token: `None` when the service has no tokens file; a
/// missing or unknown bearer token is 401.
fn authorise<'s>(
    state: &'s State,
    headers: &HeaderMap,
) -> Result<Option<&'s tokens::Token>, Problem> {
    Ok(match &state.tokens {
        None => None,
        Some(tokens) => {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    Problem::new(
                        StatusCode::UNAUTHORIZED,
                        "a bearer token is required",
                        "send `Authorization: Bearer TOKEN`".into(),
                    )
                })?;
            Some(tokens.find(bearer.trim()).ok_or_else(|| {
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "the token is not known",
                    String::new(),
                )
            })?)
        }
    })
}

/// How far past `--max-body-bytes` a body is still read (and dropped)
/// before the 413 goes out; see [`read_body`].
const DRAINED_PAST_THE_LIMIT: usize = 4 * 1024 * 1024;

/// The request body, or `Err` past `max` bytes (or when it cannot be read).
///
/// A body past the limit is still read to its end, up to
/// [`DRAINED_PAST_THE_LIMIT`] more bytes (and within the request's
/// deadline), and dropped: hyper closes a connection whose request it did
/// not read whole, and with bytes still unread the kernel resets it, so a
/// client still sending would lose the 413 and see a broken connection
/// instead (nginx's lingering close does the same).
async fn read_body(mut body: Body, max: usize) -> Result<Bytes, ()> {
    use axum::body::HttpBody;
    let mut kept = Vec::new();
    let mut read = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(data) = frame.map_err(drop)?.into_data() else {
            continue;
        };
        read = read.saturating_add(data.len());
        if read <= max {
            kept.extend_from_slice(&data);
        } else if read > max.saturating_add(DRAINED_PAST_THE_LIMIT) {
            return Err(());
        }
    }
    if read > max {
        return Err(());
    }
    Ok(Bytes::from(kept))
}

/// Authorises, reads the body within the limits, and decides.
async fn answer(
    state: &Arc<State>,
    headers: &HeaderMap,
    body: Body,
) -> Result<(String, &'static str, String, String), Problem> {
    let token = authorise(state, headers)?;
    let deadline = state.config.request_timeout;
    let max = state.config.max_body_bytes;
    let bytes: Bytes = match tokio::time::timeout(deadline, read_body(body, max)).await {
        Err(_) => {
            return Err(Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time",
                format!(
                    "the service waits {} s for a request",
                    deadline.as_secs_f64()
                ),
            ))
        }
        Ok(Err(_)) => {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
                format!("the limit is {max} bytes (--max-body-bytes)"),
            ))
        }
        Ok(Ok(b)) => b,
    };
    let asked = decide::parse(&bytes, &state.config.limits)?;
    let set = state.current();
    let policy = set.policies.get(&asked.policy).cloned().ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "no such policy",
            format!(
                "`{}` is not a policy under the service's directory (GET /v1/policies lists them)",
                asked.policy
            ),
        )
    })?;
    let gate = decide::gate(&policy, &asked)?.label();
    let policy_name = asked.policy.clone();
    if let Some(t) = token {
        if !t.allows_policy(&asked.policy) || !t.allows_gate(&gate) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "the token may not decide this",
                format!(
                    "token `{}` is not scoped to policy `{}` and gate `{gate}`",
                    t.name, asked.policy
                ),
            ));
        }
    }
    let cancel = Arc::new(Cancel::default());
    let mut work = {
        let (state, cancel) = (state.clone(), cancel.clone());
        tokio::task::spawn_blocking(move || {
            decide::decide_request(&state, &policy, &asked, &cancel)
        })
    };
    let decided = match tokio::time::timeout(deadline, &mut work).await {
        Ok(joined) => joined,
        Err(_) if cancel.cancel() => {
            return Err(Problem::unavailable(&format!(
                "the decision took longer than {} s; nothing was recorded",
                deadline.as_secs_f64()
            )))
        }
        // Already recording: the decision exists, so it is answered.
        Err(_) => work.await,
    };
    let (report, verdict, gate) =
        decided.map_err(|_| Problem::unavailable("the decision failed unexpectedly"))??;
    Ok((report, verdict, policy_name, gate))
}

/// The policies the caller's token may decide (all without a tokens file).
async fn list_policies(Extract(state): Extract<Arc<State>>, headers: HeaderMap) -> Response {
    let token = match authorise(&state, &headers) {
        Ok(t) => t,
        Err(p) => return p.into_response_with(&request_id(&state, &headers)),
    };
    let set = state.current();
    let policies: Vec<serde_json::Value> = set
        .policies
        .iter()
        .filter(|(path, _)| token.is_none_or(|t| t.allows_policy(path)))
        .map(|(path, p)| {
            serde_json::json!({
                "policy": path,
                "sha256": p.sha256,
                "gates": p.program.gates.iter().map(|g| g.label()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let errors: Vec<serde_json::Value> = set
        .errors
        .iter()
        .map(|(policy, error)| serde_json::json!({"policy": policy, "error": error}))
        .collect();
    let mut body =
        serde_json::to_string_pretty(&serde_json::json!({"policies": policies, "errors": errors}))
            .unwrap_or_default();
    body.push('\n');
    json_response(StatusCode::OK, body)
}

async fn readyz(Extract(state): Extract<Arc<State>>) -> Response {
    let set = state.current();
    let mut problems: Vec<String> = Vec::new();
    if set.policies.is_empty() {
        problems.push("no policy compiles".into());
    }
    if state.ledger.is_some() {
        let probe = {
            let state = state.clone();
            tokio::task::spawn_blocking(move || {
                state
                    .with_ledger(|s| s.head().map(|_| ()))
                    .map_err(|e| e.to_string())
            })
        };
        if let Ok(Err(e)) | Err(e) = probe.await.map_err(|e| e.to_string()) {
            problems.push(e);
        }
    }
    let errors: Vec<serde_json::Value> = set
        .errors
        .iter()
        .map(|(policy, error)| serde_json::json!({"policy": policy, "error": error}))
        .collect();
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if !problems.is_empty() { "unavailable" } else if errors.is_empty() { "ready" } else { "degraded" },
        "problems": problems,
        "policies": set.policies.len(),
        "policy_errors": errors,
    });
    json_response(status, format!("{body}\n"))
}

async fn metrics_text(Extract(state): Extract<Arc<State>>) -> Response {
    let set = state.current();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(set.policies.len(), set.errors.len()),
    )
        .into_response()
}

/// Runs the service until SIGTERM or SIGINT, then lets the requests in
/// flight finish and returns.
pub async fn serve(state: Arc<State>) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .map_err(|e| ServeError(format!("cannot listen on {}: {e}", state.config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError(e.to_string()))?;
    log(serde_json::json!({
        "level": "info",
        "msg": "listening",
        "addr": addr.to_string(),
        "policies": state.current().policies.keys().collect::<Vec<_>>(),
        "auth": if state.tokens.is_some() { "tokens" } else { "none" },
        "tls": match &state.config.tls {
            None => "off",
            Some(t) if t.client_ca.is_some() => "mutual",
            Some(_) => "on",
        },
        "ledger": state.config.ledger.as_deref().map(crate::ledger::redact),
    }));
    let reloader = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.config.reload_interval);
            loop {
                tick.tick().await;
                let s = state.clone();
                let _ = tokio::task::spawn_blocking(move || s.reload_if_changed()).await;
            }
        })
    };
    let shutdown = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        log(serde_json::json!({"level": "info", "msg": "draining"}));
    };
    let served = match state.tls.clone() {
        Some(acceptor) => {
            tls::serve(listener, acceptor, router(state.clone()), shutdown).await;
            Ok(())
        }
        None => axum::serve(listener, router(state.clone()))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| ServeError(e.to_string())),
    };
    reloader.abort();
    log(serde_json::json!({"level": "info", "msg": "stopped"}));
    served
}
