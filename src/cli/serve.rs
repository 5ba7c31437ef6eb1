//! `clearance serve`: the decision service (TRUST.md section 5,
//! docs/service.md).

use super::{plain_error, NoDecision};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The policy directory: every `.clr` file under it with a gate is a
    /// policy, named by its path under DIR; reloaded when it changes.
    #[arg(long, value_name = "DIR")]
    pub policies: PathBuf,
    /// Address to listen on (`127.0.0.1:0` picks a free port; the log says which).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Bearer tokens (TOML, stored as SHA-256), each scoped to policies and
    /// gates; without it the service answers anyone who can reach it.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// The trust file that `attestations` in requests must verify against.
    #[arg(long, value_name = "TRUST.toml")]
    pub trust: Option<PathBuf>,
    /// Record every decision in this ledger (with `--sign-key`) before answering.
    #[arg(long, value_name = "LEDGER")]
    pub ledger: Option<String>,
    /// The service's signing key (FILE or env:VAR): only the service holds it.
    #[arg(long, value_name = "FILE|env:VAR")]
    pub sign_key: Option<String>,
    /// Keys whose recorded decisions rules may read as `ledger` (repeatable).
    #[arg(long = "ledger-trust", value_name = "PUB.pem")]
    pub ledger_trust: Vec<PathBuf>,
    /// Largest request body, in bytes (413 past it).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a request may take to arrive and be decided (408 or 503 past it).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub request_timeout: f64,
    /// Serve HTTPS with this certificate chain (PEM); needs `--tls-key`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: answer only clients with a certificate from this CA (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Seconds between checks of the policy directory for changes.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub reload_interval: f64,
}

fn seconds(flag: &str, s: f64) -> Result<std::time::Duration, NoDecision> {
    if !(s.is_finite() && s > 0.0 && s < 86_400.0) {
        return Err(plain_error(format!(
            "`{flag} {s}`: give a number of seconds above 0"
        )));
    }
    Ok(std::time::Duration::from_secs_f64(s))
}

pub fn run(args: ServeArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    if args.ledger_trust.iter().len() > 0 && args.ledger.is_none() {
        return Err(plain_error("`--ledger-trust` needs `--ledger LEDGER`"));
    }
    let config = crate::server::Config {
        policies: args.policies,
        listen: args.listen,
        tokens: args.tokens,
        trust: args.trust,
        ledger: args.ledger,
        sign_key: args.sign_key,
        ledger_trust: args.ledger_trust,
        limits: *limits,
        max_body_bytes: args.max_body_bytes,
        request_timeout: seconds("--request-timeout", args.request_timeout)?,
        reload_interval: seconds("--reload-interval", args.reload_interval)?,
        tls: match (args.tls_cert, args.tls_key) {
            (Some(cert), Some(key)) => Some(crate::server::tls::TlsFiles {
                cert,
                key,
                client_ca: args.client_ca,
            }),
            _ => None,
        },
    };
    let state = crate::server::State::new(config).map_err(plain_error)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| plain_error(format!("cannot start the runtime: {e}")))?;
    runtime
        .block_on(crate::server::serve(std::sync::Arc::new(state)))
        .map_err(plain_error)?;
    Ok(0)
}
