//! The Prometheus exporter: live metrics of a capture on `GET /metrics` (`--prometheus ADDR`).
//!
//! This module owns the exporter's lifecycle (bind, serve, stop) and its [`LiveSink`] side;
//! `metrics` owns the metric names, labels and HELP texts (the spec's "Metric names" contract),
//! `kv` the scrape-time server-KV gauge, `findings` the live findings (the report's memory
//! leak verdicts, re-evaluated at scrape time at most every few seconds), `labels` the bounded
//! label sets, `server` the HTTP endpoint. Updates are atomic counter bumps and short locks
//! (the KV map, the findings' record), so the proxy tasks and the sampler thread that feed it
//! are never held up by a scrape or an evaluation.

mod findings;
mod kv;
mod labels;
mod metrics;
mod server;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::attribute::cost::PriceTable;
use crate::attribute::findings::Thresholds;
use crate::attribute::kv::KvProfile;
use crate::guard::Guard;
use crate::observation::{Call, MemorySample};
use crate::output::live::{LiveSink, SessionStart};

pub use findings::LiveFindings;
pub use labels::{MAX_MODELS, NO_MODEL, OTHER_MODELS};
pub use metrics::LATENCY_BUCKETS;
pub use server::CONTENT_TYPE_OPENMETRICS;

use metrics::Metrics;

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running exporter. Feed it as a [`LiveSink`]; it serves until [`LiveSink::shutdown`] or
/// until it is dropped (dropping `stop` closes the channel the server waits on).
#[derive(Debug)]
pub struct PrometheusExporter {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
}

impl PrometheusExporter {
    /// Binds `addr` (port 0 picks a free port) and serves `GET /metrics` on the current tokio
    /// runtime, judging findings with the default thresholds. Whether a non-loopback
    /// address is allowed is the caller's decision (`--allow-remote`): the endpoint has no
    /// authentication.
    pub async fn start(
        addr: SocketAddr,
        prices: PriceTable,
        kv_profile: &'static KvProfile,
    ) -> Result<Arc<PrometheusExporter>, PrometheusError> {
        Self::start_with_hosts(addr, prices, kv_profile, &[], Thresholds::default()).await
    }

    /// [`PrometheusExporter::start`], also accepting scrapes addressed to `allowed_hosts`
    /// (`--allow-host`; see `crate::guard`), judging findings with `findings` (the finding flags).
    pub async fn start_with_hosts(
        addr: SocketAddr,
        prices: PriceTable,
        kv_profile: &'static KvProfile,
        allowed_hosts: &[String],
        findings: Thresholds,
    ) -> Result<Arc<PrometheusExporter>, PrometheusError> {
        let bind_error = |source| PrometheusError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let metrics = Arc::new(Metrics::new(prices, kv_profile, findings));
        let (stop, stopped) = watch::channel(false);
        // A scrape is a GET: any body it declares beyond a few KiB is not a scrape.
        let guard = Arc::new(Guard::new("/metrics", addr, allowed_hosts, 64 << 10));
        server::spawn(listener, metrics.clone(), guard, stopped);
        Ok(Arc::new(PrometheusExporter {
            addr,
            metrics,
            stop,
        }))
    }

    /// The address it serves on (with the real port when `:0` was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The exposition text a scrape would get now (findings re-evaluated first when due; this
    /// blocks for the evaluation, so not for use on an async worker).
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        self.metrics.findings().refresh(Instant::now());
        self.metrics.encode()
    }
}

impl LiveSink for PrometheusExporter {
    fn on_start(&self, start: &SessionStart) {
        self.metrics.findings().on_start(start.started_at);
    }

    fn on_call_start(&self, call: &Call) {
        self.metrics.findings().on_call_start(call);
    }

    fn on_call(&self, call: &Call) {
        // The sink is called as the call finishes: its prompt-cache residency starts now.
        self.metrics.on_call(call, Instant::now());
    }

    fn on_memory(&self, sample: &MemorySample) {
        self.metrics.on_memory(sample);
    }

    fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}
