//! OTLP export of agentprof's own measurements: metrics and one span per call, to any
//! OpenTelemetry collector, over OTLP/HTTP protobuf (`--otlp-endpoint` or the `OTEL_*`
//! variables, see `config`).
//!
//! This is agentprof's telemetry *about* the agent, not the agent's own: that one reaches
//! agentprof's receiver (`capture::telemetry`) and, when the user had a collector configured,
//! is forwarded there unchanged. Both may end up at the same collector, under different
//! `service.name`s; this exporter never sends to agentprof's own receiver (see
//! [`OtlpExporter::on_start`]).
//!
//! - `config`: endpoints, interval, what the SDK reads from the environment itself;
//! - `attributes`: GenAI semantic-convention names and attributes of a call;
//! - `instruments`: the metric instruments (the table of names is there);
//! - `kv`: the live resident-KV estimate behind `agentprof.kv.bytes`;
//! - `export`: the SDK pipeline and the warn-once failure log.
//!
//! Nothing here blocks the caller: instruments aggregate in memory, finished spans go into the
//! batch processor's queue, and the SDK's own threads do the HTTP. [`LiveSink::shutdown`] makes
//! the final export (it runs off the async runtime, and `run` waits for it before exiting).

mod attributes;
mod config;
mod export;
mod instruments;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use opentelemetry::Context;
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracer;

pub use config::{DEFAULT_EXPORT_INTERVAL, OtlpConfig, SignalEndpoint};

use crate::attribute::cost::PriceTable;
use crate::attribute::kv::KvProfile;
use crate::observation::{Call, MemorySample};
use crate::output::live::{LiveSink, SessionStart};
use export::{Failures, Pipeline};
use instruments::Instruments;

/// Problems configuring or starting the exporter. Messages never contain header values or
/// URL credentials.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("{source_name}: {reason}")]
    Endpoint { source_name: String, reason: String },
    #[error("cannot start the OTLP exporter: {0}")]
    Build(String),
}

/// The OTLP live sink.
pub struct OtlpExporter {
    config: OtlpConfig,
    pipeline: Mutex<Option<Pipeline>>,
    instruments: Option<Instruments>,
    tracer: Option<SdkTracer>,
    failures: Arc<Failures>,
    /// Set by [`LiveSink::on_start`] once the endpoint is known not to be agentprof's own
    /// receiver; until then the KV gauge (which needs no input to report) stays silent.
    kv_armed: Arc<AtomicBool>,
    /// Set once the pipeline is stopped: later observations are dropped.
    stopped: AtomicBool,
    /// Wall-clock instant of trace offset 0.
    origin: OnceLock<jiff::Timestamp>,
    turns: TurnCounter,
}

/// Turns started so far, per session (`None`: calls without a session id).
#[derive(Debug, Default)]
struct TurnCounter(Mutex<HashMap<Option<String>, u64>>);

impl TurnCounter {
    /// The call's turn in its session: the number of turn starts seen there so far, this call
    /// included; 0 before the session's first prompt.
    fn turn_of(&self, call: &Call) -> u64 {
        let mut turns = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let turn = turns.entry(call.session_id.clone()).or_default();
        if call.starts_turn {
            *turn += 1;
        }
        *turn
    }
}

impl std::fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OtlpExporter {
    /// Starts the SDK pipeline for `config`; KV bytes are estimated under `kv_profile`, dollars
    /// with `prices`.
    pub fn new(
        config: OtlpConfig,
        kv_profile: &KvProfile,
        prices: PriceTable,
    ) -> Result<OtlpExporter, OtlpError> {
        let failures = Arc::new(Failures::default());
        let kv_armed = Arc::new(AtomicBool::new(false));
        let pipeline = Pipeline::build(&config, &failures)?;
        let scope = || {
            opentelemetry::InstrumentationScope::builder("agentprof")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build()
        };
        let instruments = pipeline.meters.as_ref().map(|meters| {
            use opentelemetry::metrics::MeterProvider as _;
            Instruments::new(
                &meters.meter_with_scope(scope()),
                kv_profile.bytes_per_token(),
                Arc::clone(&kv_armed),
                prices,
            )
        });
        let tracer = pipeline
            .tracers
            .as_ref()
            .map(|tracers| tracers.tracer_with_scope(scope()));
        let targets: Vec<String> = [("metrics", &config.metrics), ("spans", &config.traces)]
            .into_iter()
            .filter_map(|(signal, e)| Some(format!("{signal} to {}", e.as_ref()?.display)))
            .collect();
        tracing::info!(
            "exporting agentprof's {} over OTLP/HTTP every {} ms",
            targets.join(" and "),
            config.export_interval.as_millis()
        );
        Ok(OtlpExporter {
            config,
            pipeline: Mutex::new(Some(pipeline)),
            instruments,
            tracer,
            failures,
            kv_armed,
            stopped: AtomicBool::new(false),
            origin: OnceLock::new(),
            turns: TurnCounter::default(),
        })
    }

