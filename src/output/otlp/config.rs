//! Where and how often to export: `--otlp-endpoint` or the standard `OTEL_*` variables.
//!
//! Read here, from agentprof's own environment (the user's; `run` sets `OTEL_*` for the wrapped
//! agent on the child only):
//! - `OTEL_EXPORTER_OTLP_ENDPOINT`: base URL, used when `--otlp-endpoint` is absent; export is
//!   off when neither is set. `/v1/metrics` and `/v1/traces` are appended to the base.
//! - `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: a signal's
//!   full URL, used as is, when the endpoint came from the environment (the flag wins over all).
//! - `OTEL_METRICS_EXPORTER=none`, `OTEL_TRACES_EXPORTER=none`: that signal is not exported;
//!   `OTEL_SDK_DISABLED=true`: nothing is, unless the flag asks for it.
//! - `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds): metrics period and span batch delay.
//!
//! Read by the OpenTelemetry SDK itself (verified in opentelemetry-otlp / opentelemetry_sdk
//! 0.33): `OTEL_EXPORTER_OTLP_HEADERS` and the per-signal `…_HEADERS` (sent with every export
//! and never logged), `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_EXPORTER_OTLP_COMPRESSION` (`gzip`),
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`. The protocol is always OTLP/HTTP protobuf, whatever
//! `OTEL_EXPORTER_OTLP_PROTOCOL` says.

use std::collections::HashMap;
use std::time::Duration;

use http::Uri;

use super::OtlpError;

/// Metrics period when `OTEL_METRIC_EXPORT_INTERVAL` is not set. The SDK's own default is 60 s;
/// an agent session is watched live, so a dashboard should move within seconds.
pub const DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_secs(10);

/// The variable naming the base endpoint.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// One signal's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalEndpoint {
    /// The full URL requests are posted to.
    pub url: String,
    /// The URL without user info or query, for log lines.
    pub display: String,
    /// `host:port`, for recognising agentprof's own receiver.
    pub host: String,
    pub port: u16,
}

/// Resolved exporter settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// `None`: metrics are not exported.
    pub metrics: Option<SignalEndpoint>,
    /// `None`: spans are not exported.
    pub traces: Option<SignalEndpoint>,
    pub export_interval: Duration,
}

impl OtlpConfig {
    /// Settings from the flag and the environment; `Ok(None)` when export is off.
    ///
    /// An invalid URL is an error naming where it came from (the flag or the variable). An
    /// unreadable interval falls back to the default with a warning, as the SDK itself does.
    pub fn resolve(
        flag: Option<&str>,
        env: &HashMap<String, String>,
    ) -> Result<Option<OtlpConfig>, OtlpError> {
        let get = |key: &str| env.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
        let (base, base_name) = match (
            flag.map(str::trim).filter(|f| !f.is_empty()),
            get(ENDPOINT_VAR),
        ) {
            (Some(flag), _) => (flag, "--otlp-endpoint"),
            (None, Some(base)) => {
                if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                    return Ok(None);
                }
                (base, ENDPOINT_VAR)
            }
            (None, None) => return Ok(None),
        };
        let from_env = flag.is_none_or(|f| f.trim().is_empty());
        let signal = |name: &str, path: &str| -> Result<Option<SignalEndpoint>, OtlpError> {
            if from_env
                && get(&format!("OTEL_{name}_EXPORTER"))
                    .is_some_and(|v| v.split(',').all(|e| e.trim() == "none"))
            {
                return Ok(None);
            }
            let own_var = format!("OTEL_EXPORTER_OTLP_{name}_ENDPOINT");
            match get(&own_var).filter(|_| from_env) {
                Some(url) => endpoint(url, &own_var).map(Some),
                None => endpoint(&join(base, path), base_name).map(Some),
            }
        };
        let config = OtlpConfig {
            metrics: signal("METRICS", "v1/metrics")?,
            traces: signal("TRACES", "v1/traces")?,
            export_interval: interval(get("OTEL_METRIC_EXPORT_INTERVAL")),
        };
        if let Some(protocol) = get("OTEL_EXPORTER_OTLP_PROTOCOL").filter(|p| *p == "grpc") {
            tracing::warn!(
                "OTEL_EXPORTER_OTLP_PROTOCOL={protocol} is not used for agentprof's own metrics: \
                 they are sent as OTLP/HTTP protobuf"
            );
        }
        Ok((config.metrics.is_some() || config.traces.is_some()).then_some(config))
    }
}

/// The base URL with `/` + `path` appended to its path, the way the OTLP spec builds signal
/// URLs from the base endpoint (a query string, if any, stays at the end).
fn join(base: &str, path: &str) -> String {
    let (base, query) = match base.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (base, None),
    };
    let joined = format!("{}/{path}", base.trim_end_matches('/'));
    match query {
        Some(query) => format!("{joined}?{query}"),
        None => joined,
    }
}

/// Checks an http(s) URL with a host; the error names `source` and shows no credentials.
fn endpoint(url: &str, source: &str) -> Result<SignalEndpoint, OtlpError> {
    let invalid = |reason: &str| OtlpError::Endpoint {
        source_name: source.to_string(),
        reason: reason.to_string(),
    };
    if !url.contains("://") {
        return Err(invalid("no scheme (expected http:// or https://)"));
    }
    let uri: Uri = url
        .parse()
        .map_err(|_| invalid("not a URL (expected e.g. http://localhost:4318)"))?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| invalid("no scheme (expected http:// or https://)"))?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => {
            return Err(invalid(
                "only http:// and https:// are supported (OTLP/HTTP)",
            ));
        }
    };
    let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
    let host = authority.host().to_string();
    let port = authority.port_u16().unwrap_or(default_port);
    let path = uri.path();
    let display = match authority.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}{path}"),
        None => format!("{scheme}://{host}{path}"),
    };
    Ok(SignalEndpoint {
        url: url.to_string(),
        display,
        host,
        port,
    })
}

fn interval(value: Option<&str>) -> Duration {
    match value.map(|v| v.parse::<u64>()) {
        None => DEFAULT_EXPORT_INTERVAL,
        Some(Ok(ms)) if ms > 0 => Duration::from_millis(ms),
        Some(_) => {
            tracing::warn!(
                "OTEL_METRIC_EXPORT_INTERVAL is not a positive number of milliseconds; \
                 using {} ms",
                DEFAULT_EXPORT_INTERVAL.as_millis()
            );
            DEFAULT_EXPORT_INTERVAL
        }
    }
}

impl SignalEndpoint {
    /// Whether this endpoint is `addr`, a loopback listener of this process.
    pub fn is_local(&self, addr: std::net::SocketAddr) -> bool {
        if self.port != addr.port() {
            return false;
        }
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        host.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip == addr.ip() || ip.is_loopback() || ip.is_unspecified())
    }
}
