//! Live outputs: exporters that see every observation as it is recorded.
//!
//! The trace is the record of truth; live sinks (Prometheus `/metrics`, OTLP export) get the
//! same observations at the same moment, after classification, so dashboards agree with the
//! reports computed from the trace later. Implementations must not block the caller for long:
//! they are called from proxy tasks and the sampler thread.

use std::net::SocketAddr;

use crate::observation::{Call, MemorySample, TelemetryEvent};

/// What sinks learn when the session starts, before its first observation.
#[derive(Debug, Clone, Copy)]
pub struct SessionStart {
    /// The wall-clock instant of trace offset 0 (the trace header's `started_at`): observation
    /// times are seconds after it.
    pub started_at: jiff::Timestamp,
    /// Where agentprof's own receiver for the agent's telemetry listens, when it runs. An
    /// exporter must never send there: agentprof would be reading its own output as the agent's.
    pub telemetry_receiver: Option<SocketAddr>,
}

/// An exporter fed live.
pub trait LiveSink: Send + Sync + 'static {
    /// The session has started: called once, when the proxy and the telemetry receiver are up
    /// and before `run` starts the agent (so before any observation but, in `proxy` mode, a
    /// call racing the receiver's start).
    fn on_start(&self, _start: &SessionStart) {}
    /// A call's request has arrived: only its `id`, `t_start`, `provider`, `api`, `method`,
    /// `path` and agent ids are known (no category, status or usage yet). Its `on_call`, with
    /// the same `id`, follows when it finishes. Called on the proxy task handling the request.
    fn on_call_start(&self, _call: &Call) {}
    /// A finished, classified call (its `category`, `classified_by`, `starts_turn` are set).
    fn on_call(&self, call: &Call);
    /// One memory-sampler tick over the agent's process tree.
    fn on_memory(&self, sample: &MemorySample);
    /// One record of the agent's own telemetry.
    fn on_telemetry(&self, _event: &TelemetryEvent) {}
    /// The run is over: flush what is buffered. May block (it runs off the async runtime).
    fn shutdown(&self) {}
}

/// Fans one observation out to every sink.
#[derive(Clone, Default)]
pub struct LiveSinks(std::sync::Arc<Vec<std::sync::Arc<dyn LiveSink>>>);

impl std::fmt::Debug for LiveSinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LiveSinks({} sinks)", self.0.len())
    }
}

impl LiveSinks {
    pub fn new(sinks: Vec<std::sync::Arc<dyn LiveSink>>) -> LiveSinks {
        LiveSinks(std::sync::Arc::new(sinks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn on_start(&self, start: &SessionStart) {
        for sink in self.0.iter() {
            sink.on_start(start);
        }
    }

    pub fn on_call_start(&self, call: &Call) {
        for sink in self.0.iter() {
            sink.on_call_start(call);
        }
    }

    pub fn on_call(&self, call: &Call) {
        for sink in self.0.iter() {
            sink.on_call(call);
        }
    }

    pub fn on_memory(&self, sample: &MemorySample) {
        for sink in self.0.iter() {
            sink.on_memory(sample);
        }
    }

    pub fn on_telemetry(&self, event: &TelemetryEvent) {
        for sink in self.0.iter() {
            sink.on_telemetry(event);
        }
    }

    pub fn shutdown(&self) {
        for sink in self.0.iter() {
            sink.shutdown();
        }
    }
}