    /// Whether the pipeline still runs (it stops at shutdown, or when pointed at agentprof).
    fn running(&self) -> bool {
        !self.stopped.load(Ordering::Relaxed)
    }

    /// Stops taking observations and hands back the pipeline, once.
    fn stop(&self) -> Option<Pipeline> {
        self.stopped.store(true, Ordering::Relaxed);
        self.pipeline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn export_span(&self, tracer: &SdkTracer, call: &Call, turn: u64) {
        // Before the session start (a call racing it in `proxy` mode) the origin is not known
        // yet: take the call to have ended just now, for this call only.
        let origin = self.origin.get().copied().unwrap_or_else(|| {
            let end = call.t_end.unwrap_or(call.t_start);
            crate::clock::offset_to_timestamp(jiff::Timestamp::now(), -end)
        });
        let start = wall(call.t_start, origin);
        let end = wall(
            call.t_end.or(call.t_first_byte).unwrap_or(call.t_start),
            origin,
        );
        let mut span = tracer
            .span_builder(attributes::span_name(call))
            .with_kind(SpanKind::Client)
            .with_start_time(start)
            .with_attributes(attributes::span_attributes(call, turn))
            .start_with_context(tracer, &Context::new());
        if call.is_error() {
            let description = match &call.error {
                Some(error) => error.message.clone(),
                None => format!("HTTP status {}", call.status.unwrap_or_default()),
            };
            span.set_status(Status::error(description));
        }
        span.end_with_timestamp(end.max(start));
    }
}

/// Wall-clock time of trace offset `t`.
fn wall(t: f64, origin: jiff::Timestamp) -> SystemTime {
    SystemTime::from(crate::clock::offset_to_timestamp(origin, t))
}

impl LiveSink for OtlpExporter {
    fn on_start(&self, start: &SessionStart) {
        let _ = self.origin.set(start.started_at);
        let own = start.telemetry_receiver.and_then(|receiver| {
            [&self.config.metrics, &self.config.traces]
                .into_iter()
                .flatten()
                .find(|e| e.is_local(receiver))
        });
        match own {
            None => self.kv_armed.store(true, Ordering::Relaxed),
            Some(endpoint) => {
                tracing::warn!(
                    "not exporting over OTLP: {} is agentprof's own receiver for the agent's \
                 telemetry",
                    endpoint.display
                );
                // Nothing was recorded and the KV gauge is not armed, so stopping sends nothing;
                // it may still wait on the SDK's threads, which the session's setup must not do.
                if let Some(pipeline) = self.stop() {
                    std::thread::spawn(move || pipeline.shutdown());
                }
            }
        }
    }

    fn on_call(&self, call: &Call) {
        if !self.running() {
            return;
        }
        let turn = self.turns.turn_of(call);
        if let Some(instruments) = &self.instruments {
            instruments.record_call(call);
        }
        if let Some(tracer) = &self.tracer {
            self.export_span(tracer, call, turn);
        }
    }

    fn on_memory(&self, sample: &MemorySample) {
        if !self.running() {
            return;
        }
        if let Some(instruments) = &self.instruments {
            instruments.record_memory(sample);
        }
    }

    fn shutdown(&self) {
        let Some(pipeline) = self.stop() else {
            return;
        };
        pipeline.shutdown();
        match self.failures.count() {
            0 => tracing::info!("OTLP export finished"),
            n => tracing::info!("OTLP export finished; {n} export requests failed in all"),
        }
    }
}

/// The exporter `run` and `proxy` use: `flag` (`--otlp-endpoint`) or the environment.
///
/// A bad `--otlp-endpoint` is the caller's input error; a bad variable only turns export off
/// with a warning, since it may have been set for another program.
pub fn from_flag_or_env(
    flag: Option<&str>,
    kv_profile: &KvProfile,
    prices: PriceTable,
) -> Result<Option<OtlpExporter>, OtlpError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let config = match OtlpConfig::resolve(flag, &env) {
        Ok(Some(config)) => config,
        Ok(None) => return Ok(None),
        Err(err) if flag.is_some() => return Err(err),
        Err(err) => {
            tracing::warn!("not exporting over OTLP: {err}");
            return Ok(None);
        }
    };
    match OtlpExporter::new(config, kv_profile, prices) {
        Ok(exporter) => Ok(Some(exporter)),
        Err(err) if flag.is_some() => Err(err),
        Err(err) => {
            tracing::warn!("not exporting over OTLP: {err}");
            Ok(None)
        }
    }
}
