//! Forwarding: passing every accepted OTLP request on, unchanged, to where the user had
//! pointed the agent's telemetry before agentprof put itself in between.
//!
//! Forwarding never delays or fails the answer to the agent: each request is sent from its own
//! task, at most [`MAX_IN_FLIGHT`] at a time (beyond that it is dropped and counted as an
//! error). The first failure is logged once; header values (often credentials) never are.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::sync::Semaphore;

use super::Counters;

/// Forwarded requests allowed in flight at once.
pub const MAX_IN_FLIGHT: usize = 32;

/// Timeout for one forwarded request when `OTEL_EXPORTER_OTLP[_<SIGNAL>]_TIMEOUT` is not set
/// (the OTLP default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The three OTLP signals, each with its own path and endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    Logs,
    Metrics,
    Traces,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Logs, Signal::Metrics, Signal::Traces];

    /// The OTLP/HTTP path: `/v1/logs`, `/v1/metrics`, `/v1/traces`.
    pub fn path(self) -> &'static str {
        match self {
            Signal::Logs => "/v1/logs",
            Signal::Metrics => "/v1/metrics",
            Signal::Traces => "/v1/traces",
        }
    }

    /// The signal's name in environment variables: `LOGS`, `METRICS`, `TRACES`.
    fn env_name(self) -> &'static str {
        match self {
            Signal::Logs => "LOGS",
            Signal::Metrics => "METRICS",
            Signal::Traces => "TRACES",
        }
    }

    pub(crate) fn from_path(path: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.path() == path)
    }
}

/// Where one signal goes: its full URL and the headers to add.
#[derive(Clone)]
struct SignalTarget {
    url: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
}

/// The user's own OTLP/HTTP endpoints. `Debug` shows URLs and header *names* only.
#[derive(Clone, Default)]
pub struct ForwardTarget {
    logs: Option<SignalTarget>,
    metrics: Option<SignalTarget>,
    traces: Option<SignalTarget>,
}

