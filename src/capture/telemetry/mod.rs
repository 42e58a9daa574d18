//! The telemetry receiver: a loopback OTLP/HTTP endpoint for the agent's own OpenTelemetry.
//!
//! Claude Code started with `CLAUDE_CODE_ENABLE_TELEMETRY=1`, `OTEL_LOGS_EXPORTER=otlp` and
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://<addr>` (see [`RunningReceiver::agent_env`]) posts its
//! events here. Each `claude_code.api_request` and `claude_code.user_prompt` log record becomes a
//! [`TelemetryEvent`]; the `request_id` of an `api_request` equals the API's `request-id`
//! header, which joins it to the proxied call. Other events, metrics and traces are only counted.
//!
//! - `receiver`: the HTTP server, content negotiation, limits and answers;
//! - `otlp_json` and `otlp_proto`: the two OTLP/HTTP body encodings;
//! - `extract`: from a log record to a [`TelemetryEvent`], leniently;
//! - `forward`: passing every request on, unchanged, to the user's own collector.
//!
//! Answers follow OTLP/HTTP: 200 with an empty `Export*ServiceResponse` in the request's encoding
//! (`{}` or an empty protobuf body); 400 with a `google.rpc.Status` for an undecodable body; 404
//! for other paths, 405 for other methods, 413 above [`MAX_BODY_BYTES`] (compressed or not),
//! 415 for other content types or encodings (only `gzip` and `identity` are read).

pub(crate) mod extract;
mod forward;
pub(crate) mod otlp_json;
mod otlp_proto;
mod receiver;
#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

pub use extract::{
    API_REQUEST, CODEX_RESPONSE_COMPLETED, CODEX_USER_PROMPT, GEMINI_API_RESPONSE,
    GEMINI_USER_PROMPT, USER_PROMPT, is_call_event,
};
pub use forward::{DEFAULT_TIMEOUT, ForwardTarget, MAX_IN_FLIGHT, Signal};
pub use receiver::RunningReceiver;

use crate::observation::TelemetryEvent;

/// Largest request body accepted, before and after gzip decoding.
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Receiver settings.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Where to listen; must be a loopback address. Default `127.0.0.1:0` (any free port).
    pub listen: SocketAddr,
    /// The user's own OTLP endpoints, when they had any ([`ForwardTarget::from_env`]).
    pub forward_to: Option<ForwardTarget>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            forward_to: None,
        }
    }
}

/// What the receiver has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverStats {
    /// HTTP requests of any kind.
    pub requests: u64,
    /// Log records in accepted `/v1/logs` requests, of any event.
    pub log_records: u64,
    /// `claude_code.api_request` events handed to the sink.
    pub api_requests: u64,
    /// `claude_code.user_prompt` events handed to the sink.
    pub user_prompts: u64,
    /// Requests answered 400 because their body (or its gzip) could not be decoded.
    pub decode_errors: u64,
    /// Requests answered 404, 405, 413 or 415, or whose body broke off.
    pub rejected: u64,
    /// Accepted `/v1/metrics` requests.
    pub metric_requests: u64,
    /// Accepted `/v1/traces` requests.
    pub trace_requests: u64,
    /// Requests the forward target answered with a 2xx.
    pub forwarded: u64,
    /// Requests that could not be forwarded (unreachable, timeout, non-2xx, too many in flight).
    pub forward_errors: u64,
}

/// Errors starting the receiver.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the telemetry receiver listens on loopback only, not on {0}")]
    NotLoopback(SocketAddr),
}

/// Starts receivers; see [`TelemetryReceiver::start`].
#[derive(Debug, Clone, Copy)]
pub struct TelemetryReceiver;

impl TelemetryReceiver {
    /// Binds `config.listen` and serves on the current tokio runtime.
    ///
    /// `clock` gives [`TelemetryEvent::t`] (seconds since trace start); `sink` receives every
    /// event, in arrival order, on the runtime's worker threads before the agent is answered —
    /// keep it short (push to a channel or a mutex-guarded vector).
    pub async fn start(
        config: ReceiverConfig,
        clock: impl Fn() -> f64 + Send + Sync + 'static,
        sink: impl Fn(TelemetryEvent) + Send + Sync + 'static,
    ) -> Result<RunningReceiver, ReceiverError> {
        receiver::start(config, Arc::new(clock), Arc::new(sink)).await
    }
}

/// Live counters behind [`ReceiverStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub log_records: AtomicU64,
    pub api_requests: AtomicU64,
    pub user_prompts: AtomicU64,
    pub decode_errors: AtomicU64,
    pub rejected: AtomicU64,
    pub metric_requests: AtomicU64,
    pub trace_requests: AtomicU64,
    pub forwarded: AtomicU64,
    pub forward_errors: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ReceiverStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ReceiverStats {
            requests: get(&self.requests),
            log_records: get(&self.log_records),
            api_requests: get(&self.api_requests),
            user_prompts: get(&self.user_prompts),
            decode_errors: get(&self.decode_errors),
            rejected: get(&self.rejected),
            metric_requests: get(&self.metric_requests),
            trace_requests: get(&self.trace_requests),
            forwarded: get(&self.forwarded),
            forward_errors: get(&self.forward_errors),
        }
    }
}
