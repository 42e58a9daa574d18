//! The streaming reverse proxy between the agent and its model APIs.
//!
//! Requests are routed by path ([`route`]), forwarded with their body streaming through
//! (`request_body`) by the proxy's own upstream client (`upstream`), and answered with upstream's
//! status, headers and body as it is read (`response_body`), every byte reaching the client
//! before a break is passed on (`client_link`). Usage is read from a reference to the same
//! frames on the way. Every call ends as one [`CompletedCall`] handed to a [`CallSink`]; what
//! happens to it next (classifying, writing the trace) is not the proxy's business.

mod call;
mod client_link;
mod connections;
mod decoded;
mod error_response;
mod headers;
mod request_body;
mod response_body;
pub mod route;
mod server;
mod upstream;
pub(crate) mod websocket;
mod workers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};

pub use headers::SECRET_HEADERS;
/// A header's value as text, bounded in length, for the ids agentprof records (never a secret).
pub use headers::text as header_text;
pub use route::{Upstream, UpstreamUrlError, Upstreams};
pub use server::{ProxyConfig, ProxyError, RunningProxy, start};

use crate::capture::request::RequestSummary;
use crate::clock::TraceClock;
use crate::observation::Call;

/// A finished call with what was read from its request (prompt text stays in memory only: it
/// is handed to classification and never stored unless bodies are captured).
#[derive(Debug, Clone)]
pub struct CompletedCall {
    pub call: Call,
    pub request: Option<RequestSummary>,
    /// The request's headers for classification: lower-case names, secret headers left out,
    /// values shortened.
    pub headers: Vec<(String, String)>,
}

/// Where finished calls go. Called from proxy tasks: implementations must not block for long.
pub trait CallSink: Send + Sync + 'static {
    /// A call's request has just arrived (`id`, `t_start`, route and agent ids set, nothing
    /// else): live sinks learn a call is in flight before it ends.
    fn started(&self, _call: &Call) {}
    fn record(&self, call: CompletedCall);
}

/// State shared by every connection of one proxy.
pub(crate) struct ProxyContext {
    pub clock: TraceClock,
    pub sink: Arc<dyn CallSink>,
    pub capture_bodies: bool,
    pub next_call_id: AtomicU64,
    pub in_flight: AtomicUsize,
    /// Set when the proxy cuts off calls still in flight at shutdown.
    pub cutting_off: AtomicBool,
}