impl ForwardTarget {
    /// Reads the standard OTLP exporter variables from the user's original environment:
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/<signal>`), `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`
    /// (as-is), `OTEL_EXPORTER_OTLP[_<SIGNAL>]_HEADERS` (`k=v,k2=v2`, URL-decoded; the
    /// per-signal ones win), `OTEL_EXPORTER_OTLP[_<SIGNAL>]_TIMEOUT` (ms).
    ///
    /// A signal is left out when its protocol is `grpc` (this receiver speaks OTLP/HTTP only),
    /// when `OTEL_<SIGNAL>_EXPORTER` is set without `otlp`, when its URL is not `http(s)`, or
    /// when `OTEL_SDK_DISABLED=true`. `None` when no signal is left.
    pub fn from_env(env: &HashMap<String, String>) -> Option<ForwardTarget> {
        let get = |key: &str| env.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
        if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return None;
        }
        let mut target = ForwardTarget::default();
        for signal in Signal::ALL {
            let name = signal.env_name();
            if let Some(exporters) = get(&format!("OTEL_{name}_EXPORTER"))
                && !exporters.split(',').any(|e| e.trim() == "otlp")
            {
                continue;
            }
            let protocol = get(&format!("OTEL_EXPORTER_OTLP_{name}_PROTOCOL"))
                .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"));
            let endpoint_var = format!("OTEL_EXPORTER_OTLP_{name}_ENDPOINT");
            let url = match (get(&endpoint_var), get("OTEL_EXPORTER_OTLP_ENDPOINT")) {
                (Some(url), _) => url.to_owned(),
                (None, Some(base)) => format!("{}{}", base.trim_end_matches('/'), signal.path()),
                (None, None) => continue,
            };
            if protocol == Some("grpc") {
                tracing::warn!(
                    "not forwarding {} telemetry: the original exporter protocol is grpc",
                    signal.path()
                );
                continue;
            }
            let Some(url) = http_url(&url) else {
                tracing::warn!(
                    "not forwarding {}: its OTLP endpoint is not an http(s) URL",
                    signal.path()
                );
                continue;
            };
            let mut headers = parse_headers(get("OTEL_EXPORTER_OTLP_HEADERS"));
            for (key, value) in parse_headers(get(&format!("OTEL_EXPORTER_OTLP_{name}_HEADERS"))) {
                headers.retain(|(k, _)| *k != key);
                headers.push((key, value));
            }
            let timeout = get(&format!("OTEL_EXPORTER_OTLP_{name}_TIMEOUT"))
                .or_else(|| get("OTEL_EXPORTER_OTLP_TIMEOUT"))
                .and_then(|ms| ms.parse::<u64>().ok())
                .filter(|&ms| ms > 0)
                .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
            *target.slot(signal) = Some(SignalTarget {
                url,
                headers,
                timeout,
            });
        }
        (!target.is_empty()).then_some(target)
    }

    /// This target, with the signals it lacks taken from `other`.
    pub fn or(mut self, other: ForwardTarget) -> ForwardTarget {
        for signal in Signal::ALL {
            if self.get(signal).is_none() {
                *self.slot(signal) = other.get(signal).cloned();
            }
        }
        self
    }

    /// The URL a signal is forwarded to, if it is.
    pub fn endpoint(&self, signal: Signal) -> Option<&Uri> {
        self.get(signal).map(|t| &t.url)
    }

    /// The names of the headers added to a signal's requests (values are never shown).
    pub fn header_names(&self, signal: Signal) -> Vec<&str> {
        self.get(signal)
            .map(|t| t.headers.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default()
    }

    /// Stops forwarding one signal (e.g. one the user had not enabled for the agent).
    pub fn remove(&mut self, signal: Signal) {
        *self.slot(signal) = None;
    }

    /// Whether no signal is forwarded.
    pub fn is_empty(&self) -> bool {
        Signal::ALL.into_iter().all(|s| self.get(s).is_none())
    }

    /// Drops signals that point back at this receiver (agentprof run inside agentprof would
    /// otherwise forward each request to itself forever).
    pub(crate) fn remove_loops(&mut self, own: std::net::SocketAddr) {
        for signal in Signal::ALL {
            let Some(url) = self.endpoint(signal) else {
                continue;
            };
            let default_port = if url.scheme_str() == Some("https") {
                443
            } else {
                80
            };
            let port = url.port_u16().unwrap_or(default_port);
            let host = url.host().unwrap_or_default().trim_matches(['[', ']']);
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback && port == own.port() {
                tracing::warn!(
                    "not forwarding {}: it points back at agentprof",
                    signal.path()
                );
                self.remove(signal);
            }
        }
    }

    fn get(&self, signal: Signal) -> Option<&SignalTarget> {
        match signal {
            Signal::Logs => self.logs.as_ref(),
            Signal::Metrics => self.metrics.as_ref(),
            Signal::Traces => self.traces.as_ref(),
        }
    }

    fn slot(&mut self, signal: Signal) -> &mut Option<SignalTarget> {
        match signal {
            Signal::Logs => &mut self.logs,
            Signal::Metrics => &mut self.metrics,
            Signal::Traces => &mut self.traces,
        }
    }
}

impl fmt::Debug for ForwardTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for signal in Signal::ALL {
            if let Some(t) = self.get(signal) {
                let names: Vec<&str> = t.headers.iter().map(|(k, _)| k.as_str()).collect();
                list.entry(&signal.path(), &(display_url(&t.url), names, t.timeout));
            }
        }
        list.finish()
    }
}

fn http_url(text: &str) -> Option<Uri> {
    let url: Uri = text.parse().ok()?;
    matches!(url.scheme_str(), Some("http" | "https"))
        .then_some(())
        .and(url.authority().map(|_| ()))
        .map(|()| url)
}

/// A URL for logs: scheme, host, port and path, without user info or query.
pub(crate) fn display_url(url: &Uri) -> String {
    let host = url.host().unwrap_or("?");
    let port = url.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{host}{port}{}",
        url.scheme_str().unwrap_or("?"),
        url.path()
    )
}

/// `k=v,k2=v2` with URL-encoded parts; malformed entries are skipped (and named by position
/// only, since values may be secrets).
pub(super) fn parse_headers(text: Option<&str>) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = Vec::new();
    for (index, entry) in text.unwrap_or_default().split(',').enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        let parsed = entry.split_once('=').and_then(|(k, v)| {
            let key = HeaderName::from_bytes(percent_decode(k.trim()).as_bytes()).ok()?;
            let value = HeaderValue::from_str(percent_decode(v.trim()).trim()).ok()?;
            Some((key, value))
        });
        match parsed {
            Some(header) => headers.push(header),
            None => tracing::warn!("ignoring malformed OTLP header entry #{}", index + 1),
        }
    }
    headers
}

/// Decodes `%XX` escapes (invalid ones are kept as they are) and nothing else.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What is forwarded of one request from the agent.
pub(crate) struct Outgoing {
    pub signal: Signal,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends requests to a [`ForwardTarget`] in the background.
pub(crate) struct Forwarder {
    target: ForwardTarget,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    permits: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    warned: AtomicBool,
    counters: Arc<Counters>,
}

impl Forwarder {
    pub fn new(target: ForwardTarget, counters: Arc<Counters>) -> Forwarder {
        Forwarder {
            target,
            client: crate::capture::http_client::build(),
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            in_flight: Arc::new(AtomicUsize::new(0)),
            warned: AtomicBool::new(false),
            counters,
        }
    }

    pub fn handles(&self, signal: Signal) -> bool {
        self.target.get(signal).is_some()
    }

    /// Forwards still running.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Starts sending; returns at once.
    pub fn send(self: &Arc<Self>, outgoing: Outgoing) {
        let Some(target) = self.target.get(outgoing.signal).cloned() else {
            return;
        };
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            self.failed(&target.url, "too many forwards in flight; request dropped");
            return;
        };
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let this = self.clone();
        tokio::spawn(async move {
            let result = this.deliver(&target, outgoing).await;
            match result {
                Ok(()) => {
                    this.counters.forwarded.fetch_add(1, Ordering::Relaxed);
                }
                Err(reason) => this.failed(&target.url, &reason),
            }
            this.in_flight.fetch_sub(1, Ordering::AcqRel);
            drop(permit);
        });
    }

    async fn deliver(&self, target: &SignalTarget, outgoing: Outgoing) -> Result<(), String> {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(target.url.clone());
        for name in [CONTENT_TYPE, CONTENT_ENCODING, USER_AGENT] {
            if let Some(value) = outgoing.headers.get(&name) {
                builder = builder.header(name, value);
            }
        }
        for (name, value) in &target.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(outgoing.body))
            .map_err(|e| format!("cannot build request: {e}"))?;
        let response = tokio::time::timeout(target.timeout, self.client.request(request))
            .await
            .map_err(|_| format!("no answer within {:?}", target.timeout))?
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("answered {status}"))
        }
    }

    fn failed(&self, url: &Uri, reason: &str) {
        self.counters.forward_errors.fetch_add(1, Ordering::Relaxed);
        if !self.warned.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                "forwarding telemetry to {} failed: {reason} (further failures are only counted)",
                display_url(url)
            );
        } else {
            tracing::debug!(
                "forwarding telemetry to {} failed: {reason}",
                display_url(url)
            );
        }
    }
}
