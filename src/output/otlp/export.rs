//! The OpenTelemetry SDK pipeline: OTLP/HTTP protobuf exporters on one blocking HTTP client,
//! a periodic metric reader, a batch span processor, and failure logging that warns once.
//!
//! The SDK exports from threads of its own (the periodic reader's, the batch processor's), so a
//! slow or dead collector never holds up a proxied call; the blocking reqwest client is the one
//! that works on those threads (the async clients need a runtime there and panic).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
};

use super::OtlpError;
use super::config::{OtlpConfig, SignalEndpoint};

/// Per-request timeout when `OTEL_EXPORTER_OTLP_TIMEOUT` is not set (the SDK's default too).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The running SDK providers; `None` for a signal that is not exported.
pub struct Pipeline {
    pub meters: Option<SdkMeterProvider>,
    pub tracers: Option<SdkTracerProvider>,
}

impl Pipeline {
    /// Builds both signals' exporters and providers. Needs no async runtime, and may run on one.
    pub fn build(config: &OtlpConfig, failures: &Arc<Failures>) -> Result<Pipeline, OtlpError> {
        let client = blocking_client(timeout())?;
        let resource = resource();
        let meters = match &config.metrics {
            Some(endpoint) => {
                let exporter = opentelemetry_otlp::MetricExporter::builder()
                    .with_http()
                    .with_http_client(client.clone())
                    .with_protocol(Protocol::HttpBinary)
                    .with_endpoint(endpoint.url.clone())
                    .with_timeout(timeout())
                    .with_temporality(Temporality::Cumulative)
                    .build()
                    .map_err(|e| OtlpError::Build(e.to_string()))?;
                let reader =
                    PeriodicReader::builder(Logged::new(exporter, "metrics", endpoint, failures))
                        .with_interval(config.export_interval)
                        .build();
                Some(
                    SdkMeterProvider::builder()
                        .with_resource(resource.clone())
                        .with_reader(reader)
                        .build(),
                )
            }
            None => None,
        };
        let tracers = match &config.traces {
            Some(endpoint) => {
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_protocol(Protocol::HttpBinary)
                    .with_endpoint(endpoint.url.clone())
                    .with_timeout(timeout())
                    .build()
                    .map_err(|e| OtlpError::Build(e.to_string()))?;
                let batches = BatchConfigBuilder::default()
                    .with_scheduled_delay(config.export_interval)
                    .build();
                let processor =
                    BatchSpanProcessor::builder(Logged::new(exporter, "spans", endpoint, failures))
                        .with_batch_config(batches)
                        .build();
                Some(
                    SdkTracerProvider::builder()
                        .with_resource(resource)
                        .with_span_processor(processor)
                        .build(),
                )
            }
            None => None,
        };
        Ok(Pipeline { meters, tracers })
    }

    /// Exports what is buffered and stops both signals, in parallel so that an unreachable
    /// collector costs one timeout, not two. Failures were already counted by [`Failures`].
    pub fn shutdown(self) {
        let Pipeline { meters, tracers } = self;
        std::thread::scope(|scope| {
            if let Some(meters) = &meters {
                scope.spawn(|| meters.shutdown());
            }
            if let Some(tracers) = &tracers {
                scope.spawn(|| tracers.shutdown());
            }
        });
    }
}

/// `service.name=agentprof` over whatever `OTEL_RESOURCE_ATTRIBUTES` adds: the SDK's default
/// builder reads that variable (and `OTEL_SERVICE_NAME`, which `service.name` then overrides,
/// since a name set for the agent's telemetry must not relabel agentprof's).
fn resource() -> Resource {
    Resource::builder()
        .with_service_name("agentprof")
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds), else [`DEFAULT_TIMEOUT`].
fn timeout() -> Duration {
    std::env::var("OTEL_EXPORTER_OTLP_TIMEOUT")
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// One client for both signals, with TLS on the ring provider agentprof uses everywhere.
fn blocking_client(timeout: Duration) -> Result<reqwest::blocking::Client, OtlpError> {
    // reqwest needs a process-wide rustls provider; installing fails harmlessly if one is set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The blocking client starts a runtime of its own, which cannot be done on a thread that
    // is already inside one (as the session's setup is): build it on a fresh thread.
    std::thread::Builder::new()
        .name("agentprof-otlp-init".into())
        .spawn(move || {
            reqwest::blocking::Client::builder()
                .timeout(timeout)
                .build()
        })
        .map_err(|e| OtlpError::Build(format!("cannot start a thread: {e}")))?
        .join()
        .map_err(|_| OtlpError::Build("building the HTTP client panicked".to_string()))?
        .map_err(|e| OtlpError::Build(format!("cannot build the HTTP client: {e}")))
}

/// Export failures, shared by both signals: the first is logged, all are counted.
#[derive(Debug, Default)]
pub struct Failures {
    warned: AtomicBool,
    count: AtomicU64,
}

impl Failures {
    fn note(&self, signal: &str, endpoint: &str, result: &OTelSdkResult) {
        let Err(err) = result else {
            return;
        };
        self.count.fetch_add(1, Ordering::Relaxed);
        if !self.warned.swap(true, Ordering::Relaxed) {
            // The SDK's errors carry a status code or "network error", never headers or bodies.
            tracing::warn!(
                "OTLP export of agentprof's {signal} to {endpoint} failed: {err}. The agent is \
                 not affected; later export failures are counted, not logged"
            );
        }
    }

    /// How many exports have failed so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// An exporter whose results go through [`Failures`] on their way back to the SDK.
#[derive(Debug)]
struct Logged<E> {
    inner: E,
    signal: &'static str,
    endpoint: String,
    failures: Arc<Failures>,
}

impl<E> Logged<E> {
    fn new(
        inner: E,
        signal: &'static str,
        endpoint: &SignalEndpoint,
        failures: &Arc<Failures>,
    ) -> Self {
        Logged {
            inner,
            signal,
            endpoint: endpoint.display.clone(),
            failures: Arc::clone(failures),
        }
    }

    fn note(&self, result: OTelSdkResult) -> OTelSdkResult {
        self.failures.note(self.signal, &self.endpoint, &result);
        result
    }
}

impl<E: PushMetricExporter> PushMetricExporter for Logged<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        self.note(result)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

impl<E: SpanExporter> SpanExporter for Logged<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let result = self.inner.export(batch).await;
        self.note(result)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    // The OTLP span exporter learns its resource here; without forwarding, spans would go out
    // with an empty one.
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
