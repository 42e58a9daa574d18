//! Live exporters of `run` and `proxy` (`--prometheus`, `--otlp-endpoint`): validated, started
//! before the session, and handed to it through `SessionOptions.live`, so they see every call and
//! memory tick the trace sees.

use std::net::SocketAddr;
use std::sync::Arc;

use super::session::SessionOptions;
use crate::attribute::findings::Thresholds;
use crate::cli::CaptureArgs;
use crate::error::InputError;
use crate::output::live::{LiveSink, LiveSinks};
use crate::output::otlp;
use crate::output::prometheus::PrometheusExporter;

/// Where the started exporters can be reached.
#[derive(Debug, Default)]
pub struct Exporters {
    /// The address `/metrics` is served on, with `--prometheus`.
    pub prometheus: Option<SocketAddr>,
}

/// Starts the exporters the flags ask for (on the current tokio runtime) and adds them to
/// `options.live`; `findings` (the finding flags) for the live findings of `/metrics`.
pub async fn start(
    args: &CaptureArgs,
    findings: Thresholds,
    options: &mut SessionOptions,
) -> anyhow::Result<Exporters> {
    let mut sinks: Vec<Arc<dyn LiveSink>> = Vec::new();
    let mut started = Exporters::default();
    if let Some(addr) = args.prometheus {
        check_loopback(addr, args.allow_remote)?;
        let kv_profile = super::options::kv_profile(&options.kv_profile)?;
        let exporter = PrometheusExporter::start_with_hosts(
            addr,
            options.prices.clone(),
            kv_profile,
            &args.allow_host,
            findings,
        )
        .await
        .map_err(|e| InputError::new(format!("--prometheus: {e}")))?;
        started.prometheus = Some(exporter.addr());
        sinks.push(exporter);
    }
    // OTLP when `--otlp-endpoint` or agentprof's own OTEL_EXPORTER_OTLP_ENDPOINT asks for it.
    // Started after logging is set up: the exporter logs where it sends.
    let kv_profile = super::options::kv_profile(&options.kv_profile)?;
    let otlp = otlp::from_flag_or_env(
        args.otlp_endpoint.as_deref(),
        kv_profile,
        options.prices.clone(),
    )
    .map_err(|e| {
        // Endpoint errors already name their flag or variable.
        match e {
            otlp::OtlpError::Endpoint { .. } => InputError::new(e.to_string()),
            otlp::OtlpError::Build(_) => InputError::new(format!("--otlp-endpoint: {e}")),
        }
    })?;
    if let Some(otlp) = otlp {
        sinks.push(Arc::new(otlp));
    }
    if !sinks.is_empty() {
        options.live = LiveSinks::new(sinks);
    }
    Ok(started)
}

/// The `--listen` rule applies to `/metrics` too: it has no authentication, and what it shows
/// (models, spend, activity) is nobody else's business unless the user says so.
fn check_loopback(addr: SocketAddr, allow_remote: bool) -> Result<(), InputError> {
    if addr.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    Err(InputError::new(format!(
        "--prometheus {addr}: not a loopback address; /metrics has no authentication and shows \
         your models, spend and activity, so serving it to a network needs --allow-remote"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_needs_allow_remote() {
        let remote: SocketAddr = "0.0.0.0:9464".parse().unwrap();
        let err = check_loopback(remote, false).unwrap_err();
        assert!(err.to_string().contains("--allow-remote"), "{err}");
        assert!(check_loopback(remote, true).is_ok());
        assert!(check_loopback("127.0.0.1:9464".parse().unwrap(), false).is_ok());
        assert!(check_loopback("[::1]:9464".parse().unwrap(), false).is_ok());
    }
}
